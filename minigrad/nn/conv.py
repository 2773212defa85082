"""Layers for images: convolutions, pooling, ``BatchNorm2d``, ``Dropout2d``, ``Unfold`` and
``Fold``. Each holds its settings (and parameters) and calls ``nn.functional``; weights,
their default init and the state-dict keys are PyTorch's, so weights load into ``torch.nn``.
"""

from __future__ import annotations

import math

import numpy as np

from minigrad.nn import functional_conv as FC
from minigrad.nn import init
from minigrad.nn.layers import BatchNorm1d, Dropout
from minigrad.nn.module import Module, Parameter
from minigrad.tensor import Tensor, float32

# ---------------------------------------------------------------------------------------
# Convolutions
# ---------------------------------------------------------------------------------------


def _tuple(value, n: int) -> tuple:
    return tuple(value) if isinstance(value, tuple | list) else (value,) * n


class _ConvNd(Module):
    """What Conv1d, Conv2d and ConvTranspose2d share: the arguments, the weight of shape
    (out_channels, in_channels/groups, *kernel_size) (transposed: (in_channels,
    out_channels/groups, *kernel_size)), and PyTorch's default init."""

    _dims = 2
    _transposed = False

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 dtype=None):
        super().__init__()
        name = type(self).__name__
        for arg, value in (("in_channels", in_channels), ("out_channels", out_channels),
                           ("groups", groups)):
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(f"{name}: {arg} must be a positive integer, got {value!r}")
        if in_channels % groups:
            raise ValueError(f"{name}: in_channels {in_channels} must be divisible by "
                             f"groups={groups}")
        if out_channels % groups:
            raise ValueError(f"{name}: out_channels {out_channels} must be divisible by "
                             f"groups={groups}")
        if padding_mode not in FC.PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {FC.PADDING_MODES}, got "
                             f"{padding_mode!r}")
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = _tuple(kernel_size, self._dims)
        self.stride = _tuple(stride, self._dims)
        self.padding = padding if isinstance(padding, str) else _tuple(padding, self._dims)
        self.dilation = _tuple(dilation, self._dims)
        self.groups = int(groups)
        self.padding_mode = padding_mode
        if self._transposed:
            shape = (self.in_channels, self.out_channels // groups, *self.kernel_size)
        else:
            shape = (self.out_channels, self.in_channels // groups, *self.kernel_size)
        dtype = float32 if dtype is None else np.dtype(dtype)
        self.weight = Parameter(np.empty(shape, dtype=dtype))
        if bias:
            self.bias = Parameter(np.empty(self.out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's: weight from kaiming_uniform_ with a = √5, i.e. U(-1/√fan_in,
        1/√fan_in), bias from the same range; fan_in = weight.shape[1] · kernel size."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * math.prod(self.kernel_size)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def _padded(self, input: Tensor) -> tuple[Tensor, object]:
        """The input padded by ``padding_mode`` when it is not zeros (then the convolution
        itself pads nothing), and the padding left for the convolution."""
        if self.padding_mode == "zeros":
            return input, self.padding
        spatial = (1,) * (2 - self._dims) + self.kernel_size
        dilation = (1,) * (2 - self._dims) + self.dilation
        stride = (1,) * (2 - self._dims) + self.stride
        padding = self.padding
        if not isinstance(padding, str):
            padding = (0,) * (2 - self._dims) + padding
        pads = FC.conv_padding(padding, spatial, stride, dilation, type(self).__name__)
        # For Conv1d the rows are (C, L)'s C, padded by (0, 0): the map leaves them alone.
        return FC.pad_by_mode(input, pads, self.padding_mode, type(self).__name__), 0

    def extra_repr(self) -> str:
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        zero = (0,) * self._dims
        if self.padding != zero:
            text += f", padding={self.padding}"
        if self.dilation != (1,) * self._dims:
            text += f", dilation={self.dilation}"
        if getattr(self, "output_padding", zero) != zero:
            text += f", output_padding={self.output_padding}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text


class Conv2d(_ConvNd):
    """A 2-D convolution: (N, C_in, H, W) → (N, C_out, H_out, W_out), or one unbatched
    (C_in, H, W) image. ``padding``: an int, a pair, "valid" or "same"; ``padding_mode``:
    "zeros", "reflect", "replicate" or "circular". See ``F.conv2d``."""

    def forward(self, input: Tensor) -> Tensor:
        x, padding = self._padded(input)
        return FC.conv2d(x, self.weight, self.bias, self.stride, padding, self.dilation,
                         self.groups)


class Conv1d(_ConvNd):
    """A 1-D convolution: (N, C_in, L) → (N, C_out, L_out), or unbatched (C_in, L)."""

    _dims = 1

    def forward(self, input: Tensor) -> Tensor:
        x, padding = self._padded(input)
        return FC.conv1d(x, self.weight, self.bias, self.stride, padding, self.dilation,
                         self.groups)


class ConvTranspose2d(_ConvNd):
    """The transpose of a 2-D convolution (upsampling by ``stride``): weight of shape
    (in_channels, out_channels/groups, kh, kw). See ``F.conv_transpose2d``."""

    _transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 output_padding=0, groups: int = 1, bias: bool = True, dilation=1,
                 padding_mode: str = "zeros", dtype=None):
        if padding_mode != "zeros" or isinstance(padding, str):
            raise ValueError("ConvTranspose2d: only padding_mode='zeros' and integer padding "
                             "are supported (as in PyTorch)")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, dtype)
        self.output_padding = _tuple(output_padding, 2)

    def forward(self, input: Tensor) -> Tensor:
        return FC.conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding,
                                   self.output_padding, self.groups, self.dilation)


# ---------------------------------------------------------------------------------------
# Pooling
# ---------------------------------------------------------------------------------------


class MaxPool2d(Module):
    """The max of each window; ``return_indices=True`` also gives where each max is."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1,
                 return_indices: bool = False, ceil_mode: bool = False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input: Tensor):
        return FC.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                             self.ceil_mode, self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
                f", dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    """The mean of each window (see ``F.avg_pool2d`` for what the divisor counts)."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override: int | None = None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input: Tensor) -> Tensor:
        return FC.avg_pool2d(input, self.kernel_size, self.stride, self.padding,
                             self.ceil_mode, self.count_include_pad, self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed ``output_size`` (an int, a pair; None keeps that size)."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        return FC.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(Module):
    """Max pooling to a fixed ``output_size``; ``return_indices`` as ``MaxPool2d``."""

    def __init__(self, output_size, return_indices: bool = False):
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def forward(self, input: Tensor):
        return FC.adaptive_max_pool2d(input, self.output_size, self.return_indices)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


# ---------------------------------------------------------------------------------------
# Normalization, dropout, unfold and fold
# ---------------------------------------------------------------------------------------


class BatchNorm2d(BatchNorm1d):
    """Normalizes each of ``num_features`` channels of an (N, C, H, W) input over N, H and
    W: ``BatchNorm1d`` on the (N, C, H·W) view (same statistics, parameters and buffers)."""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, *, bias: bool = True,
                 dtype=None):
        if isinstance(num_features, bool) or not isinstance(num_features, int | np.integer) \
                or num_features < 0:
            raise ValueError(f"BatchNorm2d: num_features must be a non-negative integer, got "
                             f"{num_features!r}")
        super().__init__(num_features, eps, momentum, affine, track_running_stats, bias=bias)
        if dtype is not None:  # parameters and running statistics in that dtype
            for tensor in [*self.parameters(), self.running_mean, self.running_var]:
                if tensor is not None:
                    tensor.array = tensor.array.astype(dtype)

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim != 4 or input.shape[1] != self.num_features:
            raise ValueError(f"BatchNorm2d({self.num_features}): expected input of shape (N, "
                             f"{self.num_features}, H, W), got {input.shape}")
        n, c, h, w = input.shape
        return super().forward(input.reshape(n, c, h * w)).reshape(n, c, h, w)


class Dropout2d(Dropout):
    """In training, zeros whole channels with probability p and scales the rest by
    1/(1-p) (see ``F.dropout2d``); the identity in eval mode."""

    def forward(self, input: Tensor) -> Tensor:
        return FC.dropout2d(input, self.p, self.training)


class Unfold(Module):
    """The patches of an image batch as columns (see ``F.unfold``)."""

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size, self.dilation = kernel_size, dilation
        self.padding, self.stride = padding, stride

    def forward(self, input: Tensor) -> Tensor:
        return FC.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")


class Fold(Unfold):
    """Columns added back into their windows of an image (see ``F.fold``)."""

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__(kernel_size, dilation, padding, stride)
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        return FC.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding,
                       self.stride)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}, " + super().extra_repr()
