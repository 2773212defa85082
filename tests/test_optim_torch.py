"""Step-by-step parity of minigrad.optim with torch.optim (single-tensor implementations)."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import optim

torch = pytest.importorskip("torch")

CASES = [
    ("SGD", dict(lr=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.05)),
    ("SGD", dict(lr=0.01, momentum=0.9, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.05, initial_accumulator_value=0.2)),
    ("Adagrad", dict(lr=0.05, eps=1e-4, maximize=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, centered=True, weight_decay=0.05)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, eps=1e-6)),
    ("RMSprop", dict(lr=0.005, momentum=0.5, centered=True, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.005, amsgrad=True, maximize=True)),
    ("Adam", dict(lr=0.01, betas=(0.3, 0.9))),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.3, amsgrad=True)),
    ("AdamW", dict(lr=0.005, maximize=True)),
    ("NAdam", dict(lr=0.01)),
    ("NAdam", dict(lr=0.01, betas=(0.8, 0.99), momentum_decay=0.01, weight_decay=0.05)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("NAdam", dict(lr=0.005, maximize=True, weight_decay=0.05)),
]

SHAPES = [(4, 3), (3,), (2, 2, 2), (1,)]
TOLERANCE = {np.float32: dict(rtol=2e-5, atol=2e-6), np.float64: dict(rtol=1e-11, atol=1e-13)}


def grad_of(theta: np.ndarray, k: int, maximize: bool) -> np.ndarray:
    g = (k + 1) * 0.5 * theta + np.sin(3 * theta) + 0.1 * theta**3
    return -g if maximize else g


@pytest.fixture
def torch_dtype():
    """Run torch with the given default dtype (its step counters and NAdam's mu_product use
    it), and restore the default afterwards."""
    previous = torch.get_default_dtype()
    yield lambda dtype: torch.set_default_dtype(
        torch.float64 if dtype == np.float64 else torch.float32)
    torch.set_default_dtype(previous)


def case_id(case):
    name, kwargs = case
    return name + "-" + "-".join(f"{k}={v}" for k, v in kwargs.items())


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_step_by_step_parity_with_torch(case, dtype, torch_dtype):
    name, kwargs = case
    torch_dtype(dtype)
    rng = np.random.default_rng(1)
    start = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    ours = [mg.tensor(a.copy(), requires_grad=True) for a in start]
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in start]
    opt = getattr(optim, name)(ours, **kwargs)
    ref = getattr(torch.optim, name)(theirs, foreach=False, **kwargs)
    maximize = kwargs.get("maximize", False)
    for step in range(60):
        for k, (p, q) in enumerate(zip(ours, theirs)):
            # each side's gradient from its own parameters, so errors are not hidden
            p.grad = mg.tensor(grad_of(p.array, k, maximize).astype(dtype))
            q.grad = torch.from_numpy(grad_of(q.detach().numpy(), k, maximize).astype(dtype))
        opt.step()
        ref.step()
        for p, q in zip(ours, theirs):
            assert p.dtype == dtype
            np.testing.assert_allclose(p.array, q.detach().numpy(), **TOLERANCE[dtype],
                                       err_msg=f"step {step + 1}")
    for p, q in zip(ours, theirs):
        assert set(opt.state[p]) == set(ref.state[q])
        for key, value in ref.state[q].items():
            np.testing.assert_allclose(np.asarray(opt.state[p][key], dtype=np.float64),
                                       value.double().numpy(), rtol=1e-4, atol=1e-6,
                                       err_msg=key)


@pytest.mark.parametrize("name, kwargs", [("Adam", dict(lr=0.01)),
                                          ("SGD", dict(lr=0.05, momentum=0.9)),
                                          ("NAdam", dict(lr=0.01)),
                                          ("Adagrad", dict(lr=0.1))])
def test_parity_with_missing_gradients_and_groups(name, kwargs):
    rng = np.random.default_rng(2)
    start = [rng.standard_normal(s) for s in SHAPES]
    ours = [mg.tensor(a.copy(), requires_grad=True) for a in start]
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in start]
    opt = getattr(optim, name)([{"params": ours[:2], "lr": 0.003}, {"params": ours[2:]}],
                               **kwargs)
    ref = getattr(torch.optim, name)([{"params": theirs[:2], "lr": 0.003},
                                      {"params": theirs[2:]}], foreach=False, **kwargs)
    for step in range(40):
        for k, (p, q) in enumerate(zip(ours, theirs)):
            if (k + step) % 3 == 0:  # a changing pattern of parameters without gradient
                p.grad, q.grad = None, None
            else:
                p.grad = mg.tensor(grad_of(p.array, k, False))
                q.grad = torch.from_numpy(grad_of(q.detach().numpy(), k, False))
        opt.step()
        ref.step()
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.array, q.detach().numpy(), rtol=1e-6, atol=1e-9)


def test_torch_state_dict_loads_and_continues_the_same():
    rng = np.random.default_rng(3)
    start = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in start]
    ref = torch.optim.Adam(theirs, lr=0.01, amsgrad=True, foreach=False)
    for _ in range(5):
        for k, q in enumerate(theirs):
            q.grad = torch.from_numpy(grad_of(q.detach().numpy(), k, False))
        ref.step()
    ours = [mg.tensor(q.detach().numpy().copy(), requires_grad=True) for q in theirs]
    opt = optim.Adam(ours)
    opt.load_state_dict(ref.state_dict())
    assert opt.param_groups[0]["amsgrad"] is True and opt.param_groups[0]["lr"] == 0.01
    for _ in range(5):
        for k, (p, q) in enumerate(zip(ours, theirs)):
            p.grad = mg.tensor(grad_of(p.array, k, False))
            q.grad = torch.from_numpy(grad_of(q.detach().numpy(), k, False))
        opt.step()
        ref.step()
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.array, q.detach().numpy(), rtol=2e-5, atol=2e-6)


def test_our_state_dict_loads_into_torch():
    w = mg.tensor(np.array([0.5, -1.0, 2.0], np.float32), requires_grad=True)
    opt = optim.SGD([w], lr=0.1, momentum=0.9)
    for _ in range(3):
        w.grad = mg.tensor(np.sin(w.array))
        opt.step()
    sd = opt.state_dict()
    q = torch.tensor(w.array.copy(), requires_grad=True)
    ref = torch.optim.SGD([q], lr=0.5, foreach=False)
    ref.load_state_dict({
        "state": {i: {k: torch.tensor(v) for k, v in entry.items()}
                  for i, entry in sd["state"].items()},
        "param_groups": sd["param_groups"],
    })
    for _ in range(3):
        w.grad = mg.tensor(np.sin(w.array))
        q.grad = torch.from_numpy(np.sin(q.detach().numpy()))
        opt.step()
        ref.step()
    np.testing.assert_allclose(w.array, q.detach().numpy(), rtol=1e-6)


def test_adagrad_state_exists_from_construction_as_in_torch():
    w = mg.tensor(np.array([1.0, 2.0], np.float32), requires_grad=True)
    opt = optim.Adagrad([w], initial_accumulator_value=0.5)
    ref = torch.optim.Adagrad([torch.tensor([1.0, 2.0], requires_grad=True)],
                              initial_accumulator_value=0.5)
    ours, theirs = opt.state_dict()["state"], ref.state_dict()["state"]
    assert set(ours) == set(theirs) == {0}
    assert set(ours[0]) == set(theirs[0])
    np.testing.assert_array_equal(ours[0]["sum"], theirs[0]["sum"].numpy())
    assert ours[0]["step"] == float(theirs[0]["step"]) == 0.0
