"""Checkpoints keep the file system's promises (SPEC §9) and take PyTorch's arguments (§10).

``save`` keeps a file's permission bits, writes through a symbolic link, refuses a read-only
file, names the user's path in every error and leaves no temporary file behind, also after a
SIGKILL. ``load`` checks every declared size against the file before allocating, refuses
malformed members with the checkpoint error and converts dtypes as ``Tensor()`` does.
"""

import gzip
import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import traceback
import tracemalloc
import zipfile
import zlib

import numpy as np
import pytest
from _subprocesses import kill_and_reap

import minigrad as mg
from minigrad.data.mnist import load_mnist
from minigrad.serialization import CheckpointError, load, save

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions and signals")


def _temp_files(directory):
    return sorted(name for name in os.listdir(directory) if name.endswith(".tmp"))


# ---------------------------------------------------------------------------------------
# Permissions, read-only files, symbolic links
# ---------------------------------------------------------------------------------------


@posix_only
@pytest.mark.parametrize("mode", [0o600, 0o640, 0o604], ids=oct)
def test_save_keeps_the_permission_bits_of_the_file_it_replaces(tmp_path, mode):
    path = tmp_path / "private.pt"
    save({"v": 1}, path)
    os.chmod(path, mode)
    save({"v": 2}, path)
    assert os.stat(path).st_mode & 0o777 == mode
    assert load(path) == {"v": 2}


@posix_only
def test_a_new_file_gets_the_umask_based_mode(tmp_path):
    old = os.umask(0o077)
    try:
        save({"v": 1}, tmp_path / "new.pt")
    finally:
        os.umask(old)
    assert os.stat(tmp_path / "new.pt").st_mode & 0o777 == 0o600


@posix_only
@pytest.mark.parametrize("mode", [0o444, 0o400, 0o000], ids=oct)
def test_save_refuses_a_read_only_file_and_keeps_it(tmp_path, mode):
    path = tmp_path / "frozen.pt"
    save({"v": "old"}, path)
    before = path.read_bytes()
    os.chmod(path, mode)
    with pytest.raises(PermissionError, match=r"read-only.*frozen\.pt") as info:
        save({"v": "new"}, path)
    assert info.value.filename == str(path)
    assert path.read_bytes() == before
    assert os.stat(path).st_mode & 0o777 == mode
    assert _temp_files(tmp_path) == []


@posix_only
def test_save_writes_through_a_symbolic_link(tmp_path):
    (tmp_path / "runs").mkdir()
    target = tmp_path / "runs" / "best-epoch-7.pt"
    save({"v": 1}, target)
    os.chmod(target, 0o600)
    link = tmp_path / "best.pt"
    link.symlink_to(os.path.join("runs", "best-epoch-7.pt"))  # relative, into another folder
    save({"v": 2}, link)
    assert link.is_symlink() and os.readlink(link) == os.path.join("runs", "best-epoch-7.pt")
    assert load(target) == {"v": 2} and load(link) == {"v": 2}
    assert os.stat(target).st_mode & 0o777 == 0o600
    assert _temp_files(tmp_path) == [] and _temp_files(tmp_path / "runs") == []


@posix_only
def test_save_through_a_dangling_link_creates_its_target(tmp_path):
    link = tmp_path / "latest.pt"
    link.symlink_to("ckpt-1.pt")
    save({"v": 1}, link)
    assert link.is_symlink() and load(tmp_path / "ckpt-1.pt") == {"v": 1}


# ---------------------------------------------------------------------------------------
# Every error names the user's path, never a temporary file
# ---------------------------------------------------------------------------------------


def _assert_names_only(error, path):
    text = "".join(traceback.format_exception(error))
    assert str(path) in str(error)
    assert ".tmp" not in text, text


def test_missing_folder_error_names_the_users_path(tmp_path):
    path = tmp_path / "no-such-folder" / "model.pt"
    with pytest.raises(FileNotFoundError) as info:
        save({"v": 1}, path)
    _assert_names_only(info.value, path)
    assert "does not exist" in str(info.value)


def test_folder_as_target_error_names_the_users_path(tmp_path):
    path = tmp_path / "checkpoints"
    path.mkdir()
    with pytest.raises(IsADirectoryError) as info:
        save({"v": 1}, path)
    _assert_names_only(info.value, path)
    assert os.listdir(path) == [] and _temp_files(tmp_path) == []


@pytest.mark.parametrize("errno_", [28, None])  # ENOSPC, and an OSError without errno
def test_write_failure_error_names_the_users_path(tmp_path, monkeypatch, errno_):
    path = tmp_path / "model.pt"
    save({"old": 1}, path)

    def failing_savez(file, **arrays):
        file.write(b"PK\x03\x04 partial")
        if errno_ is None:
            raise OSError("disk on fire")
        raise OSError(errno_, os.strerror(errno_), file.name)  # names the temporary file

    monkeypatch.setattr(np, "savez", failing_savez)
    with pytest.raises(OSError) as info:
        save({"new": 1}, path)
    monkeypatch.undo()
    _assert_names_only(info.value, path)
    assert info.value.errno == errno_
    assert load(path) == {"old": 1} and _temp_files(tmp_path) == []


# ---------------------------------------------------------------------------------------
# No temporary file left behind, also after SIGKILL; concurrent writers survive
# ---------------------------------------------------------------------------------------

# Saves 16 MB, then hangs just before the rename: the full-size temporary file exists and
# its writer is alive until the test kills it.
_HANGING_SAVER = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    from minigrad import serialization

    def hang(source, destination):
        print("written", flush=True)
        time.sleep(60)

    serialization.os.replace = hang
    serialization.save({"w": np.ones(4 << 20, dtype=np.float32)}, sys.argv[1])
    """
)


def _start_hanging_saver(tmp_path, path):
    script = tmp_path / "saver.py"
    script.write_text(_HANGING_SAVER)
    root = os.path.dirname(os.path.dirname(mg.__file__))  # the minigrad under test
    env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, str(script), str(path)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    line = proc.stdout.readline()
    if line != b"written\n":
        proc.kill()
        pytest.fail(f"the saving process failed: {proc.stderr.read().decode()}")
    return proc


@posix_only
@pytest.mark.parametrize("cleaner", ["save", "load"])
def test_a_save_killed_mid_write_leaves_a_temp_file_that_the_next_call_removes(tmp_path,
                                                                                 cleaner):
    path = tmp_path / "ckpt.pt"
    save({"step": 1}, path)
    proc = _start_hanging_saver(tmp_path, path)
    try:
        [temp] = _temp_files(tmp_path)
        assert os.path.getsize(tmp_path / temp) > 16 << 20  # the whole archive, not renamed
        # A save still in progress is left alone: its writer is alive and holds the lock.
        save({"step": 2}, path)
        assert load(path) == {"step": 2}
        assert _temp_files(tmp_path) == [temp]
    finally:
        kill_and_reap(proc)
    assert proc.returncode == -signal.SIGKILL
    assert _temp_files(tmp_path) == [temp]  # what the killed save left
    if cleaner == "save":
        save({"step": 3}, path)
    assert load(path) == {"step": 3 if cleaner == "save" else 2}
    assert _temp_files(tmp_path) == []


_NO_SUCH_PID = 4_194_305  # above Linux's largest possible PID (2**22) and macOS's


@posix_only
def test_which_temporary_files_count_as_stale(tmp_path):
    path = tmp_path / "m.pt"
    me = os.getpid()
    names = {
        f".m.pt.{_NO_SUCH_PID}.0123abcd.tmp": "removed",  # its writer is gone
        f".m.pt.{me}.0123abcd.tmp": "kept",  # a live writer (another thread, say)
        f".m.pt.{me}.89abcdef.tmp": "removed",  # a live PID, but untouched for two hours
        f".other.pt.{_NO_SUCH_PID}.0123abcd.tmp": "kept",  # another checkpoint's
        ".m.pt.notes.tmp": "kept",  # not a name save makes
        f"m.pt.{_NO_SUCH_PID}.0123abcd.tmp": "kept",
        f".m.pt.{_NO_SUCH_PID}.0123ABCD.tmp": "kept",
    }
    for name in names:
        (tmp_path / name).write_bytes(b"partial")
    two_hours_ago = time.time() - 7200
    os.utime(tmp_path / f".m.pt.{me}.89abcdef.tmp", (two_hours_ago, two_hours_ago))
    save({"v": 1}, path)
    expected = sorted([n for n, fate in names.items() if fate == "kept"] + ["m.pt"])
    assert sorted(os.listdir(tmp_path)) == expected


@pytest.mark.skipif(sys.platform == "win32", reason="file locks are POSIX")
def test_a_locked_temporary_file_is_never_removed(tmp_path):
    import fcntl

    temp = tmp_path / f".m.pt.{_NO_SUCH_PID}.0123abcd.tmp"
    temp.write_bytes(b"partial")
    old = time.time() - 7200
    os.utime(temp, (old, old))
    with open(temp, "rb") as held:  # as a writer on another machine would hold it
        fcntl.flock(held, fcntl.LOCK_EX)
        save({"v": 1}, tmp_path / "m.pt")
        assert temp.exists()
    load(tmp_path / "m.pt")
    assert not temp.exists()


def test_concurrent_saves_and_loads_of_one_path(tmp_path):
    path = tmp_path / "shared.pt"
    save({"writer": -1, "w": np.zeros(1000)}, path)
    errors = []

    def writer(k):
        try:
            for i in range(15):
                save({"writer": k, "w": np.full(1000, float(i))}, path)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    def reader():
        try:
            for _ in range(30):
                state = load(path)
                assert state["writer"] in (-1, 0, 1, 2, 3) and len(set(state["w"])) == 1
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    threads += [threading.Thread(target=reader) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert load(path)["w"][0] == 14.0
    assert os.listdir(tmp_path) == ["shared.pt"]


# ---------------------------------------------------------------------------------------
# load: hostile and malformed files
# ---------------------------------------------------------------------------------------


def _npy(array):
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.asarray(array), allow_pickle=False)
    return buffer.getvalue()


def _npy_header_only(shape, descr="<f8", data=b"\0" * 16):
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": descr, "fortran_order": False, "shape": shape})
    return buffer.getvalue() + data


def _structure(node):
    text = json.dumps({"format": "minigrad-checkpoint", "version": 1, "object": node})
    return _npy(np.frombuffer(text.encode(), dtype=np.uint8))


def _write_zip(path, members, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def _peak_bytes_of(function):
    """The most memory Python and NumPy held at once while ``function`` ran."""
    tracemalloc.start()
    try:
        function()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


@pytest.mark.parametrize("shape", [(2**44,), (10**8,), (2**31, 2**31, 2**31), (3,)])
def test_declared_shape_is_checked_against_the_file_before_allocating(tmp_path, shape):
    path = tmp_path / "hostile.pt"
    _write_zip(path, {"__minigrad__.npy": _structure({"type": "ndarray", "array": "a0"}),
                      "a0.npy": _npy_header_only(shape)})
    assert os.path.getsize(path) < 1000

    def attempt():
        with pytest.raises(CheckpointError, match=r"hostile\.pt.*declares shape"):
            load(path)

    assert _peak_bytes_of(attempt) < 1 << 20


def test_a_member_that_is_not_npy_is_refused_without_inflating_it(tmp_path):
    path = tmp_path / "bomb.pt"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("__minigrad__.npy", _structure(None))
        archive.writestr("a0", b"\0" * (64 << 20), compress_type=zipfile.ZIP_DEFLATED)
    assert os.path.getsize(path) < 1 << 20

    def attempt():
        with pytest.raises(CheckpointError, match=r"bomb\.pt.*'a0'.*not an \.npy"):
            load(path)

    assert _peak_bytes_of(attempt) < 1 << 20


def test_compressed_members_are_refused(tmp_path):
    """save stores arrays uncompressed, so every byte an array takes in memory is in the
    file; a compressed member could inflate a thousandfold."""
    path = tmp_path / "zipped.pt"
    _write_zip(path, {"__minigrad__.npy": _structure({"type": "ndarray", "array": "a0"}),
                      "a0.npy": _npy(np.zeros(1 << 20))}, compression=zipfile.ZIP_DEFLATED)
    with pytest.raises(CheckpointError, match=r"zipped\.pt.*compressed"):
        load(path)


@pytest.mark.parametrize(
    "members, match",
    [
        ({"a0.npy": _npy(np.ones(2))}, "no '__minigrad__' entry"),
        ({"__minigrad__.npy": b"not an npy file at all"}, "damaged"),
        ({"__minigrad__.npy": _structure({"type": "list",
                                           "items": [{"type": "ndarray", "array": "a0"}] * 2}),
          "a0.npy": _npy(np.ones(2))}, "array 'a0' twice"),
        ({"__minigrad__.npy": _structure({"type": "ndarray", "array": "a0"}),
          "a0.npy": _npy(np.ones(2, dtype=np.complex128))}, "unsupported dtype complex128"),
        ({"__minigrad__.npy": _structure({"type": "ndarray", "array": "a0"}),
          "a0.npy": _npy(np.zeros(2, dtype=[("x", "<f4")]))}, "unsupported dtype"),
        ({"__minigrad__.npy": _structure({"type": "ndarray", "array": "a0"}),
          "a0.npy": _npy(np.array(["ab"]))}, "unsupported dtype <U2"),
        ({"__minigrad__.npy": _structure({"type": "ndarray", "array": "a0"}),
          "a0.npy": _npy(np.ones(2)) + b"extra"}, r"declares shape \(2,\)"),
        ({"__minigrad__.npy": _structure({"type": "ndarray", "array": "a0"}),
          "a0.npy": _npy(np.ones(2))[:-3]}, r"declares shape \(2,\)"),
        ({"__minigrad__.npy": _structure({"type": "ndarray", "array": "a0"}),
          "a0.npy": _npy_header_only((-1,))}, "negative"),
        ({"__minigrad__.npy": _npy(np.ones(2)), "dir/a0.npy": _npy(np.ones(2))}, "malformed"),
    ],
    ids=["no-structure", "not-npy", "shared-array", "complex", "structured", "unicode",
         "too-long", "too-short", "negative-shape", "float-structure"],
)
def test_every_malformed_member_is_a_checkpoint_error_naming_the_file(tmp_path, members,
                                                                      match):
    path = tmp_path / "bad.pt"
    _write_zip(path, members)
    with pytest.raises(CheckpointError, match=rf"bad\.pt.*{match}"):
        load(path)


def test_dtypes_are_checked_as_tensor_checks_them(tmp_path):
    path = tmp_path / "dtypes.pt"
    arrays = {
        "a0": np.array([1.5, 2.5], dtype=np.float16),
        "a1": np.array([1.5, 2.5], dtype=np.longdouble),
        "a2": np.array([1.5, -2.5], dtype=">f8"),
        "a3": np.array([1, -2], dtype=">i4"),
        "a4": np.array([1.5, 2.5], dtype=np.float16),
        "a5": np.array([[1.0, 2.0], [3.0, 4.0]], order="F"),
    }
    node = {"type": "list", "items": [{"type": "tensor", "array": "a0"},
                                      {"type": "tensor", "array": "a1"},
                                      {"type": "tensor", "array": "a2"},
                                      {"type": "tensor", "array": "a3"},
                                      {"type": "ndarray", "array": "a4"},
                                      {"type": "ndarray", "array": "a5"}]}
    _write_zip(path, {"__minigrad__.npy": _structure(node),
                      **{f"{name}.npy": _npy(a) for name, a in arrays.items()}})
    half, long, big_float, big_int, array16, fortran = load(path)
    # As Tensor(data): float16 and long double become float32.
    assert half.dtype == mg.Tensor(arrays["a0"]).dtype == np.float32
    assert long.dtype == mg.Tensor(arrays["a1"]).dtype == np.float32
    np.testing.assert_array_equal(half.array, [1.5, 2.5])
    # Big-endian data comes back in the machine's byte order, same values and width.
    assert big_float.dtype == np.dtype("=f8") and big_float.dtype.isnative
    assert big_int.dtype == np.dtype("=i4") and big_int.dtype.isnative
    np.testing.assert_array_equal(big_float.array, [1.5, -2.5])
    np.testing.assert_array_equal(big_int.array, [1, -2])
    assert (big_float + 1).array.tolist() == [2.5, -1.5]
    # Plain ndarrays keep their dtype (float16 is a portable storage type).
    assert array16.dtype == np.float16
    np.testing.assert_array_equal(fortran, arrays["a5"])


# ---------------------------------------------------------------------------------------
# PyTorch's arguments and file names
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["model.pth", "model.pt", "ckpt", "weights.bin", "m.npz"])
def test_any_file_name_is_kept_as_it_is(tmp_path, name):
    save({"w": mg.ones(2)}, tmp_path / name)
    assert os.listdir(tmp_path) == [name]
    np.testing.assert_array_equal(load(str(tmp_path / name))["w"].array, [1.0, 1.0])


def test_str_bytes_and_pathlike_paths(tmp_path):
    save({"v": 1}, os.fsencode(tmp_path / "b.pt"))
    assert load(str(tmp_path / "b.pt")) == {"v": 1}
    assert load(os.fsencode(tmp_path / "b.pt")) == load(tmp_path / "b.pt") == {"v": 1}
    assert os.listdir(tmp_path) == ["b.pt"]


def test_save_and_load_with_an_open_file_or_bytesio(tmp_path):
    buffer = io.BytesIO()
    save({"w": mg.ones(2), "step": 1}, buffer)
    buffer.seek(0)
    assert load(buffer)["step"] == 1
    with open(tmp_path / "m.pt", "wb") as file:
        save({"step": 2}, file)
    with open(tmp_path / "m.pt", "rb") as file:
        assert load(file) == {"step": 2}
    with pytest.raises(CheckpointError, match="BytesIO.*not a minigrad checkpoint"):
        load(io.BytesIO(b"garbage"))


def test_save_accepts_torch_save_arguments(tmp_path):
    import pickle

    path = tmp_path / "model.pth"
    save({"v": 1}, path, pickle_module=pickle, pickle_protocol=4,
         _use_new_zipfile_serialization=True)
    assert load(path) == {"v": 1}


class _Device:
    """Something like ``torch.device``: known by its string."""

    def __init__(self, name):
        self.name = name

    def __str__(self):
        return self.name


@pytest.mark.parametrize(
    "map_location",
    [None, "cpu", "CPU", "cpu:0", _Device("cpu"), {"cuda:0": "cpu"}, {"cpu": "cpu"},
     lambda storage, location: storage],
    ids=["none", "cpu", "CPU", "cpu0", "device", "dict-from-cuda", "dict", "callable"],
)
def test_map_location_to_the_cpu_is_accepted(tmp_path, map_location):
    path = tmp_path / "m.pt"
    save({"w": mg.ones(2)}, path)
    assert load(path, map_location=map_location)["w"].shape == (2,)


@pytest.mark.parametrize("map_location",
                         ["cuda", "cuda:1", "mps", _Device("cuda:0"), {"cpu": "cuda:0"}])
def test_map_location_to_a_gpu_is_a_clear_error(tmp_path, map_location):
    path = tmp_path / "m.pt"
    save({"w": mg.ones(2)}, path)
    with pytest.raises(RuntimeError, match="CPU only"):
        load(path, map_location=map_location)


@pytest.mark.parametrize("weights_only", [None, True, False])
@pytest.mark.parametrize("mmap", [None, False, True])
def test_load_accepts_weights_only_and_mmap(tmp_path, weights_only, mmap):
    path = tmp_path / "m.pt"
    save({"w": mg.ones(2), "step": 3}, path)
    state = load(path, weights_only=weights_only, mmap=mmap)
    assert state["step"] == 3


def test_load_accepts_encoding_and_refuses_unknown_keywords(tmp_path):
    path = tmp_path / "m.pt"
    save({"v": 1}, path)
    assert load(path, "cpu", encoding="latin1") == {"v": 1}
    with pytest.raises(TypeError, match="map_locaton"):
        load(path, map_locaton="cpu")


# ---------------------------------------------------------------------------------------
# load_mnist: a small gzip file cannot inflate beyond what its header declares
# ---------------------------------------------------------------------------------------


def _gzip_bomb(header, megabytes):
    """``header`` then ``megabytes`` MB of zeros, gzipped (about 1000 times smaller)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: a gzip stream
    block = b"\0" * (1 << 20)
    parts = [compressor.compress(header)]
    parts += [compressor.compress(block) for _ in range(megabytes)]
    return b"".join(parts) + compressor.flush()


@pytest.mark.parametrize("which", ["images", "labels"])
def test_load_mnist_refuses_a_gzip_that_inflates_beyond_its_header(tmp_path, which):
    images = (b"\0\0\x08\x03" + (2).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2
              + b"\0" * (2 * 28 * 28))
    labels = b"\0\0\x08\x01" + (2).to_bytes(4, "big") + b"\0\x01"
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(images))
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(labels))
    assert load_mnist(tmp_path)[1].tolist() == [0, 1]
    header = images[:16] if which == "images" else labels[:8]
    bomb = _gzip_bomb(header, 64)  # declares 2 items, inflates to 64 MB
    assert len(bomb) < 100_000
    (tmp_path / f"train-{which}-idx{3 if which == 'images' else 1}-ubyte.gz").write_bytes(bomb)

    def attempt():
        with pytest.raises(ValueError, match=rf"train-{which}.*has bytes left over"):
            load_mnist(tmp_path)

    assert _peak_bytes_of(attempt) < 8 << 20
