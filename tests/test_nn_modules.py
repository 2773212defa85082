"""The module system: registration, naming and order, modes, gradients, dtypes, repr,
containers."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(np.ones(3, dtype=np.float32))
        self.register_buffer("count", mg.zeros(1))
        self.inner = nn.Linear(3, 2)
        self.note = "not registered"

    def forward(self, x):
        return self.inner(x * self.scale)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.first = Block()
        self.layers = nn.ModuleList([nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1)])
        self.head_bias = nn.Parameter(np.zeros(1, dtype=np.float32))

    def forward(self, x):
        x = self.first(x)
        for layer in self.layers:
            x = layer(x)
        return x + self.head_bias


# ---------------------------------------------------------------------------------------
# Parameter
# ---------------------------------------------------------------------------------------


def test_parameter_is_a_tensor_that_requires_grad():
    p = nn.Parameter(mg.tensor([1.0, 2.0]))
    assert isinstance(p, mg.Tensor) and p.requires_grad and p.is_leaf
    assert "Parameter containing" in repr(p)
    assert not nn.Parameter(mg.zeros(2), requires_grad=False).requires_grad
    (p * p).sum().backward()
    np.testing.assert_array_equal(p.grad.array, [2.0, 4.0])


def test_parameter_shares_the_array_it_wraps():
    t = mg.zeros(3)
    p = nn.Parameter(t)
    p.array[0] = 5
    assert t.array[0] == 5


def test_parameter_rejects_integer_data():
    with pytest.raises(TypeError, match="floating-point"):
        nn.Parameter(np.arange(3))


# ---------------------------------------------------------------------------------------
# Registration and naming
# ---------------------------------------------------------------------------------------


def test_named_parameters_in_registration_order_with_dotted_names():
    net = Net()
    names = [name for name, _ in net.named_parameters()]
    assert names == ["head_bias", "first.scale", "first.inner.weight", "first.inner.bias",
                     "layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias"]
    assert len(list(net.parameters())) == 8
    assert [name for name, _ in net.named_buffers()] == ["first.count"]
    assert [name for name, _ in net.named_children()] == ["first", "layers"]
    assert [name for name, _ in net.named_modules()] == [
        "", "first", "first.inner", "layers", "layers.0", "layers.1", "layers.2"]
    assert len(list(net.modules())) == 7
    assert net.get_submodule("layers.2") is net.layers[2]


def test_named_parameters_of_sequential_match_pytorch_style():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias", "2.weight",
                                                        "2.bias"]


def test_plain_attributes_are_not_registered():
    block = Block()
    block.cache = mg.zeros(2)  # a plain Tensor attribute is neither parameter nor buffer
    assert "cache" not in dict(block.named_parameters())
    assert "cache" not in dict(block.named_buffers())
    assert block.note == "not registered"


def test_shared_parameters_are_listed_once():
    layer = nn.Linear(2, 2)
    model = nn.Sequential(layer, nn.ReLU(), layer)
    assert len(list(model.parameters())) == 2
    assert len(list(model.children())) == 2  # the same module once


def test_reassigning_and_deleting_registered_attributes():
    block = Block()
    new = nn.Parameter(np.zeros(3, dtype=np.float32))
    block.scale = new
    assert dict(block.named_parameters())["scale"] is new
    block.scale = None
    assert "scale" not in dict(block.named_parameters())
    with pytest.raises(TypeError, match="parameter 'scale'"):
        block.scale = mg.zeros(3)  # a Tensor is not a Parameter
    block.count = mg.ones(1)  # buffers take new tensors
    assert dict(block.named_buffers())["count"].array[0] == 1
    del block.inner
    assert "inner" not in dict(block.named_children())
    assert not hasattr(block, "inner")


def test_registration_before_init_is_a_clear_error():
    class Broken(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(np.zeros(1, dtype=np.float32))
            super().__init__()

    with pytest.raises(AttributeError, match=r"super\(\)\.__init__\(\) first"):
        Broken()


def test_register_errors():
    m = nn.Module()
    with pytest.raises(KeyError, match="'.'"):
        m.register_buffer("a.b", mg.zeros(1))
    with pytest.raises(TypeError, match="Tensor or None"):
        m.register_buffer("b", [1, 2])
    with pytest.raises(TypeError, match="Parameter or None"):
        m.register_parameter("w", mg.zeros(1))
    with pytest.raises(KeyError, match="already exists"):
        m.register_buffer("train", mg.zeros(1))


def test_non_persistent_buffers_stay_out_of_state_dict():
    m = nn.Module()
    m.register_buffer("kept", mg.zeros(1))
    m.register_buffer("scratch", mg.zeros(1), persistent=False)
    assert list(m.state_dict()) == ["kept"]
    assert [n for n, _ in m.named_buffers()] == ["kept", "scratch"]


# ---------------------------------------------------------------------------------------
# Modes, gradients, dtypes, apply
# ---------------------------------------------------------------------------------------


def test_train_and_eval_are_recursive():
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    with pytest.raises(ValueError, match="bool"):
        net.train("no")


def test_call_runs_forward_and_gradients_reach_every_parameter():
    net = Net()
    out = net(mg.randn(4, 3))
    assert out.shape == (4, 1)
    out.sum().backward()
    for name, p in net.named_parameters():
        assert p.grad is not None and p.grad.shape == p.shape, name


def test_zero_grad():
    net = Net()
    net(mg.randn(4, 3)).sum().backward()
    grad_array = net.head_bias.grad.array
    net.zero_grad(set_to_none=False)
    assert net.head_bias.grad.array is grad_array and (grad_array == 0).all()
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_to_double_converts_parameters_and_float_buffers_in_place():
    bn = nn.BatchNorm1d(3)
    weight = bn.weight
    assert bn.double() is bn
    assert bn.weight is weight  # same Parameter object, new dtype
    assert bn.weight.dtype == mg.float64 and bn.running_mean.dtype == mg.float64
    assert bn.num_batches_tracked.dtype == mg.int64  # integer buffers stay integer
    out = bn(mg.randn(4, 3, dtype=mg.float64))
    assert out.dtype == mg.float64
    bn.float()
    assert bn.weight.dtype == mg.float32
    with pytest.raises(TypeError, match="float32 or float64"):
        bn.to(np.int32)


def test_apply_visits_children_first():
    net = Net()
    visited = []
    assert net.apply(lambda m: visited.append(type(m).__name__)) is net
    assert visited == ["Linear", "Block", "Linear", "ReLU", "Linear", "ModuleList", "Net"]

    def zero_linear(m):
        if isinstance(m, nn.Linear):
            nn.init.zeros_(m.weight)

    net.apply(zero_linear)
    assert (net.layers[0].weight.array == 0).all()


def test_requires_grad_():
    net = Net().requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())


def test_forward_missing_is_a_clear_error():
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(1)


# ---------------------------------------------------------------------------------------
# repr
# ---------------------------------------------------------------------------------------


def test_repr_like_pytorch():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Dropout(0.25),
                          nn.Sequential(nn.Linear(3, 1, bias=False), nn.Sigmoid()))
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=2, out_features=3, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Dropout(p=0.25)\n"
        "  (3): Sequential(\n"
        "    (0): Linear(in_features=3, out_features=1, bias=False)\n"
        "    (1): Sigmoid()\n"
        "  )\n"
        ")"
    )
    assert repr(nn.LayerNorm(4)) == "LayerNorm((4,), eps=1e-05, elementwise_affine=True, bias=True)"
    assert repr(nn.Embedding(10, 3)) == "Embedding(10, 3)"


def test_repr_matches_torch_for_the_same_model():
    torch = pytest.importorskip("torch")
    ours = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.GELU(), nn.Flatten(),
                         nn.Softmax(dim=1), nn.LeakyReLU(0.2), nn.Identity(),
                         nn.LayerNorm(3), nn.BatchNorm1d(2, affine=False),
                         nn.CrossEntropyLoss(reduction="sum"), nn.Embedding(5, 2),
                         nn.Sequential(nn.Tanh(), nn.LogSoftmax(dim=1)))
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.BatchNorm1d(8),
                                 torch.nn.GELU(), torch.nn.Flatten(), torch.nn.Softmax(dim=1),
                                 torch.nn.LeakyReLU(0.2), torch.nn.Identity(),
                                 torch.nn.LayerNorm(3), torch.nn.BatchNorm1d(2, affine=False),
                                 torch.nn.CrossEntropyLoss(reduction="sum"),
                                 torch.nn.Embedding(5, 2),
                                 torch.nn.Sequential(torch.nn.Tanh(),
                                                     torch.nn.LogSoftmax(dim=1)))
    assert repr(ours) == repr(theirs)


# ---------------------------------------------------------------------------------------
# Containers
# ---------------------------------------------------------------------------------------


def test_sequential_indexing_len_iteration_and_slicing():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    model = nn.Sequential(a, b, c)
    assert len(model) == 3 and model[0] is a and model[-1] is c
    assert list(model) == [a, b, c]
    head = model[:2]
    assert isinstance(head, nn.Sequential) and list(head) == [a, b]
    x = mg.randn(5, 2)
    np.testing.assert_allclose(model(x).array, c(b(a(x))).array)
    with pytest.raises(IndexError, match="out of range"):
        model[3]
    model.append(nn.Sigmoid())
    assert len(model) == 4 and [n for n, _ in model.named_children()][-1] == "3"
    del model[1]
    assert len(model) == 3


def test_sequential_from_ordered_dict():
    from collections import OrderedDict

    model = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.Tanh())]))
    assert [n for n, _ in model.named_parameters()] == ["fc.weight", "fc.bias"]
    assert isinstance(model[1], nn.Tanh)


def test_module_list():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(layers) == 3
    assert len(list(layers.parameters())) == 6
    layers.insert(0, nn.ReLU())
    assert isinstance(layers[0], nn.ReLU) and len(layers) == 4
    assert [n for n, _ in layers.named_children()] == ["0", "1", "2", "3"]
    del layers[0]
    assert all(isinstance(m, nn.Linear) for m in layers)
    assert isinstance(layers[1:], nn.ModuleList) and len(layers[1:]) == 2
    layers.extend([nn.Tanh()])
    assert isinstance(layers[-1], nn.Tanh)
    with pytest.raises(NotImplementedError, match="iterate"):
        layers(mg.zeros(1))


def test_plain_list_of_modules_is_not_registered_but_module_list_is():
    class ListNet(nn.Module):
        def __init__(self, use_module_list):
            super().__init__()
            layers = [nn.Linear(2, 2), nn.Linear(2, 2)]
            self.layers = nn.ModuleList(layers) if use_module_list else layers

    assert len(list(ListNet(False).parameters())) == 0
    assert len(list(ListNet(True).parameters())) == 4


def test_deepcopy_gives_an_independent_model():
    import copy

    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    clone = copy.deepcopy(model)
    assert list(clone.state_dict()) == list(model.state_dict())
    assert isinstance(clone[0].weight, nn.Parameter) and clone[0].weight.requires_grad
    clone[0].weight.array[...] = 0
    assert model[0].weight.array.any()
    clone(mg.randn(4, 2)).sum().backward()
    assert clone[0].weight.grad is not None and model[0].weight.grad is None


def test_register_methods_refuse_to_replace_another_kind():
    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(2, 2)
            self.w = nn.Parameter(mg.ones(2))

    model = Model()
    with pytest.raises(KeyError, match="buffer 'lin'.*module"):
        model.register_buffer("lin", mg.ones(1))
    with pytest.raises(KeyError, match="buffer 'w'.*parameter"):
        model.register_buffer("w", mg.ones(1))
    assert [name for name, _ in model.named_parameters()] == ["w", "lin.weight", "lin.bias"]
    model.w = nn.Linear(1, 1)  # assignment may change a name's kind, as in PyTorch
    assert "w.weight" in dict(model.named_parameters())


def test_module_to_takes_pytorchs_arguments():
    torch = pytest.importorskip("torch")
    model = nn.Linear(2, 3)
    weight = model.weight
    assert model.to("cpu") is model and model.to(mg.device("cpu")) is model
    assert model.to(device="cpu") is model and model.cpu() is model
    assert model.to("cpu", mg.float64).weight.dtype == mg.float64
    assert model.to(mg.zeros(1, dtype=mg.float32)).weight.dtype == mg.float32
    assert model.to(dtype=mg.float64).weight is weight  # converted in place, same Parameter
    with pytest.raises(RuntimeError, match="cuda"):
        model.to("cuda")
    # PyTorch refuses integer dtypes for a module too.
    with pytest.raises(TypeError):
        torch.nn.Linear(2, 3).to(torch.int64)
    with pytest.raises(TypeError, match="float32 or float64"):
        model.to(mg.int64)
