"""Custom Functions are PyTorch's (SPEC §10): ``forward(ctx, *args)`` on Tensors, unrecorded;
``save_for_backward``/``saved_tensors`` (checked for in-place changes);
``needs_input_grad``; several outputs with ``mark_non_differentiable`` and
``set_materialize_grads``. Each test runs under minigrad and, where it is installed, under
torch, and both must behave the same."""

import numpy as np
import pytest

import minigrad as mg

try:
    import torch
except ImportError:
    torch = None

LIBRARIES = [mg] + ([torch] if torch is not None else [])
both = pytest.mark.parametrize("L", LIBRARIES, ids=lambda L: L.__name__)


def f64(L, values, requires_grad=True):
    return L.tensor(values, dtype=L.float64, requires_grad=requires_grad)


def square_function(L):
    """x², saving x for its backward, as a Function of library ``L``."""

    class Square(L.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 2 * x * grad

    return Square


def exp_function(L):
    """eˣ, saving its output for its backward, as a Function of library ``L``."""

    class Exp(L.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            out = x.exp()
            ctx.save_for_backward(out)
            return out

        @staticmethod
        def backward(ctx, grad):
            (out,) = ctx.saved_tensors
            return grad * out

    return Exp


@both
def test_forward_gets_tensors_and_is_not_recorded(L):
    seen = {}

    class Clip(L.autograd.Function):
        @staticmethod
        def forward(ctx, x, low):
            seen["types"] = (type(x), type(low))
            seen["recording"] = L.is_grad_enabled()
            y = x * 2  # a Tensor op inside forward: not part of the graph
            seen["inner requires grad"] = y.requires_grad
            ctx.save_for_backward(x)
            ctx.low = low
            return x.clamp(min=low)

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * (x >= ctx.low), None

    x = f64(L, [-1.0, 0.5, 2.0])
    y = Clip.apply(x, 0.0)
    assert seen == {"types": (L.Tensor, float), "recording": False,
                    "inner requires grad": False}
    assert y.requires_grad and type(y.grad_fn).__name__.startswith("Clip")
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 1.0]
    assert L.is_grad_enabled()


@both
def test_needs_input_grad_per_argument(L):
    seen = []

    class Affine(L.autograd.Function):
        @staticmethod
        def forward(ctx, x, w, shift):
            ctx.save_for_backward(x, w)
            seen.append(ctx.needs_input_grad)
            return x * w + shift

        @staticmethod
        def backward(ctx, grad):
            x, w = ctx.saved_tensors
            seen.append(ctx.needs_input_grad)
            grad_x = grad * w if ctx.needs_input_grad[0] else None
            grad_w = grad * x if ctx.needs_input_grad[1] else None
            return grad_x, grad_w, None

    x = f64(L, [1.0, 2.0], requires_grad=False)
    w = f64(L, [3.0, 4.0])
    Affine.apply(x, w, 1.5).sum().backward()
    assert seen == [(False, True, False)] * 2
    assert w.grad.tolist() == [1.0, 2.0] and x.grad is None


@both
def test_a_saved_tensor_changed_in_place_is_refused(L):
    Square = square_function(L)
    x = f64(L, [1.0, 2.0])
    h = x * 1.0
    y = Square.apply(h)
    with L.no_grad():
        h.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


@both
def test_an_unsaved_input_may_change(L):
    class Double(L.autograd.Function):  # saves nothing: its backward needs no values
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    x = f64(L, [1.0, 2.0])
    h = x * 1.0
    y = Double.apply(h)
    with L.no_grad():
        h.add_(1.0)
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


@both
def test_saving_the_output(L):
    Exp = exp_function(L)
    x = f64(L, [0.0, 1.0])
    y = Exp.apply(x)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.tolist(), np.exp([0.0, 1.0]))
    y2 = Exp.apply(x)
    with L.no_grad():
        y2.mul_(2.0)  # the saved output changed
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y2.sum().backward()


@both
def test_returning_an_input_gives_a_new_output(L):
    class Identity(L.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad * 3  # not the identity's: shows that this backward ran

    x = f64(L, [1.0, 2.0])
    y = Identity.apply(x)
    assert y is not x and x.is_leaf and x.grad_fn is None and y.grad_fn is not None
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


class _TwoOutputs:
    """forward(x) = (2x, x²), and the gradients each output's backward received."""

    @staticmethod
    def make(L, materialize=True):
        received = []

        class TwoOutputs(L.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.set_materialize_grads(materialize)
                ctx.save_for_backward(x)
                return x * 2, x * x

            @staticmethod
            def backward(ctx, grad_double, grad_square):
                (x,) = ctx.saved_tensors
                received.append((None if grad_double is None else grad_double.tolist(),
                                 None if grad_square is None else grad_square.tolist()))
                total = 0
                if grad_double is not None:
                    total = total + 2 * grad_double
                if grad_square is not None:
                    total = total + 2 * x * grad_square
                return total

        return TwoOutputs, received


@both
def test_several_outputs_get_one_gradient_each(L):
    TwoOutputs, received = _TwoOutputs.make(L)
    x = f64(L, [1.0, 3.0])
    double, square = TwoOutputs.apply(x)
    assert double.grad_fn is square.grad_fn
    (double.sum() + 10 * square.sum() + double[0]).backward()
    assert received == [([2.0, 1.0], [10.0, 10.0])]  # summed over both uses of double
    assert x.grad.tolist() == [2 * 2 + 10 * 2 * 1, 2 * 1 + 10 * 2 * 3]


@both
def test_unused_outputs_get_zeros_or_none(L):
    for materialize, expected in ((True, [([1.0, 1.0], [0.0, 0.0])]),
                                  (False, [([1.0, 1.0], None)])):
        TwoOutputs, received = _TwoOutputs.make(L, materialize)
        x = f64(L, [1.0, 3.0])
        double, _ = TwoOutputs.apply(x)
        double.sum().backward()
        assert received == expected
        assert x.grad.tolist() == [2.0, 2.0]


@both
def test_non_differentiable_outputs(L):
    class SortWithIndices(L.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            values, indices = x.sort()
            mask = values > 0
            ctx.mark_non_differentiable(mask)
            ctx.save_for_backward(indices)
            return values, indices, mask

        @staticmethod
        def backward(ctx, grad_values, grad_indices, grad_mask):
            (indices,) = ctx.saved_tensors
            grad = L.zeros_like(grad_values)
            grad[indices] = grad_values
            return grad

    x = f64(L, [3.0, -1.0, 2.0])
    values, indices, mask = SortWithIndices.apply(x)
    assert values.requires_grad
    assert not indices.requires_grad and not mask.requires_grad  # int: never; mask: marked
    (values * L.tensor([1.0, 10.0, 100.0], dtype=L.float64)).sum().backward()
    assert x.grad.tolist() == [100.0, 1.0, 10.0]


@both
def test_a_function_applied_without_grad_records_nothing(L):
    Square = square_function(L)
    x = f64(L, [2.0])
    with L.no_grad():
        y = Square.apply(x)
    assert not y.requires_grad and y.grad_fn is None
    assert not Square.apply(f64(L, [2.0], requires_grad=False)).requires_grad


def test_a_custom_function_is_differentiable_twice():
    class Cube(mg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x * x

    x = f64(mg, [0.5, -1.5, 2.0])
    assert mg.gradcheck(Cube.apply, (x,)) and mg.gradgradcheck(Cube.apply, (x,))
    (g,) = mg.grad(Cube.apply(x).sum(), x, create_graph=True)
    (h,) = mg.grad(g.sum(), x)
    np.testing.assert_allclose(h.tolist(), [3.0, -9.0, 12.0])  # 6x


def test_the_built_in_ops_are_functions_of_the_same_kind():
    x = f64(mg, [1.0, 2.0])
    node = (x * x).grad_fn
    assert isinstance(node, mg.autograd.Function) and mg.autograd.Function is mg.Function
    assert len(node.saved_tensors) == 2 and node.saved_tensors[0] is x


def test_a_saved_output_makes_no_reference_cycle():
    """An op that saves its own output (exp, tanh, sigmoid... or a Function of one's own)
    holds it weakly: the output, and what it holds, are freed as soon as it is dropped, not
    when the garbage collector next runs."""
    import gc
    import weakref

    Exp = exp_function(mg)
    x = f64(mg, [0.5, 1.5])
    gc.disable()
    try:
        for make in (lambda: x.exp(), lambda: x.tanh(), lambda: Exp.apply(x)):
            y = make()
            node, array = weakref.ref(y.grad_fn), weakref.ref(y.array)
            del y
            assert node() is None and array() is None
    finally:
        gc.enable()
    y = Exp.apply(x) * 1.0  # alive through the graph: backward reads it
    y.sum().backward()
    np.testing.assert_allclose(x.grad.tolist(), np.exp([0.5, 1.5]))
