"""The optimizers' fast paths give the numbers of the equations they optimise.

Adam runs ``adam_step_rearranged_`` (the step θ ← θ − lr · m̂ / (√v̂ + ε) with one pass
over memory fewer and one scratch array fewer), over flat arrays cut into cache-sized chunks
(``minigrad/optim/_flat.py``). Here each is checked against the equations written out once
more in plain float64 NumPy, over several steps, parameters larger than a chunk, and the
variants that change the path (weight decay added to g or decoupled, amsgrad, maximize).
"""

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import optim
from minigrad.optim._flat import CHUNK


def adam_as_written(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
                    maximize=False, decoupled=False):
    """One parameter's Adam step, line for line as in Kingma & Ba (PyTorch's variant)."""
    beta1, beta2 = betas

    def step(theta, g, s):
        if maximize:
            g = -g
        s["t"] = t = s.get("t", 0) + 1
        if weight_decay and decoupled:
            theta = theta - lr * weight_decay * theta
        elif weight_decay:
            g = g + weight_decay * theta
        s["m"] = beta1 * s.get("m", 0.0) + (1 - beta1) * g
        s["v"] = beta2 * s.get("v", 0.0) + (1 - beta2) * g**2
        v = s["v"]
        if amsgrad:
            s["v_max"] = v = np.maximum(s.get("v_max", 0.0), v)
        m_hat = s["m"] / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        return theta - lr * m_hat / (np.sqrt(v_hat) + eps)

    return step


def sgd_as_written(lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
                   maximize=False):
    def step(theta, g, s):
        if maximize:
            g = -g
        if weight_decay:
            g = g + weight_decay * theta
        s["b"] = g.copy() if "b" not in s else momentum * s["b"] + (1 - dampening) * g
        return theta - lr * (g + momentum * s["b"] if nesterov else s["b"])

    return step


def gradient(theta, k):
    """A smooth, non-quadratic bowl, different for each parameter."""
    return (k + 1) * 0.5 * theta + np.sin(3 * theta) + 0.1 * theta**3


# Sizes that cut chunks in every way: a parameter spanning several chunks, one ending
# inside a chunk, small ones sharing a chunk.
SIZES = (2 * CHUNK + 17, 5, CHUNK - 3, 1000)

ADAM_CASES = [
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, maximize=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, amsgrad=True, maximize=True)),
    ("Adam", dict(lr=0.02, betas=(0.5, 0.9), eps=1e-3)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True, maximize=True)),
]

SGD_CASES = [
    dict(lr=0.05, momentum=0.9),
    dict(lr=0.05, momentum=0.9, dampening=0.5),
    dict(lr=0.05, momentum=0.9, nesterov=True),
    dict(lr=0.05, momentum=0.9, weight_decay=0.1, maximize=True),
]


def run(make_optimizer, reference, steps=6, sizes=SIZES):
    rng = np.random.default_rng(11)
    start = [rng.standard_normal(n) for n in sizes]
    params = [mg.tensor(t.copy(), requires_grad=True) for t in start]
    opt = make_optimizer(params)
    thetas, states = [t.copy() for t in start], [{} for _ in start]
    for _ in range(steps):
        for k, p in enumerate(params):
            ascent = opt.param_groups[0].get("maximize", False)
            p.grad = mg.tensor(-gradient(p.array, k) if ascent else gradient(p.array, k))
            g = -gradient(thetas[k], k) if ascent else gradient(thetas[k], k)
            thetas[k] = reference(thetas[k], g, states[k])
        opt.step()
    return params, thetas


def case_id(case):
    name, kwargs = case if isinstance(case, tuple) else ("SGD", case)
    return name + "(" + ",".join(f"{k}={v}" for k, v in kwargs.items()) + ")"


@pytest.mark.parametrize("case", ADAM_CASES, ids=case_id)
def test_adam_fast_path_gives_the_equations_numbers(case):
    name, kwargs = case
    decoupled = name == "AdamW"
    reference = adam_as_written(decoupled=decoupled, **kwargs)
    params, thetas = run(lambda ps: getattr(optim, name)(ps, **kwargs),
                         lambda theta, g, s: reference(theta, g, s))
    for p, theta in zip(params, thetas):
        assert not np.array_equal(p.array, theta * 0)  # (something happened)
        np.testing.assert_allclose(p.array, theta, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("kwargs", SGD_CASES, ids=case_id)
def test_sgd_momentum_fast_path_gives_the_equations_numbers(kwargs):
    reference = sgd_as_written(**kwargs)
    params, thetas = run(lambda ps: optim.SGD(ps, **kwargs), reference)
    for p, theta in zip(params, thetas):
        np.testing.assert_allclose(p.array, theta, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("t", [1, 2, 10, 1000])
@pytest.mark.parametrize("eps", [1e-8, 1e-3, 0.0])
def test_adam_step_rearranged_is_the_step_as_written(t, eps):
    """The named optimisation against the equation θ ← θ − lr · m̂ / (√v̂ + ε), in float64,
    ε = 0 and v = 0 included (0 / 0 is NaN in both)."""
    from minigrad.optim.adam import adam_step_, adam_step_rearranged_

    rng = np.random.default_rng(t)
    m = rng.standard_normal(3000)
    v = rng.standard_normal(3000) ** 2
    v[:10] = 0
    m[:5] = 0
    bias_corrections = (1 - 0.9**t, 1 - 0.999**t)
    theta = rng.standard_normal(3000)
    as_written, rearranged = theta.copy(), theta.copy()
    scratch = (np.empty_like(m), np.empty_like(m))
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = theta - 0.01 * (m / bias_corrections[0]) / (
            np.sqrt(v / bias_corrections[1]) + eps)
        adam_step_(as_written, m, v, 0.01, *bias_corrections, eps, *scratch)
        untouched = np.full_like(m, 7.0)
        adam_step_rearranged_(rearranged, m, v, 0.01, *bias_corrections, eps,
                              scratch[0], untouched)
    np.testing.assert_array_equal(untouched, 7.0)  # the second scratch array is not used
    np.testing.assert_allclose(as_written, expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(rearranged, expected, rtol=1e-12, atol=1e-15)


def test_adam_float32_fast_path_is_within_rounding_of_the_float64_equations():
    """In float32, over parameters larger than a chunk, the fast path stays within a few
    float32 roundings of the equations evaluated in float64."""
    reference = adam_as_written(lr=0.01, weight_decay=0.1)
    rng = np.random.default_rng(3)
    start = rng.standard_normal(2 * CHUNK + 5).astype(np.float32)
    w = mg.tensor(start.copy(), requires_grad=True)
    opt = optim.Adam([w], lr=0.01, weight_decay=0.1)
    theta, state = start.astype(np.float64), {}
    for _ in range(5):
        g = gradient(w.array, 0)
        w.grad = mg.tensor(g)
        theta = reference(theta, g.astype(np.float64), state)
        opt.step()
    assert w.array.dtype == np.float32
    np.testing.assert_allclose(w.array, theta, rtol=1e-5, atol=1e-6)


def test_the_chunk_fits_an_adam_steps_arrays_in_a_cache_and_keeps_chunks_aligned():
    from minigrad.optim._flat import ALIGNMENT

    assert CHUNK % (ALIGNMENT // 2) == 0  # float16 chunks and up start on a cache line
    assert 5 * CHUNK * 4 <= 2**20  # θ, g, m, v and one scratch array: at most 1 MB in float32
    assert math.log2(CHUNK) > 10  # large enough that Python's cost per chunk stays small
