"""State dicts: PyTorch's keys, order and layouts; loading checks everything first, changes
nothing on error, and copies in place; weights move to the equivalent torch model."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn


def make_model():
    mg.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.1),
                         nn.Linear(8, 8), nn.LayerNorm(8), nn.Tanh(), nn.Linear(8, 3))


KEYS = [
    "0.weight", "0.bias",
    "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked",
    "4.weight", "4.bias", "5.weight", "5.bias", "7.weight", "7.bias",
]


def test_keys_order_shapes_and_dtypes():
    sd = make_model().state_dict()
    assert list(sd) == KEYS
    assert sd["0.weight"].shape == (8, 4) and sd["7.bias"].shape == (3,)
    assert sd["1.num_batches_tracked"].shape == () and sd["1.num_batches_tracked"].dtype == np.int64
    assert sd["1.running_var"].dtype == np.float32


def test_values_are_detached_and_share_the_arrays():
    model = make_model()
    sd = model.state_dict()
    assert all(not t.requires_grad and t.grad_fn is None for t in sd.values())
    assert sd["0.weight"].array is model[0].weight.array
    assert model.state_dict(keep_vars=True)["0.weight"] is model[0].weight


def test_round_trip_into_a_fresh_model_copies_in_place():
    source, target = make_model(), None
    mg.manual_seed(1)
    target = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.1),
                           nn.Linear(8, 8), nn.LayerNorm(8), nn.Tanh(), nn.Linear(8, 3))
    source(mg.randn(5, 4))  # moves the running statistics
    arrays_before = [t.array for t in target.state_dict(keep_vars=True).values()]
    result = target.load_state_dict(source.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    for (key, a), b, before in zip(source.state_dict().items(), target.state_dict().values(),
                                   arrays_before):
        np.testing.assert_array_equal(a.array, b.array, err_msg=key)
        assert b.array is before  # same array object: optimizers keep references to it
    x = mg.randn(6, 4)
    source.eval()
    target.eval()
    np.testing.assert_array_equal(source(x).array, target(x).array)


def test_loads_ndarrays_and_casts_dtype():
    model = nn.Linear(2, 2)
    weights = {"weight": np.arange(4, dtype=np.float64).reshape(2, 2), "bias": np.ones(2)}
    model.load_state_dict(weights)
    assert model.weight.dtype == mg.float32
    np.testing.assert_array_equal(model.weight.array, [[0, 1], [2, 3]])


def test_errors_list_every_problem_and_change_nothing():
    model = make_model()
    before = {k: v.array.copy() for k, v in model.state_dict().items()}
    bad = {k: v.array * 0 + 7 for k, v in model.state_dict().items()}
    del bad["0.bias"]
    del bad["7.weight"]
    bad["extra.weight"] = np.zeros(1)
    bad["4.weight"] = np.zeros((8, 9), dtype=np.float32)
    bad["5.bias"] = np.array(["a"] * 8)
    with pytest.raises(RuntimeError) as info:
        model.load_state_dict(bad)
    message = str(info.value)
    for expected in ['"0.bias"', '"7.weight"', '"extra.weight"', "size mismatch for 4.weight",
                     "(8, 9)", "(8, 8)", '"5.bias"', "Missing key", "Unexpected key",
                     "Sequential"]:
        assert expected in message, expected
    for k, v in model.state_dict().items():  # nothing changed, not even the valid entries
        np.testing.assert_array_equal(v.array, before[k], err_msg=k)


def test_non_strict_returns_missing_and_unexpected_but_still_checks_shapes():
    model = nn.Linear(3, 2)
    result = model.load_state_dict({"weight": np.ones((2, 3)), "other": np.zeros(2)},
                                   strict=False)
    assert result.missing_keys == ["bias"] and result.unexpected_keys == ["other"]
    assert (model.weight.array == 1).all()
    with pytest.raises(RuntimeError, match="size mismatch for weight"):
        model.load_state_dict({"weight": np.ones((3, 2))}, strict=False)
    with pytest.raises(TypeError, match="dict"):
        model.load_state_dict([("weight", np.ones((2, 3)))])


def test_optional_parameters_and_buffers_are_left_out():
    assert list(nn.Linear(2, 2, bias=False).state_dict()) == ["weight"]
    assert list(nn.BatchNorm1d(2, affine=False).state_dict()) == [
        "running_mean", "running_var", "num_batches_tracked"]
    assert list(nn.BatchNorm1d(2, track_running_stats=False).state_dict()) == ["weight", "bias"]
    assert list(nn.LayerNorm(2, elementwise_affine=False).state_dict()) == []


# ---------------------------------------------------------------------------------------
# To torch and back
# ---------------------------------------------------------------------------------------


def torch_model(torch):
    return torch.nn.Sequential(
        torch.nn.Linear(4, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU(), torch.nn.Dropout(0.1),
        torch.nn.Linear(8, 8), torch.nn.LayerNorm(8), torch.nn.Tanh(), torch.nn.Linear(8, 3))


def test_keys_and_shapes_equal_torch_state_dict():
    torch = pytest.importorskip("torch")
    ours, theirs = make_model().state_dict(), torch_model(torch).state_dict()
    assert list(ours) == list(theirs)
    for key in ours:
        assert ours[key].shape == tuple(theirs[key].shape), key
        assert str(ours[key].dtype) == str(theirs[key].dtype).replace("torch.", ""), key
    for bias in (True, False):
        for affine in (True, False):
            ours = nn.BatchNorm1d(3, affine=affine, bias=bias).state_dict()
            theirs = torch.nn.BatchNorm1d(3, affine=affine, bias=bias).state_dict()
            assert list(ours) == list(theirs)


def test_trained_weights_give_the_same_outputs_in_torch():
    torch = pytest.importorskip("torch")
    model = make_model()
    for _ in range(3):  # train mode: running statistics and num_batches_tracked move
        model(mg.randn(16, 4))
    model.eval()
    reference = torch_model(torch).eval()
    reference.load_state_dict({k: torch.from_numpy(v.array.copy())
                               for k, v in model.state_dict().items()})
    assert int(reference[1].num_batches_tracked) == 3
    x = np.random.default_rng(0).normal(size=(10, 4)).astype(np.float32)
    np.testing.assert_allclose(model(mg.tensor(x)).array,
                               reference(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)


def test_torch_state_dict_loads_into_minigrad():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    reference = torch_model(torch).eval()
    model = make_model().eval()
    model.load_state_dict({k: v.numpy() for k, v in reference.state_dict().items()})
    x = np.random.default_rng(1).normal(size=(7, 4)).astype(np.float32)
    np.testing.assert_allclose(model(mg.tensor(x)).array,
                               reference(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)
