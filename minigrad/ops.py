"""The derivative sheet: every primitive op, its forward and its gradient side by side.

Each op is a ``Function``, written as in PyTorch: ``forward`` receives the input Tensors,
saves what backward needs (``ctx.save_for_backward``) and computes the output on their
arrays (``x.array``: no op inside a forward is recorded, and none costs a node); and
``backward`` takes ``grad`` = ∂L/∂out (a Tensor shaped like the output) and returns ∂L/∂in
for each argument: the vector-Jacobian product. The lines read like a table of derivatives:

    out = a · b       ∂L/∂a = grad · b       ∂L/∂b = grad · a

Backward is written with Tensor ops, so that with ``create_graph=True`` it is recorded and
can be differentiated again. Gradients may come back broadcast to the output's shape; the
engine (``engine.py``) sums each back to its input's shape, so no op does that.

Ops that are compositions of these (``mean``, ``var``, ``gelu``, ``squeeze``, ``stack``, ...)
are built from them in ``tensor.py`` and need no gradient of their own. The few composites
that are one op all the same, for speed or for numerical stability (``Linear``,
``SoftmaxCrossEntropy``, ``BinaryCrossEntropy``, used by ``nn.functional``), are rows of
this sheet too, in its last section: "Fused ops".
"""

from __future__ import annotations

import math

import numpy as np

from minigrad.engine import Function
from minigrad.grad_mode import is_grad_enabled
from minigrad.tensor import Tensor, where

# ---------------------------------------------------------------------------------------
# Arithmetic (broadcasting; the engine reduces each gradient to its input's shape)
# ---------------------------------------------------------------------------------------


class Add(Function):
    """out = a + b     ∂/∂a = 1     ∂/∂b = 1: both get ``grad`` as it is"""

    @staticmethod
    def forward(ctx, a, b):
        return a.array + b.array

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


class Sub(Function):
    """out = a - b     ∂/∂a = 1     ∂/∂b = -1"""

    @staticmethod
    def forward(ctx, a, b):
        return a.array - b.array

    @staticmethod
    def backward(ctx, grad):
        return grad, -grad


class Mul(Function):
    """out = a · b     ∂/∂a = b     ∂/∂b = a"""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a.array * b.array

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return grad * b, grad * a


class Div(Function):
    """out = a / b     ∂/∂a = 1/b     ∂/∂b = -a/b²"""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a.array / b.array

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        grad_a = grad / b
        grad_b = -grad_a * a / b if ctx.needs_input_grad[1] else None  # grad·(-a/b²)
        return grad_a, grad_b


class Neg(Function):
    """out = -x     ∂/∂x = -1"""

    @staticmethod
    def forward(ctx, x):
        return -x.array

    @staticmethod
    def backward(ctx, grad):
        return -grad


class Pow(Function):
    """out = aᵇ     ∂/∂a = b·aᵇ⁻¹     ∂/∂b = aᵇ·ln a

    At a = 0, as PyTorch: ∂/∂a is 0 where b = 0 (a⁰ = 1 is constant in a, even at 0);
    ∂/∂b is 0 where b ≥ 0 (0ᵇ is constant there; 0·ln 0 would be NaN), and for b < 0 it
    is aᵇ·ln a = ∞·(-∞) = -∞.
    """

    @staticmethod
    def forward(ctx, a, b):
        out = a.array**b.array
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        grad_a = grad_b = None
        with np.errstate(divide="ignore", invalid="ignore"):
            if need_a:
                grad_a = grad * b * a ** (b - 1)
                if (b.array == 0).any():
                    grad_a = where(b.array == 0, 0.0, grad_a)
            if need_b:
                grad_b = grad * out * a.log()
                constant = (a.array == 0) & (b.array >= 0)
                if constant.any():
                    grad_b = where(constant, 0.0, grad_b)
        return grad_a, grad_b


class MatMul(Function):
    """out = a @ b     ∂L/∂a = grad @ bᵀ     ∂L/∂b = aᵀ @ grad

    1-D operands are treated as a row (a) or a column (b) and the added dim is dropped
    again; batch dims broadcast and the engine sums them back.
    """

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        a, b = a.array, b.array
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError("both operands must have at least 1 dim, use * for scalars")
        if a.shape[-1] != b.shape[0 if b.ndim == 1 else -2]:
            raise ValueError(
                f"shapes {a.shape} and {b.shape} do not match: the last dim of the first "
                f"({a.shape[-1]}) must equal the {'only' if b.ndim == 1 else 'second-to-last'}"
                f" dim of the second ({b.shape[0 if b.ndim == 1 else -2]})"
            )
        return a @ b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        if a.ndim == 1 and b.ndim == 1:  # dot product: grad is a scalar
            return grad * b, grad * a
        a2 = a.unsqueeze(0) if a.ndim == 1 else a
        b2 = b.unsqueeze(-1) if b.ndim == 1 else b
        if a.ndim == 1:
            grad = grad.unsqueeze(-2)
        if b.ndim == 1:
            grad = grad.unsqueeze(-1)
        need_a, need_b = ctx.needs_input_grad
        grad_a = grad @ b2.transpose(-1, -2) if need_a else None
        grad_b = a2.transpose(-1, -2) @ grad if need_b else None
        if a.ndim == 1 and grad_a is not None:
            grad_a = grad_a.squeeze(-2)
        if b.ndim == 1 and grad_b is not None:
            grad_b = grad_b.squeeze(-1)
        return grad_a, grad_b


class Einsum(Function):
    """out = einsum("ij,jk->ik", a, b)     ∂L/∂a = einsum("ik,jk->ij", grad, b)

    The gradient of each operand is the einsum of the output gradient with the other
    operands, into the operand's subscripts. Two cases need one more factor: a letter
    repeated in the operand ("ii->i", a diagonal) gets the identity matrix tying its
    copies, and a letter summed in this operand alone ("ij->i") gets a vector of ones, as
    the gradient is constant along it. ``subscripts`` is explicit ("->", no "...").
    """

    @staticmethod
    def forward(ctx, *operands, subscripts):
        ctx.subscripts = subscripts
        ctx.save_for_backward(*operands)
        arrays = [t.array for t in operands]
        return np.einsum(subscripts, *arrays, optimize=len(arrays) > 2)

    @staticmethod
    def backward(ctx, grad):
        inputs, output = ctx.subscripts.split("->")
        inputs = inputs.split(",")
        operands = ctx.saved_tensors
        sizes = {}  # each letter's size (the largest, where size-1 dims broadcast)
        for letters, x in zip(inputs, operands):
            for letter, n in zip(letters, x.shape):
                sizes[letter] = max(sizes.get(letter, 1), n)
        unused = iter(sorted(set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
                             - set(ctx.subscripts)))
        grads = []
        for i, (letters, need) in enumerate(zip(inputs, ctx.needs_input_grad)):
            if not need:
                grads.append(None)
                continue
            terms = [output] + [s for j, s in enumerate(inputs) if j != i]
            factors = [grad] + [x for j, x in enumerate(operands) if j != i]
            target = ""
            for letter in letters:
                if letter in target:  # a repeat: a fresh letter, tied to the first by δ
                    fresh = next(unused)
                    terms.append(letter + fresh)
                    factors.append(Tensor.wrap(np.eye(sizes[letter], dtype=grad.dtype)))
                    target += fresh
                else:
                    target += letter
            for letter in dict.fromkeys(letters):
                if letter not in "".join(terms):  # summed here only
                    terms.append(letter)
                    factors.append(Tensor.wrap(np.ones(sizes[letter], dtype=grad.dtype)))
            grads.append(Einsum.apply(*factors, subscripts=",".join(terms) + "->" + target))
        return tuple(grads)


# ---------------------------------------------------------------------------------------
# Elementwise functions
# ---------------------------------------------------------------------------------------


class Exp(Function):
    """out = eˣ     ∂/∂x = eˣ = out"""

    @staticmethod
    def forward(ctx, x):
        out = np.exp(x.array)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out


class Log(Function):
    """out = ln x     ∂/∂x = 1/x"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log(x.array)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / x


class Sqrt(Function):
    """out = √x     ∂/∂x = 1/(2√x)"""

    @staticmethod
    def forward(ctx, x):
        out = np.sqrt(x.array)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad / (2.0 * out)


class Abs(Function):
    """out = |x|     ∂/∂x = sign(x)  (0 at 0, as in PyTorch)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.abs(x.array)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * np.sign(x.array)


class Sin(Function):
    """out = sin x     ∂/∂x = cos x"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x.array)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x.cos()


class Cos(Function):
    """out = cos x     ∂/∂x = -sin x"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cos(x.array)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return -grad * x.sin()


class Tanh(Function):
    """out = tanh x     ∂/∂x = 1 - out²"""

    @staticmethod
    def forward(ctx, x):
        out = np.tanh(x.array)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * (1.0 - out * out)


class Sigmoid(Function):
    """out = σ(x) = 1/(1 + e⁻ˣ)     ∂/∂x = out·(1 - out)"""

    @staticmethod
    def forward(ctx, x):
        # e^(-|x|) never overflows; x ≥ 0 uses 1/(1 + e^-x), x < 0 the equal e^x/(1 + e^x).
        x = x.array
        e = np.exp(-np.abs(x))
        out = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out * (1.0 - out)


class ReLU(Function):
    """out = max(x, 0)     ∂/∂x = 0 where x ≤ 0, else 1 (also at NaN, as PyTorch)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.maximum(x.array, 0)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * ~(x.array <= 0)


class LeakyReLU(Function):
    """out = x if x > 0 else slope·x     ∂/∂x = 1 or slope"""

    @staticmethod
    def forward(ctx, x, negative_slope):
        ctx.negative_slope = negative_slope
        ctx.save_for_backward(x)
        return np.where(x.array > 0, x.array, x.array * negative_slope)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        negative_slope = ctx.negative_slope
        return grad * np.where(x.array > 0, 1.0, negative_slope).astype(x.dtype)


class Erf(Function):
    """out = erf x = (2/√π)∫₀ˣ e^(-t²) dt     ∂/∂x = (2/√π)·e^(-x²)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _erf(x.array)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (2.0 / math.sqrt(math.pi)) * (-(x * x)).exp()


class Clamp(Function):
    """out = min(max(x, lo), hi)     ∂/∂x = 1 where lo ≤ x ≤ hi, else 0"""

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.lo, ctx.hi = lo, hi
        ctx.save_for_backward(x)
        return np.clip(x.array, lo, hi)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        lo, hi = ctx.lo, ctx.hi
        inside = np.ones(x.shape, dtype=bool)
        if lo is not None:
            inside &= x.array >= lo
        if hi is not None:
            inside &= x.array <= hi
        return grad * inside


class Maximum(Function):
    """out = max(a, b)     the gradient goes to the larger; ties split it in halves

    Where either is NaN, out is NaN and both get the whole gradient, as in PyTorch: each
    is kept from it only where it is strictly the smaller.
    """

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.maximum(a.array, b.array)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return _pairwise_shares(grad, a.array, b.array, a.array < b.array, a.array > b.array)


class Minimum(Function):
    """out = min(a, b)     the gradient goes to the smaller; ties split it in halves
    (and, where either is NaN, to both, as for ``Maximum``)"""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.minimum(a.array, b.array)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return _pairwise_shares(grad, a.array, b.array, a.array > b.array, a.array < b.array)


def _pairwise_shares(grad, a, b, a_loses, b_loses):
    """The gradients of max/min(a, b): all of ``grad`` to each operand except where it
    loses (0) or ties (½). A NaN never compares, so both operands of a NaN keep it all."""
    tie = 0.5 * (a == b)
    share_a = np.where(a_loses, 0.0, 1.0) - tie
    share_b = np.where(b_loses, 0.0, 1.0) - tie
    return grad * share_a.astype(grad.dtype), grad * share_b.astype(grad.dtype)


class Where(Function):
    """out = a where cond else b     the gradient goes to whichever was chosen"""

    @staticmethod
    def forward(ctx, cond, a, b):  # cond: a boolean ndarray (a constant)
        ctx.cond = cond
        return np.where(cond, a.array, b.array)

    @staticmethod
    def backward(ctx, grad):
        return None, grad * ctx.cond, grad * ~ctx.cond


# ---------------------------------------------------------------------------------------
# More elementwise functions: powers, exponentials and logarithms, trigonometric and
# hyperbolic functions and their inverses
# ---------------------------------------------------------------------------------------


class Reciprocal(Function):
    """out = 1/x     ∂/∂x = -1/x² = -out²"""

    @staticmethod
    def forward(ctx, x):
        out = np.reciprocal(x.array)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return -grad * out * out


class Rsqrt(Function):
    """out = 1/√x     ∂/∂x = -½·x^(-3/2) = -½·out³"""

    @staticmethod
    def forward(ctx, x):
        out = np.reciprocal(np.sqrt(x.array))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return -0.5 * grad * out * out * out


class Exp2(Function):
    """out = 2ˣ     ∂/∂x = 2ˣ·ln 2 = out·ln 2"""

    @staticmethod
    def forward(ctx, x):
        out = np.exp2(x.array)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out * math.log(2.0)


class Expm1(Function):
    """out = eˣ - 1 (exact for small x)     ∂/∂x = eˣ (not out + 1, which loses eˣ's digits
    where out ≈ -1)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.expm1(x.array)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x.exp()


class Log2(Function):
    """out = log₂ x     ∂/∂x = 1/(x·ln 2)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log2(x.array)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (x * math.log(2.0))


class Log10(Function):
    """out = log₁₀ x     ∂/∂x = 1/(x·ln 10)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log10(x.array)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (x * math.log(10.0))


class Log1p(Function):
    """out = ln(1 + x) (exact for small x)     ∂/∂x = 1/(1 + x)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log1p(x.array)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (1.0 + x)


class Tan(Function):
    """out = tan x     ∂/∂x = 1/cos²x = 1 + out²"""

    @staticmethod
    def forward(ctx, x):
        out = np.tan(x.array)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * (1.0 + out * out)


class Sinh(Function):
    """out = sinh x     ∂/∂x = cosh x"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sinh(x.array)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x.cosh()


class Cosh(Function):
    """out = cosh x     ∂/∂x = sinh x"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cosh(x.array)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x.sinh()


class Asin(Function):
    """out = arcsin x     ∂/∂x = 1/√(1 - x²)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arcsin(x.array)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (1.0 - x * x).rsqrt()


class Acos(Function):
    """out = arccos x     ∂/∂x = -1/√(1 - x²)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arccos(x.array)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return -grad * (1.0 - x * x).rsqrt()


class Atan(Function):
    """out = arctan x     ∂/∂x = 1/(1 + x²)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arctan(x.array)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (1.0 + x * x)


class Asinh(Function):
    """out = arsinh x     ∂/∂x = 1/√(x² + 1)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arcsinh(x.array)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (x * x + 1.0).rsqrt()


class Acosh(Function):
    """out = arcosh x (x ≥ 1)     ∂/∂x = 1/√(x² - 1)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arccosh(x.array)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (x * x - 1.0).rsqrt()


class Atanh(Function):
    """out = artanh x (|x| < 1)     ∂/∂x = 1/(1 - x²)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arctanh(x.array)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (1.0 - x * x)


class Erfc(Function):
    """out = erfc x = 1 - erf x (exact where it is tiny, x ≫ 1)     ∂/∂x = -(2/√π)·e^(-x²)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _erfc(x.array)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (-2.0 / math.sqrt(math.pi)) * (-(x * x)).exp()


class NanToNum(Function):
    """out = x, with NaN, +inf and -inf replaced by numbers     ∂/∂x = 1 where x is finite,
    else 0 (the replaced elements are constants), as PyTorch"""

    @staticmethod
    def forward(ctx, x, nan, posinf, neginf):
        ctx.save_for_backward(x)
        return np.nan_to_num(x.array, nan=nan, posinf=posinf, neginf=neginf)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * np.isfinite(x.array)


# ---------------------------------------------------------------------------------------
# Rounding: piecewise constant, so the gradient is 0 everywhere (as PyTorch gives it, also
# at the jumps, where there is none)
# ---------------------------------------------------------------------------------------


def _zeros_like(grad: Tensor) -> Tensor:
    """The gradient of a piecewise-constant op: zeros (also where ``grad`` is inf or NaN)."""
    return Tensor.wrap(np.zeros(grad.shape, grad.dtype))


class Rounding(Function):
    """out = rounding(x): ``np.sign``, ``np.floor``, ``np.ceil``, ``np.round``, ``np.trunc``
    (``decimals`` for ``np.round``)     ∂/∂x = 0"""

    @staticmethod
    def forward(ctx, x, rounding, decimals=None):
        return rounding(x.array) if decimals is None else rounding(x.array, decimals)

    @staticmethod
    def backward(ctx, grad):
        return _zeros_like(grad)


class RoundedDivide(Function):
    """out = rounding(a / b), rounded toward zero (``'trunc'``) or down (``'floor'``)
    ∂/∂a = ∂/∂b = 0 (piecewise constant), as PyTorch's ``div(rounding_mode=...)``"""

    @staticmethod
    def forward(ctx, a, b, rounding_mode):
        a, b = a.array, b.array  # constants to backward: nothing to save
        if rounding_mode == "floor":
            return np.floor_divide(a, b)
        if a.dtype.kind in "iub" and b.dtype.kind in "iub":  # exact, in integers
            quotient = np.floor_divide(a, b)
            inexact_negative = (np.remainder(a, b) != 0) & ((a < 0) != (b < 0))
            return quotient + inexact_negative.astype(quotient.dtype)
        return np.trunc(a / b)

    @staticmethod
    def backward(ctx, grad):
        return _zeros_like(grad), _zeros_like(grad)


# ---------------------------------------------------------------------------------------
# Elementwise functions of two arguments (broadcasting, as the arithmetic above)
# ---------------------------------------------------------------------------------------


class Atan2(Function):
    """out = atan2(a, b), the angle of the point (b, a)
    ∂/∂a = b/(a² + b²)     ∂/∂b = -a/(a² + b²)     (both 0 at the origin, as PyTorch)"""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.arctan2(a.array, b.array)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        squared_radius = a * a + b * b
        origin = squared_radius.array == 0
        if origin.any():  # 0/0 there: a safe 1 instead, and a zero gradient
            squared_radius = where(origin, 1.0, squared_radius)
            grad = where(origin, 0.0, grad)
        scaled = grad / squared_radius
        return scaled * b, -scaled * a


class Hypot(Function):
    """out = √(a² + b²)     ∂/∂a = a/out     ∂/∂b = b/out"""

    @staticmethod
    def forward(ctx, a, b):
        out = np.hypot(a.array, b.array)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        scaled = grad / out
        return scaled * a, scaled * b


class LogAddExp(Function):
    """out = ln(eᵃ + eᵇ)     ∂/∂a = eᵃ/(eᵃ + eᵇ) = σ(a - b)     ∂/∂b = σ(b - a)
    (the two softmax weights of a and b; exact also where one of them is infinite)"""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.logaddexp(a.array, b.array)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return grad * (a - b).sigmoid(), grad * (b - a).sigmoid()


class Copysign(Function):
    """out = |a|·sign(b) (the sign of -0.0 counts)     ∂/∂a = out/a = ±1, and 0 at a = 0
    (as PyTorch)     ∂/∂b = 0"""

    @staticmethod
    def forward(ctx, a, b):
        out = np.copysign(a.array, b.array)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, _, out = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(a.array == 0, 0.0, out.array / a.array).astype(a.dtype)
        return grad * ratio, _zeros_like(grad)


class Fmod(Function):
    """out = a - trunc(a/b)·b (the sign of a, as C's fmod)     ∂/∂a = 1
    ∂/∂b = -trunc(a/b)"""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.fmod(a.array, b.array)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        grad_b = None
        if ctx.needs_input_grad[1]:
            grad_b = -grad * Tensor.wrap(np.trunc(a.array / b.array))
        return grad, grad_b


class Remainder(Function):
    """out = a - floor(a/b)·b (the sign of b, as Python's %)     ∂/∂a = 1
    ∂/∂b = -floor(a/b)"""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.remainder(a.array, b.array)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        grad_b = None
        if ctx.needs_input_grad[1]:
            grad_b = -grad * Tensor.wrap(np.floor_divide(a.array, b.array))
        return grad, grad_b


# ---------------------------------------------------------------------------------------
# Reductions. ``dims`` is a tuple of non-negative dims, or None for all of them.
# ---------------------------------------------------------------------------------------


def _kept_shape(shape: tuple[int, ...], dims) -> tuple[int, ...]:
    """The shape of a reduction over ``dims`` with keepdim=True."""
    if dims is None:
        return (1,) * len(shape)
    return tuple(1 if i in dims else n for i, n in enumerate(shape))


class Sum(Function):
    """out = Σᵢ xᵢ     ∂/∂xᵢ = 1: the gradient is copied back to every summed element"""

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.shape, ctx.dims = x.array.shape, dims  # its values are not needed, only its shape
        return np.sum(x.array, axis=dims, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(_kept_shape(ctx.shape, ctx.dims)).expand(ctx.shape)


class Max(Function):
    """out = max xᵢ     the gradient goes to the maximal element

    On ties, as PyTorch: ``max(dim)`` with one dim (``pick_first``) gives it all to the
    first maximal element (the one ``argmax`` names); over all or several dims it is shared
    evenly between them. NaN is the maximum (and the minimum), as in PyTorch: a NaN makes
    the result NaN, and the gradient goes to the NaNs.
    """

    _select = staticmethod(np.max)

    @classmethod
    def forward(cls, ctx, x, dims, keepdim, pick_first=False):
        # No identity to give an empty reduction, as in PyTorch; other dims may be empty.
        op = cls.__name__.lower()
        if dims is None and x.numel() == 0:
            raise RuntimeError(f"{op}(): Expected reduction dim to be specified for an empty "
                               f"tensor (shape {x.shape}); give the dim to reduce")
        for d in dims or ():
            if x.shape[d] == 0:
                raise IndexError(f"{op}(): Expected reduction dim {d} to have non-zero size")
        ctx.dims, ctx.pick_first = dims, pick_first
        out = cls._select(x.array, axis=dims, keepdims=keepdim)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        dims, pick_first = ctx.dims, ctx.pick_first
        kept = _kept_shape(x.shape, dims)
        out = out.array.reshape(kept)
        chosen = (x.array == out) | (np.isnan(x.array) & np.isnan(out))  # NaN != NaN
        if pick_first:
            (dim,) = dims
            first = np.argmax(chosen, axis=dim, keepdims=True)
            share = np.zeros(x.shape, dtype=x.dtype)
            np.put_along_axis(share, first, 1, axis=dim)
        else:
            share = chosen / chosen.sum(axis=dims, keepdims=True)
        return grad.reshape(kept) * share


class Min(Max):
    """out = min xᵢ     the gradient goes to the minimal elements (shared evenly on ties)"""

    _select = staticmethod(np.min)


class Norm(Function):
    """out = (Σ|xᵢ|ᵖ)^(1/p)     ∂/∂xᵢ = xᵢ·|xᵢ|ᵖ⁻² / outᵖ⁻¹, and 0 where out = 0 (as PyTorch)

    p = ∞ is max |xᵢ| (p = -∞ min |xᵢ|): its gradient, sign(xᵢ), is shared evenly between
    the elements that reach it. p = 2 and p = 1 have forms of their own (exact and fast).
    """

    @staticmethod
    def forward(ctx, x, p, dims, keepdim):
        ctx.p, ctx.dims = p, dims
        out = Norm.of_array(x.array, p, dims, keepdim)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def of_array(x: np.ndarray, p: float, dims, keepdim: bool) -> np.ndarray:
        size = np.abs(x)
        if math.isinf(p):
            select = np.max if p > 0 else np.min
            return select(size, axis=dims, keepdims=keepdim)
        if p == 1:
            return size.sum(axis=dims, keepdims=keepdim)
        if p == 2:
            return np.sqrt((x * x).sum(axis=dims, keepdims=keepdim))
        return ((size ** p).sum(axis=dims, keepdims=keepdim)) ** (1 / p)

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        p, dims = ctx.p, ctx.dims
        kept = _kept_shape(x.shape, dims)
        out, grad = out.reshape(kept), grad.reshape(kept)
        sign = Tensor.wrap(np.sign(x.array))
        if math.isinf(p):
            chosen = np.abs(x.array) == out.array
            return grad * sign * Tensor.wrap(chosen / chosen.sum(axis=dims, keepdims=True))
        if p == 1:
            return grad * sign
        zero = out.array == 0
        safe_out = where(zero, 1.0, out)  # no 0/0 where the norm is 0: that gradient is 0
        if p == 2:
            return where(zero, 0.0, grad * x / safe_out)
        return where(zero, 0.0, grad * sign * x.abs() ** (p - 1) / safe_out ** (p - 1))


class Std(Function):
    """out = √(Σᵢ(xᵢ - x̄)² / (N - c))     ∂/∂xᵢ = (xᵢ - x̄) / ((N - c)·out)

    Where all the elements are equal (out = 0) the gradient is 0, as in PyTorch: there
    (xᵢ - x̄) = 0, and dividing by a safe 1 instead of 0 keeps 0/0 from making NaN.
    """

    @staticmethod
    def forward(ctx, x, dims, keepdim, correction):
        count = x.numel() if dims is None else math.prod(x.shape[d] for d in dims)
        ctx.divisor, ctx.dims = count - correction, dims
        x_array = x.array
        if ctx.divisor <= 0:  # too few elements for the correction, as PyTorch: NaN
            shape = np.sum(x_array, axis=dims, keepdims=keepdim).shape
            out = np.full(shape, np.nan, dtype=x_array.dtype)
        else:
            out = np.std(x_array, axis=dims, ddof=correction, keepdims=keepdim)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        dims = ctx.dims
        kept = _kept_shape(x.shape, dims)
        out = out.reshape(kept)
        centered = x - x.mean(dims, keepdim=True)
        safe_out = where(out.array > 0, out, 1.0)
        return grad.reshape(kept) * centered / (safe_out * ctx.divisor)


class LogSumExp(Function):
    """out = ln Σᵢ e^xᵢ     ∂/∂xᵢ = e^(xᵢ - out) = softmax(x)ᵢ

    Computed as m + ln Σᵢ e^(xᵢ - m) with m = max x, so no exponential overflows.
    """

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.dims = dims
        out = LogSumExp.of_array(x.array, dims, keepdim)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def of_array(x: np.ndarray, dims, keepdim: bool) -> np.ndarray:
        if x.size == 0:  # ln of an empty sum: -inf, as in PyTorch (max has no identity)
            with np.errstate(divide="ignore"):
                return np.log(np.sum(np.exp(x), axis=dims, keepdims=keepdim))
        m = np.max(x, axis=dims, keepdims=True)
        m = np.where(np.isfinite(m), m, 0)  # all -inf (or inf) along a dim: leave it to exp
        out = np.log(np.sum(np.exp(x - m), axis=dims, keepdims=True)) + m
        return out if keepdim else np.squeeze(out, axis=dims)

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        kept = _kept_shape(x.shape, ctx.dims)
        return grad.reshape(kept) * (x - out.reshape(kept)).exp()


class Softmax(Function):
    """out = e^xᵢ / Σⱼ e^xⱼ     ∂L/∂x = out · (grad - Σⱼ grad·out)"""

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim  # None for a 0-d tensor: its one element is all there is
        x = x.array
        if x.size == 0:
            out = x.copy()
        else:
            e = np.exp(x - np.max(x, axis=dim, keepdims=True))
            out = e / np.sum(e, axis=dim, keepdims=True)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return out * (grad - (grad * out).sum(ctx.dim, keepdim=True))


class LogSoftmax(Function):
    """out = xᵢ - ln Σⱼ e^xⱼ     ∂L/∂x = grad - softmax(x) · Σⱼ grad"""

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        x = x.array
        if x.size == 0:
            out = x.copy()
        else:
            shifted = x - np.max(x, axis=dim, keepdims=True)
            out = shifted - np.log(np.sum(np.exp(shifted), axis=dim, keepdims=True))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad - out.exp() * grad.sum(ctx.dim, keepdim=True)


def _flip(t: Tensor, dim: int) -> Tensor:
    """t reversed along ``dim`` (through indexing, so differentiable)."""
    return t[(slice(None),) * dim + (slice(None, None, -1),)]


def _reverse_cumsum(t: Tensor, dim: int) -> Tensor:
    """out_i = Σ_{j≥i} t_j along ``dim``: the gradient of a cumulative sum."""
    return _flip(_flip(t, dim).cumsum(dim), dim)


class Prod(Function):
    """out = Πᵢ xᵢ (over all, or along one dim)     ∂/∂xᵢ = Π_{j≠i} xⱼ

    Without zeros that is out/xᵢ. With zeros (out/0 would be NaN) it is the product of the
    elements before i times the product of those after it: exclusive cumulative products
    from both ends, so still exact and differentiable (as PyTorch).
    """

    @staticmethod
    def forward(ctx, x, dim, keepdim):
        ctx.dim = dim
        out = np.asarray(np.prod(x.array, axis=dim, keepdims=keepdim))
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        dim = ctx.dim
        if dim is None:
            kept = (1,) * x.ndim
        else:
            kept = x.shape[:dim] + (1,) + x.shape[dim + 1:]
        grad, out = grad.reshape(kept), out.reshape(kept)
        if not (x.array == 0).any():
            return grad * out / x
        flat = x.reshape(-1) if dim is None else x
        axis = 0 if dim is None else dim
        return grad * _exclusive_products(flat, axis).reshape(x.shape)


def _exclusive_products(x: Tensor, dim: int) -> Tensor:
    """Π_{j≠i} xⱼ along ``dim``, for each i: the product before i times the product after."""
    ones_shape = x.shape[:dim] + (1,) + x.shape[dim + 1:]
    ones = Tensor.wrap(np.ones(ones_shape, x.dtype))
    before = Cat.apply(ones, x[(slice(None),) * dim + (slice(None, -1),)], dim=dim).cumprod(dim)
    after = Cat.apply(x[(slice(None),) * dim + (slice(1, None),)], ones, dim=dim)
    return before * _flip(_flip(after, dim).cumprod(dim), dim)


class CumSum(Function):
    """outⱼ = Σ_{i≤j} xᵢ along ``dim``     ∂L/∂xᵢ = Σ_{j≥i} gradⱼ (a cumulative sum of
    the gradient, from the end)"""

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        return np.cumsum(x.array, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        return _reverse_cumsum(grad, ctx.dim)


class CumProd(Function):
    """outⱼ = Π_{i≤j} xᵢ along ``dim``     ∂L/∂xᵢ = Σ_{j≥i} gradⱼ·Π_{k≤j, k≠i} xₖ

    Without zeros that is Σ_{j≥i} gradⱼ·outⱼ / xᵢ. With zeros (dividing by 0), each i's
    products without xᵢ are computed as they are: one cumulative product per i (O(n²),
    but exact and differentiable, as PyTorch's).
    """

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        out = np.cumprod(x.array, axis=dim)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        dim = ctx.dim
        if not (x.array == 0).any():
            return _reverse_cumsum(grad * out, dim) / x
        n = x.shape[dim]
        position = np.arange(n).reshape((n,) + (1,) * (x.ndim - dim - 1))
        pieces = []
        for i in range(n):
            without_i = where(position == i, 1.0, x).cumprod(dim)  # Π_{k≤j, k≠i} xₖ
            from_i = (slice(None),) * dim + (slice(i, None),)
            pieces.append((grad[from_i] * without_i[from_i]).sum(dim, keepdim=True))
        return Cat.apply(*pieces, dim=dim)


class LogCumSumExp(Function):
    """outⱼ = ln Σ_{i≤j} e^xᵢ along ``dim`` (by logaddexp, so nothing overflows or
    underflows)     ∂L/∂xᵢ = Σ_{j≥i} gradⱼ·e^(xᵢ - outⱼ) (each term ≤ |gradⱼ|: stable; O(n²))"""

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        if x.shape[dim] == 0:
            out = x.array.copy()
        else:
            out = np.logaddexp.accumulate(x.array, axis=dim)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        dim = ctx.dim
        # weights[..., i, j, ...] = e^(xᵢ - outⱼ) for j ≥ i, else 0: dims i and j side by side
        x_i, out_j, grad_j = x.unsqueeze(dim + 1), out.unsqueeze(dim), grad.unsqueeze(dim)
        n = x.shape[dim]
        later = np.triu(np.ones((n, n), dtype=bool)).reshape((n, n) + (1,) * (x.ndim - dim - 1))
        with np.errstate(invalid="ignore"):  # masked before exp, so nothing overflows
            weights = where(later, x_i - out_j, -math.inf).exp()
        return (grad_j * weights).sum(dim + 1)


# ---------------------------------------------------------------------------------------
# Shape, copies and indexing. The views (``is_view``) share memory with their input, and
# so its version counter; their backward needs its shape only, never its values.
# ---------------------------------------------------------------------------------------


class Reshape(Function):
    """out = x with a new shape (the same elements in order)     the gradient is
    reshaped back"""

    is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape = x.array.shape
        return x.array.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.input_shape)


class Permute(Function):
    """out = x with its dims reordered     the gradient is permuted back"""

    is_view = True

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return np.transpose(x.array, dims)

    @staticmethod
    def backward(ctx, grad):
        return grad.permute(*np.argsort(ctx.dims).tolist())


class Expand(Function):
    """out = x broadcast to ``shape`` (a read-only view)     the engine sums the gradient
    back over the broadcast dims, so backward passes it through"""

    is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        return np.broadcast_to(x.array, shape)

    @staticmethod
    def backward(ctx, grad):
        return grad


class Cast(Function):
    """out = x in another dtype     the engine casts the gradient back to x's dtype"""

    @staticmethod
    def forward(ctx, x, dtype):
        return x.array.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad


class Clone(Function):
    """out = a copy of x     ∂/∂x = 1: the gradient passes through"""

    @staticmethod
    def forward(ctx, x):
        return x.array.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad


class Cat(Function):
    """out = [x₁, x₂, ...] joined along ``dim``     each input gets its slice of the gradient"""

    @staticmethod
    def forward(ctx, *xs, dim):
        ctx.dim = dim
        ctx.sizes = [x.shape[dim] for x in xs]
        return np.concatenate([x.array for x in xs], axis=dim)

    @staticmethod
    def backward(ctx, grad):
        grads, start = [], 0
        for size in ctx.sizes:
            stop = start + size
            grads.append(grad[(slice(None),) * ctx.dim + (slice(start, stop),)])
            start = stop
        return tuple(grads)


def _is_basic_key(key) -> bool:
    """True for keys of ints, slices, None and Ellipsis, which select each element once."""
    parts = key if isinstance(key, tuple) else (key,)
    return all(isinstance(k, int | slice | np.integer) or k is None or k is Ellipsis
               for k in parts)


class GetItem(Function):
    """out = x[key]     the gradient is scattered back to the selected positions"""

    is_view = True  # with a basic key (slices, ints): NumPy gives a view, not a copy

    @staticmethod
    def forward(ctx, x, key):
        ctx.input_shape, ctx.key = x.array.shape, key
        return x.array[key]

    @staticmethod
    def backward(ctx, grad):
        return ScatterAdd.apply(grad, ctx.key, ctx.input_shape)


class ScatterAdd(Function):
    """out = zeros(shape) with ``grad`` added at ``key``: the gradient of indexing.
    Repeated integer indices accumulate (np.add.at), as each use of an element adds.
    Its own gradient is indexing again."""

    @staticmethod
    def forward(ctx, values, key, shape):
        ctx.key = key
        out = np.zeros(shape, dtype=values.array.dtype)
        if _is_basic_key(key):
            out[key] = values.array  # each position at most once: plain assignment is enough
        else:
            np.add.at(out, key, values.array)
        return out

    @staticmethod
    def backward(ctx, grad):
        return GetItem.apply(grad, ctx.key)


class SetItem(Function):
    """out = x with out[key] = v     ∂/∂x = grad, 0 at ``key``     ∂/∂v = grad[key]

    ``t[key] = v`` while the graph is recorded (``t`` then takes ``out``'s values and its
    place in the graph). The old values at ``key`` are overwritten: no gradient reaches
    them. ``v`` may be broadcast to ``x[key]``; the engine sums its gradient back."""

    @staticmethod
    def forward(ctx, x, v, key):  # v: a Tensor, or a number
        ctx.key = key
        out = x.array.copy()
        out[key] = v.array if isinstance(v, Tensor) else v
        return out

    @staticmethod
    def backward(ctx, grad):
        need_x, need_v = ctx.needs_input_grad[:2]
        grad_x = SetItem.apply(grad, 0.0, ctx.key) if need_x else None
        grad_v = grad[ctx.key] if need_v else None
        return grad_x, grad_v


# ---------------------------------------------------------------------------------------
# Fused ops: a composite written as one op, with its own gradient. Each is used by
# ``nn.functional`` (``linear``, ``cross_entropy``, ``binary_cross_entropy``).
#
# Their backward runs on Tensors when ``create_graph=True`` (so it can be differentiated
# again) and, as an optimisation, on the arrays otherwise: the same lines of code, on
# ndarrays instead of Tensors, skip the cost of an op per line. The engine wraps the arrays.
# ---------------------------------------------------------------------------------------


class Linear(Function):
    """out = x @ Wᵀ + b     ∂L/∂x = grad @ W     ∂L/∂W = gradᵀ @ x     ∂L/∂b = Σ grad

    ``x`` has shape (..., in), ``W`` (out, in), ``b`` (out,) or None. For the gradients
    of W and b the leading dims of x and grad are flattened into one batch dim.
    One op, not three (matmul, transpose, add), because a small MLP spends its time here.
    """

    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)  # the bias's value is not needed
        x, weight = x.array, weight.array  # (faster than the Tensors' shapes, on a hot path)
        if x.ndim == 0 or x.shape[-1] != weight.shape[1]:
            raise ValueError(
                f"input of shape {x.shape} does not fit weight of shape {weight.shape}: the "
                f"last dim of the input must be in_features = {weight.shape[1]}"
            )
        out = x @ weight.T
        if bias is not None:
            out += bias.array
        return out

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        need_x, need_weight, need_bias = ctx.needs_input_grad
        if not is_grad_enabled():  # optimisation: the same equations on the arrays
            grad, x, weight = grad.array, x.array, weight.array
        g2, x2 = grad.reshape(-1, grad.shape[-1]), x.reshape(-1, x.shape[-1])
        grad_x = grad @ weight if need_x else None
        grad_weight = g2.T @ x2 if need_weight else None
        grad_bias = g2.sum(0) if need_bias else None
        return grad_x, grad_weight, grad_bias


class SoftmaxCrossEntropy(Function):
    """Cross-entropy of each row of logits z against a row of target weights q:

        lossᵢ = -Σ_c q_ic · log_softmax(z)_ic
        ∂lossᵢ/∂z_ic = softmax(z)_ic · Σ_c' q_ic' - q_ic
        ∂lossᵢ/∂q_ic = -log_softmax(z)_ic

    q is the one-hot class (times its class weight; mixed with the uniform distribution
    for label smoothing) or a given probability row. The output is the vector of lossᵢ, or
    ``scale · Σᵢ lossᵢ`` when ``reduce`` (scale = 1/count for a mean). ``one_hot`` says the
    rows of q sum to 1, so backward can skip Σ_c' q_ic'. One op, so that no probability is
    ever formed: logits of ±1000 give finite values and gradients.
    """

    @staticmethod
    def forward(ctx, logits, q, scale, reduce, one_hot=False):
        ctx.save_for_backward(logits, q)
        ctx.scale, ctx.reduce, ctx.one_hot = scale, reduce, one_hot
        logits, q = logits.array, q.array
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        ctx.log_probs = log_probs  # for backward, when it runs on the arrays
        if reduce:  # one dot product sums q·log p over rows and classes at once
            out = -np.vdot(q, log_probs) * scale
            if out - out != 0:  # inf or NaN: 0·(-inf) of a masked class (logit -inf) is 0
                out = -(q * np.where(q != 0, log_probs, 0)).sum() * scale
        else:
            out = -(q * np.where(q != 0, log_probs, 0)).sum(axis=1)
        return np.asarray(out, dtype=logits.dtype)

    @staticmethod
    def backward(ctx, grad):
        logits, q = ctx.saved_tensors
        scale, reduce, one_hot = ctx.scale, ctx.reduce, ctx.one_hot
        need_logits, need_q = ctx.needs_input_grad[:2]
        if is_grad_enabled():  # create_graph: recorded, to be differentiated again
            log_probs = logits.log_softmax(1)
            probs = log_probs.exp()
        else:  # optimisation: the same equations on the arrays, reusing forward's log-softmax
            grad, q, log_probs = grad.array, q.array, ctx.log_probs
            probs = np.exp(log_probs)
        g = grad * scale if reduce else grad.reshape(-1, 1)  # ∂L/∂lossᵢ, one per row
        if not one_hot:  # rows of q that may not sum to 1: softmax · Σ_c' q_ic'
            probs = probs * q.sum(1).reshape(-1, 1)
        grad_logits = g * (probs - q) if need_logits else None
        grad_q = -g * log_probs if need_q else None
        return grad_logits, grad_q


class BinaryCrossEntropy(Function):
    """loss = -(y·max(ln x, -100) + (1 - y)·max(ln(1 - x), -100))

    ∂loss/∂x = (x - y) / max(x·(1 - x), 1e-12)     (finite at x = 0 and x = 1)
    ∂loss/∂y = max(ln(1 - x), -100) - max(ln x, -100)

    One op because the logs are clamped at -100, as in PyTorch, and the gradient must stay
    finite where the clamp is active (the clamp's own gradient would be 0 there).
    """

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        with np.errstate(divide="ignore"):
            log_x = np.maximum(np.log(x.array), -100.0)
            log_1mx = np.maximum(np.log1p(-x.array), -100.0)
        return -(y.array * log_x + (1.0 - y.array) * log_1mx)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        grad_x = grad * (x - y) / (x * (1.0 - x)).clamp(min=1e-12) if need_x else None
        grad_y = None
        if need_y:
            with np.errstate(divide="ignore"):
                grad_y = grad * ((1.0 - x).log().clamp(min=-100.0)
                                 - x.log().clamp(min=-100.0))
        return grad_x, grad_y


# ---------------------------------------------------------------------------------------
# erf in NumPy (NumPy has none): full double precision
# ---------------------------------------------------------------------------------------

# Near 0: the Maclaurin series erf x = (2/√π) Σₙ (-1)ⁿ x²ⁿ⁺¹ / (n!(2n+1)).
_ERF_SERIES = np.array(
    [(-1) ** n / (math.factorial(n) * (2 * n + 1)) for n in range(14)][::-1]
) * (2 / math.sqrt(math.pi))
# Elsewhere: erfc by the Chebyshev expansion of Numerical Recipes (3rd ed., §6.2.2).
_ERFC_CHEBYSHEV = np.array([
    -1.3026537197817094, 6.4196979235649026e-1, 1.9476473204185836e-2,
    -9.561514786808631e-3, -9.46595344482036e-4, 3.66839497852761e-4,
    4.2523324806907e-5, -2.0278578112534e-5, -1.624290004647e-6,
    1.303655835580e-6, 1.5626441722e-8, -8.5238095915e-8, 6.529054439e-9,
    5.059343495e-9, -9.91364156e-10, -2.27365122e-10, 9.6467911e-11,
    2.394038e-12, -6.886027e-12, 8.94487e-13, 3.13092e-13, -1.12708e-13,
    3.81e-16, 7.106e-15, -1.523e-15, -9.4e-17, 1.21e-16, -2.8e-17,
])


def _erfc_chebyshev(z: np.ndarray) -> np.ndarray:
    """erfc z for z ≥ 0 (float64), accurate also where it is tiny."""
    t = 2.0 / (2.0 + z)
    ty = 4.0 * t - 2.0
    d = np.zeros_like(z)
    dd = np.zeros_like(z)
    for c in _ERFC_CHEBYSHEV[:0:-1]:  # Clenshaw's recurrence
        d, dd = ty * d - dd + c, d
    return t * np.exp(-z * z + 0.5 * (_ERFC_CHEBYSHEV[0] + ty * d) - dd)


def _erf(x: np.ndarray) -> np.ndarray:
    z = np.abs(x.astype(np.float64))
    series = np.polyval(_ERF_SERIES, z * z) * z
    result = np.where(z < 0.5, series, 1.0 - _erfc_chebyshev(z))
    return (np.sign(x) * result).astype(x.dtype, copy=False)


def _erfc(x: np.ndarray) -> np.ndarray:
    """erfc x = 1 - erf x, from erfc |x| (erfc(-z) = 2 - erfc z)."""
    x64 = x.astype(np.float64)
    z = np.abs(x64)
    near_zero = 1.0 - np.polyval(_ERF_SERIES, z * z) * z
    erfc_z = np.where(z < 0.5, near_zero, _erfc_chebyshev(z))
    return np.where(x64 < 0, 2.0 - erfc_z, erfc_z).astype(x.dtype, copy=False)
