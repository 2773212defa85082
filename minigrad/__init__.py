"""minigrad: a small, readable reverse-mode autodiff framework on NumPy.

    import minigrad as mg
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    x.grad            # tensor([2., 4., 6.])
"""

from minigrad import autograd, backends, cuda, return_types
from minigrad.autograd import grad
from minigrad.device import device, get_default_device, set_default_device
from minigrad.dtypes import (
    bool_,
    float16,
    float32,
    float64,
    get_default_dtype,
    int8,
    int16,
    int32,
    int64,
    set_default_dtype,
    uint8,
)
from minigrad.engine import Function, ShapeError

# Factories, joins, and the function forms of the Tensor methods (mg.exp(t) is t.exp()).
from minigrad.functions import (
    abs,
    acos,
    acosh,
    add,
    all,  # noqa: F401 - mg.all, not in __all__ (see there)
    allclose,
    amax,
    amin,
    aminmax,
    any,  # noqa: F401
    arange,
    arccos,
    arccosh,
    arcsin,
    arcsinh,
    arctan,
    arctan2,
    arctanh,
    argmax,
    argmin,
    argsort,
    as_tensor,
    asin,
    asinh,
    atan,
    atan2,
    atanh,
    bitwise_and,
    bitwise_left_shift,
    bitwise_not,
    bitwise_or,
    bitwise_right_shift,
    bitwise_xor,
    bmm,
    broadcast_to,
    cat,
    ceil,
    chunk,
    clamp,
    clip,
    clone,
    concat,
    copysign,
    cos,
    cosh,
    count_nonzero,
    cummax,
    cummin,
    cumprod,
    cumsum,
    detach,
    dist,
    div,
    divide,
    dot,
    empty,
    empty_like,
    equal,
    erf,
    erfc,
    exp,
    exp2,
    expand,
    expm1,
    eye,
    fix,
    flatten,
    floor,
    floor_divide,
    fmod,
    frac,
    from_numpy,
    full,
    full_like,
    gelu,
    hypot,
    inference_mode,
    is_floating_point,
    isclose,
    isfinite,
    isinf,
    isnan,
    leaky_relu,
    lerp,
    linspace,
    log,
    log1p,
    log2,
    log10,
    log_softmax,
    logaddexp,
    logcumsumexp,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    logspace,
    logsumexp,
    matmul,
    max,
    maximum,
    mean,
    median,
    min,
    minimum,
    mm,
    mul,
    nan_to_num,
    neg,
    norm,
    numel,
    ones,
    ones_like,
    permute,
    pow,
    prod,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    reciprocal,
    relu,
    remainder,
    reshape,
    round,  # noqa: F401 - mg.round, not in __all__
    rsqrt,
    sigmoid,
    sign,
    sin,
    sinh,
    softmax,
    sort,
    split,
    sqrt,
    square,
    squeeze,
    stack,
    std,
    std_mean,
    sub,
    sum,
    t,
    tan,
    tanh,
    tensor,
    topk,
    transpose,
    true_divide,
    trunc,
    unbind,
    unsqueeze,
    var,
    var_mean,
    view_as,
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
from minigrad.tensor import Size, Tensor, where

# dtypes by PyTorch's other names (float16 exists to be refused with a clear message: minigrad
# computes in float32 and float64)
float = float32  # noqa: A001
double = float64
half = float16
long = int64
int = int32  # noqa: A001
short = int16
bool = bool_  # noqa: A001

__version__ = "0.1.0"

# The packages built on the core (imported last: they use the names above).
from minigrad import data, nn, optim, viz  # noqa: E402
from minigrad.nn.functional import celu, prelu, selu  # noqa: E402 - torch.celu, ...
from minigrad.serialization import load, save  # noqa: E402

__all__ = [
    "Tensor", "Function", "tensor", "grad", "autograd",
    "float32", "float64", "uint8", "int8", "int16", "int32", "int64", "bool_",
    # (mg.float, mg.int, mg.bool, mg.all, mg.any exist too, but are left out of
    # ``from minigrad import *``, which would hide Python's float, int, bool, all and any)
    "double", "half", "float16", "long", "short",
    "get_default_dtype", "set_default_dtype", "Size", "ShapeError", "return_types",
    "device", "set_default_device", "get_default_device", "cuda", "backends",
    "zeros", "ones", "full", "eye", "arange", "rand", "randn", "zeros_like", "ones_like",
    "empty", "empty_like", "full_like", "linspace", "logspace", "randint", "randperm",
    "rand_like", "randn_like", "from_numpy", "as_tensor", "allclose", "equal",
    "inference_mode",
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
    "broadcast_to", "detach", "clone", "view_as", "chunk", "split", "unbind",
    "mm", "bmm", "dot", "t", "norm", "sort", "argsort", "topk", "median",
    "numel", "is_floating_point",
    "celu", "selu", "prelu",
    "prod", "cumsum", "cumprod", "cummax", "cummin", "logcumsumexp", "amax", "amin", "aminmax",
    "count_nonzero", "dist", "std_mean", "var_mean",
    # (mg.round exists too, left out of ``from minigrad import *`` for Python's round)
    "sign", "floor", "ceil", "trunc", "fix", "frac", "reciprocal", "rsqrt", "square", "exp2",
    "expm1", "log2", "log10", "log1p", "erfc", "tan", "sinh", "cosh", "asin", "acos", "atan",
    "asinh", "acosh", "atanh", "arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh",
    "nan_to_num", "atan2", "arctan2", "hypot", "logaddexp", "copysign", "fmod", "remainder",
    "lerp", "divide", "true_divide", "floor_divide", "isnan", "isinf", "isfinite", "isclose",
    "logical_not", "logical_and", "logical_or", "logical_xor", "bitwise_and", "bitwise_or",
    "bitwise_xor", "bitwise_not", "bitwise_left_shift", "bitwise_right_shift",
]
