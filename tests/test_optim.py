"""minigrad.optim against reference loops written from the published equations, golden values
worked out by hand, convergence on a parabola and on Rosenbrock, and the Optimizer API."""

import copy
import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import optim

# ---------------------------------------------------------------------------------------
# Reference implementations: plain float64 NumPy, one parameter at a time, written from the
# papers / PyTorch documentation's pseudo-code (not from minigrad's source).
# ---------------------------------------------------------------------------------------


def ref_sgd(lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, maximize=False):
    def step(theta, g, s):
        if maximize:
            g = -g
        if weight_decay:
            g = g + weight_decay * theta
        if momentum:
            s["b"] = g.copy() if "b" not in s else momentum * s["b"] + (1 - dampening) * g
            g = g + momentum * s["b"] if nesterov else s["b"]
        return theta - lr * g
    return step


def ref_adagrad(lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                maximize=False):
    def step(theta, g, s):
        s["t"] = s.get("t", 0) + 1
        s.setdefault("sum", np.full_like(theta, initial_accumulator_value))
        if maximize:
            g = -g
        if weight_decay:
            g = g + weight_decay * theta
        lr_t = lr / (1 + (s["t"] - 1) * lr_decay)
        s["sum"] = s["sum"] + g**2
        return theta - lr_t * g / (np.sqrt(s["sum"]) + eps)
    return step


def ref_rmsprop(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                maximize=False):
    def step(theta, g, s):
        if maximize:
            g = -g
        if weight_decay:
            g = g + weight_decay * theta
        s["v"] = alpha * s.get("v", 0) + (1 - alpha) * g**2
        if centered:
            s["gbar"] = alpha * s.get("gbar", 0) + (1 - alpha) * g
            rms = np.sqrt(s["v"] - s["gbar"] ** 2) + eps
        else:
            rms = np.sqrt(s["v"]) + eps
        if momentum > 0:
            s["b"] = momentum * s.get("b", 0) + g / rms
            return theta - lr * s["b"]
        return theta - lr * g / rms
    return step


def ref_adam(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False,
             maximize=False, decoupled=False):
    b1, b2 = betas

    def step(theta, g, s):
        s["t"] = t = s.get("t", 0) + 1
        if maximize:
            g = -g
        if weight_decay and decoupled:
            theta = theta * (1 - lr * weight_decay)
        elif weight_decay:
            g = g + weight_decay * theta
        s["m"] = b1 * s.get("m", 0) + (1 - b1) * g
        s["v"] = b2 * s.get("v", 0) + (1 - b2) * g**2
        v = s["v"]
        if amsgrad:
            s["vmax"] = v = np.maximum(s.get("vmax", 0), s["v"])
        m_hat = s["m"] / (1 - b1**t)
        v_hat = v / (1 - b2**t)
        return theta - lr * m_hat / (np.sqrt(v_hat) + eps)
    return step


def ref_adamw(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False,
              maximize=False):
    return ref_adam(lr, betas, eps, weight_decay, amsgrad, maximize, decoupled=True)


def ref_nadam(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
              decoupled_weight_decay=False, maximize=False):
    b1, b2 = betas

    def mu(t):
        return b1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))

    def step(theta, g, s):
        s["t"] = t = s.get("t", 0) + 1
        if maximize:
            g = -g
        if weight_decay and decoupled_weight_decay:
            theta = theta * (1 - lr * weight_decay)
        elif weight_decay:
            g = g + weight_decay * theta
        prod_t = math.prod(mu(i) for i in range(1, t + 1))
        prod_next = prod_t * mu(t + 1)
        s["m"] = b1 * s.get("m", 0) + (1 - b1) * g
        s["v"] = b2 * s.get("v", 0) + (1 - b2) * g**2
        v_hat = s["v"] / (1 - b2**t)
        m_bar = mu(t + 1) * s["m"] / (1 - prod_next) + (1 - mu(t)) * g / (1 - prod_t)
        return theta - lr * m_bar / (np.sqrt(v_hat) + eps)
    return step


REFERENCES = {"SGD": ref_sgd, "Adagrad": ref_adagrad, "RMSprop": ref_rmsprop, "Adam": ref_adam,
              "AdamW": ref_adamw, "NAdam": ref_nadam}

# Every option of every optimizer, each with a learning rate that keeps the problem tame.
CASES = [
    ("SGD", dict(lr=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.5)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.05, momentum=0.5, weight_decay=0.1)),
    ("SGD", dict(lr=0.01, momentum=0.9, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.5)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.1, eps=1e-3)),
    ("Adagrad", dict(lr=0.01, maximize=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, centered=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.1, eps=1e-4)),
    ("RMSprop", dict(lr=0.001, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.1)),
    ("Adam", dict(lr=0.001, maximize=True, amsgrad=True)),
    ("Adam", dict(lr=0.01, betas=(0.3, 0.999))),  # 1 − β1 > ½: the other branch of lerp
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.5, amsgrad=True)),
    ("AdamW", dict(lr=0.001, maximize=True)),
    ("NAdam", dict(lr=0.01)),
    ("NAdam", dict(lr=0.01, momentum_decay=0.01, betas=(0.8, 0.99))),
    ("NAdam", dict(lr=0.01, weight_decay=0.1)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("NAdam", dict(lr=0.005, maximize=True, weight_decay=0.1)),
]

SHAPES = [(3, 4), (5,), (2, 1, 3), ()]


def objective_grad(theta: np.ndarray, k: int) -> np.ndarray:
    """Gradient of a smooth non-quadratic bowl, different for each parameter k."""
    return (k + 1) * 0.5 * theta + np.sin(3 * theta) + 0.1 * theta**3


def make_start(dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape).astype(dtype) for shape in SHAPES]


def ascent_grad(theta: np.ndarray, k: int) -> np.ndarray:
    """The gradient of −(the bowl): what ``maximize=True`` climbs to the bowl's bottom."""
    return -objective_grad(theta, k)


def default_grad(kwargs):
    return ascent_grad if kwargs.get("maximize") else objective_grad


def run_reference(name, kwargs, start, steps, grad_fn=None):
    grad_fn = grad_fn or default_grad(kwargs)
    update = REFERENCES[name](**kwargs)
    thetas = [t.astype(np.float64) for t in start]
    states = [{} for _ in thetas]
    for _ in range(steps):
        thetas = [update(t, grad_fn(t, k), s) for k, (t, s) in enumerate(zip(thetas, states))]
    return thetas


def run_minigrad(name, kwargs, start, steps, grad_fn=None):
    grad_fn = grad_fn or default_grad(kwargs)
    params = [mg.tensor(t.copy(), requires_grad=True) for t in start]
    opt = getattr(optim, name)(params, **kwargs)
    for _ in range(steps):
        for k, p in enumerate(params):
            p.grad = mg.tensor(grad_fn(p.array, k))
        opt.step()
    return params, opt


def case_id(case):
    name, kwargs = case
    return name + "-" + "-".join(f"{k}={v}" for k, v in kwargs.items())


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_matches_reference_loop_over_200_steps(case):
    name, kwargs = case
    start = make_start()
    params, _ = run_minigrad(name, kwargs, start, 200)
    expected = run_reference(name, kwargs, start, 200)
    for p, e, s in zip(params, expected, start):
        assert p.array.dtype == np.float64
        assert not np.allclose(e, s), "the reference did not move: the test could not fail"
        np.testing.assert_allclose(p.array, e, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("case", CASES[::3], ids=case_id)
def test_float32_matches_reference_to_float32_rounding(case):
    name, kwargs = case
    start = make_start(np.float32)
    params, _ = run_minigrad(name, kwargs, start, 50)
    expected = run_reference(name, kwargs, start, 50)
    for p, e in zip(params, expected):
        assert p.array.dtype == np.float32
        np.testing.assert_allclose(p.array, e, rtol=2e-4, atol=2e-5)


# ---------------------------------------------------------------------------------------
# Golden values, worked out by hand on f(θ) = θ², g = 2θ, from θ = 1.
# ---------------------------------------------------------------------------------------


def steps_on_parabola(opt_factory, n):
    theta = mg.tensor([1.0], dtype=mg.float64, requires_grad=True)
    opt = opt_factory([theta])
    values = []
    for _ in range(n):
        opt.zero_grad()
        (theta * theta).sum().backward()
        opt.step()
        values.append(theta.item())
    return values


def test_golden_sgd_plain():
    # θ ← θ − 0.1·2θ = 0.8·θ
    assert steps_on_parabola(lambda p: optim.SGD(p, lr=0.1), 3) == pytest.approx(
        [0.8, 0.64, 0.512], abs=1e-15)


def test_golden_sgd_momentum():
    # b1 = 2 → θ = 0.8; g = 1.6, b2 = 0.9·2 + 1.6 = 3.4 → θ = 0.46;
    # g = 0.92, b3 = 0.9·3.4 + 0.92 = 3.98 → θ = 0.062
    values = steps_on_parabola(lambda p: optim.SGD(p, lr=0.1, momentum=0.9), 3)
    assert values == pytest.approx([0.8, 0.46, 0.062], abs=1e-14)


def test_golden_sgd_nesterov():
    # b1 = 2, d = 2 + 0.9·2 = 3.8 → θ = 0.62; g = 1.24, b2 = 1.8 + 1.24 = 3.04,
    # d = 1.24 + 0.9·3.04 = 3.976 → θ = 0.2224
    values = steps_on_parabola(lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True), 2)
    assert values == pytest.approx([0.62, 0.2224], abs=1e-14)


def test_golden_sgd_dampening_only_after_first_step():
    # b1 = g = 2 (undamped) → θ = 0.8; g = 1.6, b2 = 0.9·2 + 0.5·1.6 = 2.6 → θ = 0.54
    values = steps_on_parabola(lambda p: optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.5), 2)
    assert values == pytest.approx([0.8, 0.54], abs=1e-14)


def test_golden_adagrad():
    # s = 4, θ = 1 − 0.1·2/2 = 0.9; g = 1.8, s = 7.24, θ = 0.9 − 0.1·1.8/√7.24
    values = steps_on_parabola(lambda p: optim.Adagrad(p, lr=0.1, eps=0), 2)
    assert values == pytest.approx([0.9, 0.9 - 0.18 / math.sqrt(7.24)], abs=1e-14)


def test_golden_adagrad_lr_decay():
    # second step: clr = 0.1 / (1 + 1·0.5)
    values = steps_on_parabola(lambda p: optim.Adagrad(p, lr=0.1, lr_decay=0.5, eps=0), 2)
    assert values[1] == pytest.approx(0.9 - (0.1 / 1.5) * 1.8 / math.sqrt(7.24), abs=1e-14)


def test_golden_rmsprop():
    # v = 0.01·4 = 0.04, θ = 1 − 0.01·2/0.2 = 0.9; g = 1.8, v = 0.0396 + 0.0324 = 0.072
    values = steps_on_parabola(lambda p: optim.RMSprop(p, lr=0.01, eps=0), 2)
    assert values == pytest.approx([0.9, 0.9 - 0.018 / math.sqrt(0.072)], abs=1e-14)


def test_golden_adam():
    # m̂ = g and v̂ = g² at step 1: θ = 1 − 0.1·2/2 = 0.9.
    # Step 2: g = 1.8, m = 0.09·2·... by hand: m = 0.9·0.2 + 0.1·1.8 = 0.36, m̂ = 0.36/0.19;
    # v = 0.999·0.004 + 0.001·3.24 = 0.007236, v̂ = 0.007236/0.001999
    m_hat, v_hat = 0.36 / 0.19, 0.007236 / (1 - 0.999**2)
    values = steps_on_parabola(lambda p: optim.Adam(p, lr=0.1, eps=0), 2)
    assert values == pytest.approx([0.9, 0.9 - 0.1 * m_hat / math.sqrt(v_hat)], abs=1e-14)


def test_golden_adamw_decays_before_the_adam_step():
    # θ = 1·(1 − 0.1·0.5) = 0.95, then the Adam step of size lr: 0.95 − 0.1 = 0.85
    values = steps_on_parabola(lambda p: optim.AdamW(p, lr=0.1, eps=0, weight_decay=0.5), 1)
    assert values == pytest.approx([0.85], abs=1e-14)


def test_golden_nadam_first_step():
    # μ1 = 0.9·(1 − ½·0.96^0.004), μ2 = 0.9·(1 − ½·0.96^0.008); m = 0.2, √v̂ = 2:
    # θ = 1 − 0.1·[(1 − μ1)·2/(1 − μ1) + μ2·0.2/(1 − μ1·μ2)] / 2
    mu1 = 0.9 * (1 - 0.5 * 0.96**0.004)
    mu2 = 0.9 * (1 - 0.5 * 0.96**0.008)
    expected = 1 - 0.1 * (2 + mu2 * 0.2 / (1 - mu1 * mu2)) / 2
    values = steps_on_parabola(lambda p: optim.NAdam(p, lr=0.1, eps=0), 1)
    assert values == pytest.approx([expected], abs=1e-14)
    assert 0.8 < expected < 0.9  # (sanity of the hand computation: about 0.855)


# ---------------------------------------------------------------------------------------
# Convergence: every optimizer solves a parabola and the Rosenbrock function.
# ---------------------------------------------------------------------------------------


CONVERGENCE = {
    # name: (kwargs for the parabola, kwargs for Rosenbrock, Rosenbrock steps)
    "SGD": (dict(lr=0.1, momentum=0.9), dict(lr=1e-3, momentum=0.9), 3000),
    "Adagrad": (dict(lr=0.5), dict(lr=1.5), 6000),
    "RMSprop": (dict(lr=0.05), dict(lr=3e-4, momentum=0.9), 3000),
    "Adam": (dict(lr=0.1), dict(lr=0.02), 3000),
    "AdamW": (dict(lr=0.1, weight_decay=0), dict(lr=0.02, weight_decay=0), 3000),
    "NAdam": (dict(lr=0.1), dict(lr=0.005), 5000),
}


def minimize(name, kwargs, loss_fn, start, steps):
    theta = mg.tensor(np.array(start), requires_grad=True)
    opt = getattr(optim, name)([theta], **kwargs)

    def closure():
        opt.zero_grad()
        loss = loss_fn(theta)
        loss.backward()
        return loss

    for _ in range(steps):
        opt.step(closure)
    return theta.array


def rosenbrock(theta):
    x, y = theta[0], theta[1]
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


@pytest.mark.parametrize("name", sorted(CONVERGENCE))
def test_converges_on_a_parabola(name):
    parabola_kwargs = CONVERGENCE[name][0]
    theta = minimize(name, parabola_kwargs, lambda t: ((t - 3.0) ** 2).sum(),
                     [0.0, -2.0, 5.0], 500)
    np.testing.assert_allclose(theta, [3.0, 3.0, 3.0], atol=1e-3)


@pytest.mark.parametrize("name", sorted(CONVERGENCE))
def test_converges_on_rosenbrock(name):
    _, kwargs, steps = CONVERGENCE[name]
    theta = minimize(name, kwargs, rosenbrock, [-1.5, 2.0], steps)
    np.testing.assert_allclose(theta, [1.0, 1.0], atol=2e-2)


# ---------------------------------------------------------------------------------------
# The Optimizer API
# ---------------------------------------------------------------------------------------


def test_step_returns_the_closure_loss_evaluated_with_grad_enabled():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)

    def closure():
        assert mg.is_grad_enabled()
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with mg.no_grad():
        loss = opt.step(closure)
    assert loss.item() == pytest.approx(5.0)
    np.testing.assert_allclose(w.array, [0.8, 1.6], rtol=1e-6)
    assert opt.step() is None


def test_zero_grad():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    (w * w).sum().backward()
    grad = w.grad
    opt.zero_grad(set_to_none=False)
    assert w.grad is grad and np.all(grad.array == 0)
    opt.zero_grad()
    assert w.grad is None


def test_parameters_without_grad_are_skipped_and_their_state_does_not_advance():
    start = make_start()
    params = [mg.tensor(t.copy(), requires_grad=True) for t in start]
    opt = optim.Adam(params, lr=0.01)
    references = [ref_adam(lr=0.01) for _ in params]
    thetas = [t.copy() for t in start]
    states = [{} for _ in params]
    for it in range(30):
        for k, p in enumerate(params):
            # parameter 1 has no gradient on even steps, parameter 3 never has one
            skip = k == 3 or (k == 1 and it % 2 == 0)
            p.grad = None if skip else mg.tensor(objective_grad(p.array, k))
            if not skip:
                thetas[k] = references[k](thetas[k], objective_grad(thetas[k], k), states[k])
        opt.step()
    for p, t in zip(params, thetas):
        np.testing.assert_allclose(p.array, t, rtol=1e-10, atol=1e-12)
    assert float(opt.state[params[0]]["step"]) == 30
    assert float(opt.state[params[1]]["step"]) == 15
    assert params[3] not in opt.state
    np.testing.assert_array_equal(params[3].array, start[3])


def test_frozen_parameter_is_never_touched():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    frozen = mg.tensor([3.0, 4.0])
    opt = optim.SGD([w, frozen], lr=0.1, momentum=0.9)
    for _ in range(3):
        opt.zero_grad()
        (w * w).sum().backward()
        opt.step()
    np.testing.assert_array_equal(frozen.array, [3.0, 4.0])
    assert frozen not in opt.state


def test_param_groups_with_their_own_hyperparameters():
    start = make_start()
    params = [mg.tensor(t.copy(), requires_grad=True) for t in start]
    opt = optim.SGD([{"params": params[:2], "lr": 0.01, "momentum": 0.5},
                     {"params": params[2:]}], lr=0.05, momentum=0.9, nesterov=False)
    assert opt.param_groups[0]["lr"] == 0.01 and opt.param_groups[1]["lr"] == 0.05
    assert opt.param_groups[1]["momentum"] == 0.9
    updates = [ref_sgd(lr=0.01, momentum=0.5)] * 2 + [ref_sgd(lr=0.05, momentum=0.9)] * 2
    thetas, states = [t.copy() for t in start], [{} for _ in start]
    for _ in range(50):
        for k, p in enumerate(params):
            p.grad = mg.tensor(objective_grad(p.array, k))
            thetas[k] = updates[k](thetas[k], objective_grad(thetas[k], k), states[k])
        opt.step()
    for p, t in zip(params, thetas):
        np.testing.assert_allclose(p.array, t, rtol=1e-12)


def test_add_param_group():
    a = mg.tensor([1.0], requires_grad=True)
    b = mg.tensor([1.0], requires_grad=True)
    opt = optim.SGD([a], lr=0.1)
    opt.add_param_group({"params": b, "lr": 0.2})
    assert len(opt.param_groups) == 2 and opt.param_groups[1]["momentum"] == 0
    (a * a + b * b).sum().backward()
    opt.step()
    np.testing.assert_allclose([a.item(), b.item()], [0.8, 0.6])
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    assert len(opt.param_groups) == 2


def test_mixed_dtypes_in_one_group():
    a = mg.tensor(np.array([1.0, 2.0], np.float32), requires_grad=True)
    b = mg.tensor(np.array([1.0, 2.0], np.float64), requires_grad=True)
    opt = optim.Adam([a, b], lr=0.1)
    for _ in range(5):
        opt.zero_grad()
        ((a * a).sum() + (b * b).sum()).backward()
        opt.step()
    assert a.dtype == np.float32 and b.dtype == np.float64
    np.testing.assert_allclose(a.array, b.array, rtol=1e-5)


def test_state_is_exposed_per_parameter_with_pytorch_names_and_stays_current():
    w = mg.tensor(np.ones((2, 3)), requires_grad=True)
    opt = optim.Adam([w], lr=0.1)
    w.grad = mg.tensor(np.full((2, 3), 2.0))
    opt.step()
    state = opt.state[w]
    assert set(state) == {"step", "exp_avg", "exp_avg_sq"}
    assert state["exp_avg"].shape == (2, 3)
    np.testing.assert_allclose(state["exp_avg"], 0.2)
    opt.step()
    np.testing.assert_allclose(state["exp_avg"], 0.9 * 0.2 + 0.1 * 2)
    assert float(state["step"]) == 2


def test_replacing_param_data_is_followed():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    v = mg.tensor([5.0], requires_grad=True)
    opt = optim.SGD([w, v], lr=0.1)
    w.grad, v.grad = mg.tensor([1.0, 1.0]), mg.tensor([1.0])
    opt.step()
    w.array = np.array([10.0, 20.0])  # e.g. weights loaded from a checkpoint
    opt.step()
    np.testing.assert_allclose(w.array, [9.9, 19.9])
    np.testing.assert_allclose(v.array, [4.8])
    w.array = w.array.astype(np.float32)  # a change of dtype repacks the group
    opt.step()
    assert w.dtype == np.float32
    np.testing.assert_allclose(w.array, [9.8, 19.8], rtol=1e-6)
    w.array = np.zeros(3)
    with pytest.raises(RuntimeError, match="shape"):
        opt.step()


def test_state_survives_a_change_of_dtype():
    w = mg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    opt = optim.SGD([w], lr=0.1, momentum=0.9)
    w.grad = mg.tensor([1.0, 1.0])
    opt.step()
    w.array = w.array.astype(np.float32)
    w.grad = mg.tensor(np.array([1.0, 1.0], np.float32))
    opt.step()  # b = 0.9·1 + 1 = 1.9
    np.testing.assert_allclose(w.array, [1.0 - 0.1 - 0.19, 2.0 - 0.1 - 0.19], rtol=1e-6)
    assert opt.state[w]["momentum_buffer"].dtype == np.float32


# ---------------------------------------------------------------------------------------
# Checkpoints
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", [c for c in CASES if c[1].get("lr", 1) >= 0.01][::2],
                         ids=case_id)
def test_resume_from_state_dict_is_bit_for_bit(case):
    name, kwargs = case
    start = make_start(np.float32)
    params, opt = run_minigrad(name, kwargs, start, 7)
    checkpoint = copy.deepcopy(opt.state_dict())
    weights = [p.array.copy() for p in params]
    grad_fn = default_grad(kwargs)
    for _ in range(8):
        for k, p in enumerate(params):
            p.grad = mg.tensor(grad_fn(p.array, k))
        opt.step()

    resumed = [mg.tensor(w.copy(), requires_grad=True) for w in weights]
    opt2 = getattr(optim, name)(resumed, lr=123.0)  # hyperparameters come from the checkpoint
    opt2.load_state_dict(checkpoint)
    assert opt2.param_groups[0]["lr"] == kwargs["lr"]
    for _ in range(8):
        for k, p in enumerate(resumed):
            p.grad = mg.tensor(grad_fn(p.array, k))
        opt2.step()
    for p, q in zip(params, resumed):
        np.testing.assert_array_equal(p.array, q.array)


def test_state_dict_format():
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = mg.tensor([[3.0]], requires_grad=True)
    opt = optim.Adam([{"params": [a]}, {"params": [b], "lr": 0.5}], betas=(0.8, 0.9))
    a.grad = mg.tensor([1.0, 1.0])
    opt.step()
    sd = opt.state_dict()
    assert set(sd) == {"state", "param_groups"}
    assert sd["param_groups"][0]["params"] == [0] and sd["param_groups"][1]["params"] == [1]
    assert sd["param_groups"][1]["lr"] == 0.5 and sd["param_groups"][0]["betas"] == [0.8, 0.9]
    assert list(sd["state"]) == [0]  # b had no gradient: no state
    entry = sd["state"][0]
    assert entry["step"] == 1.0 and isinstance(entry["exp_avg"], np.ndarray)
    entry["exp_avg"][:] = 99  # a copy: the optimizer is unaffected
    assert np.all(opt.state[a]["exp_avg"] != 99)

    def plain(x):  # only the types a checkpoint can store
        if isinstance(x, dict):
            return all(isinstance(k, int | str) and plain(v) for k, v in x.items())
        if isinstance(x, list):
            return all(plain(v) for v in x)
        return isinstance(x, np.ndarray | int | float | bool | str | type(None))

    assert plain(sd)


def test_resume_through_mg_save(tmp_path):
    if not hasattr(mg, "save"):
        pytest.skip("mg.save is not available")
    w = mg.tensor(np.array([1.0, -2.0, 3.0], np.float32), requires_grad=True)
    opt = optim.NAdam([w], lr=0.05)
    for _ in range(3):
        w.grad = mg.tensor(np.sin(w.array))
        opt.step()
    mg.save({"opt": opt.state_dict(), "w": w.array.copy()}, tmp_path / "ckpt.npz")
    for _ in range(3):
        w.grad = mg.tensor(np.sin(w.array))
        opt.step()
    loaded = mg.load(tmp_path / "ckpt.npz")
    w2 = mg.tensor(np.asarray(loaded["w"].array if isinstance(loaded["w"], mg.Tensor)
                              else loaded["w"]), requires_grad=True)
    opt2 = optim.NAdam([w2])
    opt2.load_state_dict(loaded["opt"])
    for _ in range(3):
        w2.grad = mg.tensor(np.sin(w2.array))
        opt2.step()
    np.testing.assert_array_equal(w.array, w2.array)


def test_load_state_dict_checks_everything_first_and_changes_nothing_on_error():
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = mg.tensor([3.0], requires_grad=True)
    opt = optim.SGD([a, b], lr=0.1, momentum=0.9)
    a.grad, b.grad = mg.tensor([1.0, 1.0]), mg.tensor([1.0])
    opt.step()
    good = opt.state_dict()
    before = copy.deepcopy(good)

    bad_shape = copy.deepcopy(good)
    bad_shape["param_groups"][0]["lr"] = 0.5
    bad_shape["state"][1]["momentum_buffer"] = np.zeros(4)
    with pytest.raises(ValueError, match=r"momentum_buffer.*\(4,\).*\(1,\)"):
        opt.load_state_dict(bad_shape)
    too_few = copy.deepcopy(good)
    too_few["param_groups"][0]["params"] = [0]
    with pytest.raises(ValueError, match="1 parameters in the state dict and 2"):
        opt.load_state_dict(too_few)
    two_groups = copy.deepcopy(good)
    two_groups["param_groups"].append(copy.deepcopy(good["param_groups"][0]))
    with pytest.raises(ValueError, match="2 parameter groups"):
        opt.load_state_dict(two_groups)
    bad_lr = copy.deepcopy(good)
    bad_lr["param_groups"][0]["lr"] = -1.0
    with pytest.raises(ValueError, match="lr"):
        opt.load_state_dict(bad_lr)

    after = opt.state_dict()
    assert after["param_groups"] == before["param_groups"]
    np.testing.assert_array_equal(after["state"][1]["momentum_buffer"],
                                  before["state"][1]["momentum_buffer"])


def test_loading_fresh_state_resets_the_optimizer():
    w = mg.tensor([1.0], requires_grad=True)
    fresh = optim.Adam([w], lr=0.1).state_dict()
    opt = optim.Adam([w], lr=0.1)
    for _ in range(3):
        w.grad = mg.tensor([1.0])
        opt.step()
    opt.load_state_dict(fresh)
    assert w not in opt.state
    w.array = np.array([1.0], np.float32)
    w.grad = mg.tensor([2.0])
    opt.step()
    np.testing.assert_allclose(w.array, [0.9], rtol=1e-6)  # a first Adam step again


# ---------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------


def p():
    return [mg.tensor([1.0], requires_grad=True)]


@pytest.mark.parametrize("make, argument", [
    (lambda: optim.SGD(p(), lr=-0.1), "lr"),
    (lambda: optim.SGD(p(), momentum=-0.5), "momentum"),
    (lambda: optim.SGD(p(), weight_decay=-1), "weight_decay"),
    (lambda: optim.SGD(p(), nesterov=True), "nesterov"),
    (lambda: optim.SGD(p(), momentum=0.9, dampening=0.1, nesterov=True), "dampening"),
    (lambda: optim.Adam(p(), lr=-1e-3), "lr"),
    (lambda: optim.Adam(p(), eps=-1e-8), "eps"),
    (lambda: optim.Adam(p(), betas=(1.0, 0.999)), r"betas\[0\]"),
    (lambda: optim.Adam(p(), betas=(0.9, -0.1)), r"betas\[1\]"),
    (lambda: optim.Adam(p(), weight_decay=-0.1), "weight_decay"),
    (lambda: optim.AdamW(p(), betas=(0.9, 1.5)), r"betas\[1\]"),
    (lambda: optim.NAdam(p(), momentum_decay=-1), "momentum_decay"),
    (lambda: optim.NAdam(p(), betas=(0.9,)), "betas"),
    (lambda: optim.Adagrad(p(), lr_decay=-1), "lr_decay"),
    (lambda: optim.Adagrad(p(), initial_accumulator_value=-1), "initial_accumulator_value"),
    (lambda: optim.Adagrad(p(), eps=-1), "eps"),
    (lambda: optim.RMSprop(p(), alpha=-0.1), "alpha"),
    (lambda: optim.RMSprop(p(), alpha=1.5), "alpha"),
    (lambda: optim.RMSprop(p(), momentum=-0.1), "momentum"),
    (lambda: optim.SGD([{"params": p(), "lr": -1.0}], lr=0.1), "lr"),
    (lambda: optim.SGD(p(), lr=float("nan")), "lr"),
])
def test_invalid_hyperparameters_name_the_argument(make, argument):
    with pytest.raises(ValueError, match=argument):
        make()


def test_bad_params():
    w = mg.tensor([1.0], requires_grad=True)
    with pytest.raises(TypeError, match="list"):
        optim.SGD(w, lr=0.1)
    with pytest.raises(ValueError, match="empty"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="set"):
        optim.SGD({w}, lr=0.1)
    with pytest.raises(TypeError, match="Tensors"):
        optim.SGD([np.zeros(3)], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([w * 2], lr=0.1)
    with pytest.raises(TypeError, match="int64"):
        optim.SGD([mg.tensor([1, 2])], lr=0.1)
    with pytest.raises(ValueError, match="twice"):
        optim.SGD([w, w], lr=0.1)
    with pytest.raises(ValueError, match="more than one"):
        optim.SGD([{"params": [w]}, {"params": [w]}], lr=0.1)


def test_gradient_of_the_wrong_shape_is_an_error_and_changes_nothing():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):  # refused when assigned
        w.grad = mg.tensor([1.0, 2.0, 3.0])
    w._grad = mg.tensor([1.0, 2.0, 3.0])  # past that check, the optimizer still refuses
    with pytest.raises(RuntimeError, match=r"\(2,\).*\(3,\)"):
        opt.step()
    np.testing.assert_array_equal(w.array, [1.0, 2.0])


def test_repr_lists_the_groups():
    text = repr(optim.SGD(p(), lr=0.1, momentum=0.9))
    assert text.startswith("SGD (") and "Parameter Group 0" in text and "momentum: 0.9" in text


# ---------------------------------------------------------------------------------------
# The fast path: one flat buffer per group, no allocation in steady state
# ---------------------------------------------------------------------------------------


def test_parameters_of_a_group_share_one_flat_buffer():
    params = [mg.tensor(np.ones(s), requires_grad=True) for s in SHAPES]
    opt = optim.Adam(params)
    for p in params:
        p.grad = mg.tensor(np.ones(p.shape))
    opt.step()
    owner = params[0].array.base
    assert owner is not None and owner.flags.c_contiguous
    assert all(p.array.base is owner for p in params)
    assert all(opt.state[p]["exp_avg"].base is opt.state[params[0]]["exp_avg"].base
               for p in params)


@pytest.mark.parametrize("name, kwargs", [
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1)),
    ("Adagrad", dict(weight_decay=0.1)),
    ("RMSprop", dict(momentum=0.9, centered=True, weight_decay=0.1)),
    ("Adam", dict(amsgrad=True, weight_decay=0.1)),
    ("AdamW", dict()),
    ("NAdam", dict(weight_decay=0.1)),
])
def test_steady_state_step_allocates_no_arrays(name, kwargs):
    import tracemalloc

    rng = np.random.default_rng(0)
    params = [mg.tensor(rng.standard_normal(n).astype(np.float32), requires_grad=True)
              for n in (50_000, 30_000, 100)]
    for p in params:
        p.grad = mg.tensor(rng.standard_normal(p.shape).astype(np.float32))
    opt = getattr(optim, name)(params, **kwargs)
    opt.step()
    opt.step()
    tracemalloc.start()
    opt.step()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 40_000, f"a step allocated {peak} bytes (one parameter is 200,000 bytes)"


def test_a_bad_gradient_in_a_later_group_changes_no_parameter():
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = mg.tensor([3.0], requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1)
    a.grad = mg.tensor([1.0, 1.0])
    b._grad = mg.tensor([1.0, 1.0])  # a bad gradient (``b.grad = ...`` would refuse it)
    with pytest.raises(RuntimeError, match="gradient of shape"):
        opt.step()
    np.testing.assert_array_equal(a.array, [1.0, 2.0])


def test_step_does_not_change_the_gradients():
    w = mg.tensor([1.0, -2.0], requires_grad=True)
    opt = optim.Adam([w], lr=0.1, weight_decay=0.5, maximize=True)
    w.grad = mg.tensor([0.5, 0.25])
    for _ in range(2):
        opt.step()
        np.testing.assert_array_equal(w.grad.array, [0.5, 0.25])


def test_textbook_momentum_forms_from_the_sgd_docstring():
    lr, beta = 0.05, 0.9
    grads = np.random.default_rng(5).standard_normal((40, 3))  # gradients independent of θ

    def run(**kwargs):
        w = mg.tensor(np.zeros(3), requires_grad=True)
        opt = optim.SGD([w], lr=lr, momentum=beta, **kwargs)
        path = []
        for g in grads:
            w.grad = mg.tensor(g)
            opt.step()
            path.append(w.array.copy())
        return np.array(path)

    # m ← β·m − η·g; θ ← θ + m: the same iterates as SGD(lr=η, momentum=β)
    theta, m, sutskever = np.zeros(3), np.zeros(3), []
    for g in grads:
        m = beta * m - lr * g
        theta = theta + m
        sutskever.append(theta)
    np.testing.assert_allclose(run(), sutskever, rtol=1e-12, atol=1e-14)

    # v ← β·v + (1 − β)·g; θ ← θ − η·v: SGD(dampening=β), whose velocity b = v + βᵗ·g₁
    theta, v, ema = np.zeros(3), np.zeros(3), []
    for t, g in enumerate(grads, start=1):
        v = beta * v + (1 - beta) * g
        theta = theta - lr * (v + beta**t * grads[0])
        ema.append(theta)
    np.testing.assert_allclose(run(dampening=beta), ema, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("case", [("NAdam", dict(lr=0.01)), ("Adam", dict(lr=0.01)),
                                  ("SGD", dict(lr=0.05, momentum=0.9)),
                                  ("Adagrad", dict(lr=0.1, lr_decay=0.1))], ids=case_id)
def test_parameters_larger_than_a_chunk(case):
    """The flat arrays are updated chunk by chunk: per-parameter numbers (step, mu_product)
    must still advance once per step, on the fast path and on the per-parameter path."""
    from minigrad.optim._flat import CHUNK

    name, kwargs = case
    rng = np.random.default_rng(4)
    start = [rng.standard_normal(n) for n in (CHUNK + 5, 2 * CHUNK + 1, 7)]
    params = [mg.tensor(t.copy(), requires_grad=True) for t in start]
    opt = getattr(optim, name)(params, **kwargs)
    updates = [REFERENCES[name](**kwargs) for _ in params]
    thetas, states = [t.copy() for t in start], [{} for _ in start]
    for it in range(6):
        for k, p in enumerate(params):
            if k == 1 and it in (2, 3):  # two steps on the per-parameter path
                p.grad = None
                continue
            p.grad = mg.tensor(objective_grad(p.array, k))
            thetas[k] = updates[k](thetas[k], objective_grad(thetas[k], k), states[k])
        opt.step()
    for p, t in zip(params, thetas):
        np.testing.assert_allclose(p.array, t, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("case", [("Adam", dict(lr=0.01)), ("Adam", dict(maximize=True)),
                                  ("Adam", dict(weight_decay=0.1)), ("AdamW", dict()),
                                  ("NAdam", dict()), ("SGD", dict(momentum=0.9)),
                                  ("SGD", dict(momentum=0.9, nesterov=True)),
                                  ("SGD", dict(momentum=0.9, dampening=0.5))], ids=case_id)
def test_a_step_never_changes_the_gradients(case):
    """Over parameters larger than a chunk, rules that only read g are handed the gradients
    where they are (read-only views); the others get a copy. Either way p.grad is unchanged,
    stays writable, and the step is the reference one."""
    from minigrad.optim._flat import CHUNK

    name, kwargs = case
    rng = np.random.default_rng(7)
    start = [rng.standard_normal(n) for n in (2 * CHUNK + 3, 5)]
    params = [mg.tensor(t.copy(), requires_grad=True) for t in start]
    opt = getattr(optim, name)(params, **kwargs)
    update = REFERENCES[name](**kwargs)
    thetas, states = [t.copy() for t in start], [{}, {}]
    for _ in range(3):
        grads = [objective_grad(p.array, k) for k, p in enumerate(params)]
        for p, g in zip(params, grads):
            p.grad = mg.tensor(g.copy())
        thetas = [update(t, objective_grad(t, k), s)
                  for k, (t, s) in enumerate(zip(thetas, states))]
        opt.step()
        for p, g in zip(params, grads):
            np.testing.assert_array_equal(p.grad.array, g)
            assert p.grad.array.flags.writeable
    for p, t in zip(params, thetas):
        np.testing.assert_allclose(p.array, t, rtol=1e-12, atol=1e-14)


def test_a_rule_that_writes_to_a_gradient_it_was_told_to_only_read_raises():
    """The read-only views are the safety net: a rule that wrongly claims to leave g alone
    fails loudly instead of changing p.grad."""
    from minigrad.optim._flat import CHUNK

    class Careless(optim.SGD):
        def _reads_grad_only(self, group):
            return True  # a lie with maximize=True: begin_step_ negates g (NumPy passes)

    w = mg.tensor(np.ones(2 * CHUNK), requires_grad=True)
    w.grad = mg.tensor(np.ones(2 * CHUNK))
    with pytest.raises(ValueError, match="read-only"):
        Careless([w], lr=0.1, maximize=True, fused=False).step()
    np.testing.assert_array_equal(w.grad.array, 1.0)


def test_a_gradient_of_another_dtype_is_cast_before_the_step():
    """A float64 gradient on a float32 parameter larger than a chunk is not read in place
    (the update would run in float64): it is cast to float32 first, as for small ones."""
    from minigrad.optim._flat import CHUNK

    g = np.random.default_rng(8).standard_normal(2 * CHUNK + 3)
    results = []
    for grad in (g, g.astype(np.float32)):
        w = mg.tensor(np.ones(g.size, np.float32), requires_grad=True)
        opt = optim.Adam([w], lr=0.1)
        for _ in range(3):
            w.grad = mg.tensor(grad)
            opt.step()
        results.append(w.array)
    assert results[0].dtype == np.float32
    np.testing.assert_array_equal(results[0], results[1])


def test_flat_arrays_start_on_a_cache_line():
    """NumPy writes misaligned outputs up to twice as slowly: theta, the state and the
    scratch arrays start on 64-byte boundaries (and so does every chunk)."""
    from minigrad.optim._flat import ALIGNMENT, CHUNK

    assert CHUNK * 2 % ALIGNMENT == 0  # chunks of float16 and up start aligned
    params = [mg.tensor(np.ones(n, np.float32), requires_grad=True) for n in (3, 1000)]
    opt = optim.Adam(params)
    for p in params:
        p.grad = mg.ones_like(p)
    opt.step()
    bucket = opt._storage[0].buckets[0]
    arrays = [bucket.theta, bucket.grad, bucket.grad_chunk, *bucket.scratch,
              *bucket.buffers.values()]
    assert all(a.ctypes.data % ALIGNMENT == 0 for a in arrays)
    assert all(p.array.base is bucket.theta.base for p in params)  # still views of theta


def test_loading_another_optimizers_state_says_so():
    p = mg.tensor([1.0, 2.0], requires_grad=True)
    adam_state = optim.Adam([p]).state_dict()
    sgd = optim.SGD([p], lr=0.1)
    with pytest.raises(ValueError, match="lacks dampening, momentum, nesterov.*another kind"):
        sgd.load_state_dict(adam_state)
    assert sgd.param_groups[0]["lr"] == 0.1


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-14), (np.float32, 1e-6)])
def test_adam_step_rearranged_gives_the_numbers_of_the_step_as_written(dtype, rtol):
    """Adam runs ``adam_step_rearranged_``, an optimisation of ``adam_step_`` (the equation
    θ ← θ − lr · m̂ / (√v̂ + ε)): both give the same numbers up to rounding."""
    from minigrad.optim.adam import adam_step_, adam_step_rearranged_

    rng = np.random.default_rng(6)
    m = rng.standard_normal(1000).astype(dtype)
    v = (rng.standard_normal(1000) ** 2).astype(dtype)
    v[:10] = 0  # where ε matters most
    start = np.zeros(1000, dtype)  # θ after the step is then exactly minus the step
    for t in (1, 2, 10, 1000):
        for eps in (1e-8, 1e-3):
            corrections = (1 - 0.9**t, 1 - 0.999**t)
            as_written, rearranged = start.copy(), start.copy()
            scratch = (np.empty_like(m), np.empty_like(m))
            adam_step_(as_written, m, v, 0.01, *corrections, eps, *scratch)
            adam_step_rearranged_(rearranged, m, v, 0.01, *corrections, eps, *scratch)
            assert not np.array_equal(as_written, start)
            np.testing.assert_allclose(rearranged, as_written, rtol=rtol, atol=0)


def test_adam_gives_the_same_run_with_the_step_as_written(monkeypatch):
    from minigrad.optim import adam

    kwargs = dict(lr=0.01, amsgrad=True, weight_decay=0.1)
    start = make_start()
    fast, _ = run_minigrad("Adam", kwargs, start, 100)
    monkeypatch.setattr(adam, "adam_step_rearranged_", adam.adam_step_)
    as_written, _ = run_minigrad("Adam", kwargs, start, 100)
    for a, b in zip(fast, as_written):
        np.testing.assert_allclose(a.array, b.array, rtol=1e-12, atol=1e-14)


def test_state_looked_up_before_the_first_step_is_filled_by_it():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.Adam([w], lr=0.1)
    assert opt.state[w] == {}  # a defaultdict, as in PyTorch: the lookup adds an empty entry
    w.grad = mg.tensor([1.0, 1.0])
    opt.step()
    assert set(opt.state[w]) == {"step", "exp_avg", "exp_avg_sq"}
    assert float(opt.state[w]["step"]) == 1


def test_nadam_maximize_climbs_what_minimize_descends():
    start = make_start()
    down, _ = run_minigrad("NAdam", dict(lr=0.01), start, 30, grad_fn=objective_grad)
    up, _ = run_minigrad("NAdam", dict(lr=0.01, maximize=True), start, 30,
                         grad_fn=ascent_grad)
    for a, b in zip(down, up):
        np.testing.assert_array_equal(a.array, b.array)
