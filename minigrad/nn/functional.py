"""``minigrad.nn.functional``: the stateless forms of the layers and losses, with PyTorch's
names (``F.linear``, ``F.cross_entropy``, ...).

Most are compositions of the primitive ops, which need no gradient of their own. Three apply
a fused op of the derivative sheet (``ops.py``, "Fused ops"), whose gradient is written
next to its forward there:

* ``linear``: ``ops.Linear``, x @ Wᵀ + b as one op, because a small MLP spends its time there;
* ``cross_entropy``: ``ops.SoftmaxCrossEntropy``, log-softmax and the negative
  log-likelihood fused, so that no probability is ever formed (finite values and gradients
  for logits of ±1000);
* ``binary_cross_entropy``: ``ops.BinaryCrossEntropy``, its logs clamped at -100 as in
  PyTorch, with a gradient that stays finite where the clamp is active.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from minigrad import capture, rng
from minigrad.nn._checks import check_probabilities, check_probability, check_reduction
from minigrad.ops import BinaryCrossEntropy, Linear, SoftmaxCrossEntropy
from minigrad.tensor import Tensor, normalize_dims, promote_operands, where

# ---------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------

def _tensor(x: Any, name: str, op: str) -> Tensor:
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray | list | tuple | int | float | np.generic):
        return Tensor(x)
    raise TypeError(f"{op}: {name} must be a Tensor, got {type(x).__name__}")


def _operand(input: Tensor, other: Any) -> Tensor:
    """``other`` as a Tensor for a binary op with ``input``, promoted as the operators do."""
    return promote_operands(input, other)[1]


def _reduce(losses: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    return losses


def _float_input(x: Any, op: str) -> Tensor:
    x = _tensor(x, "input", op)
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: input must be a float tensor, got dtype {x.dtype}")
    return x


def _pointwise_target(input: Tensor, target: Any, op: str) -> Tensor:
    """The target of an elementwise loss as a Tensor of the input's shape (broadcast with a
    warning when it is not, as PyTorch does: (N, 1) against (N,) is usually a bug)."""
    target = _operand(input, target).to(input.dtype)  # a float64 target: the input's dtype
    if target.dtype.kind != "f":
        target = Tensor.wrap(target.array.astype(input.dtype))
    if target.shape != input.shape:
        try:
            np.broadcast_shapes(input.shape, target.shape)
        except ValueError:
            raise ValueError(
                f"{op}: target of shape {target.shape} does not match input of shape "
                f"{input.shape}"
            ) from None
        warnings.warn(
            f"{op}: target of shape {target.shape} is broadcast against input of shape "
            f"{input.shape}; this is likely a mistake. Make them the same shape.",
            UserWarning,
            stacklevel=3,
        )
    return target


# ---------------------------------------------------------------------------------------
# Linear
# ---------------------------------------------------------------------------------------


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x @ Wᵀ + b, with ``weight`` of shape (out_features, in_features)."""
    return Linear.apply(input, weight, bias)


# ---------------------------------------------------------------------------------------
# Activations
# ---------------------------------------------------------------------------------------


def relu(input: Tensor) -> Tensor:
    return input.relu()


def leaky_relu(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    return input.leaky_relu(negative_slope)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    return input.gelu(approximate)


def sigmoid(input: Tensor) -> Tensor:
    return input.sigmoid()


def tanh(input: Tensor) -> Tensor:
    return input.tanh()


def softmax(input: Tensor, dim: int) -> Tensor:
    return input.softmax(dim)


def log_softmax(input: Tensor, dim: int) -> Tensor:
    return input.log_softmax(dim)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """ln(1 + e^(β·x))/β, and x itself where β·x > ``threshold`` (as PyTorch). Computed as
    (max(βx, 0) + ln(1 + e^-|βx|))/β, so that it never overflows; its slope is σ(βx)
    (exactly ½ at 0: ``maximum`` shares the gradient at a tie)."""
    scaled = input * beta if beta != 1 else input
    smooth = _softplus(scaled)
    if beta != 1:
        smooth = smooth / beta
    return where(scaled.array > threshold, input, smooth)


def _softplus(x: Tensor) -> Tensor:
    """ln(1 + eˣ) without overflow: max(x, 0) + ln(1 + e^-|x|)."""
    return x.maximum(0.0) + (-x.abs()).exp().log1p()


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x·σ(x) (also called swish). ``inplace`` is accepted for PyTorch code; the result is
    a new tensor, as for every activation here."""
    return input * input.sigmoid()


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x·tanh(softplus(x))"""
    return input * _softplus(input).tanh()


def logsigmoid(input: Tensor) -> Tensor:
    """ln σ(x) = min(x, 0) - ln(1 + e^-|x|): no overflow, and exact for large |x|."""
    return input.minimum(0.0) - (-input.abs()).exp().log1p()


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x for x > 0, else α·(eˣ - 1); at 0 the slope is α's side's, as PyTorch."""
    return where(input.array > 0, input, alpha * input.clamp(max=0.0).expm1())


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x for x > 0, else α·(e^(x/α) - 1) (continuously differentiable: slope 1 at 0)."""
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0 (it divides x)")
    return where(input.array > 0, input, alpha * (input.clamp(max=0.0) / alpha).expm1())


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """scale·elu(x, α) with PyTorch's constants α ≈ 1.6733, scale ≈ 1.0507 (self-normalizing)."""
    return _SELU_SCALE * elu(input, _SELU_ALPHA)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    """x clamped to [min_val, max_val]. Its slope is 1 strictly inside and 0 at and beyond
    the bounds, as PyTorch's (``clamp`` passes the gradient at the bounds)."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) must not be greater than max_val "
                         f"({max_val})")
    return _clamp_open(input, min_val, max_val)


def _clamp_open(x: Tensor, low: float, high: float) -> Tensor:
    """x clamped to [low, high], with the gradient passed strictly inside only."""
    inside = (x.array > low) & (x.array < high)
    return where(inside, x, Tensor.wrap(np.clip(x.array, low, high)))


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(x, 0), 6): hardtanh(x, 0, 6) (slope 0 at 0 and at 6, as PyTorch)."""
    return _clamp_open(input, 0.0, 6.0)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """relu6(x + 3)/6: 0 for x ≤ -3, 1 for x ≥ 3, x/6 + ½ between (slope 0 at ±3)."""
    return _clamp_open(input / 6.0 + 0.5, 0.0, 1.0)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """x·relu6(x + 3)/6: 0 for x ≤ -3, x for x ≥ 3, x·(x + 3)/6 between. Its slope at -3 is
    0 and at 3 is 1, as PyTorch's."""
    x = input.array
    middle = input * (input + 3.0) / 6.0
    return where(x <= -3.0, 0.0, where(x < 3.0, middle, input))


def softsign(input: Tensor) -> Tensor:
    """x / (1 + |x|)"""
    return input / (1.0 + input.abs())


def tanhshrink(input: Tensor) -> Tensor:
    """x - tanh(x)"""
    return input - input.tanh()


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
            dtype: Any = None) -> Tensor:
    """softmax(-x) along ``dim``: the smallest elements get the largest weights."""
    if dim is None:  # PyTorch's deprecated implicit choice, with its warning
        warnings.warn("softmin without dim= is deprecated (as in PyTorch): pass dim "
                      "explicitly", UserWarning, stacklevel=_stacklevel - 1)
        dim = 0 if input.ndim in (0, 1, 3) else 1
    return (-input).softmax(dim, dtype)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """The gated linear unit: a·σ(b), with a and b the two halves of ``input`` along ``dim``."""
    (axis,) = normalize_dims(dim, input.ndim, "glu")
    if input.ndim == 0 or input.shape[axis] % 2:
        raise RuntimeError(f"glu: Halving dimension must be even, but dimension {dim} is size "
                           f"{input.shape[axis] if input.ndim else 0} (shape {input.shape})")
    a, b = input.chunk(2, axis)
    return a * b.sigmoid()


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """x for x > 0, else weight·x, with a learned slope: one for all, or one per channel
    (dim 1; an input of fewer dims has one channel), as PyTorch. At 0 the slope is the
    weight's."""
    weight = _tensor(weight, "weight", "prelu")
    if weight.numel() != 1:
        channels = input.shape[1] if input.ndim >= 2 else 1
        if weight.ndim != 1 or weight.shape[0] != channels:
            raise RuntimeError(f"prelu: weight of shape {weight.shape} does not fit input of "
                               f"shape {input.shape}: expected 1 or {channels} slopes (the "
                               "channels, dim 1)")
        weight = weight.reshape((channels,) + (1,) * (input.ndim - 2))
    elif weight.ndim:
        weight = weight.reshape(())
    return where(input.array > 0, input, weight * input)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out=None
              ) -> Tensor:
    """input / max(‖input‖_p, eps) along ``dim``: unit vectors (zero vectors stay zero)."""
    if out is not None:
        raise NotImplementedError("normalize: out= is not supported")
    return input / input.norm(p, dim=dim, keepdim=True).clamp(min=eps)


def _norm_at_least(x: Tensor, dim: int, eps: float) -> Tensor:
    """‖x‖ along ``dim`` (kept), raised to ``eps`` where smaller: a shift outside the
    graph, so the gradient is the norm's (as PyTorch's clamp under no_grad)."""
    norm = x.norm(2, dim=dim, keepdim=True)
    return norm + Tensor.wrap(np.maximum(norm.array, eps) - norm.array)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """Σ (x1/‖x1‖)·(x2/‖x2‖) along ``dim`` (broadcast), each norm at least ``eps``;
    dividing first keeps the result within [-1, 1], as PyTorch's."""
    x1, x2 = promote_operands(x1, x2)
    shape = np.broadcast_shapes(x1.shape, x2.shape)
    x1, x2 = x1.broadcast_to(shape), x2.broadcast_to(shape)
    return ((x1 / _norm_at_least(x1, dim, eps)) * (x2 / _norm_at_least(x2, dim, eps))).sum(dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """‖x1 - x2 + eps‖_p along the last dim (broadcast), as PyTorch's."""
    difference = x1 - x2 + eps
    return difference.norm(p, dim=-1, keepdim=keepdim)


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask=None,
                                 dropout_p: float = 0.0, is_causal: bool = False,
                                 scale: float | None = None, enable_gqa: bool = False
                                 ) -> Tensor:
    """softmax(Q·Kᵀ·scale + mask)·V over query (..., L, E), key (..., S, E) and value
    (..., S, Ev); ``scale`` defaults to 1/√E. ``attn_mask``: boolean (True takes part) or
    added to the scores; ``is_causal``: query i sees keys 0…i. Built from matmul and
    softmax, so its gradient comes with them."""
    if enable_gqa:
        raise NotImplementedError("scaled_dot_product_attention: enable_gqa is not supported")
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2 or query.shape[-1] != key.shape[-1] \
            or key.shape[-2] != value.shape[-2]:
        raise RuntimeError(f"scaled_dot_product_attention: expected query (..., L, E), key "
                           f"(..., S, E) and value (..., S, Ev), got shapes "
                           f"{tuple(query.shape)}, {tuple(key.shape)}, {tuple(value.shape)}")
    if is_causal and attn_mask is not None:
        raise RuntimeError("scaled_dot_product_attention: pass attn_mask or is_causal, not both")
    scale = 1 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = (query @ key.transpose(-2, -1)) * scale
    if is_causal:
        attn_mask = np.tril(np.ones((query.shape[-2], key.shape[-2]), dtype=bool))
    if attn_mask is not None:
        mask = attn_mask.array if isinstance(attn_mask, Tensor) else np.asarray(attn_mask)
        if mask.dtype == np.bool_:
            scores = scores.masked_fill(Tensor.wrap(~mask), -math.inf)
        else:
            scores = scores + attn_mask
    weights = scores.softmax(-1)
    if dropout_p > 0:
        weights = dropout(weights, dropout_p)
    return weights @ value


def one_hot(tensor: Any, num_classes: int = -1) -> Tensor:
    """Class indices of shape (...) as int64 one-hot vectors of shape (..., num_classes)."""
    indices = tensor.array if isinstance(tensor, Tensor) else np.asarray(tensor)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"one_hot: indices must be integers, got dtype {indices.dtype}")
    if num_classes < 0:
        num_classes = int(indices.max()) + 1 if indices.size else 0
    if indices.size and (indices.min() < 0 or indices.max() >= num_classes):
        raise IndexError(f"one_hot: class values must be in [0, {num_classes}), got values "
                         f"from {indices.min()} to {indices.max()}")
    return Tensor.wrap(np.eye(num_classes, dtype=np.int64)[indices])


# ---------------------------------------------------------------------------------------
# Dropout, normalization, embedding
# ---------------------------------------------------------------------------------------


def dropout(input: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """In training, zero each element with probability ``p`` and scale the others by
    1/(1-p), so the expected output equals the input; the identity otherwise."""
    p = check_probability(p, "dropout")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * np.zeros((), dtype=input.dtype)
    keep = rng.generator().random(input.shape) >= p
    return input * (keep * (1.0 / (1.0 - p))).astype(input.dtype)


def layer_norm(
    input: Tensor,
    normalized_shape: int | tuple[int, ...],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalize over the last dims: (x - mean) / √(var + eps) · weight + bias, with the
    biased variance (divide by the count)."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if input.shape[input.ndim - len(shape):] != shape or input.ndim < len(shape):
        raise ValueError(
            f"layer_norm: input of shape {input.shape} does not end with normalized_shape "
            f"{shape}"
        )
    dims = tuple(range(input.ndim - len(shape), input.ndim))
    centered = input - input.mean(dims, keepdim=True)
    var = (centered * centered).mean(dims, keepdim=True)
    out = centered / (var + eps).sqrt()
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalize each channel (dim 1) of an (N, C) or (N, C, L) input.

    Training: with the batch's mean and biased variance, and the running statistics (if
    given) are updated in place: running = (1 - momentum)·running + momentum·batch, with
    the unbiased variance for ``running_var``. Evaluation: with the running statistics.
    """
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected an input with at least 2 dims (N, C, ...), "
                         f"got shape {input.shape}")
    channels = input.shape[1]
    dims = (0, *range(2, input.ndim))
    per_channel = (1, channels) + (1,) * (input.ndim - 2)  # broadcasts against the input
    if training:
        count = input.array.size // max(channels, 1)
        if count <= 1:
            raise ValueError(
                f"batch_norm: expected more than 1 value per channel when training, got input "
                f"of shape {input.shape}"
            )
        mean = input.mean(dims, keepdim=True)
        centered = input - mean
        var = (centered * centered).mean(dims, keepdim=True)
        out = centered / (var + eps).sqrt()
        if running_mean is not None:
            capture.note_side_effect("batch norm updates its running statistics")
            running_mean.array *= 1.0 - momentum
            running_mean.array += momentum * mean.array.reshape(channels)
        if running_var is not None:
            unbiased_var = var.array.reshape(channels) * (count / (count - 1))
            running_var.array *= 1.0 - momentum
            running_var.array += momentum * unbiased_var
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: running_mean and running_var are needed when not "
                             "training")
        mean = running_mean.array.reshape(per_channel).astype(input.dtype)
        inv_std = (1.0 / np.sqrt(running_var.array + eps)).reshape(per_channel)
        out = (input - mean) * inv_std.astype(input.dtype)
    if weight is not None:
        out = out * weight.reshape(per_channel)
    if bias is not None:
        out = out + bias.reshape(per_channel)
    return out


def embedding(input: Any, weight: Tensor) -> Tensor:
    """Rows of ``weight`` picked by integer ``input`` of any shape: output (*input.shape, dim).
    A row picked several times gets the sum of their gradients."""
    indices = input.array if isinstance(input, Tensor) else np.asarray(input)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be an integer tensor, got dtype {indices.dtype}")
    num = weight.shape[0]
    if indices.size and (indices.min() < 0 or indices.max() >= num):
        bad = indices[(indices < 0) | (indices >= num)]
        raise IndexError(
            f"embedding: index {bad.flat[0]} is out of range for {num} embeddings "
            f"(valid: 0 to {num - 1})"
        )
    return weight[indices]


# ---------------------------------------------------------------------------------------
# Regression losses (elementwise)
# ---------------------------------------------------------------------------------------


def mse_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """(x - y)², reduced."""
    check_reduction(reduction, "mse_loss")
    input = _float_input(input, "mse_loss")
    diff = input - _pointwise_target(input, target, "mse_loss")
    return _reduce(diff * diff, reduction)


def l1_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """|x - y|, reduced."""
    check_reduction(reduction, "l1_loss")
    input = _float_input(input, "l1_loss")
    return _reduce((input - _pointwise_target(input, target, "l1_loss")).abs(), reduction)


def huber_loss(input: Tensor, target: Any, reduction: str = "mean", delta: float = 1.0
               ) -> Tensor:
    """½d² where |d| < delta, else delta·(|d| - ½delta), with d = x - y."""
    check_reduction(reduction, "huber_loss")
    if not delta > 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta!r}")
    input = _float_input(input, "huber_loss")
    diff = input - _pointwise_target(input, target, "huber_loss")
    size = diff.abs()
    losses = where(size.array < delta, 0.5 * diff * diff, delta * (size - 0.5 * delta))
    return _reduce(losses, reduction)


def smooth_l1_loss(input: Tensor, target: Any, reduction: str = "mean", beta: float = 1.0
                   ) -> Tensor:
    """½d²/beta where |d| < beta, else |d| - ½beta (Huber divided by beta)."""
    check_reduction(reduction, "smooth_l1_loss")
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta!r}")
    input = _float_input(input, "smooth_l1_loss")
    diff = input - _pointwise_target(input, target, "smooth_l1_loss")
    size = diff.abs()
    if beta == 0:
        return _reduce(size, reduction)
    losses = where(size.array < beta, (0.5 / beta) * diff * diff, size - 0.5 * beta)
    return _reduce(losses, reduction)


# ---------------------------------------------------------------------------------------
# Classification losses
# ---------------------------------------------------------------------------------------


def _class_indices(target: Any, op: str) -> np.ndarray:
    return target.array if isinstance(target, Tensor) else np.asarray(target)


def _classes_last(x: Tensor) -> Tensor:
    """(N, C, d₁, ...) → (N·d₁·..., C): one row per prediction, classes along dim 1."""
    if x.ndim <= 2:
        return x
    return x.permute(0, *range(2, x.ndim), 1).reshape(-1, x.shape[1])


def _check_class_weight(weight: Any, classes: int, dtype, op: str) -> np.ndarray | None:
    if weight is None:
        return None
    w = weight.array if isinstance(weight, Tensor) else np.asarray(weight)
    if w.shape != (classes,):
        raise ValueError(f"{op}: weight must have shape ({classes},) (one per class), got "
                         f"{w.shape}")
    return w.astype(dtype)


def _index_targets(input: Tensor, target: np.ndarray, ignore_index: int, op: str):
    """Check class-index targets against (N, C, ...) scores; return them flat (int64) with
    the mask of the ones that count (not ``ignore_index``), or None when all of them do."""
    expected = input.shape[:1] + input.shape[2:]
    if target.dtype.kind not in "iu":
        raise TypeError(
            f"{op}: target must be int64 class indices (or class probabilities as floats), "
            f"got dtype {target.dtype} for input of dtype {input.dtype}"
        )
    if target.shape != expected:
        raise ValueError(
            f"{op}: target of shape {target.shape} does not fit input of shape {input.shape}; "
            f"expected class indices of shape {expected}"
        )
    flat = target.reshape(-1).astype(np.int64, copy=False)
    classes = input.shape[1]
    if flat.size == 0:
        return flat, None
    # Every target a class and none ignored: the usual case, checked cheaply.
    if not 0 <= ignore_index < classes:  # (the default -100: no class can be ignored)
        if (flat.view(np.uint64) < classes).all():  # as unsigned, a negative is huge: one
            return flat, None                       # comparison checks 0 ≤ target < classes
    else:
        low, high = flat.min(), flat.max()
        if 0 <= low and high < classes and not low <= ignore_index <= high:
            return flat, None
    valid = flat != ignore_index
    bad = valid & ((flat < 0) | (flat >= classes))
    if bad.any():
        raise IndexError(f"{op}: target value {flat[bad][0]} is out of range for {classes} "
                         f"classes (valid: 0 to {classes - 1}, or ignore_index={ignore_index})")
    return flat, valid


def cross_entropy(
    input: Tensor,
    target: Any,
    weight: Any = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Cross-entropy between the softmax of logits ``input`` (N, C) or (N, C, d...) (or (C,))
    and ``target``: int class indices of shape (N,) / (N, d...), or class probabilities of
    the input's shape. PyTorch's semantics for ``weight``, ``ignore_index`` (index targets
    only), ``label_smoothing`` (mixes the target with the uniform distribution) and the
    weighted mean (divided by the total weight of the counted targets)."""
    op = "cross_entropy"
    check_reduction(reduction, op)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be between 0 and 1, got {label_smoothing}")
    input = _float_input(input, op)
    is_probabilities = isinstance(target, Tensor) and target.dtype.kind == "f" or (
        not isinstance(target, Tensor) and np.asarray(target).dtype.kind == "f")
    unbatched = input.ndim == 1
    if unbatched:
        input = input.unsqueeze(0)
        target = target.unsqueeze(0) if isinstance(target, Tensor) else np.asarray(target)[None]
    if input.ndim < 2:
        raise ValueError(f"{op}: input must have shape (N, C) or (N, C, d...) or (C,), "
                         f"got {input.shape}")
    classes = input.shape[1]
    w = _check_class_weight(weight, classes, input.dtype, op)
    smoothing = float(label_smoothing)
    logits = _classes_last(input)

    if is_probabilities:
        probs = _operand(input, target).to(input.dtype)
        if probs.shape != input.shape:
            raise ValueError(
                f"{op}: target probabilities of shape {probs.shape} do not match input of "
                f"shape {input.shape} (dtype {probs.dtype}; class indices must be int64)"
            )
        q = _classes_last(probs)
        if smoothing:
            q = q * (1.0 - smoothing) + smoothing / classes
        if w is not None:
            q = q * w
        count = logits.shape[0]
    else:
        flat, valid = _index_targets(input, _class_indices(target, op), ignore_index, op)
        rows = np.arange(flat.size)
        if w is None and not smoothing and valid is None:
            # The common case, made cheap: q is the one-hot rows of the classes.
            q_data = np.zeros_like(logits.array)  # (so a compiled step records it: see there)
            q_data[rows, flat] = 1
            return _cross_entropy_of(logits, Tensor.wrap(q_data), flat.size, reduction,
                                     input.shape, unbatched, one_hot=True)
        if valid is None:
            valid = np.ones(flat.size, dtype=bool)
        safe = np.where(valid, flat, 0)
        class_weight = np.ones(classes, dtype=input.dtype) if w is None else w
        target_weight = class_weight[safe] * valid  # 0 for ignored targets
        q_data = np.zeros(logits.shape, dtype=input.dtype)
        if smoothing:
            q_data[:] = class_weight * (smoothing / classes)
            q_data[~valid] = 0
        q_data[rows, safe] += (1.0 - smoothing) * target_weight
        q = Tensor.wrap(q_data)
        count = float(target_weight.sum())
    return _cross_entropy_of(logits, q, count, reduction, input.shape, unbatched)


def _cross_entropy_of(logits: Tensor, q: Tensor, count: float, reduction: str,
                      input_shape: tuple, unbatched: bool, one_hot: bool = False) -> Tensor:
    """The fused op on (rows, classes) logits and target weights ``q``, reduced as asked
    (a mean divides by ``count``, the total weight of the counted targets)."""
    reduce = reduction != "none"
    scale = 1.0
    if reduction == "mean":
        scale = 1.0 / count if count else math.nan  # all targets ignored: 0/0, as PyTorch
    out = SoftmaxCrossEntropy.apply(logits, q, scale, reduce, one_hot)
    if not reduce:
        out = out.reshape(input_shape[:1] + input_shape[2:])
        if unbatched:
            out = out.reshape(())
    return out


def nll_loss(
    input: Tensor,
    target: Any,
    weight: Any = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood: -input[i, target[i]] for log-probabilities ``input`` (N, C)
    or (N, C, d...) (or (C,)), weighted per class; the mean divides by the total weight."""
    op = "nll_loss"
    check_reduction(reduction, op)
    input = _float_input(input, op)
    unbatched = input.ndim == 1
    if unbatched:
        input = input.unsqueeze(0)
        target = np.asarray(_class_indices(target, op))[None]
    if input.ndim < 2:
        raise ValueError(f"{op}: input must have shape (N, C) or (N, C, d...) or (C,), "
                         f"got {input.shape}")
    classes = input.shape[1]
    w = _check_class_weight(weight, classes, input.dtype, op)
    flat, valid = _index_targets(input, _class_indices(target, op), ignore_index, op)
    if valid is None:
        valid = np.ones(flat.size, dtype=bool)
    safe = np.where(valid, flat, 0)
    target_weight = (np.ones(classes, dtype=input.dtype) if w is None else w)[safe] * valid
    picked = _classes_last(input)[np.arange(flat.size), safe]
    losses = -picked * target_weight.astype(input.dtype)
    if reduction == "none":
        losses = losses.reshape(() if unbatched else input.shape[:1] + input.shape[2:])
        return losses
    if reduction == "sum":
        return losses.sum()
    total = float(target_weight.sum())
    return losses.sum() * (1.0 / total if total else math.nan)


def binary_cross_entropy(input: Tensor, target: Any, weight: Any = None,
                         reduction: str = "mean") -> Tensor:
    """-(y·ln x + (1 - y)·ln(1 - x)) for probabilities x in [0, 1], logs clamped at -100."""
    op = "binary_cross_entropy"
    check_reduction(reduction, op)
    input = _float_input(input, op)
    target = _operand(input, target).to(input.dtype)  # a float64 target: the input's dtype
    if target.shape != input.shape:
        raise ValueError(f"{op}: target of shape {target.shape} must have the same shape as "
                         f"input of shape {input.shape}")
    check_probabilities(input.array, "input", op)
    check_probabilities(target.array, "target", op)
    losses = BinaryCrossEntropy.apply(input, target)
    if weight is not None:
        losses = losses * _operand(input, weight)
    return _reduce(losses, reduction)


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Any,
    weight: Any = None,
    reduction: str = "mean",
    pos_weight: Any = None,
) -> Tensor:
    """Binary cross-entropy of σ(z) without forming σ(z):

        loss = (1 - y)·z - (1 + (pos_weight - 1)·y)·ln σ(z)
        ln σ(z) = min(z, 0) - ln(1 + e^-|z|)        (no overflow for any z)
    """
    op = "binary_cross_entropy_with_logits"
    check_reduction(reduction, op)
    z = _float_input(input, op)
    y = _operand(z, target).to(z.dtype)
    if y.shape != z.shape:
        raise ValueError(f"{op}: target of shape {y.shape} must have the same shape as input "
                         f"of shape {z.shape}")
    log_sigmoid = z.minimum(0.0) - (1.0 + (-z.abs()).exp()).log()
    if pos_weight is None:
        losses = (1.0 - y) * z - log_sigmoid
    else:
        pos_weight = _operand(z, pos_weight)
        losses = (1.0 - y) * z - (1.0 + (pos_weight - 1.0) * y) * log_sigmoid
    if weight is not None:
        losses = losses * _operand(z, weight)
    return _reduce(losses, reduction)


# ---------------------------------------------------------------------------------------
# Convolutions, pooling, channel dropout, unfold and fold (SPEC §11): defined in
# functional_conv.py, on the derivative sheet of minigrad/convolution.py
# ---------------------------------------------------------------------------------------
from minigrad.nn.functional_conv import (  # noqa: E402, F401 (re-exported)
    adaptive_avg_pool2d,
    adaptive_max_pool2d,
    avg_pool2d,
    conv1d,
    conv2d,
    conv_transpose2d,
    dropout2d,
    fold,
    max_pool2d,
    pad,
    unfold,
)
