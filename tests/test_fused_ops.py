"""The fused ops of the derivative sheet (``ops.py``, "Fused ops") run their backward on
the arrays when nothing is recorded, an optimisation: it must give exactly what the same
equations give on Tensors (the path ``create_graph=True`` takes), here in float64."""

import numpy as np
import pytest

import minigrad as mg
from minigrad.nn import functional as F


def both_paths(loss_of, inputs):
    """The gradients of ``loss_of(*inputs)`` from the array path and the Tensor path."""
    fast = mg.grad(loss_of(*inputs), inputs)
    recorded = mg.grad(loss_of(*inputs), inputs, create_graph=True)
    assert any(g.grad_fn is not None for g in recorded)  # it did take the Tensor path
    return fast, recorded


def assert_same(fast, recorded):
    for a, b in zip(fast, recorded, strict=True):
        assert a.dtype == b.dtype == mg.float64 and a.shape == b.shape
        np.testing.assert_allclose(a.array, b.array, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("x_shape", [(5, 3), (2, 4, 3)])
@pytest.mark.parametrize("with_bias", [True, False])
def test_linear_array_path_agrees_with_tensor_path(x_shape, with_bias):
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.standard_normal(x_shape), requires_grad=True)
    w = mg.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    b = mg.tensor(rng.standard_normal(2), requires_grad=True) if with_bias else None
    weights = mg.tensor(rng.standard_normal(x_shape[:-1] + (2,)))  # a gradient not all ones
    inputs = (x, w, b) if with_bias else (x, w)
    assert_same(*both_paths(lambda x, w, b=None: (F.linear(x, w, b) * weights).sum(), inputs))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("target_kind", ["indices", "weighted", "probabilities"])
def test_cross_entropy_array_path_agrees_with_tensor_path(reduction, target_kind):
    rng = np.random.default_rng(1)
    logits = mg.tensor(rng.standard_normal((6, 4)) * 3, requires_grad=True)
    kwargs = {}
    if target_kind == "probabilities":
        p = rng.random((6, 4))
        target = mg.tensor(p / p.sum(1, keepdims=True), requires_grad=True)
        inputs = (logits, target)
    else:
        target = mg.tensor(rng.integers(0, 4, 6))
        inputs = (logits,)
        if target_kind == "weighted":  # q rows that do not sum to 1
            kwargs = {"weight": mg.tensor([0.5, 2.0, 1.0, 3.0], dtype=mg.float64),
                      "label_smoothing": 0.1}
    scale = mg.tensor(rng.standard_normal(6)) if reduction == "none" else 1.0

    def loss_of(logits, probabilities=None):
        t = probabilities if probabilities is not None else target
        return (F.cross_entropy(logits, t, reduction=reduction, **kwargs) * scale).sum()

    assert_same(*both_paths(loss_of, inputs))
