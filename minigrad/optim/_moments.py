"""The shared vocabulary of the optimizers: the start of a step, running averages, and their
bias correction.

Every rule starts the same way (``begin_step_``)::

      g ← −g                                   (maximize: climb instead of descend)
      t ← t + 1
      g ← g + λ·θ                              (L2 weight decay)
        or θ ← θ − lr·λ·θ                      (decoupled weight decay, as AdamW)

and every adaptive optimizer is built from the same three pieces:

* an exponential moving average of the gradient (the *first moment*, momentum's average)::

      m ← β·m + (1 − β)·g                      ema_(m, g, β)

* an exponential moving average of the squared gradient (the *second moment*, RMSProp's)::

      v ← β·v + (1 − β)·g²                     ema_square_(v, g, β)

* the bias correction that undoes the pull towards the zero the averages start from::

      m̂ = m / (1 − βᵗ)                         bias_correction(β, t) = 1 − βᵗ

  which gives Adam-like steps their denominator::

      √v̂ + ε = √(v / (1 − β2ᵗ)) + ε            sqrt_v_hat_plus_eps_(v, 1 − β2ᵗ, ε)

The functions work in place on NumPy arrays (the optimizers keep their state in
preallocated buffers) and take a scratch array (``tmp`` or ``out``) of the same shape, so
that a step allocates no memory. Their order of floating-point operations is PyTorch's, so
that results agree with ``torch.optim`` up to rounding.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def ema_(avg: np.ndarray, x: np.ndarray, beta: float, tmp: np.ndarray) -> None:
    """avg ← β·avg + (1 − β)·x, in place.

    Computed as ``avg + (1 − β)·(x − avg)`` — the same number, and the form ``torch.lerp``
    uses (switching to ``x − β·(x − avg)`` when 1 − β ≥ ½, for accuracy).
    """
    weight = 1.0 - beta
    np.subtract(x, avg, out=tmp)
    if abs(weight) < 0.5:
        tmp *= weight
        avg += tmp
    else:
        tmp *= beta
        np.subtract(x, tmp, out=avg)


def ema_square_(avg: np.ndarray, x: np.ndarray, beta: float, tmp: np.ndarray) -> None:
    """avg ← β·avg + (1 − β)·x², in place."""
    avg *= beta
    np.multiply(x, 1.0 - beta, out=tmp)
    tmp *= x
    avg += tmp


def bias_correction(beta: float, step: float) -> float:
    """1 − βᵗ: the total weight an average started at zero has given to the data after t steps."""
    return 1.0 - beta**step


def sqrt_v_hat_plus_eps_(v: np.ndarray, bias_correction2: float, eps: float,
                         out: np.ndarray) -> np.ndarray:
    """out ← √v̂ + ε with v̂ = v / (1 − β2ᵗ): the denominator of Adam-like steps. Returns out."""
    np.divide(v, bias_correction2, out=out)  # v̂
    np.sqrt(out, out=out)
    out += eps
    return out


def begin_step_(group: dict[str, Any], theta: np.ndarray, g: np.ndarray, state: dict[str, Any],
                tmp: np.ndarray, *, decoupled_weight_decay: bool = False,
                count_step: bool = True) -> None:
    """The lines every update rule starts with, in place (the order is PyTorch's)::

        g ← −g              if maximize
        t ← t + 1           (``state["step"]``; SGD counts only while it keeps a velocity)
        g ← g + λ·θ         if λ = weight_decay ≠ 0 …
        θ ← θ − lr·λ·θ      … or this instead, with decoupled_weight_decay
    """
    if group["maximize"]:
        np.negative(g, out=g)
    if count_step:
        state["step"] += 1
    weight_decay = group["weight_decay"]
    if weight_decay != 0:
        if decoupled_weight_decay:
            theta *= 1 - group["lr"] * weight_decay
        else:
            add_weight_decay_(g, theta, weight_decay, tmp)


def add_weight_decay_(g: np.ndarray, theta: np.ndarray, weight_decay: float,
                      tmp: np.ndarray) -> None:
    """g ← g + λ·θ (L2 regularisation: the gradient of ½·λ·‖θ‖²), in place."""
    np.multiply(theta, weight_decay, out=tmp)
    g += tmp
