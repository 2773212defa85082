"""Adagrad: a learning rate per coordinate, shrinking with the sum of its squared gradients."""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.optim import _kernels
from minigrad.optim._moments import begin_step_
from minigrad.optim.optimizer import Optimizer, ParamsT, check_non_negative


class Adagrad(Optimizer):
    """Adagrad (Duchi et al., 2011) — ``torch.optim.Adagrad`` exactly.

    With s the running sum of squared gradients (``sum``, starting at
    ``initial_accumulator_value``), t the step count and λ ``weight_decay``::

        t ← t + 1
        g ← g + λ·θ                            (if weight_decay ≠ 0)
        clr = lr / (1 + (t − 1)·lr_decay)
        s ← s + g²
        θ ← θ − clr · g / (√s + ε)

    ε is added outside the square root, as in PyTorch (some texts and libraries write
    √(s + ε)). Keras starts the sum at 0.1 where PyTorch starts it at 0: pass
    ``initial_accumulator_value=0.1`` to reproduce it. ``lr_decay`` is PyTorch's extra
    1/t-like decay of the learning rate; with the default 0, clr = lr. With
    ``maximize=True`` g is replaced by −g. With numba installed the step runs as one
    compiled loop (``_kernels.py``; the same numbers; ``fused=False`` keeps the NumPy
    passes); ``foreach`` is accepted and changes nothing.
    """

    _state_at_construction = True  # as PyTorch: state["sum"] exists before the first step

    def __init__(self, params: ParamsT, lr: float = 1e-2, lr_decay: float = 0,
                 weight_decay: float = 0, initial_accumulator_value: float = 0,
                 eps: float = 1e-10, foreach: bool | None = None, *, maximize: bool = False,
                 fused: bool | None = None):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps, foreach=foreach, maximize=maximize,
                                      fused=fused))

    def _validate_group(self, group: dict[str, Any]) -> None:
        check_non_negative("Adagrad", group, "lr", "lr_decay", "weight_decay",
                           "initial_accumulator_value", "eps")
        _kernels.check_fused_option(group, "Adagrad")

    def _fused(self, group: dict[str, Any]) -> bool:
        return _kernels.usable(group)

    def _reads_grad_only(self, group: dict[str, Any]) -> bool:
        # The NumPy passes write to g for maximize and weight decay only.
        return not (group["maximize"] or group["weight_decay"] != 0)

    def _state_buffers(self, group: dict[str, Any]) -> dict[str, float]:
        return {"sum": group["initial_accumulator_value"]}

    def _update(self, group, theta, g, state, scratch):
        if self._fused(group):
            # This whole method in one compiled pass: an optimisation, the same numbers.
            state["step"] += 1
            _kernels.adagrad_(theta, g, state["sum"], clr=_rate(group, state["step"]),
                              eps=group["eps"], weight_decay=group["weight_decay"],
                              maximize=group["maximize"])
            return
        tmp, tmp2 = scratch
        begin_step_(group, theta, g, state, tmp)  # maximize, t ← t + 1, weight decay
        clr = _rate(group, state["step"])

        s = state["sum"]
        np.multiply(g, g, out=tmp)  # s ← s + g²
        s += tmp

        denom = np.sqrt(s, out=tmp)  # √s + ε
        denom += group["eps"]
        np.multiply(g, clr, out=tmp2)  # θ ← θ − clr · g / (√s + ε)
        tmp2 /= denom
        theta -= tmp2


def _rate(group: dict[str, Any], t: float) -> float:
    """clr = lr / (1 + (t − 1)·lr_decay): step t's learning rate."""
    return group["lr"] / (1 + (t - 1) * group["lr_decay"])
