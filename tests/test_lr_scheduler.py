"""Learning-rate schedulers: values worked out by hand, and parity with torch."""

import copy
import math
import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad import optim
from minigrad.optim import lr_scheduler


def make_optimizer(lr=1.0, groups=1):
    params = [mg.tensor([1.0], requires_grad=True) for _ in range(groups)]
    return optim.SGD([{"params": [p], "lr": lr * (i + 1)} for i, p in enumerate(params)],
                     lr=lr)


def schedule(make_scheduler, epochs, lr=1.0, groups=1, metrics=None):
    """The learning rate of each epoch: the one in use after construction, then after each
    ``scheduler.step()`` (which follows ``optimizer.step()``)."""
    opt = make_optimizer(lr, groups)
    scheduler = make_scheduler(opt)
    values = [scheduler.get_last_lr()]
    for epoch in range(epochs):
        opt.step()
        if metrics is None:
            scheduler.step()
        else:
            scheduler.step(metrics[epoch])
        values.append(scheduler.get_last_lr())
        assert values[-1] == [g["lr"] for g in opt.param_groups]
    return [v[0] for v in values] if groups == 1 else values


def test_step_lr_by_hand():
    values = schedule(lambda o: lr_scheduler.StepLR(o, step_size=2, gamma=0.5), 5)
    assert values == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]


def test_multistep_lr_by_hand():
    values = schedule(lambda o: lr_scheduler.MultiStepLR(o, milestones=[2, 4, 4], gamma=0.1), 5)
    assert values == pytest.approx([1.0, 1.0, 0.1, 0.1, 0.001, 0.001], rel=1e-12)


def test_exponential_lr_by_hand():
    values = schedule(lambda o: lr_scheduler.ExponentialLR(o, gamma=0.5), 3, lr=2.0)
    assert values == [2.0, 1.0, 0.5, 0.25]


def test_cosine_annealing_lr_by_hand():
    # 0.1 + 0.9·(1 + cos(π·t/4))/2 for t = 0..4, then back up (period 8)
    values = schedule(lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=4, eta_min=0.1), 8)
    expected = [0.1 + 0.9 * (1 + math.cos(math.pi * t / 4)) / 2 for t in range(9)]
    assert values == pytest.approx(expected, abs=1e-12)
    assert values[4] == pytest.approx(0.1) and values[8] == pytest.approx(1.0)


def test_linear_lr_by_hand():
    values = schedule(lambda o: lr_scheduler.LinearLR(o, start_factor=0.25, total_iters=3), 5,
                      lr=0.4)
    assert values == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.4, 0.4], rel=1e-12)


def test_lambda_lr_by_hand_one_function_per_group():
    values = schedule(lambda o: lr_scheduler.LambdaLR(o, [lambda e: 1 / (e + 1),
                                                          lambda e: 0.5**e]), 2, groups=2)
    np.testing.assert_allclose(values, [[1.0, 2.0], [0.5, 1.0], [1 / 3, 0.5]], rtol=1e-12)


def test_reduce_lr_on_plateau_by_hand():
    # patience 1: the second epoch without improvement reduces; cooldown 1 ignores the next
    losses = [1.0, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.4, 0.5, 0.5]
    values = schedule(lambda o: lr_scheduler.ReduceLROnPlateau(
        o, factor=0.5, patience=1, cooldown=1, min_lr=0.2), len(losses), metrics=losses)
    assert values == [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.2]


def test_reduce_lr_on_plateau_max_mode_and_abs_threshold():
    accuracies = [0.5, 0.55, 0.56, 0.6]  # +0.01 is not an improvement with threshold 0.02
    values = schedule(lambda o: lr_scheduler.ReduceLROnPlateau(
        o, mode="max", factor=0.1, patience=0, threshold=0.02, threshold_mode="abs"),
        len(accuracies), metrics=accuracies)
    assert values == pytest.approx([1.0, 1.0, 1.0, 0.1, 0.1])


def test_construction_sets_initial_lr():
    opt = make_optimizer(0.3)
    lr_scheduler.StepLR(opt, step_size=3)
    assert opt.param_groups[0]["initial_lr"] == 0.3


def test_stepping_the_scheduler_first_warns():
    opt = make_optimizer()
    scheduler = lr_scheduler.StepLR(opt, step_size=3)
    with pytest.warns(UserWarning, match="before optimizer.step"):
        scheduler.step()
    opt2 = make_optimizer()
    scheduler2 = lr_scheduler.StepLR(opt2, step_size=3)
    opt2.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scheduler2.step()


@pytest.mark.parametrize("make", [
    lambda o: lr_scheduler.StepLR(o, step_size=3, gamma=0.5),
    lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=7, eta_min=0.01),
    lambda o: lr_scheduler.ExponentialLR(o, gamma=0.9),
    lambda o: lr_scheduler.MultiStepLR(o, milestones=[3, 8]),
])
def test_state_dict_resume(make):
    opt = make_optimizer(0.5)
    scheduler = make(opt)
    for _ in range(5):
        opt.step()
        scheduler.step()
    saved_opt = copy.deepcopy(opt.state_dict())
    saved_scheduler = copy.deepcopy(scheduler.state_dict())
    expected = []
    for _ in range(10):
        opt.step()
        scheduler.step()
        expected.append(scheduler.get_last_lr()[0])

    opt2 = make_optimizer(123.0)
    opt2.load_state_dict(saved_opt)
    scheduler2 = make(opt2)
    scheduler2.load_state_dict(saved_scheduler)
    resumed = []
    for _ in range(10):
        opt2.step()
        scheduler2.step()
        resumed.append(scheduler2.get_last_lr()[0])
    assert resumed == expected


def test_bad_arguments():
    opt = make_optimizer()
    with pytest.raises(ValueError, match="step_size"):
        lr_scheduler.StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match="start_factor"):
        lr_scheduler.LinearLR(opt, start_factor=0)
    with pytest.raises(ValueError, match="T_max"):
        lr_scheduler.CosineAnnealingLR(opt, T_max=0)
    with pytest.raises(ValueError, match="factor"):
        lr_scheduler.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="mode"):
        lr_scheduler.ReduceLROnPlateau(opt, mode="lowest")
    with pytest.raises(ValueError, match="lr_lambdas"):
        lr_scheduler.LambdaLR(opt, [lambda e: 1.0, lambda e: 1.0])
    with pytest.raises(TypeError, match="Optimizer"):
        lr_scheduler.StepLR(object(), step_size=1)
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(make_optimizer(), step_size=1, last_epoch=3)


# ---------------------------------------------------------------------------------------
# Parity with torch
# ---------------------------------------------------------------------------------------

SCHEDULERS = [
    ("StepLR", dict(step_size=4, gamma=0.3)),
    ("MultiStepLR", dict(milestones=[3, 7, 7, 15], gamma=0.5)),
    ("ExponentialLR", dict(gamma=0.93)),
    ("CosineAnnealingLR", dict(T_max=10, eta_min=0.001)),
    ("CosineAnnealingLR", dict(T_max=3)),
    ("LinearLR", dict(start_factor=0.1, end_factor=0.9, total_iters=6)),
    ("LinearLR", dict()),
]


@pytest.mark.parametrize("name, kwargs", SCHEDULERS,
                         ids=[f"{n}-{i}" for i, (n, _) in enumerate(SCHEDULERS)])
def test_matches_torch(name, kwargs):
    torch = pytest.importorskip("torch")
    params = [mg.tensor([1.0], requires_grad=True), mg.tensor([2.0], requires_grad=True)]
    opt = optim.SGD([{"params": params[:1]}, {"params": params[1:], "lr": 0.05}], lr=0.2)
    tparams = [torch.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)]
    topt = torch.optim.SGD([{"params": tparams[:1]}, {"params": tparams[1:], "lr": 0.05}],
                           lr=0.2)
    ours = getattr(lr_scheduler, name)(opt, **kwargs)
    theirs = getattr(torch.optim.lr_scheduler, name)(topt, **kwargs)
    assert ours.get_last_lr() == theirs.get_last_lr()
    for _ in range(35):
        opt.step()
        topt.step()
        ours.step()
        theirs.step()
        assert ours.get_last_lr() == theirs.get_last_lr()  # bit for bit
        assert ours.last_epoch == theirs.last_epoch


def test_lambda_lr_matches_torch():
    torch = pytest.importorskip("torch")
    opt = make_optimizer(0.1)
    topt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    warmup = lambda epoch: min(1.0, (epoch + 1) / 5) * 0.97**epoch  # noqa: E731
    ours, theirs = lr_scheduler.LambdaLR(opt, warmup), torch.optim.lr_scheduler.LambdaLR(
        topt, warmup)
    for _ in range(20):
        opt.step()
        topt.step()
        ours.step()
        theirs.step()
        assert ours.get_last_lr() == theirs.get_last_lr()


@pytest.mark.parametrize("kwargs", [
    dict(),
    dict(mode="max", factor=0.5, patience=2, threshold=0.1, threshold_mode="abs", cooldown=2),
    dict(factor=0.3, patience=0, cooldown=1, min_lr=0.01, eps=1e-3),
])
def test_reduce_lr_on_plateau_matches_torch(kwargs):
    torch = pytest.importorskip("torch")
    opt = make_optimizer(0.1)
    topt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    ours = lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kwargs)
    rng = np.random.default_rng(0)
    metrics = np.cumsum(rng.normal(0, 1, 60)) / 10  # a noisy walk: plateaus and progress
    for value in metrics:
        opt.step()
        topt.step()
        ours.step(value)
        theirs.step(value)
        assert ours.get_last_lr() == theirs.get_last_lr()
        assert ours.num_bad_epochs == theirs.num_bad_epochs
    assert ours.get_last_lr()[0] < 0.1  # the walk did trigger reductions


def test_reduce_lr_on_plateau_state_dict_resume():
    losses = [1.0, 0.9, 0.95, 0.97, 0.99, 0.98, 0.97, 0.5, 0.6, 0.7, 0.8]
    opt = make_optimizer()
    scheduler = lr_scheduler.ReduceLROnPlateau(opt, patience=1, factor=0.5)
    for value in losses[:4]:
        scheduler.step(value)
    saved = copy.deepcopy(scheduler.state_dict())
    assert "optimizer" not in saved
    assert saved["num_bad_epochs"] == 0 and opt.param_groups[0]["lr"] == 0.5  # reduced at 4
    expected = []
    for value in losses[4:]:
        scheduler.step(value)
        expected.append(scheduler.get_last_lr()[0])
    opt2 = make_optimizer(0.5)
    scheduler2 = lr_scheduler.ReduceLROnPlateau(opt2, patience=1, factor=0.5)
    scheduler2.load_state_dict(saved)
    resumed = []
    for value in losses[4:]:
        scheduler2.step(value)
        resumed.append(scheduler2.get_last_lr()[0])
    assert resumed == expected and expected[-1] < 0.5
