"""Fused update loops: a whole optimizer step in ONE pass over memory (needs numba).

NumPy evaluates an update rule one operation at a time, and every operation is a pass over
its arrays: Adam's step is 12 NumPy calls per chunk of parameters (``adam.py``), SGD with
momentum's 4. Over a large model the arrays come from memory once per chunk and the other
passes run over the cache, but those in-cache passes still cost about as much again as the
memory traffic. A loop that does the whole rule for one element before moving to the next
moves each number between memory and the core once — what PyTorch's ``fused=True`` kernels
do in C++.

Here the loops are Python, compiled by numba (``pip install "minigrad[fast]"``). Each one
does, per element, exactly the floating-point operations of the NumPy passes it replaces,
in the same order and in the arrays' dtype: the results are the same bit for bit
(``tests/test_fused_kernels.py`` checks it), so the NumPy passes stay the readable
reference and this file is only an optimisation. Without numba, ``AVAILABLE`` is False and
the optimizers run their NumPy passes.

The numbers a loop needs (1 − β1, ε·√(1 − β2ᵗ), ...) are computed by the caller in Python
floats and then converted to the arrays' dtype, as NumPy converts a Python float that meets
a float32 array: the loop then computes in that dtype, as the passes do.
"""

from __future__ import annotations

import math

import numpy as np

try:
    import numba
except ImportError:  # the optional extra is not installed: the NumPy passes run
    numba = None

AVAILABLE = numba is not None


def _compiled(loop):
    """The loop compiled to machine code (cached on disk across runs), or None without
    numba. ``error_model="numpy"``: a division by zero gives inf or NaN as in NumPy instead
    of raising, which also lets the compiler vectorise the loop."""
    if numba is None:
        return None
    return numba.njit(cache=True, error_model="numpy", boundscheck=False)(loop)


def adam_loop(theta, g, m, v, weight1, beta1, lerp_from_g, beta2, weight2, eps_c, step_size):
    """Adam's moments and step, per element, as ``Adam._update``'s passes compute them::

        m ← m + (1 − β1)·(g − m)       (or g − β1·(g − m) when 1 − β1 ≥ ½: ``ema_``)
        v ← β2·v + (1 − β2)·g·g        (``ema_square_``)
        θ ← θ − m / (√v + ε·c) · step_size     (``adam_step_rearranged_``)
    """
    for i in range(theta.size):
        gi = g[i]
        difference = gi - m[i]
        if lerp_from_g:
            mi = gi - difference * beta1
        else:
            mi = m[i] + difference * weight1
        vi = v[i] * beta2 + gi * weight2 * gi
        m[i] = mi
        v[i] = vi
        theta[i] -= mi / (np.sqrt(vi) + eps_c) * step_size


def sgd_momentum_loop(theta, g, velocity, momentum, weight, lr, started, damped, nesterov):
    """SGD with momentum, per element, as ``SGD._update``'s passes compute it::

        b ← g                          (the first step: ``started`` is False)
        b ← μ·b + g    or    μ·b + g·(1 − τ)      (``damped``: τ ≠ 0, and weight = 1 − τ)
        d ← g + μ·b  (nesterov)   or   d ← b
        θ ← θ − d·lr
    """
    for i in range(theta.size):
        gi = g[i]
        if not started:
            bi = gi
        elif damped:
            bi = velocity[i] * momentum + gi * weight
        else:
            bi = velocity[i] * momentum + gi
        velocity[i] = bi
        direction = gi + bi * momentum if nesterov else bi
        theta[i] -= direction * lr


def sgd_loop(theta, g, lr):
    """Plain SGD, per element: θ ← θ − g·lr (two passes in NumPy: the product, then θ −=)."""
    for i in range(theta.size):
        theta[i] -= g[i] * lr


adam_loop_compiled = _compiled(adam_loop)
sgd_momentum_loop_compiled = _compiled(sgd_momentum_loop)
sgd_loop_compiled = _compiled(sgd_loop)


def usable(group: dict) -> bool:
    """Whether ``group`` runs the fused loops: numba is installed and ``fused`` is not False
    (None, the default, uses them when it can; ``fused=True`` without numba is refused when
    the optimizer is made). numba compiles a loop for each dtype it meets: minigrad's
    parameters are float32 or float64."""
    return AVAILABLE and group.get("fused") is not False


def check_fused_option(group: dict, optimizer_name: str) -> None:
    """PyTorch's rules for the ``fused`` and ``foreach`` options, checked on construction."""
    if group.get("fused") and group.get("foreach"):
        raise RuntimeError(f"{optimizer_name}: `fused` and `foreach` cannot be `True` together.")
    if group.get("fused") and not AVAILABLE:
        raise RuntimeError(f"{optimizer_name}: fused=True needs numba, which is not installed "
                           '(pip install "minigrad[fast]"); pass fused=None to use the fused '
                           "loop only where it is available")


def adam_(theta, g, m, v, beta1, beta2, lr, eps, bias_correction1, bias_correction2) -> None:
    """``ema_``, ``ema_square_`` and ``adam_step_rearranged_`` in one pass (``adam_loop``)."""
    c = math.sqrt(bias_correction2)
    weight1 = 1.0 - beta1
    as_dtype = theta.dtype.type
    adam_loop_compiled(theta, g, m, v, as_dtype(weight1), as_dtype(beta1), abs(weight1) >= 0.5,
                       as_dtype(beta2), as_dtype(1.0 - beta2), as_dtype(eps * c),
                       as_dtype(lr / bias_correction1 * c))


def sgd_(theta, g, velocity, momentum, dampening, lr, started, nesterov) -> None:
    """SGD's update after ``begin_step_``, in one pass (``sgd_momentum_loop``, ``sgd_loop``);
    ``velocity`` is None without momentum."""
    as_dtype = theta.dtype.type
    if velocity is None:
        sgd_loop_compiled(theta, g, as_dtype(lr))
    else:
        sgd_momentum_loop_compiled(theta, g, velocity, as_dtype(momentum),
                                   as_dtype(1 - dampening), as_dtype(lr), started,
                                   dampening != 0, nesterov)
