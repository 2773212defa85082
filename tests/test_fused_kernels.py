"""The fused update loops (``minigrad/optim/_kernels.py``) give the NumPy passes' numbers.

Each loop claims to do, per element, the floating-point operations of the passes it
replaces, in the same order and dtype. So the comparisons here are bit for bit: any change
of order, dtype or formula shows. The loops run compiled where numba is installed; their
Python source is checked against the passes everywhere.
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import optim
from minigrad.optim import _kernels
from minigrad.optim._flat import CHUNK

needs_numba = pytest.mark.skipif(not _kernels.AVAILABLE,
                                 reason='numba is not installed (pip install "minigrad[fast]")')

CONFIGS = [
    (optim.Adam, {}),
    (optim.Adam, dict(betas=(0.3, 0.99))),  # 1 − β1 ≥ ½: the other form of the average
    (optim.Adam, dict(weight_decay=0.1)),  # L2 decay: g is changed first (a copy of it)
    (optim.Adam, dict(maximize=True)),
    (optim.AdamW, dict(weight_decay=0.05)),
    (optim.SGD, {}),
    (optim.SGD, dict(momentum=0.9)),
    (optim.SGD, dict(momentum=0.9, dampening=0.3)),
    (optim.SGD, dict(momentum=0.8, nesterov=True, weight_decay=1e-2)),
    (optim.SGD, dict(momentum=0.9, maximize=True)),
]


def run_steps(cls, options, dtype, sizes, fused, steps=4, seed=0):
    """``steps`` steps with fresh random gradients; the parameters and state after them."""
    rng = np.random.default_rng(seed)
    params = [mg.tensor(rng.standard_normal(n).astype(dtype), requires_grad=True)
              for n in sizes]
    opt = cls(params, lr=0.01, fused=fused, **options)
    for _ in range(steps):
        for p in params:
            p.grad = mg.tensor(rng.standard_normal(p.shape).astype(dtype))
        opt.step()
    state = [{k: np.asarray(v) for k, v in opt.state[p].items()} for p in params]
    return [p.array.copy() for p in params], state


@needs_numba
@pytest.mark.parametrize("cls, options", CONFIGS,
                         ids=[f"{c.__name__}-{o}" for c, o in CONFIGS])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_loop_gives_the_numpy_passes_numbers_bit_for_bit(cls, options, dtype,
                                                              monkeypatch):
    sizes = [3, CHUNK + 77, 1000]  # a parameter spread over two chunks, and small ones
    calls = []
    for name in ("adam_", "sgd_"):
        original = getattr(_kernels, name)
        monkeypatch.setattr(_kernels, name, lambda *a, _f=original, **k: (calls.append(1),
                                                                         _f(*a, **k)))
    fused_params, fused_state = run_steps(cls, options, dtype, sizes, fused=None)
    assert calls, "the fused loop did not run"
    calls.clear()
    passes_params, passes_state = run_steps(cls, options, dtype, sizes, fused=False)
    assert not calls, "fused=False ran the fused loop"
    for ours, theirs in zip(fused_params, passes_params):
        assert ours.dtype == dtype
        np.testing.assert_array_equal(ours, theirs)
    for ours, theirs in zip(fused_state, passes_state):
        assert ours.keys() == theirs.keys()
        for key in ours:
            np.testing.assert_array_equal(ours[key], theirs[key], err_msg=key)


@pytest.mark.parametrize("lerp_from_g", [False, True])
def test_the_adam_loop_source_does_the_passes_arithmetic(lerp_from_g):
    """The loop as Python (no numba needed), on float32 scalars, against Adam's passes."""
    rng = np.random.default_rng(1)
    n = 257
    theta, g, m = (rng.standard_normal(n).astype(np.float32) for _ in range(3))
    v = rng.random(n).astype(np.float32)
    beta1 = 0.3 if lerp_from_g else 0.9
    beta2, lr, eps, t = 0.99, 0.01, 1e-3, 3
    bc1, bc2 = 1 - beta1**t, 1 - beta2**t
    expected = [a.copy() for a in (theta, m, v)]
    scratch = (np.empty(n, np.float32), np.empty(n, np.float32))
    from minigrad.optim._moments import ema_, ema_square_
    from minigrad.optim.adam import adam_step_rearranged_
    e_theta, e_m, e_v = expected
    ema_(e_m, g, beta1, scratch[0])
    ema_square_(e_v, g, beta2, scratch[0])
    adam_step_rearranged_(e_theta, e_m, e_v, lr, bc1, bc2, eps, *scratch)

    c = np.sqrt(bc2)
    f32 = np.float32
    _kernels.adam_loop(theta, g, m, v, f32(1 - beta1), f32(beta1), lerp_from_g, f32(beta2),
                       f32(1 - beta2), f32(eps * c), f32(lr / bc1 * c))
    for ours, theirs in zip((theta, m, v), expected):
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("started, dampening, nesterov",
                         [(False, 0.0, False), (True, 0.0, False), (True, 0.25, False),
                          (True, 0.0, True)])
def test_the_sgd_loop_source_does_the_passes_arithmetic(started, dampening, nesterov):
    rng = np.random.default_rng(2)
    n = 129
    theta, g, velocity = (rng.standard_normal(n).astype(np.float32) for _ in range(3))
    momentum, lr = 0.9, 0.05
    # The passes of SGD._update, written out.
    e_theta, e_velocity, e_g = theta.copy(), velocity.copy(), g.copy()
    if not started:
        np.copyto(e_velocity, e_g)
    else:
        e_velocity *= momentum
        e_velocity += e_g if dampening == 0 else e_g * np.float32(1 - dampening)
    direction = e_g + e_velocity * np.float32(momentum) if nesterov else e_velocity
    e_theta -= direction * np.float32(lr)

    f32 = np.float32
    _kernels.sgd_momentum_loop(theta, g, velocity, f32(momentum), f32(1 - dampening), f32(lr),
                               started, dampening != 0, nesterov)
    np.testing.assert_array_equal(velocity, e_velocity)
    np.testing.assert_array_equal(theta, e_theta)


def test_fused_true_without_numba_is_refused_on_construction(monkeypatch):
    monkeypatch.setattr(_kernels, "AVAILABLE", False)
    p = mg.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Adam: fused=True needs numba"):
        optim.Adam([p], fused=True)
    with pytest.raises(RuntimeError, match=r"SGD: fused=True needs numba"):
        optim.SGD([p], lr=0.1, fused=True)
    # fused=None (the default) quietly runs the NumPy passes.
    p.grad = mg.ones(3)
    optim.Adam([p], lr=0.1).step()
    np.testing.assert_allclose(p.array, -0.1, rtol=1e-6)


def test_fused_and_foreach_together_are_refused_as_in_pytorch():
    p = mg.zeros(3, requires_grad=True)
    for cls in (optim.Adam, optim.AdamW, optim.SGD):
        with pytest.raises(RuntimeError, match="`fused` and `foreach` cannot be `True` together"):
            cls([p], lr=0.1, fused=True, foreach=True)


def test_state_dicts_carry_the_options_and_older_ones_still_load():
    p = mg.zeros(3, requires_grad=True)
    opt = optim.Adam([p], lr=0.1, fused=False, foreach=None)
    group = opt.state_dict()["param_groups"][0]
    assert group["fused"] is False and group["foreach"] is None
    older = opt.state_dict()
    for key in ("fused", "foreach"):
        del older["param_groups"][0][key]
    fresh = optim.Adam([p], lr=0.5)
    fresh.load_state_dict(older)
    assert fresh.param_groups[0]["lr"] == 0.1
    assert fresh.param_groups[0]["fused"] is None  # the optimizer's default


def test_the_options_are_pytorchs_group_entries():
    torch = pytest.importorskip("torch")
    for ours, theirs in ((optim.Adam, torch.optim.Adam), (optim.AdamW, torch.optim.AdamW),
                         (optim.SGD, torch.optim.SGD)):
        group = ours([mg.zeros(2, requires_grad=True)], lr=0.1).param_groups[0]
        reference = theirs([torch.zeros(2, requires_grad=True)], lr=0.1).param_groups[0]
        for key in ("foreach", "fused"):
            assert key in group and group[key] == reference[key]
