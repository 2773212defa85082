"""The Tensor and the autodiff engine.

Three pieces, and together they are all of reverse-mode automatic differentiation:

* ``Tensor`` wraps a NumPy array (``.data``) and remembers the ``Function`` node that
  made it (``.grad_fn``). Tensors made by the user are *leaves*: they have no ``grad_fn``.
* ``Function`` is one op: ``forward`` computes on NumPy arrays, ``backward`` turns the
  gradient of the op's output into gradients of its inputs (a vector-Jacobian product).
  ``SomeOp.apply(*args)`` runs ``forward`` and, when a gradient is wanted, records the
  call as a node of the graph. Every built-in op (``minigrad/ops.py``) is defined this way.
* ``run_backward`` walks the recorded graph once, from the output back to the leaves,
  visiting each node only after every node that used its output has sent it a gradient.

Each ``backward`` is written with Tensor ops. Normally it runs with recording switched off,
so it costs no more than NumPy code; with ``create_graph=True`` the gradient computation is
itself recorded, and gradients of gradients (Hessian-vector products, ...) come for free.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int64 = np.dtype(np.int64)
int32 = np.dtype(np.int32)
bool_ = np.dtype(np.bool_)

_FLOAT_DTYPES = (float32, float64)


# ---------------------------------------------------------------------------------------
# Grad mode: whether ops record the graph
# ---------------------------------------------------------------------------------------

_grad_enabled = True
_anomaly_enabled = False


def is_grad_enabled() -> bool:
    """True when ops record the graph for backward (the default)."""
    return _grad_enabled


def _set_grad_enabled(mode: bool) -> bool:
    global _grad_enabled
    previous, _grad_enabled = _grad_enabled, bool(mode)
    return previous


class _GradModeSwitch:
    """A context manager that sets grad mode on entry and restores it on exit.

    Also a decorator: ``@no_grad`` or ``@no_grad()`` on a function runs it in that mode.
    """

    _mode = True

    def __new__(cls, func: Callable | None = None):
        self = super().__new__(cls)
        if func is None:
            return self
        if not callable(func):
            raise TypeError(f"{cls.__name__}() takes no arguments, got {func!r}")
        return self(func)

    def __enter__(self):
        self._previous = _set_grad_enabled(self._mode)
        return self

    def __exit__(self, *exc_info):
        _set_grad_enabled(self._previous)
        return False

    def __call__(self, func: Callable) -> Callable:
        switch = type(self)

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with switch():
                return func(*args, **kwargs)

        return wrapper


class no_grad(_GradModeSwitch):
    """Ops inside do not record the graph: their results have ``requires_grad=False``."""

    _mode = False


class enable_grad(_GradModeSwitch):
    """Ops inside record the graph, even within ``no_grad``."""

    _mode = True


class set_grad_enabled(_GradModeSwitch):
    """Record the graph exactly when ``mode``: at once when called, as in PyTorch
    (``mg.set_grad_enabled(False)`` switches recording off until switched on again), and
    within ``with set_grad_enabled(mode):``, which restores the previous mode on exit."""

    def __new__(cls, mode: bool):
        self = object.__new__(cls)
        self._mode = bool(mode)
        self._previous = _set_grad_enabled(self._mode)
        return self

    def __enter__(self):
        return self  # the mode was set when the object was made


class detect_anomaly:
    """Inside, the first op whose forward or backward makes a NaN or Inf raises an error
    naming that op. Slow (every result is checked); for debugging only."""

    def __enter__(self):
        global _anomaly_enabled
        self._previous, _anomaly_enabled = _anomaly_enabled, True
        return self

    def __exit__(self, *exc_info):
        global _anomaly_enabled
        _anomaly_enabled = self._previous
        return False


def _check_finite(array: np.ndarray, where: str) -> None:
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        kind = "NaN" if np.isnan(array).any() else "Inf"
        raise FloatingPointError(f"detect_anomaly: {where} produced {kind} values")


# ---------------------------------------------------------------------------------------
# Tensor
# ---------------------------------------------------------------------------------------


def _to_array(data: Any, dtype: Any = None) -> np.ndarray:
    """Turn user data into an ndarray following minigrad's dtype rules:
    Python floats become float32, NumPy float arrays keep their dtype, integers stay integer."""
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        dtype = np.dtype(dtype)
        if dtype.kind not in "fiub" or (dtype.kind == "f" and dtype not in _FLOAT_DTYPES):
            raise TypeError(f"Tensor: unsupported dtype {dtype}; minigrad computes in "
                            "float32 or float64 (and keeps integer and boolean data)")
        return np.array(data, dtype=dtype)
    if isinstance(data, np.ndarray | np.generic):
        array = np.array(data)
    else:
        array = np.array(data)
        if array.dtype == float64:  # Python floats: float32 by default, as in PyTorch
            array = array.astype(float32)
    if array.dtype.kind == "f" and array.dtype not in _FLOAT_DTYPES:
        array = array.astype(float32)  # float16 and long double are computed in float32
    elif array.dtype.kind not in "fiub":
        raise TypeError(
            f"Tensor: unsupported data of dtype {array.dtype}; "
            "use numbers, nested lists of numbers or numeric NumPy arrays"
        )
    return array


to_array = _to_array  # transitional public name (issue 11 renames _to_array to to_array)


def _shape_from_args(args: tuple, op: str) -> tuple[int, ...]:
    """``f(2, 3)`` and ``f((2, 3))`` both mean shape (2, 3)."""
    if len(args) == 1 and isinstance(args[0], Sequence | np.ndarray):
        args = tuple(args[0])
    try:
        shape = tuple(int(n) for n in args)
    except (TypeError, ValueError):
        raise TypeError(f"{op}: shape must be integers, got {args!r}") from None
    return shape


class Tensor:
    """An n-dimensional array that can record the operations applied to it.

    ``Tensor(data, requires_grad=False, dtype=None)``: ``data`` is a number, a nested list,
    a NumPy array or a Tensor (copied). Python floats become ``float32``; NumPy arrays keep
    their float dtype; integer data stays integer and cannot require grad.
    """

    __slots__ = ("data", "_grad", "_requires_grad", "grad_fn", "_retains_grad", "__weakref__")

    # NumPy defers to Tensor: ``ndarray + Tensor`` calls ``Tensor.__radd__`` and gives a Tensor.
    __array_priority__ = 1000
    __array_ufunc__ = None

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None):
        self.data = _to_array(data, dtype)
        self._grad: Tensor | None = None
        self.grad_fn: Function | None = None
        self._retains_grad = False
        self._requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _make(cls, data: np.ndarray, requires_grad: bool = False) -> Tensor:
        """Wrap an array without copying or checking it (the fast path the ops use)."""
        t = object.__new__(Tensor)
        t.data = data
        t._grad = None
        t._requires_grad = requires_grad
        t.grad_fn = None
        t._retains_grad = False
        return t

    wrap = _make  # transitional public name (issue 11 renames _make to wrap)

    # -- attributes -----------------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def T(self) -> Tensor:
        return self.permute(*reversed(range(self.ndim)))

    def size(self, dim: int | None = None):
        return self.shape if dim is None else self.shape[dim]

    def dim(self) -> int:
        return self.ndim

    def numel(self) -> int:
        return self.data.size

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def numpy(self) -> np.ndarray:
        return self.data

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        """``np.asarray(t)`` (and plotting, testing helpers) see the data, not an object."""
        if copy:
            return np.array(self.data, dtype=dtype)
        return self.data if dtype is None else self.data.astype(dtype, copy=False)

    def item(self) -> float | int | bool:
        if self.data.size != 1:
            raise ValueError(
                f"item(): only a tensor with one element can be converted to a Python "
                f"number, this one has shape {self.shape}"
            )
        return self.data.item()

    def tolist(self):
        return self.data.tolist()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(
                f"the truth value of a tensor of shape {self.shape} is ambiguous; "
                "use .any() or .all()"
            )
        return bool(self.data)

    def any(self) -> bool:
        return bool(self.data.any())

    def all(self) -> bool:
        return bool(self.data.all())

    __hash__ = object.__hash__  # identity, so tensors can be dict keys despite __eq__

    def __repr__(self) -> str:
        data = self.data
        exact = (data.dtype.kind != "f" or not np.isfinite(data).all()
                 or (data == data.round()).all())
        body = np.array2string(data, separator=", ", prefix="tensor(",
                               precision=None if exact else 4,
                               floatmode="maxprec" if exact else "fixed")
        extras = []
        if self.dtype not in (float32, int64, bool_):
            extras.append(f"dtype={self.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name}>")
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
                raise ValueError(f"grad of shape {grad.shape} assigned to a tensor of shape "
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
        if requires_grad and self.data.dtype.kind != "f":
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

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after backward (leaves always keep it)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad() on a tensor that does not require grad")
        if self.grad_fn is not None:
            self._retains_grad = True
            self.grad_fn._retains_output = True

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    def detach(self) -> Tensor:
        """The same data (shared, not copied) as a new leaf outside the graph."""
        return Tensor._make(self.data)

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
        seed = _seed_gradient(self, gradient, "backward()")
        if retain_graph is None:
            retain_graph = create_graph
        run_backward([self], [seed], retain_graph, create_graph)

    # -- conversions ----------------------------------------------------------------------

    def to(self, dtype: Any) -> Tensor:
        dtype = np.dtype(dtype)
        if dtype == self.dtype:
            return self
        return ops.Cast.apply(self, dtype)

    def float(self) -> Tensor:
        return self.to(float32)

    def double(self) -> Tensor:
        return self.to(float64)

    def long(self) -> Tensor:
        return self.to(int64)

    def clone(self) -> Tensor:
        return ops.Clone.apply(self)

    # -- operands -------------------------------------------------------------------------

    def _operands(self, other: Any) -> tuple[Tensor, Tensor]:
        """``(self, other)`` as Tensors for a binary op, promoted as PyTorch does rather than
        as NumPy would: an integer or boolean operand takes the float dtype of the other one
        (NumPy makes int64 with float32 a float64), Python numbers take the tensor's dtype,
        and a Python float with an integer tensor gives float32."""
        if isinstance(other, Tensor) and other.data.dtype is self.data.dtype:
            return self, other  # the common case, first
        a = self
        python_number = False
        if isinstance(other, Tensor):
            b = other
        else:
            array = np.asarray(other)
            if array.dtype.kind not in "fiub":
                raise TypeError(f"unsupported operand of type {type(other).__name__} "
                                f"(dtype {array.dtype}) for a tensor of dtype {self.dtype}")
            python_number = not isinstance(other, np.ndarray)
            b = Tensor._make(array)
        # Casts only where NumPy's result would differ (a boolean operand keeps the float
        # dtype of the other already). Integer tensors never require grad: no graph is lost.
        kind_a, kind_b = a.data.dtype.kind, b.data.dtype.kind
        if kind_a == "f":
            if kind_b in "iu" or python_number:
                b = Tensor._make(b.data.astype(a.data.dtype))
        elif kind_b == "f":
            if python_number:
                a, b = Tensor._make(a.data.astype(float32)), Tensor._make(b.data.astype(float32))
            elif kind_a in "iu":
                a = Tensor._make(a.data.astype(b.data.dtype))
        return a, b

    def _float(self) -> Tensor:
        """Integer and boolean tensors as float32, for the floating-point functions (exp, log,
        ...): PyTorch computes those in the default float dtype, not in float64."""
        return self if self.data.dtype.kind == "f" else Tensor._make(self.data.astype(float32))

    def _operand(self, other: Any) -> Tensor:
        """``other`` as a Tensor for a binary op with (float) ``self``."""
        return self._operands(other)[1]

    # -- arithmetic -----------------------------------------------------------------------

    def __add__(self, other):
        return ops.Add.apply(*self._operands(other))

    def __radd__(self, other):
        a, b = self._operands(other)
        return ops.Add.apply(b, a)

    def __sub__(self, other):
        return ops.Sub.apply(*self._operands(other))

    def __rsub__(self, other):
        a, b = self._operands(other)
        return ops.Sub.apply(b, a)

    def __mul__(self, other):
        return ops.Mul.apply(*self._operands(other))

    def __rmul__(self, other):
        a, b = self._operands(other)
        return ops.Mul.apply(b, a)

    def __truediv__(self, other):
        return ops.Div.apply(*_true_division(*self._operands(other)))

    def __rtruediv__(self, other):
        a, b = self._operands(other)
        return ops.Div.apply(*_true_division(b, a))

    def __pow__(self, exponent):
        return ops.Pow.apply(*self._operands(exponent))

    def __rpow__(self, base):
        a, b = self._operands(base)
        return ops.Pow.apply(b, a)

    def __matmul__(self, other):
        return ops.MatMul.apply(*self._operands(other))

    def __rmatmul__(self, other):
        a, b = self._operands(other)
        return ops.MatMul.apply(b, a)

    def __neg__(self):
        return ops.Neg.apply(self)

    # In place: ``p -= lr * p.grad`` under ``no_grad`` changes ``p`` itself, as in PyTorch,
    # so the update of a parameter in a loop reaches the model (without these, Python would
    # rebind ``p`` to a new tensor and leave the model as it was). While the graph is being
    # recorded, a leaf that requires grad cannot change (its gradient would be wrong), and a
    # tensor inside the graph is replaced by a new node: ``h += x`` means ``h = h + x``.

    def _in_place(self, other, ufunc, op) -> Tensor:
        if _grad_enabled and (self._requires_grad
                              or (isinstance(other, Tensor) and other._requires_grad)):
            if self.grad_fn is None and self._requires_grad:
                raise RuntimeError(
                    f"a leaf tensor that requires grad cannot be changed in place "
                    f"({ufunc.__name__}) while the graph is recorded; update parameters "
                    "under `with mg.no_grad():`"
                )
            return op(self, other)
        other = other.data if isinstance(other, Tensor) else other
        try:
            ufunc(self.data, other, out=self.data, casting="same_kind")
        except (TypeError, ValueError) as error:  # a wider dtype, or a larger shape
            kind = TypeError if isinstance(error, TypeError) else ValueError
            raise kind(f"in-place {ufunc.__name__}: cannot update a tensor of shape "
                       f"{self.shape} and dtype {self.dtype}: {error}") from None
        return self

    def __iadd__(self, other):
        return self._in_place(other, np.add, Tensor.__add__)

    def __isub__(self, other):
        return self._in_place(other, np.subtract, Tensor.__sub__)

    def __imul__(self, other):
        return self._in_place(other, np.multiply, Tensor.__mul__)

    def __itruediv__(self, other):
        return self._in_place(other, np.true_divide, Tensor.__truediv__)

    def __pos__(self):
        return self

    add, sub, mul, div, pow, matmul, neg = (
        __add__, __sub__, __mul__, __truediv__, __pow__, __matmul__, __neg__
    )

    # -- comparisons: boolean tensors, never differentiable -------------------------------

    def _compare(self, other, ufunc) -> Tensor:
        other = other.data if isinstance(other, Tensor) else other
        return Tensor._make(ufunc(self.data, other))

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
        return ops.Maximum.apply(*self._operands(other))

    def minimum(self, other):
        return ops.Minimum.apply(*self._operands(other))

    def where(self, condition, other):
        """``where(condition, self, other)``, as ``torch.Tensor.where``."""
        return where(condition, self, other)

    # -- reductions -----------------------------------------------------------------------

    def sum(self, dim=None, keepdim: bool = False):
        return ops.Sum.apply(self, _normalize_dims(dim, self.ndim, "sum"), keepdim)

    def mean(self, dim=None, keepdim: bool = False):
        dims = _normalize_dims(dim, self.ndim, "mean")
        count = _count(self.shape, dims)
        # Divide (not multiply by 1/N): the gradient grad/N is then exact, as PyTorch's.
        return ops.Sum.apply(self, dims, keepdim) / (count if count else float("nan"))

    def var(self, dim=None, keepdim: bool = False, correction: int = 1, unbiased=None):
        """Variance, with Bessel's correction by default (divide by N - correction)."""
        if unbiased is not None:
            correction = 1 if unbiased else 0
        dims = _normalize_dims(dim, self.ndim, "var")
        count = _count(self.shape, dims)
        centered = self - ops.Sum.apply(self, dims, True) / (count if count else float("nan"))
        squares = ops.Sum.apply(centered * centered, dims, keepdim)
        divisor = count - correction
        return squares * (1.0 / divisor if divisor > 0 else float("nan"))

    def std(self, dim=None, keepdim: bool = False, correction: int = 1, unbiased=None):
        """Standard deviation, √var (its own op: where all elements are equal, the gradient
        is 0 as in PyTorch, not the NaN of √'s infinite slope times zero)."""
        if unbiased is not None:
            correction = 1 if unbiased else 0
        dims = _normalize_dims(dim, self.ndim, "std")
        return ops.Std.apply(self._float(), dims, keepdim, correction)

    def max(self, dim=None, keepdim: bool = False):
        if isinstance(dim, Tensor):  # torch.max(a, b) is the elementwise maximum
            return self.maximum(dim)
        one_dim = isinstance(dim, int | np.integer)  # max(dim) as torch.max: to the first
        return ops.Max.apply(self, _normalize_dims(dim, self.ndim, "max"), keepdim, one_dim)

    def min(self, dim=None, keepdim: bool = False):
        if isinstance(dim, Tensor):
            return self.minimum(dim)
        one_dim = isinstance(dim, int | np.integer)
        return ops.Min.apply(self, _normalize_dims(dim, self.ndim, "min"), keepdim, one_dim)

    def logsumexp(self, dim=None, keepdim: bool = False):
        return ops.LogSumExp.apply(self, _normalize_dims(dim, self.ndim, "logsumexp"), keepdim)

    def softmax(self, dim: int):
        return ops.Softmax.apply(self, _normalize_dims(dim, self.ndim, "softmax")[0])

    def log_softmax(self, dim: int):
        return ops.LogSoftmax.apply(self, _normalize_dims(dim, self.ndim, "log_softmax")[0])

    def argmax(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return _arg_reduce(self, np.argmax, dim, keepdim, "argmax")

    def argmin(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return _arg_reduce(self, np.argmin, dim, keepdim, "argmin")

    # -- shape ----------------------------------------------------------------------------

    def reshape(self, *shape):
        shape = _shape_from_args(shape, "reshape")
        if shape == self.shape:
            return self
        return ops.Reshape.apply(self, shape)

    view = reshape

    def flatten(self, start_dim: int = 0, end_dim: int = -1):
        if self.ndim == 0:
            return self.reshape(1)
        (start,) = _normalize_dims(start_dim, self.ndim, "flatten")
        (end,) = _normalize_dims(end_dim, self.ndim, "flatten")
        if start > end:
            raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
        shape = self.shape[:start] + (-1,) + self.shape[end + 1 :]
        return self.reshape(shape)

    def permute(self, *dims):
        dims = _shape_from_args(dims, "permute")
        if len(dims) != self.ndim or sorted(_normalize_dims(dims, self.ndim, "permute")) != list(
            range(self.ndim)
        ):
            raise ValueError(
                f"permute: dims {dims} are not a permutation of the {self.ndim} dims "
                f"of a tensor of shape {self.shape}"
            )
        return ops.Permute.apply(self, _normalize_dims(dims, self.ndim, "permute"))

    def transpose(self, dim0: int, dim1: int):
        dim0, dim1 = _normalize_dims((dim0, dim1), self.ndim, "transpose")
        dims = list(range(self.ndim))
        dims[dim0], dims[dim1] = dims[dim1], dims[dim0]
        return ops.Permute.apply(self, tuple(dims))

    def squeeze(self, dim=None):
        if dim is None:
            dims = tuple(i for i, n in enumerate(self.shape) if n == 1)
        else:
            dims = tuple(d for d in _normalize_dims(dim, self.ndim, "squeeze")
                         if self.shape[d] == 1)
        return self.reshape(tuple(n for i, n in enumerate(self.shape) if i not in dims))

    def unsqueeze(self, dim: int):
        (dim,) = _normalize_dims(dim, self.ndim + 1, "unsqueeze")
        return self.reshape(self.shape[:dim] + (1,) + self.shape[dim:])

    def expand(self, *sizes):
        sizes = _shape_from_args(sizes, "expand")
        lead = len(sizes) - self.ndim
        if lead < 0:
            raise ValueError(
                f"expand: the new shape {sizes} has fewer dims than the tensor's {self.shape}"
            )
        shape = tuple(self.shape[i - lead] if n == -1 and i >= lead else n
                      for i, n in enumerate(sizes))
        return self.broadcast_to(shape)

    def broadcast_to(self, *shape):
        shape = _shape_from_args(shape, "broadcast_to")
        if shape == self.shape:
            return self
        return ops.Expand.apply(self, shape)

    def __getitem__(self, key):
        return ops.GetItem.apply(self, _normalize_key(key))


def _true_division(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    """``/`` of two integer tensors is a float32 division, as in PyTorch."""
    if a.data.dtype.kind != "f" and b.data.dtype.kind != "f":
        return Tensor._make(a.data.astype(float32)), Tensor._make(b.data.astype(float32))
    return a, b


def _seed_gradient(output: Tensor, gradient: Any, caller: str,
                   argument: str = "gradient") -> Tensor:
    """The gradient that starts a backward walk at ``output`` (given as ``argument``)."""
    if gradient is None:
        if output.data.size != 1:
            raise RuntimeError(
                f"{caller}: the output has shape {output.shape}, so its gradient cannot be "
                f"implied; pass {argument}= (a tensor of that shape), or reduce the output "
                "to a scalar first, e.g. .sum()"
            )
        return Tensor._make(np.ones_like(output.data))
    if not isinstance(gradient, Tensor):
        gradient = Tensor._make(np.asarray(gradient, dtype=output.dtype))
    if gradient.shape != output.shape:
        raise RuntimeError(
            f"{caller}: gradient has shape {gradient.shape} but the output has shape "
            f"{output.shape}"
        )
    return gradient


_SQRT_HALF = 0.7071067811865476
_SQRT_2_OVER_PI = 0.7978845608028654


def _normalize_dims(dim, ndim: int, op: str) -> tuple[int, ...] | None:
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
        raise ValueError(f"{op}: dim {dim} repeats a dimension")
    return tuple(out)


def _count(shape: tuple[int, ...], dims: tuple[int, ...] | None) -> int:
    """How many elements a reduction over ``dims`` combines into one."""
    if dims is None:
        return int(np.prod(shape, dtype=np.int64))
    return int(np.prod([shape[d] for d in dims if d < len(shape)], dtype=np.int64))


def _arg_reduce(t: Tensor, func, dim, keepdim: bool, op: str) -> Tensor:
    if dim is None:
        index = func(t.data)  # an index into the flattened tensor, as in PyTorch
        return Tensor._make(np.asarray(index, dtype=np.int64).reshape((1,) * t.ndim if keepdim
                                                                       else ()))
    (axis,) = _normalize_dims(dim, t.ndim, op)
    if t.ndim == 0:
        return Tensor._make(np.asarray(0, dtype=np.int64))
    return Tensor._make(func(t.data, axis=axis, keepdims=keepdim).astype(np.int64))


def _normalize_key(key):
    """Index keys with Tensors or lists in them, as the NumPy keys they stand for."""
    if isinstance(key, tuple):
        return tuple(_normalize_key_part(k) for k in key)
    return _normalize_key_part(key)


def _normalize_key_part(k):
    if isinstance(k, Tensor):
        return k.data
    if isinstance(k, list):
        return np.asarray(k)
    return k


# ---------------------------------------------------------------------------------------
# Function: one op of the graph
# ---------------------------------------------------------------------------------------


class Function:
    """One op: ``forward`` on NumPy arrays, ``backward`` on gradients.

    Subclass it and write two static methods, as in PyTorch::

        class Cube(mg.Function):
            @staticmethod
            def forward(ctx, x):               # x: an ndarray
                return x ** 3

            @staticmethod
            def backward(ctx, grad):           # grad: a Tensor shaped like the output
                (x,) = ctx.inputs              # the Tensors forward was applied to
                return grad * 3 * x * x        # one gradient per argument of forward

        y = Cube.apply(t)

    ``apply`` passes Tensors to ``forward`` as their arrays and anything else unchanged.
    ``backward`` returns one gradient per argument of ``forward`` (``None`` for arguments
    that need none; missing trailing ones count as ``None``). A gradient may be broadcast
    to a larger shape than its input: the engine sums it back to the input's shape.
    Written with Tensor ops, ``backward`` is differentiable itself (``create_graph=True``).

    The ``ctx`` passed to both methods is the node of the graph, an instance of the class:
    ``ctx.inputs`` are the arguments of ``apply``, ``ctx.output`` the Tensor it returned,
    and forward may store anything else on ``ctx`` for backward. What forward stores
    (``ctx.save_for_backward(...)`` included) are arrays: constants to backward. For a
    backward that is differentiable again, compute with ``ctx.inputs`` and ``ctx.output``.
    """

    inputs: tuple | None = None  # set when the call is recorded; None again once freed
    _retains_output = False  # set by ``retain_grad()`` on the output: keep its ``.grad``

    @staticmethod
    def forward(ctx, *args, **kwargs) -> np.ndarray:
        raise NotImplementedError

    @staticmethod
    def backward(ctx, grad: Tensor):
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **kwargs) -> Tensor:
        ctx = cls()
        arrays = [a.data if isinstance(a, Tensor) else a for a in args]
        try:
            data = cls.forward(ctx, *arrays, **kwargs)
        except (ValueError, IndexError, TypeError) as error:
            raise _op_error(cls.__name__, error, args) from error
        if type(data) is not np.ndarray:
            data = np.asarray(data)
        if _anomaly_enabled:
            _check_finite(data, f"the forward of {cls.__name__}")
        out = Tensor._make(data)
        if _grad_enabled:
            for a in args:
                if isinstance(a, Tensor) and a._requires_grad:
                    # Record the call: the output points at this node, the node at its inputs.
                    out._requires_grad = True
                    out.grad_fn = ctx
                    ctx.inputs = args
                    ctx._output_ref = weakref.ref(out)
                    break
        return out

    @property
    def name(self) -> str:
        return type(self).__name__

    @property
    def output(self) -> Tensor | None:
        """The Tensor this node made (alive whenever the graph is being walked)."""
        ref = self.__dict__.get("_output_ref")
        return ref() if ref is not None else None

    @property
    def needs_input_grad(self) -> tuple[bool, ...]:
        return tuple([isinstance(a, Tensor) and a._requires_grad for a in self.inputs or ()])

    def save_for_backward(self, *tensors) -> None:
        self.saved_tensors = tensors

    @property
    def next_functions(self) -> tuple:
        """The nodes that made this node's inputs (None for leaves and constants)."""
        return tuple(a.grad_fn if isinstance(a, Tensor) else None for a in self.inputs or ())

    def __repr__(self) -> str:
        return f"<{self.name}>"


def _op_error(op: str, error: Exception, args: tuple) -> Exception:
    """Re-raise a NumPy error from an op's forward with the op's name and input shapes."""
    shapes = ", ".join(str(a.shape) for a in args if isinstance(a, Tensor))
    return type(error)(f"{op}: {error} (input shapes: {shapes})")


# ---------------------------------------------------------------------------------------
# The backward walk
# ---------------------------------------------------------------------------------------


def run_backward(
    outputs: Sequence[Tensor],
    output_grads: Sequence[Tensor],
    retain_graph: bool,
    create_graph: bool,
    inputs: Sequence[Tensor] | None = None,
) -> list[Tensor | None] | None:
    """Send ``output_grads`` back through the graph of ``outputs``.

    With ``inputs=None`` the gradients are accumulated into ``.grad`` of the leaves that
    require grad (``Tensor.backward``). Otherwise nothing is accumulated anywhere and the
    gradients with respect to ``inputs`` are returned, ``None`` where an input was not
    reached (``minigrad.grad``).

    The walk is Kahn's topological order: first count, for every node, how many uses of
    its output lie in the graph; then start from the outputs and process a node once all
    those uses have sent their gradient to it, so its gradient is complete.
    """
    # Nodes whose gradients the caller asked for (``inputs``), keyed by their node, or by
    # the tensor itself for leaves.
    wanted = None if inputs is None else {_grad_key(t): None for t in inputs}

    # 1. Count, for each node, the edges that will bring it a gradient.
    pending: dict[Function, int] = {}
    stack = []
    for out in outputs:
        node = out.grad_fn
        if node is not None and node not in pending:
            pending[node] = 0
            stack.append(node)
    while stack:
        node = stack.pop()
        if node.inputs is None:
            raise RuntimeError(
                f"backward through the graph a second time: the graph of {node.name} was "
                "freed by an earlier backward. Pass retain_graph=True to the first "
                "backward() if you need to go back through the same graph again."
            )
        for t in node.inputs:
            if isinstance(t, Tensor) and t._requires_grad and (child := t.grad_fn) is not None:
                if child in pending:
                    pending[child] += 1
                else:
                    pending[child] = 1
                    stack.append(child)

    # 2. Walk from the outputs to the leaves.
    grads: dict[Function, Tensor] = {}  # node -> gradient of its output, summed so far
    previous_mode = _set_grad_enabled(create_graph)
    done = []
    kept: set[int] = set()  # ids of the arrays that leaves kept as their .grad
    try:
        for out, grad in zip(outputs, output_grads, strict=True):
            _deliver(out, grad, grads, wanted, create_graph)
        ready = [node for node, count in pending.items() if count == 0]
        while ready:
            node = ready.pop()
            grad = grads.pop(node, None)
            if grad is not None:
                if wanted is not None and node in wanted:
                    wanted[node] = grad
                elif node._retains_output and wanted is None:
                    out = node.output
                    out._grad = grad if out._grad is None else out._grad + grad
                input_grads = _call_backward(node, grad)
            else:
                input_grads = ()  # nothing flowed into this node; it sends nothing on
            n_grads = len(input_grads)
            for i, t in enumerate(node.inputs):
                if not (isinstance(t, Tensor) and t._requires_grad):
                    continue
                child = t.grad_fn
                g = input_grads[i] if i < n_grads else None
                if g is not None:
                    # Most gradients already fit; the check is cheaper than the call.
                    if (g.__class__ is not Tensor or g.data.shape != t.data.shape
                            or g.data.dtype != t.data.dtype):
                        g = _fit_gradient(g, t, node)
                    if child is not None:  # a non-leaf: sum until its node is walked
                        previous = grads.get(child)
                        grads[child] = g if previous is None else previous + g
                    else:
                        # A leaf may keep a new array that the backward made for it (saving
                        # a copy per parameter), but not the incoming gradient passed on
                        # (Add gives it to both inputs), a view, or an array given twice.
                        shared = g is grad or g.data.base is not None or id(g.data) in kept
                        if not shared:
                            kept.add(id(g.data))
                        _deliver(t, g, grads, wanted, create_graph, shared)
                if child is not None:
                    count = pending[child] - 1
                    pending[child] = count
                    if count == 0:
                        ready.append(child)
            done.append(node)
    finally:
        _set_grad_enabled(previous_mode)
        if not retain_graph:
            # Free the inputs and everything saved for backward. Only now: a node's inputs
            # keep alive the outputs that the nodes still to be walked read in their backward.
            for node in done:
                node.__dict__.clear()

    if wanted is None:
        return None
    return [wanted[_grad_key(t)] for t in inputs]


def _grad_key(t: Tensor):
    return t.grad_fn if t.grad_fn is not None else t


def _deliver(t: Tensor, grad: Tensor, grads: dict, wanted: dict | None, create_graph: bool,
             shared: bool = True):
    """Add ``grad`` to what ``t`` has received: the pending sum of a non-leaf, the ``.grad``
    of a leaf, or the result of ``minigrad.grad``. ``shared=False`` promises that nothing
    else refers to ``grad``'s array, so a leaf may keep it instead of a copy."""
    node = t.grad_fn
    if node is not None:
        previous = grads.get(node)
        grads[node] = grad if previous is None else previous + grad
    elif wanted is not None:
        if t in wanted:
            previous = wanted[t]
            wanted[t] = grad if previous is None else previous + grad
    elif create_graph:
        t._grad = grad if t._grad is None else t._grad + grad
    elif t._grad is None:
        # The leaf must own its .grad, which later backwards add to in place.
        t._grad = grad if not shared else Tensor._make(np.array(grad.data))
    elif t._grad.grad_fn is not None:  # a gradient recorded by an earlier create_graph
        t._grad = Tensor._make(t._grad.data + grad.data)
    else:
        t._grad.data += grad.data  # accumulate in place, no new array


def _call_backward(node: Function, grad: Tensor) -> tuple:
    try:
        input_grads = type(node).backward(node, grad)
    except FloatingPointError as error:  # raised by detect_anomaly in an op of the backward
        raise FloatingPointError(
            f"detect_anomaly: the backward of {node.name} produced non-finite values ({error})"
        ) from error
    if not isinstance(input_grads, tuple):
        input_grads = (input_grads,)
    if len(input_grads) > len(node.inputs):
        raise RuntimeError(
            f"backward of {node.name} returned {len(input_grads)} gradients for "
            f"{len(node.inputs)} inputs"
        )
    if _anomaly_enabled:
        for g in input_grads:
            if g is not None:
                _check_finite(np.asarray(g.data if isinstance(g, Tensor) else g),
                              f"the backward of {node.name}")
    return input_grads


def _fit_gradient(grad: Any, t: Tensor, node: Function) -> Tensor:
    """The gradient an op's backward returned for input ``t``, made to fit ``t``: a Tensor,
    summed over the dims that broadcasting added, in ``t``'s dtype. This is the one place
    where broadcasting is undone, so no op has to do it itself."""
    if not isinstance(grad, Tensor):
        grad = Tensor._make(np.asarray(grad))
    if grad.shape != t.shape:
        grad = _sum_to_shape(grad, t.shape, node)
    if grad.dtype != t.dtype:
        grad = grad.to(t.dtype)
    return grad


def _sum_to_shape(grad: Tensor, shape: tuple[int, ...], node: Function | None = None):
    """Sum ``grad`` over the dims that broadcasting ``shape`` to ``grad.shape`` created."""
    lead = grad.ndim - len(shape)
    fits = lead >= 0 and all(n == 1 or n == m for n, m in zip(shape, grad.shape[lead:]))
    if not fits:
        where = f"backward of {node.name}" if node is not None else "sum_to_shape"
        raise RuntimeError(
            f"{where} returned a gradient of shape {grad.shape} for an input of shape {shape}"
        )
    dims = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1
    )
    if dims:
        grad = ops.Sum.apply(grad, dims, False)
    return grad.reshape(shape) if grad.shape != shape else grad


# ---------------------------------------------------------------------------------------
# Functions on tensors that are not methods
# ---------------------------------------------------------------------------------------


def where(condition: Any, input: Any, other: Any) -> Tensor:
    """Elements of ``input`` where ``condition`` holds, else of ``other`` (broadcast)."""
    cond = condition.data if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype != bool_:
        cond = cond.astype(bool)
    if isinstance(input, Tensor):
        input, other = input._operands(other)
    elif isinstance(other, Tensor):
        other, input = other._operands(input)
    else:
        input, other = Tensor(input)._operands(other)
    return ops.Where.apply(cond, input, other)


from minigrad import ops  # noqa: E402  (ops need Function and Tensor defined above)
