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

needs_numba = pytest.mark.skipif(not _kernels.available(),
                                 reason='numba is not installed (pip install "minigrad[fast]")')

CONFIGS = [
    (optim.Adam, {}),
    (optim.Adam, dict(betas=(0.3, 0.99))),  # 1 − β1 ≥ ½: the other form of the average
    (optim.Adam, dict(weight_decay=0.1)),  # L2 decay, added to g
    (optim.Adam, dict(maximize=True, weight_decay=0.1)),
    (optim.AdamW, dict(weight_decay=0.05)),  # decoupled decay, applied to θ
    (optim.AdamW, dict(weight_decay=0.05, maximize=True, betas=(0.5, 0.9))),
    (optim.Adagrad, {}),
    (optim.Adagrad, dict(lr_decay=0.1, weight_decay=0.1, maximize=True,
                         initial_accumulator_value=0.5)),
    (optim.SGD, {}),
    (optim.SGD, dict(weight_decay=0.1, maximize=True)),
    (optim.SGD, dict(momentum=0.9)),
    (optim.SGD, dict(momentum=0.9, dampening=0.3)),
    (optim.SGD, dict(momentum=0.8, nesterov=True, weight_decay=1e-2)),
    (optim.SGD, dict(momentum=0.9, maximize=True)),
]
IDS = [f"{cls.__name__}-{options}" for cls, options in CONFIGS]


def run_steps(cls, options, dtype, sizes, fused, steps=4, seed=0, grads_in_buffer=False):
    """``steps`` steps with fresh random gradients; the parameters, gradients and state
    after them. With ``grads_in_buffer`` the gradients are written where the optimizer
    gathers them (as a compiled step does), which lets it repeat its last step."""
    rng = np.random.default_rng(seed)
    params = [mg.tensor(rng.standard_normal(n).astype(dtype), requires_grad=True)
              for n in sizes]
    opt = cls(params, lr=0.01, fused=fused, **options)
    for _ in range(steps):
        for p in params:
            grad = rng.standard_normal(p.shape).astype(dtype)
            target = opt.gradient_buffer(p) if grads_in_buffer else None
            if target is None:
                p.grad = mg.tensor(grad)
            else:
                target[...] = grad
                p.grad = mg.from_numpy(target)
        grads_before = [p.grad.numpy().copy() for p in params]
        opt.step()
        for p, before in zip(params, grads_before):  # p.grad is never changed
            np.testing.assert_array_equal(p.grad.numpy(), before)
    state = [{k: np.asarray(v) for k, v in opt.state[p].items()} for p in params]
    return [p.array.copy() for p in params], state


def assert_fused_equals_passes(cls, options, dtype, sizes, monkeypatch, **kwargs):
    calls = []
    for name in ("adam_", "sgd_", "adagrad_"):
        original = getattr(_kernels, name)
        monkeypatch.setattr(_kernels, name, lambda *a, _f=original, **k: (calls.append(1),
                                                                         _f(*a, **k)))
    fused_params, fused_state = run_steps(cls, options, dtype, sizes, None, **kwargs)
    assert calls, "the fused loop did not run"
    calls.clear()
    passes_params, passes_state = run_steps(cls, options, dtype, sizes, False, **kwargs)
    assert not calls, "fused=False ran the fused loop"
    for ours, theirs in zip(fused_params, passes_params):
        assert ours.dtype == dtype
        np.testing.assert_array_equal(ours, theirs)
    for ours, theirs in zip(fused_state, passes_state):
        assert ours.keys() == theirs.keys()
        for key in ours:
            np.testing.assert_array_equal(ours[key], theirs[key], err_msg=key)


@needs_numba
@pytest.mark.parametrize("cls, options", CONFIGS, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("grads_in_buffer", [False, True])
def test_fused_loop_gives_the_numpy_passes_numbers_bit_for_bit(cls, options, dtype,
                                                              grads_in_buffer, monkeypatch):
    # A parameter longer than a chunk, and small ones: the passes run over several chunks,
    # the loop over whole parameters or the whole flat buffer.
    sizes = [3, CHUNK + 77, 1000]
    assert_fused_equals_passes(cls, options, dtype, sizes, monkeypatch,
                               grads_in_buffer=grads_in_buffer)


@pytest.mark.parametrize("cls, options", CONFIGS, ids=IDS)
def test_the_loops_python_source_gives_the_passes_numbers(cls, options, monkeypatch):
    """The loops as plain Python (no numba needed) on float32 scalars: the arithmetic the
    compiled loops are made from, checked everywhere."""
    monkeypatch.setattr(_kernels, "available", lambda: True)
    monkeypatch.setattr(_kernels, "adam_loop_compiled", _kernels.adam_loop)
    monkeypatch.setattr(_kernels, "sgd_loop_compiled", _kernels.sgd_loop)
    monkeypatch.setattr(_kernels, "adagrad_loop_compiled", _kernels.adagrad_loop)
    assert_fused_equals_passes(cls, options, np.float32, [3, 40, 17], monkeypatch)


def test_amsgrad_and_nadam_keep_the_numpy_passes():
    p = mg.zeros(3, requires_grad=True)
    assert not optim.Adam([p], amsgrad=True)._fused(optim.Adam([p], amsgrad=True)
                                                    .param_groups[0])
    nadam = optim.NAdam([p])
    assert not nadam._fused(nadam.param_groups[0])


def test_fused_true_without_numba_is_refused_on_construction(monkeypatch):
    monkeypatch.setattr(_kernels, "available", lambda: False)
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
    for cls in (optim.Adam, optim.AdamW, optim.SGD, optim.Adagrad):
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
    assert fresh.param_groups[0]["fused"] is None  # the loading optimizer's own


def test_a_checkpoint_saved_with_fused_true_loads_without_numba(monkeypatch):
    p = mg.zeros(3, requires_grad=True)
    saved = optim.Adam([p], lr=0.1).state_dict()
    saved["param_groups"][0]["fused"] = True  # as saved where the fused loop was required
    monkeypatch.setattr(_kernels, "available", lambda: False)
    here = optim.Adam([p], lr=0.5)
    here.load_state_dict(saved)
    assert here.param_groups[0]["lr"] == 0.1 and here.param_groups[0]["fused"] is None


def test_the_options_are_pytorchs_group_entries():
    torch = pytest.importorskip("torch")
    for name in ("Adam", "AdamW", "SGD", "Adagrad", "RMSprop", "NAdam"):
        ours, theirs = getattr(optim, name), getattr(torch.optim, name)
        group = ours([mg.zeros(2, requires_grad=True)], lr=0.1, foreach=False).param_groups[0]
        reference = theirs([torch.zeros(2, requires_grad=True)], lr=0.1,
                           foreach=False).param_groups[0]
        for key in ("foreach", "fused"):
            assert (key in group) == (key in reference), (name, key)
            assert group.get(key) == reference.get(key), (name, key)
