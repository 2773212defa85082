"""Adam and AdamW: momentum's average and RMSprop's average, both bias-corrected."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from minigrad.optim._moments import add_weight_decay_, bias_correction, ema_, ema_square_
from minigrad.optim.optimizer import Optimizer, ParamsT, _pair, check_betas, check_non_negative


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015) — ``torch.optim.Adam`` exactly.

    With m the average of gradients (``exp_avg``), v the average of squared gradients
    (``exp_avg_sq``), t the step count and λ ``weight_decay``::

        t ← t + 1
        g ← g + λ·θ                        (if weight_decay ≠ 0; AdamW decays θ instead)
        m ← β1·m + (1 − β1)·g              momentum's average
        v ← β2·v + (1 − β2)·g²             RMSprop's average
        v ← max(v_max, v)                  (amsgrad: v_max, ``max_exp_avg_sq``, never shrinks)
        m̂ = m / (1 − β1ᵗ),  v̂ = v / (1 − β2ᵗ)     bias correction
        θ ← θ − lr · m̂ / (√v̂ + ε)

    PyTorch computes the last line as θ ← θ − step_size · m / denom with
    ``step_size = lr / (1 − β1ᵗ)`` and ``denom = √v / √(1 − β2ᵗ) + ε``. Here both are
    multiplied by c = √(1 − β2ᵗ) — θ ← θ − (step_size·c) · m / (√v + ε·c) — which is the
    same number up to rounding and one pass over memory fewer.

    ε is added to the *corrected* √v̂. The paper's "efficient version" and TensorFlow/Keras
    add their ε̂ to the uncorrected √v (θ ← θ − lr·√(1 − β2ᵗ)/(1 − β1ᵗ) · m / (√v + ε̂)),
    which is this rule with ε = ε̂ / √(1 − β2ᵗ): the same only for ε → 0.
    With ``maximize=True`` g is replaced by −g.
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, maximize: bool = False):
        super().__init__(params, dict(lr=lr, betas=_pair(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize))

    _decoupled_weight_decay = False  # AdamW: True

    def _validate_group(self, group: dict[str, Any]) -> None:
        name = type(self).__name__
        check_non_negative(name, group, "lr", "eps", "weight_decay")
        check_betas(name, group["betas"])

    def _state_buffers(self, group: dict[str, Any]) -> dict[str, float]:
        names = {"exp_avg": 0.0, "exp_avg_sq": 0.0}
        if group["amsgrad"]:
            names["max_exp_avg_sq"] = 0.0
        return names

    def _update(self, group, theta, g, state, scratch):
        (beta1, beta2), lr, eps = group["betas"], group["lr"], group["eps"]
        weight_decay = group["weight_decay"]
        tmp, tmp2 = scratch
        if group["maximize"]:
            np.negative(g, out=g)
        state["step"] += 1
        t = state["step"]
        if weight_decay != 0:
            if self._decoupled_weight_decay:
                theta *= 1 - lr * weight_decay  # θ ← θ − lr·λ·θ
            else:
                add_weight_decay_(g, theta, weight_decay, tmp)  # g ← g + λ·θ

        m, v = state["exp_avg"], state["exp_avg_sq"]
        ema_(m, g, beta1, tmp)  # m ← β1·m + (1 − β1)·g
        ema_square_(v, g, beta2, tmp)  # v ← β2·v + (1 − β2)·g²
        if group["amsgrad"]:
            v_max = state["max_exp_avg_sq"]
            np.maximum(v_max, v, out=v_max)
            v = v_max

        c = math.sqrt(bias_correction(beta2, t))  # √v̂ = √v / c
        step_size = lr / bias_correction(beta1, t)  # lr · m̂ = step_size · m
        denom = np.sqrt(v, out=tmp)  # c·(√v̂ + ε) = √v + ε·c
        denom += eps * c

        np.multiply(m, step_size * c, out=tmp2)  # θ ← θ − (step_size·c) · m / (√v + ε·c)
        tmp2 /= denom
        theta -= tmp2


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
                 weight_decay: float = 1e-2, amsgrad: bool = False, maximize: bool = False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize)
