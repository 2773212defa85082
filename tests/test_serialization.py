"""Checkpoints: exact round trips, no pickle ever (crafted payloads must not run), atomic
writes (a save killed with SIGKILL leaves the old file), clear errors for bad files."""

import math
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time
import zipfile

import numpy as np
import pytest
from _subprocesses import kill_and_reap

import minigrad as mg
from minigrad import nn
from minigrad.serialization import CheckpointError, load, save

# ---------------------------------------------------------------------------------------
# Round trips
# ---------------------------------------------------------------------------------------


def assert_same(a, b, where="obj"):
    """Equal values of equal types, recursively (arrays: dtype, shape and values)."""
    assert type(a) is type(b), f"{where}: {type(a).__name__} vs {type(b).__name__}"
    if isinstance(a, mg.Tensor):
        assert a.requires_grad == b.requires_grad, where
        assert_same(a.array, b.array, where)
    elif isinstance(a, np.ndarray | np.generic):
        assert a.dtype == b.dtype and a.shape == b.shape, where
        np.testing.assert_array_equal(a, b, err_msg=where)
    elif isinstance(a, dict):
        assert list(a) == list(b), where  # same keys, same key types, same order
        for key in a:
            assert type(key) is type(next(k for k in b if k == key and type(k) is type(key)))
            assert_same(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b), where
    else:
        assert a == b, where


def test_round_trip_of_every_supported_type(tmp_path):
    obj = {
        "tensor": mg.tensor([[1.5, -2.0]], dtype=mg.float64),
        "param": mg.tensor([1.0, 2.0], requires_grad=True),
        "ints": np.arange(6, dtype=np.int64).reshape(2, 3),
        "f32": np.linspace(0, 1, 7, dtype=np.float32),
        "bool": np.array([True, False]),
        "u8": np.array([0, 255], dtype=np.uint8),
        "empty": np.zeros((0, 3)),
        "scalar0d": np.array(3.25),
        "fortran": np.asfortranarray(np.arange(6.0).reshape(2, 3)),
        "np_scalar": np.float32(0.1),
        "np_int": np.int64(7),
        1: "int key",
        "1": "str key",
        "nested": {"list": [1, 2.5, None, True, "text ü"], "tuple": (0.9, 0.999)},
        "big": 2**70,
        "floats": [math.inf, -math.inf, math.nan, 1e-310, 0.1],
        "none": None,
        "empty_containers": [[], {}, ()],
    }
    path = tmp_path / "all.ckpt"
    save(obj, path)
    assert_same(obj, load(path))
    assert_same(obj, load(str(path)))


def test_model_and_optimizer_state_together(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    optimizer_state = {
        "state": {0: {"step": 3, "exp_avg": mg.ones(4, 3)}, 2: {"step": 3}},
        "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "amsgrad": False,
                          "params": [0, 1, 2, 3, 4, 5], "foreach": None}],
    }
    checkpoint = {"model": model.state_dict(), "optimizer": optimizer_state, "epoch": 5}
    save(checkpoint, tmp_path / "ckpt.npz")
    loaded = load(tmp_path / "ckpt.npz")
    assert_same(checkpoint, loaded)
    assert list(loaded["optimizer"]["state"]) == [0, 2]  # int keys stay ints
    fresh = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    fresh.load_state_dict(loaded["model"])


def test_trained_mlp_saves_and_loads_into_a_fresh_model(tmp_path):
    mg.manual_seed(0)
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.normal(size=(32, 4)), dtype=mg.float32)
    y = mg.tensor(rng.integers(0, 3, size=32))

    def make():
        return nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))

    model = make()
    initial = [p.array.copy() for p in model.parameters()]
    loss_fn, lr, losses = nn.CrossEntropyLoss(), 0.5, []
    for _ in range(5):  # plain SGD written out
        model.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        for p in model.parameters():
            p.array -= lr * p.grad.array
        losses.append(float(loss))
    assert losses[-1] < losses[0]
    assert any((p.array != i).any() for p, i in zip(model.parameters(), initial))
    save(model.state_dict(), tmp_path / "mlp.npz")
    fresh = make()  # different random init
    assert (fresh(x).array != model(x).array).any()
    fresh.load_state_dict(load(tmp_path / "mlp.npz"))
    np.testing.assert_array_equal(fresh(x).array, model(x).array)


def test_save_overwrites_and_keeps_exact_path(tmp_path):
    path = tmp_path / "model"  # no .npz suffix is added (np.savez would add one)
    save({"v": 1}, path)
    save({"v": 2}, path)
    assert load(path) == {"v": 2}
    assert sorted(os.listdir(tmp_path)) == ["model"]  # no temporary files left behind


def test_saved_file_has_normal_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        save({"v": 1}, tmp_path / "perm.npz")
    finally:
        os.umask(old)
    assert (os.stat(tmp_path / "perm.npz").st_mode & 0o777) == 0o644


# ---------------------------------------------------------------------------------------
# Unsupported objects: a clear error, nothing written
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "obj, match",
    [
        ({"model": {"f": lambda: 0}}, r"obj\['model'\]\['f'\].*function"),
        ({"s": {1, 2}}, r"obj\['s'\].*set"),
        ({(1, 2): 3}, r"key \(1, 2\).*tuple"),
        ({True: 3}, r"key True.*bool"),
        ([np.array(["a", "b"])], r"obj\[0\].*dtype <U1"),
        ([np.array([object()], dtype=object)], r"dtype object"),
        (nn.Linear(2, 2), r"Linear"),
    ],
)
def test_unsupported_objects_raise_before_writing(tmp_path, obj, match):
    path = tmp_path / "x.npz"
    save({"old": 1}, path)
    with pytest.raises(TypeError, match=match):
        save(obj, path)
    assert load(path) == {"old": 1}
    assert os.listdir(tmp_path) == ["x.npz"]


def test_failure_during_write_leaves_old_file_and_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "x.npz"
    save({"old": 1}, path)

    def broken_savez(file, **arrays):
        file.write(b"PK\x03\x04 partial")
        raise OSError("No space left on device")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError, match="No space"):
        save({"new": np.ones(3)}, path)
    monkeypatch.undo()
    assert load(path) == {"old": 1}
    assert os.listdir(tmp_path) == ["x.npz"]


# ---------------------------------------------------------------------------------------
# Atomic writes under SIGKILL
# ---------------------------------------------------------------------------------------

_SAVER = textwrap.dedent(
    """
    import os, sys, time
    import numpy as np
    from minigrad import serialization

    path, mode = sys.argv[1], sys.argv[2]
    real_fdopen = serialization.os.fdopen

    class SlowFile:
        # Pauses after every large write, so the parent can kill us mid-file.
        def __init__(self, file):
            self.file = file

        def write(self, data):
            n = self.file.write(data)
            if len(data) >= 1 << 20:
                self.file.flush()
                time.sleep(0.3)
            return n

        def __getattr__(self, name):
            return getattr(self.file, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return self.file.__exit__(*exc)

    if mode == "mid-write":
        serialization.os.fdopen = lambda *a, **k: SlowFile(real_fdopen(*a, **k))
    else:  # "before-rename": the whole file is written, then we hang before os.replace
        def hang(fd):
            print("written", flush=True)
            time.sleep(60)
        serialization.os.fsync = hang

    big = {"weights": np.full(8 << 20, 3.0, dtype=np.float32)}  # 32 MB
    serialization.save(big, path)
    """
)


def _temp_files(directory):
    return [directory / name for name in os.listdir(directory) if name.endswith(".tmp")]


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
@pytest.mark.parametrize("mode", ["mid-write", "before-rename"])
def test_kill_during_save_leaves_previous_checkpoint_intact(tmp_path, mode):
    path = tmp_path / "ckpt.npz"
    previous = {"weights": np.arange(10, dtype=np.float32), "step": 1}
    save(previous, path)
    script = tmp_path / "saver.py"
    script.write_text(_SAVER)
    proc = subprocess.Popen([sys.executable, str(script), str(path), mode],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            temps = _temp_files(tmp_path)
            if temps and os.path.getsize(temps[0]) >= (1 << 20):
                if mode == "mid-write":
                    break
                if mode == "before-rename" and proc.stdout.readline() == b"written\n":
                    break
            assert proc.poll() is None, proc.stderr.read().decode()
            time.sleep(0.005)
        else:
            pytest.fail("the saving process never started writing")
        size_when_killed = os.path.getsize(temps[0])
    finally:
        kill_and_reap(proc)
    assert proc.returncode == -signal.SIGKILL
    if mode == "mid-write":
        assert size_when_killed < 32 << 20  # really killed in the middle of the data
    # The abandoned temporary file is not a valid checkpoint, and it is not at `path`.
    if mode == "mid-write":
        with pytest.raises(CheckpointError):
            load(_temp_files(tmp_path)[0])
    loaded = load(path)
    assert loaded["step"] == 1
    np.testing.assert_array_equal(loaded["weights"], previous["weights"])
    assert _temp_files(tmp_path) == []  # load(path) removed what the killed save left (§9)


# ---------------------------------------------------------------------------------------
# Never unpickle: crafted files must raise without running anything
# ---------------------------------------------------------------------------------------


class _Payload:
    """Unpickling this creates the file ``marker``: proof that code ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _structure(obj_node):
    import json

    text = json.dumps({"format": "minigrad-checkpoint", "version": 1, "object": obj_node})
    return np.frombuffer(text.encode(), dtype=np.uint8)


def _write_npz(path, **arrays):
    with open(path, "wb") as f:
        np.savez(f, **arrays)  # np.savez pickles object arrays


def test_object_array_inside_a_checkpoint_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.npz"
    evil = np.array([_Payload(marker)], dtype=object)
    _write_npz(path, __minigrad__=_structure({"type": "ndarray", "array": "a0"}), a0=evil)
    with pytest.raises(CheckpointError, match="evil.npz"):
        load(path)
    assert not marker.exists()
    # The same file does run code under a pickle-allowing loader: the test is meaningful.
    with np.load(path, allow_pickle=True) as archive:
        archive["a0"]
    assert marker.exists()


def test_pickled_structure_entry_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.npz"
    _write_npz(path, __minigrad__=np.array([_Payload(marker)], dtype=object))
    with pytest.raises(CheckpointError):
        load(path)
    assert not marker.exists()


@pytest.mark.parametrize("kind", ["npy", "pickle"])
def test_npy_and_pickle_files_are_refused(tmp_path, kind):
    marker = tmp_path / "pwned"
    path = tmp_path / f"evil.{kind}"
    if kind == "npy":
        np.save(path, np.array([_Payload(marker)], dtype=object), allow_pickle=True)
    else:
        path.write_bytes(pickle.dumps({"model": _Payload(marker)}))
    with pytest.raises(CheckpointError, match="not a minigrad checkpoint"):
        load(path)
    assert not marker.exists()


# ---------------------------------------------------------------------------------------
# Corrupt and foreign files
# ---------------------------------------------------------------------------------------


def test_truncated_checkpoint(tmp_path):
    path = tmp_path / "full.npz"
    save({"w": np.arange(1000.0), "meta": {"epoch": 3}}, path)
    data = path.read_bytes()
    for cut in (len(data) // 2, len(data) - 10, 10):
        truncated = tmp_path / f"cut{cut}.npz"
        truncated.write_bytes(data[:cut])
        with pytest.raises(CheckpointError, match=f"cut{cut}.npz"):
            load(truncated)


def test_corrupted_bytes(tmp_path):
    path = tmp_path / "c.npz"
    save({"w": np.arange(1000.0)}, path)
    data = bytearray(path.read_bytes())
    data[200:260] = b"\xff" * 60  # inside the first member
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="c.npz"):
        load(path)


@pytest.mark.parametrize("content", [b"hello, this is text\n", b"", b"PK"])
def test_foreign_files(tmp_path, content):
    path = tmp_path / "foreign.txt"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match="foreign.txt.*not a minigrad checkpoint"):
        load(path)


def test_plain_npz_without_structure(tmp_path):
    path = tmp_path / "plain.npz"
    np.savez(path, weights=np.ones(3))
    with pytest.raises(CheckpointError, match="plain.npz.*no '__minigrad__' entry"):
        load(path)


@pytest.mark.parametrize(
    "header, match",
    [
        (np.frombuffer(b"{not json", dtype=np.uint8), "corrupt structure"),
        (np.frombuffer(b'{"format": "other"}', dtype=np.uint8), "not a minigrad checkpoint"),
        (_structure(None)[:0], "corrupt structure"),
        (np.arange(3.0), "malformed"),
    ],
)
def test_bad_structure_entries(tmp_path, header, match):
    path = tmp_path / "bad.npz"
    _write_npz(path, __minigrad__=header)
    with pytest.raises(CheckpointError, match=match):
        load(path)


def test_structure_referring_to_missing_or_unknown_entries(tmp_path):
    path = tmp_path / "bad.npz"
    _write_npz(path, __minigrad__=_structure({"type": "tensor", "array": "a7"}))
    with pytest.raises(CheckpointError, match="missing array 'a7'"):
        load(path)
    _write_npz(path, __minigrad__=_structure({"type": "module", "code": "import os"}))
    with pytest.raises(CheckpointError, match="unknown entry of type 'module'"):
        load(path)
    _write_npz(path, __minigrad__=_structure({"type": "dict", "items": [["int", "x", 1]]}))
    with pytest.raises(CheckpointError, match="malformed dict key"):
        load(path)
    header = np.frombuffer(b'{"format": "minigrad-checkpoint", "version": 99}', np.uint8)
    _write_npz(path, __minigrad__=header)
    with pytest.raises(CheckpointError, match="version 99"):
        load(path)


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "nope.npz")


def test_checkpoint_is_a_standard_npz(tmp_path):
    """Other tools can read a checkpoint's arrays (with pickle off)."""
    path = tmp_path / "std.npz"
    save({"w": np.arange(3.0)}, path)
    assert zipfile.is_zipfile(path)
    with np.load(path, allow_pickle=False) as archive:
        np.testing.assert_array_equal(archive["a0"], np.arange(3.0))
        assert b"minigrad-checkpoint" in archive["__minigrad__"].tobytes()


def test_resumed_training_continues_exactly(tmp_path):
    """A model's and an optimizer's state dicts saved together: training resumed from the
    checkpoint gives exactly the parameters of an uninterrupted run."""
    optim = pytest.importorskip("minigrad.optim")
    rng = np.random.default_rng(3)
    x = mg.tensor(rng.normal(size=(16, 3)), dtype=mg.float32)
    y = mg.tensor(rng.integers(0, 2, size=16))

    def make():
        mg.manual_seed(0)
        model = nn.Sequential(nn.Linear(3, 8), nn.BatchNorm1d(8), nn.Tanh(), nn.Linear(8, 2))
        return model, optim.Adam(model.parameters(), lr=0.01)

    def train(model, optimizer, steps):
        for _ in range(steps):
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()

    model, optimizer = make()
    train(model, optimizer, 6)
    uninterrupted = [p.array.copy() for p in model.parameters()]

    model, optimizer = make()
    train(model, optimizer, 3)
    save({"model": model.state_dict(), "optimizer": optimizer.state_dict()},
         tmp_path / "resume.npz")
    model, optimizer = make()
    checkpoint = load(tmp_path / "resume.npz")
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    train(model, optimizer, 3)
    for p, expected in zip(model.parameters(), uninterrupted):
        np.testing.assert_array_equal(p.array, expected)


def test_absurdly_deep_structure_is_a_checkpoint_error(tmp_path):
    path = tmp_path / "deep.npz"
    deep = '{"type": "list", "items": [' * 100_000 + "]}" * 100_000
    text = '{"format": "minigrad-checkpoint", "version": 1, "object": ' + deep + "}"
    _write_npz(path, __minigrad__=np.frombuffer(text.encode(), dtype=np.uint8))
    with pytest.raises(CheckpointError, match="deep.npz"):
        load(path)
