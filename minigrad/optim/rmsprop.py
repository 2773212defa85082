"""RMSprop: divide the gradient by a running root-mean-square of recent gradients."""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.optim._moments import begin_step_, ema_, ema_square_
from minigrad.optim.optimizer import Optimizer, ParamsT, check_non_negative


class RMSprop(Optimizer):
    """RMSprop (Hinton's lecture 6e) — ``torch.optim.RMSprop`` exactly.

    With v the average of squared gradients (``square_avg``), ḡ the average of gradients
    (``grad_avg``, centered only), b the velocity (``momentum_buffer``), α ``alpha``,
    μ ``momentum`` and λ ``weight_decay``::

        g ← g + λ·θ                           (if weight_decay ≠ 0)
        v ← α·v + (1 − α)·g²
        ḡ ← α·ḡ + (1 − α)·g                   (centered)
        r = √(v − ḡ²) + ε    (centered)   or   r = √v + ε
        b ← μ·b + g / r;   θ ← θ − lr·b       (momentum > 0)
        θ ← θ − lr · g / r                    (momentum = 0)

    ε is added outside the square root; TensorFlow/Keras add it inside (√(v + ε)), and Keras
    folds the learning rate into its momentum velocity (b ← μ·b + lr·g / r). ``centered``
    divides by an estimate of the standard deviation of g instead of its root mean square.
    With ``maximize=True`` g is replaced by −g. ``foreach`` is accepted for PyTorch's sake
    and changes nothing: every step already works on all of a group's parameters at once.
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0, momentum: float = 0,
                 centered: bool = False, maximize: bool = False, *,
                 foreach: bool | None = None):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize,
                                      foreach=foreach))

    def _validate_group(self, group: dict[str, Any]) -> None:
        check_non_negative("RMSprop", group, "lr", "eps", "weight_decay", "momentum", "alpha")
        if group["alpha"] > 1:
            raise ValueError(f"RMSprop: invalid alpha={group['alpha']!r}; it must be in [0, 1]")

    def _state_buffers(self, group: dict[str, Any]) -> dict[str, float]:
        names = {"square_avg": 0.0}
        if group["momentum"] > 0:
            names["momentum_buffer"] = 0.0
        if group["centered"]:
            names["grad_avg"] = 0.0
        return names

    def _update(self, group, theta, g, state, scratch):
        alpha, lr = group["alpha"], group["lr"]
        tmp, tmp2 = scratch
        begin_step_(group, theta, g, state, tmp)  # maximize, t ← t + 1, weight decay

        v = state["square_avg"]
        ema_square_(v, g, alpha, tmp)  # v ← α·v + (1 − α)·g²

        if group["centered"]:
            g_avg = state["grad_avg"]
            ema_(g_avg, g, alpha, tmp)  # ḡ ← α·ḡ + (1 − α)·g
            r = np.multiply(g_avg, g_avg, out=tmp)  # r = √(v − ḡ²)
            np.subtract(v, r, out=r)
            np.sqrt(r, out=r)
        else:
            r = np.sqrt(v, out=tmp)  # r = √v
        r += group["eps"]

        if group["momentum"] > 0:
            b = state["momentum_buffer"]
            b *= group["momentum"]  # b ← μ·b + g / r
            np.divide(g, r, out=tmp2)
            b += tmp2
            np.multiply(b, lr, out=tmp2)  # θ ← θ − lr·b
            theta -= tmp2
        else:
            np.multiply(g, lr, out=tmp2)  # θ ← θ − lr · g / r
            tmp2 /= r
            theta -= tmp2
