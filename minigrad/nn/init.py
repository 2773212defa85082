"""``minigrad.nn.init``: initializing parameters in place, as ``torch.nn.init``.

Each function overwrites ``tensor.array`` in place (keeping its dtype), draws from minigrad's
seeded generator (``mg.manual_seed``) and returns the tensor.

The scaled initializations keep the variance of activations (forward) or of gradients
(backward) from growing or shrinking layer after layer:

    xavier (Glorot):  std = gain · √(2 / (fan_in + fan_out))
    kaiming (He):     std = gain / √fan        (fan = fan_in or fan_out, by ``mode``)

and a uniform U(-a, a) has std a/√3, hence a = √3 · std.
"""

from __future__ import annotations

import math

import numpy as np

from minigrad import rng
from minigrad.tensor import Tensor

_LINEAR_LIKE = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                "conv_transpose3d", "sigmoid")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The factor by which to scale the std for a nonlinearity, as PyTorch's table:
    linear/conv/sigmoid 1, tanh 5/3, relu √2, leaky_relu √(2/(1 + slope²)), selu 3/4."""
    if nonlinearity in _LINEAR_LIKE:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, int | float) and not isinstance(param, bool):
            slope = float(param)
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """fan_in = shape[1]·receptive field, fan_out = shape[0]·receptive field, for a weight
    of shape (out, in, *kernel)."""
    if tensor.ndim < 2:
        raise ValueError(
            f"fan in and fan out can not be computed for a tensor with fewer than 2 dims "
            f"(shape {tensor.shape})"
        )
    receptive_field = int(np.prod(tensor.shape[2:], dtype=np.int64))
    return tensor.shape[1] * receptive_field, tensor.shape[0] * receptive_field


def _fan(tensor: Tensor, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _fill(tensor: Tensor, values: np.ndarray) -> Tensor:
    tensor.array[...] = values  # in place, cast to the tensor's dtype
    return tensor


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    """Fill with draws from U(a, b)."""
    if a > b:
        raise ValueError(f"uniform_: a={a} must not exceed b={b}")
    return _fill(tensor, rng.generator().uniform(a, b, tensor.shape))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    """Fill with draws from N(mean, std²)."""
    if std < 0:
        raise ValueError(f"normal_: std must be non-negative, got {std}")
    return _fill(tensor, rng.generator().normal(mean, std, tensor.shape))


def constant_(tensor: Tensor, val: float) -> Tensor:
    return _fill(tensor, np.asarray(val))


def zeros_(tensor: Tensor) -> Tensor:
    return _fill(tensor, np.asarray(0))


def ones_(tensor: Tensor) -> Tensor:
    return _fill(tensor, np.asarray(1))


def xavier_uniform_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """U(-a, a) with a = gain · √(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound)


def xavier_normal_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """N(0, std²) with std = gain · √(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std)


def kaiming_uniform_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu") -> Tensor:
    """U(-bound, bound) with bound = √3 · gain / √fan, gain = calculate_gain(nonlinearity, a).

    ``nn.Linear`` uses a = √5, which makes bound = 1/√fan_in."""
    fan = _fan(tensor, mode)
    if fan == 0:
        raise ValueError(f"kaiming_uniform_: cannot initialize a tensor of shape "
                         f"{tensor.shape} (zero fan)")
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu") -> Tensor:
    """N(0, std²) with std = gain / √fan, gain = calculate_gain(nonlinearity, a)."""
    fan = _fan(tensor, mode)
    if fan == 0:
        raise ValueError(f"kaiming_normal_: cannot initialize a tensor of shape "
                         f"{tensor.shape} (zero fan)")
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return normal_(tensor, 0.0, std)
