"""Convolution, pooling and their layers against PyTorch, in float64: forward values and the
gradients of every input, over grids of the arguments; the errors where PyTorch refuses;
the layers' weight layouts, init and state dicts (a trained CNN loads into torch.nn)."""

import itertools

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.nn import functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def random_arrays(seed, *shapes):
    generator = np.random.default_rng(seed)
    return [generator.standard_normal(shape) for shape in shapes]


def compare_with_torch(ours, theirs, arrays, seed=0, atol=1e-10):
    """Run ``ours`` on minigrad Tensors and ``theirs`` on torch tensors made from the same
    float64 arrays (None stays None); compare the outputs, then the gradients of every input
    for a random weighting of the output (so the gradient is not all ones)."""
    mine = [None if a is None else mg.tensor(a, requires_grad=True) for a in arrays]
    reference = [None if a is None else torch.tensor(a, requires_grad=True) for a in arrays]
    out, expected = ours(*mine), theirs(*reference)
    if isinstance(expected, tuple):  # (values, indices)
        np.testing.assert_array_equal(out[1].detach().numpy(), expected[1].detach().numpy())
        out, expected = out[0], expected[0]
    assert out.shape == tuple(expected.shape)
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-10,
                               atol=atol)
    weights = np.random.default_rng(seed + 100).standard_normal(out.shape)
    (out * mg.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    for i, (a, b) in enumerate(zip(mine, reference)):
        if a is not None:
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10, atol=atol,
                                       err_msg=f"gradient of input {i}")


# ---------------------------------------------------------------------------------------
# conv2d: forward and gradients over a grid of its arguments
# ---------------------------------------------------------------------------------------

CONV2D_GRID = [
    dict(stride=s, padding=p, dilation=d, groups=g, bias=b)
    for s, p, d, g, b in itertools.product(
        [1, 2, (2, 1)], [0, 1, (2, 0), "valid", "same"], [1, (2, 1)], [1, 2], [True, False])
    if not (p == "same" and s != 1)
]


@pytest.mark.parametrize("args", CONV2D_GRID, ids=str)
def test_conv2d_matches_torch(args):
    args = dict(args)
    groups, bias = args["groups"], args.pop("bias")
    x, w, b = random_arrays(0, (2, 4, 7, 6), (6, 4 // groups, 3, 2), (6,))
    compare_with_torch(lambda x, w, b: F.conv2d(x, w, b, **args),
                       lambda x, w, b: TF.conv2d(x, w, b, **args), [x, w, b if bias else None])


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("padding", [1, (2, 1), "same"])
def test_conv2d_module_padding_modes_match_torch(mode, padding):
    mg.manual_seed(0)
    ours = nn.Conv2d(3, 4, (3, 4), padding=padding, padding_mode=mode, dtype=mg.float64)
    theirs = torch.nn.Conv2d(3, 4, (3, 4), padding=padding, padding_mode=mode,
                             dtype=torch.float64)
    load_into_torch(ours, theirs)
    (x,) = random_arrays(1, (2, 3, 5, 6))
    compare_with_torch(ours, theirs, [x])
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(),
                               rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
def test_conv1d_module_padding_modes_and_unbatched_input_match_torch(mode):
    mg.manual_seed(0)
    ours = nn.Conv1d(2, 3, 4, padding="same", padding_mode=mode, dtype=mg.float64)
    theirs = torch.nn.Conv1d(2, 3, 4, padding="same", padding_mode=mode, dtype=torch.float64)
    load_into_torch(ours, theirs)
    for shape in [(2, 2, 7), (2, 7)]:
        (x,) = random_arrays(1, shape)
        compare_with_torch(ours, theirs, [x])


def test_conv2d_unbatched_input_matches_torch():
    x, w = random_arrays(2, (3, 6, 6), (2, 3, 3, 3))
    compare_with_torch(lambda x, w: F.conv2d(x, w, padding=1),
                       lambda x, w: TF.conv2d(x, w, padding=1), [x, w])


@pytest.mark.parametrize("args", [dict(), dict(stride=2, padding=1), dict(dilation=2),
                                  dict(padding="same", dilation=2), dict(groups=3)], ids=str)
def test_conv1d_matches_torch(args):
    x, w, b = random_arrays(3, (2, 3, 9), (6, 3 // args.get("groups", 1), 3), (6,))
    compare_with_torch(lambda x, w, b: F.conv1d(x, w, b, **args),
                       lambda x, w, b: TF.conv1d(x, w, b, **args), [x, w, b])


CONV_TRANSPOSE_GRID = [
    dict(stride=s, padding=p, output_padding=o, dilation=d, groups=g)
    for s, p, o, d, g in itertools.product([1, 2, (3, 2)], [0, 1], [0, 1], [1, 2], [1, 2])
    if o < max(s if isinstance(s, int) else min(s), d)
]


@pytest.mark.parametrize("args", CONV_TRANSPOSE_GRID, ids=str)
def test_conv_transpose2d_matches_torch(args):
    x, w, b = random_arrays(4, (2, 4, 4, 3), (4, 6 // args["groups"], 3, 2), (6,))
    compare_with_torch(lambda x, w, b: F.conv_transpose2d(x, w, b, **args),
                       lambda x, w, b: TF.conv_transpose2d(x, w, b, **args), [x, w, b])


# ---------------------------------------------------------------------------------------
# Pooling
# ---------------------------------------------------------------------------------------

MAX_POOL_GRID = [  # return_indices on for half the combinations of dilation and ceil_mode
    dict(kernel_size=k, stride=s, padding=p, dilation=d, ceil_mode=c,
         return_indices=(d == 2) != c)
    for k, s, p, d, c in itertools.product(
        [2, 3, (3, 2)], [None, 1, 2], [0, 1], [1, 2], [False, True])
]


@pytest.mark.parametrize("args", MAX_POOL_GRID, ids=str)
def test_max_pool2d_matches_torch(args):
    (x,) = random_arrays(5, (2, 3, 7, 8))
    compare_with_torch(lambda x: F.max_pool2d(x, **args),
                       lambda x: TF.max_pool2d(x, **args), [x])


AVG_POOL_GRID = [
    dict(kernel_size=k, stride=s, padding=p, ceil_mode=c, count_include_pad=i)
    for k, s, p, c, i in itertools.product(
        [2, 3, (3, 2)], [None, 1, 2], [0, 1], [False, True], [False, True])
] + [dict(kernel_size=3, stride=2, padding=1, ceil_mode=c, divisor_override=5)
     for c in (False, True)]


@pytest.mark.parametrize("args", AVG_POOL_GRID, ids=str)
def test_avg_pool2d_matches_torch(args):
    (x,) = random_arrays(6, (2, 3, 7, 8))
    compare_with_torch(lambda x: F.avg_pool2d(x, **args),
                       lambda x: TF.avg_pool2d(x, **args), [x])


@pytest.mark.parametrize("output_size", [1, 2, (3, 2), (4, 5), (None, 3), 7])
@pytest.mark.parametrize("kind", ["avg", "max", "max_indices"])
def test_adaptive_pools_match_torch(output_size, kind):
    (x,) = random_arrays(7, (2, 3, 7, 6))
    if kind == "avg":
        compare_with_torch(lambda x: F.adaptive_avg_pool2d(x, output_size),
                           lambda x: TF.adaptive_avg_pool2d(x, output_size), [x])
    else:
        indices = kind == "max_indices"
        compare_with_torch(lambda x: F.adaptive_max_pool2d(x, output_size, indices),
                           lambda x: TF.adaptive_max_pool2d(x, output_size, indices), [x])


@pytest.mark.parametrize("case", ["ties", "nan"])
def test_max_pool2d_ties_and_nans_as_torch(case):
    """On ties the gradient goes to the first max of the window; NaN counts as the max."""
    x = np.zeros((1, 2, 5, 5)) if case == "ties" else random_arrays(40, (1, 2, 5, 5))[0]
    if case == "nan":
        x[0, 0, 1, 1] = x[0, 1, 3, 2] = np.nan
    ours = mg.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    out, expected = F.max_pool2d(ours, 3, 1, 1), TF.max_pool2d(theirs, 3, 1, 1)
    np.testing.assert_array_equal(out.detach().numpy(), expected.detach().numpy())
    out.sum().backward()
    expected.sum().backward()
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())


def test_pools_take_unbatched_input():
    (x,) = random_arrays(8, (3, 6, 6))
    compare_with_torch(lambda x: F.max_pool2d(x, 2), lambda x: TF.max_pool2d(x, 2), [x])
    compare_with_torch(lambda x: F.avg_pool2d(x, 3, 2, 1), lambda x: TF.avg_pool2d(x, 3, 2, 1),
                       [x])


# ---------------------------------------------------------------------------------------
# unfold and fold
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("args", [dict(kernel_size=2), dict(kernel_size=(2, 3), stride=2),
                                  dict(kernel_size=3, padding=1, dilation=(1, 2)),
                                  dict(kernel_size=2, stride=(1, 2), padding=(0, 1))], ids=str)
def test_unfold_and_fold_match_torch(args):
    (x,) = random_arrays(9, (2, 3, 6, 7))
    compare_with_torch(lambda x: F.unfold(x, **args), lambda x: TF.unfold(x, **args), [x])
    columns = TF.unfold(torch.tensor(x), **args).detach().numpy()
    compare_with_torch(lambda c: F.fold(c, (6, 7), **args),
                       lambda c: TF.fold(c, (6, 7), **args), [columns])


def test_unfold_and_fold_modules():
    (x,) = random_arrays(10, (1, 2, 5, 5))
    columns = nn.Unfold(kernel_size=2, stride=1)(mg.tensor(x))
    assert columns.shape == (1, 2 * 4, 16)
    back = nn.Fold(output_size=(5, 5), kernel_size=2)(columns)
    expected = TF.fold(TF.unfold(torch.tensor(x), 2), (5, 5), 2).detach().numpy()
    np.testing.assert_allclose(back.detach().numpy(), expected, rtol=1e-12)


# ---------------------------------------------------------------------------------------
# BatchNorm2d and Dropout2d
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("args", [dict(), dict(momentum=None), dict(momentum=0.3, eps=1e-3),
                                  dict(affine=False), dict(track_running_stats=False)],
                         ids=str)
def test_batch_norm2d_matches_torch_in_train_and_eval(args):
    ours = nn.BatchNorm2d(3, dtype=mg.float64, **args)
    theirs = torch.nn.BatchNorm2d(3, dtype=torch.float64, **args)
    if ours.weight is not None:
        w, b = random_arrays(11, (3,), (3,))
        ours.weight.array[...] = w
        ours.bias.array[...] = b
        load_into_torch(ours, theirs)
    for step in range(3):
        (x,) = random_arrays(12 + step, (4, 3, 5, 2))
        compare_with_torch(ours, theirs, [x], seed=step)
    for name, buffer in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[name].numpy(), buffer.numpy(),
                                   rtol=1e-12, err_msg=name)
    ours.eval()
    theirs.eval()
    (x,) = random_arrays(20, (2, 3, 5, 2))
    compare_with_torch(ours, theirs, [x])


def test_batch_norm2d_refuses_other_shapes():
    with pytest.raises(ValueError, match=r"BatchNorm2d\(3\).*\(4, 3, 5\)"):
        nn.BatchNorm2d(3)(mg.zeros(4, 3, 5))
    with pytest.raises(ValueError, match=r"BatchNorm2d\(3\).*\(4, 2, 5, 5\)"):
        nn.BatchNorm2d(3)(mg.zeros(4, 2, 5, 5))


def test_dropout2d_zeros_whole_channels_and_scales_the_rest():
    mg.manual_seed(0)
    x = mg.ones(50, 40, 3, 3)
    out = nn.Dropout2d(0.25)(x).detach().numpy()
    per_channel = out.reshape(50, 40, 9)
    assert np.all(per_channel.min(2) == per_channel.max(2))  # each channel all kept or all 0
    assert set(np.unique(out)) == {0.0, np.float32(1 / 0.75)}
    assert abs((per_channel[:, :, 0] == 0).mean() - 0.25) < 0.03
    layer = nn.Dropout2d(0.25).eval()
    assert layer(x) is x
    assert np.all(F.dropout2d(x, 1.0).detach().numpy() == 0)


# ---------------------------------------------------------------------------------------
# Layers: layouts, init, state dicts, and a whole CNN against torch.nn
# ---------------------------------------------------------------------------------------


def load_into_torch(ours, theirs):
    """Our state dict into a torch module, unchanged (raises if a key or shape differs)."""
    state = {k: torch.tensor(v.detach().numpy()) for k, v in ours.state_dict().items()}
    theirs.load_state_dict(state, strict=True)


def lenet(nn):
    """A small CNN using every layer that has parameters or buffers, in the ``nn`` given:
    minigrad's or torch's (the same names)."""
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.BatchNorm2d(6), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.AvgPool2d(2), nn.Dropout2d(0.1),
        nn.Conv2d(16, 8, 3, padding=1, groups=2, padding_mode="reflect"),
        nn.AdaptiveAvgPool2d((2, 2)), nn.Flatten(), nn.Linear(32, 10),
    )


def test_a_trained_cnn_loads_into_torch_and_gives_the_same_outputs():
    mg.manual_seed(0)
    model = lenet(nn)
    optimizer = mg.optim.Adam(model.parameters(), lr=1e-2)
    generator = np.random.default_rng(0)
    x = generator.standard_normal((16, 1, 28, 28)).astype(np.float32)
    y = generator.integers(0, 10, 16)
    for _ in range(3):
        loss = F.cross_entropy(model(mg.tensor(x)), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    reference = lenet(torch.nn)
    assert list(model.state_dict()) == list(reference.state_dict())
    load_into_torch(model, reference)
    model.eval()
    reference.eval()
    with torch.no_grad():
        expected = reference(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(model(mg.tensor(x)).detach().numpy(), expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("make", [
    lambda m: m.Conv2d(6, 8, (3, 5), groups=2), lambda m: m.Conv1d(4, 6, 3),
    lambda m: m.ConvTranspose2d(4, 6, 3, groups=2), lambda m: m.Conv2d(3, 5, 2, bias=False),
], ids=["conv2d", "conv1d", "conv_transpose2d", "no_bias"])
def test_weight_layout_and_default_init_are_torchs(make):
    mg.manual_seed(0)
    ours, theirs = make(nn), make(torch.nn)
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    # kaiming_uniform_(a=√5) bounds the weights by 1/√fan_in, and the bias too (PyTorch's).
    fan_in = theirs.weight.shape[1] * int(np.prod(theirs.weight.shape[2:]))
    bound = 1 / np.sqrt(fan_in)
    for name in ("weight", "bias"):
        if getattr(theirs, name) is None:
            assert getattr(ours, name) is None
            continue
        values = getattr(ours, name).detach().numpy()
        assert values.dtype == np.float32
        assert np.abs(values).max() <= bound
        assert np.abs(values).max() > 0.7 * bound  # drawn from the whole range
    assert repr(ours).startswith(type(theirs).__name__)


def test_module_reprs_read_like_torchs():
    assert repr(nn.Conv2d(1, 6, 5, stride=2)) == repr(torch.nn.Conv2d(1, 6, 5, stride=2))
    assert repr(nn.MaxPool2d(2)) == repr(torch.nn.MaxPool2d(2))
    assert repr(nn.BatchNorm2d(4)) == repr(torch.nn.BatchNorm2d(4))


# ---------------------------------------------------------------------------------------
# Errors where PyTorch refuses
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("call, message", [
    (lambda: F.conv2d(mg.zeros(2, 3, 8, 8), mg.zeros(4, 2, 3, 3)),
     r"conv2d: weight of shape \(4, 2, 3, 3\) with groups=1 expects input with 2 channels, "
     r"got input of shape \(2, 3, 8, 8\)"),
    (lambda: F.conv2d(mg.zeros(1, 1, 4, 4), mg.zeros(1, 1, 5, 5)),
     r"kernel .*\(5, 5\).* larger than the padded input \(4 × 4"),
    (lambda: F.conv2d(mg.zeros(1, 1, 4, 4), mg.zeros(1, 1, 3, 3), dilation=2),
     r"kernel .*spans \(5, 5\).* larger than the padded input"),
    (lambda: F.conv2d(mg.zeros(1, 4, 4, 4, 4), mg.zeros(1, 4, 3, 3)),
     r"conv2d: expected a 3-D \(unbatched\) or 4-D \(batched\) input, got input of shape"),
    (lambda: F.conv2d(mg.zeros(4, 4), mg.zeros(1, 4, 3, 3)), r"conv2d: expected a 3-D"),
    (lambda: F.conv2d(mg.zeros(1, 4, 4, 4), mg.zeros(3, 2, 3, 3), groups=2),
     r"out_channels 3 .* divisible by groups=2"),
    (lambda: F.conv2d(mg.zeros(1, 4, 4, 4), mg.zeros(2, 4, 3, 3), stride=2, padding="same"),
     r"padding='same' is not supported for strided"),
    (lambda: nn.Conv2d(3, 4, 3, groups=2), r"in_channels 3 .* divisible by groups"),
    (lambda: nn.Conv2d(4, 3, 3, groups=2), r"out_channels 3 .* divisible by groups"),
    (lambda: nn.Conv2d(4, 4, 3, padding_mode="mirror"), r"padding_mode must be one of"),
    (lambda: nn.Conv2d(1, 1, 3, padding=2, padding_mode="reflect")(mg.zeros(1, 1, 2, 2)),
     r"padding_mode='reflect' must be smaller than the input size"),
    (lambda: nn.Conv2d(3, 4, 3)(mg.zeros(2, 1, 8, 8)), r"expects input with 3 channels"),
    (lambda: F.max_pool2d(mg.zeros(1, 1, 4, 4), 2, padding=2), r"at most half of the kernel"),
    (lambda: F.avg_pool2d(mg.zeros(1, 1, 2, 2), 3), r"output would be empty"),
    (lambda: F.fold(mg.zeros(1, 8, 5), (4, 4), 2), r"fold: input of shape \(1, 8, 5\)"),
    (lambda: F.conv_transpose2d(mg.zeros(1, 2, 3, 3), mg.zeros(2, 2, 3, 3), stride=2,
                                output_padding=2), r"output_padding .* smaller than"),
])
def test_bad_arguments_raise_clear_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("call", [
    lambda: TF.conv2d(torch.zeros(2, 3, 8, 8), torch.zeros(4, 2, 3, 3)),
    lambda: TF.conv2d(torch.zeros(1, 1, 4, 4), torch.zeros(1, 1, 5, 5)),
    lambda: TF.conv2d(torch.zeros(1, 4, 4, 4, 4), torch.zeros(1, 4, 3, 3)),
    lambda: torch.nn.Conv2d(3, 4, 3, groups=2),
    lambda: TF.max_pool2d(torch.zeros(1, 1, 4, 4), 2, padding=2),
])
def test_torch_refuses_those_too(call):
    with pytest.raises((RuntimeError, ValueError)):
        call()


# ---------------------------------------------------------------------------------------
# The array path of backward (an optimisation) against the Tensor path
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("fn", [
    lambda x, w: F.conv2d(x, w, stride=2, padding=1, groups=2),
    lambda x, w: F.max_pool2d(x * w.sum(), 3, 2, 1),
    lambda x, w: F.avg_pool2d(x * w.sum(), 3, 2, 1, ceil_mode=True, count_include_pad=False),
], ids=["conv2d", "max_pool2d", "avg_pool2d"])
def test_array_path_of_backward_agrees_with_tensor_path(fn):
    x, w = (mg.tensor(a, requires_grad=True)
            for a in random_arrays(30, (2, 4, 7, 7), (2, 2, 3, 3)))
    weights = mg.tensor(random_arrays(31, fn(x, w).shape)[0])
    fast = mg.grad((fn(x, w) * weights).sum(), (x, w))
    recorded = mg.grad((fn(x, w) * weights).sum(), (x, w), create_graph=True)
    assert all(g.grad_fn is not None for g in recorded)
    for a, b in zip(fast, recorded):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-13, atol=1e-14)


def test_im2col_is_a_view_and_col2im_its_adjoint():
    from minigrad.convolution import col2im, im2col

    (x,) = random_arrays(32, (2, 3, 6, 7))
    patches = im2col(x, (3, 2), (2, 1), (1, 2))
    assert np.shares_memory(patches, x)
    assert patches[1, 2, 2, 1, 1, 3] == x[1, 2, 1 * 2 + 2, 3 + 1 * 2]
    # <im2col(x), p> = <x, col2im(p)> for any p: col2im is the transpose (the gradient).
    (p,) = random_arrays(33, patches.shape)
    back = col2im(p, x.shape, (2, 1), (1, 2))
    np.testing.assert_allclose(np.vdot(patches, p), np.vdot(x, back), rtol=1e-12)


@pytest.mark.parametrize("ours, theirs", [
    (lambda x: F.conv2d(x, mg.ones(6, 2, 3, 3), groups=2),
     lambda x: TF.conv2d(x, torch.ones(6, 2, 3, 3), groups=2)),
    (lambda x: F.max_pool2d(x, 2), lambda x: TF.max_pool2d(x, 2)),
    (lambda x: F.avg_pool2d(x, 3, 2, 1), lambda x: TF.avg_pool2d(x, 3, 2, 1)),
    (lambda x: F.unfold(x, 2), lambda x: TF.unfold(x, 2)),
], ids=["conv2d", "max_pool2d", "avg_pool2d", "unfold"])
def test_an_empty_batch_works_as_in_torch(ours, theirs):
    x = mg.zeros(0, 4, 8, 8, requires_grad=True)
    out = ours(x)
    assert out.shape == tuple(theirs(torch.zeros(0, 4, 8, 8)).shape)
    out.sum().backward()
    assert x.grad.shape == (0, 4, 8, 8)
