"""Grad mode is per thread, as in PyTorch: ``no_grad``, ``set_grad_enabled``,
``detect_anomaly`` and ``backward()`` in one thread never change another thread's mode."""

import sys
import threading

import numpy as np
import pytest

import minigrad as mg


@pytest.fixture(autouse=True)
def switch_threads_often():
    """Let threads take turns every microsecond, so that they really interleave."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(previous)


def run_in_thread(target):
    """Run ``target`` in a new thread; re-raise what it raised."""
    errors = []

    def body():
        try:
            target()
        except BaseException as error:  # noqa: BLE001  (handed back to the test)
            errors.append(error)

    thread = threading.Thread(target=body)
    thread.start()
    return thread, errors


def test_no_grad_in_one_thread_leaves_another_recording():
    inside, release = threading.Event(), threading.Event()

    def other():
        with mg.no_grad():
            inside.set()
            assert release.wait(10)
            assert not mg.is_grad_enabled()

    thread, errors = run_in_thread(other)
    assert inside.wait(10)
    try:
        assert mg.is_grad_enabled()
        x = mg.tensor([1.0], requires_grad=True)
        assert (x * 2).requires_grad
    finally:
        release.set()
        thread.join(10)
    assert not errors, errors


def test_a_new_thread_starts_with_grad_enabled_and_anomaly_off():
    seen = {}

    def other():
        seen["grad"] = mg.is_grad_enabled()
        x = mg.tensor([0.0], requires_grad=True)
        with np.errstate(invalid="ignore"):
            seen["nan"] = np.isnan((x / x).item())  # no anomaly error: the mode is off here

    with mg.no_grad(), mg.detect_anomaly():
        thread, errors = run_in_thread(other)
        thread.join(10)
    assert not errors, errors
    assert seen == {"grad": True, "nan": True}


def test_set_grad_enabled_as_a_call_is_per_thread():
    switched, release = threading.Event(), threading.Event()

    def other():
        mg.set_grad_enabled(False)
        switched.set()
        assert release.wait(10)

    thread, errors = run_in_thread(other)
    assert switched.wait(10)
    try:
        assert mg.is_grad_enabled()
    finally:
        release.set()
        thread.join(10)
    assert not errors, errors
    assert mg.is_grad_enabled()


def test_set_grad_enabled_as_a_decorator():
    @mg.set_grad_enabled(False)
    def f(t):
        assert not mg.is_grad_enabled()
        return t * 2

    assert mg.is_grad_enabled()  # decorating does not switch the mode
    x = mg.tensor([1.0], requires_grad=True)
    assert not f(x).requires_grad
    assert mg.is_grad_enabled()


def test_backward_in_one_thread_does_not_switch_another_threads_mode():
    in_backward, release = threading.Event(), threading.Event()

    class Pause(mg.Function):
        """The identity, whose backward waits (while its thread walks the graph)."""

        @staticmethod
        def forward(ctx, x):
            return x.clone()

        @staticmethod
        def backward(ctx, grad):
            assert not mg.is_grad_enabled()  # the walking thread records nothing ...
            in_backward.set()
            assert release.wait(10)
            return grad

    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = Pause.apply(x).sum()
    thread, errors = run_in_thread(y.backward)
    assert in_backward.wait(10)
    try:
        assert mg.is_grad_enabled()  # ... while this thread still records
        z = mg.tensor([3.0], requires_grad=True) * 2
        assert z.requires_grad and z.grad_fn is not None
    finally:
        release.set()
        thread.join(10)
    assert not errors, errors
    np.testing.assert_array_equal(x.grad.array, [1.0, 1.0])


def train(seed: int, steps: int, barrier: threading.Barrier | None = None) -> list:
    """A small MLP trained with plain SGD (update under no_grad); returns its parameters
    and the gradients of the last step."""
    rng = np.random.default_rng(seed)
    x = mg.tensor(rng.standard_normal((16, 3)))
    y = mg.tensor(rng.integers(0, 2, 16))
    model = mg.nn.Sequential(mg.nn.Linear(3, 8), mg.nn.Tanh(), mg.nn.Linear(8, 2))
    for p in model.parameters():  # not from the generator the threads share
        p.array[...] = np.random.default_rng(seed).standard_normal(p.shape) * 0.5
    for _ in range(steps):
        if barrier is not None:
            barrier.wait(10)  # both threads at the same step: their ops interleave
        for p in model.parameters():
            p.grad = None
        loss = mg.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        with mg.no_grad():
            for p in model.parameters():
                p -= 0.1 * p.grad
    return [p.array.copy() for p in model.parameters()] + [
        p.grad.array.copy() for p in model.parameters()]


def test_two_threads_train_two_models_at_once_as_each_would_alone():
    steps = 200
    alone = {seed: train(seed, steps) for seed in (1, 2)}
    barrier = threading.Barrier(2)
    together = {}

    def worker(seed):
        together[seed] = train(seed, steps, barrier)

    threads = [run_in_thread(lambda s=s: worker(s)) for s in (1, 2)]
    for thread, _ in threads:
        thread.join(60)
    for _, errors in threads:
        assert not errors, errors
    for seed in (1, 2):
        for a, b in zip(alone[seed], together[seed], strict=True):
            np.testing.assert_array_equal(a, b)
