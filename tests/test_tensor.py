"""Tensor construction, dtypes, factories, attributes, operands, comparisons, errors."""

import operator

import numpy as np
import pytest

import minigrad as mg


def test_python_floats_default_to_float32_and_numpy_floats_keep_their_dtype():
    assert mg.tensor(1.5).dtype == np.float32
    assert mg.tensor([[1.0, 2.0]]).dtype == np.float32
    assert mg.tensor(np.array([1.0])).dtype == np.float64
    assert mg.tensor(np.array([1.0], dtype=np.float32)).dtype == np.float32
    assert mg.tensor(np.float16(1.0)).dtype == np.float32
    assert mg.tensor([1, 2]).dtype == np.int64
    assert mg.tensor([True, False]).dtype == np.bool_
    assert mg.tensor([1, 2], dtype=mg.float64).dtype == np.float64
    assert mg.Tensor([1.0], dtype=mg.float64).dtype == np.float64


def test_construction_copies_data():
    a = np.array([1.0, 2.0])
    t = mg.tensor(a)
    a[0] = 100
    assert t.array[0] == 1.0
    u = mg.tensor(t)
    u.array[1] = 7
    assert t.array[1] == 2.0


def test_unsupported_data_raises():
    with pytest.raises(TypeError, match="unsupported data of dtype"):
        mg.tensor(["a", "b"])


def test_attributes():
    t = mg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    assert t.shape == (2, 3) and t.ndim == 2 and t.dim() == 2 and t.numel() == 6
    assert t.size() == (2, 3) and t.size(1) == 3 and len(t) == 2
    assert t.is_leaf and t.grad is None and t.grad_fn is None and t.requires_grad
    assert t.T.shape == (3, 2)
    assert isinstance(t.detach().numpy(), np.ndarray) and isinstance(t.array, np.ndarray)
    assert t.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert mg.tensor([[2.5]]).item() == 2.5
    with pytest.raises(ValueError, match=r"shape \(2, 3\)"):
        t.item()
    assert [row.shape for row in t] == [(3,), (3,)]


def test_repr_is_readable():
    assert repr(mg.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert "requires_grad=True" in repr(mg.tensor([1.5], requires_grad=True))
    assert "grad_fn=<MulBackward0>" in repr(mg.tensor([1.5], requires_grad=True) * 2)
    assert "dtype=float64" in repr(mg.tensor([1.0], dtype=mg.float64))


def test_factories():
    assert mg.zeros(2, 3).shape == (2, 3) and mg.zeros((2, 3)).dtype == np.float32
    assert mg.ones([4]).array.sum() == 4
    assert mg.full((2, 2), 7.0).array.tolist() == [[7.0, 7.0], [7.0, 7.0]]
    assert mg.full((2,), 3).dtype == np.int64
    np.testing.assert_array_equal(mg.eye(3).array, np.eye(3))
    assert mg.eye(2, 3).shape == (2, 3)
    assert mg.arange(5).dtype == np.int64 and mg.arange(0, 1, 0.25).dtype == np.float32
    np.testing.assert_allclose(mg.arange(1, 2, 0.25).array, [1, 1.25, 1.5, 1.75])
    like = mg.tensor(np.ones((2, 2)))
    assert mg.zeros_like(like).dtype == np.float64 and mg.ones_like(like).array.sum() == 4
    assert mg.zeros(3, requires_grad=True).requires_grad
    assert mg.randn(2, 3, dtype=mg.float64).dtype == np.float64
    r = mg.rand(1000)
    assert r.dtype == np.float32 and 0 <= r.array.min() and r.array.max() < 1
    with pytest.raises(TypeError, match=r"zeros\(\): argument .size. must be a tuple of ints"):
        mg.zeros("a")


def test_manual_seed_makes_random_tensors_reproducible():
    mg.manual_seed(123)
    a, b = mg.randn(5), mg.rand(3)
    mg.manual_seed(123)
    np.testing.assert_array_equal(a.array, mg.randn(5).array)
    np.testing.assert_array_equal(b.array, mg.rand(3).array)
    mg.manual_seed(124)
    assert not np.array_equal(a.array, mg.randn(5).array)
    with pytest.raises(ValueError, match="seed"):
        mg.manual_seed(-1)


def test_randn_statistics():
    mg.manual_seed(0)
    x = mg.randn(100_000).array
    assert abs(x.mean()) < 0.02 and abs(x.std() - 1) < 0.02


@pytest.mark.parametrize("op", [operator.add, operator.sub, operator.mul, operator.truediv,
                                operator.pow])
def test_ndarray_and_tensor_operands_both_ways(op):
    a = np.array([1.0, 2.0, 3.0])
    t = mg.tensor([2.0, 3.0, 4.0], dtype=mg.float64, requires_grad=True)
    left = op(a, t)  # NumPy defers to the Tensor's reflected method
    right = op(t, a)
    assert isinstance(left, mg.Tensor) and isinstance(right, mg.Tensor)
    np.testing.assert_allclose(left.array, op(a, t.array))
    np.testing.assert_allclose(right.array, op(t.array, a))
    (left.sum() + right.sum()).backward()
    assert t.grad is not None and t.grad.shape == (3,)


def test_ndarray_matmul_tensor_gives_tensor():
    m = np.eye(2)
    t = mg.tensor([1.0, 2.0], dtype=mg.float64, requires_grad=True)
    out = m @ t
    assert isinstance(out, mg.Tensor)
    out.sum().backward()
    np.testing.assert_allclose(t.grad.array, [1.0, 1.0])


def test_python_scalars_keep_the_tensor_dtype():
    t = mg.tensor([1.0, 2.0])
    for out in (t + 1, 2 * t, t / 3.0, 1 - t, t**2, 2.0**t):
        assert out.dtype == np.float32
    assert (mg.tensor([1, 2]) * 2).dtype == np.int64
    assert (t * np.array([1, 2])).dtype == np.float32  # integer arrays take the float dtype
    assert (t + mg.tensor(np.array([1.0, 1.0]))).dtype == np.float64


def test_comparisons_return_boolean_tensors_without_grad():
    t = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for result, expected in [(t > 1.5, [0, 1, 1]), (t >= 2, [0, 1, 1]), (t < 2, [1, 0, 0]),
                             (t <= 2, [1, 1, 0]), (t == 2, [0, 1, 0]), (t != 2, [1, 0, 1]),
                             (t > mg.tensor([0.0, 5.0, 3.0]), [1, 0, 0]),
                             (np.array([2.0, 2.0, 2.0]) < t, [0, 0, 1])]:
        assert isinstance(result, mg.Tensor) and result.dtype == np.bool_
        assert not result.requires_grad
        assert result.tolist() == [bool(v) for v in expected]
    assert {t: 1}[t] == 1  # tensors stay hashable


def test_bool_of_tensors():
    assert bool(mg.tensor([1.0]) > 0)
    with pytest.raises(ValueError, match="ambiguous"):
        bool(mg.tensor([1.0, 2.0]))
    assert (mg.tensor([1.0, 2.0]) > 0).all() and (mg.tensor([1.0, -2.0]) > 0).any()


def test_argmax_argmin():
    t = mg.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    assert t.argmax().item() == 3 and t.argmin().item() == 4
    assert t.argmax(1).tolist() == [1, 0] and t.argmin(0).tolist() == [0, 1, 0]
    assert t.argmax(1, keepdim=True).shape == (2, 1)
    assert t.argmax().dtype == np.int64 and not t.argmax().requires_grad


def test_max_with_tensor_is_elementwise_maximum():
    a, b = mg.tensor([1.0, 5.0]), mg.tensor([3.0, 2.0])
    assert a.max(b).tolist() == [3.0, 5.0] and a.min(b).tolist() == [1.0, 2.0]


def test_var_std_corrections():
    x = np.array([[1.0, 2.0, 4.0], [3.0, 3.0, 9.0]])
    t = mg.tensor(x)
    np.testing.assert_allclose(t.var().array, x.var(ddof=1))
    np.testing.assert_allclose(t.var(1, correction=0).array, x.var(1))
    np.testing.assert_allclose(t.std(0, unbiased=False).array, x.std(0))
    assert np.isnan(mg.tensor([1.0]).var().item())


def test_shape_ops():
    t = mg.tensor(np.arange(24.0).reshape(2, 3, 4))
    assert t.reshape(6, 4).shape == (6, 4) and t.view(-1).shape == (24,)
    assert t.flatten().shape == (24,) and t.flatten(0, 1).shape == (6, 4)
    assert t.permute(2, 0, 1).shape == (4, 2, 3) and t.transpose(0, 2).shape == (4, 3, 2)
    assert t.unsqueeze(0).shape == (1, 2, 3, 4) and t.unsqueeze(-1).shape == (2, 3, 4, 1)
    assert t[:, :1].squeeze(1).shape == (2, 4) and t.squeeze(0).shape == (2, 3, 4)
    assert mg.tensor([[1.0], [2.0]]).expand(2, 3).shape == (2, 3)
    assert mg.tensor([1.0]).broadcast_to(2, 3).shape == (2, 3)
    assert mg.cat([t, t], dim=-1).shape == (2, 3, 8) and mg.stack([t, t]).shape == (2, 2, 3, 4)
    assert mg.tensor(3.0).flatten().shape == (1,)
    assert mg.zeros(3).flatten().shape == (3,) and mg.zeros(2, 3).flatten(1).shape == (2, 3)
    assert mg.zeros(2, 3, 4).flatten(-2).shape == (2, 12)


@pytest.mark.parametrize(
    "call, pattern",
    [
        (lambda: mg.tensor(np.ones((2, 3))) + mg.tensor(np.ones(4)),
         r"Add: .*\(2,3\).*\(4,\)"),
        (lambda: mg.tensor(np.ones((2, 3))) @ mg.tensor(np.ones((4, 2))),
         r"MatMul: shapes \(2, 3\) and \(4, 2\)"),
        (lambda: mg.tensor(np.ones((2, 3))).reshape(4, 2),
         r"Reshape: .*size 6.*\(4, ?2\).*\(2, 3\)"),
        (lambda: mg.tensor(np.ones((2, 3))).sum(2), r"sum: dim 2 is out of range .*2 dims"),
        (lambda: mg.tensor(np.ones((2, 3))).permute(0, 0), r"permute: dim \(0, 0\) repeats"),
        (lambda: mg.tensor(np.ones((2, 3)))[5], r"GetItem: index 5 .*\(2, 3\)"),
        (lambda: mg.cat([mg.ones(2, 3), mg.ones(3, 3)], dim=1), r"Cat: .*\(2, 3\), \(3, 3\)"),
        (lambda: mg.stack([mg.ones(2), mg.ones(3)]), r"stack: .*\[\(2,\), \(3,\)\]"),
        (lambda: mg.tensor(1.0) @ mg.tensor(2.0), r"MatMul: .*at least 1 dim"),
        (lambda: mg.ones(3).clamp(), r"clamp: at least one"),
        (lambda: mg.ones(3).gelu(approximate="x"), r"gelu: approximate"),
        (lambda: mg.ones(2).expand(3), r"Expand: .*\(2,\)"),
        (lambda: mg.ones(2, 2).flatten(1, 0), r"flatten: start_dim"),
    ],
)
def test_bad_input_errors_name_the_op_and_shapes(call, pattern):
    with pytest.raises((ValueError, IndexError, TypeError)) as info:
        call()
    assert info.match(pattern)


def test_retain_grad_on_non_grad_tensor_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        mg.ones(2).retain_grad()


def test_numpy_sees_the_data():
    t = mg.tensor([[1.0, 2.0]], requires_grad=True)
    assert np.asarray(t) is t.array
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    np.testing.assert_allclose(t, [[1.0, 2.0]])
    assert isinstance(np.ones(2) + t, mg.Tensor)  # operators still give Tensors


# -- behaviours a PyTorch user relies on --------------------------------------------------


def test_in_place_update_of_parameters_under_no_grad():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    params = [w]
    with mg.no_grad():
        for p in params:
            p -= 0.1 * p.grad  # changes w itself, not a rebound copy
    np.testing.assert_allclose(w.array, [0.8, 1.6])
    assert w.is_leaf and w.requires_grad
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad.*no_grad"):
        w += 1
    h = w * 2  # inside the graph, h changes in place and takes the Add as its history
    h += 1
    assert h.grad_fn.name == "Add"
    h.sum().backward()
    np.testing.assert_allclose(w.grad.array, [2.0 + 2.0, 4.0 + 2.0])
    t = mg.ones(3)
    t *= 2
    t /= 4
    assert t.tolist() == [0.5, 0.5, 0.5]
    with pytest.raises(TypeError, match="in-place add.*int64"):
        i = mg.tensor([1, 2])
        i += 0.5
    with pytest.raises(RuntimeError, match=r"in-place add.*\(3,\)"):
        t += mg.ones(2, 3)


@pytest.mark.parametrize("expression, dtype", [
    ("i + f", np.float32), ("f + i", np.float32), ("i * 1.5", np.float32),
    ("i / 2", np.float32), ("i / i", np.float32), ("i ** 0.5", np.float32),
    ("i + 1", np.int64), ("(i > 0) + f", np.float32), ("i @ m", np.float32),
    ("i.exp()", np.float32), ("i.sigmoid()", np.float32), ("i.sqrt()", np.float32),
    ("d + i", np.float64), ("f + d", np.float64),
])
def test_type_promotion_is_pytorchs(expression, dtype):
    names = {"i": mg.tensor([1, 2]), "f": mg.tensor([1.0, 2.0]),
             "d": mg.tensor([1.0, 2.0], dtype=mg.float64), "m": mg.ones(2, 2)}
    assert eval(expression, {}, names).dtype == dtype


def test_float_functions_of_integer_tensors_compute_in_float():
    np.testing.assert_allclose(mg.tensor([1, 2]).sigmoid().array, [0.7310586, 0.8807971],
                               rtol=1e-6)


def test_non_numeric_operands_are_refused():
    with pytest.raises(TypeError, match="NoneType"):
        mg.ones(2) + None
    with pytest.raises(TypeError, match="complex"):
        mg.ones(2) * 1j


def test_requires_grad_and_grad_assignments_are_checked():
    t = mg.tensor([1, 2])
    with pytest.raises(TypeError, match="floating-point"):
        t.requires_grad = True
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        x.grad = mg.ones(3)
    with pytest.raises(TypeError, match="Tensor or None"):
        x.grad = np.ones(2)
    x.grad = mg.ones(2)
    x.grad = None


def test_set_grad_enabled_as_a_call_and_as_a_context():
    mg.set_grad_enabled(False)
    try:
        assert not mg.is_grad_enabled()
    finally:
        mg.set_grad_enabled(True)
    assert mg.is_grad_enabled()
    with mg.set_grad_enabled(False):
        assert not mg.is_grad_enabled()
    assert mg.is_grad_enabled()


def test_edge_cases_of_construction_and_reduction():
    assert np.isnan(mg.zeros(0, 3).mean().item())
    with pytest.raises(TypeError, match="cat: expected a sequence"):
        mg.cat(mg.ones(2, 2))
    with pytest.raises(TypeError, match="unsupported dtype float16"):
        mg.tensor([1.0], dtype=np.float16)


def test_gradient_of_x_to_the_zero_is_zero():
    x = mg.tensor([0.0, 2.0], requires_grad=True)
    (x**0).sum().backward()
    np.testing.assert_array_equal(x.grad.array, [0.0, 0.0])


def test_std_of_a_constant_has_zero_gradient():
    x = mg.tensor([[1.0, 5.0], [1.0, 7.0], [1.0, 9.0]], dtype=mg.float64, requires_grad=True)
    z = (x - x.mean(0)) / (x.std(0) + 1e-5)
    (z**2 + z).sum().backward()
    assert np.isfinite(x.grad.array).all()
    np.testing.assert_array_equal(x.grad.array[:, 0], 0.0)
    assert np.isnan(mg.tensor([1.0]).std().item())  # too few elements for the correction
