"""Reading MNIST (and other unsigned-byte IDX files) from a local folder.

An IDX file is a 4-byte magic number ``00 00 08 d`` (``08``: unsigned bytes, ``d``: the
number of dimensions), then ``d`` big-endian 32-bit sizes, then the values, row-major.
MNIST is four such files: images of shape (N, 28, 28) and labels of shape (N,), for the
training set (``train-``) and the test set (``t10k-``).
"""

from __future__ import annotations

import gzip
import math
import os
import struct
import zlib
from pathlib import Path

import numpy as np

_UNSIGNED_BYTE = 0x08
_GZIP_MAGIC = b"\x1f\x8b"


def _read_bytes(path: Path) -> bytes:
    with open(path, "rb") as f:
        raw = f.read()
    if not raw.startswith(_GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as error:
        raise ValueError(
            f"load_mnist: cannot decompress {path} ({error}); the gzip file is truncated "
            "or damaged"
        ) from None


def read_idx(path: str | os.PathLike, ndim: int) -> np.ndarray:
    """The uint8 array stored in the IDX file at ``path`` (gzipped or not), which must have
    ``ndim`` dimensions. Raises ``ValueError`` naming the file for a bad magic number, a
    truncated file or bytes left over."""
    path = Path(path)
    raw = _read_bytes(path)
    expected_magic = bytes([0, 0, _UNSIGNED_BYTE, ndim])
    if raw[:4] != expected_magic:
        raise ValueError(
            f"load_mnist: bad magic number 0x{raw[:4].hex()} in {path}: expected "
            f"0x{expected_magic.hex()} (an unsigned-byte IDX file with {ndim} dimension"
            f"{'s' if ndim > 1 else ''})"
        )
    header_size = 4 + 4 * ndim
    if len(raw) < header_size:
        raise ValueError(
            f"load_mnist: {path} is truncated: {len(raw)} bytes, shorter than its "
            f"{header_size}-byte header"
        )
    shape = struct.unpack(f">{ndim}I", raw[4:header_size])
    expected_size = math.prod(shape)
    body = raw[header_size:]
    if len(body) != expected_size:
        problem = "is truncated" if len(body) < expected_size else "has bytes left over"
        raise ValueError(
            f"load_mnist: {path} {problem}: its header gives shape {shape}, "
            f"{expected_size} values, but {len(body)} bytes follow the header"
        )
    return np.frombuffer(body, dtype=np.uint8).reshape(shape).copy()  # copy: writable


def _find(folder: Path, stem: str, kind: str) -> Path:
    """The first existing file for ``stem`` (e.g. ``train-images-idx3-ubyte``): plain or
    ``.gz``, with the usual dash or the ``.idx3`` spelling, in ``folder`` or in the
    ``MNIST/raw`` folder that torchvision creates there."""
    names = [stem, stem + ".gz"]
    dotted = stem.replace(f"-{kind}-idx", f"-{kind}.idx")
    names += [dotted, dotted + ".gz"]
    for where in (folder, folder / "MNIST" / "raw"):
        for name in names:
            if (where / name).is_file():
                return where / name
    raise FileNotFoundError(
        f"load_mnist: no {kind} file in {folder} (nor in {folder / 'MNIST' / 'raw'}); "
        f"looked for {', '.join(names)}"
    )


def load_mnist(path: str | os.PathLike, train: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """MNIST (or Fashion-MNIST, same format) from the IDX files in the folder ``path``.

    Returns ``(X, y)``: ``X`` uint8 of shape (N, 28, 28) with pixel values 0..255, ``y``
    int64 of shape (N,). ``train=True`` reads ``train-images-idx3-ubyte`` and
    ``train-labels-idx1-ubyte`` (60,000 images), ``train=False`` the ``t10k-`` files
    (10,000 images); each may be gzipped (``.gz``). Nothing is downloaded.

    Scale before training, e.g. ``X.reshape(len(X), -1).astype(np.float32) / 255``.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise FileNotFoundError(f"load_mnist: {folder} is not a folder")
    prefix = "train" if train else "t10k"
    images_path = _find(folder, f"{prefix}-images-idx3-ubyte", "images")
    labels_path = _find(folder, f"{prefix}-labels-idx1-ubyte", "labels")
    images = read_idx(images_path, ndim=3)
    labels = read_idx(labels_path, ndim=1).astype(np.int64)
    if len(images) != len(labels):
        raise ValueError(
            f"load_mnist: {images_path} has {len(images)} images but {labels_path} has "
            f"{len(labels)} labels"
        )
    return images, labels
