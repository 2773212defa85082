"""The Tensor: an n-dimensional array that can record the operations applied to it.

Three modules make up all of reverse-mode automatic differentiation:

* ``Tensor`` (here) wraps a NumPy array (``.array``) and remembers the ``Function`` node that
  made it (``.grad_fn``). Tensors made by the user are *leaves*: they have no ``grad_fn``.
  Its methods (``+``, ``exp``, ``sum``, ...) check their arguments and apply an op.
* ``engine.py``: ``Function``, one op of the graph, and ``run_backward``, the walk from an
  output back to the leaves that ``Tensor.backward`` starts.
* ``ops.py``: the derivative sheet, every op's forward and gradient side by side.

This module also holds minigrad's dtype rules (``to_array``, ``promote_operands``): which
dtype user data and the operands of a binary op get, as in PyTorch.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from minigrad import device as devices
from minigrad import dtypes, return_types
from minigrad.dtypes import FLOAT_DTYPES as _FLOAT_DTYPES
from minigrad.dtypes import bool_, float32, float64, int64
from minigrad.grad_mode import this_thread
from minigrad.tensor_methods import (
    ConversionMethods,
    ElementwiseMethods,
    InPlaceMethods,
    LinearAlgebraMethods,
    LogicalMethods,
    ReductionMethods,
    ReshapingMethods,
    SortingMethods,
    SplittingMethods,
)

# ---------------------------------------------------------------------------------------
# dtype rules: which dtype user data and the operands of an op get
# ---------------------------------------------------------------------------------------


def to_array(data: Any, dtype: Any = None) -> np.ndarray:
    """Turn user data into an ndarray following minigrad's dtype rules:
    Python floats become float32, NumPy float arrays keep their dtype, integers stay integer."""
    if isinstance(data, Tensor):
        data = data.array
    if dtype is not None:
        return np.array(data, dtype=dtypes.as_dtype(dtype, "Tensor"))
    if isinstance(data, np.ndarray | np.generic):
        array = np.array(data)
    else:
        array = np.array(data)
        if array.dtype == float64:  # Python floats: float32 by default, as in PyTorch
            array = array.astype(dtypes.get_default_dtype())
    if array.dtype.kind == "f" and array.dtype not in _FLOAT_DTYPES:
        array = array.astype(float32)  # float16 and long double are computed in float32
    elif array.dtype.kind not in "fiub":
        raise TypeError(
            f"Tensor: unsupported data of dtype {array.dtype}; "
            "use numbers, nested lists of numbers or numeric NumPy arrays"
        )
    return array


def _as_array(x: Any) -> np.ndarray:
    """A NumPy result as an array (a reduction to one element gives a NumPy scalar); an
    array as it is, subclass included (``np.asarray`` would drop a compiled step's)."""
    return x if isinstance(x, np.ndarray) else np.asarray(x)


def promote_operands(a: Tensor, other: Any) -> tuple[Tensor, Tensor]:
    """``(a, other)`` as Tensors for a binary op, promoted as PyTorch does rather than
    as NumPy would: an integer or boolean operand takes the float dtype of the other one
    (NumPy makes int64 with float32 a float64), Python numbers take the tensor's dtype
    (also an integer one: ``int8 + 1`` is int8), and a Python float with an integer tensor
    gives float32."""
    if isinstance(other, Tensor) and other.array.dtype is a.array.dtype:
        return a, other  # the common case, first
    python_number = False
    if isinstance(other, Tensor):
        b = other
    else:
        array = np.asarray(other)
        if array.dtype.kind not in "fiub":
            raise TypeError(f"unsupported operand of type {type(other).__name__} "
                            f"(dtype {array.dtype}) for a tensor of dtype {a.dtype}")
        python_number = not isinstance(other, np.ndarray)
        b = Tensor.wrap(array)
    # Casts only where NumPy's result would differ (a boolean operand keeps the float
    # dtype of the other already). Integer tensors never require grad: no graph is lost.
    kind_a, kind_b = a.array.dtype.kind, b.array.dtype.kind
    if kind_a == "f":
        if kind_b in "iu" or python_number:
            b = Tensor.wrap(b.array.astype(a.array.dtype))
    elif kind_b == "f":
        if python_number:
            a, b = Tensor.wrap(a.array.astype(float32)), Tensor.wrap(b.array.astype(float32))
        elif kind_a in "iu":
            a = Tensor.wrap(a.array.astype(b.array.dtype))
    elif python_number and kind_a in "iu" and b.array.dtype != a.array.dtype:
        # int8 + 1 stays int8 (NumPy would widen it to the 1's int64); a number out of
        # the dtype's range wraps around, as in PyTorch (int8 + 300 is int8 + 44)
        b = Tensor.wrap(b.array.astype(a.array.dtype))
    return a, b


def _true_division(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    """``/`` of two integer tensors is a division in the default float dtype, as in PyTorch."""
    if a.array.dtype.kind != "f" and b.array.dtype.kind != "f":
        default = dtypes.get_default_dtype()
        return Tensor.wrap(a.array.astype(default)), Tensor.wrap(b.array.astype(default))
    return a, b


# ---------------------------------------------------------------------------------------
# Argument rules: shapes and dims as the methods accept them
# ---------------------------------------------------------------------------------------


def shape_from_args(args: tuple, op: str, argument: str = "size") -> tuple[int, ...]:
    """``f(2, 3)`` and ``f((2, 3))`` both mean shape (2, 3). Each entry must be an integer,
    as in PyTorch: ``zeros(1.5)`` is an error, not a shape of 1 (nor are ``2.0`` and
    ``True``)."""
    if len(args) == 1 and isinstance(args[0], Sequence | np.ndarray):
        args = tuple(args[0])
    shape = []
    for position, n in enumerate(args):
        if isinstance(n, Tensor) and n.ndim == 0:
            n = n.array.item()  # a 0-d integer tensor counts as its number, as in PyTorch
        if isinstance(n, bool | np.bool_) or not isinstance(n, int | np.integer):
            raise TypeError(f"{op}(): argument '{argument}' must be a tuple of ints, but "
                            f"found element of type {type(n).__name__} at pos {position}: "
                            f"{n!r}")
        shape.append(int(n))
    return tuple(shape)


def size_from_args(args: tuple, op: str) -> tuple[int, ...]:
    """The shape of a new tensor (``zeros(2, 3)``): integers, none negative."""
    shape = shape_from_args(args, op)
    if any(n < 0 for n in shape):
        raise RuntimeError(f"{op}: Dimension size must be non-negative, got size {shape}")
    return shape


def normalize_dims(dim, ndim: int, op: str) -> tuple[int, ...] | None:
    """``None`` (all dims), an int or a tuple of ints, as a tuple of non-negative dims."""
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, int | np.integer) else tuple(dim)
    rank = max(ndim, 1)
    out = []
    for d in dims:
        if not -rank <= d < rank:
            raise IndexError(
                f"{op}: dim {d} is out of range for a tensor with {ndim} dims "
                f"(expected {-rank} to {rank - 1})"
            )
        out.append(int(d) % rank)
    if len(set(out)) != len(out):
        raise engine.ShapeError(f"{op}: dim {dim} repeats a dimension")
    return tuple(out)


def reduction_dims(dim, ndim: int, op: str) -> tuple[int, ...] | None:
    """``normalize_dims`` for a reduction. A 0-d tensor has one element and, as in PyTorch,
    accepts dim 0 (or -1) for it: reducing over that is reducing over all (None)."""
    dims = normalize_dims(dim, ndim, op)
    return None if ndim == 0 else dims


def _count(shape: tuple[int, ...], dims: tuple[int, ...] | None) -> int:
    """How many elements a reduction over ``dims`` combines into one."""
    if dims is None:
        return int(np.prod(shape, dtype=np.int64))
    return int(np.prod([shape[d] for d in dims if d < len(shape)], dtype=np.int64))


# ---------------------------------------------------------------------------------------
# Tensor
# ---------------------------------------------------------------------------------------


class Size(tuple):
    """A tensor's shape (``t.shape``, ``t.size()``): a tuple of ints that prints as
    PyTorch's ``torch.Size`` (``print(t.shape)``), with ``numel()``. Inside an f-string it
    reads as the plain tuple, as minigrad's error messages write shapes: ``(2, 3)``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"minigrad.Size({list(self)})"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return format(tuple(self), spec)

    def numel(self) -> int:
        return int(np.prod(self, dtype=np.int64))


# Set by ``minigrad.compile``: called with a leaf whose ``.grad`` backward has just set,
# and with every value that leaves a tensor for Python (``item``, ``bool``, ``tolist``),
# which a step being compiled keeps as a guard.
gradient_hook = None
value_hook = None


class VersionCounter:
    """How many times a tensor's memory was changed in place. Shared by every tensor that
    views the same memory (reshape, basic indexing, transpose, expand, detach), so a change
    through any of them is seen by the graph nodes that saved any of them."""

    __slots__ = ("value",)

    # How many in-place changes all tensors have seen, ever. A graph node notes it when it
    # is recorded: while it is unchanged, no tensor changed since, and the node can skip
    # checking its inputs one by one (the common case, and so a fast one).
    changes = 0
    _lock = threading.Lock()  # two threads changing tensors at once still count two

    def __init__(self, value: int = 0):
        self.value = value


def bump_versions(tensors: Sequence[Tensor]) -> None:
    """``bump_version`` of each of ``tensors`` (an optimizer's step: one lock, not one per
    parameter)."""
    for t in tensors:
        counter = t.version_counter
        if counter is None:
            t.version_counter = VersionCounter(1)
        else:
            counter.value += 1
    with VersionCounter._lock:
        VersionCounter.changes += len(tensors)


class Tensor(ConversionMethods, InPlaceMethods, LinearAlgebraMethods, SortingMethods,
             SplittingMethods, ElementwiseMethods, LogicalMethods, ReductionMethods,
             ReshapingMethods):
    """An n-dimensional array that can record the operations applied to it.

    ``Tensor(data, requires_grad=False, dtype=None)``: ``data`` is a number, a nested list,
    a NumPy array or a Tensor (copied). Python floats become ``float32``; NumPy arrays keep
    their float dtype; integer data stays integer and cannot require grad.
    """

    __slots__ = ("array", "_grad", "_requires_grad", "grad_fn", "_retains_grad",
                 "version_counter", "__weakref__")

    # NumPy defers to Tensor: ``ndarray + Tensor`` calls ``Tensor.__radd__`` and gives a Tensor.
    __array_priority__ = 1000
    __array_ufunc__ = None

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None):
        self.array = to_array(data, dtype)
        self._grad: Tensor | None = None
        self.grad_fn: engine.Function | None = None
        self._retains_grad = False
        self._requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    def __new__(cls, *args, **kwargs):
        # Here rather than in __init__, so that subclasses with their own __init__ (such as
        # nn.Parameter) have it too. None stands for a counter at 0: most tensors are never
        # changed in place, and None spares them the object (made at the first change, or
        # when a first view shares it).
        t = object.__new__(cls)
        t.version_counter = None
        return t

    @classmethod
    def wrap(cls, data: np.ndarray, requires_grad: bool = False) -> Tensor:
        """The ops' fast path: ``data`` as a Tensor, as it is (no copy, no dtype rules, no
        checks). The caller promises an ndarray that nothing else will change behind the
        Tensor's back, and a float dtype if ``requires_grad``. Users write ``Tensor(data)``."""
        t = object.__new__(Tensor)
        t.array = data
        t._grad = None
        t._requires_grad = requires_grad
        t.grad_fn = None
        t._retains_grad = False
        t.version_counter = None
        return t

    # -- attributes -----------------------------------------------------------------------

    @property
    def shape(self) -> Size:
        return Size(self.array.shape)

    @property
    def ndim(self) -> int:
        return self.array.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.array.dtype

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def T(self) -> Tensor:
        return self.permute(*reversed(range(self.ndim)))

    @property
    def device(self) -> devices.device:
        return devices.CPU

    def size(self, dim: int | None = None):
        if dim is None:
            return Size(self.array.shape)
        (dim,) = normalize_dims(dim, self.ndim, "size")
        return self.array.shape[dim]

    def dim(self) -> int:
        return self.ndim

    def numel(self) -> int:
        return self.array.size

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def numpy(self, *, force: bool = False) -> np.ndarray:
        """The values as a NumPy array: the same memory, not a copy. As in PyTorch, a tensor
        that requires grad refuses (a change through the array would bypass autograd's
        checks): call ``t.detach().numpy()``, or pass ``force=True`` for a copy."""
        if self._requires_grad:
            if not force:
                raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                                   "tensor.detach().numpy() instead.")
            return self.array.copy()
        return self.array

    @property
    def data(self) -> Tensor:
        """PyTorch's ``.data``: the same memory as a Tensor outside the graph, which does
        not require grad. Unlike ``detach()``, a change through it is not seen by autograd
        (it has its own version counter), so ``p.data.add_(...)`` updates a parameter
        without a backward ever complaining: the way optimizers were written before
        ``no_grad``. ``p.data = other`` makes ``p`` hold ``other``'s memory (any shape)."""
        return Tensor.wrap(self.array)

    @data.setter
    def data(self, other: Tensor) -> None:
        if not isinstance(other, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got "
                            f"{type(other).__name__}")
        if self._requires_grad and other.array.dtype.kind != "f":
            raise RuntimeError(f"data set to a tensor that requires gradients must be "
                               f"floating point, got dtype {other.dtype}")
        self.array = other.array

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        """``np.asarray(t)`` (and plotting, testing helpers) see the data, not an object."""
        if copy:
            return np.array(self.array, dtype=dtype)
        return self.array if dtype is None else self.array.astype(dtype, copy=False)

    def item(self) -> float | int | bool:
        if self.array.size != 1:
            raise engine.ShapeError(
                f"item(): only a tensor with one element can be converted to a Python "
                f"number, this one has shape {self.shape}"
            )
        value = self.array.item()
        if value_hook is not None:
            value_hook(self.array, np.ndarray.item, value)
        return value

    def tolist(self):
        value = self.array.tolist()
        if value_hook is not None:
            value_hook(self.array, np.ndarray.tolist, value)
        return value

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        """A one-element integer tensor indexes a list (``classes[t.argmax()]``), as in
        PyTorch; a float or boolean one does not."""
        if self.array.dtype.kind not in "iu" or self.array.size != 1:
            raise TypeError(f"only integer tensors of a single element can be converted to "
                            f"an index (this one has dtype {self.dtype}, shape {self.shape})")
        return int(self.array.item())

    def __format__(self, spec: str) -> str:
        """``f"{loss:.4f}"`` formats a one-element tensor as its number, as in PyTorch."""
        if self.ndim == 0:
            return format(self.array.item(), spec)
        return object.__format__(self, spec)  # as PyTorch: str(t), and no spec for arrays

    def __bool__(self) -> bool:
        if self.array.size != 1:
            raise engine.ShapeError(
                f"the truth value of a tensor of shape {self.shape} is ambiguous; "
                "use .any() or .all()"
            )
        value = bool(self.array)
        if value_hook is not None:
            value_hook(self.array, bool, value)
        return value

    def any(self, dim=None, keepdim: bool = False, *, axis=None) -> Tensor:
        """Whether any element is nonzero (over all, or along ``dim``): a boolean tensor, as
        in PyTorch (``if t.any():`` reads it through ``__bool__``)."""
        dims = reduction_dims(_dim_or_axis(dim, axis, "any"), self.ndim, "any")
        return Tensor.wrap(_as_array(self.array.any(axis=dims, keepdims=keepdim)))

    def all(self, dim=None, keepdim: bool = False, *, axis=None) -> Tensor:
        """Whether every element is nonzero (over all, or along ``dim``): a boolean tensor."""
        dims = reduction_dims(_dim_or_axis(dim, axis, "all"), self.ndim, "all")
        return Tensor.wrap(_as_array(self.array.all(axis=dims, keepdims=keepdim)))

    __hash__ = object.__hash__  # identity, so tensors can be dict keys despite __eq__

    def __repr__(self) -> str:
        data = self.array
        exact = (data.dtype.kind != "f" or not np.isfinite(data).all()
                 or (data == data.round()).all())
        body = np.array2string(data, separator=", ", prefix="tensor(",
                               precision=None if exact else 4,
                               floatmode="maxprec" if exact else "fixed")
        extras = []
        if self.dtype not in (float32, int64, bool_):
            extras.append(f"dtype={self.dtype}")
        if self.grad_fn is not None:
            # PyTorch's names: MulBackward0 for a built-in op, MyOpBackward for one's own
            node = self.grad_fn
            built_in = type(node).__module__.startswith("minigrad.")
            extras.append(f"grad_fn=<{node.name}Backward{'0' if built_in else ''}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return f"tensor({', '.join([body, *extras])})"

    # -- autograd -------------------------------------------------------------------------

    @property
    def grad(self) -> Tensor | None:
        """The gradient accumulated by backward (leaves, and non-leaves that retain it)."""
        return self._grad

    @grad.setter
    def grad(self, grad: Tensor | None) -> None:
        if grad is not None:
            if not isinstance(grad, Tensor):
                raise TypeError(f"grad must be a Tensor or None, got {type(grad).__name__}; "
                                "wrap an array as mg.tensor(array)")
            if grad.shape != self.shape:
                raise engine.ShapeError(f"grad of shape {grad.shape} assigned to a tensor of shape "
                                 f"{self.shape}")
        self._grad = grad

    @property
    def requires_grad(self) -> bool:
        """Whether ops on this tensor record the graph (and a leaf gets ``.grad``)."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, requires_grad: bool) -> None:
        self.requires_grad_(requires_grad)  # checked: only float tensors can require grad

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and self.array.dtype.kind != "f":
            raise TypeError(
                f"only floating-point tensors can require gradients, this one has dtype "
                f"{self.dtype}; convert it first, e.g. t.float()"
            )
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError(
                "requires_grad_(False) on a non-leaf tensor; use .detach() to get a tensor "
                "outside the graph"
            )
        self._requires_grad = bool(requires_grad)
        return self

    def accumulate_grad(self, grad: Tensor, owned: bool = False) -> None:
        """Add ``grad`` into this leaf's ``.grad``, as the backward walk does: like
        ``self.grad = self.grad + grad`` without the arrays that line would allocate (a new
        sum per parameter and backward). The first gradient becomes ``.grad`` itself when
        the caller promises nothing else refers to its array (``owned``), else a copy; later
        ones are added into that array in place."""
        if self._grad is None:
            self._grad = grad if owned else Tensor.wrap(grad.array.copy())
            if gradient_hook is not None:  # a step being compiled notes where .grad is
                gradient_hook(self)
        elif self._grad.grad_fn is not None:  # recorded by a create_graph backward: keep it
            self._grad = Tensor.wrap(self._grad.array + grad.array)
        else:
            self._grad.array += grad.array

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after backward (leaves always keep it)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad() on a tensor that does not require grad")
        if self.grad_fn is not None:
            self._retains_grad = True
            self.grad_fn.retain_output_grad = True

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    def detach(self) -> Tensor:
        """The same data (shared, not copied) as a new leaf outside the graph. It shares
        the version counter too: an in-place change through it is seen by the graph."""
        t = Tensor.wrap(self.array)
        t.version_counter = self.shared_version_counter()
        return t

    # -- in-place changes: the version counter ---------------------------------------------

    @property
    def version(self) -> int:
        """How many in-place changes this tensor's memory has seen (through it or any
        tensor sharing its memory), as PyTorch's ``t._version``. Backward compares it
        with the version a node saw when it was recorded."""
        counter = self.version_counter
        return counter.value if counter is not None else 0

    _version = version  # PyTorch's name, so PyTorch code reading it runs unchanged

    def bump_version(self) -> None:
        """Record that this tensor's memory was changed in place by code that writes its
        array directly (an optimizer step): a backward through a graph that saved this
        tensor then raises rather than computing with the new values. Writes through
        ``.data`` are not tracked otherwise (that is what ``.data`` is for)."""
        bump_versions((self,))

    def shared_version_counter(self) -> VersionCounter:
        """This tensor's version counter, made now if it has none yet, for a new tensor
        that shares its memory (a view) to share it too."""
        if self.version_counter is None:
            self.version_counter = VersionCounter()
        return self.version_counter

    def backward(
        self,
        gradient: Any = None,
        retain_graph: bool | None = None,
        create_graph: bool = False,
    ) -> None:
        """Accumulate d(self)/d(leaf) into ``leaf.grad`` for every leaf that requires grad.

        ``gradient`` is the gradient of some final scalar with respect to ``self``; it may be
        left out only when ``self`` has one element (then it is 1).
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward() on a tensor that does not require grad and has no grad_fn: "
                "no leaf of its graph has requires_grad=True (or it was made under no_grad)"
            )
        seed = engine.seed_gradient(self, gradient, "backward()")
        if retain_graph is None:
            retain_graph = create_graph
        engine.run_backward([self], [seed], retain_graph, create_graph)

    # -- conversions ----------------------------------------------------------------------

    # (``to``, ``float()``, ``type()``, ... are ConversionMethods, in tensor_methods.py)

    def clone(self) -> Tensor:
        return ops.Clone.apply(self)

    def _float(self) -> Tensor:
        """Integer and boolean tensors in the default float dtype (float32), for the
        floating-point functions (exp, log, ...), as PyTorch (NumPy would give float64)."""
        if self.array.dtype.kind == "f":
            return self
        return Tensor.wrap(self.array.astype(dtypes.get_default_dtype()))

    # -- arithmetic -----------------------------------------------------------------------

    def __add__(self, other):
        return ops.Add.apply(*promote_operands(self, other))

    def __radd__(self, other):
        a, b = promote_operands(self, other)
        return ops.Add.apply(b, a)

    def __sub__(self, other):
        return ops.Sub.apply(*promote_operands(self, other))

    def __rsub__(self, other):
        a, b = promote_operands(self, other)
        return ops.Sub.apply(b, a)

    def __mul__(self, other):
        return ops.Mul.apply(*promote_operands(self, other))

    def __rmul__(self, other):
        a, b = promote_operands(self, other)
        return ops.Mul.apply(b, a)

    def __truediv__(self, other):
        return ops.Div.apply(*_true_division(*promote_operands(self, other)))

    def __rtruediv__(self, other):
        a, b = promote_operands(self, other)
        return ops.Div.apply(*_true_division(b, a))

    def __pow__(self, exponent):
        return ops.Pow.apply(*promote_operands(self, exponent))

    def __rpow__(self, base):
        a, b = promote_operands(self, base)
        return ops.Pow.apply(b, a)

    def __matmul__(self, other):
        return ops.MatMul.apply(*promote_operands(self, other))

    def __rmatmul__(self, other):
        a, b = promote_operands(self, other)
        return ops.MatMul.apply(b, a)

    def __neg__(self):
        return ops.Neg.apply(self)

    # In place: ``p -= lr * p.grad`` under ``no_grad`` changes ``p`` itself, as in PyTorch,
    # so the update of a parameter in a loop reaches the model (without these, Python would
    # rebind ``p`` to a new tensor and leave the model as it was). Every change bumps the
    # version counter, so a backward that saved the old values refuses to use the new ones.
    # While the graph is recorded, a leaf that requires grad cannot change (its gradient
    # would be wrong); any other tensor changes in place and takes the op as its history:
    # after ``h += x``, ``h.grad_fn`` is the Add, whose input is ``h`` as it was.

    def _in_place(self, other, ufunc, out_of_place, needs_old_value: bool) -> Tensor:
        if not self._records_in_place(other):
            other = promote_operands(self, other)[1].array  # int8 += 300 wraps, as PyTorch
            try:
                ufunc(self.array, other, out=self.array, casting="same_kind")
            except (TypeError, ValueError) as error:  # a wider dtype, or a larger shape
                kind = TypeError if isinstance(error, TypeError) else RuntimeError
                raise kind(f"in-place {ufunc.__name__}: cannot update a tensor of shape "
                           f"{self.shape} and dtype {self.dtype}: {error}") from None
            self.bump_version()
            return self
        self._refuse_leaf_in_place(ufunc.__name__)
        old = self
        if needs_old_value:  # the op's backward reads it: keep the values before the change
            old = Tensor.wrap(self.array.copy(), self._requires_grad)
            old.grad_fn = self.grad_fn
        self._assign_in_place(out_of_place(old, other), ufunc.__name__)
        return self

    def _records_in_place(self, other) -> bool:
        """Whether an in-place change of this tensor by ``other`` is recorded in the graph."""
        return (this_thread.modes.grad_enabled and self.array.dtype.kind == "f"
                and (self._requires_grad
                     or (isinstance(other, Tensor) and other._requires_grad)))

    def _refuse_leaf_in_place(self, op: str) -> None:
        if self.grad_fn is None and self._requires_grad:
            raise RuntimeError(
                f"a leaf Variable that requires grad is being used in an in-place operation "
                f"({op}): its gradient would be wrong. Update parameters under "
                "`with mg.no_grad():`"
            )

    def _assign_in_place(self, result: Tensor, op: str) -> None:
        """While recording: this tensor's memory takes ``result``'s values, and the tensor
        takes ``result``'s place in the graph. Checked first, so a refusal changes nothing."""
        if result.shape != self.shape:
            raise RuntimeError(
                f"in-place {op}: the result has shape {result.shape}, which cannot be "
                f"written into a tensor of shape {self.shape}"
            )
        if not np.can_cast(result.dtype, self.dtype, "same_kind"):
            raise TypeError(f"in-place {op}: result type {result.dtype} can't be cast to "
                            f"the desired output type {self.dtype}")
        view = engine.view_source(self)
        if view is None:
            self.array[...] = result.array
            self.bump_version()
            engine.take_history(self, result)
        elif isinstance(view, ops.GetItem):
            # A slice of a tensor in the graph (``t[1:3] += v`` makes one): the change goes
            # through that tensor (``t[1:3] = ...``), so its history records it too, and this
            # slice is again the slice of the tensor as it is now.
            source = engine.view_source_tensor(view)
            source[view.key] = result
            engine.take_history(self, source[view.key])
        else:
            raise RuntimeError(
                f"in-place {op} on the output of {view.name}, a view of a tensor in the "
                "graph, is not supported (the change would not reach that tensor's "
                "gradient); change the tensor itself, or a .clone() of the view"
            )

    def __iadd__(self, other):
        return self._in_place(other, np.add, Tensor.__add__, needs_old_value=False)

    def __isub__(self, other):
        return self._in_place(other, np.subtract, Tensor.__sub__, needs_old_value=False)

    def __imul__(self, other):
        return self._in_place(other, np.multiply, Tensor.__mul__, needs_old_value=True)

    def __itruediv__(self, other):
        return self._in_place(other, np.true_divide, Tensor.__truediv__, needs_old_value=True)

    def __setitem__(self, key, value) -> None:
        """``t[key] = value``, in place, as in PyTorch: ``value`` is broadcast to the
        selected positions and cast to this tensor's dtype. While the graph is recorded, the
        gradient flows to ``value`` and, away from ``key``, to the old values of ``t``."""
        key = _normalize_key(key)
        layout = _TorchLayout.of(key, self.shape)
        if layout is not None:  # the value, laid out as NumPy's result of the NumPy key
            value = layout.to_numpy(value if isinstance(value, Tensor) else Tensor(value),
                                    self.shape)
            key = layout.key
        if not self._records_in_place(value):
            values = value.array if isinstance(value, Tensor) else to_array(value)
            try:  # NumPy checks the key and the shapes before it writes anything
                self.array[key] = values
            except (TypeError, ValueError) as error:
                raise RuntimeError(f"t[key] = value: cannot write a value of shape "
                                   f"{values.shape} into a tensor of shape {self.shape} at "
                                   f"{key!r}: {error}") from None
            self.bump_version()
            return
        if self.grad_fn is None and self._requires_grad:
            raise RuntimeError(
                "a view of a leaf Variable that requires grad is being used in an in-place "
                "operation (t[key] = value): its gradient would be wrong. Update parameters "
                "under `with mg.no_grad():`"
            )
        value = value if isinstance(value, Tensor) else Tensor(value)
        if value.dtype != self.dtype:
            value = value.to(self.dtype)
        try:
            result = ops.SetItem.apply(self, value, key)
        except ValueError as error:
            raise RuntimeError(f"t[key] = value: cannot write a value of shape {value.shape} "
                               f"into a tensor of shape {self.shape} at {key!r}: "
                               f"{error}") from None
        self._assign_in_place(result, "t[key] = value")

    def __pos__(self):
        return self

    # (``div``, with its ``rounding_mode``, is an ElementwiseMethod)
    add, sub, mul, pow, matmul, neg = (
        __add__, __sub__, __mul__, __pow__, __matmul__, __neg__
    )

    # -- comparisons: boolean tensors, never differentiable -------------------------------

    def _compare(self, other, ufunc) -> Tensor:
        other = other.array if isinstance(other, Tensor) else other
        return Tensor.wrap(ufunc(self.array, other))

    def __eq__(self, other):
        return self._compare(other, np.equal)

    def __ne__(self, other):
        return self._compare(other, np.not_equal)

    def __lt__(self, other):
        return self._compare(other, np.less)

    def __le__(self, other):
        return self._compare(other, np.less_equal)

    def __gt__(self, other):
        return self._compare(other, np.greater)

    def __ge__(self, other):
        return self._compare(other, np.greater_equal)

    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__

    # -- elementwise ----------------------------------------------------------------------

    def exp(self):
        return ops.Exp.apply(self._float())

    def log(self):
        return ops.Log.apply(self._float())

    def sqrt(self):
        return ops.Sqrt.apply(self._float())

    def abs(self):
        return ops.Abs.apply(self)

    def sin(self):
        return ops.Sin.apply(self._float())

    def cos(self):
        return ops.Cos.apply(self._float())

    def tanh(self):
        return ops.Tanh.apply(self._float())

    def sigmoid(self):
        return ops.Sigmoid.apply(self._float())

    def relu(self):
        return ops.ReLU.apply(self)

    def leaky_relu(self, negative_slope: float = 0.01):
        return ops.LeakyReLU.apply(self, negative_slope)

    def erf(self):
        return ops.Erf.apply(self._float())

    def gelu(self, approximate: str = "none"):
        """x·Φ(x), with Φ the standard normal CDF; ``approximate="tanh"`` uses
        ½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))."""
        if approximate == "none":
            return 0.5 * self * (1.0 + (self * _SQRT_HALF).erf())
        if approximate == "tanh":
            inner = _SQRT_2_OVER_PI * (self + 0.044715 * self * self * self)
            return 0.5 * self * (1.0 + inner.tanh())
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")

    def clamp(self, min: float | None = None, max: float | None = None):
        if min is None and max is None:
            raise ValueError("clamp: at least one of min and max must be given")
        return ops.Clamp.apply(self, min, max)

    clip = clamp

    def maximum(self, other):
        return ops.Maximum.apply(*promote_operands(self, other))

    def minimum(self, other):
        return ops.Minimum.apply(*promote_operands(self, other))

    def where(self, condition, other):
        """``where(condition, self, other)``, as ``torch.Tensor.where``."""
        return where(condition, self, other)

    # -- reductions -----------------------------------------------------------------------

    def sum(self, dim=None, keepdim: bool = False, *, dtype=None, axis=None):
        t = self if dtype is None else self.to(dtype)
        dim = _dim_or_axis(dim, axis, "sum")
        return ops.Sum.apply(t, reduction_dims(dim, self.ndim, "sum"), keepdim)

    def mean(self, dim=None, keepdim: bool = False, *, dtype=None, axis=None):
        t = self if dtype is None else self.to(dtype)
        dims = reduction_dims(_dim_or_axis(dim, axis, "mean"), self.ndim, "mean")
        count = _count(self.shape, dims)
        # Divide (not multiply by 1/N): the gradient grad/N is then exact, as PyTorch's.
        return ops.Sum.apply(t, dims, keepdim) / (count if count else float("nan"))

    def var(self, dim=None, keepdim: bool = False, correction: int = 1, unbiased=None, *,
            axis=None):
        """Variance, with Bessel's correction by default (divide by N - correction)."""
        if unbiased is not None:
            correction = 1 if unbiased else 0
        dims = reduction_dims(_dim_or_axis(dim, axis, "var"), self.ndim, "var")
        count = _count(self.shape, dims)
        centered = self - ops.Sum.apply(self, dims, True) / (count if count else float("nan"))
        squares = ops.Sum.apply(centered * centered, dims, keepdim)
        divisor = count - correction
        return squares * (1.0 / divisor if divisor > 0 else float("nan"))

    def std(self, dim=None, keepdim: bool = False, correction: int = 1, unbiased=None, *,
            axis=None):
        """Standard deviation, √var (its own op: where all elements are equal, the gradient
        is 0 as in PyTorch, not the NaN of √'s infinite slope times zero)."""
        if unbiased is not None:
            correction = 1 if unbiased else 0
        dims = reduction_dims(_dim_or_axis(dim, axis, "std"), self.ndim, "std")
        return ops.Std.apply(self._float(), dims, keepdim, correction)

    def max(self, dim=None, keepdim: bool = False, *, axis=None):
        """The largest value; along one ``dim``, the named tuple ``(values, indices)`` as
        ``torch.max`` (the gradient goes to the first maximal element, the one ``indices``
        names); over a tuple of dims, the values only (as ``torch.amax``). ``max(other)``
        with a tensor is the elementwise ``maximum``."""
        if isinstance(dim, Tensor):  # torch.max(a, b) is the elementwise maximum
            return self.maximum(dim)
        return _extreme(self, _dim_or_axis(dim, axis, "max"), keepdim, ops.Max, np.argmax,
                        return_types.max, "max")

    def min(self, dim=None, keepdim: bool = False, *, axis=None):
        """The smallest value; along one ``dim``, ``(values, indices)`` (see ``max``)."""
        if isinstance(dim, Tensor):
            return self.minimum(dim)
        return _extreme(self, _dim_or_axis(dim, axis, "min"), keepdim, ops.Min, np.argmin,
                        return_types.min, "min")

    def logsumexp(self, dim=None, keepdim: bool = False, *, axis=None):
        dims = reduction_dims(_dim_or_axis(dim, axis, "logsumexp"), self.ndim, "logsumexp")
        return ops.LogSumExp.apply(self, dims, keepdim)

    def softmax(self, dim: int | None = None, dtype=None, *, axis=None):
        t = self if dtype is None else self.to(dtype)
        dim = _dim_or_axis(dim, axis, "softmax")
        dims = reduction_dims(dim, self.ndim, "softmax")  # None on a 0-d tensor: all of it
        return ops.Softmax.apply(t, dims and dims[0])

    def log_softmax(self, dim: int | None = None, dtype=None, *, axis=None):
        t = self if dtype is None else self.to(dtype)
        dims = reduction_dims(_dim_or_axis(dim, axis, "log_softmax"), self.ndim, "log_softmax")
        return ops.LogSoftmax.apply(t, dims and dims[0])

    def argmax(self, dim: int | None = None, keepdim: bool = False, *, axis=None) -> Tensor:
        return _arg_reduce(self, np.argmax, _dim_or_axis(dim, axis, "argmax"), keepdim, "argmax")

    def argmin(self, dim: int | None = None, keepdim: bool = False, *, axis=None) -> Tensor:
        return _arg_reduce(self, np.argmin, _dim_or_axis(dim, axis, "argmin"), keepdim, "argmin")

    # -- shape ----------------------------------------------------------------------------

    def reshape(self, *shape):
        shape = shape_from_args(shape, "reshape", "shape")
        if shape == self.shape:
            return self
        return ops.Reshape.apply(self, shape)

    view = reshape

    def flatten(self, start_dim: int = 0, end_dim: int = -1):
        if self.ndim == 0:
            return self.reshape(1)
        (start,) = normalize_dims(start_dim, self.ndim, "flatten")
        (end,) = normalize_dims(end_dim, self.ndim, "flatten")
        if start > end:
            raise engine.ShapeError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
        shape = self.shape[:start] + (-1,) + self.shape[end + 1 :]
        return self.reshape(shape)

    def permute(self, *dims):
        dims = shape_from_args(dims, "permute", "dims")
        if len(dims) != self.ndim or sorted(normalize_dims(dims, self.ndim, "permute")) != list(
            range(self.ndim)
        ):
            raise engine.ShapeError(
                f"permute: dims {dims} are not a permutation of the {self.ndim} dims "
                f"of a tensor of shape {self.shape}"
            )
        return ops.Permute.apply(self, normalize_dims(dims, self.ndim, "permute"))

    def transpose(self, dim0: int, dim1: int):
        (dim0,) = normalize_dims(dim0, self.ndim, "transpose")
        (dim1,) = normalize_dims(dim1, self.ndim, "transpose")
        if dim0 == dim1:  # also dims 0 and -1 of a 0-d tensor: nothing moves
            return self
        dims = list(range(self.ndim))
        dims[dim0], dims[dim1] = dims[dim1], dims[dim0]
        return ops.Permute.apply(self, tuple(dims))

    def squeeze(self, dim=None, *, axis=None):
        dim = _dim_or_axis(dim, axis, "squeeze")
        if dim is None:
            dims = tuple(i for i, n in enumerate(self.shape) if n == 1)
        else:
            dims = tuple(d for d in normalize_dims(dim, self.ndim, "squeeze")
                         if self.ndim > 0 and self.shape[d] == 1)
        return self.reshape(tuple(n for i, n in enumerate(self.shape) if i not in dims))

    def unsqueeze(self, dim: int | None = None, *, axis=None):
        dim = _dim_or_axis(dim, axis, "unsqueeze")
        if dim is None:
            raise TypeError("unsqueeze() missing required argument 'dim'")
        (dim,) = normalize_dims(dim, self.ndim + 1, "unsqueeze")
        return self.reshape(self.shape[:dim] + (1,) + self.shape[dim:])

    def expand(self, *sizes):
        sizes = shape_from_args(sizes, "expand")
        lead = len(sizes) - self.ndim
        if lead < 0:
            raise engine.ShapeError(
                f"expand: the new shape {sizes} has fewer dims than the tensor's {self.shape}"
            )
        shape = tuple(self.shape[i - lead] if n == -1 and i >= lead else n
                      for i, n in enumerate(sizes))
        return self.broadcast_to(shape)

    def broadcast_to(self, *shape):
        shape = shape_from_args(shape, "broadcast_to", "shape")
        if shape == self.shape:
            return self
        return ops.Expand.apply(self, shape)

    def __getitem__(self, key):
        key = _normalize_key(key)
        layout = _TorchLayout.of(key, self.shape)
        if layout is None:
            return ops.GetItem.apply(self, key)
        return layout.from_numpy(ops.GetItem.apply(self, layout.key))


def _dim_or_axis(dim, axis, op: str):
    """``axis=`` is an alias of ``dim=`` in PyTorch's reductions (NumPy's name)."""
    if axis is None:
        return dim
    if dim is not None:
        raise TypeError(f"{op}(): got both dim={dim!r} and its alias axis={axis!r}")
    return axis


def _extreme(t: Tensor, dim, keepdim: bool, op, arg_func, result_type, name: str):
    """``max``/``min``: over all or several dims the values, along one dim the values with
    their indices."""
    if not isinstance(dim, int | np.integer):
        return op.apply(t, reduction_dims(dim, t.ndim, name), keepdim, False)
    dims = reduction_dims(dim, t.ndim, name)
    indices = _arg_reduce(t, arg_func, dim, keepdim, name)  # also refuses an empty dim
    return result_type(op.apply(t, dims, keepdim, t.ndim > 0), indices)


_SQRT_HALF = 0.7071067811865476
_SQRT_2_OVER_PI = 0.7978845608028654


def _arg_reduce(t: Tensor, func, dim, keepdim: bool, op: str) -> Tensor:
    if dim is None:
        if t.array.size == 0:  # PyTorch's IndexError (max() gives a RuntimeError)
            raise IndexError(f"{op}(): Expected reduction dim to be specified for an empty "
                               f"tensor (shape {t.shape}); give the dim to reduce")
        index = func(t.array)  # an index into the flattened tensor, as in PyTorch
        return Tensor.wrap(np.asarray(index, dtype=np.int64).reshape((1,) * t.ndim if keepdim
                                                                       else ()))
    (axis,) = normalize_dims(dim, t.ndim, op)
    if t.ndim == 0:
        return Tensor.wrap(np.asarray(0, dtype=np.int64))
    if t.shape[axis] == 0:
        raise IndexError(f"{op}(): Expected reduction dim {axis} to have non-zero size "
                         f"(the tensor has shape {t.shape})")
    return Tensor.wrap(func(t.array, axis=axis, keepdims=keepdim).astype(np.int64))


def _normalize_key(key):
    """Index keys with Tensors or lists in them, as the NumPy keys they stand for."""
    if isinstance(key, tuple):
        return tuple(_normalize_key_part(k) for k in key)
    return _normalize_key_part(key)


def _normalize_key_part(k):
    if isinstance(k, Tensor):
        return k.array
    if isinstance(k, list):
        return np.asarray(k)
    return k


def _is_integer(k) -> bool:
    """An int index (also a 0-d integer tensor, as PyTorch takes it): it selects, and drops
    its dim."""
    if isinstance(k, np.ndarray):
        return k.ndim == 0 and k.dtype.kind in "iu"
    return isinstance(k, int | np.integer) and not isinstance(k, bool | np.bool_)


def _is_advanced(k) -> bool:
    return isinstance(k, np.ndarray) and not _is_integer(k)


def _advanced_together(parts) -> bool:
    """Whether the advanced indices are next to each other (their dims then stay in place;
    apart, they go first)."""
    places = [i for i, k in enumerate(parts) if _is_advanced(k)]
    return places[-1] - places[0] + 1 == len(places)


class _TorchLayout:
    """PyTorch's advanced indexing where it differs from NumPy's. PyTorch applies the int
    indices first (each drops its dim) and then the advanced ones, so whether those are
    next to each other is judged without the ints: ``x[0, :, [0, 1]]`` of shape (2, 3, 4)
    is (3, 2) in PyTorch, while NumPy counts the 0 as an advanced index apart from [0, 1]
    and puts their dims first, (2, 3). For such keys the ints become one-element slices
    (``key``), so that NumPy keeps their dims, and ``from_numpy`` drops those dims and
    moves the advanced dims to PyTorch's place (``to_numpy`` is the way back, for
    ``t[key] = value``)."""

    def __init__(self, key: tuple, int_dims: list[bool], numpy_place: int | None,
                 torch_place: int | None):
        self.key = key
        self.int_dims = int_dims  # per basic dim of NumPy's result: whether an int made it
        self.numpy_place, self.torch_place = numpy_place, torch_place  # None: in front

    @classmethod
    def of(cls, key, shape) -> _TorchLayout | None:
        """The layout of ``key`` (normalized) on a tensor of ``shape``, or None when NumPy's
        rule gives PyTorch's result (no int next to an advanced index)."""
        parts = key if isinstance(key, tuple) else (key,)
        if not (any(_is_integer(k) for k in parts) and any(_is_advanced(k) for k in parts)):
            return None
        consumed = sum(k.ndim if _is_advanced(k) and k.dtype == np.bool_ else
                       0 if k is None or k is Ellipsis else 1 for k in parts)
        numpy_key, int_dims, dim = [], [], 0
        numpy_place = torch_place = None
        for k in parts:
            if _is_advanced(k):
                if numpy_place is None:
                    numpy_place, torch_place = len(int_dims), int_dims.count(False)
                numpy_key.append(k)
                dim += k.ndim if k.dtype == np.bool_ else 1
            elif _is_integer(k):
                size = shape[dim] if dim < len(shape) else 0
                if not -size <= int(k) < size:
                    raise IndexError(f"index {int(k)} is out of bounds for dimension {dim} "
                                     f"with size {size}")
                start = int(k) % size
                numpy_key.append(slice(start, start + 1))
                int_dims.append(True)
                dim += 1
            else:
                spanned = len(shape) - consumed if k is Ellipsis else 0 if k is None else 1
                int_dims += [False] * (spanned if k is not None else 1)
                numpy_key.append(k)
                dim += spanned
        int_dims += [False] * (len(shape) - dim)
        if not _advanced_together(numpy_key):
            numpy_place = None
        if not _advanced_together([k for k in parts if not _is_integer(k)]):
            torch_place = None
        return cls(tuple(numpy_key), int_dims, numpy_place, torch_place)

    def _orders(self, advanced: int) -> tuple[list[int], list[int]]:
        """The axes of NumPy's result (``advanced`` dims from the advanced indices) in
        PyTorch's order, and the axes the ints left (of size 1)."""
        place = 0 if self.numpy_place is None else self.numpy_place
        basic_axes = [b if b < place else b + advanced for b in range(len(self.int_dims))]
        kept = [a for a, is_int in zip(basic_axes, self.int_dims) if not is_int]
        ints = [a for a, is_int in zip(basic_axes, self.int_dims) if is_int]
        torch_place = 0 if self.torch_place is None else self.torch_place
        advanced_axes = list(range(place, place + advanced))
        return kept[:torch_place] + advanced_axes + kept[torch_place:], ints

    def from_numpy(self, out: Tensor) -> Tensor:
        order, ints = self._orders(out.ndim - len(self.int_dims))
        moved = out.permute(*order, *ints)
        return moved.reshape(moved.shape[:len(order)])

    def to_numpy(self, value: Tensor, shape) -> Tensor:
        """``value`` broadcast to PyTorch's result, laid out as NumPy's result."""
        numpy_shape = np.broadcast_to(np.zeros((), np.int8), shape)[self.key].shape
        order, ints = self._orders(len(numpy_shape) - len(self.int_dims))
        value = value.broadcast_to(tuple(numpy_shape[a] for a in order))
        moved = value.reshape(tuple(value.shape) + (1,) * len(ints))
        return moved.permute(*np.argsort(order + ints).tolist())


# ---------------------------------------------------------------------------------------
# Functions on tensors that are not methods
# ---------------------------------------------------------------------------------------


def where(condition: Any, input: Any = None, other: Any = None) -> Tensor:
    """Elements of ``input`` where ``condition`` holds, else of ``other`` (broadcast).
    ``where(condition)`` alone is ``condition.nonzero(as_tuple=True)``, as in PyTorch."""
    if input is None and other is None:
        condition = condition if isinstance(condition, Tensor) else Tensor(condition)
        return condition.nonzero(as_tuple=True)
    cond = condition.array if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype != bool_:
        cond = cond.astype(bool)
    if isinstance(input, Tensor):
        input, other = promote_operands(input, other)
    elif isinstance(other, Tensor):
        other, input = promote_operands(other, input)
    else:
        input, other = promote_operands(Tensor(input), other)
    return ops.Where.apply(cond, input, other)


# Tensor's methods apply ops (ops.py) and start the backward walk (engine.py); both modules
# build on Tensor, so they are imported once it is defined, and used at call time.
from minigrad import engine, ops  # noqa: E402
