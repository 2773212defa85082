"""Factories (``zeros``, ``randn``, ...) and the function forms of the Tensor ops
(``mg.exp(t)`` is ``t.exp()``)."""

from __future__ import annotations

import builtins
import contextlib
import math
from typing import Any

import numpy as np

from minigrad import ops, rng
from minigrad.device import check_device
from minigrad.dtypes import as_dtype, get_default_dtype
from minigrad.engine import ShapeError
from minigrad.grad_mode import no_grad
from minigrad.tensor import Tensor, float32, float64, int64, normalize_dims, size_from_args

# ---------------------------------------------------------------------------------------
# Factories
# ---------------------------------------------------------------------------------------


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None, device: Any = None) -> Tensor:
    """``Tensor(data, requires_grad, dtype)``: a new tensor holding a copy of ``data``."""
    check_device(device, "tensor")
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """``data`` as a Tensor, sharing its memory where it can (a Tensor or a NumPy array of a
    dtype minigrad keeps, asked for no other dtype), else a copy."""
    check_device(device, "as_tensor")
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(dtype)
    if isinstance(data, np.ndarray) and (dtype is None or as_dtype(dtype, "as_tensor")
                                         == data.dtype) and data.dtype in _KEPT_DTYPES:
        return Tensor.wrap(data)
    return Tensor(data, dtype=dtype)


_KEPT_DTYPES = (float32, float64, *(np.dtype(t) for t in "bBhHiIlLqQ?"))


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing ``array``'s memory (a change to one is seen in the other)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray (got {type(array).__name__})")
    if array.dtype not in _KEPT_DTYPES:
        raise TypeError(f"from_numpy: can't convert np.ndarray of type {array.dtype}; minigrad "
                        "shares float32, float64, integer and bool arrays")
    return Tensor.wrap(array)


def _new(array: np.ndarray, requires_grad: bool, device: Any, op: str) -> Tensor:
    check_device(device, op)
    t = Tensor.wrap(array)
    return t.requires_grad_() if requires_grad else t


def _float_dtype(dtype: Any, op: str) -> np.dtype:
    return get_default_dtype() if dtype is None else as_dtype(dtype, op)


def zeros(*shape, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    array = np.zeros(size_from_args(shape, "zeros"), _float_dtype(dtype, "zeros"))
    return _new(array, requires_grad, device, "zeros")


def ones(*shape, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    array = np.ones(size_from_args(shape, "ones"), _float_dtype(dtype, "ones"))
    return _new(array, requires_grad, device, "ones")


def empty(*shape, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A new tensor whose values are not set (here: zeros, so nothing random leaks out)."""
    array = np.zeros(size_from_args(shape, "empty"), _float_dtype(dtype, "empty"))
    return _new(array, requires_grad, device, "empty")


def full(shape, fill_value: float, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    dtype = _fill_dtype(fill_value, dtype, "full")
    array = np.full(size_from_args((shape,), "full"), fill_value, dtype=dtype)
    return _new(array, requires_grad, device, "full")


def _fill_dtype(fill_value, dtype, op: str) -> np.dtype:
    """A fill value's dtype, as PyTorch's: a Python float takes the default float dtype."""
    if dtype is not None:
        return as_dtype(dtype, op)
    if isinstance(fill_value, Tensor):
        return fill_value.dtype
    if isinstance(fill_value, float):
        return get_default_dtype()
    return as_dtype(np.asarray(fill_value).dtype, op)


def eye(n: int, m: int | None = None, dtype: Any = None, device: Any = None,
        requires_grad: bool = False) -> Tensor:
    size_from_args((n,) if m is None else (n, m), "eye")  # integers, not negative
    return _new(np.eye(n, m, dtype=_float_dtype(dtype, "eye")), requires_grad, device, "eye")


def arange(start, end=None, step=1, dtype: Any = None, device: Any = None,
           requires_grad: bool = False) -> Tensor:
    """Like ``torch.arange``: integers give int64, any float argument the default float
    dtype; ``[start, end)`` in steps of ``step``."""
    start, end, step = (_number(v) for v in (start, end, step))
    if end is None:
        start, end = 0, start
    if dtype is None:
        is_int = builtins.all(isinstance(v, int | np.integer) for v in (start, end, step))
        dtype = np.int64 if is_int else get_default_dtype()
    if step == 0 or (end - start) * step < 0:  # NumPy would give an empty tensor
        raise RuntimeError(f"arange: upper bound and lower bound inconsistent with step "
                           f"sign (start={start}, end={end}, step={step})")
    # Counted in float64 and then cast, as PyTorch does: the same number of elements.
    count = math.ceil((end - start) / step)
    array = (start + step * np.arange(count, dtype=np.float64)).astype(as_dtype(dtype, "arange"))
    return _new(array, requires_grad, device, "arange")


def _number(value):
    """A 0-d tensor given where PyTorch takes a number, as that number."""
    return value.item() if isinstance(value, Tensor) else value


def linspace(start, end, steps: int, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced numbers from ``start`` to ``end``, both included."""
    start, end = _number(start), _number(end)
    _check_steps(steps, "linspace")
    array = np.linspace(start, end, steps, dtype=np.float64)
    return _new(array.astype(_float_dtype(dtype, "linspace")), requires_grad, device, "linspace")


def logspace(start, end, steps: int, base: float = 10.0, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """``base ** linspace(start, end, steps)``."""
    start, end = _number(start), _number(end)
    _check_steps(steps, "logspace")
    array = np.logspace(start, end, steps, base=base, dtype=np.float64)
    return _new(array.astype(_float_dtype(dtype, "logspace")), requires_grad, device, "logspace")


def _check_steps(steps, op: str) -> None:
    if isinstance(steps, bool) or not isinstance(steps, int | np.integer) or steps < 0:
        raise RuntimeError(f"{op}: number of steps must be a non-negative integer, got {steps!r}")


def zeros_like(t: Tensor, dtype: Any = None, device: Any = None,
               requires_grad: bool = False) -> Tensor:
    return full_like(t, 0, dtype=dtype, device=device, requires_grad=requires_grad)


def ones_like(t: Tensor, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    return full_like(t, 1, dtype=dtype, device=device, requires_grad=requires_grad)


def empty_like(t: Tensor, dtype: Any = None, device: Any = None,
               requires_grad: bool = False) -> Tensor:
    return full_like(t, 0, dtype=dtype, device=device, requires_grad=requires_grad)


def full_like(t: Tensor, fill_value, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    """A tensor of ``t``'s shape (and dtype, unless given) holding ``fill_value``."""
    dtype = t.dtype if dtype is None else as_dtype(dtype, "full_like")
    return _new(np.full(t.shape, fill_value, dtype=dtype), requires_grad, device, "full_like")


def rand(*shape, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform on [0, 1), from minigrad's seeded generator (``manual_seed``)."""
    dtype = _float_dtype(dtype, "rand")
    array = rng.generator().random(size_from_args(shape, "rand"), dtype=dtype)
    return _new(array, requires_grad, device, "rand")


def randn(*shape, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal, from minigrad's seeded generator (``manual_seed``)."""
    shape = size_from_args(shape, "randn")
    array = rng.generator().standard_normal(shape, dtype=_float_dtype(dtype, "randn"))
    return _new(array, requires_grad, device, "randn")


def rand_like(t: Tensor, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    return rand(t.shape, dtype=_like_float_dtype(t, dtype, "rand_like"), device=device,
                requires_grad=requires_grad)


def randn_like(t: Tensor, dtype: Any = None, device: Any = None,
               requires_grad: bool = False) -> Tensor:
    return randn(t.shape, dtype=_like_float_dtype(t, dtype, "randn_like"), device=device,
                 requires_grad=requires_grad)


def _like_float_dtype(t: Tensor, dtype, op: str) -> np.dtype:
    dtype = t.dtype if dtype is None else as_dtype(dtype, op)
    if dtype.kind != "f":
        raise RuntimeError(f"{op}: random numbers need a floating-point dtype, got {dtype}")
    return dtype


def randint(*args, size=None, dtype: Any = None, device: Any = None,
            requires_grad: bool = False, low=None, high=None) -> Tensor:
    """Integers drawn uniformly from [low, high): ``randint(high, size)`` or
    ``randint(low, high, size)``, int64 unless ``dtype`` says otherwise."""
    numbers = list(args)
    if size is None and numbers and isinstance(numbers[-1], tuple | list):
        size = numbers.pop()
    if high is None and numbers:
        high = numbers.pop()
    if low is None:
        low = numbers.pop() if numbers else 0
    if numbers or high is None or size is None:
        raise TypeError("randint(): expected randint(high, size) or randint(low, high, size), "
                        f"got arguments {args}")
    if low >= high:
        raise RuntimeError(f"randint: low ({low}) must be less than high ({high})")
    dtype = int64 if dtype is None else as_dtype(dtype, "randint")
    array = rng.generator().integers(low, high, size_from_args((size,), "randint"))
    return _new(array.astype(dtype), requires_grad, device, "randint")


def randperm(n: int, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """A random permutation of 0, ..., n - 1."""
    size_from_args((n,), "randperm")
    dtype = int64 if dtype is None else as_dtype(dtype, "randperm")
    return _new(rng.generator().permutation(n).astype(dtype), requires_grad, device, "randperm")


# ---------------------------------------------------------------------------------------
# Comparing tensors
# ---------------------------------------------------------------------------------------


def allclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    """Whether ``|input - other| <= atol + rtol·|other|`` everywhere (broadcast)."""
    return bool(np.allclose(_array(input), _array(other), rtol, atol, equal_nan))


def equal(input: Tensor, other: Tensor) -> bool:
    """Whether the two have the same shape and the same elements."""
    return bool(np.array_equal(_array(input), _array(other)))


def _array(t) -> np.ndarray:
    if not isinstance(t, Tensor):
        raise TypeError(f"expected a Tensor, got {type(t).__name__}")
    return t.array


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


def cat(tensors, dim: int = 0, *, axis: int | None = None) -> Tensor:
    """Join tensors along an existing dim (``axis`` is an alias of ``dim``, as in PyTorch)."""
    dim = dim if axis is None else axis
    tensors = _as_tensors(tensors, "cat")
    (dim,) = normalize_dims(dim, tensors[0].ndim, "cat")
    return ops.Cat.apply(*tensors, dim=dim)


concat = cat


def stack(tensors, dim: int = 0, *, axis: int | None = None) -> Tensor:
    """Join tensors of one shape along a new dim (``axis`` is an alias of ``dim``)."""
    dim = dim if axis is None else axis
    tensors = _as_tensors(tensors, "stack")
    shapes = {t.shape for t in tensors}
    if len(shapes) > 1:
        raise ShapeError(
            f"stack: all tensors must have the same shape, got {[tuple(t.shape) for t in tensors]}"
        )
    (dim,) = normalize_dims(dim, tensors[0].ndim + 1, "stack")
    return cat([t.unsqueeze(dim) for t in tensors], dim)


def meshgrid(*tensors, indexing: str | None = None) -> tuple[Tensor, ...]:
    """Coordinate grids of 1-D tensors: the i-th output holds ``tensors[i]`` along dim i,
    repeated along the others. ``indexing="xy"`` swaps the first two dims (x along the
    columns, as NumPy's default); "ij" (the default) keeps them."""
    if len(tensors) == 1 and not isinstance(tensors[0], Tensor):
        tensors = tuple(tensors[0])
    tensors = _as_tensors(tensors, "meshgrid")
    indexing = "ij" if indexing is None else indexing
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    if builtins.any(t.ndim > 1 for t in tensors):
        raise RuntimeError(f"meshgrid: expected 0-D or 1-D tensors, got shapes "
                           f"{[tuple(t.shape) for t in tensors]}")
    order = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) > 1:
        order[:2] = [1, 0]
    shape = tuple(tensors[i].numel() for i in order)
    grids = {}
    for position, i in enumerate(order):
        along = [1] * len(order)
        along[position] = -1
        grids[i] = tensors[i].reshape(along).expand(shape)
    return tuple(grids[i] for i in range(len(tensors)))


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def einsum(equation: str, *operands) -> Tensor:
    """Einstein summation, as ``torch.einsum``: ``einsum("ij,jk->ik", a, b)`` is a @ b.
    Letters in the output are kept, the others summed over; without "->" the output is
    the letters used once, in alphabetical order; "..." stands for the remaining dims
    (broadcast). Differentiable in every operand (``ops.Einsum``)."""
    if len(operands) == 1 and isinstance(operands[0], list | tuple):
        operands = tuple(operands[0])
    operands = _as_tensors(operands, "einsum")
    if len({t.dtype for t in operands}) > 1:
        common = np.result_type(*(t.dtype for t in operands))
        operands = [t.to(common) for t in operands]
    equation = equation.replace(" ", "")
    inputs, arrow, output = equation.partition("->")
    inputs = inputs.split(",")
    if len(inputs) != len(operands):
        raise RuntimeError(f"einsum(): the equation {equation!r} has {len(inputs)} operand "
                           f"subscripts, but {len(operands)} operands were given")
    if not arrow:  # implicit output: the letters used once, sorted (after the "...")
        letters = "".join(inputs).replace(".", "")
        output = ("..." if "..." in equation else "") + "".join(
            sorted(c for c in set(letters) if letters.count(c) == 1))
    # "..." becomes letters of its own, the same trailing ones for each operand
    explicit = [s.replace("...", "") for s in inputs]
    spare = [c for c in _LETTERS if c not in equation]
    spans = [t.ndim - len(s) if "..." in full else 0
             for t, s, full in zip(operands, explicit, inputs)]
    for t, s, full, span in zip(operands, explicit, inputs, spans):
        if len(s) + span != t.ndim or span < 0:
            raise RuntimeError(f"einsum(): the subscripts {full!r} do not fit an operand of "
                               f"shape {tuple(t.shape)}")
    widest = builtins.max(spans, default=0)
    ellipsis = "".join(spare[:widest])
    inputs = [full.replace("...", ellipsis[widest - span:])
              for full, span in zip(inputs, spans)]
    output = output.replace("...", ellipsis)
    subscripts = ",".join(inputs) + "->" + output
    try:
        return ops.Einsum.apply(*operands, subscripts=subscripts)
    except ValueError as error:
        raise RuntimeError(f"einsum(): {equation!r} on operands of shapes "
                           f"{[tuple(t.shape) for t in operands]}: {error}") from None


def tensordot(a: Tensor, b: Tensor, dims=2) -> Tensor:
    """The sum over ``dims`` pairs of dims: an int n pairs a's last n dims with b's first n;
    or two lists ``([a dims], [b dims])``. The other dims of a, then of b, remain."""
    if isinstance(dims, int | np.integer):
        dims_a, dims_b = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        dims_a, dims_b = ([d] if isinstance(d, int | np.integer) else list(d) for d in dims)
    dims_a = normalize_dims(dims_a, a.ndim, "tensordot") or ()
    dims_b = normalize_dims(dims_b, b.ndim, "tensordot") or ()
    if len(dims_a) != len(dims_b) or builtins.any(
            a.shape[i] != b.shape[j] for i, j in zip(dims_a, dims_b)):
        raise RuntimeError(f"tensordot: contracted dims {dims_a} of shape {tuple(a.shape)} and "
                           f"{dims_b} of shape {tuple(b.shape)} do not match")
    letters_a = list(_LETTERS[:a.ndim])
    letters_b = list(_LETTERS[a.ndim:a.ndim + b.ndim])
    for i, j in zip(dims_a, dims_b):
        letters_b[j] = letters_a[i]
    kept = [c for i, c in enumerate(letters_a) if i not in dims_a] + [
        c for j, c in enumerate(letters_b) if j not in dims_b]
    return einsum("".join(letters_a) + "," + "".join(letters_b) + "->" + "".join(kept), a, b)


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0) -> Tensor:
    """The p-norm distances between the rows of x1 (..., P, M) and of x2 (..., R, M), as a
    (..., P, R) tensor (batch dims broadcast)."""
    if x1.ndim < 2 or x2.ndim < 2 or x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"cdist: expected x1 (..., P, M) and x2 (..., R, M) with the same "
                           f"M, got shapes {tuple(x1.shape)} and {tuple(x2.shape)}")
    return (x1.unsqueeze(-2) - x2.unsqueeze(-3)).norm(p, dim=-1)


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

# More elementwise functions, and functions of two tensors
sign = _function_form("sign")
floor = _function_form("floor")
ceil = _function_form("ceil")
round = _function_form("round")
trunc = _function_form("trunc")
fix = _function_form("fix")
frac = _function_form("frac")
reciprocal = _function_form("reciprocal")
rsqrt = _function_form("rsqrt")
square = _function_form("square")
exp2 = _function_form("exp2")
expm1 = _function_form("expm1")
log2 = _function_form("log2")
log10 = _function_form("log10")
log1p = _function_form("log1p")
erfc = _function_form("erfc")
tan = _function_form("tan")
sinh = _function_form("sinh")
cosh = _function_form("cosh")
asin = _function_form("asin")
acos = _function_form("acos")
atan = _function_form("atan")
asinh = _function_form("asinh")
acosh = _function_form("acosh")
atanh = _function_form("atanh")
arcsin = _function_form("arcsin")
arccos = _function_form("arccos")
arctan = _function_form("arctan")
arcsinh = _function_form("arcsinh")
arccosh = _function_form("arccosh")
arctanh = _function_form("arctanh")
nan_to_num = _function_form("nan_to_num")
atan2 = _function_form("atan2")
arctan2 = _function_form("arctan2")
hypot = _function_form("hypot")
logaddexp = _function_form("logaddexp")
copysign = _function_form("copysign")
fmod = _function_form("fmod")
remainder = _function_form("remainder")
lerp = _function_form("lerp")
divide = _function_form("divide")
true_divide = _function_form("true_divide")
floor_divide = _function_form("floor_divide")

# Tests, logical and bitwise operations (boolean or integer results, no gradient)
isnan = _function_form("isnan")
isinf = _function_form("isinf")
isfinite = _function_form("isfinite")
isclose = _function_form("isclose")
logical_not = _function_form("logical_not")
logical_and = _function_form("logical_and")
logical_or = _function_form("logical_or")
logical_xor = _function_form("logical_xor")
bitwise_and = _function_form("bitwise_and")
bitwise_or = _function_form("bitwise_or")
bitwise_xor = _function_form("bitwise_xor")
bitwise_not = _function_form("bitwise_not")
bitwise_left_shift = _function_form("bitwise_left_shift")
bitwise_right_shift = _function_form("bitwise_right_shift")

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

# More reductions
prod = _function_form("prod")
cumsum = _function_form("cumsum")
cumprod = _function_form("cumprod")
cummax = _function_form("cummax")
cummin = _function_form("cummin")
logcumsumexp = _function_form("logcumsumexp")
amax = _function_form("amax")
amin = _function_form("amin")
aminmax = _function_form("aminmax")
count_nonzero = _function_form("count_nonzero")
dist = _function_form("dist")


def std_mean(input: Tensor, dim=None, *, correction: int = 1, keepdim: bool = False):
    """``(std, mean)`` over all or ``dim``, as ``torch.std_mean`` (both differentiable)."""
    input = input if isinstance(input, Tensor) else Tensor(input)
    return input.std(dim, keepdim, correction), input.mean(dim, keepdim)


def var_mean(input: Tensor, dim=None, *, correction: int = 1, keepdim: bool = False):
    """``(var, mean)`` over all or ``dim``, as ``torch.var_mean``."""
    input = input if isinstance(input, Tensor) else Tensor(input)
    return input.var(dim, keepdim, correction), input.mean(dim, keepdim)

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
view_as = _function_form("view_as")
chunk = _function_form("chunk")
split = _function_form("split")
unbind = _function_form("unbind")

# More shape and indexing ops
flip = _function_form("flip")
fliplr = _function_form("fliplr")
flipud = _function_form("flipud")
roll = _function_form("roll")
rot90 = _function_form("rot90")
tril = _function_form("tril")
triu = _function_form("triu")
diagonal = _function_form("diagonal")
diag = _function_form("diag")
trace = _function_form("trace")
repeat_interleave = _function_form("repeat_interleave")
tile = _function_form("tile")
movedim = _function_form("movedim")
moveaxis = _function_form("moveaxis")
swapaxes = _function_form("swapaxes")
swapdims = _function_form("swapdims")
narrow = _function_form("narrow")
index_select = _function_form("index_select")
gather = _function_form("gather")
scatter = _function_form("scatter")
scatter_add = _function_form("scatter_add")
masked_fill = _function_form("masked_fill")
masked_select = _function_form("masked_select")
nonzero = _function_form("nonzero")
outer = _function_form("outer")
ger = _function_form("ger")
unflatten = _function_form("unflatten")
take = _function_form("take")
index_add = _function_form("index_add")
scatter_reduce = _function_form("scatter_reduce")
cross = _function_form("cross")
kron = _function_form("kron")
kthvalue = _function_form("kthvalue")
mode = _function_form("mode")
unique = _function_form("unique")

# Linear algebra, sorting
mm = _function_form("mm")
bmm = _function_form("bmm")
dot = _function_form("dot")
t = _function_form("t")
norm = _function_form("norm")
sort = _function_form("sort")
argsort = _function_form("argsort")
topk = _function_form("topk")
median = _function_form("median")
all = _function_form("all")
any = _function_form("any")
numel = _function_form("numel")
is_floating_point = _function_form("is_floating_point")


# ---------------------------------------------------------------------------------------
# Grad modes by PyTorch's other names
# ---------------------------------------------------------------------------------------


class _LeaveGradMode(contextlib.ContextDecorator):
    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return False


def inference_mode(mode=True):
    """As ``torch.inference_mode``: ops inside record no graph, as under ``no_grad``
    (minigrad has no lighter mode to offer). ``inference_mode(False)`` changes nothing.
    A context manager or a decorator (``@mg.inference_mode()`` or ``@mg.inference_mode``)."""
    if callable(mode):
        return no_grad(mode)
    return no_grad() if mode else _LeaveGradMode()
