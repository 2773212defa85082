"""The gradcheck runner: it passes correct gradients, catches a wrong one and says where,
covers the nn layers and losses, and selects entries by name and kind."""

import numpy as np
import pytest

import minigrad as mg
from minigrad.catalogue import checks
from minigrad.catalogue.cases import CATALOGUE, OpCase
from minigrad.nn import functional as F


class WrongSquare(mg.Function):
    """x² with the gradient off by a factor: 3x instead of 2x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x


WRONG = OpCase("wrong_square", WrongSquare.apply, np.square, [(2, 3)])
RIGHT = OpCase("square", lambda a: a * a, np.square, [(2, 3)])


def test_a_correct_op_passes_with_tiny_errors():
    result = checks.check_case(RIGHT, second_order=True)
    assert result.passed and result.second_order and result.ok
    assert result.max_abs_error < 1e-7 and result.max_rel_error < 1e-7
    assert result.message == ""


def test_a_wrong_gradient_fails_and_is_reported():
    result = checks.check_case(WRONG)
    assert not result.passed and not result.ok
    # The analytic gradient is 3x, the true one 2x: the relative error is 1/3 (over max).
    assert result.max_rel_error == pytest.approx(1 / 3, rel=1e-6)
    assert "input 0" in result.message and "analytic" in result.message
    table = checks.format_results([checks.check_case(RIGHT), result])
    assert "FAIL" in table and "1 of 2 passed; FAILED: wrong_square" in table


def test_second_order_is_only_run_when_asked():
    assert checks.check_case(RIGHT).second_order is None
    no_second = OpCase("no_second", lambda a: a * a, np.square, [(2,)], second_order=False)
    assert checks.check_case(no_second, second_order=True).second_order is None


def test_catalogue_covers_the_nn_layers_and_losses():
    names = {case.name for case in CATALOGUE}
    for required in ("linear", "layer_norm", "batch_norm_train", "embedding", "mse_loss",
                     "l1_loss", "huber_loss", "smooth_l1_loss_none", "cross_entropy",
                     "cross_entropy_label_smoothing", "cross_entropy_probabilities",
                     "nll_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits"):
        assert required in names
    assert {case.group for case in CATALOGUE} == {"op", "layer", "loss"}


def test_layer_entries_differentiate_the_parameters_too():
    case = next(c for c in CATALOGUE if c.name == "linear")
    x, w, b = (mg.tensor(a, requires_grad=True) for a in
               [np.ones((4, 3)), np.ones((2, 3)), np.ones(2)])
    case.fn(x, w, b).sum().backward()
    np.testing.assert_allclose(b.grad.array, [4.0, 4.0])  # one per row of x
    np.testing.assert_allclose(case.fn(x, w, b).array, F.linear(x, w, b).array)


def test_select_by_name_and_kind():
    assert [c.name for c in checks.select(["nll"])] == ["nll_loss"]
    losses = checks.select(groups=["loss"])
    assert losses and all(c.group == "loss" for c in losses)
    assert {c.name for c in checks.select(["linear"], ["layer"])} == {"linear",
                                                                      "linear_no_bias"}
    with pytest.raises(ValueError, match="no op in the catalogue matches nothing_like_this"):
        checks.select(["nothing_like_this"])
    with pytest.raises(ValueError, match="unknown group"):
        checks.select(groups=["optimizer"])


def test_whole_catalogue_passes_first_order():
    results = checks.check_all()
    assert len(results) == len(CATALOGUE)
    assert all(r.ok for r in results), [r.message for r in results if not r.ok]
    assert max(r.max_abs_error for r in results) < 1e-5


def test_settings_are_those_of_mg_gradcheck():
    assert checks.settings() == "eps 1e-06, atol 1e-05, rtol 0.001"
