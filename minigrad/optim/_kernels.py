"""Fused update loops: a whole optimizer step in ONE pass over memory (needs numba).

NumPy evaluates an update rule one operation at a time, and every operation is a pass over
its arrays: Adam's step is 12 NumPy calls per chunk of parameters (``adam.py``), SGD with
momentum's 4, Adagrad's 6. Over a large model the arrays come from memory once per chunk
and the other passes run over the cache, but those in-cache passes still cost about as much
again as the memory traffic. A loop that does the whole rule for one element before moving
to the next moves each number between memory and the core once — what PyTorch's
``fused=True`` kernels do in C++.

Here the loops are Python, compiled by numba (``pip install "minigrad[fast]"``). Each one
does, per element, exactly the floating-point operations of the NumPy passes it replaces
(``begin_step_`` included), in the same order and in the arrays' dtype: the results are the
same bit for bit (``tests/test_fused_kernels.py`` checks it), so the NumPy passes stay the
readable reference and this file is only an optimisation. Without numba, ``available()``
is False and the optimizers run their NumPy passes (``minigrad/_numba.py`` imports numba and
compiles each loop on first need).

The numbers a loop needs (1 − β1, ε·√(1 − β2ᵗ), ...) are computed by the caller in Python
floats and then converted to the arrays' dtype, as NumPy converts a Python float that meets
a float32 array: the loop then computes in that dtype, as the passes do. They travel in one
small array (``numbers``), converted in one call: on a small model the call's own cost is
what counts. A loop never writes to g, so the optimizer may hand it gradients where they
are.
"""

from __future__ import annotations

import math

import numpy as np

from minigrad._numba import available, compiled_on_first_call
from minigrad.optim._moments import bias_correction


def adam_loop(theta, g, m, v, numbers, maximize, decays, decoupled, lerp_from_g):
    """One Adam step per element, as ``Adam._update``'s passes compute it, with
    ``numbers`` = [λ, decay, 1 − β1, β1, β2, 1 − β2, ε·c, step_size]::

        g ← −g                             (maximize)
        g ← g + θ·λ     or    θ ← θ·decay  (``decays``: λ ≠ 0; L2, or decoupled as AdamW)
        m ← m + (g − m)·(1 − β1)           (or g − (g − m)·β1 when 1 − β1 ≥ ½: ``ema_``)
        v ← v·β2 + g·(1 − β2)·g            (``ema_square_``)
        θ ← θ − m / (√v + ε·c) · step_size     (``adam_step_rearranged_``)
    """
    weight_decay, decay, weight1, beta1 = numbers[0], numbers[1], numbers[2], numbers[3]
    beta2, weight2, eps_c, step_size = numbers[4], numbers[5], numbers[6], numbers[7]
    for i in range(theta.size):
        gi = -g[i] if maximize else g[i]
        ti = theta[i]
        if decays:
            if decoupled:
                ti = ti * decay
            else:
                gi = gi + ti * weight_decay
        difference = gi - m[i]
        mi = gi - difference * beta1 if lerp_from_g else m[i] + difference * weight1
        vi = v[i] * beta2 + gi * weight2 * gi
        m[i] = mi
        v[i] = vi
        theta[i] = ti - mi / (np.sqrt(vi) + eps_c) * step_size


def sgd_loop(theta, g, velocity, numbers, maximize, decays, has_velocity, started, damped,
             nesterov):
    """One SGD step per element, as ``SGD._update``'s passes compute it, with
    ``numbers`` = [λ, μ, 1 − τ, lr]::

        g ← −g                             (maximize)
        g ← g + θ·λ                        (``decays``: λ ≠ 0)
        b ← g                              (the first step: ``started`` is False)
        b ← b·μ + g    or    b·μ + g·(1 − τ)      (``damped``: τ ≠ 0, and weight = 1 − τ)
        d ← g + b·μ  (nesterov)   or   d ← b
        θ ← θ − d·lr

    Without momentum (μ = 0, ``has_velocity`` False) there is no velocity and d = g;
    ``velocity`` is then any writable array of the dtype (it is not touched).
    """
    weight_decay, momentum, weight, lr = numbers[0], numbers[1], numbers[2], numbers[3]
    for i in range(theta.size):
        gi = -g[i] if maximize else g[i]
        ti = theta[i]
        if decays:
            gi = gi + ti * weight_decay
        if not has_velocity:
            direction = gi
        else:
            if not started:
                bi = gi
            elif damped:
                bi = velocity[i] * momentum + gi * weight
            else:
                bi = velocity[i] * momentum + gi
            velocity[i] = bi
            direction = gi + bi * momentum if nesterov else bi
        theta[i] = ti - direction * lr


def adagrad_loop(theta, g, total, numbers, maximize, decays):
    """One Adagrad step per element, as ``Adagrad._update``'s passes compute it, with
    ``numbers`` = [λ, clr, ε]::

        g ← −g                             (maximize)
        g ← g + θ·λ                        (``decays``: λ ≠ 0)
        s ← s + g·g
        θ ← θ − g·clr / (√s + ε)
    """
    weight_decay, clr, eps = numbers[0], numbers[1], numbers[2]
    for i in range(theta.size):
        gi = -g[i] if maximize else g[i]
        ti = theta[i]
        if decays:
            gi = gi + ti * weight_decay
        si = total[i] + gi * gi
        total[i] = si
        theta[i] = ti - gi * clr / (np.sqrt(si) + eps)


adam_loop_compiled = compiled_on_first_call(adam_loop)
adagrad_loop_compiled = compiled_on_first_call(adagrad_loop)
sgd_loop_compiled = compiled_on_first_call(sgd_loop)


def usable(group: dict) -> bool:
    """Whether ``group`` may run the fused loops: numba is installed and ``fused`` is not
    False (None, the default, uses them when it can; ``fused=True`` without numba is refused
    when the optimizer is made). numba compiles a loop for each dtype it meets: minigrad's
    parameters are float32 or float64."""
    return group.get("fused") is not False and available()


def check_fused_option(group: dict, optimizer_name: str) -> None:
    """PyTorch's rules for the ``fused`` and ``foreach`` options, checked on construction."""
    if group.get("fused") and group.get("foreach"):
        raise RuntimeError(f"{optimizer_name}: `fused` and `foreach` cannot be `True` together.")
    if group.get("fused") and not available():
        raise RuntimeError(f"{optimizer_name}: fused=True needs numba, which is not installed "
                           '(pip install "minigrad[fast]"); pass fused=None to use the fused '
                           "loop only where it is available")


def adam_(theta, g, m, v, *, lr, beta1, beta2, eps, weight_decay, decoupled, maximize,
          step) -> None:
    """``Adam._update`` for step number ``step`` (already counted), in one pass."""
    c = math.sqrt(bias_correction(beta2, step))
    weight1 = 1.0 - beta1
    numbers = np.array([weight_decay, 1 - lr * weight_decay, weight1, beta1, beta2, 1.0 - beta2,
                        eps * c, lr / bias_correction(beta1, step) * c], theta.dtype)
    adam_loop_compiled(theta, g, m, v, numbers, maximize, weight_decay != 0, decoupled,
                       abs(weight1) >= 0.5)


def sgd_(theta, g, velocity, *, lr, momentum, dampening, weight_decay, nesterov, maximize,
         started) -> None:
    """``SGD._update`` in one pass; ``velocity`` is None without momentum."""
    numbers = np.array([weight_decay, momentum, 1 - dampening, lr], theta.dtype)
    sgd_loop_compiled(theta, g, theta if velocity is None else velocity, numbers, maximize,
                      weight_decay != 0, velocity is not None, started, dampening != 0,
                      nesterov)


def adagrad_(theta, g, total, *, clr, eps, weight_decay, maximize) -> None:
    """``Adagrad._update`` after the step count, in one pass (``clr``: this step's rate)."""
    numbers = np.array([weight_decay, clr, eps], theta.dtype)
    adagrad_loop_compiled(theta, g, total, numbers, maximize, weight_decay != 0)
