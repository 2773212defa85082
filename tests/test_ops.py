"""Every op in the catalogue: forward against NumPy, gradcheck and gradgradcheck in float64,
and broadcasting properties over random shapes."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from minigrad.catalogue.cases import CASES, CATALOGUE, make_inputs

IDS = [case.name for case in CATALOGUE]


def _tensors(arrays, requires_grad=True):
    return [mg.tensor(a, requires_grad=requires_grad) for a in arrays]


@pytest.mark.parametrize("name", IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_matches_numpy(name, dtype):
    case = CASES[name]
    arrays = make_inputs(case, dtype=dtype)
    out = case.fn(*_tensors(arrays, requires_grad=False))
    expected = np.asarray(case.ref(*arrays))
    assert out.shape == expected.shape
    assert out.dtype == dtype, f"{name} changed dtype {dtype} to {out.dtype}"
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out.array, expected, rtol=tol, atol=tol)


@pytest.mark.parametrize("name", IDS)
def test_gradcheck(name):
    case = CASES[name]
    assert mg.gradcheck(case.fn, _tensors(make_inputs(case, seed=1)))


@pytest.mark.parametrize("name", [c.name for c in CATALOGUE if c.second_order])
def test_gradgradcheck(name):
    case = CASES[name]
    assert mg.gradgradcheck(case.fn, _tensors(make_inputs(case, seed=2)))


@pytest.mark.parametrize("name", IDS)
def test_gradient_shapes_and_dtypes_match_inputs(name):
    case = CASES[name]
    inputs = _tensors(make_inputs(case, dtype=np.float32))
    case.fn(*inputs).sum().backward()
    for t in inputs:
        assert t.grad is not None and t.grad.shape == t.shape and t.grad.dtype == np.float32


# -- broadcasting properties over random shapes ------------------------------------------

BINARY = [c for c in CATALOGUE if c.broadcastable]


@st.composite
def broadcast_pair(draw):
    """Two shapes that broadcast together: a result shape, each side dropping leading dims
    and setting some dims to 1."""
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=4))
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, base_shape=shape,
                                                    max_side=4))
    return shapes.input_shapes


@settings(max_examples=40, deadline=None)
@given(shapes=broadcast_pair(), which=st.sampled_from([c.name for c in BINARY]),
       seed=st.integers(0, 2**16))
def test_binary_ops_broadcast_like_numpy(shapes, which, seed):
    case = CASES[which]
    generator = np.random.default_rng(seed)
    arrays = [generator.uniform(max(case.low, 0.5) if which in ("div", "pow") else case.low,
                                case.high, size=s) for s in shapes]
    a, b = _tensors(arrays)
    out = case.fn(a, b)
    np.testing.assert_allclose(out.array, case.ref(*arrays), rtol=1e-12)
    # The gradient of sum(out) reduces back to each input's own shape; for add it is the
    # number of times each input element was broadcast.
    out.sum().backward()
    assert a.grad.shape == a.shape and b.grad.shape == b.shape
    if which == "add":
        np.testing.assert_allclose(a.grad.array, np.full(a.shape, out.array.size / a.array.size))
        np.testing.assert_allclose(b.grad.array, np.full(b.shape, out.array.size / b.array.size))


@settings(max_examples=25, deadline=None)
@given(shapes=broadcast_pair(), seed=st.integers(0, 2**16))
def test_broadcast_gradcheck_mul(shapes, seed):
    generator = np.random.default_rng(seed)
    a, b = _tensors([generator.standard_normal(s) for s in shapes])
    assert mg.gradcheck(lambda a, b: a * b + a, (a, b))


@settings(max_examples=30, deadline=None)
@given(array=hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=4),
                        elements=st.floats(-50, 50)),
       data=st.data())
def test_reductions_over_random_dims(array, data):
    dims = data.draw(st.lists(st.integers(0, array.ndim - 1), unique=True, min_size=1))
    keepdim = data.draw(st.booleans())
    t = mg.tensor(array, requires_grad=True)
    axes = tuple(dims)
    np.testing.assert_allclose(t.sum(axes, keepdim).array, array.sum(axes, keepdims=keepdim))
    np.testing.assert_allclose(t.mean(axes, keepdim).array, array.mean(axes, keepdims=keepdim))
    np.testing.assert_allclose(t.max(axes, keepdim).array, array.max(axes, keepdims=keepdim))
    lse = t.logsumexp(axes, keepdim)
    m = array.max(axes, keepdims=True)
    expected = np.log(np.exp(array - m).sum(axes, keepdims=True)) + m
    np.testing.assert_allclose(lse.array, expected if keepdim else np.squeeze(expected, axes),
                               rtol=1e-12)
    lse.sum().backward()
    # ∂ logsumexp / ∂x is the softmax over the reduced dims: it sums to 1 over them.
    np.testing.assert_allclose(t.grad.array.sum(axes), np.ones_like(array.sum(axes)), rtol=1e-9)


@settings(max_examples=30, deadline=None)
@given(array=hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=5),
                        elements=st.floats(-1e3, 1e3)),
       data=st.data())
def test_softmax_is_a_distribution_even_for_large_inputs(array, data):
    dim = data.draw(st.integers(-array.ndim, array.ndim - 1))
    s = mg.tensor(array).softmax(dim)
    assert np.isfinite(s.array).all()
    np.testing.assert_allclose(s.array.sum(dim), 1.0, rtol=1e-12)
    log_s = mg.tensor(array).log_softmax(dim)
    assert np.isfinite(log_s.array).all()
    np.testing.assert_allclose(np.exp(log_s.array), s.array, atol=1e-12)


def test_stable_ops_with_huge_inputs():
    x = mg.tensor([[1000.0, -1000.0, 0.0]], requires_grad=True)
    for op in (lambda t: t.logsumexp(1), lambda t: t.log_softmax(1).sum(),
               lambda t: t.softmax(1)[0, 0], lambda t: t.sigmoid().sum()):
        x.grad = None
        out = op(x)
        out.backward()
        assert np.isfinite(out.array).all() and np.isfinite(x.grad.array).all()
    assert mg.tensor([1000.0]).logsumexp().item() == pytest.approx(1000.0)
    np.testing.assert_allclose(mg.tensor([-1000.0, 1000.0]).sigmoid().array, [0.0, 1.0])


def test_erf_is_accurate_to_double_precision():
    import math

    x = np.linspace(-7, 7, 20001)
    expected = np.array([math.erf(v) for v in x])
    np.testing.assert_allclose(mg.tensor(x).erf().array, expected, rtol=0, atol=1e-15)
    tiny = np.array([1e-300, -1e-20, 1e-8])
    np.testing.assert_allclose(mg.tensor(tiny).erf().array,
                               [math.erf(v) for v in tiny], rtol=1e-14)


# -- clear errors of the op set's ops (SPEC §10; their values are checked against torch
#    in test_op_set.py) ---------------------------------------------------------------


def test_bitwise_operators_refuse_floats_and_div_an_unknown_rounding_mode():
    x = mg.tensor([1.0, 2.0])
    for fn in (lambda: x & x, lambda: x | 1, lambda: 1 ^ x, lambda: ~x, lambda: x << 1):
        with pytest.raises(TypeError, match="only integer and boolean tensors"):
            fn()
    with pytest.raises(ValueError, match="rounding_mode"):
        x.div(x, rounding_mode="round")


def test_prelu_refuses_a_weight_that_does_not_fit():
    with pytest.raises(RuntimeError, match=r"expected 1 or 3 slopes"):
        mg.nn.functional.prelu(mg.zeros(2, 3), mg.ones(2))
    with pytest.raises(RuntimeError, match=r"expected 1 or 1 slopes"):  # 1-D: one channel
        mg.nn.functional.prelu(mg.zeros(5), mg.ones(5))


def test_glu_refuses_an_odd_dim():
    with pytest.raises(RuntimeError, match="Halving dimension must be even"):
        mg.nn.functional.glu(mg.zeros(2, 3))


def test_shape_ops_refuse_bad_arguments_clearly():
    x = mg.zeros(2, 3)
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        mg.zeros(3).tril()
    with pytest.raises(RuntimeError, match="smaller than the number of dims"):
        x.repeat(2)
    with pytest.raises(IndexError, match="exceeds dimension size"):
        x.narrow(1, 2, 2)
    with pytest.raises(IndexError, match="out of bounds"):
        x.gather(1, mg.tensor([[0, 3]]))
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        x.gather(1, mg.tensor([0, 1]))
    with pytest.raises(RuntimeError, match="Expected dtype int64"):
        x.index_select(0, mg.tensor([0.0]))
    with pytest.raises(RuntimeError, match="boolean masks"):
        x.masked_fill(mg.tensor([1, 0, 1]), 0.0)
    with pytest.raises(RuntimeError, match="repeats a dimension"):
        x.rot90(1, (0, 0))
    with pytest.raises(RuntimeError, match="two different dims"):
        x.rot90(1, (0,))


def test_erfc_is_accurate_also_where_it_is_tiny():
    import math

    x = np.linspace(-6, 26, 8001)  # erfc(26) ≈ 6e-296: 1 - erf would be 0
    expected = np.array([math.erfc(v) for v in x])
    np.testing.assert_allclose(mg.tensor(x).erfc().array, expected, rtol=1e-12, atol=0)
