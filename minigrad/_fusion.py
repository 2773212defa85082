"""Kernel fusion for captured steps: common runs of NumPy kernels become one compiled loop.

``mg.compile`` records a step as NumPy kernels (``capture.py``), and each kernel is a pass
over its arrays. Some short runs of kernels recur in every MLP, and each pass of them
costs more in moving memory than in arithmetic:

* a ReLU's backward is three kernels: ``x ≤ 0``, its negation, and the product with the
  incoming gradient (``ReLU.backward`` in ``ops.py``);
* a Linear layer's bias and the ReLU after it are two: ``h += b``, then ``max(h, 0)``.

``fuse(entries, outputs)`` replaces each such run by one loop over the elements, as a JIT
compiler does once it has the whole program in hand, wherever the arrays passed between
the kernels are read by nothing else. Each loop does exactly the operations of the kernels
it replaces, in their order and dtype, so the step's numbers stay the same bit for bit
(``tests/test_compile.py`` compares compiled and eager steps exactly, and
``tests/test_fusion.py`` the loops against the kernels, NaN, infinities and signed zeros
included). The loops are compiled by numba (``minigrad/_numba.py``); without it, or where
a run does not match exactly, the program keeps its kernels.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad._numba import available, compiled_on_first_call
from minigrad.capture import _arrays_in, _root


def relu_backward_loop(grad, x, out):
    """out = grad · ¬(x ≤ 0), per element: the three kernels of ``ReLU.backward``. The mask
    is a bool, which NumPy's product turns into 1 or 0: grad·1 is grad itself, grad·0 is
    0 with grad's sign (NaN where grad is infinite or NaN)."""
    grad, x, out = grad.reshape(-1), x.reshape(-1), out.reshape(-1)
    for i in range(out.size):
        out[i] = grad[i] if not x[i] <= 0 else grad[i] * 0.0


def bias_relu_loop(h, bias, out):
    """h ← h + bias (a row vector, added to every row), then out = max(h, 0) per element,
    as ``np.maximum`` computes it: h where h > 0 or h is NaN, else the 0 (so −0 and +0 give
    +0)."""
    rows, columns = h.shape
    for i in range(rows):
        for j in range(columns):
            value = h[i, j] + bias[j]
            h[i, j] = value
            out[i, j] = value if value > 0 or value != value else 0.0


relu_backward = compiled_on_first_call(relu_backward_loop)
relu_backward.fuses = "less_equal, invert, multiply"  # (for the program's comments)
bias_relu = compiled_on_first_call(bias_relu_loop)
bias_relu.fuses = "add, maximum"


# ---------------------------------------------------------------------------------------
# Finding the runs
# ---------------------------------------------------------------------------------------


def fuse(entries: list, outputs: Any) -> list:
    """``entries`` (a tape's ``(function, args, kwargs)`` calls, in order) with every run
    that a loop above does exactly replaced by one call of it. ``outputs`` holds the arrays
    the step returns (never fused away). Without numba: ``entries`` unchanged."""
    if not available():
        return entries
    uses = _uses(entries, outputs)
    result, i = [], 0
    while i < len(entries):
        for match in (_relu_backward, _bias_relu):
            found = match(entries, i, uses)
            if found is not None:
                replacement, length = found
                result.append(replacement)
                i += length
                break
        else:
            result.append(entries[i])
            i += 1
    return result


def _relu_backward(entries: list, i: int, uses: dict) -> tuple | None:
    """less_equal(x, 0, mask); invert(mask, keep); multiply(grad, keep, out)."""
    calls = _ufunc_calls(entries[i:i + 3], (np.less_equal, np.invert, np.multiply))
    if calls is None:
        return None
    (x, zero), (mask,) = calls[0]
    (mask_in,), (keep,) = calls[1]
    (grad, keep_in), (out,) = calls[2]
    if not (_is_zero(zero) and _same(mask_in, mask) and _same(keep_in, keep)
            and mask.dtype == keep.dtype == np.bool_
            and uses[id(_root(mask))] == 2 and uses[id(_root(keep))] == 2
            and _same_float_layout(x, grad, out)):
        return None
    return (relu_backward, (grad, x, out), {}), 3


def _bias_relu(entries: list, i: int, uses: dict) -> tuple | None:
    """add(h, bias, h); maximum(h, 0, out=(out,))."""
    calls = _ufunc_calls(entries[i:i + 2], (np.add, np.maximum))
    if calls is None:
        return None
    (h, bias), (h_out,) = calls[0]
    (h_in, zero), (out,) = calls[1]
    if not (_same(h_out, h) and _same(h_in, h) and _is_zero(zero) and h.ndim == 2
            and isinstance(bias, np.ndarray) and bias.shape == h.shape[1:]
            and bias.dtype == h.dtype and bias.flags.c_contiguous
            and _same_float_layout(h, out)):
        return None
    return (bias_relu, (h, bias, out), {}), 2


def _ufunc_calls(run: list, ufuncs: tuple) -> list | None:
    """For a run of plain ufunc calls (no ``where=``, ``dtype=``...) of ``ufuncs`` in that
    order: each call's (inputs, outputs); None if the run is anything else."""
    if len(run) != len(ufuncs):
        return None
    calls = []
    for (function, args, kwargs), ufunc in zip(run, ufuncs):
        if function is not ufunc or set(kwargs) - {"out"}:
            return None
        if "out" in kwargs:
            inputs, outputs = args, tuple(kwargs["out"])
        else:
            inputs, outputs = args[:ufunc.nin], args[ufunc.nin:]
        if len(inputs) != ufunc.nin or len(outputs) != 1:
            return None
        calls.append((tuple(inputs), outputs))
    return calls


def _uses(entries: list, outputs: Any) -> dict:
    """How many times each memory (by its root array) appears in the entries' arguments
    and in the outputs: an array between two kernels that appears only there is dead after
    them. Arrays held inside Tensors (``set_grads``'s) count too."""
    uses: dict[int, int] = {}
    for _, args, kwargs in entries:
        for array in _arrays_in((args, kwargs)):
            key = id(_root(array))
            uses[key] = uses.get(key, 0) + 1
    for array in _arrays_in(outputs):
        uses[id(_root(array))] = uses.get(id(_root(array)), 0) + 1_000  # never dead
    return uses


def _same(a: Any, b: Any) -> bool:
    """Whether a and b are the same array: the same memory in the same layout (a tape's
    calls hold different view objects of its arrays)."""
    return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.dtype == b.dtype
            and a.shape == b.shape and a.strides == b.strides
            and a.__array_interface__["data"][0] == b.__array_interface__["data"][0])


def _is_zero(value: Any) -> bool:
    return type(value) in (int, float) and value == 0


def _same_float_layout(*arrays: Any) -> bool:
    """All plain C-contiguous arrays of one float dtype and one shape (the loops index them
    flat, or by row and column)."""
    first = arrays[0]
    return all(type(a) is np.ndarray and a.dtype == first.dtype and a.dtype.kind == "f"
               and a.shape == first.shape and a.flags.c_contiguous for a in arrays)


