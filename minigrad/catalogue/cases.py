"""One catalogue of every differentiable op, layer and loss, used by the test suite and by
``minigrad gradcheck``.

Each entry names an op, how minigrad computes it, how NumPy computes it (the independent
reference), the shapes of its inputs, and the domain its inputs are drawn from. A new op gets
forward, gradcheck, gradgradcheck and broadcasting tests, and a line in the ``minigrad
gradcheck`` table, by adding one line here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

import minigrad as mg
from minigrad.nn import functional as F

_erf = np.vectorize(math.erf)


# Zeros at fixed places (one row without, one with one zero, one with two), for the
# gradients of products at zero.
_ZERO_MASK = np.array([[1.0, 1.0, 1.0, 1.0], [1.0, 0.0, 1.0, 1.0], [0.0, 1.0, 1.0, 0.0]])


_GATHER_INDEX = np.array([[3, 0], [1, 1], [2, 0]])  # repeated indices: the gradient adds up
_SCATTER_INDEX = np.array([[2, 0, 1, 2], [0, 1, 0, 1]])  # each position written once
_MASK = np.array([[True, False, False, True]] * 2 + [[False, True, False, False]])


def _np_scatter(a, b):
    out = a.copy()
    np.put_along_axis(out, _SCATTER_INDEX, b, 0)
    return out


def _np_scatter_add(a, b):
    out = a.copy()
    for row, columns in enumerate(_GATHER_INDEX):
        for k, column in enumerate(columns):
            out[row, column] += b[row, k]
    return out


def _np_scatter_reduce(a, b, reduce, include_self):
    out, sent = a.copy(), {}
    for row, columns in enumerate(_GATHER_INDEX):
        for k, column in enumerate(columns):
            sent.setdefault((row, column), [a[row, column]] if include_self else []).append(
                b[row, k])
    combine = {"sum": np.sum, "prod": np.prod, "mean": np.mean, "amax": np.max, "amin": np.min}
    for position, values in sent.items():
        out[position] = combine[reduce](values)
    return out


def _np_index_add(a, b):
    out = a.copy()
    np.add.at(out, [2, 0, 2], 2 * b)
    return out


def _np_softmax(x, dim):
    e = np.exp(x - x.max(axis=dim, keepdims=True))
    return e / e.sum(axis=dim, keepdims=True)


def _np_logsumexp(x, dim=None, keepdims=False):
    m = x.max(axis=dim, keepdims=True)
    out = np.log(np.exp(x - m).sum(axis=dim, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=dim)


@dataclass
class OpCase:
    name: str
    fn: Callable  # on minigrad Tensors
    ref: Callable  # on NumPy arrays
    shapes: list[tuple[int, ...]]
    low: float = -2.0  # inputs drawn uniformly from [low, high]
    high: float = 2.0
    second_order: bool = True  # run gradgradcheck
    # Keep inputs away from kinks (|x| < margin), where finite differences straddle them.
    kink_margin: float = 0.0
    kinks_at: list[float] = field(default_factory=lambda: [0.0])
    broadcastable: bool = False  # a binary elementwise op: test broadcasting properties
    group: str = "op"  # "op", "layer" or "loss": how ``minigrad gradcheck`` groups its table


CATALOGUE: list[OpCase] = [
    # arithmetic
    OpCase("add", lambda a, b: a + b, np.add, [(3, 4), (4,)], broadcastable=True),
    OpCase("sub", lambda a, b: a - b, np.subtract, [(3, 1), (1, 4)], broadcastable=True),
    OpCase("mul", lambda a, b: a * b, np.multiply, [(2, 3, 4), (3, 1)], broadcastable=True),
    OpCase("div", lambda a, b: a / b, np.divide, [(3, 4), (3, 4)], low=0.5, high=2.0,
           broadcastable=True),
    OpCase("pow", lambda a, b: a**b, np.power, [(3, 4), (3, 4)], low=0.5, high=2.0,
           broadcastable=True),
    OpCase("pow_scalar", lambda a: a**3, lambda a: a**3, [(3, 4)]),
    OpCase("rpow_scalar", lambda a: 2.0**a, lambda a: 2.0**a, [(3, 4)]),
    OpCase("neg", lambda a: -a, np.negative, [(3, 4)]),
    OpCase("rsub_scalar", lambda a: 1.5 - a, lambda a: 1.5 - a, [(5,)]),
    OpCase("rdiv_scalar", lambda a: 1.5 / a, lambda a: 1.5 / a, [(5,)], low=0.5, high=2.0),
    OpCase("matmul_2d", lambda a, b: a @ b, np.matmul, [(3, 4), (4, 5)]),
    OpCase("matmul_1d_1d", lambda a, b: a @ b, np.matmul, [(4,), (4,)]),
    OpCase("matmul_1d_2d", lambda a, b: a @ b, np.matmul, [(4,), (4, 3)]),
    OpCase("matmul_2d_1d", lambda a, b: a @ b, np.matmul, [(3, 4), (4,)]),
    OpCase("matmul_batched", lambda a, b: a @ b, np.matmul, [(2, 3, 4), (2, 4, 5)]),
    OpCase("matmul_batch_broadcast", lambda a, b: a @ b, np.matmul, [(2, 1, 3, 4), (3, 4, 2)]),
    OpCase("matmul_1d_batched", lambda a, b: a @ b, np.matmul, [(4,), (2, 4, 3)]),
    OpCase("matmul_batched_1d", lambda a, b: a @ b, np.matmul, [(2, 3, 4), (4,)]),
    # elementwise
    OpCase("exp", lambda a: a.exp(), np.exp, [(3, 4)]),
    OpCase("log", lambda a: a.log(), np.log, [(3, 4)], low=0.2, high=3.0),
    OpCase("sqrt", lambda a: a.sqrt(), np.sqrt, [(3, 4)], low=0.2, high=3.0),
    OpCase("abs", lambda a: a.abs(), np.abs, [(3, 4)], kink_margin=1e-3),
    OpCase("sin", lambda a: a.sin(), np.sin, [(3, 4)]),
    OpCase("cos", lambda a: a.cos(), np.cos, [(3, 4)]),
    OpCase("tanh", lambda a: a.tanh(), np.tanh, [(3, 4)]),
    OpCase("sigmoid", lambda a: a.sigmoid(), lambda a: 1 / (1 + np.exp(-a)), [(3, 4)],
           low=-6, high=6),
    OpCase("relu", lambda a: a.relu(), lambda a: np.maximum(a, 0), [(3, 4)], kink_margin=1e-3),
    OpCase("leaky_relu", lambda a: a.leaky_relu(0.1), lambda a: np.where(a > 0, a, 0.1 * a),
           [(3, 4)], kink_margin=1e-3),
    OpCase("erf", lambda a: a.erf(), _erf, [(3, 4)], low=-3, high=3),
    OpCase("gelu", lambda a: a.gelu(), lambda a: 0.5 * a * (1 + _erf(a / math.sqrt(2))),
           [(3, 4)], low=-3, high=3),
    OpCase("gelu_tanh", lambda a: a.gelu(approximate="tanh"),
           lambda a: 0.5 * a * (1 + np.tanh(math.sqrt(2 / math.pi) * (a + 0.044715 * a**3))),
           [(3, 4)], low=-3, high=3),
    OpCase("clamp", lambda a: a.clamp(-0.5, 0.7), lambda a: np.clip(a, -0.5, 0.7), [(3, 4)],
           kink_margin=1e-3, kinks_at=[-0.5, 0.7]),
    OpCase("clamp_min", lambda a: a.clamp(min=0.1), lambda a: np.maximum(a, 0.1), [(3, 4)],
           kink_margin=1e-3, kinks_at=[0.1]),
    OpCase("maximum", lambda a, b: a.maximum(b), np.maximum, [(3, 4), (4,)], broadcastable=True),
    OpCase("minimum", lambda a, b: a.minimum(b), np.minimum, [(3, 4), (3, 4)],
           broadcastable=True),
    OpCase("where", lambda a, b: mg.where(a.array > 0, a, b),
           lambda a, b: np.where(a > 0, a, b), [(3, 4), (4,)], kink_margin=1e-3),
    # more elementwise functions (SPEC §10, "The op set"); rounding is piecewise constant
    # (gradient 0), its inputs kept away from the jumps
    OpCase("sign", lambda a: a.sign(), np.sign, [(3, 4)], kink_margin=1e-3),
    OpCase("floor", lambda a: a.floor(), np.floor, [(3, 4)], kink_margin=1e-3,
           kinks_at=[-2.0, -1.0, 0.0, 1.0, 2.0]),
    OpCase("ceil", lambda a: a.ceil(), np.ceil, [(3, 4)], kink_margin=1e-3,
           kinks_at=[-2.0, -1.0, 0.0, 1.0, 2.0]),
    OpCase("round", lambda a: a.round(), np.round, [(3, 4)], kink_margin=1e-3,
           kinks_at=[-1.5, -0.5, 0.5, 1.5]),
    OpCase("round_decimals", lambda a: a.round(decimals=1), lambda a: np.round(a, 1),
           [(3, 4)], kink_margin=1e-4, kinks_at=[k / 20 for k in range(-39, 40, 2)]),
    OpCase("trunc", lambda a: a.trunc(), np.trunc, [(3, 4)], kink_margin=1e-3,
           kinks_at=[-1.0, 1.0]),
    OpCase("frac", lambda a: a.frac(), lambda a: a - np.trunc(a), [(3, 4)], kink_margin=1e-3,
           kinks_at=[-1.0, 1.0]),
    OpCase("reciprocal", lambda a: a.reciprocal(), np.reciprocal, [(3, 4)], low=0.5),
    OpCase("rsqrt", lambda a: a.rsqrt(), lambda a: 1 / np.sqrt(a), [(3, 4)], low=0.3, high=3),
    OpCase("square", lambda a: a.square(), np.square, [(3, 4)]),
    OpCase("exp2", lambda a: a.exp2(), np.exp2, [(3, 4)]),
    OpCase("expm1", lambda a: a.expm1(), np.expm1, [(3, 4)]),
    OpCase("log2", lambda a: a.log2(), np.log2, [(3, 4)], low=0.2, high=3.0),
    OpCase("log10", lambda a: a.log10(), np.log10, [(3, 4)], low=0.2, high=3.0),
    OpCase("log1p", lambda a: a.log1p(), np.log1p, [(3, 4)], low=-0.7, high=3.0),
    OpCase("erfc", lambda a: a.erfc(), lambda a: 1 - _erf(a), [(3, 4)], low=-3, high=3),
    OpCase("tan", lambda a: a.tan(), np.tan, [(3, 4)], low=-1.3, high=1.3),
    OpCase("sinh", lambda a: a.sinh(), np.sinh, [(3, 4)]),
    OpCase("cosh", lambda a: a.cosh(), np.cosh, [(3, 4)]),
    OpCase("asin", lambda a: a.asin(), np.arcsin, [(3, 4)], low=-0.9, high=0.9),
    OpCase("acos", lambda a: a.acos(), np.arccos, [(3, 4)], low=-0.9, high=0.9),
    OpCase("atan", lambda a: a.atan(), np.arctan, [(3, 4)]),
    OpCase("asinh", lambda a: a.asinh(), np.arcsinh, [(3, 4)]),
    OpCase("acosh", lambda a: a.acosh(), np.arccosh, [(3, 4)], low=1.2, high=3.0),
    OpCase("atanh", lambda a: a.atanh(), np.arctanh, [(3, 4)], low=-0.9, high=0.9),
    OpCase("nan_to_num", lambda a: a.nan_to_num(), np.nan_to_num, [(3, 4)]),
    OpCase("atan2", lambda a, b: a.atan2(b), np.arctan2, [(3, 4), (4,)], low=0.2,
           broadcastable=True),
    OpCase("hypot", lambda a, b: a.hypot(b), np.hypot, [(3, 4), (3, 1)], broadcastable=True),
    OpCase("logaddexp", lambda a, b: a.logaddexp(b), np.logaddexp, [(3, 4), (4,)],
           broadcastable=True),
    OpCase("copysign", lambda a, b: a.copysign(b), np.copysign, [(3, 4), (3, 4)],
           kink_margin=1e-3, broadcastable=True),
    OpCase("fmod", lambda a, b: (a - 1.0).fmod(b + 1.2), lambda a, b: np.fmod(a - 1, b + 1.2),
           [(3, 4), (3, 4)], low=-3.0, high=0.8),
    OpCase("remainder", lambda a, b: (a - 1.0).remainder(b + 1.2),
           lambda a, b: np.remainder(a - 1, b + 1.2), [(3, 4), (4,)], low=-3.0, high=0.8),
    OpCase("div_floor", lambda a, b: a.div(b, rounding_mode="floor"), np.floor_divide,
           [(3, 4), (4,)], low=0.5, high=4.0),
    OpCase("div_trunc", lambda a, b: a.div(b, rounding_mode="trunc"),
           lambda a, b: np.trunc(a / b), [(3, 4), (4,)], low=0.5, high=4.0),
    OpCase("lerp", lambda a, b, w: a.lerp(b, w), lambda a, b, w: a + w * (b - a),
           [(3, 4), (3, 4), (4,)]),
    # reductions
    OpCase("sum_all", lambda a: a.sum(), np.sum, [(3, 4)]),
    OpCase("sum_dim", lambda a: a.sum(1), lambda a: a.sum(1), [(3, 4, 2)]),
    OpCase("sum_dims_keepdim", lambda a: a.sum((0, 2), keepdim=True),
           lambda a: a.sum((0, 2), keepdims=True), [(3, 4, 2)]),
    OpCase("sum_negative_dim", lambda a: a.sum(-1), lambda a: a.sum(-1), [(3, 4)]),
    OpCase("mean_all", lambda a: a.mean(), np.mean, [(3, 4)]),
    OpCase("mean_dim", lambda a: a.mean(0, keepdim=True), lambda a: a.mean(0, keepdims=True),
           [(3, 4)]),
    OpCase("var_all", lambda a: a.var(), lambda a: a.var(ddof=1), [(3, 4)]),
    OpCase("var_dim_biased", lambda a: a.var(1, correction=0), lambda a: a.var(1), [(3, 4)]),
    OpCase("std_dims", lambda a: a.std((0, 1)), lambda a: a.std((0, 1), ddof=1), [(3, 4, 2)]),
    OpCase("max_all", lambda a: a.max(), np.max, [(3, 4)]),
    OpCase("max_dim", lambda a: a.max(1).values, lambda a: a.max(1), [(3, 4)]),
    OpCase("min_dims_keepdim", lambda a: a.min((0, 1), keepdim=True),
           lambda a: a.min((0, 1), keepdims=True), [(3, 4, 2)]),
    # more reductions (SPEC §10, "The op set")
    OpCase("prod_all", lambda a: a.prod(), np.prod, [(2, 3)]),
    OpCase("prod_dim_keepdim", lambda a: a.prod(1, keepdim=True),
           lambda a: a.prod(1, keepdims=True), [(3, 4)]),
    OpCase("prod_with_zeros", lambda a: (a * _ZERO_MASK.astype(a.dtype)).prod(1),
           lambda a: (a * _ZERO_MASK).prod(1), [(3, 4)]),
    OpCase("cumsum", lambda a: a.cumsum(1), lambda a: np.cumsum(a, 1), [(3, 4)]),
    OpCase("cumprod", lambda a: a.cumprod(0), lambda a: np.cumprod(a, 0), [(4, 3)]),
    OpCase("cumprod_with_zeros", lambda a: (a * _ZERO_MASK.astype(a.dtype)).cumprod(1),
           lambda a: np.cumprod(a * _ZERO_MASK, 1), [(3, 4)]),
    OpCase("cummax", lambda a: a.cummax(1).values, lambda a: np.maximum.accumulate(a, 1),
           [(3, 4)]),
    OpCase("cummin", lambda a: a.cummin(0).values, lambda a: np.minimum.accumulate(a, 0),
           [(4, 3)]),
    OpCase("logcumsumexp", lambda a: a.logcumsumexp(1), lambda a: np.logaddexp.accumulate(a, 1),
           [(3, 4)]),
    OpCase("amax_dims", lambda a: a.amax((0, 2)), lambda a: a.max((0, 2)), [(3, 4, 2)]),
    OpCase("amin_keepdim", lambda a: a.amin(1, keepdim=True), lambda a: a.min(1, keepdims=True),
           [(3, 4)]),
    OpCase("std_mean", lambda a: mg.std_mean(a, 1)[0] * mg.std_mean(a, 1)[1],
           lambda a: a.std(1, ddof=1) * a.mean(1), [(3, 4)]),
    OpCase("var_mean", lambda a: mg.var_mean(a, correction=0)[0] + mg.var_mean(a)[1],
           lambda a: a.var() + a.mean(), [(3, 4)]),
    OpCase("dist", lambda a, b: a.dist(b), lambda a, b: np.linalg.norm(a - b), [(3, 4), (4,)]),
    OpCase("dist_p3", lambda a, b: a.dist(b, 3), lambda a, b: (np.abs(a - b) ** 3).sum() ** (1 / 3),
           [(3, 4), (3, 4)], kink_margin=1e-3),
    OpCase("sort_dim", lambda a: a.sort(1).values, lambda a: np.sort(a, 1), [(3, 4)]),
    OpCase("sort_descending", lambda a: a.sort(0, descending=True).values,
           lambda a: -np.sort(-a, 0), [(3, 4)]),
    OpCase("topk", lambda a: a.topk(2).values, lambda a: -np.sort(-a, -1)[:, :2], [(3, 4)]),
    OpCase("median_all", lambda a: a.median(), lambda a: np.sort(a, None)[(a.size - 1) // 2],
           [(3, 4)]),
    OpCase("median_dim", lambda a: a.median(1).values,
           lambda a: np.sort(a, 1)[:, (a.shape[1] - 1) // 2], [(3, 4)]),
    OpCase("norm_2", lambda a: a.norm(), np.linalg.norm, [(3, 4)]),
    OpCase("norm_1_dim", lambda a: a.norm(1, 1), lambda a: np.abs(a).sum(1), [(3, 4)],
           kink_margin=1e-3),
    OpCase("norm_3_keepdim", lambda a: a.norm(3, 0, keepdim=True),
           lambda a: (np.abs(a) ** 3).sum(0, keepdims=True) ** (1 / 3), [(3, 4)],
           kink_margin=1e-3),
    OpCase("norm_inf", lambda a: a.norm(float("inf"), 1), lambda a: np.abs(a).max(1),
           [(3, 4)], kink_margin=1e-3),
    OpCase("logsumexp_all", lambda a: a.logsumexp(), _np_logsumexp, [(3, 4)]),
    OpCase("logsumexp_dims", lambda a: a.logsumexp((0, 2)),
           lambda a: _np_logsumexp(a, (0, 2)), [(3, 4, 2)]),
    OpCase("logsumexp_keepdim", lambda a: a.logsumexp(1, keepdim=True),
           lambda a: _np_logsumexp(a, 1, keepdims=True), [(3, 4)]),
    OpCase("softmax", lambda a: a.softmax(-1), lambda a: _np_softmax(a, -1), [(3, 4)]),
    OpCase("softmax_dim0", lambda a: a.softmax(0), lambda a: _np_softmax(a, 0), [(3, 4, 2)]),
    OpCase("log_softmax", lambda a: a.log_softmax(1), lambda a: np.log(_np_softmax(a, 1)),
           [(3, 4)]),
    # shape
    OpCase("reshape", lambda a: a.reshape(4, 3), lambda a: a.reshape(4, 3), [(3, 4)]),
    OpCase("reshape_minus_one", lambda a: a.reshape(-1, 2), lambda a: a.reshape(-1, 2),
           [(3, 4)]),
    OpCase("flatten", lambda a: a.flatten(1), lambda a: a.reshape(2, -1), [(2, 3, 4)]),
    OpCase("transpose", lambda a: a.transpose(0, 2), lambda a: a.swapaxes(0, 2), [(2, 3, 4)]),
    OpCase("T", lambda a: a.T, lambda a: a.T, [(3, 4)]),
    OpCase("permute", lambda a: a.permute(2, 0, 1), lambda a: a.transpose(2, 0, 1),
           [(2, 3, 4)]),
    OpCase("squeeze", lambda a: a.squeeze(), np.squeeze, [(3, 1, 4, 1)]),
    OpCase("squeeze_dim", lambda a: a.squeeze(1), lambda a: a.squeeze(1), [(3, 1, 4)]),
    OpCase("unsqueeze", lambda a: a.unsqueeze(-1), lambda a: a[..., None], [(3, 4)]),
    OpCase("expand", lambda a: a.expand(2, 3, -1), lambda a: np.broadcast_to(a, (2, 3, 4)),
           [(1, 4)]),
    OpCase("broadcast_to", lambda a: a.broadcast_to((2, 3, 4)),
           lambda a: np.broadcast_to(a, (2, 3, 4)), [(3, 1)]),
    OpCase("cat", lambda a, b: mg.cat([a, b], dim=1), lambda a, b: np.concatenate([a, b], 1),
           [(2, 3), (2, 5)]),
    OpCase("stack", lambda a, b: mg.stack([a, b], dim=-1), lambda a, b: np.stack([a, b], -1),
           [(2, 3), (2, 3)]),
    OpCase("clone", lambda a: a.clone(), np.copy, [(3, 4)]),
    # more shape and indexing ops (SPEC §10, "The op set")
    OpCase("flip", lambda a: a.flip(0, 2), lambda a: np.flip(a, (0, 2)), [(2, 3, 4)]),
    OpCase("roll", lambda a: a.roll((1, -2), (0, 1)), lambda a: np.roll(a, (1, -2), (0, 1)),
           [(3, 4)]),
    OpCase("roll_flat", lambda a: a.roll(5), lambda a: np.roll(a, 5), [(3, 4)]),
    OpCase("rot90", lambda a: a.rot90(1, (1, 2)), lambda a: np.rot90(a, 1, (1, 2)), [(2, 3, 4)]),
    OpCase("tril", lambda a: a.tril(), np.tril, [(3, 4)]),
    OpCase("triu_offset", lambda a: a.triu(1), lambda a: np.triu(a, 1), [(2, 4, 3)]),
    OpCase("diagonal", lambda a: a.diagonal(1, 1, 2),
           lambda a: np.diagonal(a, 1, 1, 2), [(2, 3, 4)]),
    OpCase("diag_matrix", lambda a: a.diag(-1), lambda a: np.diag(a, -1), [(4,)]),
    OpCase("diag_vector", lambda a: a.diag(), np.diag, [(3, 4)]),
    OpCase("trace", lambda a: a.trace(), np.trace, [(3, 4)]),
    OpCase("repeat", lambda a: a.repeat(2, 1, 3), lambda a: np.tile(a, (2, 1, 3)), [(3, 2)]),
    OpCase("tile", lambda a: a.tile(2), lambda a: np.tile(a, 2), [(3, 2)]),
    OpCase("repeat_interleave", lambda a: a.repeat_interleave(mg.tensor([1, 0, 3]), dim=0),
           lambda a: np.repeat(a, [1, 0, 3], 0), [(3, 4)]),
    OpCase("movedim", lambda a: a.movedim(0, -1), lambda a: np.moveaxis(a, 0, -1), [(2, 3, 4)]),
    OpCase("narrow", lambda a: a.narrow(1, 1, 2), lambda a: a[:, 1:3], [(3, 4)]),
    OpCase("unfold_windows", lambda a: a.unfold(1, 3, 2),  # overlapping windows
           lambda a: np.lib.stride_tricks.sliding_window_view(a, 3, axis=1)[:, ::2],
           [(2, 7)]),
    OpCase("index_select", lambda a: a.index_select(1, mg.tensor([3, 0, 3])),
           lambda a: a[:, [3, 0, 3]], [(3, 4)]),
    OpCase("gather", lambda a: a.gather(1, mg.tensor(_GATHER_INDEX)),
           lambda a: np.take_along_axis(a, _GATHER_INDEX, 1), [(3, 4)]),
    OpCase("scatter", lambda a, b: a.scatter(0, mg.tensor(_SCATTER_INDEX), b),
           _np_scatter, [(3, 4), (2, 4)]),
    OpCase("scatter_add", lambda a, b: a.scatter_add(1, mg.tensor(_GATHER_INDEX), b),
           _np_scatter_add, [(3, 4), (3, 2)]),
    OpCase("masked_fill", lambda a: a.masked_fill(mg.tensor(_MASK), 0.5),
           lambda a: np.where(_MASK, 0.5, a), [(3, 4)]),
    OpCase("masked_select", lambda a: a.masked_select(mg.tensor(_MASK[0])),
           lambda a: a[:, _MASK[0]].reshape(-1), [(3, 4)]),
    OpCase("outer", lambda a, b: a.outer(b), np.outer, [(3,), (4,)]),
    OpCase("pad_constant", lambda a: F.pad(a, (1, 2, 0, 1), value=0.5),
           lambda a: np.pad(a, ((0, 1), (1, 2)), constant_values=0.5), [(3, 4)]),
    OpCase("pad_constant_crop", lambda a: F.pad(a, (-1, 2)),
           lambda a: np.pad(a[:, 1:], ((0, 0), (0, 2))), [(3, 4)]),
    OpCase("pad_reflect", lambda a: F.pad(a, (2, 1), mode="reflect"),
           lambda a: np.pad(a, ((0, 0), (0, 0), (2, 1)), mode="reflect"), [(2, 3, 4)]),
    OpCase("pad_replicate", lambda a: F.pad(a, (1, 1, 2, 0), mode="replicate"),
           lambda a: np.pad(a, ((0, 0), (2, 0), (1, 1)), mode="edge"), [(2, 3, 4)]),
    OpCase("pad_circular", lambda a: F.pad(a, (1, 2, 1, 0), mode="circular"),
           lambda a: np.pad(a, ((0, 0), (1, 0), (1, 2)), mode="wrap"), [(2, 3, 4)]),
    OpCase("unflatten", lambda a: a.unflatten(1, (2, -1)), lambda a: a.reshape(3, 2, 2),
           [(3, 4)]),
    OpCase("index_add", lambda a, b: a.index_add(0, mg.tensor([2, 0, 2]), b, alpha=2),
           _np_index_add, [(3, 4), (3, 4)]),
    OpCase("take", lambda a: a.take(mg.tensor([[0, 11], [5, 5]])),
           lambda a: np.take(a, [[0, 11], [5, 5]]), [(3, 4)]),
    *[OpCase(f"scatter_reduce_{reduce}" + ("" if include_self else "_exclude_self"),
             lambda a, b, reduce=reduce, include_self=include_self: a.scatter_reduce(
                 1, mg.tensor(_GATHER_INDEX), b, reduce, include_self=include_self),
             lambda a, b, reduce=reduce, include_self=include_self: _np_scatter_reduce(
                 a, b, reduce, include_self), [(3, 4), (3, 2)])
      for reduce in ("sum", "prod", "mean", "amax", "amin") for include_self in (True, False)],
    OpCase("einsum_matmul", lambda a, b: mg.einsum("ij,jk->ik", a, b),
           lambda a, b: np.einsum("ij,jk->ik", a, b), [(3, 4), (4, 2)]),
    OpCase("einsum_diagonal_and_sum", lambda a, b: mg.einsum("ii,ij->j", a, b),
           lambda a, b: np.einsum("ii,ij->j", a, b), [(3, 3), (3, 2)]),
    OpCase("einsum_ellipsis_implicit", lambda a, b, c: mg.einsum("...ij,jk,k", a, b, c),
           lambda a, b, c: np.einsum("...ij,jk,k", a, b, c), [(2, 3, 4), (4, 2), (2,)]),
    OpCase("tensordot", lambda a, b: mg.tensordot(a, b, ([0, 2], [1, 0])),
           lambda a, b: np.tensordot(a, b, ([0, 2], [1, 0])), [(2, 3, 4), (4, 2, 3)]),
    OpCase("kron", lambda a, b: mg.kron(a, b), np.kron, [(2, 3), (3, 1, 2)]),
    OpCase("cross", lambda a, b: a.cross(b, dim=0), lambda a, b: np.cross(a, b, axis=0),
           [(3, 4), (3, 1)]),
    OpCase("cdist", lambda a, b: mg.cdist(a, b),
           lambda a, b: np.sqrt(((a[:, None] - b[None]) ** 2).sum(-1)), [(3, 4), (2, 4)]),
    OpCase("normalize", lambda a: F.normalize(a, dim=1),
           lambda a: a / np.sqrt((a ** 2).sum(1, keepdims=True)), [(3, 4)]),
    OpCase("cosine_similarity", lambda a, b: F.cosine_similarity(a, b),
           lambda a, b: (a * b).sum(1) / np.sqrt((a ** 2).sum(1) * (b ** 2).sum(1)),
           [(3, 4), (3, 4)]),
    OpCase("pairwise_distance", lambda a, b: F.pairwise_distance(a, b),
           lambda a, b: np.sqrt(((a - b + 1e-6) ** 2).sum(-1)), [(3, 4), (3, 4)]),
    OpCase("kthvalue", lambda a: a.kthvalue(2, dim=1).values, lambda a: np.sort(a, 1)[:, 1],
           [(3, 4)]),
    # each row's first element appears twice, the others once: it is the mode
    OpCase("mode", lambda a: mg.cat([a, a[:, :1]], 1).mode(1).values, lambda a: a[:, 0],
           [(3, 4)]),
    OpCase("scaled_dot_product_attention",
           lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
           lambda q, k, v: _np_softmax(np.where(np.tri(3, 4, dtype=bool), q @ k.T / 2, -np.inf),
                                       1) @ v, [(3, 4), (4, 4), (4, 2)]),
    OpCase("meshgrid_xy", lambda a, b: mg.stack(mg.meshgrid(a, b, indexing="xy")),
           lambda a, b: np.stack(np.meshgrid(a, b, indexing="xy")), [(3,), (4,)]),
    OpCase("meshgrid_ij", lambda a, b, c: mg.stack(mg.meshgrid([a, b, c])),
           lambda a, b, c: np.stack(np.meshgrid(a, b, c, indexing="ij")), [(2,), (3,), (1,)]),
    # indexing
    OpCase("index_int", lambda a: a[1], lambda a: a[1], [(3, 4)]),
    OpCase("index_slices", lambda a: a[1:, ::2], lambda a: a[1:, ::2], [(3, 4)]),
    OpCase("index_negative_step", lambda a: a[::-1, 1], lambda a: a[::-1, 1], [(3, 4)]),
    OpCase("index_ellipsis_none", lambda a: a[..., None, 0], lambda a: a[..., None, 0],
           [(2, 3, 4)]),
    OpCase("index_int_array_repeated", lambda a: a[[0, 2, 0, 0]], lambda a: a[[0, 2, 0, 0]],
           [(3, 4)]),
    OpCase("index_two_arrays", lambda a: a[[0, 1, 1], [3, 0, 3]],
           lambda a: a[[0, 1, 1], [3, 0, 3]], [(3, 4)]),
    OpCase("index_bool_mask", lambda a: a[a.array > 0], lambda a: a[a > 0], [(3, 4)]),
    # PyTorch's rule: the int selects first, so [0, 1]'s dim stays in place
    OpCase("index_int_slice_array", lambda a: a[0, :, [0, 3, 3]], lambda a: a[0][:, [0, 3, 3]],
           [(2, 3, 4)]),
    OpCase("index_tensor", lambda a: a[mg.tensor([2, 2, 1])], lambda a: a[[2, 2, 1]],
           [(3, 4)]),
]


# -- nn layers and losses, with their NumPy formulas --------------------------------------

# Fixed integer and probability targets: part of the function, not inputs to differentiate.
_CLASSES = np.array([2, 0, 3])
_CLASS_PROBS = _np_softmax(np.array([[0.5, -1.0, 2.0, 0.0], [1.0, 1.0, -0.5, 0.2],
                                     [0.0, 0.3, -2.0, 1.5]]), 1)
_BINARY_TARGETS = np.array([[1.0, 0.0, 1.0, 0.0], [0.0, 0.0, 1.0, 1.0], [1.0, 1.0, 0.0, 0.3]])
_EMBEDDING_INDEX = np.array([[0, 2], [2, 1]])


def _np_normalize(x, dims):
    mean = x.mean(axis=dims, keepdims=True)
    return (x - mean) / np.sqrt(x.var(axis=dims, keepdims=True) + 1e-5)


def _np_log_softmax(x):
    return np.log(_np_softmax(x, 1))


def _np_huber(d, delta):
    return np.where(np.abs(d) < delta, 0.5 * d * d, delta * (np.abs(d) - 0.5 * delta))


def _np_bce(p, y):
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))


def _np_bce_with_logits(z, y):
    return _np_bce(1 / (1 + np.exp(-z)), y)


NN_CATALOGUE: list[OpCase] = [
    # layers (functional forms; the parameters are inputs, so their gradients are checked too)
    OpCase("linear", lambda x, w, b: F.linear(x, w, b), lambda x, w, b: x @ w.T + b,
           [(4, 3), (2, 3), (2,)], group="layer"),
    OpCase("linear_no_bias", lambda x, w: F.linear(x, w), lambda x, w: x @ w.T,
           [(2, 4, 3), (2, 3)], group="layer"),
    OpCase("layer_norm", lambda x, w, b: F.layer_norm(x, 4, w, b),
           lambda x, w, b: _np_normalize(x, -1) * w + b, [(3, 4), (4,), (4,)], group="layer"),
    OpCase("batch_norm_train", lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
           lambda x, w, b: _np_normalize(x, 0) * w + b, [(5, 3), (3,), (3,)], group="layer"),
    OpCase("batch_norm_train_3d",
           lambda x: F.batch_norm(x, None, None, training=True),
           lambda x: _np_normalize(x, (0, 2)), [(4, 3, 2)], group="layer"),
    OpCase("embedding", lambda w: F.embedding(_EMBEDDING_INDEX, w),
           lambda w: w[_EMBEDDING_INDEX], [(3, 4)], group="layer"),
    OpCase("softplus", lambda x: F.softplus(x), lambda x: np.log1p(np.exp(x)), [(3, 4)],
           group="layer"),
    # activations (SPEC §10, "The op set"); inputs kept away from their kinks
    OpCase("softplus_beta_threshold", lambda x: F.softplus(x, beta=2.0, threshold=3.0),
           lambda x: np.where(2 * x > 3, x, np.log1p(np.exp(2 * x)) / 2), [(3, 4)],
           kink_margin=1e-3, kinks_at=[1.5], group="layer"),
    OpCase("silu", lambda x: F.silu(x), lambda x: x / (1 + np.exp(-x)), [(3, 4)], low=-4,
           high=4, group="layer"),
    OpCase("mish", lambda x: F.mish(x), lambda x: x * np.tanh(np.log1p(np.exp(x))), [(3, 4)],
           low=-4, high=4, group="layer"),
    OpCase("logsigmoid", lambda x: F.logsigmoid(x), lambda x: -np.log1p(np.exp(-x)), [(3, 4)],
           low=-6, high=6, group="layer"),
    OpCase("elu", lambda x: F.elu(x, alpha=0.7), lambda x: np.where(x > 0, x, 0.7 * np.expm1(x)),
           [(3, 4)], kink_margin=1e-3, group="layer"),
    OpCase("celu", lambda x: F.celu(x, alpha=0.7),
           lambda x: np.where(x > 0, x, 0.7 * np.expm1(x / 0.7)), [(3, 4)], kink_margin=1e-3,
           group="layer"),
    OpCase("selu", lambda x: F.selu(x),
           lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * np.expm1(x)),
           [(3, 4)], kink_margin=1e-3, group="layer"),
    OpCase("hardtanh", lambda x: F.hardtanh(x, -0.5, 1.0), lambda x: np.clip(x, -0.5, 1.0),
           [(3, 4)], kink_margin=1e-3, kinks_at=[-0.5, 1.0], group="layer"),
    OpCase("relu6", lambda x: F.relu6(x), lambda x: np.clip(x, 0, 6), [(3, 4)], low=-2, high=8,
           kink_margin=1e-3, kinks_at=[0.0, 6.0], group="layer"),
    OpCase("hardsigmoid", lambda x: F.hardsigmoid(x), lambda x: np.clip(x / 6 + 0.5, 0, 1),
           [(3, 4)], low=-5, high=5, kink_margin=1e-3, kinks_at=[-3.0, 3.0], group="layer"),
    OpCase("hardswish", lambda x: F.hardswish(x), lambda x: x * np.clip(x + 3, 0, 6) / 6,
           [(3, 4)], low=-5, high=5, kink_margin=1e-3, kinks_at=[-3.0, 3.0], group="layer"),
    OpCase("softsign", lambda x: F.softsign(x), lambda x: x / (1 + np.abs(x)), [(3, 4)],
           kink_margin=1e-3, group="layer"),
    OpCase("tanhshrink", lambda x: F.tanhshrink(x), lambda x: x - np.tanh(x), [(3, 4)],
           group="layer"),
    OpCase("softmin", lambda x: F.softmin(x, dim=1), lambda x: _np_softmax(-x, 1), [(3, 4)],
           group="layer"),
    OpCase("glu", lambda x: F.glu(x, dim=0), lambda x: x[:2] / (1 + np.exp(-x[2:])), [(4, 3)],
           group="layer"),
    OpCase("prelu", lambda x, w: F.prelu(x, w),
           lambda x, w: np.where(x > 0, x, w[:, None] * x), [(2, 3, 4), (3,)],
           kink_margin=1e-3, group="layer"),
    # losses
    OpCase("mse_loss", lambda x, y: F.mse_loss(x, y), lambda x, y: ((x - y) ** 2).mean(),
           [(3, 4), (3, 4)], group="loss"),
    OpCase("mse_loss_sum", lambda x, y: F.mse_loss(x, y, reduction="sum"),
           lambda x, y: ((x - y) ** 2).sum(), [(3, 4), (3, 4)], group="loss"),
    OpCase("l1_loss", lambda x, y: F.l1_loss(x, y), lambda x, y: np.abs(x - y).mean(),
           [(3, 4), (3, 4)], group="loss"),
    OpCase("huber_loss", lambda x, y: F.huber_loss(x, y, delta=0.8),
           lambda x, y: _np_huber(x - y, 0.8).mean(), [(3, 4), (3, 4)], group="loss"),
    OpCase("smooth_l1_loss_none", lambda x, y: F.smooth_l1_loss(x, y, reduction="none"),
           lambda x, y: _np_huber(x - y, 1.0), [(3, 4), (3, 4)], group="loss"),
    OpCase("cross_entropy", lambda z: F.cross_entropy(z, _CLASSES),
           lambda z: -_np_log_softmax(z)[np.arange(3), _CLASSES].mean(), [(3, 4)],
           group="loss"),
    OpCase("cross_entropy_none", lambda z: F.cross_entropy(z, _CLASSES, reduction="none"),
           lambda z: -_np_log_softmax(z)[np.arange(3), _CLASSES], [(3, 4)], group="loss"),
    OpCase("cross_entropy_label_smoothing",
           lambda z: F.cross_entropy(z, _CLASSES, label_smoothing=0.1),
           lambda z: (-(0.9 * np.eye(4)[_CLASSES] + 0.1 / 4) * _np_log_softmax(z)).sum(1).mean(),
           [(3, 4)], group="loss"),
    OpCase("cross_entropy_probabilities", lambda z: F.cross_entropy(z, _CLASS_PROBS),
           lambda z: (-_CLASS_PROBS * _np_log_softmax(z)).sum(1).mean(), [(3, 4)],
           group="loss"),
    OpCase("nll_loss", lambda logp: F.nll_loss(logp, _CLASSES),
           lambda logp: -logp[np.arange(3), _CLASSES].mean(), [(3, 4)], group="loss"),
    OpCase("binary_cross_entropy",
           lambda p: F.binary_cross_entropy(p, _BINARY_TARGETS.astype(p.dtype)),
           lambda p: _np_bce(p, _BINARY_TARGETS).mean(), [(3, 4)], low=0.05, high=0.95,
           group="loss"),
    OpCase("binary_cross_entropy_with_logits",
           lambda z: F.binary_cross_entropy_with_logits(z, _BINARY_TARGETS.astype(z.dtype)),
           lambda z: _np_bce_with_logits(z, _BINARY_TARGETS).mean(), [(3, 4)], low=-4, high=4,
           group="loss"),
]

CATALOGUE.extend(NN_CATALOGUE)


# -- convolution and pooling (minigrad/convolution.py), with plain NumPy references -----
# The references loop over the kernel taps (i, j): tap (i, j) of every window is one
# strided slice of the padded input, ``_tap``.


def _tap(x, i, j, size, stride, dilation):
    (oh, ow), (sh, sw), (dh, dw) = size, stride, dilation
    return x[:, :, i * dh:i * dh + sh * (oh - 1) + 1:sh, j * dw:j * dw + sw * (ow - 1) + 1:sw]


def _windows(x, kernel, stride, dilation, padding, value=0.0):
    """(padded input, output size) for windows of ``kernel`` over x (all pairs)."""
    x = np.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2), constant_values=value)
    size = tuple((n - d * (k - 1) - 1) // s + 1
                 for n, k, s, d in zip(x.shape[2:], kernel, stride, dilation))
    return x, size


def _np_conv2d(x, w, b=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1):
    x, size = _windows(x, w.shape[2:], stride, dilation, padding)
    out = np.zeros((x.shape[0], w.shape[0], *size))
    per_in, per_out = x.shape[1] // groups, w.shape[0] // groups
    for i, j in np.ndindex(*w.shape[2:]):
        tap = _tap(x, i, j, size, stride, dilation)
        for g in range(groups):
            out[:, g * per_out:(g + 1) * per_out] += np.einsum(
                "nchw,oc->nohw", tap[:, g * per_in:(g + 1) * per_in],
                w[g * per_out:(g + 1) * per_out, :, i, j])
    return out if b is None else out + b[:, None, None]


def _np_conv_transpose2d(x, w, stride, padding, output_padding):
    (sh, sw), (kh, kw) = stride, w.shape[2:]
    n, _, h, wd = x.shape
    full = np.zeros((n, w.shape[1], (h - 1) * sh + kh + output_padding,
                     (wd - 1) * sw + kw + output_padding))
    for i, j in np.ndindex(kh, kw):  # every input pixel spreads over a window of the output
        full[:, :, i:i + sh * (h - 1) + 1:sh, j:j + sw * (wd - 1) + 1:sw] += np.einsum(
            "nchw,co->nohw", x, w[:, :, i, j])
    return full[:, :, padding:full.shape[2] - padding, padding:full.shape[3] - padding]


def _np_pool(x, kernel, stride, padding=(0, 0), dilation=(1, 1), reduce=np.maximum):
    value = -np.inf if reduce is np.maximum else 0.0
    x, size = _windows(x, kernel, stride, dilation, padding, value)
    taps = [_tap(x, i, j, size, stride, dilation) for i, j in np.ndindex(*kernel)]
    return reduce.reduce(taps)


def _np_unfold(x, kernel, stride, padding):
    x, size = _windows(x, kernel, stride, (1, 1), padding)
    taps = np.stack([_tap(x, i, j, size, stride, (1, 1)) for i, j in np.ndindex(*kernel)], 2)
    return taps.reshape(x.shape[0], -1, size[0] * size[1])  # (N, C·kh·kw, L)


def _np_fold(cols, output_size, kernel, stride):
    n, rows, _ = cols.shape
    size = tuple((o - k) // s + 1 for o, k, s in zip(output_size, kernel, stride))
    taps = cols.reshape(n, rows // (kernel[0] * kernel[1]), *kernel, *size)
    out = np.zeros((n, taps.shape[1], *output_size))
    for i, j in np.ndindex(*kernel):
        _tap(out, i, j, size, stride, (1, 1))[...] += taps[:, :, i, j]
    return out


def _np_adaptive(x, output_size, reduce):
    def windows(n, count):
        return [(k * n // count, -(-(k + 1) * n // count)) for k in range(count)]
    return np.stack([np.stack([reduce(x[:, :, r0:r1, c0:c1], axis=(2, 3))
                               for c0, c1 in windows(x.shape[3], output_size[1])], -1)
                     for r0, r1 in windows(x.shape[2], output_size[0])], 2)


CONV_CATALOGUE: list[OpCase] = [
    OpCase("conv2d", lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1),
           lambda x, w, b: _np_conv2d(x, w, b, (2, 2), (1, 1)),
           [(2, 2, 5, 5), (3, 2, 3, 3), (3,)], group="layer"),
    OpCase("conv2d_groups_dilation",
           lambda x, w: F.conv2d(x, w, stride=(1, 2), dilation=(2, 1), groups=2),
           lambda x, w: _np_conv2d(x, w, None, (1, 2), (0, 0), (2, 1), 2),
           [(1, 4, 6, 5), (4, 2, 2, 3)], group="layer"),
    OpCase("conv2d_same", lambda x, w: F.conv2d(x, w, padding="same"),
           lambda x, w: _np_conv2d(x, w, None, (1, 1), (1, 1)), [(2, 2, 4, 4), (2, 2, 3, 3)],
           group="layer"),
    OpCase("conv1d", lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1),
           lambda x, w, b: _np_conv2d(x[:, :, None], w[:, :, None], b, (1, 2),
                                      (0, 1))[:, :, 0],
           [(2, 3, 7), (2, 3, 3), (2,)], group="layer"),
    OpCase("conv_transpose2d",
           lambda x, w: F.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1),
           lambda x, w: _np_conv_transpose2d(x, w, (2, 2), 1, 1),
           [(1, 2, 3, 3), (2, 3, 3, 3)], group="layer"),
    OpCase("max_pool2d", lambda x: F.max_pool2d(x, 3, 2, padding=1),
           lambda x: _np_pool(x, (3, 3), (2, 2), (1, 1)), [(2, 2, 5, 6)], group="layer"),
    OpCase("max_pool2d_dilation_ceil",
           lambda x: F.max_pool2d(x, 2, 2, dilation=2, ceil_mode=True),
           lambda x: _np_pool(np.pad(x, ((0, 0), (0, 0), (0, 1), (0, 1)),
                                     constant_values=-np.inf), (2, 2), (2, 2), (0, 0), (2, 2)),
           [(1, 2, 6, 6)], group="layer"),
    OpCase("avg_pool2d", lambda x: F.avg_pool2d(x, (2, 3), stride=1),
           lambda x: _np_pool(x, (2, 3), (1, 1), reduce=np.add) / 6, [(2, 2, 4, 5)],
           group="layer"),
    OpCase("adaptive_avg_pool2d", lambda x: F.adaptive_avg_pool2d(x, (3, 2)),
           lambda x: _np_adaptive(x, (3, 2), np.mean), [(2, 2, 5, 5)], group="layer"),
    OpCase("adaptive_max_pool2d", lambda x: F.adaptive_max_pool2d(x, (2, 3)),
           lambda x: _np_adaptive(x, (2, 3), np.max), [(1, 2, 5, 5)], group="layer"),
    OpCase("unfold", lambda x: F.unfold(x, 2, padding=1, stride=2),
           lambda x: _np_unfold(x, (2, 2), (2, 2), (1, 1)), [(2, 2, 4, 5)], group="layer"),
    OpCase("fold", lambda c: F.fold(c, (4, 5), (2, 3)),
           lambda c: _np_fold(c, (4, 5), (2, 3), (1, 1)), [(2, 12, 9)], group="layer"),
    OpCase("batch_norm_train_4d",
           lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
           lambda x, w, b: _np_normalize(x, (0, 2, 3)) * w[:, None, None] + b[:, None, None],
           [(3, 2, 3, 2), (2,), (2,)], group="layer"),
]

CATALOGUE.extend(CONV_CATALOGUE)

CASES = {case.name: case for case in CATALOGUE}


def make_inputs(case: OpCase, seed: int = 0, dtype=np.float64) -> list[np.ndarray]:
    """Random inputs for ``case`` in its domain, kept ``kink_margin`` away from its kinks."""
    generator = np.random.default_rng(seed)
    arrays = []
    for shape in case.shapes:
        x = generator.uniform(case.low, case.high, size=shape)
        if case.kink_margin:
            for kink in case.kinks_at:
                near = np.abs(x - kink) < case.kink_margin * 10
                x = np.where(near, kink + np.sign(x - kink + 1e-12) * case.kink_margin * 20, x)
        arrays.append(x.astype(dtype))
    if case.name in ("maximum", "minimum"):  # keep the two operands apart (no ties)
        apart = np.where(np.abs(arrays[0] - arrays[1]) < 1e-2, 0.1, 0.0)
        arrays[1] = (arrays[1] + apart).astype(dtype)
    return arrays
