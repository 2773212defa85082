"""mg.grad, the functional helpers (jacobian, hessian, hvp, vjp) and the gradient checker."""

import numpy as np
import pytest

import minigrad as mg


def f64(values, requires_grad=True):
    return mg.tensor(values, dtype=mg.float64, requires_grad=requires_grad)


def rosenbrock(p):
    return (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2


def rosenbrock_hessian(x, y):
    return np.array([[2 - 400 * (y - x**2) + 800 * x**2, -400 * x], [-400 * x, 200.0]])


# -- mg.grad ------------------------------------------------------------------------------


def test_grad_returns_a_tuple_and_accumulates_nothing():
    x, y = f64([1.0, 2.0]), f64(3.0)
    out = (x * y).sum()
    gx, gy = mg.grad(out, (x, y))
    np.testing.assert_allclose(gx.array, [3.0, 3.0])
    assert gy.item() == 3.0
    assert x.grad is None and y.grad is None


def test_grad_with_respect_to_a_non_leaf():
    x = f64([1.0, 2.0])
    h = x * 3
    (gh,) = mg.grad((h * h).sum(), h)
    np.testing.assert_allclose(gh.array, 2 * h.array)


def test_grad_of_several_outputs_with_grad_outputs():
    x = f64([1.0, 2.0])
    a, b = x * 2, x**2
    (g,) = mg.grad([a, b], x, grad_outputs=[f64([1.0, 1.0], False), f64([1.0, 0.5], False)])
    np.testing.assert_allclose(g.array, [2 + 2 * 1.0, 2 + 0.5 * 4.0])


def test_grad_unused_input():
    x, unused = f64([1.0]), f64([2.0])
    with pytest.raises(RuntimeError, match="input 1 .* not used.*allow_unused"):
        mg.grad((x * 2).sum(), (x, unused))
    gx, gu = mg.grad((x * 2).sum(), (x, unused), allow_unused=True)
    assert gx.item() == 2.0 and gu is None


def test_grad_frees_graph_unless_retained_and_create_graph_retains():
    x = f64([1.0])
    y = (x * x).sum()
    mg.grad(y, x, retain_graph=True)
    mg.grad(y, x)
    with pytest.raises(RuntimeError, match="second time"):
        mg.grad(y, x)
    z = (x**3).sum()
    (g,) = mg.grad(z, x, create_graph=True)
    mg.grad(z, x)  # create_graph implies retain_graph
    assert g.requires_grad


def test_gradient_penalty_through_create_graph():
    # d/dw of ‖∂(w·x²)/∂x‖² = d/dw (2wx)² = 8wx² at w=1.5, x=2 → 48
    w, x = f64(1.5), f64(2.0)
    (gx,) = mg.grad(w * x * x, x, create_graph=True)
    (gw,) = mg.grad(gx * gx, w)
    assert gw.item() == pytest.approx(48.0)


# -- functional helpers ------------------------------------------------------------------


def test_rosenbrock_hessian_matches_its_analytic_form():
    for point in ([0.5, -0.3], [1.0, 1.0], [-1.2, 1.0]):
        H = mg.autograd.hessian(rosenbrock, f64(point, requires_grad=False))
        np.testing.assert_allclose(H.array, rosenbrock_hessian(*point), rtol=1e-12)


def test_hvp_equals_hessian_times_v():
    p, v = np.array([-1.2, 1.0]), np.array([0.3, -2.0])
    out, hv = mg.autograd.hvp(rosenbrock, f64(p, False), f64(v, False))
    np.testing.assert_allclose(hv.array, rosenbrock_hessian(*p) @ v, rtol=1e-12)
    assert out.item() == pytest.approx((1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2)


def test_jacobian_of_elementwise_and_matrix_functions():
    a = np.array([[1.0, 2.0], [3.0, -1.0], [0.5, 0.0]])
    J = mg.autograd.jacobian(lambda x: f64(a, False) @ x, f64([1.0, 2.0], False))
    np.testing.assert_allclose(J.array, a)
    x = np.array([0.1, 0.7, -0.4])
    J = mg.autograd.jacobian(lambda t: t.tanh(), f64(x, False))
    np.testing.assert_allclose(J.array, np.diag(1 - np.tanh(x) ** 2))
    Ja, Jb = mg.autograd.jacobian(lambda u, w: u * w, (f64([1.0, 2.0]), f64([3.0, 4.0])))
    np.testing.assert_allclose(Ja.array, np.diag([3.0, 4.0]))
    np.testing.assert_allclose(Jb.array, np.diag([1.0, 2.0]))


def test_vjp():
    out, g = mg.autograd.vjp(lambda t: t * t, f64([1.0, 3.0], False), f64([1.0, 0.5], False))
    np.testing.assert_allclose(g.array, [2.0, 3.0])
    np.testing.assert_allclose(out.array, [1.0, 9.0])


def test_helpers_reject_non_scalar_functions():
    with pytest.raises(ValueError, match="hessian: func must return a scalar"):
        mg.autograd.hessian(lambda t: t * 2, f64([1.0, 2.0]))
    with pytest.raises(ValueError, match="hvp: v must match"):
        mg.autograd.hvp(rosenbrock, f64([1.0, 2.0]), f64([1.0]))


def test_functional_helpers_match_torch():
    torch = pytest.importorskip("torch")
    from torch.autograd import functional as F

    def f(t):  # the same code runs on minigrad and torch tensors
        return (t.sin() * t.exp()).sum() + t[0] * t[1] * t[2]

    f_mg = f_torch = f

    x, v = np.array([0.3, -0.8, 1.1]), np.array([1.0, -0.5, 2.0])
    tx, tv = torch.tensor(x), torch.tensor(v)
    np.testing.assert_allclose(mg.autograd.hessian(f_mg, f64(x)).array,
                               F.hessian(f_torch, tx).numpy(), rtol=1e-12)
    np.testing.assert_allclose(mg.autograd.hvp(f_mg, f64(x), f64(v))[1].array,
                               F.hvp(f_torch, tx, tv)[1].numpy(), rtol=1e-12)
    np.testing.assert_allclose(mg.autograd.jacobian(lambda t: t.softmax(0), f64(x)).array,
                               F.jacobian(lambda t: t.softmax(0), tx).numpy(), rtol=1e-12)


# -- gradcheck ---------------------------------------------------------------------------


class WrongExp(mg.Function):
    """exp with a deliberately wrong gradient (2·eˣ), to see gradcheck fail."""

    @staticmethod
    def forward(ctx, x):
        out = x.exp()
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out * 2


class FlatSquare(mg.Function):
    """x² whose backward uses plain arrays: right first derivative, but its own
    derivative is lost, so gradgradcheck must fail."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (2 * x.array)


def test_gradcheck_failure_names_input_element_and_values():
    x = f64([0.1, 0.2, 0.3])
    with pytest.raises(mg.GradcheckError) as info:
        mg.gradcheck(lambda a, b: a * WrongExp.apply(b), (f64([1.0, 1.0, 1.0]), x))
    message = str(info.value)
    assert "input 1" in message and "element (0,)" in message
    assert "analytic 2.2103" in message and "numerical 1.1051" in message
    assert not mg.gradcheck(WrongExp.apply, (x,), raise_exception=False)


def test_gradgradcheck_catches_a_non_differentiable_backward():
    x = f64([0.5, -1.5])
    assert mg.gradcheck(FlatSquare.apply, (x,))
    with pytest.raises(mg.GradcheckError):
        mg.gradgradcheck(FlatSquare.apply, (x,))


def test_gradcheck_requires_float64_and_some_input_requiring_grad():
    with pytest.raises(ValueError, match="input 0 has dtype float32.*float64"):
        mg.gradcheck(lambda t: t * 2, (mg.tensor([1.0], requires_grad=True),))
    with pytest.raises(ValueError, match="no input has requires_grad"):
        mg.gradcheck(lambda t: t * 2, (f64([1.0], False),))


def test_gradcheck_leaves_inputs_unchanged_and_handles_non_contiguous_inputs():
    base = np.arange(12.0).reshape(3, 4) / 10
    x = mg.tensor(base.T, requires_grad=True)  # a transposed, non-contiguous array
    before = x.array.copy()
    assert mg.gradcheck(lambda t: (t * t).sum(0), (x,))
    np.testing.assert_array_equal(x.array, before)


def test_gradcheck_report_errors_shrink_then_grow_with_eps():
    x = f64([0.3, -0.7, 1.2])

    def f(t):
        return (t.sin() * t.exp()).sum()

    reports = {eps: mg.gradcheck_report(f, (x,), eps=eps)[0] for eps in (1e-1, 1e-5, 1e-12)}
    assert reports[1e-5].max_abs_error < 1e-9
    assert reports[1e-1].max_abs_error > 1e-4  # truncation error O(eps²)
    assert reports[1e-12].max_abs_error > reports[1e-5].max_abs_error  # rounding O(δ/eps)
    assert reports[1e-5].input == 0 and reports[1e-5].shape == (3,)
    assert 0 <= reports[1e-5].max_rel_error < 1e-8


def test_gradcheck_with_multiple_outputs():
    a, b = f64([0.5, 1.5]), f64([2.0, -1.0])
    assert mg.gradcheck(lambda a, b: (a * b, a.exp() + b), (a, b))
