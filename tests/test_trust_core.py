"""SPEC §9, the core: in-place changes tracked by version counters, ``t[key] = v`` with
gradients, NaN through max/min, integer widths, sizes that must be integers, 0-d and empty
tensors. Each behaviour is compared with PyTorch where it is installed."""

import numpy as np
import pytest

import minigrad as mg

MODIFIED = "modified by an inplace operation"


def f64(values, requires_grad=True):
    return mg.tensor(values, dtype=mg.float64, requires_grad=requires_grad)


def torch_or_skip():
    return pytest.importorskip("torch")


# -- the version counter ------------------------------------------------------------------


def test_every_in_place_change_bumps_the_version_shared_by_views_and_detach():
    torch = torch_or_skip()
    t, t_torch = mg.zeros(2, 3), torch.zeros(2, 3)
    all_views = []
    for x in (t, t_torch):
        assert x._version == 0
        views = [x.reshape(6), x[0], x.transpose(0, 1), x.permute(1, 0), x.detach(),
                 x.view(3, 2), x.T]
        x += 1
        x -= 1
        x *= 2
        x /= 2
        x[0, 1] = 5.0
        views[0] += 1  # through a view: the same memory, the same counter
        views[4] += 1  # through detach()
        all_views.append(views)
    assert t.version == t_torch._version == 7
    assert [v.version for v in all_views[0]] == [v._version for v in all_views[1]]


def test_writes_through_the_array_are_not_tracked():
    x = f64([1.0, 2.0])
    y = x + 1  # Add saves nothing: a later change of x cannot make its gradient wrong
    x.array += 1
    y.sum().backward()
    np.testing.assert_allclose(x.grad.array, [1.0, 1.0])
    assert x.version == 0


def test_bump_version_counts_a_change_made_by_writing_the_array():
    w = f64([1.0, 2.0])
    loss = (w * w * w).sum()
    w.array -= 0.1  # what an optimizer step does to the arrays...
    w.bump_version()  # ...and what it must say
    assert w.version == 1
    with pytest.raises(RuntimeError, match=MODIFIED + r".*version 1; expected version 0"):
        loss.backward()


def test_optimizer_step_between_forward_and_backward_raises():
    torch = torch_or_skip()
    w_torch = torch.tensor([1.0, 2.0], requires_grad=True)
    loss_torch = (w_torch * w_torch * w_torch).sum()
    with torch.no_grad():
        w_torch -= 0.1
    with pytest.raises(RuntimeError, match=MODIFIED):
        loss_torch.backward()
    w = f64([1.0, 2.0])
    w.grad = mg.zeros_like(w)
    loss = (w * w * w).sum()
    opt = mg.optim.SGD([w], lr=0.1)
    before = w.version
    opt.step()
    if w.version == before:
        pytest.skip("needs the optimizer to bump versions")
    with pytest.raises(RuntimeError, match=MODIFIED):
        loss.backward()


def test_a_saved_output_changed_under_no_grad_raises_naming_the_op():
    torch = torch_or_skip()
    for lib, make in ((torch, lambda v: torch.tensor(v, requires_grad=True)), (mg, f64)):
        x = make([1.0, 2.0])
        y = x * 2
        z = (y * y).sum()
        with lib.no_grad():
            y += 10
        with pytest.raises(RuntimeError, match=MODIFIED + ".*output 0 of Mul.*version 1; "
                                                           "expected version 0"):
            z.backward()


def test_a_saved_output_changed_in_the_graph_raises():
    torch = torch_or_skip()
    for make in (lambda v: torch.tensor(v, requires_grad=True), f64):
        x = make([1.0, 2.0])
        y = x.exp()
        y *= 0
        with pytest.raises(RuntimeError, match=MODIFIED + ".*output 0 of Exp"):
            y.sum().backward()


def test_ops_that_save_no_values_do_not_mind_a_later_change():
    torch = torch_or_skip()
    results = []
    for lib, make in ((torch, lambda v: torch.tensor(v, requires_grad=True)), (mg, f64)):
        x = make([1.0, 2.0])
        y = x * 2
        s = y.sum() + y.reshape(2, 1).sum() + y[0] + y.softmax(0)[1]
        with lib.no_grad():
            y += 10
        s.backward()
        results.append(np.asarray(x.grad.tolist()))
    np.testing.assert_allclose(results[1], results[0])


# -- in-place ops and t[key] = v ------------------------------------------------------------


def test_in_place_on_a_leaf_that_requires_grad_refuses_and_changes_nothing():
    torch = torch_or_skip()
    for make in (lambda v: torch.tensor(v, requires_grad=True), f64):
        w = make([1.0, 2.0])
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
            w += 1
        with pytest.raises(RuntimeError, match="view of a leaf Variable that requires grad"):
            w[0] = 3.0
        assert w.tolist() == [1.0, 2.0]


def test_in_place_op_on_a_non_leaf_becomes_its_history():
    torch = torch_or_skip()
    grads = []
    for make in (lambda v: torch.tensor(v, requires_grad=True, dtype=torch.float64), f64):
        x, w = make([1.0, 2.0]), make([3.0, 4.0])
        y = x * 2
        y *= w  # the gradient of w needs y as it was: kept
        y += x
        y /= w
        y -= 1
        assert y.grad_fn is not None and not y.is_leaf
        (y * y).sum().backward()
        grads.append((x.grad.tolist(), w.grad.tolist()))
    np.testing.assert_allclose(grads[1], grads[0])


def test_setitem_writes_in_place_with_gradients_to_value_and_untouched_old_values():
    torch = torch_or_skip()
    grads = []
    for make in (lambda v: torch.tensor(v, requires_grad=True, dtype=torch.float64), f64):
        x, v = make([1.0, 2.0, 3.0, 4.0]), make([5.0])
        y = x * 1
        y[1:3] = v  # broadcast into two places: v's gradient is summed
        y[[0]] = v * 2
        assert y.grad_fn is not None and y.tolist() == [10.0, 5.0, 5.0, 4.0]
        (y * make([1.0, 2.0, 3.0, 4.0]).detach()).sum().backward()
        grads.append((x.grad.tolist(), v.grad.tolist()))
    for mine, pytorchs in zip(grads[1], grads[0], strict=True):
        np.testing.assert_allclose(mine, pytorchs)
    assert grads[1] == ([0.0, 0.0, 0.0, 4.0], [7.0])


def test_setitem_add_in_place_on_a_plain_tensor_and_in_the_graph():
    torch = torch_or_skip()
    t = mg.zeros(4)
    t[1:3] += 5
    assert t.tolist() == [0.0, 5.0, 5.0, 0.0]
    repeated, repeated_torch = mg.zeros(4), torch.zeros(4)
    repeated[[1, 1]] += mg.tensor([1.0, 2.0])
    repeated_torch[[1, 1]] += torch.tensor([1.0, 2.0])
    assert repeated.tolist() == repeated_torch.tolist()
    grads = []
    for make in (lambda v: torch.tensor(v, requires_grad=True, dtype=torch.float64), f64):
        x, v = make([1.0, 2.0, 3.0]), make([5.0])
        y = x * x
        y[1:2] += v * x[0]
        (y * make([1.0, 2.0, 3.0]).detach()).sum().backward()
        grads.append((x.grad.tolist(), v.grad.tolist()))
    for mine, pytorchs in zip(grads[1], grads[0], strict=True):
        np.testing.assert_allclose(mine, pytorchs)


@pytest.mark.parametrize("statement, error", [
    ("t[1:3] = mg.ones(3)", RuntimeError),  # a shape that does not fit
    ("t[1:3] += mg.ones(3)", RuntimeError),
    ("t[[1, 7]] = 1.0", IndexError),  # one index of two out of range
    ("t += mg.ones(2, 4)", RuntimeError),  # broadcasting would grow t
    ("i += 1.5", TypeError),  # int64 cannot hold the float result, as in PyTorch
    ("i /= 2", TypeError),
    ("t[0] = 'a'", TypeError),
    ("y[1:3] = mg.ones(3, requires_grad=True)", RuntimeError),  # refused in the graph too
    ("y += mg.ones(2, 4, requires_grad=True)", RuntimeError),
])
def test_refused_in_place_changes_leave_everything_as_it_was(statement, error):
    t = mg.tensor([1.0, 2.0, 3.0, 4.0])
    i = mg.tensor([1, 2, 3, 4])
    x = mg.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    y = x * 1
    node = y.grad_fn
    with pytest.raises(error):
        exec(statement)
    assert t.tolist() == [1.0, 2.0, 3.0, 4.0] and t.version == 0
    assert i.tolist() == [1, 2, 3, 4] and i.version == 0
    assert y.tolist() == [1.0, 2.0, 3.0, 4.0] and y.version == 0 and y.grad_fn is node


def test_setitem_casts_to_the_tensor_dtype_as_pytorch():
    torch = torch_or_skip()
    t, t_torch = mg.zeros(4, dtype=mg.int64), torch.zeros(4, dtype=torch.int64)
    t[1:3] = 1.7
    t_torch[1:3] = 1.7
    t[0] = mg.tensor(2.5)
    t_torch[0] = torch.tensor(2.5)
    assert t.tolist() == t_torch.tolist() == [2, 1, 1, 0]
    f = mg.zeros(2)
    f[0] = mg.tensor(1.5, dtype=mg.float64)
    assert f.dtype == mg.float32 and f.tolist() == [1.5, 0.0]


# -- NaN through max and min ------------------------------------------------------------------

NAN = float("nan")


def torch_and_mine(values):
    torch = torch_or_skip()
    return (torch.tensor(values, dtype=torch.float64, requires_grad=True), f64(values))


def same(mine, pytorchs):
    np.testing.assert_array_equal(np.asarray(mine.tolist()), np.asarray(pytorchs.tolist()))


@pytest.mark.parametrize("values", [[1.0, NAN, 3.0], [NAN, NAN, 3.0], [2.0, 2.0, 1.0]])
@pytest.mark.parametrize("reduce", ["max", "min"])
def test_nan_is_the_max_and_the_min_and_gets_the_gradient(values, reduce):
    x_torch, x = torch_and_mine(values)
    for over_all in (True, False):
        x_torch.grad, x.grad = None, None
        if over_all:
            y_torch, y = getattr(x_torch, reduce)(), getattr(x, reduce)()
        else:  # one dim: the first NaN (or first extreme) is picked, as argmax names it
            y_torch, y = getattr(x_torch, reduce)(0).values, getattr(x, reduce)(0).values
        same(y, y_torch)
        y_torch.backward()
        y.backward()
        same(x.grad, x_torch.grad)


def test_argmax_and_argmin_name_the_first_nan():
    torch = torch_or_skip()
    values = [[1.0, NAN, 3.0, NAN], [4.0, 2.0, 0.0, 1.0]]
    x, x_torch = mg.tensor(values), torch.tensor(values)
    for name in ("argmax", "argmin"):
        assert getattr(x, name)().tolist() == getattr(x_torch, name)().tolist()
        assert getattr(x, name)(1).tolist() == getattr(x_torch, name)(1).tolist()


@pytest.mark.parametrize("op", ["maximum", "minimum"])
def test_maximum_and_minimum_propagate_nan_and_send_it_the_gradient(op):
    torch = torch_or_skip()
    a_torch, a = torch_and_mine([1.0, NAN, 3.0, 2.0, NAN])
    b_torch, b = torch_and_mine([2.0, 2.0, NAN, 2.0, NAN])
    y_torch, y = getattr(torch, op)(a_torch, b_torch), getattr(mg, op)(a, b)
    same(y, y_torch)
    y_torch.sum().backward()
    y.sum().backward()
    same(a.grad, a_torch.grad)
    same(b.grad, b_torch.grad)


@pytest.mark.parametrize("fn", [lambda t: t.clamp(0.0, 2.0), lambda t: t.clamp(min=0.0),
                                lambda t: t.relu()])
def test_clamp_and_relu_with_nan_as_pytorch(fn):
    x_torch, x = torch_and_mine([1.0, NAN, 3.0, -1.0])
    same(fn(x), fn(x_torch))
    fn(x_torch).sum().backward()
    fn(x).sum().backward()
    same(x.grad, x_torch.grad)


# -- integer widths ---------------------------------------------------------------------------

INTEGER_CASES = ["i8 + 1", "u8 * 2", "i32 ** 2", "i16 - 1", "1 - u8", "i8 + True", "b + 1",
                 "i8 + 300", "u8 + (-1)", "2 ** i8", "i8 + 1.5", "i8 / 2", "b + 1.5",
                 "i8 + i32", "u8 + i8", "u8 + i16", "i32 + i64", "i8 + f", "u8 + d", "b + i8",
                 "(i8 * 2 - 1) ** 2"]


def integer_operands(lib):
    names = {"i8": "int8", "u8": "uint8", "i16": "int16", "i32": "int32", "i64": "int64",
             "f": "float32", "d": "float64"}
    env = {name: lib.tensor(np.array([1, 2]).astype(dtype).tolist(), dtype=getattr(lib, dtype))
           for name, dtype in names.items()}
    env["b"] = lib.tensor([True, False])
    return env


@pytest.mark.parametrize("expression", INTEGER_CASES)
def test_integer_dtypes_keep_their_width_as_pytorch(expression):
    torch = torch_or_skip()
    mine = eval(expression, integer_operands(mg))
    pytorchs = eval(expression, integer_operands(torch))
    assert str(mine.dtype) == str(pytorchs.dtype).removeprefix("torch.")
    assert mine.tolist() == pytorchs.tolist()


def test_in_place_integer_updates_keep_the_dtype_and_wrap_as_pytorch():
    torch = torch_or_skip()
    results = []
    for lib in (mg, torch):
        t = lib.tensor([1, 2], dtype=lib.int8)
        t += 300
        t *= 2
        results.append((str(t.dtype).removeprefix("torch."), t.tolist()))
    assert results[0] == results[1]


# -- sizes must be integers ---------------------------------------------------------------------


@pytest.mark.parametrize("call, error", [
    ("zeros(1.5)", TypeError), ("randn(2.5)", TypeError), ("ones((2, 1.5))", TypeError),
    ("zeros(2.0)", TypeError), ("zeros(True)", TypeError), ("rand(2, 'a')", TypeError),
    ("full((1.5,), 1.0)", TypeError), ("eye(2.5)", TypeError),
    ("zeros(-1)", RuntimeError), ("zeros(2, -3)", RuntimeError), ("eye(-1)", RuntimeError),
    ("arange(-1)", RuntimeError),
    ("ones(2).reshape(1.5)", TypeError), ("ones(2).expand(2.5)", TypeError),
])
def test_sizes_that_are_not_integers_are_errors_as_in_pytorch(call, error):
    torch = torch_or_skip()
    with pytest.raises(error):
        eval("torch." + call, {"torch": torch})
    with pytest.raises(error, match="size|shape|bound"):
        eval("mg." + call, {"mg": mg})


def test_sizes_may_be_numpy_integers_and_0d_integer_tensors():
    assert mg.zeros(np.int64(2), mg.tensor(3)).shape == (2, 3)
    assert mg.ones(2).reshape(-1).shape == (2,)


# -- 0-d and empty tensors ------------------------------------------------------------------------

ZERO_D_CASES = ["t.sum(0)", "t.sum(-1)", "t.sum((0,))", "t.mean(0)", "t.mean(0, keepdim=True)",
                "t.max(0)", "t.min(-1)", "t.max(0, keepdim=True)", "t.logsumexp(0)",
                "t.std(0)", "t.var(0)", "t.squeeze(0)", "t.squeeze(-1)", "t.softmax(0)",
                "t.log_softmax(-1)", "t.transpose(0, -1)"]


def values_of(result):
    """``max(dim)`` gives PyTorch (values, indices), minigrad the values (for now)."""
    values = getattr(result, "values", result)
    return result if callable(values) else values


@pytest.mark.filterwarnings("ignore:.*degrees of freedom:UserWarning")  # PyTorch's, on std
@pytest.mark.parametrize("expression", ZERO_D_CASES)
def test_0d_tensors_accept_dim_0_and_minus_1_as_pytorch(expression):
    torch = torch_or_skip()
    results = []
    for t in (torch.tensor(2.0, dtype=torch.float64, requires_grad=True), f64(2.0)):
        with np.errstate(invalid="ignore", divide="ignore"):
            out = values_of(eval(expression, {"t": t}))
            out.sum().backward()
        results.append((tuple(out.shape), out.tolist(), t.grad.tolist()))
    assert results[1][0] == results[0][0]
    np.testing.assert_allclose(results[1][1:], results[0][1:])  # NaN where PyTorch's is


EMPTY_CASES = ["L.tensor([]).logsumexp(0)", "L.zeros(0, 3).logsumexp(0)",
               "L.zeros(0, 3).max(1)", "L.zeros(0, 3).min(1)", "L.zeros(3, 0).max(0)",
               "L.zeros(0, 3).sum(0)", "L.zeros(0, 3).mean(0)", "L.zeros(0, 3).mean()",
               "L.zeros(0, 3).sum(1)", "L.zeros(0, 3).std(0)", "L.zeros(0, 3).argmax(1)",
               "L.zeros(0, 3).softmax(0)", "L.zeros(0, 3).log_softmax(0)"]


@pytest.mark.filterwarnings("ignore:.*degrees of freedom:UserWarning")
@pytest.mark.parametrize("expression", EMPTY_CASES)
def test_reductions_over_empty_dims_give_pytorchs_identities(expression):
    torch = torch_or_skip()
    with np.errstate(invalid="ignore", divide="ignore"):
        mine = values_of(eval(expression, {"L": mg}))
    pytorchs = values_of(eval(expression, {"L": torch}))
    assert tuple(mine.shape) == tuple(pytorchs.shape)
    assert str(mine.tolist()) == str(pytorchs.tolist())  # nan and -inf compare as text


@pytest.mark.parametrize("expression, error", [
    ("L.zeros(0, 3).max(0)", IndexError), ("L.zeros(3, 0).min(1)", IndexError),
    ("L.zeros(0, 3).max()", RuntimeError), ("L.zeros(0, 3).argmax(0)", IndexError),
    ("L.zeros(0, 3).argmax()", IndexError),
])
def test_reductions_with_no_identity_over_empty_dims_raise_as_pytorch(expression, error):
    torch = torch_or_skip()
    for lib in (torch, mg):
        with pytest.raises(error, match="Expected reduction dim"):
            eval(expression, {"L": lib})


def test_gradients_through_empty_reductions_have_the_input_shape():
    x = mg.zeros(0, 3, requires_grad=True)
    (x.max(1).values.sum() + x.logsumexp(0).clamp(min=0).sum() + x.softmax(0).sum()).backward()
    assert x.grad.shape == (0, 3)


def test_setitem_and_in_place_gradients_match_central_differences():
    def fn(x, v):
        y = x * x
        y[1:3] = v * x[0]  # broadcast, and x used again through the value
        y *= v.sum()
        y[[0, 3]] += v
        return y

    x = mg.tensor([0.5, -1.0, 2.0, 1.5], dtype=mg.float64, requires_grad=True)
    v = mg.tensor([0.3, -0.7], dtype=mg.float64, requires_grad=True)
    assert mg.gradcheck(fn, (x, v))
    assert mg.gradgradcheck(fn, (x, v))


def test_graph_inspection_after_an_in_place_change_does_not_check_versions():
    x = f64([1.0, 2.0])
    y = x * 2
    y += 1
    node = y.grad_fn
    assert node.recorded_inputs[0] is y and node.next_functions[0][0].name == "Mul"
    y.sum().backward()  # Add saved no values: its backward needs none, as in PyTorch
    assert x.grad.tolist() == [2.0, 2.0]
