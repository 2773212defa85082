"""Adam and AdamW: momentum's average and RMSprop's average, both bias-corrected."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from minigrad.optim import _kernels
from minigrad.optim._moments import (
    begin_step_,
    bias_correction,
    ema_,
    ema_square_,
    sqrt_v_hat_plus_eps_,
)
from minigrad.optim.optimizer import Optimizer, ParamsT, as_pair, check_betas, check_non_negative


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015) — ``torch.optim.Adam`` exactly.

    With m the average of gradients (``exp_avg``), v the average of squared gradients
    (``exp_avg_sq``), t the step count and λ ``weight_decay``::

        g ← −g                             (if maximize)
        t ← t + 1
        g ← g + λ·θ                        (if weight_decay ≠ 0; AdamW decays θ instead)
        m ← β1·m + (1 − β1)·g              momentum's average
        v ← β2·v + (1 − β2)·g²             RMSprop's average
        v ← max(v_max, v)                  (amsgrad: v_max, ``max_exp_avg_sq``, never shrinks)
        m̂ = m / (1 − β1ᵗ),  v̂ = v / (1 − β2ᵗ)     bias correction
        θ ← θ − lr · m̂ / (√v̂ + ε)

    The last line is ``adam_step_``; it runs as ``adam_step_rearranged_``, the same step with
    one pass over memory fewer. With numba installed (``pip install "minigrad[fast]"``) the
    moments and the step run as one compiled loop over the parameters instead of 12 NumPy
    passes: the same numbers, bit for bit, at about twice the speed (``_kernels.py``;
    ``fused=False`` keeps the passes). ``foreach`` is accepted for PyTorch's sake and changes
    nothing: every step already works on all of a group's parameters at once.

    ε is added to the *corrected* √v̂. The paper's "efficient version" and TensorFlow/Keras
    add their ε̂ to the uncorrected √v (θ ← θ − lr·√(1 − β2ᵗ)/(1 − β1ᵗ) · m / (√v + ε̂)),
    which is this rule with ε = ε̂ / √(1 − β2ᵗ): the same only for ε → 0.
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, maximize: bool = False, *,
                 foreach: bool | None = None, fused: bool | None = None):
        super().__init__(params, dict(lr=lr, betas=as_pair(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize, foreach=foreach, fused=fused))

    # AdamW: True. NAdam, as PyTorch's, has a ``decoupled_weight_decay`` hyperparameter instead.
    _decoupled_weight_decay = False
    # Whether the step may run as ``_kernels.adam_loop`` (NAdam's look-ahead step has none).
    _fused_loop = True

    def _validate_group(self, group: dict[str, Any]) -> None:
        name = type(self).__name__
        check_non_negative(name, group, "lr", "eps", "weight_decay")
        check_betas(name, group["betas"])
        _kernels.check_fused_option(group, name)

    def _state_buffers(self, group: dict[str, Any]) -> dict[str, float]:
        names = {"exp_avg": 0.0, "exp_avg_sq": 0.0}
        if group.get("amsgrad"):  # (NAdam has no amsgrad)
            names["max_exp_avg_sq"] = 0.0
        return names

    def _decouples_weight_decay(self, group: dict[str, Any]) -> bool:
        return group.get("decoupled_weight_decay", self._decoupled_weight_decay)

    def _reads_grad_only(self, group: dict[str, Any]) -> bool:
        # Only begin_step_ writes to g: for maximize, and for weight decay added to g.
        return not group["maximize"] and (group["weight_decay"] == 0
                                          or self._decouples_weight_decay(group))

    def _fused(self, group: dict[str, Any]) -> bool:
        return self._fused_loop and not group.get("amsgrad") and _kernels.usable(group)

    def _update(self, group, theta, g, state, scratch):
        beta1, beta2 = group["betas"]
        decoupled = self._decouples_weight_decay(group)
        if self._fused(group):
            # This whole method in one compiled pass: an optimisation, the same numbers.
            state["step"] += 1
            _kernels.adam_(theta, g, state["exp_avg"], state["exp_avg_sq"], lr=group["lr"],
                           beta1=beta1, beta2=beta2, eps=group["eps"],
                           weight_decay=group["weight_decay"], decoupled=decoupled,
                           maximize=group["maximize"], step=state["step"])
            return
        tmp, _ = scratch
        begin_step_(group, theta, g, state, tmp, decoupled_weight_decay=decoupled)

        m, v = state["exp_avg"], state["exp_avg_sq"]
        ema_(m, g, beta1, tmp)  # m ← β1·m + (1 − β1)·g
        ema_square_(v, g, beta2, tmp)  # v ← β2·v + (1 − β2)·g²
        if group.get("amsgrad"):
            v_max = state["max_exp_avg_sq"]
            np.maximum(v_max, v, out=v_max)
            v = v_max

        self._descend(group, theta, g, m, v, state, scratch)

    def _descend(self, group: dict[str, Any], theta: np.ndarray, g: np.ndarray, m: np.ndarray,
                 v: np.ndarray, state: dict[str, Any],
                 scratch: tuple[np.ndarray, np.ndarray]) -> None:
        """θ ← θ − lr · m̂ / (√v̂ + ε): the step NAdam changes (its m̂ looks ahead)."""
        (beta1, beta2), t = group["betas"], state["step"]
        # adam_step_ with one pass over memory fewer (an optimisation; the same numbers).
        adam_step_rearranged_(theta, m, v, group["lr"], bias_correction(beta1, t),
                              bias_correction(beta2, t), group["eps"], *scratch)


def adam_step_(theta: np.ndarray, m: np.ndarray, v: np.ndarray, lr: float,
               bias_correction1: float, bias_correction2: float, eps: float,
               tmp: np.ndarray, tmp2: np.ndarray) -> None:
    """θ ← θ − lr · m̂ / (√v̂ + ε) with m̂ = m / (1 − β1ᵗ) and v̂ = v / (1 − β2ᵗ), in place."""
    denom = sqrt_v_hat_plus_eps_(v, bias_correction2, eps, out=tmp)
    step_size = lr / bias_correction1  # lr · m̂ = step_size · m: m's correction is one number
    np.multiply(m, step_size, out=tmp2)
    tmp2 /= denom
    theta -= tmp2


def adam_step_rearranged_(theta: np.ndarray, m: np.ndarray, v: np.ndarray, lr: float,
                          bias_correction1: float, bias_correction2: float, eps: float,
                          tmp: np.ndarray, tmp2: np.ndarray) -> None:
    """``adam_step_`` rearranged to save one pass over memory: an optimisation, not new math.

    Numerator and denominator are multiplied by c = √(1 − β2ᵗ), which turns √v̂ + ε into
    √v + ε·c: v̂ is never computed, and the division of the whole array by 1 − β2ᵗ it costs
    is saved (about 6% of an Adam step over 10M parameters). The quotient is taken before
    the scaling, so that it can be formed in the denominator's array: ``tmp2`` is left
    untouched and the arrays a chunk works on are one fewer, which lets the chunks be
    larger in the same cache (``_flat.CHUNK``). The result is the same up to rounding
    (``tests/test_optim.py`` and ``tests/test_optim_speed_paths.py`` check it)::

        θ ← θ − (c · lr / (1 − β1ᵗ)) · (m / (√v + ε·c))
    """
    c = math.sqrt(bias_correction2)
    denom = np.sqrt(v, out=tmp)  # c · (√v̂ + ε) ...
    denom += eps * c  # ... once ε·c is added
    update = np.divide(m, denom, out=tmp)  # m / (c · (√v̂ + ε))
    update *= lr / bias_correction1 * c  # lr · m̂ / (√v̂ + ε)
    theta -= update


class AdamW(Adam):
    """AdamW (Loshchilov & Hutter, 2019) — ``torch.optim.AdamW`` exactly.

    Adam with *decoupled* weight decay: instead of adding λ·θ to the gradient (where Adam's
    division by √v̂ would weaken it for parameters with large gradients), the parameters
    shrink directly, before the Adam step::

        θ ← θ − lr·λ·θ
        (then Adam's step, with g unchanged)

    Note the decay is scaled by lr (as in PyTorch and Keras; the paper scales it by the
    schedule multiplier only). Default ``weight_decay=1e-2``.
    """

    _decoupled_weight_decay = True

    def __init__(self, params: ParamsT, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, maximize: bool = False, *,
                 foreach: bool | None = None, fused: bool | None = None):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize, foreach=foreach, fused=fused)
