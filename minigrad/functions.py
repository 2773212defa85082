"""Factories (``zeros``, ``randn``, ...) and the function forms of the Tensor ops
(``mg.exp(t)`` is ``t.exp()``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad import ops, rng
from minigrad.tensor import Tensor, float32, normalize_dims, size_from_args

# ---------------------------------------------------------------------------------------
# Factories
# ---------------------------------------------------------------------------------------


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """``Tensor(data, requires_grad, dtype)``: a new tensor holding a copy of ``data``."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def _new(array: np.ndarray, requires_grad: bool) -> Tensor:
    t = Tensor.wrap(array)
    return t.requires_grad_() if requires_grad else t


def _float_dtype(dtype: Any) -> np.dtype:
    return float32 if dtype is None else np.dtype(dtype)


def zeros(*shape, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _new(np.zeros(size_from_args(shape, "zeros"), _float_dtype(dtype)), requires_grad)


def ones(*shape, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _new(np.ones(size_from_args(shape, "ones"), _float_dtype(dtype)), requires_grad)


def full(shape, fill_value: float, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    if dtype is None:
        dtype = float32 if isinstance(fill_value, float) else np.asarray(fill_value).dtype
    array = np.full(size_from_args((shape,), "full"), fill_value, dtype=dtype)
    return _new(array, requires_grad)


def eye(n: int, m: int | None = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    size_from_args((n,) if m is None else (n, m), "eye")  # integers, not negative
    return _new(np.eye(n, m, dtype=_float_dtype(dtype)), requires_grad)


def arange(start, end=None, step=1, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Like ``torch.arange``: integers give int64, any float argument float32."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        is_int = all(isinstance(v, int | np.integer) for v in (start, end, step))
        dtype = np.int64 if is_int else float32
    if step == 0 or (end - start) * step < 0:  # NumPy would give an empty tensor
        raise RuntimeError(f"arange: upper bound and lower bound inconsistent with step "
                           f"sign (start={start}, end={end}, step={step})")
    return _new(np.arange(start, end, step, dtype=dtype), requires_grad)


def zeros_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _new(np.zeros(t.shape, dtype=t.dtype if dtype is None else dtype), requires_grad)


def ones_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _new(np.ones(t.shape, dtype=t.dtype if dtype is None else dtype), requires_grad)


def rand(*shape, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform on [0, 1), from minigrad's seeded generator (``manual_seed``)."""
    array = rng.generator().random(size_from_args(shape, "rand"), dtype=_float_dtype(dtype))
    return _new(array, requires_grad)


def randn(*shape, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal, from minigrad's seeded generator (``manual_seed``)."""
    shape = size_from_args(shape, "randn")
    array = rng.generator().standard_normal(shape, dtype=_float_dtype(dtype))
    return _new(array, requires_grad)


# ---------------------------------------------------------------------------------------
# Joining tensors
# ---------------------------------------------------------------------------------------


def _as_tensors(tensors, op: str) -> list[Tensor]:
    if isinstance(tensors, Tensor | np.ndarray):
        raise TypeError(f"{op}: expected a sequence of tensors, got one {type(tensors).__name__}"
                        f"; write {op}([a, b, ...])")
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if not tensors:
        raise ValueError(f"{op}: expected a non-empty sequence of tensors")
    return tensors


def cat(tensors, dim: int = 0) -> Tensor:
    """Join tensors along an existing dim."""
    tensors = _as_tensors(tensors, "cat")
    (dim,) = normalize_dims(dim, tensors[0].ndim, "cat")
    return ops.Cat.apply(*tensors, dim=dim)


concat = cat


def stack(tensors, dim: int = 0) -> Tensor:
    """Join tensors of one shape along a new dim."""
    tensors = _as_tensors(tensors, "stack")
    shapes = {t.shape for t in tensors}
    if len(shapes) > 1:
        raise ValueError(
            f"stack: all tensors must have the same shape, got {[t.shape for t in tensors]}"
        )
    (dim,) = normalize_dims(dim, tensors[0].ndim + 1, "stack")
    return cat([t.unsqueeze(dim) for t in tensors], dim)


# ---------------------------------------------------------------------------------------
# Function forms of the methods: ``mg.exp(t)`` is ``t.exp()``
# ---------------------------------------------------------------------------------------

def _function_form(name: str):
    """``minigrad.exp(t)`` for the method ``Tensor.exp``: the same op, with ``t`` (or data
    that becomes a Tensor) as the first argument."""
    method = getattr(Tensor, name)

    def function(input, *args, **kwargs):
        if not isinstance(input, Tensor):
            input = Tensor(input)
        return method(input, *args, **kwargs)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"``minigrad.{name}(t, ...)`` is ``t.{name}(...)``." + (
        f"\n\n{method.__doc__}" if method.__doc__ else ""
    )
    return function


# Arithmetic
add = _function_form("add")
sub = _function_form("sub")
mul = _function_form("mul")
div = _function_form("div")
pow = _function_form("pow")
matmul = _function_form("matmul")
neg = _function_form("neg")

# Elementwise
exp = _function_form("exp")
log = _function_form("log")
sqrt = _function_form("sqrt")
abs = _function_form("abs")
sin = _function_form("sin")
cos = _function_form("cos")
tanh = _function_form("tanh")
sigmoid = _function_form("sigmoid")
relu = _function_form("relu")
leaky_relu = _function_form("leaky_relu")
erf = _function_form("erf")
gelu = _function_form("gelu")
clamp = _function_form("clamp")
clip = _function_form("clip")
maximum = _function_form("maximum")
minimum = _function_form("minimum")

# Reductions
sum = _function_form("sum")
mean = _function_form("mean")
var = _function_form("var")
std = _function_form("std")
max = _function_form("max")
min = _function_form("min")
logsumexp = _function_form("logsumexp")
softmax = _function_form("softmax")
log_softmax = _function_form("log_softmax")
argmax = _function_form("argmax")
argmin = _function_form("argmin")

# Shape and copies
reshape = _function_form("reshape")
flatten = _function_form("flatten")
transpose = _function_form("transpose")
permute = _function_form("permute")
squeeze = _function_form("squeeze")
unsqueeze = _function_form("unsqueeze")
expand = _function_form("expand")
broadcast_to = _function_form("broadcast_to")
detach = _function_form("detach")
clone = _function_form("clone")
