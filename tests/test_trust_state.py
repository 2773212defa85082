"""SPEC §9 "Trust": optimizer state is what it says, and refusals leave everything as it was.

Each test here reproduces a behaviour that was once wrong: packed optimizer state that a deep
copy or ``state.clear()`` did not reach, a parameter that stopped sharing its tensor's array,
containers and ``load_state_dict`` that refused half-way, values out of a function's domain.
"""

import copy
import sys

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, optim
from minigrad.data import DataLoader, TensorDataset
from minigrad.nn import functional as F


def small_model():
    mg.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))


def train_step(model, optimizer, x):
    optimizer.zero_grad()
    (model(x) ** 2).sum().backward()
    optimizer.step()


def arrays(model):
    return [p.array.copy() for p in model.parameters()]


# -- 1. copy.deepcopy ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["SGD", "Adam", "NAdam"])
def test_deepcopy_of_model_and_optimizer_is_an_independent_pair(name):
    model = small_model()
    optimizer = getattr(optim, name)(model.parameters(), lr=0.1, **(
        {"momentum": 0.9} if name == "SGD" else {}))
    x = mg.randn(5, 3)
    train_step(model, optimizer, x)

    model_copy, optimizer_copy = copy.deepcopy((model, optimizer))
    original_before = arrays(model)
    train_step(model_copy, optimizer_copy, x)

    # The copy moved its own model and left the original alone ...
    for before, p in zip(original_before, model.parameters()):
        np.testing.assert_array_equal(p.array, before)
    for before, p in zip(original_before, model_copy.parameters()):
        assert not np.array_equal(p.array, before)
    # ... and continued exactly as the original does with the same step.
    train_step(model, optimizer, x)
    for p, q in zip(model.parameters(), model_copy.parameters()):
        np.testing.assert_array_equal(p.array, q.array)
    saved, saved_copy = optimizer.state_dict(), optimizer_copy.state_dict()
    for index, entry in saved["state"].items():
        for key, value in entry.items():
            np.testing.assert_array_equal(saved_copy["state"][index][key], value)


def test_deepcopy_of_an_optimizer_alone_steps_its_own_parameters():
    model = small_model()
    optimizer = optim.Adam(model.parameters(), lr=0.1)
    x = mg.randn(5, 3)
    train_step(model, optimizer, x)
    clone = copy.deepcopy(optimizer)
    params = [p for group in clone.param_groups for p in group["params"]]
    before_original, before_clone = arrays(model), [p.array.copy() for p in params]
    for p in params:
        p.grad = mg.ones(*p.shape)
    clone.step()
    for before, p in zip(before_original, model.parameters()):
        np.testing.assert_array_equal(p.array, before)
    for before, p in zip(before_clone, params):
        assert not np.array_equal(p.array, before)
    # Its state shows the values it steps with: two steps now.
    assert all(entry["step"] == 2 for entry in clone.state_dict()["state"].values())
    assert all(entry["step"] == 1 for entry in optimizer.state_dict()["state"].values())


def test_state_dict_round_trip_continues_the_same_trajectory():
    model = small_model()
    optimizer = optim.Adam(model.parameters(), lr=0.1)
    x = mg.randn(5, 3)
    train_step(model, optimizer, x)
    other = small_model()
    other.load_state_dict(model.state_dict())
    other_optimizer = optim.Adam(other.parameters(), lr=0.1)
    other_optimizer.load_state_dict(optimizer.state_dict())
    for _ in range(2):
        train_step(model, optimizer, x)
        train_step(other, other_optimizer, x)
    for p, q in zip(model.parameters(), other.parameters()):
        np.testing.assert_array_equal(p.array, q.array)


# -- 2. state.clear() and del state[p] ------------------------------------------------------


@pytest.mark.parametrize("name, hyperparameters", [
    ("Adam", dict(lr=0.1)), ("Adam", dict(lr=0.1, amsgrad=True)), ("AdamW", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)), ("Adagrad", dict(lr=0.1)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True)), ("NAdam", dict(lr=0.1)),
])
def test_clearing_the_state_restarts_the_moments_as_torch_does(name, hyperparameters):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    start = [rng.standard_normal(shape) for shape in [(3, 2), (4,)]]
    grads = [[rng.standard_normal(a.shape) for a in start] for _ in range(10)]

    params = [mg.tensor(a, requires_grad=True) for a in start]
    t_params = [torch.tensor(a, requires_grad=True) for a in start]
    opt = getattr(optim, name)(params, **hyperparameters)
    t_opt = getattr(torch.optim, name)(t_params, **hyperparameters)
    for k in range(10):
        if k == 5:
            opt.state.clear()
            t_opt.state.clear()
            assert opt.state_dict()["state"] == {}
        for p, t, g in zip(params, t_params, grads[k]):
            p.grad, t.grad = mg.tensor(g), torch.tensor(g)
        opt.step()
        t_opt.step()
    # (PyTorch's NAdam keeps its product of momenta in float32, minigrad's in float64)
    tolerance = dict(rtol=1e-7, atol=1e-8) if name == "NAdam" else dict(rtol=1e-12, atol=1e-14)
    for p, t in zip(params, t_params):
        np.testing.assert_allclose(p.array, t.detach().numpy(), **tolerance)
    if name != "SGD":  # (SGD's step count is not part of its state)
        assert opt.state_dict()["state"][0]["step"] == 5


def test_deleting_one_entry_restarts_only_that_parameter():
    torch = pytest.importorskip("torch")
    start = [np.linspace(-1, 1, 6).reshape(2, 3), np.array([0.5, -2.0])]
    params = [mg.tensor(a, requires_grad=True) for a in start]
    t_params = [torch.tensor(a, requires_grad=True) for a in start]
    opt = optim.SGD(params, lr=0.1, momentum=0.9)
    t_opt = torch.optim.SGD(t_params, lr=0.1, momentum=0.9)
    for k in range(6):
        if k == 3:
            del opt.state[params[0]]
            del t_opt.state[t_params[0]]
        for p, t in zip(params, t_params):
            g = np.cos(p.array * (k + 1))
            p.grad, t.grad = mg.tensor(g), torch.tensor(g)
        opt.step()
        t_opt.step()
    for p, t in zip(params, t_params):
        np.testing.assert_allclose(p.array, t.detach().numpy(), rtol=1e-12, atol=1e-14)


# -- 3. nn.Parameter(t) shares t's array ---------------------------------------------------


@pytest.mark.parametrize("name", ["SGD", "Adam"])
def test_parameter_shares_its_tensors_array_through_optimizer_steps(name):
    t = mg.tensor([1.0, 2.0, 3.0])
    p = nn.Parameter(t)
    other = nn.Parameter(mg.zeros(2))  # packed alongside it
    opt = getattr(optim, name)([p, other], lr=0.1)
    for _ in range(2):
        p.grad, other.grad = mg.ones(3), mg.ones(2)
        opt.step()
        np.testing.assert_array_equal(t.array, p.array)
    assert not np.array_equal(t.array, [1.0, 2.0, 3.0])
    t.array += 10.0  # and a change through t is seen by p, and by the next step
    np.testing.assert_array_equal(p.array, t.array)
    p.grad, other.grad = mg.ones(3), mg.ones(2)
    opt.step()
    assert (t.array > 10).all()
    np.testing.assert_array_equal(t.array, p.array)


def test_views_and_state_dicts_taken_before_the_first_step_see_the_updates():
    model = small_model()
    weights = model.state_dict()["0.weight"]
    first_row = model[0].weight.array[0]
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    train_step(model, optimizer, mg.randn(5, 3))
    np.testing.assert_array_equal(weights.array, model[0].weight.array)
    np.testing.assert_array_equal(first_row, model[0].weight.array[0])


def test_read_only_parameter_is_refused_before_any_update():
    frozen = np.arange(3.0)
    frozen.flags.writeable = False
    p, q = nn.Parameter(mg.zeros(2)), nn.Parameter(frozen)
    opt = optim.SGD([p, q], lr=0.1)
    p.grad, q.grad = mg.ones(2), mg.ones(3)
    with pytest.raises(RuntimeError, match="read-only"):
        opt.step()
    np.testing.assert_array_equal(p.array, [0.0, 0.0])
    np.testing.assert_array_equal(frozen, [0.0, 1.0, 2.0])


# -- 4. containers refuse before changing anything -------------------------------------------


def layer_list():
    return nn.ModuleList([nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1)])


@pytest.mark.parametrize("change", [
    lambda layers: layers.insert(1, "x"),
    lambda layers: layers.append("x"),
    lambda layers: layers.extend([nn.Tanh(), "x"]),
    lambda layers: layers.extend(nn.Tanh()),
    lambda layers: layers.__setitem__(0, "x"),
    lambda layers: layers.__setitem__(5, nn.Tanh()),
    lambda layers: layers.insert("1", nn.Tanh()),
], ids=["insert", "append", "extend", "extend-module", "setitem", "setitem-range",
        "insert-index"])
def test_module_list_refusals_leave_the_list_as_it_was(change):
    layers = layer_list()
    before = list(layers)
    names = [name for name, _ in layers.named_parameters()]
    with pytest.raises((TypeError, IndexError)):
        change(layers)
    assert list(layers) == before
    assert [name for name, _ in layers.named_parameters()] == names


def test_module_list_insert_error_names_the_type():
    with pytest.raises(TypeError, match="ModuleList.insert: str is not a Module"):
        layer_list().insert(1, "x")


@pytest.mark.parametrize("change", [
    lambda seq: seq.append("x"),
    lambda seq: seq.__setitem__(0, 3),
    lambda seq: seq.__setitem__(7, nn.Tanh()),
], ids=["append", "setitem", "setitem-range"])
def test_sequential_refusals_leave_it_as_it_was(change):
    seq = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    before = list(seq)
    with pytest.raises((TypeError, IndexError)):
        change(seq)
    assert list(seq) == before


# -- 5. load_state_dict into a read-only destination ------------------------------------------


def test_load_state_dict_refuses_a_read_only_destination_and_changes_nothing():
    model = small_model()
    source = small_model()
    for p in source.parameters():
        p.array += 1.0
    before = arrays(model)
    model[2].weight.array.flags.writeable = False
    with pytest.raises(RuntimeError, match='"2.weight".*read-only'):
        model.load_state_dict(source.state_dict())
    for old, p in zip(before, model.parameters()):
        np.testing.assert_array_equal(p.array, old)


def test_optimizer_load_state_dict_refusal_changes_nothing():
    model = small_model()
    optimizer = optim.Adam(model.parameters(), lr=0.1)
    train_step(model, optimizer, mg.randn(5, 3))
    saved = optimizer.state_dict()
    saved["param_groups"][0]["lr"] = 0.5
    saved["state"][3]["exp_avg"] = np.zeros(7)  # the last parameter's: wrong shape
    before = copy.deepcopy(optimizer.state_dict())
    with pytest.raises(RuntimeError, match="exp_avg.*shape \\(7,\\)") as error:
        optimizer.load_state_dict(saved)
    assert isinstance(error.value, ValueError)  # what minigrad raised before, still true
    after = optimizer.state_dict()
    assert after["param_groups"] == before["param_groups"]
    for index, entry in before["state"].items():
        for key, value in entry.items():
            np.testing.assert_array_equal(after["state"][index][key], value)


@pytest.mark.parametrize("damage", [
    lambda saved: saved["param_groups"][0].pop("params"),
    lambda saved: saved["param_groups"].__setitem__(0, 5),
    lambda saved: saved.__setitem__("state", [1]),
    lambda saved: saved["state"].__setitem__("x", {}),
    lambda saved: saved["param_groups"][0].__setitem__("params", [0, 0, 1, 2]),
], ids=["no-params", "group-not-dict", "state-not-dict", "bad-index", "repeated-index"])
def test_optimizer_load_state_dict_names_malformed_parts(damage):
    model = small_model()
    optimizer = optim.Adam(model.parameters(), lr=0.1)
    train_step(model, optimizer, mg.randn(5, 3))
    saved = optimizer.state_dict()
    damage(saved)
    with pytest.raises(ValueError, match="Adam.load_state_dict: .*(group|state|index)"):
        optimizer.load_state_dict(saved)


# -- 6. and 7. values out of a function's domain --------------------------------------------


@pytest.mark.parametrize("x, y, name", [
    ([0.5], [2.0], "target"), ([0.5, 0.2], [1.0, -0.1], "target"),
    ([0.5], [float("nan")], "target"), ([1.5], [1.0], "input"),
])
def test_binary_cross_entropy_refuses_values_outside_0_1_as_torch(x, y, name):
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError, match=f"elements of {name} should be between 0 and 1"):
        torch.nn.functional.binary_cross_entropy(torch.tensor(x), torch.tensor(y))
    with pytest.raises(RuntimeError, match=f"elements of {name} should be between 0 and 1"):
        F.binary_cross_entropy(mg.tensor(x), mg.tensor(y))
    with pytest.raises(ValueError):  # also a ValueError, as minigrad raised before
        nn.BCELoss()(mg.tensor(x), mg.tensor(y))


@pytest.mark.parametrize("loss", [F.cross_entropy, F.nll_loss])
@pytest.mark.parametrize("bad", [3, -2])
def test_class_index_out_of_range_names_the_index_and_the_class_count(loss, bad):
    scores = mg.randn(2, 3)
    with pytest.raises(IndexError, match=f"target value {bad} .*3 classes"):
        loss(scores, mg.tensor([0, bad]))
    loss(scores, mg.tensor([0, -100]))  # ignore_index is not a class, and is allowed


def test_huge_batch_size_gives_one_batch_as_torch_and_beyond_sys_maxsize_an_error():
    data = TensorDataset(mg.arange(5.0))
    assert [len(x) for (x,) in DataLoader(data, batch_size=sys.maxsize)] == [5]
    assert len(DataLoader(data, batch_size=sys.maxsize)) == 1
    with pytest.raises(ValueError, match="batch_size must be at most sys.maxsize"):
        DataLoader(data, batch_size=10**400)


@pytest.mark.parametrize("argument", [dict(shuffle="no"), dict(drop_last=None),
                                      dict(drop_last=2)])
def test_loader_flags_must_be_booleans(argument):
    with pytest.raises(ValueError, match=f"{next(iter(argument))} must be True or False"):
        DataLoader(TensorDataset(mg.arange(5.0)), **argument)


def test_a_state_value_replaced_by_the_user_is_used_as_in_torch():
    torch = pytest.importorskip("torch")
    start = np.array([0.3, -1.2, 2.0])
    p, t = mg.tensor(start, requires_grad=True), torch.tensor(start, requires_grad=True)
    opt, t_opt = optim.Adam([p], lr=0.1), torch.optim.Adam([t], lr=0.1)
    for k in range(4):
        if k == 2:
            opt.state[p]["exp_avg"] = np.full(3, 0.5)
            t_opt.state[t]["exp_avg"] = torch.full((3,), 0.5, dtype=torch.float64)
        g = np.sin(start * (k + 1))
        p.grad, t.grad = mg.tensor(g), torch.tensor(g)
        opt.step()
        t_opt.step()
    np.testing.assert_allclose(p.array, t.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_parameter_shares_its_tensors_version_and_a_step_bumps_it_as_torch():
    torch = pytest.importorskip("torch")
    t, t_torch = mg.tensor([1.0, 2.0]), torch.tensor([1.0, 2.0])
    p, p_torch = nn.Parameter(t), torch.nn.Parameter(t_torch)
    opt, opt_torch = optim.SGD([p], lr=0.1), torch.optim.SGD([p_torch], lr=0.1)
    p.grad, p_torch.grad = mg.ones(2), torch.ones(2)
    opt.step()
    opt_torch.step()
    assert p.version == t.version == p_torch._version == t_torch._version == 1


def test_load_state_dict_counts_as_an_in_place_change_as_torch():
    torch = pytest.importorskip("torch")
    model, model_torch = nn.Linear(2, 2), torch.nn.Linear(2, 2)
    before, before_torch = model.weight.version, model_torch.weight._version
    model.load_state_dict(nn.Linear(2, 2).state_dict())
    model_torch.load_state_dict(torch.nn.Linear(2, 2).state_dict())
    assert model.weight.version - before == model_torch.weight._version - before_torch == 1


def test_a_bad_value_put_in_the_state_is_refused_before_any_update():
    p = mg.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    p.grad = mg.ones(2)
    opt.step()
    after_one_step = p.array.copy()
    opt.state[p]["exp_avg"] = np.zeros(3)
    with pytest.raises(ValueError, match="'exp_avg' has shape \\(3,\\)"):
        opt.step()
    np.testing.assert_array_equal(p.array, after_one_step)
