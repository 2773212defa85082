"""Layers, init and gradient clipping: forward against NumPy formulas written here,
gradients by finite differences in float64, and parity with torch.nn when installed."""

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.nn import functional as F
from minigrad.nn import init


def rand64(*shape, low=-2.0, high=2.0, seed=0, requires_grad=True):
    data = np.random.default_rng(seed).uniform(low, high, shape)
    return mg.tensor(data, dtype=mg.float64, requires_grad=requires_grad)


def check_module_grads(module, x):
    """gradcheck of ``module(x)`` with respect to x and every parameter (float64)."""
    module.double()
    params = list(module.parameters())
    return mg.gradcheck(lambda x, *ps: module(x), (x, *params))


# ---------------------------------------------------------------------------------------
# Linear
# ---------------------------------------------------------------------------------------


def test_linear_forward_matches_numpy():
    mg.manual_seed(0)
    layer = nn.Linear(3, 4)
    assert layer.weight.shape == (4, 3) and layer.bias.shape == (4,)
    x = np.random.default_rng(1).normal(size=(5, 3)).astype(np.float32)
    expected = x @ layer.weight.array.T + layer.bias.array
    np.testing.assert_allclose(layer(mg.tensor(x)).array, expected, rtol=1e-6)


def test_linear_without_bias_and_batched_input():
    layer = nn.Linear(3, 2, bias=False)
    assert layer.bias is None
    assert [name for name, _ in layer.named_parameters()] == ["weight"]
    x = np.random.default_rng(1).normal(size=(2, 5, 3))
    out = layer(mg.tensor(x))
    np.testing.assert_allclose(out.array, x @ layer.weight.array.T, rtol=1e-5)
    assert out.shape == (2, 5, 2)


@pytest.mark.parametrize("shape", [(5, 3), (2, 4, 3), (3,)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_gradcheck(shape, bias):
    mg.manual_seed(0)
    layer = nn.Linear(3, 2, bias=bias)
    assert check_module_grads(layer, rand64(*shape))


def test_linear_gradgradcheck():
    mg.manual_seed(0)
    layer = nn.Linear(3, 2).double()
    x = rand64(4, 3)
    assert mg.gradgradcheck(lambda x, w, b: F.linear(x, w, b), (x, layer.weight, layer.bias))


def test_linear_default_init_bounds():
    mg.manual_seed(0)
    layer = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)  # U(-1/√in, 1/√in) for weight and bias, as PyTorch
    for p in (layer.weight.array, layer.bias.array):
        assert np.abs(p).max() <= bound
        assert np.abs(p).max() > 0.95 * bound
    # The std of U(-a, a) is a/√3.
    assert abs(layer.weight.array.std() - bound / math.sqrt(3)) < 0.01 * bound
    assert layer.weight.dtype == mg.float32


def test_linear_init_is_reproducible_with_manual_seed():
    mg.manual_seed(7)
    a = nn.Linear(4, 4).weight.array.copy()
    mg.manual_seed(7)
    b = nn.Linear(4, 4).weight.array.copy()
    np.testing.assert_array_equal(a, b)


def test_linear_shape_error_names_shapes():
    layer = nn.Linear(3, 2)
    with pytest.raises(ValueError, match=r"\(5, 4\).*\(2, 3\)"):
        layer(mg.zeros(5, 4))


def test_linear_rejects_bad_sizes():
    with pytest.raises(ValueError, match="in_features"):
        nn.Linear(-1, 2)


# ---------------------------------------------------------------------------------------
# Activations, Flatten, Identity
# ---------------------------------------------------------------------------------------


def _np_softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


ERF = np.vectorize(math.erf)

ACTIVATIONS = [
    (nn.ReLU(), lambda x: np.maximum(x, 0)),
    (nn.LeakyReLU(0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
    (nn.Tanh(), np.tanh),
    (nn.Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
    (nn.GELU(), lambda x: 0.5 * x * (1 + ERF(x / math.sqrt(2)))),
    (nn.GELU("tanh"),
     lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))),
    (nn.Softmax(dim=1), lambda x: _np_softmax(x, 1)),
    (nn.LogSoftmax(dim=0), lambda x: np.log(_np_softmax(x, 0))),
    (nn.Identity(), lambda x: x),
    (nn.Flatten(), lambda x: x.reshape(x.shape[0], -1)),
]


@pytest.mark.parametrize("layer, reference", ACTIVATIONS, ids=lambda v: repr(v)[:20])
def test_activation_forward_and_gradcheck(layer, reference):
    x = rand64(3, 4, seed=3)
    x.array[np.abs(x.array) < 1e-3] = 0.5  # keep away from kinks for finite differences
    np.testing.assert_allclose(layer(x).array, reference(x.array), rtol=1e-6, atol=1e-12)
    assert check_module_grads(layer, x)


def test_flatten_dims():
    x = mg.zeros(2, 3, 4, 5)
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 1)(x).shape == (6, 4, 5)
    assert nn.Flatten(1, 2)(x).shape == (2, 12, 5)


def test_gelu_rejects_unknown_approximation():
    with pytest.raises(ValueError, match="approximate"):
        nn.GELU("fast")


# ---------------------------------------------------------------------------------------
# Dropout
# ---------------------------------------------------------------------------------------


def test_dropout_statistics_and_scaling():
    mg.manual_seed(0)
    layer = nn.Dropout(0.3)
    x = mg.ones(200, 500)
    out = layer(x).array
    kept = out != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(out[kept], 1 / 0.7, rtol=1e-6)


def test_dropout_gradient_is_the_mask():
    mg.manual_seed(1)
    x = mg.ones(10, 10, requires_grad=True)
    out = nn.Dropout(0.5)(x)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.array, out.array)  # d out/d x = mask / (1 - p) = out / x


def test_dropout_eval_is_identity_and_p_edge_cases():
    layer = nn.Dropout(0.5).eval()
    x = mg.randn(4, 4)
    assert layer(x) is x
    assert nn.Dropout(0.0)(x) is x
    assert (nn.Dropout(1.0)(x).array == 0).all()


def test_dropout_is_reproducible_with_seed():
    x = mg.ones(8, 8)
    mg.manual_seed(3)
    a = nn.Dropout(0.5)(x).array
    mg.manual_seed(3)
    b = nn.Dropout(0.5)(x).array
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("p", [-0.1, 1.5, "0.5"])
def test_dropout_validates_p(p):
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(p)


# ---------------------------------------------------------------------------------------
# LayerNorm
# ---------------------------------------------------------------------------------------


def test_layer_norm_matches_numpy_and_gradcheck():
    layer = nn.LayerNorm((3, 4))
    x = rand64(2, 3, 4, seed=5)
    layer.double()
    layer.weight.array[...] = np.random.default_rng(6).normal(size=(3, 4))
    layer.bias.array[...] = np.random.default_rng(7).normal(size=(3, 4))
    xd = x.array
    mean = xd.mean(axis=(1, 2), keepdims=True)
    var = ((xd - mean) ** 2).mean(axis=(1, 2), keepdims=True)
    expected = (xd - mean) / np.sqrt(var + 1e-5) * layer.weight.array + layer.bias.array
    np.testing.assert_allclose(layer(x).array, expected, rtol=1e-10)
    assert check_module_grads(layer, x)


def test_layer_norm_without_affine_and_shape_error():
    layer = nn.LayerNorm(4, elementwise_affine=False)
    assert list(layer.parameters()) == []
    out = layer(mg.randn(3, 4)).array
    np.testing.assert_allclose(out.mean(axis=1), 0, atol=1e-6)
    with pytest.raises(ValueError, match=r"\(3, 5\).*\(4,\)"):
        layer(mg.randn(3, 5))


# ---------------------------------------------------------------------------------------
# BatchNorm1d
# ---------------------------------------------------------------------------------------


def test_batch_norm_training_normalizes_and_updates_running_stats():
    layer = nn.BatchNorm1d(3, momentum=0.2)
    x = np.random.default_rng(0).normal(2.0, 3.0, size=(8, 3)).astype(np.float32)
    out = layer(mg.tensor(x)).array
    mean, biased_var = x.mean(axis=0), x.var(axis=0)
    np.testing.assert_allclose(out, (x - mean) / np.sqrt(biased_var + 1e-5), rtol=1e-4,
                               atol=1e-5)
    # PyTorch's convention: running = (1 - momentum)·running + momentum·batch, unbiased var.
    np.testing.assert_allclose(layer.running_mean.array, 0.8 * 0 + 0.2 * mean, rtol=1e-5)
    np.testing.assert_allclose(layer.running_var.array, 0.8 * 1 + 0.2 * x.var(axis=0, ddof=1),
                               rtol=1e-5)
    assert int(layer.num_batches_tracked.item()) == 1


def test_batch_norm_eval_uses_running_stats():
    layer = nn.BatchNorm1d(2)
    layer.running_mean.array[...] = [1.0, -1.0]
    layer.running_var.array[...] = [4.0, 0.25]
    layer.weight.array[...] = [2.0, 3.0]
    layer.bias.array[...] = [0.5, 0.0]
    layer.eval()
    x = np.array([[3.0, 0.0], [1.0, -1.0]], dtype=np.float32)
    expected = (x - [1.0, -1.0]) / np.sqrt(np.array([4.0, 0.25]) + 1e-5) * [2.0, 3.0] + [0.5, 0]
    np.testing.assert_allclose(layer(mg.tensor(x)).array, expected, rtol=1e-5)
    assert int(layer.num_batches_tracked.item()) == 0  # eval changes no statistics


def test_batch_norm_3d_input_and_cumulative_momentum():
    layer = nn.BatchNorm1d(2, momentum=None)
    rng = np.random.default_rng(1)
    batches = [rng.normal(size=(4, 2, 5)) for _ in range(3)]
    for b in batches:
        layer(mg.tensor(b, dtype=mg.float32))
    # momentum=None: the plain average of the batch means.
    expected = np.mean([b.mean(axis=(0, 2)) for b in batches], axis=0)
    np.testing.assert_allclose(layer.running_mean.array, expected, rtol=1e-5)


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 2)])
def test_batch_norm_gradcheck_train_and_eval(shape):
    layer = nn.BatchNorm1d(3)
    layer.double()
    layer.weight.array[...] = [0.5, 1.5, -1.0]
    layer.bias.array[...] = [0.1, 0.2, 0.3]
    x = rand64(*shape, seed=2)
    layer.train()
    assert check_module_grads(layer, x)
    layer.eval()
    assert check_module_grads(layer, x)


def test_batch_norm_errors():
    layer = nn.BatchNorm1d(3)
    with pytest.raises(ValueError, match=r"\(4, 5\)"):
        layer(mg.zeros(4, 5))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        layer(mg.zeros(1, 3))
    assert int(layer.num_batches_tracked.item()) == 0


def test_batch_norm_without_running_stats_uses_batch_stats_in_eval():
    layer = nn.BatchNorm1d(2, track_running_stats=False).eval()
    assert [name for name, _ in layer.named_buffers()] == []
    x = np.random.default_rng(3).normal(5, 2, size=(10, 2)).astype(np.float32)
    out = layer(mg.tensor(x)).array
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-5)


# ---------------------------------------------------------------------------------------
# Embedding
# ---------------------------------------------------------------------------------------


def test_embedding_lookup_and_accumulating_gradient():
    mg.manual_seed(0)
    layer = nn.Embedding(5, 3)
    index = mg.tensor([[0, 2], [2, 2]])
    out = layer(index)
    np.testing.assert_array_equal(out.array, layer.weight.array[[[0, 2], [2, 2]]])
    out.sum().backward()
    expected = np.zeros((5, 3), dtype=np.float32)
    expected[0] = 1
    expected[2] = 3  # used three times: the gradients add up
    np.testing.assert_array_equal(layer.weight.grad.array, expected)


def test_embedding_init_and_gradcheck():
    mg.manual_seed(0)
    layer = nn.Embedding(1000, 50)
    w = layer.weight.array
    assert abs(w.mean()) < 0.01 and abs(w.std() - 1) < 0.01  # N(0, 1) as PyTorch
    small = nn.Embedding(4, 2).double()
    index = mg.tensor([1, 3, 1])
    assert mg.gradcheck(lambda w: F.embedding(index, w), (small.weight,))


def test_embedding_errors():
    layer = nn.Embedding(4, 2)
    with pytest.raises(IndexError, match="index 4 .* 4 embeddings"):
        layer(mg.tensor([0, 4]))
    with pytest.raises(TypeError, match="integer"):
        layer(mg.tensor([0.0, 1.0]))


# ---------------------------------------------------------------------------------------
# init
# ---------------------------------------------------------------------------------------


def test_calculate_gain_table():
    assert init.calculate_gain("linear") == 1
    assert init.calculate_gain("sigmoid") == 1
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01**2)))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert init.calculate_gain("selu") == pytest.approx(0.75)
    with pytest.raises(ValueError, match="swish"):
        init.calculate_gain("swish")


@pytest.mark.parametrize(
    "fn, expected_std",
    [
        (lambda t: init.xavier_uniform_(t), math.sqrt(2 / (300 + 200))),
        (lambda t: init.xavier_normal_(t, gain=2.0), 2 * math.sqrt(2 / (300 + 200))),
        (lambda t: init.kaiming_uniform_(t, nonlinearity="relu"), math.sqrt(2) / math.sqrt(300)),
        (lambda t: init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu"),
         math.sqrt(2) / math.sqrt(200)),
        (lambda t: init.normal_(t, 1.0, 0.5), 0.5),
        (lambda t: init.uniform_(t, -3, 3), 3 / math.sqrt(3)),
    ],
)
def test_init_standard_deviations(fn, expected_std):
    mg.manual_seed(0)
    t = mg.zeros(200, 300)  # fan_in = 300, fan_out = 200
    data_before = t.array
    assert fn(t) is t
    assert t.array is data_before and t.dtype == mg.float32  # in place
    assert abs(t.array.std() - expected_std) < 0.02 * expected_std


def test_init_uniform_bounds_and_constants():
    mg.manual_seed(0)
    t = mg.zeros(100, 100)
    init.kaiming_uniform_(t, a=math.sqrt(5))
    assert np.abs(t.array).max() <= 1 / math.sqrt(100)
    init.constant_(t, 0.25)
    assert (t.array == 0.25).all()
    init.ones_(t)
    assert (t.array == 1).all()
    init.zeros_(t)
    assert (t.array == 0).all()
    with pytest.raises(ValueError, match="fewer than 2 dims"):
        init.xavier_uniform_(mg.zeros(5))
    with pytest.raises(ValueError, match="mode"):
        init.kaiming_normal_(t, mode="fan_avg")


# ---------------------------------------------------------------------------------------
# Gradient clipping
# ---------------------------------------------------------------------------------------


def _params_with_grads(values):
    params = []
    for v in values:
        p = nn.Parameter(np.zeros_like(v))
        p.grad = mg.tensor(v)
        params.append(p)
    return params


def test_clip_grad_norm_scales_to_max_norm():
    g1 = np.array([3.0, 4.0], dtype=np.float32)
    g2 = np.array([[12.0]], dtype=np.float32)
    params = _params_with_grads([g1, g2])
    total = nn.utils.clip_grad_norm_(params, max_norm=1.0)
    assert float(total) == pytest.approx(13.0)
    coef = 1.0 / (13.0 + 1e-6)
    np.testing.assert_allclose(params[0].grad.array, g1 * coef, rtol=1e-6)
    np.testing.assert_allclose(params[1].grad.array, g2 * coef, rtol=1e-6)


def test_clip_grad_norm_leaves_small_gradients_and_other_norms():
    params = _params_with_grads([np.array([0.3, -0.4], dtype=np.float32)])
    total = nn.utils.clip_grad_norm_(params, max_norm=1.0)
    assert float(total) == pytest.approx(0.5)
    np.testing.assert_allclose(params[0].grad.array, [0.3, -0.4], rtol=1e-6)
    params = _params_with_grads([np.array([1.0, -5.0], dtype=np.float32)])
    assert float(nn.utils.clip_grad_norm_(params, 10.0, norm_type=math.inf)) == 5.0
    assert float(nn.utils.clip_grad_norm_(params, 10.0, norm_type=1)) == pytest.approx(6.0)
    params.append(nn.Parameter(np.zeros(2, np.float32)))  # no grad: skipped
    assert float(nn.utils.clip_grad_norm_(params, 10.0)) == pytest.approx(math.sqrt(26))


def test_clip_grad_value():
    params = _params_with_grads([np.array([-3.0, 0.5, 2.0], dtype=np.float32)])
    nn.utils.clip_grad_value_(params, 1.0)
    np.testing.assert_array_equal(params[0].grad.array, [-1.0, 0.5, 1.0])
    with pytest.raises(ValueError, match="clip_value"):
        nn.utils.clip_grad_value_(params, -1.0)


def test_clip_grad_norm_nonfinite_error():
    params = _params_with_grads([np.array([np.inf, 1.0], dtype=np.float32)])
    before = params[0].grad.array.copy()
    with pytest.raises(RuntimeError, match="inf"):
        nn.utils.clip_grad_norm_(params, 1.0, error_if_nonfinite=True)
    np.testing.assert_array_equal(params[0].grad.array, before)


# ---------------------------------------------------------------------------------------
# Parity with torch.nn
# ---------------------------------------------------------------------------------------


def _to_torch(torch, module, reference):
    reference.load_state_dict({k: torch.from_numpy(v.array.copy())
                               for k, v in module.state_dict().items()})
    return reference


@pytest.mark.parametrize("train", [True, False])
def test_layers_match_torch(train):
    torch = pytest.importorskip("torch")
    mg.manual_seed(0)
    ours = nn.Sequential(
        nn.Linear(6, 8), nn.LayerNorm(8), nn.GELU(), nn.Linear(8, 8), nn.BatchNorm1d(8),
        nn.LeakyReLU(0.1), nn.Linear(8, 4), nn.Tanh(), nn.Linear(4, 3), nn.LogSoftmax(dim=1),
    )
    theirs = torch.nn.Sequential(
        torch.nn.Linear(6, 8), torch.nn.LayerNorm(8), torch.nn.GELU(), torch.nn.Linear(8, 8),
        torch.nn.BatchNorm1d(8), torch.nn.LeakyReLU(0.1), torch.nn.Linear(8, 4),
        torch.nn.Tanh(), torch.nn.Linear(4, 3), torch.nn.LogSoftmax(dim=1),
    )
    _to_torch(torch, ours, theirs)
    ours.train(train)
    theirs.train(train)
    x = np.random.default_rng(0).normal(size=(16, 6)).astype(np.float32)
    xt = torch.tensor(x, requires_grad=True)
    out = ours(mg.tensor(x))
    out_t = theirs(xt)
    np.testing.assert_allclose(out.array, out_t.detach().numpy(), rtol=1e-4, atol=1e-5)
    upstream = np.random.default_rng(1).normal(size=out.shape).astype(np.float32)
    out.backward(mg.tensor(upstream))
    out_t.backward(torch.tensor(upstream))
    for (name, p), pt in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad.array, pt.grad.numpy(), rtol=1e-3, atol=1e-5,
                                   err_msg=name)
    for (name, b), bt in zip(ours.named_buffers(), theirs.buffers()):
        np.testing.assert_allclose(b.array, bt.numpy(), rtol=1e-5, atol=1e-6, err_msg=name)


def test_embedding_and_3d_batch_norm_match_torch():
    torch = pytest.importorskip("torch")
    emb, emb_t = nn.Embedding(7, 4), torch.nn.Embedding(7, 4)
    _to_torch(torch, emb, emb_t)
    index = np.array([[1, 6, 1], [0, 1, 2]])
    out = emb(mg.tensor(index))
    out_t = emb_t(torch.tensor(index))
    bn, bn_t = nn.BatchNorm1d(4), torch.nn.BatchNorm1d(4)
    y = bn(out.permute(0, 2, 1))
    y_t = bn_t(out_t.permute(0, 2, 1))
    np.testing.assert_allclose(y.array, y_t.detach().numpy(), rtol=1e-4, atol=1e-5)
    (y * y).sum().backward()
    (y_t * y_t).sum().backward()
    np.testing.assert_allclose(emb.weight.grad.array, emb_t.weight.grad.numpy(), rtol=1e-3,
                               atol=1e-5)
    np.testing.assert_allclose(bn.running_var.array, bn_t.running_var.numpy(), rtol=1e-5)


def test_clip_grad_norm_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    grads = [rng.normal(size=(3, 4)).astype(np.float32), rng.normal(size=5).astype(np.float32)]
    for norm_type in (2.0, 1.0, math.inf):
        params = _params_with_grads(grads)
        params_t = [torch.zeros(g.shape, requires_grad=True) for g in grads]
        for p, g in zip(params_t, grads):
            p.grad = torch.tensor(g)
        total = nn.utils.clip_grad_norm_(params, 0.5, norm_type)
        total_t = torch.nn.utils.clip_grad_norm_(params_t, 0.5, norm_type)
        assert float(total) == pytest.approx(float(total_t), rel=1e-5)
        for p, pt in zip(params, params_t):
            np.testing.assert_allclose(p.grad.array, pt.grad.numpy(), rtol=1e-5)


@pytest.mark.parametrize("shape", [(5, 3), (2, 4, 3)])
def test_linear_recorded_gradient_equals_fast_gradient(shape):
    """Linear's backward has a NumPy path and a recorded (create_graph) path: the two must
    give the same first derivatives (gradgradcheck alone checks only their slopes)."""
    mg.manual_seed(0)
    layer = nn.Linear(3, 2).double()
    x = rand64(*shape)
    inputs = (x, layer.weight, layer.bias)
    fast = mg.grad((layer(x) ** 2).sum(), inputs)
    recorded = mg.grad((layer(x) ** 2).sum(), inputs, create_graph=True)
    for a, b in zip(fast, recorded):
        assert b.requires_grad
        np.testing.assert_allclose(a.array, b.array, rtol=1e-12)


def test_softmax_without_dim_warns_and_uses_pytorch_legacy_dim():
    x = rand64(3, 4, requires_grad=False)
    with pytest.warns(UserWarning, match="dim"):
        out = nn.Softmax()(x)
    np.testing.assert_allclose(out.array, _np_softmax(x.array, 1), rtol=1e-12)


def test_softplus_is_stable_and_one_hot():
    x = mg.tensor([-1000.0, -1.0, 0.0, 2.0, 1000.0], dtype=mg.float64, requires_grad=True)
    np.testing.assert_allclose(F.softplus(x).array, np.logaddexp(0, x.array), rtol=1e-12)
    F.softplus(x).sum().backward()
    sigmoid = 0.5 * (1 + np.tanh(x.array / 2))  # the slope of softplus, without overflow
    np.testing.assert_allclose(x.grad.array, sigmoid, rtol=1e-12, atol=1e-300)
    np.testing.assert_array_equal(F.one_hot(mg.tensor([2, 0]), 3).array, [[0, 0, 1], [1, 0, 0]])
    with pytest.raises(IndexError, match=r"\[0, 2\)"):
        F.one_hot(mg.tensor([2]), 2)


def test_dropout_gradcheck_with_a_fixed_mask():
    layer = nn.Dropout(0.4)
    x = rand64(6, 5, seed=8)

    def fn(x):
        mg.manual_seed(123)  # the same mask at every evaluation
        return layer(x)

    assert (fn(x).array == 0).any()
    assert mg.gradcheck(fn, (x,))


def test_sequential_mlp_gradcheck_and_gradgradcheck():
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 4), nn.GELU(),
                          nn.Linear(4, 2)).double()
    x = rand64(4, 3, seed=9)
    assert check_module_grads(model, x)
    params = list(model.parameters())
    assert mg.gradgradcheck(lambda x, *ps: (model(x) ** 2).sum(), (x, *params))
