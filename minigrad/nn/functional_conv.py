"""``nn.functional`` for images: convolutions, pooling, channel dropout, unfold and fold.

Each function checks its arguments the way PyTorch does (same rules, errors that name the
argument and the shapes), resolves the geometry (ints to (rows, cols) pairs; padding to
((top, bottom), (left, right))) and applies an op of the convolution derivative sheet
(``minigrad/convolution.py``), or a composition of ops. All take a batch (N, C, H, W) or
one unbatched image (C, H, W), as PyTorch's do.
"""

from __future__ import annotations

import numpy as np

from minigrad import convolution as conv
from minigrad import rng
from minigrad.functions import stack
from minigrad.nn._checks import check_probability
from minigrad.ops import ScatterAdd
from minigrad.tensor import Tensor

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")
_NUMPY_PAD_MODE = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}

# ---------------------------------------------------------------------------------------
# Arguments
# ---------------------------------------------------------------------------------------


def _pair(value, name: str, op: str, minimum: int) -> tuple[int, int]:
    """An int or a pair of ints, each at least ``minimum``, as a pair."""
    values = (value, value) if isinstance(value, int | np.integer) else tuple(value)
    if (len(values) != 2 or any(isinstance(v, bool) or not isinstance(v, int | np.integer)
                                for v in values) or min(values) < minimum):
        raise ValueError(f"{op}: {name} must be an integer ≥ {minimum} or a pair of them, "
                         f"got {value!r}")
    return int(values[0]), int(values[1])


def _batched(input, op: str, dims: int = 4) -> tuple[Tensor, bool]:
    """``input`` with a batch dim (``dims`` dims in all), and whether one was added."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if input.ndim == dims:
        return input, False
    if input.ndim == dims - 1:
        return input.unsqueeze(0), True
    raise ValueError(f"{op}: expected a {dims - 1}-D (unbatched) or {dims}-D (batched) input, "
                     f"got input of shape {input.shape}")


def _unbatched(out: Tensor, added: bool) -> Tensor:
    return out.squeeze(0) if added else out


def conv_padding(padding, kernel, stride, dilation, op: str):
    """``padding`` of a convolution (an int, a pair, "valid" or "same") as
    ((top, bottom), (left, right)). "same" pads d·(k - 1) in all, the extra one at the end."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0), (0, 0)
        if padding != "same":
            raise ValueError(f"{op}: padding must be an int, a pair, 'valid' or 'same', got "
                             f"{padding!r}")
        if stride != (1, 1):
            raise ValueError(f"{op}: padding='same' is not supported for strided "
                             f"convolutions (stride={stride})")
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return tuple((total // 2, total - total // 2) for total in totals)
    rows, cols = _pair(padding, "padding", op, 0)
    return (rows, rows), (cols, cols)


def pad_by_mode(x: Tensor, padding, mode: str, op: str) -> Tensor:
    """Pad the last ``len(padding)`` dims of ``x`` by ((before, after), ...) (the first pair
    for the first of those dims) the way ``mode`` says: "reflect" mirrors the input at its
    edges (without repeating the edge), "replicate" repeats the edge, "circular" wraps
    around. Written as indexing with a map of where each padded element comes from, so its
    gradient (a scatter-add) comes with it."""
    sizes = x.shape[x.ndim - len(padding):]
    for (before, after), size in zip(padding, sizes):
        if mode == "reflect" and max(before, after) >= size:
            raise ValueError(f"{op}: padding {padding} with padding_mode='reflect' must be "
                             f"smaller than the input size, got input of shape {x.shape}")
        if mode == "circular" and max(before, after) > size:
            raise ValueError(f"{op}: padding {padding} with padding_mode='circular' must not "
                             f"exceed the input size, got input of shape {x.shape}")
    numpy_mode = _NUMPY_PAD_MODE[mode]
    sources = [np.pad(np.arange(size), pair, mode=numpy_mode)
               for pair, size in zip(padding, sizes)]
    return x[(Ellipsis, *np.ix_(*sources))]


def pad(input: Tensor, pad, mode: str = "constant", value=None) -> Tensor:
    """``input`` padded as ``torch.nn.functional.pad``: ``pad`` lists (before, after) pairs
    from the last dim backwards, (left, right, top, bottom, ...). ``mode``: "constant"
    (``value``, default 0; negative pads crop), "reflect", "replicate" or "circular"."""
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(f"pad: the padding {tuple(pad)} must have an even length of at most "
                         f"2·{input.ndim} (input of shape {input.shape})")
    pairs = [(int(pad[i]), int(pad[i + 1])) for i in range(len(pad) - 2, -1, -2)]
    sizes = input.shape[input.ndim - len(pairs):]
    if mode != "constant":
        if mode not in _NUMPY_PAD_MODE:
            raise NotImplementedError(f"pad: mode must be 'constant', 'reflect', 'replicate' "
                                      f"or 'circular', got {mode!r}")
        if min(pad, default=0) < 0:
            raise ValueError(f"pad: negative padding {tuple(pad)} needs mode='constant'")
        return pad_by_mode(input, pairs, mode, "pad")
    # Negative pads crop first; the rest is the input placed inside a constant tensor.
    crop = tuple(slice(max(-before, 0), size - max(-after, 0))
                 for (before, after), size in zip(pairs, sizes))
    x = input[(Ellipsis, *crop)]
    pairs = [(max(before, 0), max(after, 0)) for before, after in pairs]
    inner = x.shape[x.ndim - len(pairs):]
    shape = tuple(x.shape[:x.ndim - len(pairs)]) + tuple(
        before + n + after for (before, after), n in zip(pairs, inner))
    key = (Ellipsis, *(slice(before, before + n) for (before, _), n in zip(pairs, inner)))
    out = ScatterAdd.apply(x, key, shape)
    if value:
        fill = np.full(shape, value, dtype=x.dtype)
        fill[key] = 0
        out = out + Tensor.wrap(fill)
    return out


# ---------------------------------------------------------------------------------------
# Convolutions
# ---------------------------------------------------------------------------------------


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    """2-D convolution (cross-correlation, as in PyTorch) of an (N, C, H, W) input with a
    weight of shape (out_channels, C/groups, kh, kw). ``padding``: int, pair, "valid" or
    "same" (zeros; ``nn.Conv2d`` has the other padding modes)."""
    x, added = _batched(input, "conv2d")
    if weight.ndim != 4:
        raise ValueError(f"conv2d: weight must be 4-D (out_channels, in_channels/groups, kh, "
                         f"kw), got shape {weight.shape}")
    stride = _pair(stride, "stride", "conv2d", 1)
    dilation = _pair(dilation, "dilation", "conv2d", 1)
    padding = conv_padding(padding, weight.shape[2:], stride, dilation, "conv2d")
    return _unbatched(_conv(x, weight, bias, stride, padding, dilation, groups, "conv2d"), added)


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    """1-D convolution of an (N, C, L) input with a weight of shape (out_channels,
    C/groups, k): a 2-D convolution of images one row high."""
    x, added = _batched(input, "conv1d", dims=3)
    if weight.ndim != 3:
        raise ValueError(f"conv1d: weight must be 3-D (out_channels, in_channels/groups, k), "
                         f"got shape {weight.shape}")
    stride = (1, _single(stride, "stride", 1))
    dilation = (1, _single(dilation, "dilation", 1))
    if not isinstance(padding, str):
        padding = (0, _single(padding, "padding", 0))
    padding = conv_padding(padding, (1, weight.shape[2]), stride, dilation, "conv1d")
    out = _conv(x.unsqueeze(2), weight.unsqueeze(2), bias, stride, padding, dilation, groups,
                "conv1d")
    return _unbatched(out.squeeze(2), added)


def _single(value, name: str, minimum: int) -> int:
    """conv1d's arguments: an int or a 1-tuple."""
    if isinstance(value, tuple | list) and len(value) == 1:
        value = value[0]
    return _pair(value, name, "conv1d", minimum)[0]


def _conv(x: Tensor, weight: Tensor, bias, stride, padding, dilation, groups, op: str):
    """The checks PyTorch makes, then the op."""
    if isinstance(groups, bool) or not isinstance(groups, int | np.integer) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive integer, got {groups!r}")
    out_channels, group_channels = weight.shape[:2]
    if out_channels % groups:
        raise ValueError(f"{op}: out_channels {out_channels} (weight of shape "
                         f"{weight.shape}) must be divisible by groups={groups}")
    if x.shape[1] != group_channels * groups:
        raise ValueError(
            f"{op}: weight of shape {weight.shape} with groups={groups} expects input with "
            f"{group_channels * groups} channels, got input of shape {x.shape} "
            f"({x.shape[1]} channels)"
        )
    if bias is not None and bias.shape != (out_channels,):
        raise ValueError(f"{op}: bias must have shape ({out_channels},) to match weight of "
                         f"shape {weight.shape}, got {bias.shape}")
    padded = [size + before + after for size, (before, after) in zip(x.shape[2:], padding)]
    reach = [d * (k - 1) + 1 for k, d in zip(weight.shape[2:], dilation)]
    if any(p < r for p, r in zip(padded, reach)):
        raise ValueError(
            f"{op}: the kernel (size {tuple(weight.shape[2:])}, dilation {dilation}: it spans "
            f"{tuple(reach)}) is larger than the padded input ({padded[0]} × {padded[1]}; "
            f"input of shape {x.shape}, padding {padding})"
        )
    return conv.Conv2d.apply(x, weight, bias, stride, padding, dilation, int(groups))


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,
                     padding=0, output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """The transpose (the gradient with respect to the input) of conv2d: each input pixel
    spreads its values, weighted by the kernel, over a window of the output. ``weight`` has
    shape (in_channels, out_channels/groups, kh, kw). The output is

        H_out = (H - 1)·stride - 2·padding + dilation·(kh - 1) + output_padding + 1

    Written as a matmul and a fold (``Wᵀ @ x`` then col2im), all ops with gradients."""
    op = "conv_transpose2d"
    x, added = _batched(input, op)
    if weight.ndim != 4:
        raise ValueError(f"{op}: weight must be 4-D (in_channels, out_channels/groups, kh, "
                         f"kw), got shape {weight.shape}")
    stride = _pair(stride, "stride", op, 1)
    dilation = _pair(dilation, "dilation", op, 1)
    padding = _pair(padding, "padding", op, 0)
    output_padding = _pair(output_padding, "output_padding", op, 0)
    if isinstance(groups, bool) or not isinstance(groups, int | np.integer) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive integer, got {groups!r}")
    in_channels, group_out, kh, kw = weight.shape
    if in_channels % groups or x.shape[1] != in_channels:
        raise ValueError(f"{op}: weight of shape {weight.shape} with groups={groups} expects "
                         f"input with {in_channels} channels (divisible by groups), got input "
                         f"of shape {x.shape}")
    if any(o >= max(s, d) for o, s, d in zip(output_padding, stride, dilation)):
        raise ValueError(f"{op}: output_padding {output_padding} must be smaller than either "
                         f"stride {stride} or dilation {dilation}")
    out_channels = group_out * groups
    if bias is not None and bias.shape != (out_channels,):
        raise ValueError(f"{op}: bias must have shape ({out_channels},), got {bias.shape}")
    n, _, h, w = x.shape
    # The full output, before padding is cut off: every window of every input pixel.
    full = [(size - 1) * s + d * (k - 1) + 1
            for size, s, d, k in zip((h, w), stride, dilation, (kh, kw))]
    out_size = [f - 2 * p + o for f, p, o in zip(full, padding, output_padding)]
    if min(out_size) < 1:
        raise ValueError(f"{op}: the output would have size {tuple(out_size)} for input of "
                         f"shape {x.shape}, kernel ({kh}, {kw}) and padding {padding}")
    per_group = x.reshape(n, groups, in_channels // groups, h * w)
    weight_t = weight.reshape(groups, in_channels // groups, -1).transpose(-1, -2)
    cols = (weight_t @ per_group).reshape(n, out_channels * kh * kw, h * w)
    no_padding = ((0, 0), (0, 0))
    out = conv.Fold.apply(cols, tuple(full), (kh, kw), stride, dilation, no_padding)
    beyond = [max(0, o - p) for o, p in zip(output_padding, padding)]
    if any(beyond):  # output_padding reaches past the last window: zeros there
        key = (slice(None), slice(None), slice(0, full[0]), slice(0, full[1]))
        out = ScatterAdd.apply(out, key, (n, out_channels, full[0] + beyond[0],
                                          full[1] + beyond[1]))
    out = out[:, :, padding[0]:padding[0] + out_size[0], padding[1]:padding[1] + out_size[1]]
    if bias is not None:
        out = out + bias.reshape(1, out_channels, 1, 1)
    return _unbatched(out, added)


# ---------------------------------------------------------------------------------------
# Pooling
# ---------------------------------------------------------------------------------------


def _pool_geometry(x: Tensor, kernel_size, stride, padding, dilation, ceil_mode: bool,
                   op: str):
    """kernel, stride, dilation and ((top, bottom), (left, right)) padding of a pool, with
    PyTorch's rules: stride defaults to the kernel; padding is at most half the (dilated)
    kernel; ``ceil_mode`` adds a last, partial window when one starts inside the input or
    the left padding (the extra bottom/right padding that needs is returned too)."""
    kernel = _pair(kernel_size, "kernel_size", op, 1)
    stride = kernel if stride is None or stride == () else _pair(stride, "stride", op, 1)
    pad = _pair(padding, "padding", op, 0)
    dilation = _pair(dilation, "dilation", op, 1)
    padding = []
    for size, k, s, p, d in zip(x.shape[2:], kernel, stride, pad, dilation):
        reach = d * (k - 1) + 1
        if p > reach / 2:
            raise ValueError(f"{op}: padding {pad} must be at most half of the kernel "
                             f"{kernel} (dilated: {reach})")
        count = (size + 2 * p - reach + (s - 1 if ceil_mode else 0)) // s + 1
        if ceil_mode and (count - 1) * s >= size + p:
            count -= 1  # that last window would start in the right padding
        if count < 1:
            raise ValueError(f"{op}: the output would be empty for input of shape {x.shape} "
                             f"with kernel_size {kernel}, stride {stride}, padding {pad}, "
                             f"dilation {dilation}")
        extra = max(0, (count - 1) * s + reach - (size + 2 * p))
        padding.append((p, p + extra))
    return kernel, stride, dilation, tuple(padding)


def max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False, return_indices: bool = False):
    """The max of each kh×kw window (padding counts as -inf). With ``return_indices``,
    also where each max is: its flat index in its (H, W) input plane, as PyTorch's."""
    x, added = _batched(input, "max_pool2d")
    kernel, stride, dilation, padding = _pool_geometry(x, kernel_size, stride, padding,
                                                       dilation, ceil_mode, "max_pool2d")
    out = conv.MaxPool2d.apply(x, kernel, stride, padding, dilation)
    if not return_indices:
        return _unbatched(out, added)
    n, c, h, w = x.shape
    windows = conv.unfold_array(x.array, kernel, stride, dilation, padding, -np.inf)
    winner = windows.reshape(n, c, kernel[0] * kernel[1], -1).argmax(2)  # (N, C, L)
    flat_index = np.arange(h * w, dtype=np.float64).reshape(1, 1, h, w)
    where = conv.unfold_array(flat_index, kernel, stride, dilation, padding, -1.0)[0]
    indices = where[winner, np.arange(winner.shape[-1])].astype(np.int64)
    return _unbatched(out, added), _unbatched(Tensor.wrap(indices.reshape(out.shape)), added)


def avg_pool2d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """The mean of each kh×kw window. The divisor, as PyTorch's: the window's size clipped
    to the padded input (``count_include_pad=True``), or the number of its elements inside
    the input (``False``), or ``divisor_override``."""
    x, added = _batched(input, "avg_pool2d")
    kernel, stride, _, padding = _pool_geometry(x, kernel_size, stride, padding, 1,
                                                ceil_mode, "avg_pool2d")
    if divisor_override is not None:
        if isinstance(divisor_override, bool) or divisor_override == 0:
            raise ValueError(f"avg_pool2d: divisor_override must be non-zero, got "
                             f"{divisor_override!r}")
        divisor = np.asarray(divisor_override, dtype=x.dtype)
    else:
        # Count what each window covers: pool a mask that is 1 where elements count.
        (top, bottom), (left, right) = padding
        h, w = x.shape[2:]
        counted = np.zeros((1, 1, h + top + bottom, w + left + right))
        if count_include_pad:
            counted[:, :, :h + 2 * top, :w + 2 * left] = 1  # not ceil_mode's extra padding
        else:
            counted[:, :, top:top + h, left:left + w] = 1
        no_padding = ((0, 0), (0, 0))
        divisor = conv.unfold_array(counted, kernel, stride, (1, 1), no_padding).sum(1)[0]
        divisor = divisor.astype(x.dtype)
    return _unbatched(conv.AvgPool2d.apply(x, kernel, stride, padding, divisor), added)


def _adaptive_windows(size: int, count: int) -> list[tuple[int, int]]:
    """PyTorch's adaptive windows: window i covers [⌊i·size/count⌋, ⌈(i+1)·size/count⌉)."""
    return [(i * size // count, -(-(i + 1) * size // count)) for i in range(count)]


def _adaptive_output(x: Tensor, output_size, op: str) -> tuple[int, int]:
    if isinstance(output_size, int | np.integer) or output_size is None:
        output_size = (output_size, output_size)
    sizes = tuple(size if wanted is None else wanted
                  for size, wanted in zip(x.shape[2:], output_size))
    _pair(sizes, "output_size", op, 1)
    if min(x.shape[2:]) < 1:
        raise ValueError(f"{op}: input of shape {x.shape} has an empty spatial dim")
    return sizes


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    """The mean over each of output_size windows that tile the input (sizes may differ by
    one when the input size is not a multiple; then the windows may overlap)."""
    x, added = _batched(input, "adaptive_avg_pool2d")
    oh, ow = _adaptive_output(x, output_size, "adaptive_avg_pool2d")
    h, w = x.shape[2:]
    if h % oh == 0 and w % ow == 0:  # equal windows side by side: an ordinary pool
        return _unbatched(avg_pool2d(x, (h // oh, w // ow)), added)
    rows = [stack([x[:, :, r0:r1, c0:c1].mean((2, 3)) for c0, c1 in _adaptive_windows(w, ow)],
                  dim=-1) for r0, r1 in _adaptive_windows(h, oh)]
    return _unbatched(stack(rows, dim=2), added)


def adaptive_max_pool2d(input: Tensor, output_size, return_indices: bool = False):
    """The max over each of output_size windows that tile the input (as
    ``adaptive_avg_pool2d``); with ``return_indices``, each max's flat index in its
    (H, W) plane."""
    x, added = _batched(input, "adaptive_max_pool2d")
    oh, ow = _adaptive_output(x, output_size, "adaptive_max_pool2d")
    h, w = x.shape[2:]
    if h % oh == 0 and w % ow == 0:  # equal windows side by side: an ordinary pool
        out = max_pool2d(x, (h // oh, w // ow), return_indices=return_indices)
        if return_indices:
            return _unbatched(out[0], added), _unbatched(out[1], added)
        return _unbatched(out, added)
    values, indices = [], []
    for r0, r1 in _adaptive_windows(h, oh):
        for c0, c1 in _adaptive_windows(w, ow):
            window = x[:, :, r0:r1, c0:c1].flatten(2)
            values.append(window.max(2).values)  # its gradient goes to the first max, as argmax's
            position = window.array.argmax(2)
            indices.append((r0 + position // (c1 - c0)) * w + c0 + position % (c1 - c0))
    out = stack(values, dim=-1).reshape(*x.shape[:2], oh, ow)
    if not return_indices:
        return _unbatched(out, added)
    where = np.stack(indices, axis=-1).reshape(out.shape).astype(np.int64)
    return _unbatched(out, added), _unbatched(Tensor.wrap(where), added)


# ---------------------------------------------------------------------------------------
# Channel dropout, unfold and fold
# ---------------------------------------------------------------------------------------


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """In training, zero each whole channel (an (H, W) plane) with probability ``p`` and
    scale the others by 1/(1-p); the identity otherwise. For (N, C, H, W) or (C, H, W)."""
    p = check_probability(p, "dropout2d")
    if input.ndim not in (3, 4):
        raise ValueError(f"dropout2d: expected a 3-D (unbatched) or 4-D (batched) input, got "
                         f"input of shape {input.shape}")
    if not training or p == 0.0:
        return input
    keep = rng.generator().random(input.shape[:-2] + (1, 1)) >= p
    scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)
    return input * (keep * scale).astype(input.dtype)


def unfold(input: Tensor, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """The patches of an (N, C, H, W) input as columns: (N, C·kh·kw, L), L the number of
    windows; column l holds window l, channel by channel, each row by row."""
    x, added = _batched(input, "unfold")
    kernel = _pair(kernel_size, "kernel_size", "unfold", 1)
    dilation = _pair(dilation, "dilation", "unfold", 1)
    stride = _pair(stride, "stride", "unfold", 1)
    rows, cols = _pair(padding, "padding", "unfold", 0)
    padding = ((rows, rows), (cols, cols))
    padded = [size + 2 * p for size, p in zip(x.shape[2:], (rows, cols))]
    if any(conv.output_length(s, k, st, d) < 1
           for s, k, st, d in zip(padded, kernel, stride, dilation)):
        raise ValueError(f"unfold: kernel_size {kernel} with dilation {dilation} does not fit "
                         f"the padded input ({padded[0]} × {padded[1]}) of shape {x.shape}")
    return _unbatched(conv.Unfold.apply(x, kernel, stride, dilation, padding), added)


def fold(input: Tensor, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """The inverse arrangement of ``unfold`` (and its gradient): each column of an (N,
    C·kh·kw, L) input added into its window of an (N, C, *output_size) output. Where
    windows overlap their values add, so fold(unfold(x)) is x times the number of windows
    covering each element."""
    x, added = _batched(input, "fold", dims=3)
    size = _pair(output_size, "output_size", "fold", 1)
    kernel = _pair(kernel_size, "kernel_size", "fold", 1)
    dilation = _pair(dilation, "dilation", "fold", 1)
    stride = _pair(stride, "stride", "fold", 1)
    rows, cols = _pair(padding, "padding", "fold", 0)
    out = conv.Fold.apply(x, size, kernel, stride, dilation, ((rows, rows), (cols, cols)))
    return _unbatched(out, added)


__all__ = ["conv1d", "conv2d", "conv_transpose2d", "max_pool2d", "avg_pool2d",
           "adaptive_avg_pool2d", "adaptive_max_pool2d", "dropout2d", "unfold", "fold"]

