"""minigrad: a small, readable reverse-mode autodiff framework on NumPy.

    import minigrad as mg
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    x.grad            # tensor([2., 4., 6.])
"""

from minigrad import autograd
from minigrad.autograd import grad
from minigrad.engine import Function

# Factories, joins, and the function forms of the Tensor methods (mg.exp(t) is t.exp()).
from minigrad.functions import (
    abs,
    add,
    arange,
    argmax,
    argmin,
    broadcast_to,
    cat,
    clamp,
    clip,
    clone,
    concat,
    cos,
    detach,
    div,
    erf,
    exp,
    expand,
    eye,
    flatten,
    full,
    gelu,
    leaky_relu,
    log,
    log_softmax,
    logsumexp,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    mul,
    neg,
    ones,
    ones_like,
    permute,
    pow,
    rand,
    randn,
    relu,
    reshape,
    sigmoid,
    sin,
    softmax,
    sqrt,
    squeeze,
    stack,
    std,
    sub,
    sum,
    tanh,
    tensor,
    transpose,
    unsqueeze,
    var,
    zeros,
    zeros_like,
)
from minigrad.grad_mode import (
    detect_anomaly,
    enable_grad,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from minigrad.gradcheck import GradcheckError, gradcheck, gradcheck_report, gradgradcheck
from minigrad.rng import manual_seed
from minigrad.tensor import Tensor, bool_, float32, float64, int8, int16, int32, int64, uint8, where

__version__ = "0.1.0"

# The packages built on the core (imported last: they use the names above).
from minigrad import data, nn, optim, viz  # noqa: E402
from minigrad.serialization import load, save  # noqa: E402

__all__ = [
    "Tensor", "Function", "tensor", "grad", "autograd",
    "float32", "float64", "uint8", "int8", "int16", "int32", "int64", "bool_",
    "zeros", "ones", "full", "eye", "arange", "rand", "randn", "zeros_like", "ones_like",
    "manual_seed", "cat", "concat", "stack", "where",
    "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "detect_anomaly",
    "gradcheck", "gradgradcheck", "gradcheck_report", "GradcheckError",
    "nn", "optim", "data", "viz", "save", "load",
    # function forms of the Tensor methods
    "add", "sub", "mul", "div", "pow", "matmul", "neg",
    "exp", "log", "sqrt", "abs", "sin", "cos", "tanh", "sigmoid", "relu", "leaky_relu",
    "erf", "gelu", "clamp", "clip", "maximum", "minimum",
    "sum", "mean", "var", "std", "max", "min", "logsumexp", "softmax", "log_softmax",
    "argmax", "argmin",
    "reshape", "flatten", "transpose", "permute", "squeeze", "unsqueeze", "expand",
    "broadcast_to", "detach", "clone",
]
