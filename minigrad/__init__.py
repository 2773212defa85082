"""minigrad: a small, readable reverse-mode autodiff framework on NumPy.

    import minigrad as mg
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    x.grad            # tensor([2., 4., 6.])
"""

from minigrad import autograd
from minigrad import functions as _functions
from minigrad.autograd import grad
from minigrad.functions import (  # factories, joins, and function forms of the ops below
    _METHODS,
    arange,
    cat,
    concat,
    eye,
    full,
    ones,
    ones_like,
    rand,
    randn,
    stack,
    tensor,
    zeros,
    zeros_like,
)
from minigrad.gradcheck import GradcheckError, gradcheck, gradcheck_report, gradgradcheck
from minigrad.rng import manual_seed
from minigrad.tensor import (
    Function,
    Tensor,
    bool_,
    detect_anomaly,
    enable_grad,
    float32,
    float64,
    int32,
    int64,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
    where,
)

globals().update({name: getattr(_functions, name) for name in _METHODS})

# The packages built on the core (imported last: they use the names above).
from minigrad import data, nn, optim, viz  # noqa: E402
from minigrad.serialization import load, save  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "Tensor", "Function", "tensor", "grad", "autograd",
    "float32", "float64", "int32", "int64", "bool_",
    "zeros", "ones", "full", "eye", "arange", "rand", "randn", "zeros_like", "ones_like",
    "manual_seed", "cat", "concat", "stack", "where",
    "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "detect_anomaly",
    "gradcheck", "gradgradcheck", "gradcheck_report", "GradcheckError",
    "nn", "optim", "data", "viz", "save", "load",
    *_METHODS,
]
