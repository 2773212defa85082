"""PyTorch's core op set (SPEC §10, "The op set"): values and gradients against PyTorch in
float64, at random points and at the special ones (kinks, ties, zeros, NaN and inf), and
the integer and boolean operators. Skipped when torch is not installed."""

import numpy as np
import pytest

import minigrad as mg

torch = pytest.importorskip("torch")
F = torch.nn.functional
NAN, INF = float("nan"), float("inf")


def assert_same_as_torch(fn, torch_fn, *arrays, weights_seed=0, grad_rtol=1e-10,
                         grad_atol=1e-300):
    """fn and torch_fn agree on values and on the gradients of every float input (the
    output weighted by random numbers, so each element's gradient counts)."""
    ours = [mg.tensor(a, requires_grad=np.asarray(a).dtype.kind == "f") for a in arrays]
    theirs = [torch.tensor(a, requires_grad=np.asarray(a).dtype.kind == "f") for a in arrays]
    out, expected = fn(*ours), torch_fn(*theirs)
    assert out.shape == tuple(expected.shape)
    assert out.dtype == np.dtype(str(expected.dtype).removeprefix("torch."))
    exact = out.dtype != np.float32  # float32 functions may differ in the last bit
    np.testing.assert_allclose(out.array, expected.detach().numpy(), rtol=1e-12 if exact else 1e-6,
                               atol=1e-300)
    if not expected.requires_grad:
        return
    weights = np.random.default_rng(weights_seed).uniform(0.5, 1.5, size=out.shape)
    (out * mg.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    for t, u in zip(ours, theirs):
        if u.requires_grad:
            np.testing.assert_allclose(t.grad.array, u.grad.numpy(), rtol=grad_rtol,
                                       atol=grad_atol)


# (name, minigrad function, torch function, input shapes, low, high) at random points
UNARY = [
    ("sign", lambda a: a.sign(), torch.sign, -2, 2),
    ("floor", lambda a: a.floor(), torch.floor, -2, 2),
    ("ceil", lambda a: mg.ceil(a), torch.ceil, -2, 2),
    ("round", lambda a: a.round(), torch.round, -2, 2),
    ("round_decimals", lambda a: mg.round(a, decimals=2), lambda a: torch.round(a, decimals=2),
     -2, 2),
    ("trunc", lambda a: a.trunc(), torch.trunc, -2, 2),
    ("frac", lambda a: a.frac(), torch.frac, -2, 2),
    ("reciprocal", lambda a: a.reciprocal(), torch.reciprocal, 0.2, 2),
    ("rsqrt", lambda a: mg.rsqrt(a), torch.rsqrt, 0.2, 2),
    ("square", lambda a: a.square(), torch.square, -2, 2),
    ("exp2", lambda a: a.exp2(), torch.exp2, -2, 2),
    ("expm1", lambda a: a.expm1(), torch.expm1, -1e-3, 1e-3),
    ("log2", lambda a: a.log2(), torch.log2, 0.1, 3),
    ("log10", lambda a: mg.log10(a), torch.log10, 0.1, 3),
    ("log1p", lambda a: a.log1p(), torch.log1p, -1e-4, 1e-4),
    ("erf", lambda a: a.erf(), torch.erf, -4, 4),
    ("erfc", lambda a: a.erfc(), torch.erfc, -6, 6),
    ("tan", lambda a: a.tan(), torch.tan, -1.4, 1.4),
    ("sinh", lambda a: a.sinh(), torch.sinh, -3, 3),
    ("cosh", lambda a: a.cosh(), torch.cosh, -3, 3),
    ("asin", lambda a: a.asin(), torch.asin, -0.99, 0.99),
    ("acos", lambda a: mg.acos(a), torch.acos, -0.99, 0.99),
    ("atan", lambda a: a.atan(), torch.atan, -5, 5),
    ("asinh", lambda a: a.asinh(), torch.asinh, -5, 5),
    ("acosh", lambda a: a.acosh(), torch.acosh, 1.01, 5),
    ("atanh", lambda a: mg.arctanh(a), torch.atanh, -0.99, 0.99),
]


@pytest.mark.parametrize("name, fn, torch_fn, low, high", UNARY, ids=[u[0] for u in UNARY])
def test_unary_ops_match_torch(name, fn, torch_fn, low, high):
    array = np.random.default_rng(3).uniform(low, high, size=(4, 5))
    assert_same_as_torch(fn, torch_fn, array)


BINARY = [
    ("atan2", lambda a, b: a.atan2(b), torch.atan2, -2, 2),
    ("hypot", lambda a, b: mg.hypot(a, b), torch.hypot, -2, 2),
    ("logaddexp", lambda a, b: a.logaddexp(b), torch.logaddexp, -30, 30),
    ("copysign", lambda a, b: a.copysign(b), torch.copysign, -2, 2),
    ("fmod", lambda a, b: a.fmod(b), torch.fmod, -5, 5),
    ("remainder", lambda a, b: a.remainder(b), torch.remainder, -5, 5),
    ("mod_operator", lambda a, b: a % b, lambda a, b: a % b, -5, 5),
    # torch's // has no derivative (an error); its value is div(rounding_mode="floor")'s,
    # whose gradient is 0, as minigrad's // gives
    ("floordiv_operator", lambda a, b: a // b,
     lambda a, b: torch.div(a, b, rounding_mode="floor"), -5, 5),
    ("div_trunc", lambda a, b: a.div(b, rounding_mode="trunc"),
     lambda a, b: torch.div(a, b, rounding_mode="trunc"), -5, 5),
    ("div_floor", lambda a, b: mg.div(a, b, rounding_mode="floor"),
     lambda a, b: torch.div(a, b, rounding_mode="floor"), -5, 5),
    ("lerp_tensor_weight", lambda a, b: a.lerp(b, b.sigmoid()),
     lambda a, b: torch.lerp(a, b, b.sigmoid()), -2, 2),
    ("lerp_number_weight", lambda a, b: mg.lerp(a, b, 0.3), lambda a, b: torch.lerp(a, b, 0.3),
     -2, 2),
]


@pytest.mark.parametrize("name, fn, torch_fn, low, high", BINARY, ids=[b[0] for b in BINARY])
def test_binary_ops_match_torch(name, fn, torch_fn, low, high):
    generator = np.random.default_rng(4)
    a, b = generator.uniform(low, high, size=(3, 4)), generator.uniform(low, high, size=(4,))
    assert_same_as_torch(fn, torch_fn, a, b)


# -- at the special points: kinks, zeros, NaN and inf ---------------------------------------

SPECIAL = np.array([-2.0, -1.5, -1.0, -0.5, -0.0, 0.0, 0.5, 1.0, 1.5, 2.5, NAN, INF, -INF])


@pytest.mark.parametrize("name", ["sign", "floor", "ceil", "round", "trunc", "frac", "square",
                                  "exp2", "expm1", "erfc", "atan", "sinh", "asinh",
                                  "nan_to_num"])
def test_unary_ops_at_special_points_match_torch(name):
    assert_same_as_torch(lambda a: getattr(a, name)(), lambda a: getattr(torch, name)(a),
                         SPECIAL)


def test_nan_to_num_with_replacements_matches_torch():
    assert_same_as_torch(lambda a: a.nan_to_num(1.5, posinf=9.0, neginf=-7.0),
                         lambda a: torch.nan_to_num(a, 1.5, posinf=9.0, neginf=-7.0), SPECIAL)


def test_pow_gradients_at_zero_match_torch():
    """0 ** y for y < 0 is inf with the gradient -inf; d/dx x**y at x = y = 0 is 0; d/dy at
    x = 0 is 0 for y ≥ 0 and -inf for y < 0 (issue 14)."""
    base = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 2.0, -1.5])
    exponent = np.array([-2.0, -1.0, 0.0, -0.3, 1.5, 0.0, 2.0])
    assert_same_as_torch(lambda a, b: a**b, lambda a, b: a**b, base, exponent)
    assert_same_as_torch(lambda a: a**0.0, lambda a: a**0.0, base)
    assert_same_as_torch(lambda b: 0.0**b, lambda b: 0.0**b, exponent)


def test_binary_ops_at_special_points_match_torch():
    a = np.array([0.0, -0.0, 1.0, -2.0, 3.0, -3.0, 0.0, NAN, INF])
    b = np.array([-1.0, 1.0, -0.0, 0.0, 1.5, 1.5, 0.0, 1.0, 2.0])
    for name in ["atan2", "copysign", "logaddexp", "hypot"]:
        assert_same_as_torch(lambda x, y, name=name: getattr(x, name)(y),
                             lambda x, y, name=name: getattr(torch, name)(x, y), a, b)
    finite_b = np.array([-1.0, 1.0, -2.0, 2.0, 1.5, 1.5, 3.0, 1.0, 2.0])
    for name in ["fmod", "remainder"]:  # exact multiples: the quotient is an integer
        assert_same_as_torch(lambda x, y, name=name: getattr(x, name)(y),
                             lambda x, y, name=name: getattr(torch, name)(x, y), a, finite_b)


# -- integer and boolean operators ----------------------------------------------------------

INTS = np.array([7, -7, 5, -5, 0, 12], dtype=np.int64)
DIVISORS = np.array([2, 2, -3, -3, 4, 5], dtype=np.int64)
OPERATORS = {
    "//": lambda a, b: a // b, "%": lambda a, b: a % b, "&": lambda a, b: a & b,
    "|": lambda a, b: a | b, "^": lambda a, b: a ^ b, "<<": lambda a, b: a << (b % 4),
    ">>": lambda a, b: a >> (b % 4),
    "trunc": lambda a, b: a.div(b, rounding_mode="trunc"),
    "floor": lambda a, b: a.div(b, rounding_mode="floor"),
    "fmod": lambda a, b: a.fmod(b), "/": lambda a, b: a / b,
}


@pytest.mark.parametrize("op", list(OPERATORS))
@pytest.mark.parametrize("dtype", [np.int64, np.int32])
def test_integer_operators_match_torch(op, dtype):
    fn = OPERATORS[op]
    assert_same_as_torch(fn, fn, INTS.astype(dtype), DIVISORS.astype(dtype))


@pytest.mark.parametrize("op", ["//", "%", "&", "|", "^", "<<", ">>"])
def test_operators_with_python_numbers_match_torch(op):
    fn = OPERATORS[op]
    for number in (3, -2):
        assert_same_as_torch(lambda a, n=number: fn(a, n), lambda a, n=number: fn(a, n), INTS)
        assert_same_as_torch(lambda a, n=number: fn(n, a + 8), lambda a, n=number: fn(n, a + 8),
                             np.abs(INTS) % 3)


def test_float_operators_with_python_numbers_match_torch():
    x = np.array([3.5, -3.5, 2.0, -0.25])
    assert_same_as_torch(lambda a: a % -1.5, lambda a: a % -1.5, x)
    # torch has no gradient for // nor for number % tensor: values only
    for fn in (lambda a: a // 2, lambda a: 7 // a, lambda a: 5.0 % a):
        assert_same_as_torch(fn, lambda a, fn=fn: fn(a.detach()), x)


def test_boolean_operators_match_torch():
    a, b = np.array([True, True, False, False]), np.array([True, False, True, False])
    for fn in (lambda x, y: x & y, lambda x, y: x | y, lambda x, y: x ^ y,
               lambda x, y: ~x, lambda x, y: x ^ True, lambda x, y: x.logical_and(y),
               lambda x, y: x.logical_or(y), lambda x, y: x.logical_xor(y),
               lambda x, y: x.logical_not()):
        assert_same_as_torch(fn, fn, a, b)
    assert_same_as_torch(lambda x: ~x, lambda x: ~x, INTS)


def test_logical_ops_on_numbers_match_torch():
    a, b = np.array([0.0, 2.0, -1.0, 0.0]), np.array([0.0, 0.0, 3.0, NAN])
    for name in ["logical_and", "logical_or", "logical_xor"]:
        assert_same_as_torch(lambda x, y, name=name: getattr(mg, name)(x, y),
                             lambda x, y, name=name: getattr(torch, name)(x, y), a, b)
    assert_same_as_torch(mg.logical_not, torch.logical_not, b)


def test_tests_of_each_element_match_torch():
    for name in ["isnan", "isinf", "isfinite"]:
        assert_same_as_torch(getattr(mg, name), getattr(torch, name), SPECIAL)
    a = np.array([1.0, 1.0, NAN, INF, 1e-9, 100.0])
    b = np.array([1.0 + 1e-9, 1.1, NAN, INF, 0.0, 100.001])
    assert_same_as_torch(mg.isclose, torch.isclose, a, b)
    for kwargs in ({"equal_nan": True}, {"rtol": 1e-3, "atol": 0.0}):
        assert_same_as_torch(lambda x, y, kwargs=kwargs: mg.isclose(x, y, **kwargs),
                             lambda x, y, kwargs=kwargs: torch.isclose(x, y, **kwargs), a, b)


def test_integer_tensors_keep_their_dtype_or_become_float_as_in_torch():
    for name in ["sign", "floor", "ceil", "round", "trunc", "square", "reciprocal", "exp2",
                 "log1p", "atan", "nan_to_num"]:
        assert_same_as_torch(lambda a, name=name: getattr(a, name)(),
                             lambda a, name=name: getattr(a, name)(),
                             np.array([-3, 0, 4]))
    assert_same_as_torch(lambda a, b: a.atan2(b), lambda a, b: a.atan2(b),
                         np.array([-3, 0, 4]), np.array([1, 2, -2]))


def test_second_derivatives_of_new_ops_match_torch():
    x = np.array([0.3, -0.7, 0.9])
    y = np.array([1.2, 0.4, -2.0])
    for fn in (lambda a, b: a.atan2(b) * a.asinh() + a.tan() * b.cosh(),
               lambda a, b: a.logaddexp(b) + a.hypot(b) * a.erfc() + (a + 2).log1p() * b.expm1(),
               lambda a, b: a.atanh() * a.asin() + b.abs().rsqrt() + (a + 1).reciprocal()):
        ours = [mg.tensor(v, requires_grad=True) for v in (x, y)]
        theirs = [torch.tensor(v, requires_grad=True) for v in (x, y)]
        (ga, gb) = mg.grad(fn(*ours).sum(), ours, create_graph=True)
        (ta, tb) = torch.autograd.grad(fn(*theirs).sum(), theirs, create_graph=True)
        second = mg.grad((ga * gb).sum(), ours)
        expected = torch.autograd.grad((ta * tb).sum(), theirs)
        for s, e in zip(second, expected):
            np.testing.assert_allclose(s.array, e.numpy(), rtol=1e-10)


# -- activations: functions and modules ------------------------------------------------------

ACTIVATIONS = [
    ("silu", lambda x: mg.nn.functional.silu(x), F.silu),
    ("mish", lambda x: mg.nn.functional.mish(x), F.mish),
    ("logsigmoid", lambda x: mg.nn.functional.logsigmoid(x), F.logsigmoid),
    ("elu", lambda x: mg.nn.functional.elu(x), F.elu),
    ("elu_alpha", lambda x: mg.nn.functional.elu(x, alpha=0.3), lambda x: F.elu(x, alpha=0.3)),
    ("celu", lambda x: mg.nn.functional.celu(x, alpha=2.0), lambda x: F.celu(x, alpha=2.0)),
    ("mg.celu", lambda x: mg.celu(x), torch.celu),
    ("selu", lambda x: mg.selu(x), F.selu),
    ("hardtanh", lambda x: mg.nn.functional.hardtanh(x), F.hardtanh),
    ("hardtanh_bounds", lambda x: mg.nn.functional.hardtanh(x, min_val=-3.0, max_val=6.0),
     lambda x: F.hardtanh(x, min_val=-3.0, max_val=6.0)),
    ("relu6", lambda x: mg.nn.functional.relu6(x), F.relu6),
    ("hardsigmoid", lambda x: mg.nn.functional.hardsigmoid(x), F.hardsigmoid),
    ("hardswish", lambda x: mg.nn.functional.hardswish(x), F.hardswish),
    ("softplus", lambda x: mg.nn.functional.softplus(x), F.softplus),
    ("softplus_beta", lambda x: mg.nn.functional.softplus(x, beta=2.0, threshold=3.0),
     lambda x: F.softplus(x, beta=2.0, threshold=3.0)),
    ("softsign", lambda x: mg.nn.functional.softsign(x), F.softsign),
    ("tanhshrink", lambda x: mg.nn.functional.tanhshrink(x), F.tanhshrink),
    ("softmin", lambda x: mg.nn.functional.softmin(x, dim=0), lambda x: F.softmin(x, dim=0)),
    ("glu", lambda x: mg.nn.functional.glu(x[:14]), lambda x: F.glu(x[:14])),
]
# kinks (0, ±1, ±3, 6, softplus's threshold 1.5 at beta 2), large values and a tie of zeros
KINKS = np.array([-30.0, -6.0, -3.0, -2.5, -1.0, -0.5, 0.0, 0.0, 0.5, 1.0, 1.5, 2.5, 3.0, 6.0,
                  7.0, 30.0])


# torch's hardsigmoid has the slope 1/6 rounded to float32 even in float64 (ours is exact);
# softmin's gradients cancel down to ~1e-11, where the last bits differ
TOLERANCES = {"hardsigmoid": {"grad_rtol": 1e-7}, "Hardsigmoid": {"grad_rtol": 1e-7},
              "softmin": {"grad_atol": 1e-15}}


@pytest.mark.parametrize("name, fn, torch_fn", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activations_match_torch_at_random_points_and_kinks(name, fn, torch_fn):
    tolerances = TOLERANCES.get(name, {})
    assert_same_as_torch(fn, torch_fn, np.random.default_rng(5).uniform(-8, 8, size=16),
                         **tolerances)
    assert_same_as_torch(fn, torch_fn, KINKS, **tolerances)


@pytest.mark.parametrize("shape, num_parameters", [((4, 3, 2), 3), ((4, 3), 1), ((4, 3), 3),
                                                   ((5,), 1), ((), 1)])
def test_prelu_matches_torch_with_its_weight(shape, num_parameters):
    x = np.random.default_rng(6).uniform(-2, 2, size=shape)
    if x.size:
        x.flat[0] = 0.0  # the kink: the slope there is the weight's, as PyTorch's
    weight = np.linspace(0.1, 0.5, num_parameters)
    assert_same_as_torch(mg.prelu, torch.prelu, x, weight)
    assert_same_as_torch(mg.nn.functional.prelu, F.prelu, x, weight)


MODULES = [
    ("SiLU", (), {}), ("Mish", (), {}), ("ELU", (0.5,), {}), ("CELU", (), {"alpha": 1.5}),
    ("SELU", (), {}), ("Hardtanh", (-0.5, 2.0), {}), ("ReLU6", (), {}), ("Hardsigmoid", (), {}),
    ("Hardswish", (), {}), ("Softplus", (), {"beta": 3.0, "threshold": 4.0}), ("Softsign", (), {}),
    ("LogSigmoid", (), {}), ("Tanhshrink", (), {}), ("Softmin", (1,), {}), ("GLU", (), {}),
]


@pytest.mark.parametrize("name, args, kwargs", MODULES, ids=[m[0] for m in MODULES])
def test_activation_modules_match_torch(name, args, kwargs):
    ours, theirs = getattr(mg.nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    x = np.random.default_rng(8).uniform(-5, 5, size=(3, 4))
    assert_same_as_torch(ours, theirs, x, **TOLERANCES.get(name, {}))
    assert list(ours.parameters()) == []


def test_prelu_module_learns_its_slopes_as_torch():
    ours, theirs = mg.nn.PReLU(3, init=0.1), torch.nn.PReLU(3, init=0.1).double()
    ours.double()
    x = np.random.default_rng(9).uniform(-2, 2, size=(4, 3, 2))
    out, expected = ours(mg.tensor(x)), theirs(torch.tensor(x))
    np.testing.assert_allclose(out.array, expected.detach().numpy(), rtol=1e-12)
    out.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(ours.weight.grad.array, theirs.weight.grad.numpy(), rtol=1e-12)
    assert [n for n, _ in ours.named_parameters()] == ["weight"]
    assert repr(ours) == "PReLU(num_parameters=3)"


# -- reductions --------------------------------------------------------------------------------

# rows without zeros, with one zero and with two; ties (the 2s, the 3s) and a negative zero
WITH_ZEROS = np.array([[1.5, -2.0, 3.0, 0.5, 2.0], [2.0, 0.0, -1.0, 3.0, 3.0],
                       [0.0, 4.0, 0.0, -0.5, 1.0], [2.0, 2.0, -0.0, 2.0, -3.0]])
REDUCTIONS = [
    ("prod", lambda a: a.prod(), lambda a: a.prod()),
    ("prod_dim", lambda a: a.prod(1), lambda a: a.prod(1)),
    ("prod_dim0_keepdim", lambda a: mg.prod(a, 0, keepdim=True), lambda a: a.prod(0, True)),
    ("prod_row_without_zeros", lambda a: a[0].prod(), lambda a: a[0].prod()),
    ("cumsum", lambda a: a.cumsum(1), lambda a: a.cumsum(1)),
    ("cumsum_dim0", lambda a: mg.cumsum(a, dim=0), lambda a: torch.cumsum(a, dim=0)),
    ("cumprod", lambda a: a.cumprod(1), lambda a: a.cumprod(1)),
    ("cumprod_dim0", lambda a: mg.cumprod(a, 0), lambda a: torch.cumprod(a, 0)),
    ("cummax", lambda a: a.cummax(1).values, lambda a: a.cummax(1).values),
    ("cummin_dim0", lambda a: a.cummin(0).values, lambda a: a.cummin(0).values),
    ("logcumsumexp", lambda a: a.logcumsumexp(1), lambda a: a.logcumsumexp(1)),
    ("logcumsumexp_large", lambda a: (a * 400).logcumsumexp(0),
     lambda a: (a * 400).logcumsumexp(0)),
    ("amax", lambda a: a.amax(), lambda a: a.amax()),
    ("amax_dim", lambda a: a.amax(1), lambda a: a.amax(1)),
    ("amin_dims", lambda a: mg.amin(a, (0, 1), keepdim=True), lambda a: a.amin((0, 1), True)),
    ("aminmax", lambda a: a.aminmax(dim=1).min * a.aminmax(dim=1).max,
     lambda a: torch.aminmax(a, dim=1).min * torch.aminmax(a, dim=1).max),
    ("std_mean", lambda a: mg.std_mean(a, 1)[0] + mg.std_mean(a, 1)[1],
     lambda a: torch.std_mean(a, 1)[0] + torch.std_mean(a, 1)[1]),
    ("var_mean", lambda a: mg.var_mean(a, correction=0, keepdim=True)[0]
     * mg.var_mean(a, correction=0, keepdim=True)[1],
     lambda a: torch.var_mean(a, correction=0, keepdim=True)[0]
     * torch.var_mean(a, correction=0, keepdim=True)[1]),
    ("dist", lambda a: a.dist(a[0] * 2), lambda a: a.dist(a[0] * 2)),
    ("dist_p1", lambda a: mg.dist(a, a * 0.5, 1),
     lambda a: a.dist(a * 0.5, 1)),
    ("dist_inf", lambda a: a.dist(a[1], float("inf")), lambda a: a.dist(a[1], float("inf"))),
]


@pytest.mark.parametrize("name, fn, torch_fn", REDUCTIONS, ids=[r[0] for r in REDUCTIONS])
def test_reductions_match_torch_with_zeros_and_ties(name, fn, torch_fn):
    assert_same_as_torch(fn, torch_fn, WITH_ZEROS)
    assert_same_as_torch(fn, torch_fn, np.random.default_rng(10).uniform(-2, 2, size=(4, 5)))


@pytest.mark.parametrize("name", ["prod", "cumprod", "logcumsumexp"])
def test_second_derivatives_of_products_with_zeros_match_torch(name):
    ours = mg.tensor(WITH_ZEROS, requires_grad=True)
    theirs = torch.tensor(WITH_ZEROS, requires_grad=True)
    (g,) = mg.grad(getattr(ours, name)(1).sum(), ours, create_graph=True)
    (tg,) = torch.autograd.grad(getattr(theirs, name)(1).sum(), theirs, create_graph=True)
    np.testing.assert_allclose(g.array, tg.detach().numpy(), rtol=1e-12)
    (gg,) = mg.grad((g * g).sum(), ours)
    (tgg,) = torch.autograd.grad((tg * tg).sum(), theirs)
    np.testing.assert_allclose(gg.array, tgg.numpy(), rtol=1e-10, atol=1e-12)


def test_cummax_and_cummin_indices_match_torch_with_ties_and_nan():
    x = np.array([[1.0, 3.0, 3.0, 2.0, NAN, 5.0], [3.0, 1.0, 1.0, 2.0, 0.0, 0.0]])
    for name in ["cummax", "cummin"]:
        for dim in (0, 1):
            ours, theirs = getattr(mg.tensor(x), name)(dim), getattr(torch.tensor(x), name)(dim)
            np.testing.assert_array_equal(ours.indices.array, theirs.indices.numpy())
            np.testing.assert_array_equal(ours.values.array, theirs.values.numpy())
            assert type(ours).__name__ == name


def test_integer_reductions_match_torch():
    ints = np.array([[3, -1, 2], [0, 5, 5]], dtype=np.int32)
    for fn in (lambda a: a.prod(), lambda a: a.prod(1), lambda a: a.cumsum(0),
               lambda a: a.cumprod(1), lambda a: a.amax(1), lambda a: a.count_nonzero(),
               lambda a: a.count_nonzero(1), lambda a: a.count_nonzero((0, 1))):
        assert_same_as_torch(fn, fn, ints)
    bools = np.array([True, False, True])
    assert_same_as_torch(lambda a: a.cumsum(0), lambda a: a.cumsum(0), bools)
    assert_same_as_torch(lambda a: a.prod(), lambda a: a.prod(), bools)
    assert_same_as_torch(mg.count_nonzero, torch.count_nonzero, WITH_ZEROS)


def test_reductions_of_0d_tensors_match_torch():
    for fn in (lambda a: a.prod(), lambda a: a.prod(0), lambda a: a.cumsum(0),
               lambda a: a.cumprod(-1), lambda a: a.logcumsumexp(0), lambda a: a.amax()):
        assert_same_as_torch(fn, fn, np.array(1.5))


# -- shape and indexing ----------------------------------------------------------------------


def _lib(t):
    return mg if isinstance(t, mg.Tensor) else torch


GATHER_INDEX = np.array([[[0, 2, 1, 0], [1, 1, 0, 2]]] * 2)  # repeated indices add up
SHAPE_OPS = [
    ("flip", lambda t: t.flip(0, 2)), ("flip_negative_dim", lambda t: _lib(t).flip(t, (-1,))),
    ("fliplr", lambda t: t[0].fliplr()), ("flipud", lambda t: t[0].flipud()),
    ("roll", lambda t: t.roll(1, 2)), ("roll_dims", lambda t: t.roll((1, -2), (0, 2))),
    ("roll_flat", lambda t: _lib(t).roll(t, 5)), ("rot90", lambda t: t.rot90(1, (1, 2))),
    ("rot90_k3", lambda t: t.rot90(3)), ("rot90_k2", lambda t: t.rot90(-2, (0, 2))),
    ("tril", lambda t: t.tril()), ("triu", lambda t: _lib(t).triu(t, 1)),
    ("tril_below", lambda t: t.tril(-1)), ("diagonal", lambda t: t.diagonal()),
    ("diagonal_offset", lambda t: t.diagonal(1, 1, 2)),
    ("diagonal_reversed_dims", lambda t: _lib(t).diagonal(t, -1, 2, 0)),
    ("diag_of_matrix", lambda t: t[0].diag(1)), ("diag_to_matrix", lambda t: t[0, 0].diag(-2)),
    ("trace", lambda t: t[0].trace()), ("repeat", lambda t: t.repeat(2, 1, 1, 2)),
    ("tile", lambda t: _lib(t).tile(t, (2,))), ("tile_longer", lambda t: t.tile(2, 1, 1, 1)),
    ("repeat_interleave", lambda t: t.repeat_interleave(2)),
    ("repeat_interleave_dim", lambda t: _lib(t).repeat_interleave(t, 2, dim=1)),
    ("repeat_interleave_counts",
     lambda t: t.repeat_interleave(_lib(t).tensor([2, 0, 1]), dim=1)),
    ("movedim", lambda t: t.movedim(0, 2)), ("movedim_tuple", lambda t: t.movedim((0, 1), (2, 0))),
    ("moveaxis", lambda t: _lib(t).moveaxis(t, -1, 0)),
    ("swapaxes", lambda t: t.swapaxes(0, 2)), ("swapdims", lambda t: _lib(t).swapdims(t, 1, 2)),
    ("narrow", lambda t: t.narrow(2, 1, 2)), ("narrow_negative", lambda t: t.narrow(1, -2, 2)),
    ("index_select", lambda t: t.index_select(1, _lib(t).tensor([2, 0, 2]))),
    ("gather", lambda t: t.gather(1, _lib(t).tensor(GATHER_INDEX))),
    ("gather_smaller_index",
     lambda t: _lib(t).gather(t, 2, _lib(t).tensor(GATHER_INDEX[:, :, :3]))),
    ("scatter", lambda t: t.scatter(1, _lib(t).tensor([[[0, 1, 2, 0]]]), t[:1, :1] * -1)),
    ("scatter_value", lambda t: t.scatter(2, _lib(t).tensor([[[3], [0]]]), value=7.0)),
    ("scatter_add", lambda t: t.scatter_add(1, _lib(t).tensor(GATHER_INDEX), t[:, :2] * 3)),
    ("masked_fill", lambda t: t.masked_fill(t > 0.5, -5.0)),
    ("masked_fill_tensor_value", lambda t: t.masked_fill(t < 0, _lib(t).tensor(2.0))),
    ("masked_select", lambda t: t.masked_select(_lib(t).tensor([True, False, True, True]))),
    ("outer", lambda t: t[0, 0].outer(t[1, 1])), ("ger", lambda t: _lib(t).outer(t[0, 1], t[1, 2])),
]


@pytest.mark.parametrize("name, fn", SHAPE_OPS, ids=[s[0] for s in SHAPE_OPS])
def test_shape_and_indexing_ops_match_torch(name, fn):
    assert_same_as_torch(fn, fn, np.random.default_rng(11).uniform(-1, 1, size=(2, 3, 4)))


def test_nonzero_and_one_argument_where_match_torch():
    x = np.array([[0.0, 1.5, 0.0], [2.0, 0.0, -1.0]])
    ours, theirs = mg.tensor(x), torch.tensor(x)
    np.testing.assert_array_equal(ours.nonzero().array, theirs.nonzero().numpy())
    for a, b in zip(mg.where(ours != 0), torch.where(theirs != 0)):
        np.testing.assert_array_equal(a.array, b.numpy())
    for a, b in zip(ours.nonzero(as_tuple=True), theirs.nonzero(as_tuple=True)):
        np.testing.assert_array_equal(a.array, b.numpy())
    assert mg.nonzero(mg.tensor(0.0)).shape == tuple(torch.nonzero(torch.tensor(0.0)).shape)
    assert mg.nonzero(mg.tensor(3.0)).shape == tuple(torch.nonzero(torch.tensor(3.0)).shape)


def _F(t):
    return mg.nn.functional if isinstance(t, mg.Tensor) else F


MORE_SHAPE_OPS = [
    ("pad_constant", lambda t: _F(t).pad(t, (1, 2))),
    ("pad_constant_value_two_dims", lambda t: _F(t).pad(t, (1, 0, 2, 1), value=-3.0)),
    ("pad_constant_crop", lambda t: _F(t).pad(t, (-1, 2, 1, -1, 0, 1))),
    ("pad_reflect", lambda t: _F(t).pad(t, (3, 1), mode="reflect")),
    ("pad_reflect_2d", lambda t: _F(t).pad(t, (1, 2, 2, 1), mode="reflect")),
    ("pad_replicate", lambda t: _F(t).pad(t, (2, 0, 1, 3), mode="replicate")),
    ("pad_circular", lambda t: _F(t).pad(t, (4, 1, 0, 2), mode="circular")),
    ("unflatten", lambda t: t.unflatten(2, (2, 2))),
    ("unflatten_minus_one", lambda t: _lib(t).unflatten(t, -1, (-1, 1, 2))),
    ("index_add", lambda t: t.index_add(1, _lib(t).tensor([2, 0, 2, 2]), t[:, :1].repeat(
        1, 4, 1) * 2)),
    ("index_add_alpha", lambda t: _lib(t).index_add(t, 2, _lib(t).tensor([3, 3]), t[..., :2],
                                                    alpha=-0.5)),
    ("take", lambda t: t.take(_lib(t).tensor([[0, 23, -1], [5, 5, 7]]))),
    *[(f"scatter_reduce_{reduce}_{include_self}",
       lambda t, reduce=reduce, include_self=include_self: t.scatter_reduce(
           1, _lib(t).tensor(GATHER_INDEX), t[:, :2] * 3, reduce, include_self=include_self))
      for reduce in ("sum", "prod", "mean", "amax", "amin") for include_self in (True, False)],
    ("meshgrid_ij", lambda t: _lib(t).stack(_lib(t).meshgrid(t[0, 0], t[1, :, 0],
                                                             indexing="ij"))),
    ("meshgrid_xy", lambda t: _lib(t).stack(_lib(t).meshgrid(t[0, 0], t[1, :, 0], t[0, 1, :2],
                                                             indexing="xy"))),
]


@pytest.mark.parametrize("name, fn", MORE_SHAPE_OPS, ids=[s[0] for s in MORE_SHAPE_OPS])
def test_padding_scatter_reduce_and_grids_match_torch(name, fn):
    assert_same_as_torch(fn, fn, np.random.default_rng(12).uniform(-1, 1, size=(2, 3, 4)))


def test_scatter_reduce_ties_share_the_gradient_as_torch():
    # src and self tie for the max: PyTorch splits the gradient evenly among them
    x = np.array([[1.0, 5.0, 2.0]])
    src = np.array([[5.0, 5.0, 0.5]])
    index = np.array([[1, 1, 0]])
    for reduce in ("amax", "amin"):
        def fn(a, b, reduce=reduce):
            return a.scatter_reduce(1, _lib(a).tensor(index), b, reduce)
        assert_same_as_torch(fn, fn, x, src)


def test_scatter_reduce_of_integers_matches_torch():
    x, src, index = np.array([1, -2, 7]), np.array([2, 2, -5, 9]), np.array([0, 0, 1, 1])
    for reduce in ("sum", "prod", "mean", "amax", "amin"):
        for include_self in (True, False):
            def fn(a, b, reduce=reduce, include_self=include_self):
                return a.scatter_reduce(0, _lib(a).tensor(index), b, reduce,
                                        include_self=include_self)
            assert_same_as_torch(fn, fn, x, src)


def test_scatter_reduce_prod_with_zeros_matches_torch():
    x = np.array([[0.0, 2.0, 3.0, 0.0]])
    src = np.array([[0.0, 4.0, 0.0, 5.0, 2.0]])
    index = np.array([[1, 1, 2, 2, 3]])
    for include_self in (True, False):
        def fn(a, b, include_self=include_self):
            return a.scatter_reduce(1, _lib(a).tensor(index), b, "prod",
                                    include_self=include_self)
        assert_same_as_torch(fn, fn, x, src)


def test_pad_and_scatter_reduce_refuse_bad_arguments():
    t = mg.zeros(2, 3)
    with pytest.raises(ValueError, match="pad"):
        mg.nn.functional.pad(t, (1, 2, 3))
    with pytest.raises(NotImplementedError, match="mode"):
        mg.nn.functional.pad(t, (1, 1), mode="mirror")
    with pytest.raises(ValueError, match="reflect"):
        mg.nn.functional.pad(t, (3, 0), mode="reflect")
    with pytest.raises(RuntimeError, match="reduce"):
        t.scatter_reduce(0, mg.tensor([[0]]), t, "max")
    with pytest.raises(RuntimeError, match="unflatten"):
        t.unflatten(1, (2, 2))


LINEAR_ALGEBRA_OPS = [
    ("einsum_matmul", lambda t, u: _lib(t).einsum("ij,kj->ik", t[0], u[0, :, :4])),
    ("einsum_batched", lambda t, u: _lib(t).einsum("bij,bkj->bik", t, u[:2, :, :4])),
    ("einsum_trace", lambda t, u: _lib(t).einsum("ii", t[0, :, :3]) + 0 * u.sum()),
    ("einsum_diagonal", lambda t, u: _lib(t).einsum("bii->bi", t[:, :, :3]) + 0 * u.sum()),
    ("einsum_sum_out", lambda t, u: _lib(t).einsum("ijk->j", t) + 0 * u.sum()),
    ("einsum_outer_three", lambda t, u: _lib(t).einsum("i,j,k->ijk", t[0, 0], u[0, 0], t[1, 1])),
    ("einsum_implicit", lambda t, u: _lib(t).einsum("ji,jk", t[0], u[0, :3])),
    ("einsum_ellipsis", lambda t, u: _lib(t).einsum("...j,kj->...k", t, u[0, :, :4])),
    ("einsum_ellipsis_broadcast", lambda t, u: _lib(t).einsum("...ij,...kj->...ik", t,
                                                              u[:1, :, :4])),
    ("einsum_list", lambda t, u: _lib(t).einsum("ij,ij->", [t[0], u[0, :, :4]])),
    ("tensordot_int", lambda t, u: _lib(t).tensordot(t, u[0, :, :4], 2)),
    ("tensordot_lists", lambda t, u: _lib(t).tensordot(t, u[:, :2], ([0, 1], [1, 0]))),
    ("kron", lambda t, u: _lib(t).kron(t[0], u[0])),
    ("kron_different_dims", lambda t, u: t[0, 0].kron(u)),
    ("cross", lambda t, u: _lib(t).cross(t[:, :, :3], u[:2, :, :3], dim=-1)),
    ("cross_broadcast", lambda t, u: t[0].cross(u[0, :, :1], dim=0)),
    ("cdist", lambda t, u: _lib(t).cdist(t, u[:2, :, :4])),
    ("cdist_p1", lambda t, u: _lib(t).cdist(t[0], u[0, :, :4], p=1.0)),
    ("normalize", lambda t, u: _F(t).normalize(t) + 0 * u.sum()),
    ("normalize_p1_last", lambda t, u: _F(t).normalize(t, p=1, dim=-1) + 0 * u.sum()),
    ("cosine_similarity", lambda t, u: _F(t).cosine_similarity(t, u[:2, :, :4])),
    ("cosine_similarity_dim", lambda t, u: _F(t).cosine_similarity(t, u[0, :, :4], dim=-1)),
    ("pairwise_distance", lambda t, u: _F(t).pairwise_distance(t[0], u[0, :, :4])),
    ("pairwise_distance_p1_keepdim",
     lambda t, u: _F(t).pairwise_distance(t, u[0, :, :4], p=1, keepdim=True)),
]


@pytest.mark.parametrize("name, fn", LINEAR_ALGEBRA_OPS, ids=[s[0] for s in LINEAR_ALGEBRA_OPS])
def test_einsum_and_products_and_distances_match_torch(name, fn):
    rng = np.random.default_rng(13)
    assert_same_as_torch(fn, fn, rng.uniform(-1, 1, size=(2, 3, 4)),
                         rng.uniform(-1, 1, size=(3, 3, 5)))


def test_cosine_similarity_of_a_zero_vector_matches_torch():
    x, y = np.zeros((2, 3)), np.array([[1.0, 2.0, 2.0], [0.0, 0.0, 0.0]])
    def cosine(a, b):
        return _F(a).cosine_similarity(a + 0 * b, b)

    def normalized(a, b):
        return _F(a).normalize(a * b)

    assert_same_as_torch(cosine, cosine, x, y)
    assert_same_as_torch(normalized, normalized, x, y)


def test_einsum_refuses_subscripts_that_do_not_fit():
    with pytest.raises(RuntimeError, match="einsum"):
        mg.einsum("ij,jk->ik", mg.zeros(2, 3), mg.zeros(4, 5))
    with pytest.raises(RuntimeError, match="einsum"):
        mg.einsum("ijk->i", mg.zeros(2, 3))
    with pytest.raises(RuntimeError, match="einsum"):
        mg.einsum("ij,jk->ik", mg.zeros(2, 3))


SELECTION_AND_ATTENTION = [
    ("kthvalue", lambda t, u: t.kthvalue(2).values * 1.0),
    ("kthvalue_dim_keepdim", lambda t, u: _lib(t).kthvalue(t, 3, 1, keepdim=True)[0]),
    ("kthvalue_indices", lambda t, u: t.kthvalue(1, dim=0).indices),
    ("mode_values", lambda t, u: _lib(t).cat([t, t[..., 1:2]], -1).mode().values),
    ("mode_dim_keepdim", lambda t, u: _lib(t).cat([t[:1], t], 0).mode(0, keepdim=True)[0]),
    ("mode_indices", lambda t, u: _lib(t).cat([t, t[..., 1:2]], -1).mode(-1).indices),
    ("attention", lambda t, u: _F(t).scaled_dot_product_attention(t, u[:2, :, :4], u[:2, :, 2:])),
    ("attention_causal_scale", lambda t, u: _F(t).scaled_dot_product_attention(
        t, u[:2, :, :4], u[:2], is_causal=True, scale=0.7)),
    ("attention_bool_mask", lambda t, u: _F(t).scaled_dot_product_attention(
        t, u[:2, :, :4], u[:2], attn_mask=_lib(t).tensor([[True, False, True], [True] * 3,
                                                           [False, False, True]]))),
    ("attention_float_mask", lambda t, u: _F(t).scaled_dot_product_attention(
        t[0], u[0, :, :4], u[0], attn_mask=u[1, :, :3])),
]


@pytest.mark.parametrize("name, fn", SELECTION_AND_ATTENTION,
                         ids=[s[0] for s in SELECTION_AND_ATTENTION])
def test_kthvalue_mode_and_attention_match_torch(name, fn):
    rng = np.random.default_rng(14)
    t, u = rng.uniform(-1, 1, size=(2, 3, 4)), rng.uniform(-1, 1, size=(3, 3, 5))
    if "mode" in name or "kthvalue" in name:
        assert_same_as_torch(lambda a: fn(a, None), lambda a: fn(a, None), t)
    else:
        assert_same_as_torch(fn, fn, t, u)


def test_mode_and_unique_match_torch_with_ties():
    x = np.array([[1, 2, 2, 3, 3, 0], [5, 5, 4, 4, 5, 1], [7, 6, 6, 7, 9, 9]])
    for dim in (0, 1):
        ours, theirs = mg.tensor(x).mode(dim), torch.tensor(x).mode(dim)
        np.testing.assert_array_equal(ours.values.array, theirs.values.numpy())
        np.testing.assert_array_equal(ours.indices.array, theirs.indices.numpy())
    for kwargs in ({}, {"return_inverse": True, "return_counts": True},
                   {"return_counts": True}, {"dim": 1, "return_inverse": True},
                   {"dim": 0, "return_counts": True}):
        ours, theirs = mg.unique(mg.tensor(x), **kwargs), torch.unique(torch.tensor(x), **kwargs)
        ours = ours if isinstance(ours, tuple) else (ours,)
        theirs = theirs if isinstance(theirs, tuple) else (theirs,)
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            assert a.dtype == np.dtype(str(b.dtype).removeprefix("torch."))
            np.testing.assert_array_equal(a.array, b.numpy())


def test_kthvalue_refuses_k_out_of_range():
    with pytest.raises(IndexError, match="kthvalue"):
        mg.zeros(2, 3).kthvalue(4)
    with pytest.raises(IndexError, match="kthvalue"):
        mg.zeros(2, 3).kthvalue(0)


_MASK4 = np.array([True, False, True, True])
# keys with an int and an advanced index, where PyTorch's rule differs from NumPy's or not
INDEX_KEYS = [
    (0, slice(None), [0, 1]), (slice(None), [0, 1], slice(None), 0), ([0, 1], slice(None), 0),
    (0, [0, 1], [1, 2]), ([0, 1], None, [1, 2]), (0, None, [1, 2]), (Ellipsis, 0, [0, 1]),
    (0, Ellipsis, [0, 1]), ([[0], [1]], 0, slice(None), [0, 1, 2]), (0, slice(None), _MASK4),
    (-1, slice(1, 3), [0, 0], slice(None)), (slice(None), [1, 0], slice(None), -2),
    (1, [[0, 1]], slice(None), [[1], [2]]), (0, [0, 2], None, -1), ("0-d", slice(None), [3, 1]),
]


def _key(key, lib):
    return tuple(lib.tensor(k) if isinstance(k, np.ndarray) else lib.tensor(0)
                 if isinstance(k, str) else k for k in key)


@pytest.mark.parametrize("key", INDEX_KEYS, ids=[str(k) for k in INDEX_KEYS])
def test_advanced_indexing_follows_torch(key):
    x = np.random.default_rng(15).uniform(-1, 1, size=(2, 3, 4, 5))
    assert_same_as_torch(lambda t: t[_key(key, _lib(t))], lambda t: t[_key(key, _lib(t))], x)


@pytest.mark.parametrize("key", INDEX_KEYS, ids=[str(k) for k in INDEX_KEYS])
def test_advanced_index_assignment_follows_torch(key):
    x = np.random.default_rng(16).uniform(-1, 1, size=(2, 3, 4, 5))
    shape = tuple(torch.tensor(x)[_key(key, torch)].shape)
    v = np.arange(float(np.prod(shape))).reshape(shape)

    def assign(t, value):
        out = t * 1.0  # not a leaf: the assignment is recorded
        out[_key(key, _lib(t))] = value
        return out

    assert_same_as_torch(assign, assign, x, v)
    # without recording, and a value that broadcasts
    ours, theirs = mg.tensor(x), torch.tensor(x)
    ours[_key(key, mg)], theirs[_key(key, torch)] = 7.0, 7.0
    np.testing.assert_array_equal(ours.array, theirs.numpy())


def test_an_int_index_out_of_range_next_to_an_index_array_is_refused():
    with pytest.raises(IndexError, match="out of bounds"):
        mg.zeros(2, 3, 4)[2, :, [0, 1]]


@pytest.mark.parametrize("dim, size, step", [(1, 3, 2), (1, 7, 1), (0, 1, 1), (2, 2, 1),
                                             (-2, 2, 3), (1, 0, 1)])
def test_tensor_unfold_matches_torch(dim, size, step):
    a = np.random.default_rng(0).standard_normal((3, 7, 2))
    x, tx = mg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, ty = x.unfold(dim, size, step), tx.unfold(dim, size, step)
    assert tuple(y.shape) == tuple(ty.shape)
    np.testing.assert_allclose(y.array, ty.detach().numpy())
    weights = np.random.default_rng(1).standard_normal(tuple(ty.shape))
    (y * mg.tensor(weights)).sum().backward()
    (ty * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(x.grad.array, tx.grad.numpy())  # overlaps add up
    with pytest.raises(RuntimeError, match="unfold"):
        x.unfold(1, 8, 1)
    with pytest.raises(RuntimeError, match="step > 0"):
        x.unfold(1, 2, 0)
