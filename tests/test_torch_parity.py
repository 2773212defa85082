"""The same expressions in minigrad and PyTorch give the same values and gradients
(skipped when torch is not installed; it is never a dependency)."""

import numpy as np
import pytest

import minigrad as mg

torch = pytest.importorskip("torch")
F = torch.nn.functional

# (name, minigrad function, torch function, input shapes, low, high)
PAIRS = [
    ("broadcast_arith", lambda a, b: (a * b - a / (b * b + 1)) ** 2,
     lambda a, b: (a * b - a / (b * b + 1)) ** 2, [(3, 4), (4,)], -2, 2),
    ("matmul_batched", lambda a, b: a @ b, lambda a, b: a @ b, [(2, 3, 4), (4, 5)], -2, 2),
    ("matmul_vec", lambda a, b: a @ b, lambda a, b: a @ b, [(4,), (2, 4, 3)], -2, 2),
    ("exp_log_sqrt", lambda a: a.exp() + a.log() + a.sqrt(),
     lambda a: a.exp() + a.log() + a.sqrt(), [(3, 4)], 0.2, 2),
    ("trig_abs", lambda a: a.sin() * a.cos() + a.abs(),
     lambda a: a.sin() * a.cos() + a.abs(), [(5,)], -2, 2),
    ("activations", lambda a: a.tanh() + a.sigmoid() + a.relu() + a.leaky_relu(0.2),
     lambda a: a.tanh() + a.sigmoid() + a.relu() + F.leaky_relu(a, 0.2), [(3, 4)], -3, 3),
    ("gelu", lambda a: a.gelu() + a.gelu(approximate="tanh"),
     lambda a: F.gelu(a) + F.gelu(a, approximate="tanh"), [(3, 4)], -3, 3),
    ("clamp_max_min", lambda a, b: a.clamp(-0.5, 0.5) + a.maximum(b) - a.minimum(b),
     lambda a, b: a.clamp(-0.5, 0.5) + a.maximum(b) - a.minimum(b), [(3, 4), (3, 4)], -1, 1),
    ("where", lambda a, b: mg.where(a > b, a * 2, b),
     lambda a, b: torch.where(a > b, a * 2, b), [(3, 4), (4,)], -1, 1),
    ("reductions", lambda a: a.sum(1) + a.mean(1) + a.var(1) + a.std(1) + a.logsumexp(1),
     lambda a: a.sum(1) + a.mean(1) + a.var(1) + a.std(1) + a.logsumexp(1), [(3, 4)], -2, 2),
    ("max_min_dims", lambda a: a.max(0).values + a.min(-1, keepdim=True).values,
     lambda a: a.amax(0) + a.amin(-1, keepdim=True), [(3, 4)], -2, 2),
    ("softmaxes", lambda a: a.softmax(1) * a.log_softmax(0),
     lambda a: a.softmax(1) * a.log_softmax(0), [(3, 4)], -5, 5),
    ("shapes", lambda a: a.reshape(4, 3).T.unsqueeze(0).expand(2, 3, 4).permute(2, 0, 1)
     .flatten(1).squeeze(), lambda a: a.reshape(4, 3).T.unsqueeze(0).expand(2, 3, 4)
     .permute(2, 0, 1).flatten(1).squeeze(), [(3, 4)], -2, 2),
    ("indexing", lambda a: a[[0, 0, 2], 1:] * a[a > 0].sum() + a[..., None, -1],
     lambda a: a[[0, 0, 2], 1:] * a[a > 0].sum() + a[..., None, -1], [(3, 4)], -2, 2),
    ("cat_stack", lambda a, b: mg.cat([a, b * 2], 1).sum(1) + mg.stack([a, b], 2).sum((1, 2)),
     lambda a, b: torch.cat([a, b * 2], 1).sum(1) + torch.stack([a, b], 2).sum((1, 2)),
     [(3, 4), (3, 4)], -2, 2),
]


@pytest.mark.parametrize("name, fn, torch_fn, shapes, low, high", PAIRS,
                         ids=[p[0] for p in PAIRS])
def test_values_and_gradients_match_torch(name, fn, torch_fn, shapes, low, high):
    generator = np.random.default_rng(7)
    arrays = [generator.uniform(low, high, size=s) for s in shapes]
    ours = [mg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, expected = fn(*ours), torch_fn(*theirs)
    np.testing.assert_allclose(out.array, expected.detach().numpy(), rtol=1e-12, atol=1e-12)
    weights = generator.standard_normal(out.shape)
    (out * weights).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    for t, u in zip(ours, theirs):
        np.testing.assert_allclose(t.grad.array, u.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_second_derivatives_match_torch():
    x = np.array([0.3, -1.2, 2.0])
    ours = mg.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    (g,) = mg.grad((ours.tanh() * ours.exp()).sum(), ours, create_graph=True)
    (tg,) = torch.autograd.grad((theirs.tanh() * theirs.exp()).sum(), theirs, create_graph=True)
    (gg,) = mg.grad((g * g).sum(), ours)
    (tgg,) = torch.autograd.grad((tg * tg).sum(), theirs)
    np.testing.assert_allclose(gg.array, tgg.numpy(), rtol=1e-12)
