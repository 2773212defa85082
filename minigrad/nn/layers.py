"""Layers: ``Linear``, activations, ``Dropout``, ``LayerNorm``, ``BatchNorm1d``, ``Embedding``,
``Flatten``, ``Identity``. Each holds its parameters and calls ``nn.functional``."""

from __future__ import annotations

import math
import warnings

import numpy as np

from minigrad import ops
from minigrad.nn import functional as F
from minigrad.nn import init
from minigrad.nn._checks import check_probability
from minigrad.nn.module import Module, Parameter
from minigrad.tensor import Tensor, float32


def _positive_int(value, name: str, layer: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
        raise ValueError(f"{layer}: {name} must be a non-negative integer, got {value!r}")
    return int(value)


class Identity(Module):
    """Returns its input unchanged (a placeholder, e.g. to switch a layer off)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """y = x @ Wᵀ + b, with W of shape (out_features, in_features).

    PyTorch's default init: W and b drawn from U(-1/√in_features, 1/√in_features)
    (``kaiming_uniform_`` with a = √5).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 dtype=None):
        super().__init__()
        self.in_features = _positive_int(in_features, "in_features", "Linear")
        self.out_features = _positive_int(out_features, "out_features", "Linear")
        dtype = float32 if dtype is None else np.dtype(dtype)
        self.weight = Parameter(np.empty((self.out_features, self.in_features), dtype=dtype))
        if bias:
            self.bias = Parameter(np.empty(self.out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.in_features == 0:
            init.zeros_(self.weight)
        else:
            init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:
        return ops.Linear.apply(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Flatten(Module):
    """Flattens dims ``start_dim`` to ``end_dim`` into one: (N, C, H, W) → (N, C·H·W)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input: Tensor) -> Tensor:
        # The dims are resolved here (not by Tensor.flatten) so that start_dim == end_dim,
        # e.g. Flatten() on an (N, C) input, is the no-op it is in PyTorch.
        ndim = max(input.ndim, 1)
        for d in (self.start_dim, self.end_dim):
            if not -ndim <= d < ndim:
                raise IndexError(f"Flatten: dim {d} is out of range for an input of shape "
                                 f"{input.shape}")
        start, end = self.start_dim % ndim, self.end_dim % ndim
        if start > end:
            raise ValueError(f"Flatten: start_dim {self.start_dim} comes after end_dim "
                             f"{self.end_dim} for an input of shape {input.shape}")
        shape = input.shape
        merged = int(np.prod(shape[start:end + 1], dtype=np.int64))
        return input.reshape(shape[:start] + (merged,) + shape[end + 1:])

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


# ---------------------------------------------------------------------------------------
# Activations
# ---------------------------------------------------------------------------------------


class ReLU(Module):
    """max(x, 0)"""

    def forward(self, input: Tensor) -> Tensor:
        return input.relu()


class LeakyReLU(Module):
    """x for x > 0, negative_slope·x otherwise"""

    def __init__(self, negative_slope: float = 0.01):
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, input: Tensor) -> Tensor:
        return input.leaky_relu(self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Tanh(Module):
    def forward(self, input: Tensor) -> Tensor:
        return input.tanh()


class Sigmoid(Module):
    """1 / (1 + e⁻ˣ)"""

    def forward(self, input: Tensor) -> Tensor:
        return input.sigmoid()


class GELU(Module):
    """x·Φ(x) (exact, with erf), or its tanh approximation with ``approximate='tanh'``."""

    def __init__(self, approximate: str = "none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:
        return input.gelu(self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class _Elementwise(Module):
    """An activation with no parameters: ``function(input, **arguments)`` of
    ``nn.functional``, its arguments shown in the module's repr."""

    function = None  # the nn.functional function, set by each subclass

    def __init__(self, **arguments):
        super().__init__()
        self.__dict__.update(arguments)
        self._argument_names = tuple(arguments)

    def forward(self, input: Tensor) -> Tensor:
        arguments = {name: getattr(self, name) for name in self._argument_names}
        return type(self).function(input, **arguments)

    def extra_repr(self) -> str:
        return ", ".join(f"{name}={getattr(self, name)!r}" for name in self._argument_names)


class _TakesInplace(_Elementwise):
    """An activation whose PyTorch module takes ``inplace`` (accepted; the result is new)."""

    def __init__(self, inplace: bool = False):
        super().__init__()


class SiLU(_TakesInplace):
    """x·σ(x)"""

    function = staticmethod(F.silu)


class Mish(_TakesInplace):
    """x·tanh(softplus(x))"""

    function = staticmethod(F.mish)


class ELU(_Elementwise):
    """x for x > 0, else α·(eˣ - 1)"""

    function = staticmethod(F.elu)

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__(alpha=alpha)


class CELU(_Elementwise):
    """x for x > 0, else α·(e^(x/α) - 1)"""

    function = staticmethod(F.celu)

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__(alpha=alpha)


class SELU(_TakesInplace):
    """scale·elu(x, α) with PyTorch's constants"""

    function = staticmethod(F.selu)


class Hardtanh(_Elementwise):
    """x clamped to [min_val, max_val]"""

    function = staticmethod(F.hardtanh)

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
        if min_val > max_val:
            raise ValueError(f"Hardtanh: min_val ({min_val}) must not be greater than max_val "
                             f"({max_val})")
        super().__init__(min_val=min_val, max_val=max_val)


class ReLU6(_TakesInplace):
    """min(max(x, 0), 6)"""

    function = staticmethod(F.relu6)


class Hardsigmoid(_TakesInplace):
    """relu6(x + 3)/6"""

    function = staticmethod(F.hardsigmoid)


class Hardswish(_TakesInplace):
    """x·relu6(x + 3)/6"""

    function = staticmethod(F.hardswish)


class Softplus(_Elementwise):
    """ln(1 + e^(β·x))/β, and x where β·x > threshold"""

    function = staticmethod(F.softplus)

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__(beta=beta, threshold=threshold)


class Softsign(_Elementwise):
    """x / (1 + |x|)"""

    function = staticmethod(F.softsign)


class LogSigmoid(_Elementwise):
    """ln σ(x)"""

    function = staticmethod(F.logsigmoid)


class Tanhshrink(_Elementwise):
    """x - tanh(x)"""

    function = staticmethod(F.tanhshrink)


class Softmin(_Elementwise):
    """softmax(-x) along ``dim``"""

    function = staticmethod(F.softmin)

    def __init__(self, dim: int | None = None):
        super().__init__(dim=dim)


class GLU(_Elementwise):
    """a·σ(b), with a and b the two halves of the input along ``dim``"""

    function = staticmethod(F.glu)

    def __init__(self, dim: int = -1):
        super().__init__(dim=dim)


class PReLU(Module):
    """x for x > 0, else a·x, with learned slopes ``weight``: ``num_parameters`` = 1 (one
    for all) or the number of channels (dim 1 of the input), each starting at ``init``."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25, dtype=None):
        super().__init__()
        self.num_parameters = _positive_int(num_parameters, "num_parameters", "PReLU")
        dtype = float32 if dtype is None else dtype
        self.weight = Parameter(Tensor(np.full(self.num_parameters, init), dtype=dtype))

    def forward(self, input: Tensor) -> Tensor:
        return F.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


def _implicit_dim(ndim: int, name: str) -> int:
    warnings.warn(f"{name} without dim= is deprecated (as in PyTorch): pass dim explicitly",
                  UserWarning, stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


class Softmax(Module):
    """e^xᵢ / Σⱼ e^xⱼ along ``dim``."""

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        dim = self.dim if self.dim is not None else _implicit_dim(input.ndim, "Softmax")
        return input.softmax(dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """xᵢ - ln Σⱼ e^xⱼ along ``dim``."""

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        dim = self.dim if self.dim is not None else _implicit_dim(input.ndim, "LogSoftmax")
        return input.log_softmax(dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


# ---------------------------------------------------------------------------------------
# Dropout, normalization, embedding
# ---------------------------------------------------------------------------------------


class Dropout(Module):
    """In training, zeros each element with probability p and scales the rest by 1/(1-p);
    the identity in eval mode. The mask comes from minigrad's seeded generator."""

    def __init__(self, p: float = 0.5):
        super().__init__()
        self.p = check_probability(p, "Dropout")

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class LayerNorm(Module):
    """Normalizes over the last dims given by ``normalized_shape``:
    (x - mean) / √(var + eps) · weight + bias (biased variance)."""

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True):
        super().__init__()
        if isinstance(normalized_shape, int | np.integer):
            normalized_shape = (int(normalized_shape),)
        self.normalized_shape = tuple(int(n) for n in normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        self.use_bias = elementwise_affine and bias
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype=float32))
            if bias:
                self.bias = Parameter(np.zeros(self.normalized_shape, dtype=float32))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, input: Tensor) -> Tensor:
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.use_bias}")


class BatchNorm1d(Module):
    """Normalizes each of ``num_features`` channels of an (N, C) or (N, C, L) input.

    Training: with the batch mean and biased variance, and the running statistics
    follow running = (1 - momentum)·running + momentum·batch (the unbiased variance for
    ``running_var``; ``momentum=None`` gives the plain average of all batches so far).
    Eval: with the running statistics. Buffers ``running_mean``, ``running_var`` and
    ``num_batches_tracked`` are in the state dict, as in PyTorch.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, *, bias: bool = True):
        super().__init__()
        self.num_features = _positive_int(num_features, "num_features", "BatchNorm1d")
        if momentum is not None and not 0.0 <= momentum <= 1.0:
            raise ValueError(f"BatchNorm1d: momentum must be between 0 and 1 or None, "
                             f"got {momentum!r}")
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.use_bias = affine and bias
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = Parameter(np.ones(num_features, dtype=float32))
            if bias:
                self.bias = Parameter(np.zeros(num_features, dtype=float32))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor.wrap(np.zeros(num_features, float32)))
            self.register_buffer("running_var", Tensor.wrap(np.ones(num_features, float32)))
            self.register_buffer("num_batches_tracked",
                                 Tensor.wrap(np.zeros((), dtype=np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean.array[...] = 0
            self.running_var.array[...] = 1
            self.num_batches_tracked.array[...] = 0

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim not in (2, 3) or input.shape[1] != self.num_features:
            raise ValueError(
                f"BatchNorm1d({self.num_features}): expected input of shape (N, "
                f"{self.num_features}) or (N, {self.num_features}, L), got {input.shape}"
            )
        use_batch_stats = self.training or not self.track_running_stats
        momentum = 0.0 if self.momentum is None else self.momentum
        values_per_channel = input.array.size // max(self.num_features, 1)
        if self.training and self.track_running_stats and values_per_channel > 1:
            self.num_batches_tracked.array += 1  # (with one value F.batch_norm raises)
            if self.momentum is None:  # the plain average over all batches so far
                momentum = 1.0 / float(self.num_batches_tracked.array)
        # Running statistics are updated only in training mode when they are tracked.
        update = self.training and self.track_running_stats
        return F.batch_norm(
            input,
            self.running_mean if update or not use_batch_stats else None,
            self.running_var if update or not use_batch_stats else None,
            self.weight, self.bias, use_batch_stats, momentum, self.eps,
        )

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.use_bias}, "
                f"track_running_stats={self.track_running_stats}")


class Embedding(Module):
    """A lookup table: integer indices of any shape → rows of ``weight``
    (num_embeddings, embedding_dim), initialized from N(0, 1)."""

    def __init__(self, num_embeddings: int, embedding_dim: int):
        super().__init__()
        self.num_embeddings = _positive_int(num_embeddings, "num_embeddings", "Embedding")
        self.embedding_dim = _positive_int(embedding_dim, "embedding_dim", "Embedding")
        self.weight = Parameter(np.empty((num_embeddings, embedding_dim), dtype=float32))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.normal_(self.weight)

    def forward(self, input) -> Tensor:
        return F.embedding(input, self.weight)

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}"
