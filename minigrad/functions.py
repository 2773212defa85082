"""Factories (``zeros``, ``randn``, ...) and the function forms of the Tensor ops
(``mg.exp(t)`` is ``t.exp()``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad import ops, rng
from minigrad.tensor import Tensor, _normalize_dims, _shape_from_args, float32

# ---------------------------------------------------------------------------------------
# Factories
# ---------------------------------------------------------------------------------------


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """``Tensor(data, requires_grad, dtype)``: a new tensor holding a copy of ``data``."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def _new(array: np.ndarray, requires_grad: bool) -> Tensor:
    t = Tensor._make(array)
    return t.requires_grad_() if requires_grad else t


def _float_dtype(dtype: Any) -> np.dtype:
    return float32 if dtype is None else np.dtype(dtype)


def zeros(*shape, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _new(np.zeros(_shape_from_args(shape, "zeros"), _float_dtype(dtype)), requires_grad)


def ones(*shape, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _new(np.ones(_shape_from_args(shape, "ones"), _float_dtype(dtype)), requires_grad)


def full(shape, fill_value: float, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    if dtype is None:
        dtype = float32 if isinstance(fill_value, float) else np.asarray(fill_value).dtype
    array = np.full(_shape_from_args((shape,), "full"), fill_value, dtype=dtype)
    return _new(array, requires_grad)


def eye(n: int, m: int | None = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _new(np.eye(n, m, dtype=_float_dtype(dtype)), requires_grad)


def arange(start, end=None, step=1, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Like ``torch.arange``: integers give int64, any float argument float32."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        is_int = all(isinstance(v, int | np.integer) for v in (start, end, step))
        dtype = np.int64 if is_int else float32
    return _new(np.arange(start, end, step, dtype=dtype), requires_grad)


def zeros_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _new(np.zeros(t.shape, dtype=t.dtype if dtype is None else dtype), requires_grad)


def ones_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _new(np.ones(t.shape, dtype=t.dtype if dtype is None else dtype), requires_grad)


def rand(*shape, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform on [0, 1), from minigrad's seeded generator (``manual_seed``)."""
    array = rng.generator().random(_shape_from_args(shape, "rand"), dtype=_float_dtype(dtype))
    return _new(array, requires_grad)


def randn(*shape, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal, from minigrad's seeded generator (``manual_seed``)."""
    shape = _shape_from_args(shape, "randn")
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
    (dim,) = _normalize_dims(dim, tensors[0].ndim, "cat")
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
    (dim,) = _normalize_dims(dim, tensors[0].ndim + 1, "stack")
    return cat([t.unsqueeze(dim) for t in tensors], dim)


# ---------------------------------------------------------------------------------------
# Function forms of the methods: ``mg.exp(t)`` is ``t.exp()``
# ---------------------------------------------------------------------------------------

_METHODS = (
    "add", "sub", "mul", "div", "pow", "matmul", "neg",
    "exp", "log", "sqrt", "abs", "sin", "cos", "tanh", "sigmoid", "relu", "leaky_relu",
    "erf", "gelu", "clamp", "clip", "maximum", "minimum",
    "sum", "mean", "var", "std", "max", "min", "logsumexp", "softmax", "log_softmax",
    "argmax", "argmin",
    "reshape", "flatten", "transpose", "permute", "squeeze", "unsqueeze", "expand",
    "broadcast_to", "detach", "clone",
)


def _function_form(name: str):
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


for _name in _METHODS:
    globals()[_name] = _function_form(_name)
del _name
