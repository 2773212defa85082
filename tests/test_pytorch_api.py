"""The PyTorch names of SPEC §10 (issue 13): factories, dtypes, devices, Tensor methods,
named tuples, error types. Each is compared with PyTorch where it is installed."""

import math
import operator

import numpy as np
import pytest

import minigrad as mg

torch = pytest.importorskip("torch")

DATA = np.array([[0.5, -1.5, 2.0, 3.25], [4.0, -0.25, 1.0, -2.0], [1.5, 2.5, -3.0, 0.75]])


def same(mine, theirs, atol=1e-6):
    """Same values, shape and dtype name (float32 is 'float32' in both)."""
    theirs_array = theirs.detach().numpy()
    assert tuple(mine.shape) == tuple(theirs_array.shape)
    assert mine.dtype.name == str(theirs.dtype).removeprefix("torch."), (mine.dtype, theirs.dtype)
    np.testing.assert_allclose(mine.detach().numpy(), theirs_array, atol=atol, rtol=1e-6)


# -- factories ---------------------------------------------------------------------------

FACTORIES = [
    "L.linspace(0, 1, 5)", "L.linspace(-math.pi, math.pi, 7, dtype=L.float64)",
    "L.linspace(2, 3, 1)", "L.linspace(0, 1, 0)", "L.logspace(0, 2, 3)",
    "L.logspace(0, 3, 4, base=2.0)", "L.arange(5)", "L.arange(1, 10, 3)",
    "L.arange(0, 1, 0.1)", "L.arange(0.5, 2.5, 0.5, dtype=L.float64)", "L.arange(5, dtype=L.float)",
    "L.arange(-1.0, 1.0, 0.3)", "L.arange(10, 0, -3)", "L.empty(2, 3).shape and L.zeros(2, 3)",
    "L.full_like(L.ones(2, 2), 7)", "L.full_like(L.ones(2, dtype=L.long), 3)",
    "L.full((2,), 1.5)", "L.full((2,), 3)", "L.full((2,), True)",
    "L.zeros(2, dtype=L.long)", "L.ones(3, dtype=L.int)", "L.zeros(2, device='cpu')",
    "L.eye(2, device=L.device('cpu'))", "L.tensor([1.5], device='cpu')",
    "L.zeros_like(L.ones(2, dtype=L.double))", "L.ones_like(L.zeros(3), dtype=L.bool)",
]


@pytest.mark.parametrize("expression", FACTORIES)
def test_factories_match_torch(expression):
    same(eval(expression, {"L": mg, "math": math}), eval(expression, {"L": torch, "math": math}))


def test_random_factories_have_pytorchs_shapes_dtypes_and_ranges():
    mg.manual_seed(0)
    x = mg.randint(3, 10, (200,))
    assert x.dtype == mg.int64 and x.shape == (200,) and 3 <= x.min() and x.max() < 10
    assert set(mg.randint(4, (50,)).tolist()) == {0, 1, 2, 3}
    assert mg.randint(0, 5, size=(2, 2), dtype=mg.int32).dtype == mg.int32
    assert sorted(mg.randperm(6).tolist()) == list(range(6)) and mg.randperm(6).dtype == mg.int64
    like = mg.zeros(3, 2, dtype=mg.float64)
    assert mg.rand_like(like).dtype == mg.float64 and mg.randn_like(like).shape == (3, 2)
    u = mg.rand_like(mg.zeros(1000))
    assert 0 <= u.min() and u.max() < 1
    with pytest.raises(RuntimeError, match="floating-point"):
        mg.rand_like(mg.zeros(2, dtype=mg.long))
    with pytest.raises(RuntimeError, match="low"):
        mg.randint(5, 5, (2,))


def test_from_numpy_and_as_tensor_share_memory():
    array = np.arange(4.0)
    t = mg.from_numpy(array)
    array[0] = 9.0
    assert t[0].item() == 9.0 and t.dtype == mg.float64
    assert mg.as_tensor(array).detach().numpy() is array
    assert mg.as_tensor(t) is t
    assert mg.as_tensor(array, dtype=mg.float32).dtype == mg.float32  # converted: a copy
    assert mg.as_tensor([1, 2]).dtype == mg.int64
    with pytest.raises(TypeError, match="from_numpy"):
        mg.from_numpy(np.zeros(2, dtype=np.float16))
    with pytest.raises(TypeError, match="from_numpy"):
        mg.from_numpy([1.0])


def test_allclose_and_equal_match_torch():
    for L in (mg, torch):
        a = L.tensor([1.0, 2.0])
        assert L.allclose(a, a + 1e-9) and not L.allclose(a, a + 1e-3)
        assert L.allclose(L.tensor([float("nan")]), L.tensor([float("nan")]), equal_nan=True)
        assert L.equal(a, L.tensor([1.0, 2.0])) and not L.equal(a, L.tensor([1.0]))


def test_inference_mode_records_nothing_and_decorates():
    x = mg.ones(2, requires_grad=True)
    with mg.inference_mode():
        assert not (x * 2).requires_grad
    with mg.inference_mode(False):
        assert (x * 2).requires_grad

    @mg.inference_mode()
    def double(t):
        return t * 2

    assert not double(x).requires_grad and mg.is_grad_enabled()


# -- dtypes and devices ------------------------------------------------------------------

def test_dtype_names_are_pytorchs():
    for name in ["float", "float32", "double", "float64", "long", "int64", "int", "int32",
                 "short", "int16", "int8", "uint8"]:
        assert getattr(mg, name).name == str(getattr(torch, name)).removeprefix("torch.")
    assert mg.bool == mg.bool_ and mg.tensor([True]).dtype == mg.bool
    for refuse in (lambda: mg.zeros(2, dtype=mg.half), lambda: mg.ones(2).half(),
                   lambda: mg.tensor([1.0], dtype=mg.float16)):
        with pytest.raises(TypeError, match="float32 or float64"):
            refuse()


def test_default_dtype_sets_python_floats_and_factories():
    assert mg.get_default_dtype() == mg.float32
    try:
        mg.set_default_dtype(mg.float64)
        assert mg.tensor([1.5]).dtype == mg.float64 and mg.zeros(2).dtype == mg.float64
        assert mg.linspace(0, 1, 3).dtype == mg.float64 and mg.arange(0.0, 1.0).dtype == mg.float64
        assert (mg.tensor([1, 2]) / 2).dtype == mg.float64  # an integer division
        assert mg.tensor([1], dtype=float).dtype == mg.float64  # float means the default
    finally:
        mg.set_default_dtype(mg.float32)
    assert mg.tensor([1.5]).dtype == mg.float32
    with pytest.raises(TypeError, match="set_default_dtype"):
        mg.set_default_dtype(mg.int64)


def test_devices_are_pytorchs_and_only_the_cpu_works():
    d = mg.device("cpu")
    assert (repr(d), str(d), d.type, d.index) == (repr(torch.device("cpu")), "cpu", "cpu", None)
    assert repr(mg.device("cuda:1")) == repr(torch.device("cuda:1"))
    assert d == mg.device("cpu") and hash(d) == hash(mg.device("cpu"))
    assert (d == "cpu") == (torch.device("cpu") == "cpu")
    assert mg.ones(2).device == d and not mg.ones(2).is_cuda
    assert not mg.cuda.is_available() and not mg.backends.mps.is_available()
    mg.set_default_device("cpu")
    assert mg.get_default_device() == d
    for refuse in (lambda: mg.zeros(2, device="cuda"), lambda: mg.ones(2).to("cuda"),
                   lambda: mg.ones(2).to(mg.device("mps")), lambda: mg.set_default_device("cuda"),
                   lambda: mg.tensor([1.0], device="cuda:0"), lambda: mg.ones(1).cuda()):
        with pytest.raises(RuntimeError, match="CPU only"):
            refuse()
    with pytest.raises(RuntimeError, match="device type"):
        mg.device("gpu")


# -- conversions -------------------------------------------------------------------------

def test_to_and_type_match_torch():
    for L in (mg, torch):
        x = L.tensor([[1.5, -2.0]], requires_grad=True)
        assert x.to("cpu") is x and x.to(L.device("cpu")) is x and x.cpu() is x
        assert x.to(L.float32) is x and x.to(L.float32, copy=True) is not x
        assert x.to("cpu", L.float64).dtype == L.float64
        assert x.to(L.ones(1, dtype=L.long)).dtype == L.long
        assert x.to(dtype=L.double, device="cpu").dtype == L.double
        assert [x.type(), x.long().type(), x.int().type(), x.bool().type(), x.double().type()] \
            == ["torch.FloatTensor", "torch.LongTensor", "torch.IntTensor", "torch.BoolTensor",
                "torch.DoubleTensor"]
        assert x.type(L.float64).dtype == L.float64 and x.type("torch.LongTensor").dtype == L.long
        assert x.double().requires_grad  # converting keeps the graph
    y = mg.tensor([1.0, 2.0], requires_grad=True)
    y.double().sum().backward()
    assert y.grad.dtype == mg.float32 and y.grad.tolist() == [1.0, 1.0]


def test_accuracy_line_of_the_tutorials():
    for L in (mg, torch):
        pred = L.tensor([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
        y = L.tensor([1, 0, 0])
        assert (pred.argmax(1) == y).type(L.float).sum().item() == 2.0


def test_python_number_protocols_match_torch():
    classes = ["a", "b", "c"]
    for L in (mg, torch):
        t = L.tensor([[0.1, 0.2, 0.7]])
        assert classes[t[0].argmax(0)] == "c"
        assert f"{L.tensor(3.14159):+.2f}" == "+3.14"
        assert f"{L.tensor(2.5)}" == "2.5"
        assert int(L.tensor(2.7)) == 2 and float(L.tensor([1.5])) == 1.5
        assert bool(L.tensor([1])) and not bool(L.tensor(0.0))
        with pytest.raises(TypeError):
            operator.index(L.tensor(1.0))
        with pytest.raises(TypeError):
            f"{L.tensor([1.0, 2.0]):.2f}"
        with pytest.raises((RuntimeError, ValueError)):
            bool(L.tensor([1, 2]))
    assert f"{mg.tensor([1.0, 2.0])}" == str(mg.tensor([1.0, 2.0]))


def test_size_is_a_tuple_that_prints_as_pytorchs():
    x = mg.zeros(2, 3)
    assert x.shape == (2, 3) and isinstance(x.shape, tuple) and isinstance(x.size(), mg.Size)
    assert str(x.shape) == str(torch.zeros(2, 3).shape).replace("torch", "minigrad")
    assert repr(x.size()) == "minigrad.Size([2, 3])" and f"{x.shape}" == "(2, 3)"
    assert x.size(-1) == 3 and x.shape.numel() == 6 and x.numel() == 6 and x.dim() == 2
    with pytest.raises(IndexError):
        x.size(2)


# -- in-place methods --------------------------------------------------------------------

IN_PLACE = [
    "t.zero_()", "t.fill_(2.5)", "t.fill_(L.tensor(3.0))", "t.add_(L.ones(4))",
    "t.add_(L.ones(4), alpha=-0.5)", "t.sub_(2.0, alpha=2)", "t.mul_(L.tensor([1.0, 2, 3, 4]))",
    "t.div_(4)", "t.copy_(L.tensor([9.0, 8, 7, 6]))", "t.copy_(L.tensor(5.0))",
    "t.clamp_(-0.5, 0.5)", "t.clamp_(min=0)", "t.clip_(max=1.0)",
]


@pytest.mark.parametrize("expression", IN_PLACE)
def test_in_place_methods_match_torch_and_bump_the_version(expression):
    results = []
    for L in (mg, torch):
        t = L.tensor([1.5, -2.0, 0.25, 3.0])
        view = t[1:]
        before = t._version
        out = eval(expression, {"t": t, "L": L})
        assert out is t and t._version > before and view._version == t._version
        results.append(t)
    same(*results)


@pytest.mark.parametrize("expression", IN_PLACE)
def test_in_place_methods_follow_the_rules_of_plus_equals(expression):
    for L in (mg, torch):
        leaf = L.tensor([1.5, -2.0, 0.25, 3.0], requires_grad=True)
        with pytest.raises(RuntimeError, match="leaf Variable"):
            eval(expression, {"t": leaf, "L": L})
        with L.no_grad():
            eval(expression, {"t": leaf, "L": L})  # parameters are updated this way
    grads = []
    for L in (mg, torch):  # a non-leaf takes the op as its history: same gradients
        x = L.tensor([1.5, -2.0, 0.25, 3.0], requires_grad=True)
        h = x * L.tensor([1.0, 2.0, 3.0, 4.0])
        eval(expression, {"t": h, "L": L})
        (h * h).sum().backward()
        grads.append(x.grad)
    same(*grads)


def test_copy_passes_the_gradient_to_its_source():
    for L in (mg, torch):
        src = L.tensor([1.0, 2.0], requires_grad=True)
        t = L.zeros(2)
        t.copy_(src * 3)
        (t * t).sum().backward()
        assert src.grad.tolist() == [18.0, 36.0] and t.grad_fn is not None


def test_grad_zero_and_manual_updates_as_tutorials_write_them():
    w = mg.tensor([1.0, -1.0], requires_grad=True)
    (w * w).sum().backward()
    with mg.no_grad():
        w -= 0.1 * w.grad
        w.grad.zero_()
    assert w.grad.tolist() == [0.0, 0.0] and w.tolist() == pytest.approx([0.8, -0.8])


def test_random_fills_are_seeded_and_keep_dtype():
    mg.manual_seed(1)
    a = mg.zeros(500, dtype=mg.float64).uniform_(-2, 3)
    mg.manual_seed(1)
    b = mg.zeros(500, dtype=mg.float64).uniform_(-2, 3)
    assert mg.equal(a, b) and a.dtype == mg.float64 and -2 <= a.min() and a.max() < 3
    n = mg.zeros(4000).normal_(1.0, 0.5)
    assert n.dtype == mg.float32 and abs(n.mean().item() - 1) < 0.05
    assert abs(n.std().item() - 0.5) < 0.05
    with pytest.raises(RuntimeError, match="0-dimension"):
        mg.zeros(2).fill_(mg.ones(2))
    with pytest.raises(RuntimeError, match="shape"):
        mg.zeros(2).copy_(mg.ones(3))


# -- methods that compute ----------------------------------------------------------------

METHODS = [
    "a.t()", "a.t().t()", "a.mm(a.t())", "a[0].dot(a[1])",
    "a.reshape(1, 3, 4).bmm(a.t().reshape(1, 4, 3))",
    "a.norm()", "a.norm(2, 1)", "a.norm(1)", "a.norm(p=1, dim=0, keepdim=True)",
    "a.norm(float('inf'), 1)", "a.norm(3, 1)", "a.norm(float('-inf'))", "a.norm(dim=(0, 1))",
    "a.view(4, 3)", "a.view_as(a.t())", "a.reshape_as(a.reshape(2, 6))", "a[0].expand_as(a)",
    "a.contiguous()", "a.clone()", "a.chunk(2, 1)[1]", "a.chunk(3)[2]", "a.split(3, 1)[1]",
    "a.split([1, 2], 0)[1]", "a.unbind(1)[2]", "a.max(1).values", "a.max(1)[1]",
    "a.min(dim=0).indices", "a.max(0, keepdim=True)[0]", "a.sort(1).values", "a.sort(1)[1]",
    "a.sort(0, descending=True).values", "a.argsort(1)", "a.topk(2).values", "a.topk(2)[1]",
    "a.topk(1, dim=0, largest=False).values", "a.median()", "a.median(1).values",
    "a.median(0, keepdim=True).indices", "a.sum(axis=1)", "a.mean(axis=0, keepdim=True)",
    "a.sum(dtype=L.float64)", "a.std(axis=1)", "a.var(axis=0)", "a.logsumexp(axis=1)",
    "a.max(axis=1).values", "a.argmax(axis=1)", "a.softmax(axis=0)",
    "a.log_softmax(1, dtype=L.float64)", "a.unsqueeze(axis=1)",
    "a[:1].squeeze(axis=0)", "(a > 0).all(axis=1)", "a.all()", "a.any(1)",
    "(a > 0).all(dim=0)", "(a > 4).any()",
    "L.mm(a, a.t())", "L.norm(a)", "L.sort(a, 1)[0]", "L.topk(a, 3).indices",
    "L.median(a, 1).values", "L.chunk(a, 2)[0]", "L.split(a, 2)[1]", "L.unbind(a)[0]",
    "L.cat([a, a], axis=1)", "L.stack([a, a], axis=2)",
]


@pytest.mark.parametrize("expression", METHODS)
def test_methods_match_torch_values_and_gradients(expression):
    outputs, grads = [], []
    for L in (mg, torch):
        a = L.tensor(DATA, requires_grad=True)
        out = eval(expression, {"a": a, "L": L})
        outputs.append(out)
        if out.dtype.is_floating_point if L is torch else out.dtype.kind == "f":
            (out * L.tensor(np.arange(out.numel(), dtype=np.float64).reshape(tuple(out.shape)) + 1)
             ).sum().backward()
            grads.append(a.grad)
    same(*outputs)
    if grads:
        same(*grads)


def test_named_tuples_unpack_and_print_as_pytorchs():
    x = mg.tensor(DATA)
    values, indices = x.max(dim=1)
    assert values.tolist() == DATA.max(1).tolist() and indices.tolist() == DATA.argmax(1).tolist()
    for name in ("max", "min", "sort", "topk", "median"):
        result = getattr(x, name)(1) if name != "topk" else x.topk(1, 1)
        assert isinstance(result, getattr(mg.return_types, name))
        assert repr(result).startswith(f"minigrad.return_types.{name}(\nvalues=tensor(")
    assert x.max((0, 1)).ndim == 0  # several dims: values only, as amax
    assert mg.max(x, mg.zeros(3, 4)).shape == (3, 4)  # two tensors: elementwise


def test_new_ops_pass_gradcheck_and_gradgradcheck():
    x = mg.tensor(DATA, dtype=mg.float64, requires_grad=True)
    for fn in (lambda a: a.norm(), lambda a: a.norm(3, 1), lambda a: a.norm(1, 0),
               lambda a: a.sort(1).values * a, lambda a: a.topk(2, 0).values,
               lambda a: a.median(1).values, lambda a: a.split([1, 3], 1)[1] ** 2):
        assert mg.gradcheck(fn, (x,))
        assert mg.gradgradcheck(fn, (x,))


def test_norm_gradient_at_zero_is_zero_as_pytorchs():
    for L in (mg, torch):
        z = L.zeros(3, requires_grad=True)
        z.norm().backward()
        assert z.grad.tolist() == [0.0, 0.0, 0.0]


# -- errors have PyTorch's types ---------------------------------------------------------

ERRORS = [
    ("L.ones(2, 3) + L.ones(3, 2)", RuntimeError), ("L.ones(2, 3) @ L.ones(2, 3)", RuntimeError),
    ("L.ones(2, 3).mm(L.ones(3))", RuntimeError), ("L.ones(3).dot(L.ones(2))", RuntimeError),
    ("L.ones(2, 2, 2).t()", RuntimeError), ("L.ones(2).bmm(L.ones(2))", RuntimeError),
    ("L.ones(2, 3)[5]", IndexError), ("L.ones(2, 3).sum(2)", IndexError),
    ("L.ones(2).topk(3)", RuntimeError), ("L.ones(4).split([1, 2])", RuntimeError),
    ("L.ones(2).chunk(0)", RuntimeError), ("L.ones(2, 3).max(5)", IndexError),
    ("L.ones(2).requires_grad_().add_(1)", RuntimeError),
]


@pytest.mark.parametrize(("expression", "error"), ERRORS)
def test_errors_have_pytorchs_types(expression, error):
    for L in (mg, torch):
        with pytest.raises(error):
            eval(expression, {"L": L})


def test_shape_errors_are_also_value_errors():
    with pytest.raises(ValueError, match=r"\(2, 3\), \(3, 2\)"):
        mg.ones(2, 3) + mg.ones(3, 2)
    assert issubclass(mg.ShapeError, RuntimeError) and issubclass(mg.ShapeError, ValueError)


def test_printing_is_pytorchs():
    for expression in ["L.tensor([1.0, 2.0])", "L.tensor([[1.5, -2.25]])", "L.tensor(3.0)",
                       "L.tensor([1, 2])", "L.tensor([0.1234567, 10.0])", "L.tensor([1e-5, 1.0])"]:
        assert repr(eval(expression, {"L": mg})) == repr(eval(expression, {"L": torch}))
    assert "requires_grad=True" in repr(mg.ones(1, requires_grad=True))


@pytest.mark.parametrize("expression", [
    "bool(L.ones(2))", "L.ones(2).item()", "L.stack([L.ones(2), L.ones(3)])",
    "L.ones(2, 3).permute(0, 0)", "L.ones(2, 3).expand(3)", "L.ones(2, 3).flatten(1, 0)",
])
def test_other_shape_errors_are_runtime_errors_as_pytorchs(expression):
    for L in (mg, torch):
        with pytest.raises(RuntimeError):
            eval(expression, {"L": L})
    with pytest.raises(ValueError):  # and still ValueErrors, for minigrad's older callers
        eval(expression, {"L": mg})


def test_star_import_keeps_pythons_float_int_bool_all_and_any():
    namespace = {}
    exec("from minigrad import *", namespace)
    assert not {"float", "int", "bool", "all", "any"} & namespace.keys()
    assert mg.float is mg.float32 and mg.int is mg.int32 and mg.bool is mg.bool_
    assert namespace["long"] is mg.int64
