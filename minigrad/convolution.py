"""The derivative sheet of convolution and pooling: one im2col, its gradient, and the ops.

Everything here rests on one idea: a convolution is a matrix product over patches. Cut every
kh×kw window ("patch") out of the input and lay each out as a column: that is ``im2col``. A
convolution is then one matmul of the weights (one row per output channel) with that matrix
of columns; a max pool takes the max of each column, an average pool its mean. No Python loop
runs over pixels: ``im2col`` is a strided *view* of the input (``numpy.lib.stride_tricks``),
the patches are never cut out one by one.

The gradient of "cut out the patches" is "add each patch back where it came from": ``col2im``,
a scatter-add, written right below ``im2col``. Where patches overlap, their gradients add.

    unfold(x)  = the patch matrix (N, C·kh·kw, L)       L = number of patches
    fold(cols) = col2im: each column added back into its window        fold = unfoldᵀ

``Unfold`` and ``Fold`` are each other's gradient, so every op below that is written with
them is differentiable twice and more (``create_graph=True``).

Geometry (arguments as PyTorch's, resolved by ``nn.functional``): ``kernel``, ``stride`` and
``dilation`` are pairs (rows, cols); ``padding`` is ((top, bottom), (left, right)), since
``padding="same"`` and pooling's ``ceil_mode`` pad one side more than the other.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from minigrad.engine import Function
from minigrad.grad_mode import is_grad_enabled
from minigrad.tensor import Tensor

# ---------------------------------------------------------------------------------------
# im2col and its gradient col2im, on NumPy arrays
# ---------------------------------------------------------------------------------------


def output_length(size: int, kernel: int, stride: int, dilation: int) -> int:
    """How many windows of ``kernel`` taps ``dilation`` apart fit, ``stride`` apart, in
    ``size`` (already padded) elements."""
    return (size - dilation * (kernel - 1) - 1) // stride + 1


def _output_size(shape, kernel, stride, padding, dilation) -> tuple[int, int]:
    """(oh, ow): how many windows fit down and across the padded input."""
    (top, bottom), (left, right) = padding
    return (output_length(shape[2] + top + bottom, kernel[0], stride[0], dilation[0]),
            output_length(shape[3] + left + right, kernel[1], stride[1], dilation[1]))


def im2col(x: np.ndarray, kernel, stride, dilation) -> np.ndarray:
    """All the windows of a padded (N, C, H, W) array, as a read-only strided view of shape
    (N, C, kh, kw, oh, ow):

        patches[n, c, i, j, y, x] = x[n, c, y·sh + i·dh, x·sw + j·dw]

    No element is copied: moving one step along i jumps dh rows of x, along y sh rows."""
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    oh, ow = output_length(h, kh, sh, dh), output_length(w, kw, sw, dw)
    sn, sc, sy, sx = x.strides
    return as_strided(x, shape=(n, c, kh, kw, oh, ow),
                      strides=(sn, sc, sy * dh, sx * dw, sy * sh, sx * sw), writeable=False,
                      subok=True)  # (keeps a compiled step's array type: see capture.py)


def col2im(patches: np.ndarray, padded_shape, stride, dilation) -> np.ndarray:
    """The gradient of ``im2col``: add every patch (N, C, kh, kw, oh, ow) back into its
    window of a zero (N, C, H, W) array. A scatter-add, as windows may overlap.

    A view cannot add into overlapping places, so this loops over the kh·kw kernel taps:
    tap (i, j) of all windows lands on one strided slice of the output."""
    n, c, kh, kw, oh, ow = patches.shape
    (sh, sw), (dh, dw) = stride, dilation
    # The sum is built image dims first, (H, W, N, C): each add then runs over whole
    # (N, C) blocks rather than short rows, about twice as fast. Returned as (N, C, H, W).
    out = np.zeros_like(patches, shape=(*padded_shape[2:], n, c))
    taps = patches.transpose(2, 3, 4, 5, 0, 1)  # (kh, kw, oh, ow, N, C), a view
    for i in range(kh):
        rows = slice(i * dh, i * dh + sh * (oh - 1) + 1, sh)
        for j in range(kw):
            cols = slice(j * dw, j * dw + sw * (ow - 1) + 1, sw)
            out[rows, cols] += taps[i, j]
    return out.transpose(2, 3, 0, 1)


def unfold_array(x: np.ndarray, kernel, stride, dilation, padding,
                 pad_value: float = 0.0) -> np.ndarray:
    """The patch matrix of an (N, C, H, W) array: (N, C·kh·kw, oh·ow), a new array.
    Padding is filled with ``pad_value`` (0 for convolution, -inf for max pooling)."""
    (top, bottom), (left, right) = padding
    if top or bottom or left or right:
        x = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)),
                   constant_values=pad_value)
    patches = im2col(x, kernel, stride, dilation)
    n, c, kh, kw, oh, ow = patches.shape
    matrix = np.empty_like(patches, order="C")
    matrix[...] = patches  # the one copy: the windows laid out as columns
    return matrix.reshape(n, c * kh * kw, oh * ow)


def fold_array(cols: np.ndarray, output_size, kernel, stride, dilation,
               padding) -> np.ndarray:
    """The gradient of ``unfold_array``: (N, C·kh·kw, L) columns added back into an
    (N, C, H, W) array (``output_size`` = (H, W)), the padding cut off again."""
    n, rows, length = cols.shape
    (h, w), (kh, kw) = output_size, kernel
    (top, bottom), (left, right) = padding
    padded = (h + top + bottom, w + left + right)
    oh, ow = _output_size((n, rows, h, w), kernel, stride, padding, dilation)
    if rows % (kh * kw) or length != oh * ow or oh < 1 or ow < 1:
        raise ValueError(
            f"fold: input of shape {cols.shape} does not fit output_size {tuple(output_size)} "
            f"with kernel_size {tuple(kernel)}: expected (N, C·{kh * kw}, {max(oh, 0)}·"
            f"{max(ow, 0)}) = (N, C·{kh * kw}, {max(oh, 0) * max(ow, 0)})"
        )
    patches = cols.reshape(n, rows // (kh * kw), kh, kw, oh, ow)
    out = col2im(patches, (n, rows // (kh * kw), *padded), stride, dilation)
    return out[:, :, top:top + h, left:left + w]


# Backward of the ops below runs on Tensors when create_graph=True (recorded, so it can be
# differentiated again) and, as an optimisation, on the arrays otherwise: the same lines
# of code, with these helpers switching between the op and its array form.

def _fold(cols, output_size, kernel, stride, dilation, padding):
    if isinstance(cols, Tensor):
        return Fold.apply(cols, output_size, kernel, stride, dilation, padding)
    return fold_array(cols, output_size, kernel, stride, dilation, padding)


def _swap_last_two(a):
    return a.transpose(-1, -2) if isinstance(a, Tensor) else a.swapaxes(-1, -2)


# ---------------------------------------------------------------------------------------
# Unfold and Fold: each the gradient of the other
# ---------------------------------------------------------------------------------------


class Unfold(Function):
    """out = the patch matrix of x (N, C·kh·kw, L)     ∂L/∂x = fold(grad)"""

    @staticmethod
    def forward(ctx, x, kernel, stride, dilation, padding):
        ctx.image_size, ctx.window = x.shape[2:], (kernel, stride, dilation, padding)
        return unfold_array(x.array, kernel, stride, dilation, padding)

    @staticmethod
    def backward(ctx, grad):
        return Fold.apply(grad, ctx.image_size, *ctx.window)


class Fold(Function):
    """out = col2im(cols): each column added into its window     ∂L/∂cols = unfold(grad)"""

    @staticmethod
    def forward(ctx, cols, output_size, kernel, stride, dilation, padding):
        ctx.window = (kernel, stride, dilation, padding)
        return fold_array(cols.array, output_size, kernel, stride, dilation, padding)

    @staticmethod
    def backward(ctx, grad):
        return Unfold.apply(grad, *ctx.window)


# ---------------------------------------------------------------------------------------
# Convolution
# ---------------------------------------------------------------------------------------


class Conv2d(Function):
    """out[n, o, y, x] = Σ_{c, i, j} W[o, c, i, j] · x[n, c, y·sh + i·dh, x·sw + j·dw] + b[o]

    As a matmul over patches, with X = unfold(x) (N, C·kh·kw, L) and W as a matrix
    (O, C·kh·kw), one per group of channels:

        out = W @ X + b      ∂L/∂W = Σₙ grad @ Xᵀ      ∂L/∂x = fold(Wᵀ @ grad)      ∂L/∂b = Σ grad

    ``groups`` = G splits the channels into G independent convolutions: the matmuls are
    batched over G (and over the samples n). x is zero-padded by ``padding``.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, dilation, groups):
        ctx.save_for_backward(x, weight)  # the bias's value is not needed
        ctx.stride, ctx.padding, ctx.dilation, ctx.groups = stride, padding, dilation, groups
        x, weight = x.array, weight.array
        n = x.shape[0]
        out_channels, _, kh, kw = weight.shape
        cols = unfold_array(x, (kh, kw), stride, dilation, padding)  # (N, C·kh·kw, L)
        ctx.cols = cols  # for backward, when it runs on the arrays
        rows, length = cols.shape[1:]
        out = _grouped_weight(weight, groups) @ cols.reshape(n, groups, rows // groups, length)
        out = out.reshape(n, out_channels, length)
        if bias is not None:
            out += bias.array[:, None]
        return out.reshape(n, out_channels,
                           *_output_size(x.shape, (kh, kw), stride, padding, dilation))

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        stride, padding, dilation, groups = ctx.stride, ctx.padding, ctx.dilation, ctx.groups
        need_x, need_weight, need_bias = ctx.needs_input_grad[:3]
        kernel = weight.shape[2:]
        if is_grad_enabled():  # create_graph: the same equations on Tensors, recorded
            cols = Unfold.apply(x, kernel, stride, dilation, padding) if need_weight else None
        else:  # optimisation: on the arrays, with forward's patch matrix
            grad, weight, cols = grad.array, weight.array, ctx.cols
        n, out_channels, oh, ow = grad.shape
        g = grad.reshape(n, groups, out_channels // groups, oh * ow)  # (N, G, O/G, L)
        grad_weight = grad_x = grad_bias = None
        if need_weight:
            rows = weight.shape[1] * kernel[0] * kernel[1]
            patches = cols.reshape(n, groups, rows, oh * ow)  # (N, G, C/G·kh·kw, L)
            grad_weight = (g @ _swap_last_two(patches)).sum(0).reshape(weight.shape)
        if need_x:
            grad_cols = _swap_last_two(_grouped_weight(weight, groups)) @ g
            grad_cols = grad_cols.reshape(n, x.shape[1] * kernel[0] * kernel[1], oh * ow)
            grad_x = _fold(grad_cols, x.shape[2:], kernel, stride, dilation, padding)
        if need_bias:
            grad_bias = grad.sum((0, 2, 3))
        return grad_x, grad_weight, grad_bias


def _grouped_weight(weight, groups: int):
    """(O, C/G, kh, kw) → (G, O/G, C/G·kh·kw): one weight matrix per group."""
    return weight.reshape(groups, weight.shape[0] // groups, -1)


# ---------------------------------------------------------------------------------------
# Pooling: the same patch matrix, reduced per window
# ---------------------------------------------------------------------------------------


class MaxPool2d(Function):
    """out = the max of each window (padding counts as -inf)     ∂L/∂x = the gradient sent
    to the element that was the max (the first one on ties), added up by fold where
    windows overlap"""

    @staticmethod
    def forward(ctx, x, kernel, stride, padding, dilation):
        ctx.input_shape, ctx.window = x.shape, (kernel, stride, padding, dilation)
        x = x.array  # (the winners, below, are all backward needs)
        n, c, _, _ = x.shape
        cols = unfold_array(x, kernel, stride, dilation, padding, pad_value=-np.inf)
        taps = kernel[0] * kernel[1]
        windows = cols.reshape(n, c, taps, cols.shape[2])  # (N, C, kh·kw, L)
        out = windows.max(2)
        # The winner of each window: its first max (NaN counts as a max, as in PyTorch).
        # Found as the largest of (taps - k) over the maxima k: a max-reduction, which NumPy
        # does several times faster than argmax along a middle axis.
        is_max = windows == out[:, :, None]
        if np.isnan(out).any():  # (checked on the output, a kh·kw-th of the windows' size)
            is_max |= np.isnan(windows)
        priority = np.arange(taps, 0, -1, dtype=np.int32)[:, None]
        ctx.argmax = taps - (is_max * priority).max(2, keepdims=True)  # (N, C, 1, L)
        return out.reshape(n, c, *_output_size(x.shape, kernel, stride, padding, dilation))

    @staticmethod
    def backward(ctx, grad):
        kernel = ctx.window[0]
        winner = np.arange(kernel[0] * kernel[1])[:, None] == ctx.argmax  # (N, C, kh·kw, L)
        return _spread_back(grad, winner, ctx.input_shape, *ctx.window)


class AvgPool2d(Function):
    """out = (the sum of each window) / divisor     ∂L/∂x = grad / divisor sent to every
    element of the window, added up by fold where windows overlap

    ``divisor`` (one per window, or one number) is the window's size, or the number of its
    elements inside the input (``count_include_pad=False``); ``nn.functional`` works it out.
    """

    @staticmethod
    def forward(ctx, x, kernel, stride, padding, divisor):
        ctx.input_shape, ctx.window, ctx.divisor = x.shape, (kernel, stride, padding), divisor
        x = x.array  # (its values are not needed by backward)
        n, c, _, _ = x.shape
        cols = unfold_array(x, kernel, stride, (1, 1), padding)
        sums = cols.reshape(n, c, kernel[0] * kernel[1], cols.shape[2]).sum(2)
        out = sums / divisor
        return out.reshape(n, c, *_output_size(x.shape, kernel, stride, padding, (1, 1)))

    @staticmethod
    def backward(ctx, grad):
        kernel, stride, padding = ctx.window
        every_tap = np.ones((kernel[0] * kernel[1], 1), dtype=grad.dtype)
        return _spread_back(grad, every_tap / ctx.divisor, ctx.input_shape, kernel, stride,
                            padding, (1, 1))


def _spread_back(grad, share, input_shape, kernel, stride, padding, dilation):
    """∂L/∂x of a pool: the gradient of each output, times the ``share`` of it that each
    tap of its window gets (broadcast to (N, C, kh·kw, L)), added back into the input by
    fold. On the arrays (an optimisation) unless create_graph records it."""
    if not is_grad_enabled():
        grad = grad.array
    n, c, oh, ow = grad.shape
    cols = grad.reshape(n, c, 1, oh * ow) * share  # (N, C, kh·kw, L)
    return _fold(cols.reshape(n, c * cols.shape[2], oh * ow), input_shape[2:], kernel, stride,
                 dilation, padding)
