"""The backward walk: accumulation, graph freeing, grad modes, higher order, deep graphs."""

import gc
import weakref

import numpy as np
import pytest

import minigrad as mg


def f64(values, requires_grad=True):
    return mg.tensor(values, dtype=mg.float64, requires_grad=requires_grad)


def test_diamond_graph_accumulates_both_paths():
    # x feeds a and b, which meet again in y: dy/dx = d(2x·3x)/dx = 12x
    x = f64(2.0)
    a, b = x * 2, x * 3
    y = a * b
    y.backward()
    assert x.grad.item() == pytest.approx(24.0)


def test_same_tensor_used_twice_in_one_op():
    x = f64([1.0, -2.0])
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.array, [2.0, -4.0])
    y = f64(3.0)
    (y + y + y).backward()
    assert y.grad.item() == 3.0


def test_leaves_accumulate_across_backward_calls():
    x = f64([1.0, 2.0])
    (x * 3).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.array, [6.0, 6.0])


def test_accumulation_does_not_alias_shared_gradients():
    # Add passes one gradient array to both inputs; each leaf must own its .grad.
    a, b = f64([1.0]), f64([2.0])
    (a + b).sum().backward()
    a.grad.array += 100
    assert b.grad.item() == 1.0
    (a + b).sum().backward()
    assert a.grad.item() == 102.0 and b.grad.item() == 2.0


def test_non_leaves_keep_no_grad_unless_retained():
    x = f64([1.0, 2.0])
    h = x * 2
    k = h * 3
    k.retain_grad()
    k.sum().backward()
    assert h.grad is None
    np.testing.assert_allclose(k.grad.array, [1.0, 1.0])
    assert not h.is_leaf and x.is_leaf and k.retains_grad


def test_constants_do_not_get_gradients():
    x = f64([1.0, 2.0])
    c = f64([5.0, 5.0], requires_grad=False)
    (x * c).sum().backward()
    assert c.grad is None
    np.testing.assert_allclose(x.grad.array, [5.0, 5.0])


def test_broadcast_gradient_is_reduced_to_the_input_shape():
    x = f64(np.ones((3, 1)))
    b = f64(np.ones(4))
    s = f64(2.0)
    y = x * b * s  # (3, 4)
    y.sum().backward()
    assert x.grad.shape == (3, 1) and b.grad.shape == (4,) and s.grad.shape == ()
    np.testing.assert_allclose(x.grad.array, np.full((3, 1), 8.0))
    np.testing.assert_allclose(b.grad.array, np.full(4, 6.0))
    assert s.grad.item() == 12.0


def test_deep_chain_of_100000_ops_has_no_recursion_limit():
    x = f64(1.0)
    y = x
    for _ in range(100_000):
        y = y * 1.0 + 0.0
    y.backward()
    assert x.grad.item() == 1.0


def test_second_backward_through_freed_graph_raises_clearly():
    x = f64([1.0, 2.0])
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = f64([1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.array.copy()
    y.backward()
    np.testing.assert_allclose(x.grad.array, 2 * first)


def test_graph_is_freed_after_backward():
    x = f64(np.ones(1000))
    h = x.exp()
    ref = weakref.ref(h)
    y = (h * 2).sum()
    del h
    y.backward()
    gc.collect()
    assert ref() is None, "an intermediate tensor survived backward"
    assert y.grad_fn.recorded_inputs is None


def test_non_scalar_backward_needs_gradient():
    x = f64([1.0, 2.0])
    y = x * 2
    with pytest.raises(RuntimeError, match=r"shape \(2,\).*gradient="):
        y.backward()
    y.backward(gradient=mg.tensor([1.0, 10.0], dtype=mg.float64))
    np.testing.assert_allclose(x.grad.array, [2.0, 20.0])


def test_backward_gradient_of_wrong_shape_names_both_shapes():
    y = f64([1.0, 2.0]) * 2
    with pytest.raises(RuntimeError, match=r"\(3,\).*\(2,\)"):
        y.backward(gradient=np.ones(3))


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        mg.tensor([1.0]).sum().backward()


def test_no_grad_records_nothing_and_restores_mode():
    x = f64([1.0])
    with mg.no_grad():
        assert not mg.is_grad_enabled()
        y = x * 2
        with mg.enable_grad():
            z = x * 2
    assert mg.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad and z.grad_fn is not None


def test_no_grad_as_decorator_with_and_without_parentheses():
    x = f64([1.0])

    @mg.no_grad
    def f(t):
        return t * 2

    @mg.no_grad()
    def g(t):
        return t * 2

    assert not f(x).requires_grad and not g(x).requires_grad
    assert mg.is_grad_enabled()


def test_no_grad_restores_mode_after_an_exception():
    with pytest.raises(ValueError), mg.no_grad():
        raise ValueError
    assert mg.is_grad_enabled()


def test_set_grad_enabled():
    with mg.set_grad_enabled(False):
        assert not mg.is_grad_enabled()
    assert mg.is_grad_enabled()


def test_detach_shares_data_and_leaves_the_graph():
    x = f64([1.0, 2.0])
    d = (x * 2).detach()
    assert not d.requires_grad and d.is_leaf
    y = (x * 2)
    assert np.shares_memory(y.detach().array, y.array)


def test_create_graph_gives_differentiable_gradients():
    x = f64(3.0)
    y = x**3
    y.backward(create_graph=True)  # x.grad = 3x² = 27, itself a function of x
    g = x.grad
    assert g.item() == pytest.approx(27.0) and g.requires_grad
    x.grad = None
    g.backward()
    assert x.grad.item() == pytest.approx(18.0)  # d(3x²)/dx = 6x


def test_third_derivative():
    x = f64(2.0)
    (g1,) = mg.grad(x**4, x, create_graph=True)
    (g2,) = mg.grad(g1, x, create_graph=True)
    (g3,) = mg.grad(g2, x)
    assert (g1.item(), g2.item(), g3.item()) == pytest.approx((32.0, 48.0, 48.0))


def test_backward_without_create_graph_records_nothing():
    x = f64([1.0, 2.0])
    (x.sin() * x).sum().backward()
    assert x.grad.grad_fn is None and not x.grad.requires_grad


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(TypeError, match="floating-point.*int64"):
        mg.tensor([1, 2], requires_grad=True)
    with pytest.raises(TypeError, match="floating-point"):
        mg.arange(3).requires_grad_()


def test_gradient_dtype_follows_each_input_through_casts():
    x = mg.tensor([1.0, 2.0], requires_grad=True)  # float32
    w = f64([3.0, 4.0])
    (x.double() * w).sum().backward()
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float64
    np.testing.assert_allclose(x.grad.array, [3.0, 4.0])
    y = mg.tensor([1.0], requires_grad=True)
    (y * np.array([2.0])).sum().backward()  # a float64 array promotes the product
    assert y.grad.dtype == np.float32


def test_repeated_indices_accumulate_in_the_gradient():
    x = f64([10.0, 20.0, 30.0])
    x[[0, 0, 2, 0]].sum().backward()
    np.testing.assert_allclose(x.grad.array, [3.0, 0.0, 1.0])
    m = f64(np.zeros((2, 3)))
    (m[[1, 1], [2, 2]] * f64([1.0, 5.0], requires_grad=False)).sum().backward()
    np.testing.assert_allclose(m.grad.array, [[0, 0, 0], [0, 0, 6.0]])


def test_boolean_mask_gradient():
    x = f64([1.0, -2.0, 3.0])
    x[x > 0].sum().backward()
    np.testing.assert_allclose(x.grad.array, [1.0, 0.0, 1.0])


def test_max_gradient_on_ties_follows_pytorch():
    x = f64([1.0, 3.0, 3.0])
    x.max().backward()  # over everything: shared evenly
    np.testing.assert_allclose(x.grad.array, [0.0, 0.5, 0.5])
    y = f64([[3.0, 1.0, 3.0], [2.0, 2.0, 0.0]])
    y.max(1).values.sum().backward()  # along one dim: all to the first maximal element (argmax)
    np.testing.assert_allclose(y.grad.array, [[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    z = f64([[3.0, 1.0, 3.0], [2.0, 2.0, 0.0]])
    z.min(0).values.sum().backward()
    np.testing.assert_allclose(z.grad.array, [[0.0, 1.0, 0.0], [1.0, 0.0, 1.0]])
    w = f64([[3.0, 3.0], [1.0, 3.0]])
    w.max((0, 1)).backward()  # several dims: shared, as torch.amax
    np.testing.assert_allclose(w.grad.array, [[1 / 3, 1 / 3], [0.0, 1 / 3]])


def test_custom_function_with_non_tensor_argument():
    class Scale(mg.Function):
        @staticmethod
        def forward(ctx, x, factor):
            ctx.factor = factor
            return x * factor

        @staticmethod
        def backward(ctx, grad):
            return grad * ctx.factor  # None for ``factor`` may be left out

    x = f64([1.0, 2.0])
    y = Scale.apply(x, 3.0)
    assert y.grad_fn.name == "Scale" and "Scale" in repr(y)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.array, [3.0, 3.0])
    assert mg.gradcheck(lambda t: Scale.apply(t, 2.5), (f64([0.3, -1.2]),))


def test_custom_function_returning_too_many_gradients_is_an_error():
    class Bad(mg.Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad, grad

    with pytest.raises(RuntimeError, match="Bad returned 2 gradients for 1 inputs"):
        Bad.apply(f64([1.0])).sum().backward()


def test_custom_function_gradient_of_wrong_shape_is_an_error():
    class Bad(mg.Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, grad):
            return mg.ones(5, dtype=mg.float64)

    with pytest.raises(RuntimeError, match=r"Bad returned a gradient of shape \(5,\).*\(2,\)"):
        Bad.apply(f64([1.0, 2.0])).sum().backward()


def test_detect_anomaly_names_the_op_in_forward_and_backward():
    x = f64([0.0, 1.0])
    with mg.detect_anomaly(), np.errstate(divide="ignore"):
        with pytest.raises(FloatingPointError, match="forward of Log.*Inf"):
            x.log()
        y = x.sqrt().sum()  # finite forward, infinite gradient at 0
        with pytest.raises(FloatingPointError, match="backward of Sqrt"):
            y.backward()
    with np.errstate(divide="ignore"):
        assert not np.isfinite(x.log().array).all()  # outside: no check


def test_grad_fn_names_and_next_functions():
    x = f64([1.0])
    y = (x * 2).exp()
    assert y.grad_fn.name == "Exp"
    assert [(n.name, i) for n, i in y.grad_fn.next_functions] == [("Mul", 0)]  # PyTorch's pairs
    assert (x * 2).grad_fn.next_functions == ((None, 0), (None, 0))  # a leaf, a constant


def test_leaf_gradients_never_alias_each_other_or_the_seed():
    # A leaf may keep an array its op's backward made, but never one that someone else sees.
    class Twice(mg.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a + b

        @staticmethod
        def backward(ctx, grad):
            g = grad * 1.0  # a new array, given to both inputs
            return g, g

    a, b = f64([1.0, 2.0]), f64([3.0, 4.0])
    Twice.apply(a, b).sum().backward()
    assert not np.shares_memory(a.grad.array, b.grad.array)
    seed = np.array([1.0, 1.0])
    c = f64([1.0, 2.0])
    c.reshape(2).expand(2).backward(gradient=seed)  # passed through unchanged
    c.grad.array += 5
    np.testing.assert_array_equal(seed, [1.0, 1.0])
    w = f64([[1.0, 2.0]])
    (w * 3).sum(0).backward(gradient=mg.tensor([1.0, 1.0], dtype=mg.float64))
    w.grad.array *= 2  # gradient clipping scales .grad in place: nothing else may change
    np.testing.assert_allclose(w.grad.array, [[6.0, 6.0]])


def test_kept_gradients_accumulate_correctly():
    x = f64([1.0, 2.0])
    for _ in range(3):
        (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.array, 3 * 2 * x.array)


def test_accumulate_grad_adds_in_place_and_copies_unless_owned():
    leaf = mg.tensor([1.0, 2.0], requires_grad=True)
    first = mg.tensor([0.5, 0.5])
    leaf.accumulate_grad(first)  # not owned: the leaf keeps a copy
    assert leaf.grad is not first and not np.shares_memory(leaf.grad.array, first.array)
    kept = leaf.grad.array
    leaf.accumulate_grad(mg.tensor([1.0, 2.0]))
    assert leaf.grad.array is kept  # later gradients are added into the same array
    np.testing.assert_array_equal(leaf.grad.array, [1.5, 2.5])
    fresh = mg.tensor([3.0, 4.0], requires_grad=True)
    made = mg.tensor([1.0, 1.0])
    fresh.accumulate_grad(made, owned=True)
    assert fresh.grad is made  # owned: kept as it is, no copy
