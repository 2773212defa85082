"""Losses against independent NumPy formulas written here, gradients by finite differences
in float64 (and second derivatives for the fused cross-entropy), stability for logits of
±1000, error messages, and parity with torch.nn.functional when installed."""

import math
import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.nn import functional as F

REDUCTIONS = ["mean", "sum", "none"]


def rand64(*shape, low=-2.0, high=2.0, seed=0, requires_grad=True):
    data = np.random.default_rng(seed).uniform(low, high, shape)
    return mg.tensor(data, dtype=mg.float64, requires_grad=requires_grad)


def reduce_np(losses, reduction):
    return {"mean": np.mean, "sum": np.sum, "none": lambda v: v}[reduction](losses)


def np_log_softmax(z, axis=1):
    m = z.max(axis=axis, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=axis, keepdims=True))


# ---------------------------------------------------------------------------------------
# Regression losses
# ---------------------------------------------------------------------------------------


def np_huber(d, delta):
    a = np.abs(d)
    return np.where(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta))


REGRESSION = [
    (nn.MSELoss, {}, lambda d: d * d),
    (nn.L1Loss, {}, np.abs),
    (nn.HuberLoss, {}, lambda d: np_huber(d, 1.0)),
    (nn.HuberLoss, {"delta": 0.5}, lambda d: np_huber(d, 0.5)),
    (nn.SmoothL1Loss, {"beta": 0.5}, lambda d: np_huber(d, 0.5) / 0.5),
]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("cls, kwargs, formula", REGRESSION,
                         ids=lambda v: getattr(v, "__name__", str(v)))
def test_regression_losses(cls, kwargs, formula, reduction):
    loss_fn = cls(reduction=reduction, **kwargs)
    x, y = rand64(4, 3, seed=1), rand64(4, 3, seed=2)
    expected = reduce_np(formula(x.array - y.array), reduction)
    np.testing.assert_allclose(loss_fn(x, y).array, expected, rtol=1e-12)
    assert mg.gradcheck(lambda x, y: loss_fn(x, y), (x, y))


def test_regression_target_broadcast_warns_and_mismatch_raises():
    x = mg.zeros(4, 1)
    with pytest.warns(UserWarning, match=r"\(4,\).*\(4, 1\)"):
        F.mse_loss(x, mg.zeros(4))
    with pytest.raises(ValueError, match=r"\(3,\).*\(4, 2\)"):
        F.l1_loss(mg.zeros(4, 2), mg.zeros(3))
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="avg")
    with pytest.raises(ValueError, match="delta"):
        nn.HuberLoss(delta=0.0)


# ---------------------------------------------------------------------------------------
# Cross-entropy and NLL
# ---------------------------------------------------------------------------------------


def np_cross_entropy(z, y, weight=None, ignore_index=-100, smoothing=0.0, reduction="mean"):
    """PyTorch's documented formula, class indices, per row."""
    n, c = z.shape
    logp = np_log_softmax(z)
    w = np.ones(c) if weight is None else weight
    losses, total = np.zeros(n), 0.0
    for i in range(n):
        if y[i] == ignore_index:
            continue
        nll = -w[y[i]] * logp[i, y[i]]
        smooth = -(w * logp[i]).sum() / c
        losses[i] = (1 - smoothing) * nll + smoothing * smooth
        total += w[y[i]]
    if reduction == "mean":
        return losses.sum() / total
    return reduce_np(losses, reduction)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_class_indices(reduction, weighted, smoothing):
    z = rand64(6, 4, seed=3)
    y = np.array([0, 3, 1, -100, 3, 2])
    weight = np.array([0.5, 2.0, 1.0, 3.0]) if weighted else None
    loss_fn = nn.CrossEntropyLoss(weight=None if weight is None else mg.tensor(weight),
                                  reduction=reduction, label_smoothing=smoothing)
    out = loss_fn(z, mg.tensor(y))
    expected = np_cross_entropy(z.array, y, weight, -100, smoothing, reduction)
    np.testing.assert_allclose(out.array, expected, rtol=1e-12)
    assert mg.gradcheck(lambda z: loss_fn(z, y), (z,))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_fused_op_gradgradcheck(reduction):
    z = rand64(3, 4, seed=4)
    y = mg.tensor([2, 0, 2])
    assert mg.gradgradcheck(lambda z: F.cross_entropy(z, y, reduction=reduction,
                                                      label_smoothing=0.1), (z,))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_probabilities(reduction):
    z = rand64(5, 3, seed=5)
    p = np.random.default_rng(6).dirichlet(np.ones(3), size=5)
    q = mg.tensor(p, dtype=mg.float64, requires_grad=True)
    out = F.cross_entropy(z, q, reduction=reduction)
    expected = reduce_np(-(p * np_log_softmax(z.array)).sum(axis=1), reduction)
    np.testing.assert_allclose(out.array, expected, rtol=1e-12)
    # Differentiable in both the logits and the target probabilities, to second order.
    assert mg.gradcheck(lambda z, q: F.cross_entropy(z, q, reduction=reduction), (z, q))
    assert mg.gradgradcheck(lambda z, q: F.cross_entropy(z, q, reduction=reduction), (z, q))


def test_cross_entropy_probabilities_with_smoothing_and_weight():
    z = rand64(4, 3, seed=7)
    p = np.random.default_rng(8).dirichlet(np.ones(3), size=4)
    w = np.array([1.0, 2.0, 0.5])
    out = F.cross_entropy(z, mg.tensor(p, dtype=mg.float64), weight=mg.tensor(w),
                          label_smoothing=0.3)
    q = (p * 0.7 + 0.3 / 3) * w
    expected = -(q * np_log_softmax(z.array)).sum(axis=1).mean()  # mean over rows
    np.testing.assert_allclose(out.array, expected, rtol=1e-12)


def test_cross_entropy_spatial_and_unbatched():
    z = rand64(2, 3, 4, seed=9)  # (N, C, d)
    y = np.array([[0, 2, 1, 1], [2, 2, 0, 1]])
    rows = z.array.transpose(0, 2, 1).reshape(-1, 3)
    expected = np_cross_entropy(rows, y.reshape(-1), reduction="none").reshape(2, 4)
    np.testing.assert_allclose(F.cross_entropy(z, y, reduction="none").array, expected,
                               rtol=1e-12)
    assert mg.gradcheck(lambda z: F.cross_entropy(z, y), (z,))
    v = rand64(3, seed=10)
    np.testing.assert_allclose(F.cross_entropy(v, mg.tensor(2)).array,
                               -np_log_softmax(v.array[None])[0, 2], rtol=1e-12)


def test_cross_entropy_stable_for_huge_logits():
    z = mg.tensor([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0]], requires_grad=True)
    y = mg.tensor([1, 2])
    loss = F.cross_entropy(z, y)
    loss.backward()
    assert np.isfinite(loss.array) and np.isfinite(z.grad.array).all()
    # Row 0: -log_softmax = 2000; row 1: log(1 + e⁻¹) + 1... computed exactly:
    expected = (2000.0 + (math.log1p(math.exp(-1.0)) + 1.0)) / 2
    assert float(loss) == pytest.approx(expected, rel=1e-5)


def test_cross_entropy_all_ignored_is_nan_as_torch():
    out = F.cross_entropy(mg.randn(2, 3), mg.tensor([-100, -100]))
    assert math.isnan(float(out))


def test_cross_entropy_error_messages():
    z = mg.randn(4, 3)
    with pytest.raises(ValueError, match=r"\(4, 3\).*\(4, 1\)|\(4, 1\).*\(4, 3\)"):
        F.cross_entropy(z, mg.tensor([[0], [1], [2], [0]]))
    with pytest.raises(TypeError, match="bool.*float32|float32.*bool"):
        F.cross_entropy(z, mg.tensor([True, False, True, False]))
    with pytest.raises(IndexError, match="target value 3 .* 3 classes"):
        F.cross_entropy(z, mg.tensor([0, 1, 3, 0]))
    with pytest.raises(ValueError, match=r"probabilities of shape \(4, 2\).*\(4, 3\)"):
        F.cross_entropy(z, mg.zeros(4, 2))
    with pytest.raises(ValueError, match="weight"):
        F.cross_entropy(z, mg.tensor([0, 1, 2, 0]), weight=mg.ones(4))
    with pytest.raises(ValueError, match="label_smoothing"):
        nn.CrossEntropyLoss(label_smoothing=1.5)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss_matches_formula(reduction):
    logp = rand64(5, 4, seed=11)
    y = np.array([3, 0, -100, 1, 3])
    w = np.array([1.0, 0.5, 2.0, 1.5])
    out = nn.NLLLoss(weight=mg.tensor(w), reduction=reduction)(logp, mg.tensor(y))
    valid = y != -100
    picked = -logp.array[np.arange(5), np.where(valid, y, 0)] * w[np.where(valid, y, 0)] * valid
    expected = picked.sum() / (w[y[valid]]).sum() if reduction == "mean" else reduce_np(
        picked, reduction)
    np.testing.assert_allclose(out.array, expected, rtol=1e-12)
    assert mg.gradcheck(lambda logp: nn.NLLLoss(weight=mg.tensor(w), reduction=reduction)(
        logp, y), (logp,))


def test_nll_of_log_softmax_equals_cross_entropy():
    z = rand64(6, 5, seed=12)
    y = mg.tensor([4, 0, 1, 1, 2, 3])
    np.testing.assert_allclose(F.nll_loss(z.log_softmax(1), y).array,
                               F.cross_entropy(z, y).array, rtol=1e-12)


# ---------------------------------------------------------------------------------------
# Binary cross-entropy
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_matches_formula_and_gradcheck(reduction):
    x = rand64(4, 3, low=0.05, high=0.95, seed=13)
    y = rand64(4, 3, low=0.0, high=1.0, seed=14)
    w = np.random.default_rng(15).uniform(0.5, 2, size=(3,))
    loss_fn = nn.BCELoss(weight=mg.tensor(w), reduction=reduction)
    expected = reduce_np(-w * (y.array * np.log(x.array) + (1 - y.array) * np.log(1 - x.array)),
                         reduction)
    np.testing.assert_allclose(loss_fn(x, y).array, expected, rtol=1e-12)
    assert mg.gradcheck(lambda x, y: loss_fn(x, y), (x, y))
    assert mg.gradgradcheck(lambda x, y: loss_fn(x, y), (x, y))


def test_bce_clamps_logs_at_minus_100():
    x = mg.tensor([0.0, 1.0, 0.0, 1.0], requires_grad=True)
    y = mg.tensor([1.0, 0.0, 0.0, 1.0])
    loss = F.binary_cross_entropy(x, y, reduction="none")
    np.testing.assert_allclose(loss.array, [100.0, 100.0, 0.0, 0.0])
    loss.sum().backward()
    assert np.isfinite(x.grad.array).all()
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.binary_cross_entropy(mg.tensor([1.5]), mg.tensor([1.0]))
    with pytest.raises(ValueError, match=r"\(3,\).*\(4,\)"):
        F.binary_cross_entropy(x, mg.zeros(3))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits_matches_formula(reduction):
    z = rand64(4, 3, low=-4, high=4, seed=16)
    y = rand64(4, 3, low=0.0, high=1.0, seed=17)
    pw = np.array([0.5, 1.0, 3.0])
    loss_fn = nn.BCEWithLogitsLoss(reduction=reduction, pos_weight=mg.tensor(pw))
    s = 1 / (1 + np.exp(-z.array))
    expected = reduce_np(-(pw * y.array * np.log(s) + (1 - y.array) * np.log(1 - s)), reduction)
    np.testing.assert_allclose(loss_fn(z, y).array, expected, rtol=1e-10)
    assert mg.gradcheck(lambda z, y: loss_fn(z, y), (z, y))


def test_bce_with_logits_stable_for_huge_logits():
    z = mg.tensor([1000.0, -1000.0, 1000.0, -1000.0, 0.0], requires_grad=True)
    y = mg.tensor([1.0, 0.0, 0.0, 1.0, 1.0])
    loss = F.binary_cross_entropy_with_logits(z, y, reduction="none")
    np.testing.assert_allclose(loss.array, [0.0, 0.0, 1000.0, 1000.0, math.log(2)], rtol=1e-6)
    loss.sum().backward()
    # ∂/∂z = σ(z) - y
    np.testing.assert_allclose(z.grad.array, [0.0, 0.0, 1.0, -1.0, -0.5], atol=1e-7)


def test_bce_with_logits_weight():
    z, y = rand64(3, 2, seed=18), rand64(3, 2, low=0, high=1, seed=19)
    w = mg.tensor([[2.0, 0.5]], dtype=mg.float64)
    plain = F.binary_cross_entropy_with_logits(z, y, reduction="none").array
    weighted = F.binary_cross_entropy_with_logits(z, y, weight=w, reduction="sum").array
    np.testing.assert_allclose(weighted, (plain * w.array).sum(), rtol=1e-12)


# ---------------------------------------------------------------------------------------
# Parity with torch.nn.functional
# ---------------------------------------------------------------------------------------


def test_losses_match_torch():
    torch = pytest.importorskip("torch")
    TF = torch.nn.functional
    rng = np.random.default_rng(20)
    z = rng.normal(size=(6, 4)) * 3
    y = np.array([1, 0, 3, 3, -100, 2])
    w = rng.uniform(0.5, 2.0, size=4)
    p = rng.dirichlet(np.ones(4), size=6)
    x = rng.uniform(0.01, 0.99, size=(6, 4))
    t = rng.uniform(0, 1, size=(6, 4))
    pw = rng.uniform(0.5, 2, size=4)
    cases = [
        (lambda a: F.cross_entropy(a, y, weight=mg.tensor(w), label_smoothing=0.1),
         lambda a: TF.cross_entropy(a, torch.tensor(y), weight=torch.tensor(w),
                                    label_smoothing=0.1), z),
        (lambda a: F.cross_entropy(a, mg.tensor(p), weight=mg.tensor(w), label_smoothing=0.2),
         lambda a: TF.cross_entropy(a, torch.tensor(p), weight=torch.tensor(w),
                                    label_smoothing=0.2), z),
        (lambda a: F.cross_entropy(a.reshape(2, 3, 4), y[:4].reshape(2, 2).repeat(2, 1)
                                   .reshape(2, 4) % 3, reduction="sum"),
         lambda a: TF.cross_entropy(a.reshape(2, 3, 4), torch.tensor(
             y[:4].reshape(2, 2).repeat(2, 1).reshape(2, 4) % 3), reduction="sum"), z),
        (lambda a: F.nll_loss(a.log_softmax(1), y, weight=mg.tensor(w)),
         lambda a: TF.nll_loss(a.log_softmax(1), torch.tensor(y), weight=torch.tensor(w)), z),
        (lambda a: F.binary_cross_entropy(a, mg.tensor(t)),
         lambda a: TF.binary_cross_entropy(a, torch.tensor(t)), x),
        (lambda a: F.binary_cross_entropy_with_logits(a, mg.tensor(t),
                                                      pos_weight=mg.tensor(pw)),
         lambda a: TF.binary_cross_entropy_with_logits(a, torch.tensor(t),
                                                       pos_weight=torch.tensor(pw)), z),
        (lambda a: F.huber_loss(a, mg.tensor(t), delta=0.7),
         lambda a: TF.huber_loss(a, torch.tensor(t), delta=0.7), z),
        (lambda a: F.smooth_l1_loss(a, mg.tensor(t), beta=0.7),
         lambda a: TF.smooth_l1_loss(a, torch.tensor(t), beta=0.7), z),
        (lambda a: F.mse_loss(a, mg.tensor(t), reduction="sum"),
         lambda a: TF.mse_loss(a, torch.tensor(t), reduction="sum"), z),
        (lambda a: F.l1_loss(a, mg.tensor(t)), lambda a: TF.l1_loss(a, torch.tensor(t)), z),
    ]
    for k, (ours, theirs, data) in enumerate(cases):
        a = mg.tensor(data, dtype=mg.float64, requires_grad=True)
        at = torch.tensor(data, requires_grad=True)
        out, out_t = ours(a), theirs(at)
        np.testing.assert_allclose(out.array, out_t.detach().numpy(), rtol=1e-10,
                                   err_msg=f"case {k}")
        out.backward()
        out_t.backward()
        np.testing.assert_allclose(a.grad.array, at.grad.numpy(), rtol=1e-9, atol=1e-12,
                                   err_msg=f"case {k}")


def test_huge_logits_match_torch():
    torch = pytest.importorskip("torch")
    z = np.array([[1000.0, -1000.0, 5.0], [-1000.0, 1000.0, 1000.0]], dtype=np.float32)
    t = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warnings either
        for ours, theirs in [
            (lambda a: F.cross_entropy(a, mg.tensor([1, 0])),
             lambda a: torch.nn.functional.cross_entropy(a, torch.tensor([1, 0]))),
            (lambda a: F.binary_cross_entropy_with_logits(a, mg.tensor(t)),
             lambda a: torch.nn.functional.binary_cross_entropy_with_logits(a,
                                                                            torch.tensor(t))),
        ]:
            a = mg.tensor(z, requires_grad=True)
            at = torch.tensor(z, requires_grad=True)
            out, out_t = ours(a), theirs(at)
            out.backward()
            out_t.backward()
            np.testing.assert_allclose(out.array, out_t.detach().numpy(), rtol=1e-5)
            np.testing.assert_allclose(a.grad.array, at.grad.numpy(), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("probabilities", [False, True])
def test_cross_entropy_recorded_gradient_equals_fast_gradient(probabilities):
    """The fused op's backward has a NumPy path and a recorded (create_graph) path: the two
    must give the same first derivatives (gradgradcheck alone checks only their slopes)."""
    z = rand64(4, 3, seed=21)
    target = (mg.tensor(np.random.default_rng(22).dirichlet(np.ones(3), size=4),
                        dtype=mg.float64, requires_grad=True)
              if probabilities else mg.tensor([0, 2, 1, 2]))
    inputs = (z, target) if probabilities else (z,)
    fast = mg.grad(F.cross_entropy(z, target, label_smoothing=0.1), inputs)
    recorded = mg.grad(F.cross_entropy(z, target, label_smoothing=0.1), inputs,
                       create_graph=True)
    for a, b in zip(fast, recorded):
        assert b.requires_grad
        np.testing.assert_allclose(a.array, b.array, rtol=1e-12)


def test_cross_entropy_with_a_masked_class():
    # A logit of -inf (a class masked out) has probability 0; the loss stays finite.
    logits = mg.tensor([[-np.inf, 1.0, 0.0], [2.0, -np.inf, 0.5]], requires_grad=True)
    target = mg.tensor([1, 0])
    expected = np.mean([np.log(np.exp(1) + 1) - 1, np.log(np.exp(2) + np.exp(0.5)) - 2])
    for reduction, value in (("mean", expected), ("none", None)):
        loss = F.cross_entropy(logits, target, reduction=reduction)
        assert np.isfinite(loss.array).all()
        if value is not None:
            assert loss.item() == pytest.approx(value, rel=1e-6)
    F.cross_entropy(logits, target).backward()
    assert np.isfinite(logits.grad.array).all() and logits.grad.array[0, 0] == 0


def test_losses_keep_the_input_dtype_with_a_float64_target():
    x = mg.tensor([0.2, 0.7], requires_grad=True)  # float32
    y = np.array([0.0, 1.0])  # float64
    for loss in (F.binary_cross_entropy(x, y), F.binary_cross_entropy_with_logits(x, y),
                 F.mse_loss(x, y), F.l1_loss(x, y)):
        assert loss.dtype == np.float32
