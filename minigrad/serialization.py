"""Checkpoints: ``save(obj, path)`` and ``load(path)``, without pickle.

A checkpoint is a NumPy ``.npz`` archive (a zip of uncompressed ``.npy`` files):

* every Tensor and ndarray of ``obj`` is one array, ``a0``, ``a1``, ...;
* ``__minigrad__`` holds the structure as UTF-8 JSON: the nested dicts, lists and tuples,
  the plain values (int, float, bool, str, None), and for each array its name.

Loading parses JSON and reads each ``.npy`` header itself, so a file can never run code,
and every declared shape is checked against the bytes really in the file before anything
is allocated: a small hostile file cannot make ``load`` allocate gigabytes.

Writes are atomic: the archive goes to a temporary file in the same directory, is flushed
and fsync'ed, and then ``os.replace`` puts it in place in one step. A crash or a kill in the
middle of ``save`` leaves the previous file at ``path`` intact; the temporary file it
leaves is removed by the next ``save`` or ``load`` of that path. ``save`` behaves like
writing the file in place would: it keeps the file's permission bits, writes through a
symbolic link, and refuses a read-only file.

Both functions take PyTorch's keyword arguments (``map_location=``, ``weights_only=``, ...)
so that ``torch.save``/``torch.load`` calls run unchanged.
"""

from __future__ import annotations

import errno
import json
import math
import os
import re
import secrets
import stat
import time
import zipfile
from collections import OrderedDict
from typing import Any

import numpy as np

from minigrad.tensor import Tensor, to_array

try:  # file locks (POSIX); without them, stale temporary files are told by PID and age
    import fcntl
except ImportError:  # Windows
    fcntl = None

FORMAT = "minigrad-checkpoint"
VERSION = 1
_STRUCTURE = "__minigrad__"
_ZIP_MAGIC = b"PK\x03\x04"
_ARRAY_KINDS = "biuf"  # bool, signed and unsigned integers, floats: nothing that pickles


class CheckpointError(ValueError):
    """A file is not a readable minigrad checkpoint (corrupt, truncated or foreign)."""


# ---------------------------------------------------------------------------------------
# Encoding: Python object -> (JSON-able structure, arrays)
# ---------------------------------------------------------------------------------------


def _encode(obj: Any, arrays: dict[str, np.ndarray], where: str) -> Any:
    """``obj`` as JSON data. Plain values stay themselves; containers and arrays become
    ``{"type": ...}`` objects (a user's dict is never stored as a bare JSON object, so
    reading back is unambiguous)."""
    if obj is None or isinstance(obj, bool | str):
        return obj
    if isinstance(obj, int):
        return int(obj)  # also an int subclass (IntEnum...) as a plain int
    if isinstance(obj, float):
        return float(obj)
    if isinstance(obj, Tensor | np.ndarray | np.generic):
        array = np.asarray(obj.array if isinstance(obj, Tensor) else obj)
        if array.dtype.kind not in _ARRAY_KINDS:
            raise TypeError(
                f"save: cannot store {where}: an array of dtype {array.dtype} "
                "(only bool, integer and float arrays can be saved)"
            )
        name = f"a{len(arrays)}"
        arrays[name] = array
        if isinstance(obj, Tensor):
            return {"type": "tensor", "array": name, "requires_grad": bool(obj.requires_grad)}
        return {"type": "ndarray" if isinstance(obj, np.ndarray) else "scalar", "array": name}
    if isinstance(obj, dict):
        items = []
        for key, value in obj.items():
            if isinstance(key, bool) or not isinstance(key, str | int):
                raise TypeError(
                    f"save: cannot store {where}: a dict key {key!r} of type "
                    f"{type(key).__name__} (keys must be str or int)"
                )
            key_type = "str" if isinstance(key, str) else "int"
            items.append([key_type, key if key_type == "str" else int(key),
                          _encode(value, arrays, f"{where}[{key!r}]")])
        # An OrderedDict (a state dict) comes back as an OrderedDict; a dict as a dict.
        return {"type": "ordered_dict" if isinstance(obj, OrderedDict) else "dict",
                "items": items}
    if isinstance(obj, list | tuple):
        return {
            "type": "list" if isinstance(obj, list) else "tuple",
            "items": [_encode(value, arrays, f"{where}[{i}]") for i, value in enumerate(obj)],
        }
    raise TypeError(
        f"save: cannot store {where}: objects of type {type(obj).__name__} are not supported "
        "(use dicts, lists and tuples of Tensors, ndarrays, int, float, bool, str and None)"
    )


def save(obj: Any, f: str | os.PathLike, pickle_module: Any = None, pickle_protocol: int = 2,
         _use_new_zipfile_serialization: bool = True,
         _disable_byteorder_record: bool = False) -> None:
    """Save ``obj`` (nested dicts with str or int keys, lists and tuples of Tensors, ndarrays,
    int, float, bool, str and None) to the file ``f`` (any name: ``model.pth``,
    ``ckpt.npz``...), atomically; or into ``f``, an open binary file or ``io.BytesIO``.

    Typically ``save({"model": model.state_dict(), "optimizer": opt.state_dict()}, path)``.
    The whole object is checked before anything is written. PyTorch's other arguments
    (``pickle_module``, ``pickle_protocol``, ...) are accepted and ignored: nothing is
    pickled. Every error names ``f``, never the temporary file.
    """
    arrays: dict[str, np.ndarray] = {}
    structure = {"format": FORMAT, "version": VERSION, "object": _encode(obj, arrays, "obj")}
    header = np.frombuffer(json.dumps(structure).encode("utf-8"), dtype=np.uint8)

    members = {_STRUCTURE: header, **arrays}
    if hasattr(f, "write"):  # an open binary file or an io.BytesIO, as torch.save allows
        np.savez(f, **members)  # the caller's stream, written as it is
        return
    path = os.fsdecode(f)  # a str also for a bytes or PathLike path
    try:
        # Through a symbolic link to the file it points at (the link stays a link), as
        # open(path, "wb") would; the temporary file goes next to that file, so that the
        # final rename stays within one file system.
        target = os.path.realpath(path)
        _remove_stale_temp_files(target)
        existing = _check_target(target, path)
        _write_atomically(target, existing, members)
    except OSError as error:
        raise _naming(error, "save", path) from None


def _check_target(target: str, path: str) -> os.stat_result | None:
    """The status of the file about to be replaced (None for a new file), after refusing
    the cases where writing it in place would fail or would be wrong."""
    directory = os.path.dirname(target)
    if not os.path.isdir(directory):
        raise FileNotFoundError(errno.ENOENT, f"save: the folder {directory!r} does not exist",
                                path)
    if not os.access(directory, os.W_OK | os.X_OK):
        # Even where the file itself is writable: the new version is written next to it,
        # then renamed over it, and both need the folder's permission.
        raise PermissionError(errno.EACCES, f"save: the folder {directory!r} is not writable",
                              path)
    try:
        status = os.stat(target)
    except FileNotFoundError:
        return None
    if stat.S_ISDIR(status.st_mode):
        raise IsADirectoryError(errno.EISDIR, "save: the path is a folder, not a file", path)
    if not stat.S_ISREG(status.st_mode):
        # A device or a pipe: replacing it with a regular file would destroy it.
        raise OSError(errno.EINVAL, "save: the path exists and is not a regular file", path)
    # The user could not write the file itself: refuse, and keep it. os.access answers for
    # an ordinary user (and for a read-only file system). Root may write any file, so
    # os.access says yes to it; a file without any write bit (chmod a-w, 0o444) is then
    # still refused, because someone made it read-only on purpose.
    if not os.access(target, os.W_OK) or not status.st_mode & 0o222:
        raise PermissionError(errno.EACCES, "save: the file is not writable (read-only, or another "
                              "user's); it was left as it is", path)
    return status


def _write_atomically(target: str, existing: os.stat_result | None,
                      members: dict[str, np.ndarray]) -> None:
    """Write the archive to a new temporary file next to ``target``, then rename it over
    ``target``. On any failure the temporary file is removed and ``target`` is untouched."""
    directory, name = os.path.split(target)
    temp_path = os.path.join(directory, _temp_name(name))
    # A new file, created with the usual permissions (0o666 minus the umask).
    fd = os.open(temp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                 0o666)
    try:
        # Tells other processes this file is being written; held until the file is closed,
        # just before the rename (from then on, our live PID protects it).
        _lock(fd)
        if existing is not None:
            _copy_owner_and_mode(fd, existing)
        with os.fdopen(fd, "wb") as file:
            np.savez(file, **members)
            file.flush()
            os.fsync(file.fileno())  # the bytes are on disk before the name points at them
        os.replace(temp_path, target)  # atomic: readers see the old file or the new one
    except BaseException:
        try:
            os.unlink(temp_path)
        except OSError:
            pass
        raise
    _fsync_directory(directory)


def _copy_owner_and_mode(fd: int, existing: os.stat_result) -> None:
    """Give the new file what overwriting in place would have kept: the permission bits
    (a 0o600 checkpoint stays private) and, where we may, the owner and group."""
    if hasattr(os, "fchown") and (existing.st_uid, existing.st_gid) != (
            os.fstat(fd).st_uid, os.fstat(fd).st_gid):
        try:
            os.fchown(fd, existing.st_uid, existing.st_gid)
        except OSError:
            pass  # only root may give a file away; the permission bits still apply
    if hasattr(os, "fchmod"):  # not on Windows, where a read-only target was refused
        os.fchmod(fd, stat.S_IMODE(existing.st_mode) & 0o777)


def _naming(error: OSError, action: str, path: str) -> OSError:
    """``error`` again, of the same kind (same errno), but naming the user's ``path``: an
    error about the temporary file would name a file the user has never heard of."""
    if error.filename == path:
        return error  # already ours (raised by _check_target)
    reason = error.strerror or str(error)
    if error.errno is None:
        return type(error)(f"{action}: cannot write {path!r}: {reason}")
    return OSError(error.errno, f"{action}: cannot write the checkpoint ({reason})", path)


def _fsync_directory(directory: str) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ---------------------------------------------------------------------------------------
# Temporary files, and removing those a killed save left behind
# ---------------------------------------------------------------------------------------
#
# ``save`` writes ``.NAME.PID.RANDOM.tmp`` next to NAME and holds an exclusive lock on it
# while writing it. A SIGKILL, a power cut or a crash can still leave one behind, so
# every ``save`` and ``load`` of NAME removes the stale ones: those that no process holds
# locked and whose writer (the PID in the name) is not running, or that nobody has
# touched for an hour (a PID can be reused, and it means nothing to another machine or
# container sharing the folder). A file another process is still writing is never stale:
# it is locked and its writer is alive, so concurrent saves to one path keep working.

_NAME_IN_TEMP = 100  # characters of NAME kept in the temporary name (file names are short)
_STALE_AFTER = 3600.0  # seconds


def _temp_name(name: str) -> str:
    return f".{name[:_NAME_IN_TEMP]}.{os.getpid()}.{secrets.token_hex(4)}.tmp"


def _lock(fd: int) -> None:
    if fcntl is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            pass  # a file system without locks: the PID and age rules still apply


def _remove_stale_temp_files(target: str) -> None:
    """Best effort: a folder we cannot list or a file we cannot remove is left alone."""
    directory, name = os.path.split(target)
    prefix = f".{name[:_NAME_IN_TEMP]}."
    try:
        entries = os.listdir(directory)
    except OSError:
        return
    for entry in entries:
        match = entry.startswith(prefix) and re.fullmatch(r"(\d+)\.[0-9a-f]{8}\.tmp",
                                                          entry[len(prefix):])
        if match:
            _remove_if_stale(os.path.join(directory, entry), int(match[1]))


def _remove_if_stale(temp_path: str, pid: int) -> None:
    try:
        fd = os.open(temp_path, os.O_RDONLY)
    except OSError:
        return
    try:
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return  # a live save holds it
            except OSError:
                pass  # no locks on this file system
        age = time.time() - os.fstat(fd).st_mtime
        if not _process_alive(pid) or age > _STALE_AFTER:
            os.unlink(temp_path)
    except OSError:
        pass
    finally:
        os.close(fd)


def _process_alive(pid: int) -> bool:
    if os.name == "nt":
        return True  # os.kill(pid, 0) would terminate it there; rely on the age rule
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, and belongs to another user
    except (OSError, OverflowError, ValueError):
        return False
    return True


# ---------------------------------------------------------------------------------------
# Decoding: file -> Python object
# ---------------------------------------------------------------------------------------


def load(f: str | os.PathLike, map_location: Any = None, pickle_module: Any = None, *,
         weights_only: bool | None = None, mmap: bool | None = None, **pickle_load_args) -> Any:
    """Read a checkpoint written by ``save``. Tensors come back as Tensors (with their
    ``requires_grad``), ndarrays as ndarrays, tuples as tuples, int keys as ints.

    Raises ``CheckpointError`` (a ValueError) naming the path for a file that is not a
    minigrad checkpoint or is damaged; never unpickles anything. ``f`` is a path or an open
    binary file (``io.BytesIO``...) that can seek.

    PyTorch's arguments are accepted: ``map_location`` may be None, ``"cpu"``, a CPU device,
    a callable or a dict (everything is loaded on the CPU; a CUDA or MPS destination is an
    error); ``weights_only`` may be True or False, as loading is always pickle-free;
    ``mmap`` and ``encoding`` are accepted and change nothing.
    """
    unknown = set(pickle_load_args) - {"encoding"}
    if unknown:
        raise TypeError(f"load() got an unexpected keyword argument {sorted(unknown)[0]!r}")
    _check_map_location(map_location)
    if hasattr(f, "read"):  # an open binary file or an io.BytesIO (it must be seekable)
        name = getattr(f, "name", None)
        return _load_from(f, name if isinstance(name, str) else f"<{type(f).__name__}>")
    path = os.fsdecode(f)  # a str also for a bytes or PathLike path
    _remove_stale_temp_files(os.path.realpath(path))
    with open(path, "rb") as file:
        return _load_from(file, path)


def _load_from(file, path: str) -> Any:
    if file.read(len(_ZIP_MAGIC)) != _ZIP_MAGIC:
        raise CheckpointError(f"load: {path!r} is not a minigrad checkpoint (not an .npz "
                              "archive)")
    try:
        file_size = file.seek(0, os.SEEK_END)
        with zipfile.ZipFile(file) as archive:
            arrays = _Arrays(archive, _members(archive, file_size, path), path)
            structure = _read_structure(arrays.read(_STRUCTURE), path)
            return _decode(structure["object"], arrays, path)
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError, TypeError,
            RecursionError, NotImplementedError) as error:
        raise CheckpointError(
            f"load: {path!r} is damaged or not a minigrad checkpoint: "
            f"{type(error).__name__}: {error}"
        ) from error


def _check_map_location(map_location: Any) -> None:
    """Every tensor lives on the CPU: a destination that is the CPU is fine, any other one
    (``"cuda"``, ``"mps"``, ``{"cpu": "cuda:0"}``) is an error. In a dict, the keys name
    where the tensors were saved and only the values matter."""
    if map_location is None or callable(map_location):
        return  # a callable such as ``lambda storage, loc: storage`` keeps tensors on the CPU
    places = map_location.values() if isinstance(map_location, dict) else [map_location]
    for place in places:
        if str(place).split(":")[0].strip().lower() != "cpu":
            raise RuntimeError(
                f"load: map_location={map_location!r} asks for device {str(place)!r}, but "
                "minigrad runs on the CPU only; use map_location='cpu' or leave it out"
            )


def _members(archive: zipfile.ZipFile, file_size: int, path: str) -> dict[str, zipfile.ZipInfo]:
    """The archive's ``NAME.npy`` members by NAME, after checking what each declares
    against the file: a checkpoint stores its arrays uncompressed, so every byte an array
    will occupy in memory is really present in the file."""
    members: dict[str, zipfile.ZipInfo] = {}
    for info in archive.infolist():
        where = f"load: {path!r} has a member {info.filename!r}"
        if not info.filename.endswith(".npy"):
            raise CheckpointError(f"{where} that is not an .npy array")
        if info.compress_type != zipfile.ZIP_STORED or info.flag_bits & 0x1:
            raise CheckpointError(f"{where} that is compressed or encrypted (a checkpoint "
                                  "stores its arrays as they are)")
        if (info.file_size != info.compress_size
                or info.header_offset + info.compress_size > file_size):
            raise CheckpointError(f"{where} that declares {info.file_size} bytes, more than "
                                  f"the file holds ({file_size} bytes)")
        name = info.filename[:-len(".npy")]
        if name in members:
            raise CheckpointError(f"{where} that appears twice")
        members[name] = info
    if _STRUCTURE not in members:
        raise CheckpointError(
            f"load: {path!r} is an .npz archive but not a minigrad checkpoint (it has "
            f"no {_STRUCTURE!r} entry; its arrays are {list(members)[:5]})"
        )
    return members


class _Arrays:
    """The arrays of an open archive, each read (at most once) when the structure asks."""

    def __init__(self, archive: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo],
                 path: str):
        self.archive, self.members, self.path = archive, members, path
        self.used: set[str] = set()

    def __getitem__(self, name: Any) -> np.ndarray:
        if not isinstance(name, str) or name == _STRUCTURE or name not in self.members:
            raise CheckpointError(f"load: {self.path!r} refers to a missing array {name!r}")
        # save never shares an array between entries; a crafted structure naming one array
        # a million times could otherwise make a small file fill the memory.
        if name in self.used:
            raise CheckpointError(f"load: {self.path!r} refers to array {name!r} twice")
        self.used.add(name)
        return self.read(name)

    def read(self, name: str) -> np.ndarray:
        """The array stored as ``name``, read with our own parsing of the ``.npy`` header:
        its shape and dtype are checked against the member's size before allocating."""
        where = f"load: {self.path!r}: array {name!r}"
        with self.archive.open(self.members[name]) as member:
            version = np.lib.format.read_magic(member)  # ValueError if not .npy
            if version == (1, 0):
                shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(member)
            elif version == (2, 0):
                shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(member)
            else:
                raise CheckpointError(f"{where} has an unsupported .npy version {version}")
            # Only plain numbers (bool, integers, floats): no objects, so nothing to unpickle,
            # and no structured records.
            if dtype.kind not in _ARRAY_KINDS or dtype.fields is not None:
                raise CheckpointError(f"{where} has unsupported dtype {dtype}")
            if any(n < 0 for n in shape):
                raise CheckpointError(f"{where} has a negative size in its shape {shape}")
            count = math.prod(shape)  # a Python int: no overflow, however large
            data_size = self.members[name].file_size - member.tell()
            if count * dtype.itemsize != data_size:
                raise CheckpointError(
                    f"{where} declares shape {shape} of {dtype} ({count * dtype.itemsize} "
                    f"bytes) but the file holds {data_size} bytes for it"
                )
            array = np.empty(count, dtype=dtype)
            _read_exactly(member, array.view(np.uint8), where)
            if member.read(1):  # also makes zipfile check the CRC of everything read
                raise CheckpointError(f"{where} has bytes after its data")
        if not dtype.isnative:  # big-endian data (from another machine): native order
            array = array.astype(dtype.newbyteorder("="))
        if fortran_order:
            return array.reshape(shape[::-1]).transpose()
        return array.reshape(shape)


def _read_exactly(member, buffer: np.ndarray, where: str) -> None:
    """Fill ``buffer`` (bytes) from ``member``, a moderate chunk at a time (one huge read
    would hold a second copy of the data)."""
    chunk = 1 << 24
    for start in range(0, len(buffer), chunk):
        data = member.read(min(chunk, len(buffer) - start))
        if len(data) != min(chunk, len(buffer) - start):
            raise CheckpointError(f"{where} is truncated")
        buffer[start:start + len(data)] = np.frombuffer(data, dtype=np.uint8)


def _read_structure(header: np.ndarray, path: str) -> dict:
    if header.dtype != np.uint8 or header.ndim != 1:
        raise CheckpointError(f"load: {path!r} has a malformed {_STRUCTURE!r} entry")
    try:
        structure = json.loads(header.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise CheckpointError(f"load: {path!r} has a corrupt structure: {error}") from error
    if not isinstance(structure, dict) or structure.get("format") != FORMAT:
        raise CheckpointError(f"load: {path!r} is not a minigrad checkpoint")
    if structure.get("version") != VERSION:
        raise CheckpointError(
            f"load: {path!r} is a checkpoint of version {structure.get('version')!r}; this "
            f"minigrad reads version {VERSION}"
        )
    return structure


def _decode(node: Any, arrays: _Arrays, path: str) -> Any:
    if node is None or isinstance(node, bool | int | float | str):
        return node
    kind = node.get("type") if isinstance(node, dict) else None
    if kind in ("dict", "ordered_dict"):
        result = {} if kind == "dict" else OrderedDict()
        for key_type, key, value in node["items"]:
            if key_type == "int" and isinstance(key, int):
                key = int(key)
            elif not (key_type == "str" and isinstance(key, str)):
                raise CheckpointError(f"load: {path!r} has a malformed dict key {key!r}")
            result[key] = _decode(value, arrays, path)
        return result
    if kind in ("list", "tuple"):
        items = [_decode(value, arrays, path) for value in node["items"]]
        return items if kind == "list" else tuple(items)
    if kind == "tensor":
        array = arrays[node["array"]]
        if array.dtype.kind == "f" and array.dtype not in (np.float32, np.float64):
            array = to_array(array)  # as Tensor() does: float16, long double -> float32
        t = Tensor.wrap(array)
        return t.requires_grad_(True) if node.get("requires_grad") else t
    if kind == "ndarray":
        return arrays[node["array"]]
    if kind == "scalar":
        return arrays[node["array"]][()]
    raise CheckpointError(f"load: {path!r} has an unknown entry of type {kind!r}")
