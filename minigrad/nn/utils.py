"""``minigrad.nn.utils``: clipping gradients in place before an optimizer step."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from minigrad.tensor import Tensor


def _with_grads(parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p for p in parameters if p.grad is not None]


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> Tensor:
    """Scale all gradients together so that their joint norm is at most ``max_norm``.

    The joint norm is the ``norm_type``-norm of the vector of every gradient element (``inf``
    for the largest magnitude). The gradients are multiplied in place by
    min(1, max_norm / (total_norm + 1e-6)), as PyTorch does. Returns the total norm
    (before clipping) as a 0-d Tensor.
    """
    grads = [p.grad.array for p in _with_grads(parameters)]
    norm_type = float(norm_type)
    if max_norm < 0 or math.isnan(max_norm):
        raise ValueError(f"clip_grad_norm_: max_norm must be non-negative, got {max_norm}")
    if not grads:
        return Tensor.wrap(np.asarray(0.0, dtype=np.float32))
    dtype = np.result_type(*grads)
    if norm_type == math.inf:
        total = max(float(np.abs(g).max()) if g.size else 0.0 for g in grads)
    elif norm_type > 0:
        per_grad = [np.sum(np.abs(g) ** norm_type) for g in grads]
        total = float(np.sum(per_grad)) ** (1.0 / norm_type)
    else:
        raise ValueError(f"clip_grad_norm_: norm_type must be positive, got {norm_type}")
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is "
            f"{total}, so they cannot be clipped (error_if_nonfinite=True)"
        )
    clip_coef = min(max_norm / (total + 1e-6), 1.0)
    for g in grads:
        g *= clip_coef
    return Tensor.wrap(np.asarray(total, dtype=dtype))


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clamp every gradient element to [-clip_value, clip_value], in place."""
    if clip_value < 0:
        raise ValueError(f"clip_grad_value_: clip_value must be non-negative, got {clip_value}")
    for p in _with_grads(parameters):
        np.clip(p.grad.array, -clip_value, clip_value, out=p.grad.array)


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and joined into one 1-D tensor (a copy)."""
    arrays = [p.array.reshape(-1) for p in parameters]
    if not arrays:
        raise ValueError("parameters_to_vector: no parameters given")
    return Tensor.wrap(np.concatenate(arrays))


def vector_to_parameters(vector: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of the 1-D ``vector`` into the parameters, in place."""
    data = vector.array if isinstance(vector, Tensor) else np.asarray(vector)
    parameters = list(parameters)
    total = sum(p.array.size for p in parameters)
    if data.ndim != 1 or data.size != total:
        raise ValueError(f"vector_to_parameters: vector of shape {data.shape} does not hold "
                         f"the {total} parameter elements")
    start = 0
    for p in parameters:
        p.array[...] = data[start:start + p.array.size].reshape(p.shape)
        start += p.array.size
