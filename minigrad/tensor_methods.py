"""Families of Tensor methods that PyTorch code reaches for, kept out of tensor.py so that
the core (data, graph, arithmetic, reductions) stays short. ``Tensor`` inherits them:

* ``ConversionMethods``: ``to(dtype|device|tensor)``, ``type``, ``float()``, ``cpu()``, ...
* ``InPlaceMethods``: ``zero_``, ``fill_``, ``add_(alpha=)``, ``copy_``, ``clamp_``,
  ``uniform_``, ``normal_``, ... under the same rules as ``+=`` (see ``Tensor._in_place``):
  each bumps the version counter; while the graph is recorded, a leaf that requires grad
  refuses, and any other tensor takes the op as its history.
* ``LinearAlgebraMethods``: ``t()``, ``mm``, ``bmm``, ``dot``, ``norm``.
* ``SortingMethods``: ``sort``, ``argsort``, ``topk``, ``median``, each ``(values, indices)``.
* ``SplittingMethods``: ``chunk``, ``split``, ``unbind``, ``view_as``, ``expand_as``, ...
* ``ElementwiseMethods``: rounding, ``reciprocal``, ``log1p``, ``tan``, ``asinh``, ...,
  ``atan2``, ``fmod``, ``div(rounding_mode=)``, ``//``, ``%``: ops of the sheet (ops.py).
* ``LogicalMethods``: ``isnan``, ``isclose``, ``logical_and``, ``& | ^ ~ << >>``, ...
* ``ReductionMethods``: ``prod``, ``cumsum``, ``cumprod``, ``cummax``, ``logcumsumexp``,
  ``amax``, ``aminmax``, ``count_nonzero``, ``dist``, ...
* ``ReshapingMethods``: ``flip``, ``roll``, ``tril``, ``diagonal``, ``repeat``, ``gather``,
  ``scatter``, ``masked_fill``, ``nonzero``, ``outer``, ...

They build on the core ops (indexing, matmul, ...), so their gradients come with them.
"""

from __future__ import annotations

import math
from collections import namedtuple
from typing import Any

import numpy as np

from minigrad import device as devices
from minigrad import dtypes, return_types, rng
from minigrad.grad_mode import no_grad


class ConversionMethods:
    __slots__ = ()

    def to(self, *args, dtype: Any = None, device: Any = None, copy: bool = False,
           non_blocking: bool = False):
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other_tensor)`` (its
        dtype), as in PyTorch: the same tensor when nothing changes (unless ``copy``), else
        a converted copy that keeps the graph."""
        dtype = to_arguments(args, dtype, device, "to")
        if dtype is None or dtype == self.dtype:
            return self.clone() if copy else self
        return _tensor_module.ops.Cast.apply(self, dtype)

    def type(self, dtype: Any = None):
        """``t.type()`` is PyTorch's type string (``'torch.FloatTensor'``); ``t.type(dtype)``
        converts, as ``to(dtype)``."""
        if dtype is None:
            return dtypes.type_name(self.dtype)
        return self.to(dtype)

    def float(self):
        return self.to(dtypes.float32)

    def double(self):
        return self.to(dtypes.float64)

    def half(self):
        return self.to(dtypes.float16)  # refused, with the reason

    def long(self):
        return self.to(dtypes.int64)

    def int(self):
        return self.to(dtypes.int32)

    def bool(self):
        return self.to(dtypes.bool_)

    def cpu(self):
        return self

    def cuda(self, device: Any = None):
        devices.check_device("cuda" if device is None else device, "cuda")

    @property
    def is_cuda(self) -> bool:
        return False

    def is_floating_point(self) -> bool:
        return self.array.dtype.kind == "f"

    def contiguous(self):
        """The same tensor: minigrad's ops accept any memory layout."""
        return self

    def is_contiguous(self) -> bool:
        return bool(self.array.flags.c_contiguous)

    def element_size(self) -> int:
        return self.array.itemsize


def to_arguments(args: tuple, dtype: Any, device: Any, op: str):
    """The dtype asked for by the arguments of ``to`` (``Tensor.to``, ``Module.to``): any
    of a dtype, a device (the CPU only, else a RuntimeError) and a tensor (its dtype), as
    positional arguments or ``dtype=``/``device=``. None when no dtype is asked for."""
    for arg in args:
        if isinstance(arg, _tensor_module.Tensor):
            dtype = arg.dtype
        elif isinstance(arg, devices.device | int) and not isinstance(arg, bool):
            device = arg
        elif isinstance(arg, str) and arg.partition(":")[0] in devices.KNOWN_TYPES:
            device = arg
        else:
            dtype = arg
    devices.check_device(device, op)
    return None if dtype is None else dtypes.as_dtype(dtype, op)


class InPlaceMethods:
    __slots__ = ()

    def add_(self, other, *, alpha=1):
        """``self += alpha * other``, in place."""
        return self._in_place(_scaled(other, alpha), np.add, _tensor_module.Tensor.__add__,
                              needs_old_value=False)

    def sub_(self, other, *, alpha=1):
        """``self -= alpha * other``, in place."""
        return self._in_place(_scaled(other, alpha), np.subtract,
                              _tensor_module.Tensor.__sub__, needs_old_value=False)

    def mul_(self, other):
        return self._in_place(other, np.multiply, _tensor_module.Tensor.__mul__,
                              needs_old_value=True)

    def div_(self, other):
        return self._in_place(other, np.true_divide, _tensor_module.Tensor.__truediv__,
                              needs_old_value=True)

    def clamp_(self, min=None, max=None):  # noqa: A002 - PyTorch's names
        if min is None and max is None:
            raise ValueError("clamp_: at least one of min and max must be given")
        return self._overwrite(lambda old: old.clamp(min, max), "clamp_")

    clip_ = clamp_

    def zero_(self):
        """Set every element to 0, in place (``p.grad.zero_()``)."""
        return self.fill_(0)

    def fill_(self, value):
        """Set every element to ``value`` (a number or a one-element tensor), in place."""
        Tensor = _tensor_module.Tensor
        if isinstance(value, Tensor) and value.array.size != 1:
            raise RuntimeError(f"fill_ only supports a 0-dimension value tensor, but got "
                               f"one of shape {value.shape}")
        return self._overwrite(lambda old: _constant_like(old, value), "fill_", value)

    def copy_(self, src, non_blocking: bool = False):
        """Write ``src`` (broadcast to this shape, cast to this dtype) into this tensor."""
        Tensor = _tensor_module.Tensor
        src = src if isinstance(src, Tensor) else Tensor(src)
        return self._overwrite(lambda old: _constant_like(old, src), "copy_", src)

    def uniform_(self, a: float = 0.0, b: float = 1.0):
        """Fill with numbers drawn uniformly from [a, b), from minigrad's seeded generator."""
        values = rng.generator().uniform(a, b, self.shape)
        return self._overwrite(lambda old: _constant_like(old, values), "uniform_")

    def normal_(self, mean: float = 0.0, std: float = 1.0):
        """Fill with normal numbers of this mean and std, from minigrad's seeded generator."""
        values = rng.generator().normal(mean, std, self.shape)
        return self._overwrite(lambda old: _constant_like(old, values), "normal_")

    def _overwrite(self, compute, op: str, other=None):
        """Replace this tensor's values by ``compute(self)``, in place, under the rules of
        ``+=`` (see ``Tensor._in_place``)."""
        if not self._records_in_place(other):
            with no_grad():
                result = compute(self)
            _check_fits(self, result, op)
            self.array[...] = result.array
            self.bump_version()
            return self
        self._refuse_leaf_in_place(op)
        old = _tensor_module.Tensor.wrap(self.array.copy(), self._requires_grad)
        old.grad_fn = self.grad_fn
        self._assign_in_place(compute(old), op)
        return self


def _scaled(other, alpha):
    return other if alpha == 1 else other * alpha


def _constant_like(old, value):
    """``value`` broadcast to ``old``'s shape and dtype, as the result of an op on ``old``
    whose gradient to ``old`` is zero (``fill_``, ``copy_``): ``where(False, old, value)``."""
    Tensor = _tensor_module.Tensor
    value = value if isinstance(value, Tensor) else Tensor.wrap(np.asarray(value))
    if value.dtype != old.dtype:
        value = value.to(old.dtype) if value.requires_grad else Tensor.wrap(
            value.array.astype(old.dtype))
    return _tensor_module.where(np.zeros(old.shape, dtype=bool), old, value)


def _check_fits(t, result, op: str) -> None:
    if result.shape != t.shape:
        raise RuntimeError(f"{op}: a value of shape {result.shape} cannot be written into a "
                           f"tensor of shape {t.shape}")


class LinearAlgebraMethods:
    __slots__ = ()

    def t(self):
        """The transpose of a matrix (a tensor of at most 2 dims, as ``torch.t``)."""
        if self.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                               f"{self.ndim}D (shape {self.shape}); use transpose(dim0, dim1)")
        return self.transpose(0, 1) if self.ndim == 2 else self

    def mm(self, mat2):
        """Matrix product of two matrices (2-D only, as ``torch.mm``)."""
        _expect_dims(self, mat2, 2, "mm")
        return self @ mat2

    def bmm(self, mat2):
        """Batched matrix product of two 3-D tensors (as ``torch.bmm``)."""
        _expect_dims(self, mat2, 3, "bmm")
        if self.shape[0] != mat2.shape[0]:
            raise _shape_error(f"bmm: batch sizes differ: {self.shape} and {mat2.shape}")
        return self @ mat2

    def dot(self, other):
        """Dot product of two 1-D tensors of one length (as ``torch.dot``)."""
        _expect_dims(self, other, 1, "dot")
        return self @ other

    def norm(self, p="fro", dim=None, keepdim: bool = False, dtype: Any = None):
        """The p-norm over all elements or ``dim``: ``p`` = 'fro' (2), any p > 0, ``inf``
        (largest |x|) or ``-inf`` (smallest). Its gradient at a zero norm is 0, as PyTorch's."""
        t = self if dtype is None else self.to(dtype)
        t = t._float()
        if p == "fro" or p is None:
            p = 2
        if isinstance(p, str) or not (p > 0 or p == -math.inf):
            raise ValueError(f"norm: p must be 'fro', a number > 0, inf or -inf; got {p!r}")
        dims = _tensor_module.reduction_dims(dim, t.ndim, "norm")
        return _tensor_module.ops.Norm.apply(t, float(p), dims, keepdim)


def _expect_dims(a, b, ndim: int, op: str) -> None:
    Tensor = _tensor_module.Tensor
    if not isinstance(b, Tensor):
        raise TypeError(f"{op}(): argument must be a Tensor, got {type(b).__name__}")
    if a.ndim != ndim or b.ndim != ndim:
        raise RuntimeError(f"{op}: expected {ndim}-D tensors, got shapes {a.shape} and "
                           f"{b.shape}")


def _shape_error(message: str):
    return _tensor_module.engine.ShapeError(message)


class SortingMethods:
    __slots__ = ()

    def sort(self, dim: int = -1, descending: bool = False, stable: bool = False):
        """``(values, indices)`` sorted along ``dim`` (equal elements keep their order).
        The gradient of ``values`` goes back to where each value came from."""
        order = _order(self, dim, descending, "sort")
        return return_types.sort(_take_along(self, order, dim), _tensor_module.Tensor.wrap(order))

    def argsort(self, dim: int = -1, descending: bool = False, stable: bool = False):
        return _tensor_module.Tensor.wrap(_order(self, dim, descending, "argsort"))

    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):  # noqa: A002
        """The ``k`` largest (or smallest) elements along ``dim``, as ``(values, indices)``."""
        (axis,) = _tensor_module.normalize_dims(dim, self.ndim, "topk")
        size = self.shape[axis] if self.ndim else 1
        if not isinstance(k, int) or not 0 <= k <= size:
            raise RuntimeError(f"topk: k ({k!r}) must be between 0 and the size {size} of "
                               f"dim {dim} (shape {self.shape})")
        order = _order(self, dim, largest, "topk")
        order = order[(slice(None),) * axis + (slice(0, k),)] if self.ndim else order
        return return_types.topk(_take_along(self, order, dim), _tensor_module.Tensor.wrap(order))

    def median(self, dim=None, keepdim: bool = False):
        """The median (the lower of the two middle values for an even count, as PyTorch);
        along ``dim``, ``(values, indices)``. Its gradient goes to that element."""
        Tensor = _tensor_module.Tensor
        if dim is None:
            if self.array.size == 0:
                return Tensor.wrap(np.asarray(np.nan, dtype=self.dtype))
            flat = self.reshape(-1)
            return flat[int(_order(flat, 0, False, "median")[(flat.shape[0] - 1) // 2])]
        (axis,) = _tensor_module.normalize_dims(dim, self.ndim, "median")
        if self.ndim == 0:
            return return_types.median(self, Tensor.wrap(np.asarray(0, dtype=np.int64)))
        if self.shape[axis] == 0:
            raise IndexError(f"median(): Expected reduction dim {axis} to have non-zero size "
                             f"(shape {self.shape})")
        middle = (self.shape[axis] - 1) // 2
        order = _order(self, axis, False, "median")
        order = np.take(order, [middle], axis=axis)
        return _selected(self, order, axis, keepdim, return_types.median)

    def kthvalue(self, k: int, dim: int = -1, keepdim: bool = False):
        """The k-th smallest element along ``dim`` (k from 1), as ``(values, indices)``;
        its gradient goes to that element."""
        (axis,) = _tensor_module.normalize_dims(dim, self.ndim, "kthvalue")
        size = self.shape[axis] if self.ndim else 1
        if not isinstance(k, int | np.integer) or not 1 <= k <= size:
            raise IndexError(f"kthvalue(): k ({k!r}) must be between 1 and the size {size} of "
                             f"dim {dim} (shape {self.shape})")
        if self.ndim == 0:
            return return_types.kthvalue(self, _tensor_module.Tensor.wrap(np.asarray(0)))
        order = np.take(_order(self, axis, False, "kthvalue"), [k - 1], axis=axis)
        return _selected(self, order, axis, keepdim, return_types.kthvalue)

    def mode(self, dim: int = -1, keepdim: bool = False):
        """The most frequent value along ``dim`` (the smallest of equally frequent ones) and
        the index of its last occurrence, as ``(values, indices)``, as PyTorch's; its
        gradient goes to that element."""
        (axis,) = _tensor_module.normalize_dims(dim, self.ndim, "mode")
        if self.ndim == 0:
            return return_types.mode(self, _tensor_module.Tensor.wrap(np.asarray(0)))
        rows = np.moveaxis(self.array, axis, -1)
        found = np.empty(rows.shape[:-1] + (1,), dtype=np.int64)
        for position in np.ndindex(rows.shape[:-1]):
            row = rows[position]
            values, counts = np.unique(row, return_counts=True)
            most = values[np.argmax(counts)]  # the first of the largest counts: the smallest
            found[position] = np.flatnonzero(row == most)[-1]
        order = np.moveaxis(found, -1, axis)
        return _selected(self, order, axis, keepdim, return_types.mode)

    def unique(self, sorted: bool = True, return_inverse: bool = False,  # noqa: A002
               return_counts: bool = False, dim=None):
        """The distinct elements (or slices along ``dim``), sorted; with ``return_inverse``
        also where each element went, with ``return_counts`` how often each occurs. Not
        differentiable (as PyTorch's)."""
        Tensor = _tensor_module.Tensor
        if dim is None:
            values, inverse, counts = np.unique(self.array, return_inverse=True,
                                                return_counts=True)
            inverse = inverse.reshape(self.shape)
        else:
            (axis,) = _tensor_module.normalize_dims(dim, self.ndim, "unique")
            values, inverse, counts = np.unique(self.array, return_inverse=True,
                                                return_counts=True, axis=axis)
            inverse = inverse.reshape(-1)
        out = [Tensor.wrap(values)]
        if return_inverse:
            out.append(Tensor.wrap(inverse.astype(np.int64)))
        if return_counts:
            out.append(Tensor.wrap(counts.astype(np.int64)))
        return out[0] if len(out) == 1 else tuple(out)


def _selected(t, order: np.ndarray, axis: int, keepdim: bool, result_type):
    """``(values, indices)`` of the elements at ``order`` (size 1 along ``axis``)."""
    values = _take_along(t, order, axis)
    if not keepdim:
        values, order = values.squeeze(axis), order.squeeze(axis)
    return result_type(values, _tensor_module.Tensor.wrap(order))


def _order(t, dim, descending: bool, op: str) -> np.ndarray:
    """The int64 indices that sort ``t`` along ``dim`` (stable: ties keep their order)."""
    (axis,) = _tensor_module.normalize_dims(dim, t.ndim, op)
    if t.ndim == 0:
        return np.zeros((), dtype=np.int64)
    data = t.array
    if descending:  # sort the negated values, so that ties still keep their order
        data = -data.astype(np.int64) if data.dtype.kind in "ub" else -data
    return np.argsort(data, axis=axis, kind="stable").astype(np.int64)


def _take_along(t, indices: np.ndarray, dim):
    """``t``'s elements at ``indices`` along ``dim``, through indexing (so its gradient
    scatters back, and is differentiable again)."""
    if t.ndim == 0:
        return t
    (axis,) = _tensor_module.normalize_dims(dim, t.ndim, "take_along_dim")
    key = list(np.indices(indices.shape, sparse=True))
    key[axis] = indices
    return t[tuple(key)]


class SplittingMethods:
    __slots__ = ()

    def view_as(self, other):
        return self.reshape(other.shape)

    def reshape_as(self, other):
        return self.reshape(other.shape)

    def expand_as(self, other):
        return self.expand(other.shape)

    def split(self, split_size_or_sections, dim: int = 0):
        """Pieces along ``dim``: of ``split_size`` each (the last may be smaller), or of the
        listed sizes (which must add up to the dim's size)."""
        (axis,) = _tensor_module.normalize_dims(dim, self.ndim, "split")
        length = self.shape[axis]
        if isinstance(split_size_or_sections, int):
            size = split_size_or_sections
            if size <= 0:
                raise RuntimeError(f"split: split_size must be positive, got {size}")
            sizes = [min(size, length - start) for start in range(0, length, size)] or [0]
        else:
            sizes = [int(n) for n in split_size_or_sections]
            if sum(sizes) != length or any(n < 0 for n in sizes):
                raise RuntimeError(f"split: sizes {sizes} do not add up to the size {length} "
                                   f"of dim {dim} (shape {self.shape})")
        pieces, start = [], 0
        for n in sizes:
            pieces.append(self[(slice(None),) * axis + (slice(start, start + n),)])
            start += n
        return tuple(pieces)

    def chunk(self, chunks: int, dim: int = 0):
        """At most ``chunks`` pieces of equal size along ``dim`` (the last may be smaller)."""
        if not isinstance(chunks, int) or chunks <= 0:
            raise RuntimeError(f"chunk: chunks must be a positive integer, got {chunks!r}")
        (axis,) = _tensor_module.normalize_dims(dim, self.ndim, "chunk")
        return self.split(max(1, -(-self.shape[axis] // chunks)), axis)

    def unbind(self, dim: int = 0):
        """The slices along ``dim``, each without that dim."""
        (axis,) = _tensor_module.normalize_dims(dim, self.ndim, "unbind")
        return tuple(self[(slice(None),) * axis + (i,)] for i in range(self.shape[axis]))


class ElementwiseMethods:
    """The elementwise functions beyond the core ones: rounding, powers, exponentials and
    logarithms, trigonometric and hyperbolic functions, and functions of two tensors.
    Their derivatives are on the sheet (ops.py); the float functions of an integer tensor
    compute in the default float dtype, as PyTorch."""

    __slots__ = ()

    # -- rounding: piecewise constant, gradient 0 (an integer tensor is already round) ---

    def _rounded(self, rounding, decimals=None):
        if self.array.dtype.kind in "iub":
            return _tensor_module.Tensor.wrap(self.array.copy())
        return _ops().Rounding.apply(self, rounding, decimals)

    def sign(self):
        """-1, 0 or 1 by the sign of each element (0 for 0, and for NaN as PyTorch)."""
        if self.array.dtype.kind in "iu":
            return _tensor_module.Tensor.wrap(np.sign(self.array))
        return self._rounded(_sign)

    def floor(self):
        return self._rounded(np.floor)

    def ceil(self):
        return self._rounded(np.ceil)

    def round(self, *, decimals: int = 0):
        """Round half to even (as PyTorch and NumPy: 2.5 → 2), to ``decimals`` places."""
        return self._rounded(np.round, decimals if decimals else None)

    def trunc(self):
        """Round toward zero."""
        return self._rounded(np.trunc)

    fix = trunc

    def frac(self):
        """x - trunc(x): the fractional part, with the sign of x. Its gradient is 1."""
        return self - self.trunc()

    # -- powers, exponentials and logarithms ------------------------------------------------

    def reciprocal(self):
        return _ops().Reciprocal.apply(self._float())

    def rsqrt(self):
        return _ops().Rsqrt.apply(self._float())

    def square(self):
        return self * self

    def exp2(self):
        return _ops().Exp2.apply(self._float())

    def expm1(self):
        return _ops().Expm1.apply(self._float())

    def log2(self):
        return _ops().Log2.apply(self._float())

    def log10(self):
        return _ops().Log10.apply(self._float())

    def log1p(self):
        return _ops().Log1p.apply(self._float())

    def erfc(self):
        return _ops().Erfc.apply(self._float())

    # -- trigonometric and hyperbolic functions, and their inverses -------------------------

    def tan(self):
        return _ops().Tan.apply(self._float())

    def sinh(self):
        return _ops().Sinh.apply(self._float())

    def cosh(self):
        return _ops().Cosh.apply(self._float())

    def asin(self):
        return _ops().Asin.apply(self._float())

    def acos(self):
        return _ops().Acos.apply(self._float())

    def atan(self):
        return _ops().Atan.apply(self._float())

    def asinh(self):
        return _ops().Asinh.apply(self._float())

    def acosh(self):
        return _ops().Acosh.apply(self._float())

    def atanh(self):
        return _ops().Atanh.apply(self._float())

    arcsin, arccos, arctan = asin, acos, atan
    arcsinh, arccosh, arctanh = asinh, acosh, atanh

    def nan_to_num(self, nan: float = 0.0, posinf: float | None = None,
                   neginf: float | None = None):
        """NaN, +inf and -inf replaced by ``nan``, ``posinf`` and ``neginf`` (by default 0,
        and the largest and smallest finite numbers of the dtype). The gradient of a
        replaced element is 0."""
        if self.array.dtype.kind != "f":
            return _tensor_module.Tensor.wrap(self.array.copy())
        return _ops().NanToNum.apply(self, nan, posinf, neginf)

    # -- functions of two tensors (broadcast, promoted as the arithmetic operators) --------

    def _binary(self, op, other):
        a, b = _tensor_module.promote_operands(self, other)
        if a.array.dtype.kind != "f" and b.array.dtype.kind != "f":
            a, b = a._float(), b._float()
        return op.apply(a, b)

    def atan2(self, other):
        """The angle of the point (other, self), in (-π, π]."""
        return self._binary(_ops().Atan2, other)

    arctan2 = atan2

    def hypot(self, other):
        """√(self² + other²), without overflow or underflow on the way."""
        return self._binary(_ops().Hypot, other)

    def logaddexp(self, other):
        """ln(eˢᵉˡᶠ + eᵒᵗʰᵉʳ), without overflow."""
        return self._binary(_ops().LogAddExp, other)

    def copysign(self, other):
        """|self| with the sign of ``other`` (of -0.0 too)."""
        return self._binary(_ops().Copysign, other)

    def fmod(self, other):
        """The remainder of self / other with the sign of self (C's ``fmod``)."""
        return _ops().Fmod.apply(*_tensor_module.promote_operands(self, other))

    def remainder(self, other):
        """The remainder of self / other with the sign of ``other`` (Python's ``%``)."""
        return _ops().Remainder.apply(*_tensor_module.promote_operands(self, other))

    def lerp(self, end, weight):
        """self + weight·(end - self): linear interpolation, differentiable in all three."""
        return self + weight * (end - self)

    def div(self, other, *, rounding_mode: str | None = None):
        """``self / other``; ``rounding_mode='trunc'`` rounds the quotient toward zero,
        ``'floor'`` down (as ``//``), keeping integer dtypes. A rounded quotient is
        piecewise constant: its gradient is 0."""
        if rounding_mode is None:
            return self / other
        if rounding_mode not in ("trunc", "floor"):
            raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or "
                             f"'floor' but found {rounding_mode!r}")
        return _ops().RoundedDivide.apply(*_tensor_module.promote_operands(self, other),
                                          rounding_mode)

    divide = true_divide = div

    def floor_divide(self, other):
        return self.div(other, rounding_mode="floor")

    def __floordiv__(self, other):
        return self.div(other, rounding_mode="floor")

    def __rfloordiv__(self, other):
        a, b = _tensor_module.promote_operands(self, other)
        return b.div(a, rounding_mode="floor")

    def __mod__(self, other):
        return self.remainder(other)

    def __rmod__(self, other):
        a, b = _tensor_module.promote_operands(self, other)
        return b.remainder(a)


def _ops():
    return _tensor_module.ops


def _sign(x: np.ndarray) -> np.ndarray:
    """np.sign, but 0 at NaN, as torch.sign."""
    return np.where(np.isnan(x), 0, np.sign(x)).astype(x.dtype, copy=False)


class LogicalMethods:
    """Tests of each element (``isnan``, ``isclose``, ...), logical and bitwise operations:
    boolean or integer tensors, never differentiable."""

    __slots__ = ()

    def _wrap(self, array):
        return _tensor_module.Tensor.wrap(np.asarray(array))

    def isnan(self):
        return self._wrap(np.isnan(self.array))

    def isinf(self):
        return self._wrap(np.isinf(self.array))

    def isfinite(self):
        return self._wrap(np.isfinite(self.array))

    def isclose(self, other, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False):
        """Whether |self - other| ≤ atol + rtol·|other|, elementwise (broadcast)."""
        other = other.array if isinstance(other, _tensor_module.Tensor) else other
        return self._wrap(np.isclose(self.array, other, rtol, atol, equal_nan))

    def _logical(self, ufunc, other):
        other = other.array if isinstance(other, _tensor_module.Tensor) else other
        return self._wrap(ufunc(self.array, other))

    def logical_not(self):
        return self._wrap(np.logical_not(self.array))

    def logical_and(self, other):
        return self._logical(np.logical_and, other)

    def logical_or(self, other):
        return self._logical(np.logical_or, other)

    def logical_xor(self, other):
        return self._logical(np.logical_xor, other)

    # -- bitwise: integer and boolean tensors, as PyTorch (on booleans they are logical) -----

    def _bitwise(self, ufunc, other, op: str, reflected: bool = False):
        a, b = _tensor_module.promote_operands(self, other)
        for t in (a, b):
            if t.array.dtype.kind not in "iub":
                raise TypeError(f"{op}: only integer and boolean tensors, got dtype "
                                f"{t.dtype}")
        a, b = (b, a) if reflected else (a, b)
        return self._wrap(ufunc(a.array, b.array))

    def bitwise_and(self, other):
        return self._bitwise(np.bitwise_and, other, "bitwise_and (&)")

    def bitwise_or(self, other):
        return self._bitwise(np.bitwise_or, other, "bitwise_or (|)")

    def bitwise_xor(self, other):
        return self._bitwise(np.bitwise_xor, other, "bitwise_xor (^)")

    def bitwise_left_shift(self, other):
        return self._bitwise(np.left_shift, other, "bitwise_left_shift (<<)")

    def bitwise_right_shift(self, other):
        return self._bitwise(np.right_shift, other, "bitwise_right_shift (>>)")

    def bitwise_not(self):
        if self.array.dtype.kind not in "iub":
            raise TypeError(f"bitwise_not (~): only integer and boolean tensors, got dtype "
                            f"{self.dtype}")
        return self._wrap(np.invert(self.array))

    __and__, __or__, __xor__ = bitwise_and, bitwise_or, bitwise_xor
    __lshift__, __rshift__, __invert__ = bitwise_left_shift, bitwise_right_shift, bitwise_not

    def __rand__(self, other):
        return self._bitwise(np.bitwise_and, other, "bitwise_and (&)", reflected=True)

    def __ror__(self, other):
        return self._bitwise(np.bitwise_or, other, "bitwise_or (|)", reflected=True)

    def __rxor__(self, other):
        return self._bitwise(np.bitwise_xor, other, "bitwise_xor (^)", reflected=True)

    def __rlshift__(self, other):
        return self._bitwise(np.left_shift, other, "bitwise_left_shift (<<)", reflected=True)

    def __rrshift__(self, other):
        return self._bitwise(np.right_shift, other, "bitwise_right_shift (>>)", reflected=True)


class ReductionMethods:
    """Reductions beyond the core ones: ``prod``, the cumulative ``cumsum``, ``cumprod``,
    ``cummax``, ``cummin``, ``logcumsumexp``, and ``amax``, ``amin``, ``aminmax``,
    ``count_nonzero``, ``dist``."""

    __slots__ = ()

    def prod(self, dim=None, keepdim: bool = False, *, dtype=None):
        """The product of all elements, or along one ``dim``. Its gradient is exact also
        with zeros (the product of the other elements)."""
        t = self if dtype is None else self.to(dtype)
        if t.array.dtype.kind in "bu" or t.array.dtype.kind == "i" and t.array.itemsize < 8:
            t = t.long()  # as PyTorch: the product of integers is int64
        if dim is not None and not isinstance(dim, int | np.integer):
            raise TypeError(f"prod(): argument 'dim' must be an int, got {dim!r}")
        axis = _one_dim(t, dim, "prod")
        return _ops().Prod.apply(t, axis, keepdim and t.ndim > 0)

    def _cumulative(self, op, dim, dtype, name: str):
        t = self if dtype is None else self.to(dtype)
        if t.array.dtype.kind in "bui" and name in ("cumsum", "cumprod"):
            t = t.long()  # as PyTorch: cumulative sums and products of integers are int64
        axis = _one_dim(t, dim, name)
        if t.ndim == 0:
            return op.apply(t.reshape(1), 0).reshape(())
        return op.apply(t, axis)

    def cumsum(self, dim: int, *, dtype=None):
        """outⱼ = x₀ + ... + xⱼ along ``dim``."""
        return self._cumulative(_ops().CumSum, dim, dtype, "cumsum")

    def cumprod(self, dim: int, *, dtype=None):
        """outⱼ = x₀ · ... · xⱼ along ``dim`` (its gradient exact also with zeros)."""
        return self._cumulative(_ops().CumProd, dim, dtype, "cumprod")

    def logcumsumexp(self, dim: int):
        """outⱼ = ln(e^x₀ + ... + e^xⱼ) along ``dim``, without overflow."""
        return self._float()._cumulative(_ops().LogCumSumExp, dim, None, "logcumsumexp")

    def cummax(self, dim: int):
        """The running maximum along ``dim`` and where it is, as ``(values, indices)``
        (a tie moves the index to the later element, and NaN, once met, stays, as
        PyTorch). The gradient of ``values`` goes to the elements ``indices`` name."""
        return _running_extreme(self, dim, np.greater_equal, _CUMMAX, "cummax")

    def cummin(self, dim: int):
        """The running minimum along ``dim`` and where it is, as ``(values, indices)``."""
        return _running_extreme(self, dim, np.less_equal, _CUMMIN, "cummin")

    def amax(self, dim=(), keepdim: bool = False):
        """The largest value over ``dim`` (an int or a tuple; () for all). The gradient is
        shared evenly between equal maxima, as PyTorch's (``max(dim)`` gives it to one)."""
        dims = _tensor_module.reduction_dims(dim if dim != () else None, self.ndim, "amax")
        return _ops().Max.apply(self, dims, keepdim, False)

    def amin(self, dim=(), keepdim: bool = False):
        """The smallest value over ``dim`` (see ``amax``)."""
        dims = _tensor_module.reduction_dims(dim if dim != () else None, self.ndim, "amin")
        return _ops().Min.apply(self, dims, keepdim, False)

    def aminmax(self, *, dim=None, keepdim: bool = False):
        """``(min, max)`` over all or along one ``dim``, as a named tuple."""
        if dim is not None and not isinstance(dim, int | np.integer):
            raise TypeError(f"aminmax(): argument 'dim' must be an int, got {dim!r}")
        dim = () if dim is None else dim
        return _AMINMAX(self.amin(dim, keepdim), self.amax(dim, keepdim))

    def count_nonzero(self, dim=None):
        """How many elements are not zero, over all or ``dim`` (an int or a tuple): int64."""
        dims = _tensor_module.reduction_dims(dim, self.ndim, "count_nonzero")
        count = np.count_nonzero(self.array, axis=dims)
        return _tensor_module.Tensor.wrap(np.asarray(count, dtype=np.int64))

    def dist(self, other, p: float = 2):
        """The p-norm of self - other (broadcast)."""
        return (self - other).norm(p)


def _one_dim(t, dim, op: str) -> int | None:
    """``dim`` (one dim or None) as a non-negative dim; None on a 0-d tensor."""
    dims = _tensor_module.reduction_dims(dim, t.ndim, op)
    return None if dims is None else dims[0]


_CUMMAX = return_types._values_and_indices("cummax")
_CUMMIN = return_types._values_and_indices("cummin")
_AMINMAX = namedtuple("aminmax", ["min", "max"])


def _running_extreme(t, dim, replaces, result_type, op: str):
    """cummax/cummin: the indices found by a walk along ``dim`` (an element replaces the
    running extreme when ``replaces(element, extreme)`` or it is NaN), values gathered by
    indexing so that their gradient flows back."""
    Tensor = _tensor_module.Tensor
    if dim is None:
        raise TypeError(f"{op}() missing required argument 'dim'")
    (axis,) = _tensor_module.normalize_dims(dim, t.ndim, op)
    if t.ndim == 0:
        return result_type(t.clone(), Tensor.wrap(np.zeros((), dtype=np.int64)))
    data = np.moveaxis(t.array, axis, 0)
    indices = np.zeros(data.shape, dtype=np.int64)
    if data.shape[0]:
        best, best_index = data[0].copy(), np.zeros(data.shape[1:], dtype=np.int64)
        for j in range(data.shape[0]):
            with np.errstate(invalid="ignore"):
                take = replaces(data[j], best) | np.isnan(data[j])
            take &= ~(np.isnan(best) & ~np.isnan(data[j]))  # a NaN met stays the extreme
            best = np.where(take, data[j], best)
            best_index = np.where(take, j, best_index)
            indices[j] = best_index
    indices = np.moveaxis(indices, 0, axis)
    return result_type(_take_along(t, indices, axis), Tensor.wrap(indices))


class ReshapingMethods:
    """Shape and indexing ops PyTorch code reaches for (``flip``, ``roll``, ``tril``,
    ``diagonal``, ``repeat``, ``gather``, ``scatter``, ``masked_fill``, ...), each a
    composition of indexing, ``where``, ``permute`` and ``expand``, so their gradients
    come with them (indexing's scatters back, adding up repeated positions)."""

    __slots__ = ()

    def _dims(self, dims, op: str) -> tuple[int, ...]:
        return _tensor_module.normalize_dims(dims, self.ndim, op) or ()

    def flip(self, *dims):
        """The elements in reverse order along each of ``dims``."""
        dims = self._dims(_tensor_module.shape_from_args(dims, "flip", "dims"), "flip")
        key = [slice(None)] * self.ndim
        for d in dims:
            key[d] = slice(None, None, -1)
        return self[tuple(key)] if dims else self.clone()

    def fliplr(self):
        return self.flip(1)

    def flipud(self):
        return self.flip(0)

    def roll(self, shifts, dims=None):
        """Elements shifted by ``shifts`` along ``dims``, those pushed off the end coming
        back at the start (over the flattened tensor when ``dims`` is None)."""
        if dims is None:
            return self.flatten().roll(shifts, 0).reshape(self.shape)
        shifts = (shifts,) if isinstance(shifts, int | np.integer) else tuple(shifts)
        dims = (dims,) if isinstance(dims, int | np.integer) else tuple(dims)
        if len(shifts) != len(dims):
            raise RuntimeError(f"roll: shifts {shifts} and dims {dims} must have the same "
                               "length")
        out = self
        for shift, d in zip(shifts, self._dims(dims, "roll")):
            n = self.shape[d]
            if n:
                source = (np.arange(n) - shift) % n
                out = out[(slice(None),) * d + (source,)]
        return out

    def rot90(self, k: int = 1, dims=(0, 1)):
        """Rotated by 90° k times, from the first of ``dims`` toward the second."""
        d0, d1 = self._dims(dims, "rot90") if len(dims) == 2 else (None, None)
        if d0 is None or d0 == d1:
            raise RuntimeError(f"rot90: expected two different dims, got {dims}")
        k %= 4
        if k == 1:
            return self.flip(d1).transpose(d0, d1)
        if k == 2:
            return self.flip(d0, d1)
        if k == 3:
            return self.transpose(d0, d1).flip(d1)
        return self.clone()

    def _triangle(self, diagonal: int, lower: bool, op: str):
        if self.ndim < 2:
            raise RuntimeError(f"{op}: input tensor must have at least 2 dimensions (shape "
                               f"{self.shape})")
        rows, cols = self.shape[-2:]
        mask = np.tri(rows, cols, diagonal, dtype=bool)
        if not lower:
            mask = ~np.tri(rows, cols, diagonal - 1, dtype=bool)
        return _tensor_module.where(mask, self, np.zeros((), self.dtype))

    def tril(self, diagonal: int = 0):
        """The lower triangle (on and below the ``diagonal``-th diagonal); zeros above."""
        return self._triangle(diagonal, True, "tril")

    def triu(self, diagonal: int = 0):
        """The upper triangle (on and above the ``diagonal``-th diagonal); zeros below."""
        return self._triangle(diagonal, False, "triu")

    def diagonal(self, offset: int = 0, dim1: int = 0, dim2: int = 1):
        """The diagonal of the (dim1, dim2) planes, as the last dim (``offset`` > 0 above the
        main diagonal, < 0 below)."""
        d1, d2 = self._dims((dim1, dim2), "diagonal")
        rest = [d for d in range(self.ndim) if d not in (d1, d2)]
        planes = self.permute(*rest, d1, d2)
        rows, cols = planes.shape[-2:]
        start_row, start_col = max(-offset, 0), max(offset, 0)
        length = max(min(rows - start_row, cols - start_col), 0)
        steps = np.arange(length)
        return planes[..., start_row + steps, start_col + steps]

    def diag(self, diagonal: int = 0):
        """Of a 1-D tensor, the square matrix with it on the ``diagonal``-th diagonal; of a
        2-D tensor, that diagonal as a 1-D tensor."""
        if self.ndim == 2:
            return self.diagonal(diagonal)
        if self.ndim != 1:
            raise RuntimeError(f"diag: expected a 1-D or 2-D tensor, got shape {self.shape}")
        n = self.shape[0] + abs(diagonal)
        steps = np.arange(self.shape[0])
        key = (steps + max(-diagonal, 0), steps + max(diagonal, 0))
        return _ops().ScatterAdd.apply(self, key, (n, n))

    def trace(self):
        """The sum of the main diagonal of a matrix."""
        if self.ndim != 2:
            raise RuntimeError(f"trace: expected a matrix, got shape {self.shape}")
        return self.diagonal().sum()

    def repeat(self, *sizes):
        """The tensor tiled ``sizes[i]`` times along dim i (new leading dims when ``sizes``
        has more), as ``torch.Tensor.repeat``."""
        sizes = _tensor_module.shape_from_args(sizes, "repeat", "repeats")
        if len(sizes) < self.ndim:
            raise RuntimeError(f"repeat: the number of repeats ({len(sizes)}) can not be "
                               f"smaller than the number of dims ({self.ndim})")
        t = self.reshape((1,) * (len(sizes) - self.ndim) + tuple(self.shape))
        spread = []  # (1, n₀, 1, n₁, ...) expanded to (s₀, n₀, s₁, n₁, ...)
        for n in t.shape:
            spread += [1, n]
        expanded = [s if i % 2 == 0 else n for i, (s, n) in
                    enumerate(zip(np.repeat(sizes, 2), spread))]
        result_shape = tuple(s * n for s, n in zip(sizes, t.shape))
        return t.reshape(spread).expand(expanded).reshape(result_shape)

    def tile(self, *dims):
        """``repeat``, with ``dims`` padded by leading 1s when it has fewer than the tensor."""
        dims = _tensor_module.shape_from_args(dims, "tile", "dims")
        return self.repeat((1,) * (self.ndim - len(dims)) + dims)

    def repeat_interleave(self, repeats, dim=None, *, output_size=None):
        """Each element repeated ``repeats`` times (a number, or one count per element)
        along ``dim`` (of the flattened tensor when None)."""
        if dim is None:
            return self.flatten().repeat_interleave(repeats, 0)
        (axis,) = self._dims(dim, "repeat_interleave")
        counts = repeats.array if isinstance(repeats, _tensor_module.Tensor) else repeats
        source = np.repeat(np.arange(self.shape[axis]), counts)
        return self[(slice(None),) * axis + (source,)]

    def movedim(self, source, destination):
        """Dims ``source`` moved to positions ``destination``, the others keeping their order."""
        source = (source,) if isinstance(source, int | np.integer) else tuple(source)
        destination = ((destination,) if isinstance(destination, int | np.integer)
                       else tuple(destination))
        source, destination = self._dims(source, "movedim"), self._dims(destination, "movedim")
        if len(source) != len(destination):
            raise RuntimeError(f"movedim: Invalid source or destination dims: source "
                               f"({source}) and destination ({destination}) differ in length")
        order = [d for d in range(self.ndim) if d not in source]
        for to, moved in sorted(zip(destination, source)):
            order.insert(to, moved)
        return self.permute(*order)

    moveaxis = movedim

    def swapaxes(self, axis0: int, axis1: int):
        return self.transpose(axis0, axis1)

    swapdims = swapaxes

    def narrow(self, dim: int, start: int, length: int):
        """``length`` elements from ``start`` along ``dim`` (a view)."""
        (axis,) = self._dims(dim, "narrow")
        size = self.shape[axis]
        start = int(start) + (size if start < 0 else 0)
        if not (0 <= start and length >= 0 and start + length <= size):
            raise IndexError(f"narrow: start ({start}) + length ({length}) exceeds dimension "
                             f"size ({size})")
        return self[(slice(None),) * axis + (slice(start, start + length),)]

    def unfold(self, dimension: int, size: int, step: int):
        """Every window of ``size`` elements along ``dimension``, ``step`` apart: that dim
        becomes the window count (length - size) // step + 1 and a new last dim of ``size``
        holds each window, as ``torch.Tensor.unfold``. Built from ``index_select``, so the
        gradient adds up where windows overlap."""
        (axis,) = self._dims(dimension, "unfold")
        length = self.shape[axis] if self.ndim else 1
        if not (isinstance(size, int | np.integer) and isinstance(step, int | np.integer)):
            raise TypeError(f"unfold: size and step must be integers, got {size!r}, {step!r}")
        if step <= 0 or size < 0 or size > length:
            raise RuntimeError(f"unfold: need 0 <= size <= {length} (the size of dimension "
                               f"{dimension}) and step > 0, got size {size}, step {step}")
        if self.ndim == 0:  # a 0-d tensor unfolds as one element of a 1-d one
            return self.reshape(1) if size == 1 else self.reshape(1)[:0]
        count = (length - size) // step + 1
        starts = np.arange(count)[:, None] * step
        index = (starts + np.arange(size)).reshape(-1)  # window by window
        picked = self.index_select(axis, _tensor_module.Tensor(index))
        shape = (*self.shape[:axis], count, size, *self.shape[axis + 1:])
        return picked.reshape(shape).movedim(axis + 1, -1)

    def index_select(self, dim: int, index):
        """The slices at ``index`` (a 1-D integer tensor) along ``dim``."""
        (axis,) = self._dims(dim, "index_select")
        index = _indices(index, "index_select")
        if index.ndim > 1:
            raise IndexError(f"index_select(): Index is supposed to be a vector, got shape "
                             f"{index.shape}")
        return self[(slice(None),) * axis + (index.reshape(-1),)]

    def gather(self, dim: int, index):
        """out[i][j][k] = self[index[i][j][k]][j][k] for dim 0 (and so on): ``index`` has as
        many dims as self, and is no larger in the others."""
        (axis,) = self._dims(dim, "gather")
        return self[_scatter_key(self, axis, _indices(index, "gather"), "gather")]

    def scatter(self, dim: int, index, src=None, *, value=None, reduce=None):
        """A copy with ``src`` (or ``value``) written at ``index`` along ``dim``:
        out[index[i][j]][j] = src[i][j] for dim 0. The overwritten elements get gradient 0."""
        if reduce is not None:
            raise NotImplementedError("scatter(reduce=...) is not supported; use scatter_add "
                                      "or scatter_reduce")
        (axis,) = self._dims(dim, "scatter")
        index = _indices(index, "scatter")
        key = _scatter_key(self, axis, index, "scatter")
        src = value if src is None else src
        if isinstance(src, _tensor_module.Tensor) and src.ndim:
            src = src[tuple(slice(0, n) for n in index.shape)]
        src = _tensor_module.promote_operands(self, src)[1]
        src = src if src.dtype == self.dtype else src.to(self.dtype)
        return _ops().SetItem.apply(self, src, key)

    def scatter_add(self, dim: int, index, src):
        """A copy with ``src`` added at ``index`` along ``dim`` (repeated indices add up)."""
        (axis,) = self._dims(dim, "scatter_add")
        index = _indices(index, "scatter_add")
        key = _scatter_key(self, axis, index, "scatter_add")
        src = src[tuple(slice(0, n) for n in index.shape)]
        return self + _ops().ScatterAdd.apply(src, key, tuple(self.shape))

    def masked_fill(self, mask, value):
        """``value`` where ``mask`` (broadcast) is true, else self."""
        mask = mask.array if isinstance(mask, _tensor_module.Tensor) else np.asarray(mask)
        if mask.dtype != np.bool_:
            raise RuntimeError(f"masked_fill only supports boolean masks, but got mask with "
                               f"dtype {mask.dtype}")
        if isinstance(value, _tensor_module.Tensor) and value.ndim:
            raise RuntimeError("masked_fill only supports a 0-dimensional value tensor, but "
                               f"got one of shape {value.shape}")
        out = _tensor_module.where(mask, value, self)
        return out if out.dtype == self.dtype else out.to(self.dtype)

    def masked_select(self, mask):
        """The elements where ``mask`` (broadcast with self) is true, as a 1-D tensor."""
        mask = mask.array if isinstance(mask, _tensor_module.Tensor) else np.asarray(mask)
        shape = np.broadcast_shapes(self.shape, mask.shape)
        return self.broadcast_to(shape)[np.broadcast_to(mask, shape)]

    def nonzero(self, *, as_tuple: bool = False):
        """The indices of the nonzero elements: an (n, ndim) int64 tensor, or with
        ``as_tuple`` one 1-D tensor per dim (as ``where(condition)``)."""
        Tensor = _tensor_module.Tensor
        found = np.nonzero(np.atleast_1d(self.array))
        if as_tuple:
            return tuple(Tensor.wrap(i.astype(np.int64)) for i in found)
        return Tensor.wrap(np.stack(found, axis=1).astype(np.int64)[:, :self.ndim])

    def outer(self, vec2):
        """The outer product of two 1-D tensors: out[i, j] = self[i]·vec2[j]."""
        if self.ndim != 1 or vec2.ndim != 1:
            raise RuntimeError(f"outer: expected two 1-D tensors, got shapes {self.shape} and "
                               f"{vec2.shape}")
        return self.reshape(-1, 1) * vec2.reshape(1, -1)

    ger = outer

    def cross(self, other, dim=None):
        """The cross product of 3-vectors along ``dim`` (broadcast); without ``dim``, the
        first dim of size 3, as ``torch.cross``."""
        a, b = _tensor_module.promote_operands(self, other)
        shape = np.broadcast_shapes(a.shape, b.shape)
        if dim is None:
            dim = next((d for d, n in enumerate(shape) if n == 3), 0)
        (axis,) = _tensor_module.normalize_dims(dim, len(shape), "cross")
        if shape[axis] != 3:
            raise RuntimeError(f"cross: expected a dim of size 3 (dim={dim}), got shapes "
                               f"{tuple(self.shape)} and {tuple(other.shape)}")
        a, b = a.broadcast_to(shape), b.broadcast_to(shape)
        x = [a.narrow(axis, i, 1) for i in range(3)]
        y = [b.narrow(axis, i, 1) for i in range(3)]
        components = [x[1] * y[2] - x[2] * y[1], x[2] * y[0] - x[0] * y[2],
                      x[0] * y[1] - x[1] * y[0]]
        return _ops().Cat.apply(*components, dim=axis)

    def kron(self, other):
        """The Kronecker product: each element of self times the whole of ``other``, laid
        out in blocks (dims matched from the right)."""
        a, b = _tensor_module.promote_operands(self, other)
        ndim = max(a.ndim, b.ndim)
        a = a.reshape((1,) * (ndim - a.ndim) + tuple(a.shape))
        b = b.reshape((1,) * (ndim - b.ndim) + tuple(b.shape))
        # (a₀, 1, a₁, 1, ...) times (1, b₀, 1, b₁, ...), each pair then merged into one dim
        product = (a.reshape([n for i in range(ndim) for n in (a.shape[i], 1)])
                   * b.reshape([n for i in range(ndim) for n in (1, b.shape[i])]))
        return product.reshape([a.shape[i] * b.shape[i] for i in range(ndim)])

    def unflatten(self, dim: int, sizes):
        """Dim ``dim`` split into dims of ``sizes`` (one of them may be -1)."""
        (axis,) = self._dims(dim, "unflatten")
        sizes = tuple(sizes)
        known = int(np.prod([s for s in sizes if s != -1]))
        if sizes.count(-1) > 1 or (-1 not in sizes and known != self.shape[axis]) or (
                -1 in sizes and (known == 0 or self.shape[axis] % known)):
            raise RuntimeError(f"unflatten: sizes {sizes} don't multiply up to the size of dim "
                               f"{dim} ({self.shape[axis]}) in the input of shape {self.shape}")
        return self.reshape(self.shape[:axis] + sizes + self.shape[axis + 1:])

    def take(self, index):
        """The elements at ``index`` of the flattened tensor, in the shape of ``index``."""
        return self.flatten()[_indices(index, "take")]

    def index_add(self, dim: int, index, source, *, alpha=1):
        """A copy with ``alpha · source`` added at positions ``index`` along ``dim``
        (repeated indices add up): out[index[i]] += alpha·source[i] for dim 0."""
        (axis,) = self._dims(dim, "index_add")
        index = _indices(index, "index_add").reshape(-1)
        expected = self.shape[:axis] + (len(index),) + self.shape[axis + 1:]
        if tuple(source.shape) != expected:
            raise RuntimeError(f"index_add(): source of shape {source.shape} must have the "
                               f"shape {expected} (the input's, {len(index)} along dim {dim})")
        key = (slice(None),) * axis + (index,)
        return self + _ops().ScatterAdd.apply(source * alpha if alpha != 1 else source, key,
                                              tuple(self.shape))

    def scatter_reduce(self, dim: int, index, src, reduce: str, *, include_self: bool = True):
        """A copy where each position that ``index`` points at (along ``dim``, as scatter)
        becomes the reduction ("sum", "prod", "mean", "amax", "amin") of the ``src``
        elements sent there, and of its own value when ``include_self``. The gradient of
        amax/amin is shared evenly among the elements equal to the result, as PyTorch's."""
        if reduce not in ("sum", "prod", "mean", "amax", "amin"):
            raise RuntimeError(f"scatter_reduce(): reduce must be one of sum, prod, mean, amax, "
                               f"amin, got {reduce!r}")
        Tensor, where = _tensor_module.Tensor, _tensor_module.where
        (axis,) = self._dims(dim, "scatter_reduce")
        index = _indices(index, "scatter_reduce")
        key = _scatter_key(self, axis, index, "scatter_reduce")
        src = src[tuple(slice(0, n) for n in index.shape)]
        shape = tuple(self.shape)

        def scattered(values):  # the sum of the values sent to each position
            return _ops().ScatterAdd.apply(values, key, shape)

        counts = np.zeros(shape, dtype=np.int64)
        np.add.at(counts, key, 1)
        touched = counts > 0
        own = np.asarray(include_self)  # 1 where self's value takes part
        if reduce == "sum":
            reduced = scattered(src) + (self if include_self else 0)
        elif reduce == "mean":
            total = scattered(src) + (self if include_self else 0)
            count = Tensor.wrap(np.maximum(counts + own, 1).astype(self.dtype))
            # integers are floor-divided, as PyTorch's
            reduced = total / count if self.dtype.kind == "f" else total // count
        elif reduce == "prod":
            reduced = self if include_self else Tensor.wrap(np.ones(shape, self.dtype))
            # One factor per round: the first element sent to each position, then the second, ...
            positions = np.broadcast_arrays(*key)
            targets = np.ravel_multi_index(positions, shape)
            order = np.argsort(targets, axis=None, kind="stable")
            flat_targets = targets.reshape(-1)[order]
            first = np.searchsorted(flat_targets, flat_targets, side="left")
            rank = np.empty(flat_targets.size, dtype=np.int64)
            rank[order] = np.arange(flat_targets.size) - first
            rank = rank.reshape(targets.shape)
            for r in range(int(rank.max(initial=-1)) + 1):
                sent = rank == r
                sent_key = tuple(k[sent] for k in positions)
                hit = np.zeros(shape, dtype=bool)
                hit[sent_key] = True
                factor = _ops().ScatterAdd.apply(src[sent], sent_key, shape)
                reduced = reduced * (factor + Tensor.wrap((~hit).astype(self.dtype)))
        else:
            extreme = np.maximum if reduce == "amax" else np.minimum
            if include_self:
                result = self.array.copy()
            else:  # start from the identity of the reduction, for positions sent to
                if self.dtype.kind == "f":
                    start = -np.inf if reduce == "amax" else np.inf
                else:
                    start = getattr(np.iinfo(self.dtype), "min" if reduce == "amax" else "max")
                result = np.full(shape, start, self.dtype)
            extreme.at(result, key, src.array)
            src_wins = src.array == result[key]
            self_wins = (self.array == result) & own
            ties = scattered(Tensor.wrap(src_wins.astype(self.dtype))).array + self_wins
            ties = Tensor.wrap(np.maximum(ties, 1).astype(self.dtype))
            reduced = (scattered(where(src_wins, src, 0.0))
                       + where(self_wins, self, 0.0)) / ties
        out = where(touched, reduced, self)
        return out if out.dtype == self.dtype else out.to(self.dtype)


def _indices(index, op: str) -> np.ndarray:
    index = index.array if isinstance(index, _tensor_module.Tensor) else np.asarray(index)
    if index.dtype.kind not in "iu":
        raise RuntimeError(f"{op}(): Expected dtype int64 for index, got {index.dtype}")
    return index


def _scatter_key(t, axis: int, index: np.ndarray, op: str) -> tuple:
    """The indexing key of gather/scatter: ``index`` along ``axis``, the position itself
    along the other dims."""
    if index.ndim != t.ndim:
        raise RuntimeError(f"{op}(): Index tensor must have the same number of dimensions as "
                           f"input tensor ({index.shape} and {t.shape})")
    if any(i > n for d, (i, n) in enumerate(zip(index.shape, t.shape)) if d != axis):
        raise RuntimeError(f"{op}(): Size of index {index.shape} must not exceed the input's "
                           f"{t.shape} in the dims other than {axis}")
    size = t.shape[axis]
    if index.size and (index.min() < -size or index.max() >= size):
        raise IndexError(f"{op}(): index {index.min() if index.min() < -size else index.max()}"
                         f" is out of bounds for dimension {axis} with size {size}")
    key = list(np.indices(index.shape, sparse=True))
    key[axis] = index
    return tuple(key)


# These methods build on Tensor and its ops, and tensor.py imports this module to define
# Tensor: the module is imported last, and its names read when the methods run.
from minigrad import tensor as _tensor_module  # noqa: E402
