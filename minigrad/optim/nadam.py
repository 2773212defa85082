"""NAdam: Adam with Nesterov momentum."""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.optim._moments import bias_correction, sqrt_v_hat_plus_eps_
from minigrad.optim.adam import Adam
from minigrad.optim.optimizer import Optimizer, ParamsT, as_pair, check_non_negative


def momentum_schedule(beta1: float, momentum_decay: float, t: float) -> float:
    """μ_t = β1·(1 − ½·0.96^(t·ψ)): the momentum coefficient, warming up towards β1."""
    return beta1 * (1.0 - 0.5 * 0.96 ** (t * momentum_decay))


class NAdam(Adam):
    """NAdam (Dozat, 2016) — ``torch.optim.NAdam`` exactly.

    Adam with its first-moment term changed: instead of the corrected average m̂, the step
    uses a Nesterov look-ahead — the average as it will be after the next step — mixed with
    the current gradient. The momentum coefficient follows a warm-up schedule μ_t, and the
    bias correction uses the product of the μ's (``mu_product``). Everything but the m̂ line
    is Adam's::

        g ← −g                                   (if maximize)
        t ← t + 1
        g ← g + λ·θ                 (or θ ← θ − lr·λ·θ with decoupled_weight_decay)
        m ← β1·m + (1 − β1)·g
        v ← β2·v + (1 − β2)·g²
        v̂ = v / (1 − β2ᵗ)
        μ_t     = β1·(1 − ½·0.96^(t·ψ))          ψ = momentum_decay
        μ_next  = β1·(1 − ½·0.96^((t+1)·ψ))
        mu_product ← mu_product · μ_t            (Π of μ_1 … μ_t)
        m̂ = (1 − μ_t)·g / (1 − mu_product) + μ_next·m / (1 − mu_product·μ_next)
        θ ← θ − lr · m̂ / (√v̂ + ε)

    Keras' Nadam uses the same schedule with ψ fixed at 0.004 (it has no ``momentum_decay``
    argument): the default here reproduces it. The paper's simplest form, a constant
    μ = β1, is not reachable with this parametrisation (ψ = 0 gives μ = β1/2).
    ``mu_product`` is kept in float64 (PyTorch keeps it in the default float dtype).
    ``foreach`` is accepted for PyTorch's sake and changes nothing.
    """

    _state_scalars = {"step": 0.0, "mu_product": 1.0}
    _fused_loop = False  # (the fused loop is Adam's step)

    def __init__(self, params: ParamsT, lr: float = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, maximize: bool = False, *,
                 foreach: bool | None = None):
        Optimizer.__init__(self, params, dict(
            lr=lr, betas=as_pair(betas), eps=eps, weight_decay=weight_decay,
            momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
            maximize=maximize, foreach=foreach))

    def _validate_group(self, group: dict[str, Any]) -> None:
        super()._validate_group(group)
        check_non_negative("NAdam", group, "momentum_decay")

    def _descend(self, group: dict[str, Any], theta: np.ndarray, g: np.ndarray, m: np.ndarray,
                 v: np.ndarray, state: dict[str, Any],
                 scratch: tuple[np.ndarray, np.ndarray]) -> None:
        """θ ← θ − lr · m̂ / (√v̂ + ε) with the look-ahead m̂, its two terms one after the other."""
        (beta1, beta2), lr, t = group["betas"], group["lr"], state["step"]
        tmp, tmp2 = scratch
        mu = momentum_schedule(beta1, group["momentum_decay"], t)
        mu_next = momentum_schedule(beta1, group["momentum_decay"], t + 1)
        state["mu_product"] *= mu
        mu_product = state["mu_product"]

        denom = sqrt_v_hat_plus_eps_(v, bias_correction(beta2, t), group["eps"], out=tmp)
        np.multiply(g, lr * (1.0 - mu) / (1.0 - mu_product), out=tmp2)
        tmp2 /= denom
        theta -= tmp2
        np.multiply(m, lr * mu_next / (1.0 - mu_product * mu_next), out=tmp2)
        tmp2 /= denom
        theta -= tmp2
