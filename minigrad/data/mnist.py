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
_CHUNK = 1 << 20  # bytes read (and decompressed) at a time


def _read_at_most(stream, size: int) -> bytearray:
    """Up to ``size`` bytes of ``stream``, fewer at its end. Read a chunk at a time so that
    memory grows with the data really there, not with a size a header claims."""
    data = bytearray()
    while len(data) < size:
        chunk = stream.read(min(_CHUNK, size - len(data)))
        if not chunk:
            break
        data += chunk
    return data


def read_idx(path: str | os.PathLike, ndim: int) -> np.ndarray:
    """The uint8 array stored in the IDX file at ``path`` (gzipped or not), which must have
    ``ndim`` dimensions. Raises ``ValueError`` naming the file for a bad magic number, a
    truncated file or bytes left over.

    A gzipped file is decompressed as it is read, and never beyond one byte more than its
    header declares: a small file that inflates to gigabytes is refused early."""
    path = Path(path)
    with open(path, "rb") as file:
        compressed = file.read(len(_GZIP_MAGIC)) == _GZIP_MAGIC
        file.seek(0)
        stream = gzip.GzipFile(fileobj=file, mode="rb") if compressed else file
        try:
            # The exact size is known without reading only for a plain file.
            size = None if compressed else os.fstat(file.fileno()).st_size
            return _parse_idx(stream, path, ndim, size)
        except (OSError, EOFError, zlib.error) as error:
            if not compressed:
                raise
            raise ValueError(
                f"load_mnist: cannot decompress {path} ({error}); the gzip file is truncated "
                "or damaged"
            ) from None


def _parse_idx(stream, path: Path, ndim: int, file_size: int | None) -> np.ndarray:
    header_size = 4 + 4 * ndim
    header = _read_at_most(stream, header_size)
    expected_magic = bytes([0, 0, _UNSIGNED_BYTE, ndim])
    if header[:4] != expected_magic:
        raise ValueError(
            f"load_mnist: bad magic number 0x{header[:4].hex()} in {path}: expected "
            f"0x{expected_magic.hex()} (an unsigned-byte IDX file with {ndim} dimension"
            f"{'s' if ndim > 1 else ''})"
        )
    if len(header) < header_size:
        raise ValueError(
            f"load_mnist: {path} is truncated: {len(header)} bytes, shorter than its "
            f"{header_size}-byte header"
        )
    shape = struct.unpack(f">{ndim}I", header[4:])
    expected_size = math.prod(shape)
    body = _read_at_most(stream, expected_size + 1)  # one byte more reveals bytes left over
    if len(body) != expected_size:
        if len(body) < expected_size:
            problem, found = "is truncated", f"{len(body)} bytes follow"
        elif file_size is not None:
            problem, found = "has bytes left over", f"{file_size - header_size} bytes follow"
        else:  # we stopped decompressing there: the rest could be gigabytes
            problem, found = "has bytes left over", f"more than {expected_size} bytes follow"
        raise ValueError(
            f"load_mnist: {path} {problem}: its header gives shape {shape}, "
            f"{expected_size} values, but {found} the header"
        )
    return np.frombuffer(body, dtype=np.uint8).reshape(shape)  # writable: a bytearray


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
