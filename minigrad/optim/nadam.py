"""NAdam: Adam with Nesterov momentum."""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.optim._moments import add_weight_decay_, bias_correction, ema_, ema_square_
from minigrad.optim.optimizer import Optimizer, ParamsT, _pair, check_betas, check_non_negative


class NAdam(Optimizer):
    """NAdam (Dozat, 2016) — ``torch.optim.NAdam`` exactly.

    Adam with its first-moment term changed: instead of the corrected average m̂, the step
    uses a Nesterov look-ahead — the average as it will be after the next step — mixed with
    the current gradient. The momentum coefficient follows a warm-up schedule μ_t, and the
    bias correction uses the product of the μ's (``mu_product``)::

        t ← t + 1
        g ← g + λ·θ                 (or θ ← θ − lr·λ·θ with decoupled_weight_decay)
        μ_t     = β1·(1 − ½·0.96^(t·ψ))          ψ = momentum_decay
        μ_next  = β1·(1 − ½·0.96^((t+1)·ψ))
        mu_product ← mu_product · μ_t            (Π of μ_1 … μ_t)
        m ← β1·m + (1 − β1)·g                    as Adam
        v ← β2·v + (1 − β2)·g²                   as Adam
        denom = √(v / (1 − β2ᵗ)) + ε             as Adam's √v̂ + ε
        m̂ = (1 − μ_t)·g / (1 − mu_product) + μ_next·m / (1 − mu_product·μ_next)
        θ ← θ − lr · m̂ / denom

    Keras' Nadam uses the same schedule with ψ fixed at 0.004 (it has no ``momentum_decay``
    argument): the default here reproduces it. The paper's simplest form, a constant
    μ = β1, is not reachable with this parametrisation (ψ = 0 gives μ = β1/2).
    ``mu_product`` is kept in float64 (PyTorch keeps it in the default float dtype).
    """

    _state_scalars = {"step": 0.0, "mu_product": 1.0}

    def __init__(self, params: ParamsT, lr: float = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False):
        super().__init__(params, dict(lr=lr, betas=_pair(betas), eps=eps,
                                      weight_decay=weight_decay, momentum_decay=momentum_decay,
                                      decoupled_weight_decay=decoupled_weight_decay))

    def _validate_group(self, group: dict[str, Any]) -> None:
        check_non_negative("NAdam", group, "lr", "eps", "weight_decay", "momentum_decay")
        check_betas("NAdam", group["betas"])

    def _state_buffers(self, group: dict[str, Any]) -> dict[str, float]:
        return {"exp_avg": 0.0, "exp_avg_sq": 0.0}

    def _update(self, group, theta, g, state, scratch):
        (beta1, beta2), lr, eps = group["betas"], group["lr"], group["eps"]
        weight_decay, psi = group["weight_decay"], group["momentum_decay"]
        tmp, tmp2 = scratch
        state["step"] += 1
        t = state["step"]
        if weight_decay != 0:
            if group["decoupled_weight_decay"]:
                theta *= 1 - lr * weight_decay  # θ ← θ − lr·λ·θ
            else:
                add_weight_decay_(g, theta, weight_decay, tmp)  # g ← g + λ·θ

        mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * psi))  # the momentum schedule
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi))
        state["mu_product"] *= mu
        mu_product = state["mu_product"]

        m, v = state["exp_avg"], state["exp_avg_sq"]
        ema_(m, g, beta1, tmp)  # m ← β1·m + (1 − β1)·g
        ema_square_(v, g, beta2, tmp)  # v ← β2·v + (1 − β2)·g²

        denom = np.divide(v, bias_correction(beta2, t), out=tmp)  # √(v / (1 − β2ᵗ)) + ε
        np.sqrt(denom, out=denom)
        denom += eps

        # θ ← θ − lr · m̂ / denom, with the two terms of m̂ applied one after the other.
        np.multiply(g, lr * (1.0 - mu) / (1.0 - mu_product), out=tmp2)
        tmp2 /= denom
        theta -= tmp2
        np.multiply(m, lr * mu_next / (1.0 - mu_product * mu_next), out=tmp2)
        tmp2 /= denom
        theta -= tmp2


