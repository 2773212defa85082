"""mg.compile: a captured step gives eager mode's numbers, bit for bit, and stays eager (or
records anew) wherever a replay could differ."""

import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad import _numba, capture, nn, optim


def mlp(sizes, seed=0, dropout=0.0):
    mg.manual_seed(seed)
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
            if dropout:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


def training_step(model, optimizer, loss_fn=None):
    loss_fn = loss_fn or nn.CrossEntropyLoss()

    def step(x, y):
        loss = loss_fn(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss

    return step


def batches(n, sizes, batch=16, seed=1, last=None):
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        rows = last if (last and i % 3 == 2) else batch
        out.append((mg.tensor(rng.standard_normal((rows, sizes[0])).astype(np.float32)),
                    mg.tensor(rng.integers(0, sizes[-1], rows))))
    return out


def state(compiled: capture.CompiledStep) -> list:
    return [entry[0] for entry in compiled.tapes.values()]


OPTIMIZERS = [
    (optim.Adam, {"lr": 1e-2}),
    (optim.SGD, {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    (optim.AdamW, {"lr": 1e-2, "weight_decay": 0.1}),
    (optim.RMSprop, {"lr": 1e-3}),
]


@pytest.mark.parametrize("optimizer_class, hyperparameters", OPTIMIZERS,
                         ids=[o[0].__name__ for o in OPTIMIZERS])
def test_compiled_steps_give_eager_numbers_bit_for_bit(optimizer_class, hyperparameters):
    sizes = [5, 12, 12, 3]
    eager_model, compiled_model = mlp(sizes), mlp(sizes)
    eager = training_step(eager_model, optimizer_class(eager_model.parameters(),
                                                       **hyperparameters))
    optimizer = optimizer_class(compiled_model.parameters(), **hyperparameters)
    compiled = mg.compile(training_step(compiled_model, optimizer))
    data = batches(6, sizes, last=7)  # two shapes: a smaller batch every third step
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing here may fall back to eager
        for i in range(24):
            x, y = data[i % len(data)]
            assert eager(x, y).item() == compiled(x, y).item(), f"step {i}"
    assert state(compiled) == ["ok", "ok"]  # replayed, for both batch shapes
    for a, b in zip(eager_model.parameters(), compiled_model.parameters()):
        assert np.array_equal(a.detach().numpy(), b.detach().numpy())
        assert np.array_equal(a.grad.numpy(), b.grad.numpy())
        # Replay writes each gradient where the optimizer reads it, when its rule only
        # reads gradients (Adam's, AdamW's, and SGD's fused loop; RMSprop's and SGD's
        # Nesterov passes change theirs: a copy)
        in_place = optimizer.gradient_buffer(b)
        reads_only = optimizer_class in (optim.Adam, optim.AdamW) or (
            optimizer_class is optim.SGD and _numba.available())
        assert (in_place is not None) == reads_only
        assert in_place is None or b.grad.array is in_place


@pytest.mark.skipif(not _numba.available(), reason="numba is not installed: no fusion")
def test_with_numba_the_relus_run_fused_and_give_the_eager_numbers():
    sizes = [5, 8, 8, 3]
    eager_model, compiled_model = mlp(sizes), mlp(sizes)
    eager = training_step(eager_model, optim.Adam(eager_model.parameters(), lr=0.05))
    compiled = mg.compile(training_step(compiled_model,
                                        optim.Adam(compiled_model.parameters(), lr=0.05)))
    data = batches(3, sizes)
    for i in range(12):
        x, y = data[i % 3]
        assert eager(x, y).item() == compiled(x, y).item(), f"step {i}"
    for a, b in zip(eager_model.parameters(), compiled_model.parameters()):
        assert np.array_equal(a.detach().numpy(), b.detach().numpy())
    source = compiled.source()  # each ReLU's forward (with its bias) and backward: one loop
    assert source.count("fused: add, maximum") == 2
    assert source.count("fused: less_equal, invert, multiply") == 2


def test_replay_runs_no_graph_and_allocates_no_tensors_per_op():
    sizes = [4, 8, 2]
    model = mlp(sizes)
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    compiled = mg.compile(training_step(model, optimizer))
    (x, y), = batches(1, sizes)
    for _ in range(3):
        compiled(x, y)
    calls = []
    original = mg.Function.apply.__func__

    def counting(cls, *args, **kwargs):
        calls.append(cls.__name__)
        return original(cls, *args, **kwargs)

    mg.Function.apply = classmethod(counting)
    try:
        loss = compiled(x, y)
    finally:
        mg.Function.apply = classmethod(original)
    assert calls == [] and loss.grad_fn is None and state(compiled) == ["ok"]


def test_the_result_is_a_copy():
    sizes = [3, 4, 2]
    model = mlp(sizes)
    compiled = mg.compile(training_step(model, optim.SGD(model.parameters(), lr=0.5)))
    (x, y), = batches(1, sizes)
    losses = [compiled(x, y) for _ in range(5)]
    values = [loss.item() for loss in losses]
    assert len(set(values)) == 5  # each call's own value, not the tape's memory


def test_dropout_keeps_the_step_eager_and_correct():
    sizes = [4, 16, 2]
    models = [mlp(sizes, dropout=0.5), mlp(sizes, dropout=0.5)]
    steps = [training_step(m, optim.SGD(m.parameters(), lr=0.1)) for m in models]
    compiled = mg.compile(steps[1])
    data = batches(2, sizes)
    losses = [[], []]
    for which, step in enumerate((steps[0], compiled)):
        mg.manual_seed(7)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for i in range(6):
                losses[which].append(step(*data[i % 2]).item())
    assert losses[0] == losses[1]
    assert state(compiled) == ["eager"]
    assert any("random numbers" in str(w.message) for w in caught)


def test_batch_norm_statistics_keep_the_step_eager():
    mg.manual_seed(0)
    models = [nn.Sequential(nn.Linear(3, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 2))
              for _ in range(2)]
    models[1].load_state_dict(models[0].state_dict())
    steps = [training_step(m, optim.SGD(m.parameters(), lr=0.1)) for m in models]
    compiled = mg.compile(steps[1], warn=False)
    for x, y in batches(5, [3, 6, 2]):
        assert steps[0](x, y).item() == compiled(x, y).item()
    assert state(compiled) == ["eager"]
    np.testing.assert_array_equal(models[0][1].running_mean.numpy(),
                                  models[1][1].running_mean.numpy())


def test_a_value_computed_outside_numpy_is_caught_by_the_check():
    w = mg.tensor([0.5, -0.25], requires_grad=True)

    def step(x):
        # x.numpy() copied by np.array: a plain array the tape cannot see
        doubled = mg.tensor(np.array(x.detach().numpy()) * 2)
        loss = ((w * doubled) ** 2).sum() + (w * x).sum()
        w.grad = None
        loss.backward()
        with mg.no_grad():
            w.sub_(0.1 * w.grad)
        return loss

    reference_w = mg.tensor([0.5, -0.25], requires_grad=True)

    def reference(x):
        loss = ((reference_w * (x * 2)) ** 2).sum() + (reference_w * x).sum()
        reference_w.grad = None
        loss.backward()
        with mg.no_grad():
            reference_w.sub_(0.1 * reference_w.grad)
        return loss

    compiled = mg.compile(step)
    xs = [mg.tensor([1.0, 2.0]), mg.tensor([3.0, -1.0]), mg.tensor([0.5, 0.5])]
    with pytest.warns(RuntimeWarning, match="stays eager.*outside NumPy"):
        results = [compiled(xs[i % 3]).item() for i in range(6)]
    assert results == [reference(xs[i % 3]).item() for i in range(6)]
    assert state(compiled) == ["eager"]


def test_a_step_that_does_not_use_its_arguments_stays_eager():
    data = mg.tensor([[1.0, 2.0], [0.5, -1.0]])
    w = mg.tensor([0.1, 0.2], requires_grad=True)

    def step():  # the data in a closure: nothing is traced, nothing could be replayed
        loss = ((data @ w) ** 2).sum()
        w.grad = None
        loss.backward()
        with mg.no_grad():
            w.sub_(0.1 * w.grad)
        return loss

    compiled = mg.compile(step)
    with pytest.warns(RuntimeWarning, match="pass the data in as arguments"):
        losses = [compiled().item() for _ in range(5)]
    assert losses == sorted(losses, reverse=True) and len(set(losses)) == 5
    assert state(compiled) == ["eager"]


def test_manual_updates_are_replayed_once():
    """No optimizer: the step writes into the parameters itself. The check must not apply
    that write twice."""
    def make():
        w = mg.tensor([1.0, -2.0, 0.5], requires_grad=True)

        def step(x):
            loss = ((x * w).sum() - 1.0) ** 2
            w.grad = None
            loss.backward()
            with mg.no_grad():
                w.sub_(0.05 * w.grad)
            return loss
        return w, step

    (w1, eager), (w2, step) = make(), make()
    compiled = mg.compile(step)
    xs = [mg.tensor([1.0, 0.5, -1.0]), mg.tensor([0.2, -0.3, 2.0])]
    for i in range(10):
        assert eager(xs[i % 2]).item() == compiled(xs[i % 2]).item()
    assert w1.tolist() == w2.tolist() and state(compiled) == ["ok"]


def test_a_branch_on_the_data_is_guarded():
    w = mg.tensor([1.0, 1.0], requires_grad=True)

    def step(x):
        if (x > 0).all():  # steers Python: a guard
            loss = (w * x).sum()
        else:
            loss = (w * x * x).sum()
        w.grad = None
        loss.backward()
        return w.grad.clone()

    compiled = mg.compile(step)
    positive, mixed = mg.tensor([1.0, 2.0]), mg.tensor([-1.0, 3.0])
    for x in [positive] * 4 + [mixed, positive, mixed, mixed, mixed, mixed]:
        expected = x.tolist() if (x.numpy() > 0).all() else (x * x).tolist()
        assert compiled(x).tolist() == expected


def test_new_parameter_memory_records_anew():
    sizes = [3, 4, 2]
    model = mlp(sizes)
    compiled = mg.compile(training_step(model, optim.SGD(model.parameters(), lr=0.1)))
    (x, y), = batches(1, sizes)
    for _ in range(4):
        compiled(x, y)
    assert state(compiled) == ["ok"]
    first = model[0]
    first.weight.data = mg.zeros(4, 3)  # new memory for the parameter
    before = model(x).detach().numpy().copy()
    compiled(x, y)
    assert state(compiled) == ["unchecked"]  # the tape held the old memory: recorded anew
    assert not np.array_equal(model(x).detach().numpy(), before)  # and the step stepped


def test_decorator_form_and_tuple_results():
    sizes = [3, 5, 2]
    model = mlp(sizes)
    optimizer = optim.Adam(model.parameters(), lr=0.01)

    @mg.compile
    def step(x, y):
        logits = model(x)
        loss = nn.functional.cross_entropy(logits, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss, logits

    (x, y), = batches(1, sizes)
    for _ in range(4):
        loss, logits = step(x, y)
    assert step.__name__ == "step" and isinstance(logits, mg.Tensor)
    assert logits.shape == (16, 2) and not logits.requires_grad


def test_the_cli_trains_the_same_compiled_and_eager():
    from minigrad import training

    results = []
    for compiled in (True, False):
        config = training.TrainConfig(epochs=2, compiled=compiled, hidden=(32,))
        _, _, history = training.train_digits(config)
        results.append(history)
    assert results[0].train_loss == results[1].train_loss
    assert results[0].test_accuracy == results[1].test_accuracy


def test_a_small_cnn_is_captured_and_gives_eager_numbers():
    from minigrad import training

    def make():
        mg.manual_seed(0)
        model = training.make_cnn((1, 8, 8), 10)  # conv, relu, max-pool twice, then linear
        return model, training_step(model, optim.Adam(model.parameters(), lr=1e-3))

    (eager_model, eager), (compiled_model, step) = make(), make()
    compiled = mg.compile(step)
    rng = np.random.default_rng(0)
    data = [(mg.tensor(rng.standard_normal((8, 1, 8, 8)).astype(np.float32)),
             mg.tensor(rng.integers(0, 10, 8))) for _ in range(3)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for i in range(8):
            assert eager(*data[i % 3]).item() == compiled(*data[i % 3]).item(), f"step {i}"
    assert state(compiled) == ["ok"]
    for a, b in zip(eager_model.parameters(), compiled_model.parameters()):
        assert np.array_equal(a.grad.numpy(), b.grad.numpy())


def test_a_value_read_inside_the_step_that_changes_every_call_makes_it_eager():
    sizes = [3, 4, 2]

    def make():
        model = mlp(sizes)
        optimizer = optim.SGD(model.parameters(), lr=0.1)

        def step(x, y):
            loss = nn.functional.cross_entropy(model(x), y)
            value = loss.item()  # read for Python inside the step: a guard, always failing
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            return value
        return step

    eager, compiled = make(), mg.compile(make())
    (x, y), = batches(1, sizes)
    with pytest.warns(RuntimeWarning, match="changes from call to call"):
        for _ in range(15):
            assert eager(x, y) == compiled(x, y)
    assert state(compiled) == ["eager"]

    model = mlp(sizes)
    after = mg.compile(lambda x, y: training_step(model, optim.SGD(model.parameters(),
                                                                    lr=0.1))(x, y).item())
    with pytest.warns(RuntimeWarning, match=r"read after optimizer.step\(\)"):
        for _ in range(3):
            after(x, y)


def test_the_program_reads_as_numpy_and_is_what_replay_runs():
    sizes = [3, 5, 2]
    model = mlp(sizes)
    compiled = mg.compile(training_step(model, optim.SGD(model.parameters(), lr=0.1)))
    (x, y), = batches(1, sizes)
    assert "no program" in compiled.source() or compiled.source() == ""
    for _ in range(3):
        compiled(x, y)
    source = compiled.source()
    lines = source.splitlines()
    assert lines[0] == "# arguments of shapes (16, 3), (16,)" and lines[1] == "def replay():"
    assert lines[2].lstrip().startswith("matmul(a0, a1, a2)")  # x @ W.T, into its array
    # zero_grad() is left out: every .grad it clears is set again before the step reads it
    assert "zero_grad" not in source and lines[-1].strip() == "step(None)"
    assert lines[-2].lstrip().startswith("set_grads(") and "4 parameters" in lines[-2]
    assert sum("guard" in line for line in lines) >= 1
    (tape_state, tape), = compiled.tapes.values()
    assert tape.source in source and tape.program.__code__.co_filename == "<minigrad.compile>"


def test_zero_grad_stays_when_a_parameter_gets_no_gradient():
    """A parameter the loss does not use keeps .grad None after zero_grad, compiled too."""
    sizes = [3, 4, 2]

    def make():
        model = mlp(sizes)
        unused = nn.Linear(2, 2)  # in the optimizer, not in the loss
        optimizer = optim.SGD([*model.parameters(), *unused.parameters()], lr=0.1)
        return unused, training_step(model, optimizer)

    (unused_eager, eager), (unused, step) = make(), make()
    for layer in (unused_eager, unused):
        layer.weight.grad = mg.ones(2, 2)  # a stale gradient that zero_grad must clear
    compiled = mg.compile(step)
    (x, y), = batches(1, sizes)
    for _ in range(4):
        assert eager(x, y).item() == compiled(x, y).item()
    assert state(compiled) == ["ok"] and "zero_grad(True)" in compiled.source()
    assert unused.weight.grad is None and unused_eager.weight.grad is None


def test_what_is_changed_between_compiled_steps_is_seen_as_in_eager_steps():
    """Replay repeats the optimizer's last step without its checks only while nothing they
    check has changed: a new learning rate, an edited state, a new parameter group, a
    read-only parameter are all seen, as by eager steps."""
    sizes = [3, 6, 2]

    def make():
        model = mlp(sizes)
        optimizer = optim.Adam(model.parameters(), lr=0.01)
        return model, optimizer, training_step(model, optimizer)

    (m1, o1, eager), (m2, o2, step) = make(), make()
    compiled = mg.compile(step)
    data = batches(3, sizes)

    def both(i):
        x, y = data[i % 3]
        assert eager(x, y).item() == compiled(x, y).item(), f"step {i}"

    for i in range(5):
        both(i)
    assert state(compiled) == ["ok"] and o2._last_step is not None  # repeating
    for o in (o1, o2):
        o.param_groups[0]["lr"] = 0.05  # as a scheduler does
    for i in range(5, 8):
        both(i)
    for o, m in ((o1, m1), (o2, m2)):
        o.state[m[0].weight]["exp_avg"] = np.zeros((6, 3), np.float32)  # an edited state
    for i in range(8, 11):
        both(i)
    extra = [nn.Parameter(mg.ones(2)), nn.Parameter(mg.ones(2))]
    for o, p in zip((o1, o2), extra):
        o.add_param_group({"params": [p]})  # no gradient: not stepped, but checked
    for i in range(11, 14):
        both(i)
    for a, b in zip(m1.parameters(), m2.parameters()):
        assert np.array_equal(a.detach().numpy(), b.detach().numpy())
    m2[0].weight.array.flags.writeable = False
    with pytest.raises(RuntimeError, match="read-only"):
        compiled(*data[0])
