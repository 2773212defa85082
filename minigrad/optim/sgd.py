"""Stochastic gradient descent, with momentum and Nesterov momentum."""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.optim import _kernels
from minigrad.optim._moments import begin_step_
from minigrad.optim.optimizer import Optimizer, ParamsT, check_non_negative


class SGD(Optimizer):
    """Gradient descent, optionally with (Nesterov) momentum — ``torch.optim.SGD`` exactly.

    With g the gradient, b the velocity (``momentum_buffer``), μ ``momentum``,
    τ ``dampening`` and λ ``weight_decay``, one step is::

        g ← g + λ·θ                       (if weight_decay ≠ 0)
        b ← g                             (first step: the velocity starts at g, undamped)
        b ← μ·b + (1 − τ)·g               (later steps)
        d ← g + μ·b   (nesterov)    or    d ← b
        θ ← θ − lr·d

    With ``momentum=0`` it is plain gradient descent, θ ← θ − lr·g. With ``maximize=True``
    it climbs: g is replaced by −g. With numba installed the velocity and the step run as one
    compiled loop (``_kernels.py``; the same numbers; ``fused=False`` keeps the NumPy passes).

    The learning rate stays out of the velocity. The textbook forms relate to it as follows:

    * ``m ← β·m − η·g;  θ ← θ + m`` (learning rate inside the velocity, Sutskever et al.) is
      ``SGD(lr=η, momentum=β)``: the same iterates while η is constant (m = −η·b); when a
      scheduler changes η, that form rescales only new gradients, this one the whole velocity.
    * ``v ← β·v + (1 − β)·g;  θ ← θ − η·v`` (an average of gradients, started at v = 0) is
      ``SGD(lr=η, momentum=β, dampening=β)``, except that the velocity starts at g instead
      of (1 − β)·g: b − v = βᵗ·g₁, a head start that fades like a bias correction.
    """

    _hidden_state = ("step",)  # only tells whether the velocity has been started

    def __init__(self, params: ParamsT, lr: float = 1e-3, momentum: float = 0,
                 dampening: float = 0, weight_decay: float = 0, nesterov: bool = False,
                 maximize: bool = False, *, foreach: bool | None = None,
                 fused: bool | None = None):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize, foreach=foreach, fused=fused))

    def _validate_group(self, group: dict[str, Any]) -> None:
        check_non_negative("SGD", group, "lr", "momentum", "weight_decay")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                f"SGD: nesterov=True requires momentum > 0 and dampening = 0, got "
                f"momentum={group['momentum']!r}, dampening={group['dampening']!r}")
        _kernels.check_fused_option(group, "SGD")

    def _state_buffers(self, group: dict[str, Any]) -> dict[str, float]:
        return {"momentum_buffer": 0.0} if group["momentum"] != 0 else {}

    def _complete_loaded_state(self, entry: dict[str, Any]) -> None:
        if "momentum_buffer" in entry:
            entry.setdefault("step", 1.0)  # a saved velocity has been started

    def _reads_grad_only(self, group: dict[str, Any]) -> bool:
        # g is written to for maximize, weight decay and Nesterov's look-ahead only.
        return not (group["maximize"] or group["weight_decay"] != 0 or group["nesterov"])

    def _fused(self, group: dict[str, Any]) -> bool:
        return _kernels.usable(group)

    def _update(self, group, theta, g, state, scratch):
        lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
        if self._fused(group):
            # This whole method in one compiled pass: an optimisation, the same numbers.
            if momentum != 0:
                state["step"] += 1
            _kernels.sgd_(theta, g, state.get("momentum_buffer") if momentum != 0 else None,
                          lr=lr, momentum=momentum, dampening=dampening,
                          weight_decay=group["weight_decay"], nesterov=group["nesterov"],
                          maximize=group["maximize"], started=state.get("step", 0) > 1)
            return
        tmp, _ = scratch
        # The step count only tells whether the velocity has been started.
        begin_step_(group, theta, g, state, tmp, count_step=momentum != 0)

        direction = g
        if momentum != 0:
            b = state["momentum_buffer"]
            if state["step"] == 1:
                np.copyto(b, g)  # b ← g
            else:
                b *= momentum  # b ← μ·b + (1 − τ)·g
                if dampening == 0:
                    b += g  # (the same numbers, one pass over memory fewer)
                else:
                    np.multiply(g, 1 - dampening, out=tmp)
                    b += tmp
            if group["nesterov"]:
                np.multiply(b, momentum, out=tmp)  # d ← g + μ·b
                g += tmp
            else:
                direction = b  # d ← b

        np.multiply(direction, lr, out=tmp)  # θ ← θ − lr·d
        theta -= tmp
