"""Checkpoints: ``save(obj, path)`` and ``load(path)``, without pickle.

A checkpoint is a NumPy ``.npz`` archive (a zip of ``.npy`` files):

* every Tensor and ndarray of ``obj`` is one array, ``a0``, ``a1``, ...;
* ``__minigrad__`` holds the structure as UTF-8 JSON: the nested dicts, lists and tuples,
  the plain values (int, float, bool, str, None), and for each array its name.

Loading reads the arrays with ``allow_pickle=False`` and parses JSON, so a file can never
run code: an archive carrying pickled (object) arrays is refused with an error.

Writes are atomic: the archive goes to a temporary file in the same directory, is flushed
and fsync'ed, and then ``os.replace`` puts it in place in one step. A crash or a kill in the
middle of ``save`` leaves the previous file at ``path`` intact.
"""

from __future__ import annotations

import json
import os
import secrets
import zipfile
from collections import OrderedDict
from typing import Any

import numpy as np

from minigrad.tensor import Tensor

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
        array = np.asarray(obj.data if isinstance(obj, Tensor) else obj)
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


def save(obj: Any, path: str | os.PathLike) -> None:
    """Save ``obj`` (nested dicts with str or int keys, lists and tuples of Tensors, ndarrays,
    int, float, bool, str and None) to ``path``, atomically.

    Typically ``save({"model": model.state_dict(), "optimizer": opt.state_dict()}, path)``.
    The whole object is checked before anything is written.
    """
    arrays: dict[str, np.ndarray] = {}
    structure = {"format": FORMAT, "version": VERSION, "object": _encode(obj, arrays, "obj")}
    header = np.frombuffer(json.dumps(structure).encode("utf-8"), dtype=np.uint8)

    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    # A new file, created with the usual permissions (0o666 minus the umask).
    temp_path = os.path.join(
        directory, f".{os.path.basename(path)}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    )
    fd = os.open(temp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                 0o666)
    try:
        with os.fdopen(fd, "wb") as file:
            np.savez(file, **{_STRUCTURE: header}, **arrays)
            file.flush()
            os.fsync(file.fileno())  # the bytes are on disk before the name points at them
        os.replace(temp_path, path)  # atomic: readers see the old file or the new one
    except BaseException:
        try:
            os.unlink(temp_path)
        except OSError:
            pass
        raise
    _fsync_directory(directory)


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
# Decoding: file -> Python object
# ---------------------------------------------------------------------------------------


def load(path: str | os.PathLike) -> Any:
    """Read a checkpoint written by ``save``. Tensors come back as Tensors (with their
    ``requires_grad``), ndarrays as ndarrays, tuples as tuples, int keys as ints.

    Raises ``CheckpointError`` (a ValueError) naming the path for a file that is not a
    minigrad checkpoint or is damaged; never unpickles anything.
    """
    path = os.fspath(path)
    with open(path, "rb") as file:
        magic = file.read(len(_ZIP_MAGIC))
    if magic != _ZIP_MAGIC:
        raise CheckpointError(f"load: {path!r} is not a minigrad checkpoint (not an .npz "
                              "archive)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            if _STRUCTURE not in archive.files:
                raise CheckpointError(
                    f"load: {path!r} is an .npz archive but not a minigrad checkpoint (it has "
                    f"no {_STRUCTURE!r} entry; its arrays are {archive.files[:5]})"
                )
            structure = _read_structure(archive[_STRUCTURE], path)
            arrays = _Arrays(archive, path)
            return _decode(structure["object"], arrays, path)
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError, TypeError,
            RecursionError) as error:
        raise CheckpointError(
            f"load: {path!r} is damaged or not a minigrad checkpoint: "
            f"{type(error).__name__}: {error}"
        ) from error


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


class _Arrays:
    """The arrays of an open archive, read one at a time with pickle refused."""

    def __init__(self, archive, path: str):
        self.archive, self.path = archive, path

    def __getitem__(self, name: Any) -> np.ndarray:
        if not isinstance(name, str) or name == _STRUCTURE or name not in self.archive.files:
            raise CheckpointError(f"load: {self.path!r} refers to a missing array {name!r}")
        array = self.archive[name]  # allow_pickle=False: object arrays raise ValueError
        if array.dtype.kind not in _ARRAY_KINDS:
            raise CheckpointError(f"load: {self.path!r} holds array {name!r} of unsupported "
                                  f"dtype {array.dtype}")
        return array


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
        t = Tensor._make(arrays[node["array"]])
        return t.requires_grad_(True) if node.get("requires_grad") else t
    if kind == "ndarray":
        return arrays[node["array"]]
    if kind == "scalar":
        return arrays[node["array"]][()]
    raise CheckpointError(f"load: {path!r} has an unknown entry of type {kind!r}")
