"""``.data`` is PyTorch's (SPEC §10): a Tensor sharing the memory, with no graph, not seen
by autograd's version checks; the ndarray is at ``.array`` (and ``.numpy()``, which refuses
a tensor that requires grad, as PyTorch's does). Each behaviour runs under minigrad and,
where it is installed, under torch: both must agree."""

import numpy as np
import pytest

import minigrad as mg

try:
    import torch
except ImportError:
    torch = None

LIBRARIES = [mg] + ([torch] if torch is not None else [])
both = pytest.mark.parametrize("L", LIBRARIES, ids=lambda L: L.__name__)


@both
def test_data_is_a_tensor_sharing_memory_outside_the_graph(L):
    w = L.tensor([1.0, -2.0], requires_grad=True)
    y = w * 3
    for t in (w, y):
        data = t.data
        assert isinstance(data, L.Tensor)
        assert not data.requires_grad and data.grad_fn is None and data.is_leaf
        data[0] = 10.0  # the same memory
        assert t[0].item() == 10.0
    assert y.data.norm().item() == pytest.approx(float(np.hypot(10.0, 6.0)))


@both
def test_manual_update_through_data_as_old_tutorials_write_it(L):
    w = L.tensor([1.0, -1.0], requires_grad=True)
    for _ in range(3):
        loss = (w * w).sum()
        loss.backward()
        w.data.sub_(0.25 * w.grad.data)
        w.grad.data.zero_()
    assert w.tolist() == pytest.approx([0.125, -0.125])
    assert w.requires_grad and w.is_leaf and w.grad.tolist() == [0.0, 0.0]


@both
def test_changes_through_data_are_not_seen_by_the_version_check(L):
    # The one difference from detach(): PyTorch's backward then uses the new value
    # silently. That is what .data is for, and why tutorials moved to no_grad.
    w = L.tensor([2.0, 3.0], requires_grad=True)
    loss = (w * w * w).sum()
    version = w._version
    w.data.mul_(2.0)
    assert w._version == version
    loss.backward()
    # Not 3w² at either w: (w·w)·w saved w·w = (4, 9) before the change and w after it,
    # so the gradient mixes the two, w·w + 2·w_new² = (4, 9) + (32, 72).
    assert w.grad.tolist() == [36.0, 81.0]
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss = (w * w * w).sum()
        w.detach().mul_(2.0)  # detach() shares the version counter: seen
        loss.backward()


@both
def test_assigning_data_rebinds_the_memory(L):
    w = L.tensor([1.0, 2.0], requires_grad=True)
    other = L.tensor([[5.0, 6.0, 7.0]])
    w.data = other
    assert w.shape == (1, 3) and w.requires_grad and w.is_leaf
    other[0, 0] = 0.0  # w now holds other's memory
    assert w.tolist() == [[0.0, 6.0, 7.0]]
    with pytest.raises(TypeError):
        w.data = np.zeros(3)
    assert w.tolist() == [[0.0, 6.0, 7.0]]  # a refusal changes nothing


@both
def test_numpy_refuses_a_tensor_that_requires_grad(L):
    w = L.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"detach\(\)\.numpy\(\)"):
        w.numpy()
    assert isinstance(w.detach().numpy(), np.ndarray)
    forced = w.numpy(force=True)
    assert forced.tolist() == [1.0, 2.0]
    plain = L.tensor([1.0, 2.0])
    plain.numpy()[0] = 9.0  # shared, not copied
    assert plain[0].item() == 9.0


def test_array_is_the_ndarray_itself():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    assert type(w.array) is np.ndarray and w.array is w.detach().numpy()
    assert w.data.array is w.array


def test_optimizer_follows_a_parameter_whose_data_was_replaced():
    w = mg.nn.Parameter(mg.tensor([1.0, 2.0]))
    sgd = mg.optim.SGD([w], lr=0.5)
    (w * w).sum().backward()
    sgd.step()  # w = w - 0.5 * 2w = 0
    w.data = mg.tensor([4.0, 8.0])
    sgd.zero_grad()
    (w * w).sum().backward()
    sgd.step()
    assert w.tolist() == [0.0, 0.0]


def test_data_of_a_parameter_is_a_plain_tensor():
    layer = mg.nn.Linear(2, 3)
    assert type(layer.weight.data) is mg.Tensor
    with mg.no_grad():
        layer.weight.data.fill_(0.5)
    assert layer.weight.detach().numpy().tolist() == [[0.5, 0.5]] * 3
