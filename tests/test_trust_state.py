"""SPEC §9 "Trust": optimizer state is what it says, and refusals leave everything as it was.

Each test here reproduces a behaviour that was once wrong: packed optimizer state that a deep
copy or ``state.clear()`` did not reach, a parameter that stopped sharing its tensor's array,
containers and ``load_state_dict`` that refused half-way, values out of a function's domain.
"""

import copy

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
    return [p.data.copy() for p in model.parameters()]


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
        np.testing.assert_array_equal(p.data, before)
    for before, p in zip(original_before, model_copy.parameters()):
        assert not np.array_equal(p.data, before)
    # ... and continued exactly as the original does with the same step.
    train_step(model, optimizer, x)
    for p, q in zip(model.parameters(), model_copy.parameters()):
        np.testing.assert_array_equal(p.data, q.data)
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
    before_original, before_clone = arrays(model), [p.data.copy() for p in params]
    for p in params:
        p.grad = mg.ones(*p.shape)
    clone.step()
    for before, p in zip(before_original, model.parameters()):
        np.testing.assert_array_equal(p.data, before)
    for before, p in zip(before_clone, params):
        assert not np.array_equal(p.data, before)
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
        np.testing.assert_array_equal(p.data, q.data)


# -- 2. state.clear() and del state[p] ------------------------------------------------------


def test_clearing_adam_state_restarts_its_moments_as_torch_does():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    start = [rng.standard_normal(shape) for shape in [(3, 2), (4,)]]
    grads = [[rng.standard_normal(a.shape) for a in start] for _ in range(10)]

    params = [mg.tensor(a, requires_grad=True) for a in start]
    t_params = [torch.tensor(a, requires_grad=True) for a in start]
    opt, t_opt = optim.Adam(params, lr=0.1), torch.optim.Adam(t_params, lr=0.1)
    for k in range(10):
        if k == 5:
            opt.state.clear()
            t_opt.state.clear()
            assert opt.state_dict()["state"] == {}
        for p, t, g in zip(params, t_params, grads[k]):
            p.grad, t.grad = mg.tensor(g), torch.tensor(g)
        opt.step()
        t_opt.step()
    for p, t in zip(params, t_params):
        np.testing.assert_allclose(p.data, t.detach().numpy(), rtol=1e-12, atol=1e-14)
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
            g = np.cos(p.data * (k + 1))
            p.grad, t.grad = mg.tensor(g), torch.tensor(g)
        opt.step()
        t_opt.step()
    for p, t in zip(params, t_params):
        np.testing.assert_allclose(p.data, t.detach().numpy(), rtol=1e-12, atol=1e-14)


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
        np.testing.assert_array_equal(t.data, p.data)
    assert not np.array_equal(t.data, [1.0, 2.0, 3.0])
    t.data += 10.0  # and a change through t is seen by p, and by the next step
    np.testing.assert_array_equal(p.data, t.data)
    p.grad, other.grad = mg.ones(3), mg.ones(2)
    opt.step()
    assert (t.data > 10).all()
    np.testing.assert_array_equal(t.data, p.data)


def test_views_and_state_dicts_taken_before_the_first_step_see_the_updates():
    model = small_model()
    weights = model.state_dict()["0.weight"]
    first_row = model[0].weight.data[0]
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    train_step(model, optimizer, mg.randn(5, 3))
    np.testing.assert_array_equal(weights.data, model[0].weight.data)
    np.testing.assert_array_equal(first_row, model[0].weight.data[0])


def test_read_only_parameter_is_refused_before_any_update():
    frozen = np.arange(3.0)
    frozen.flags.writeable = False
    p, q = nn.Parameter(mg.zeros(2)), nn.Parameter(frozen)
    opt = optim.SGD([p, q], lr=0.1)
    p.grad, q.grad = mg.ones(2), mg.ones(3)
    with pytest.raises(RuntimeError, match="read-only"):
        opt.step()
    np.testing.assert_array_equal(p.data, [0.0, 0.0])
    np.testing.assert_array_equal(frozen, [0.0, 1.0, 2.0])
