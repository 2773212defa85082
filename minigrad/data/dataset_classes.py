"""Dataset classes: a dataset is anything with a length that gives one sample per index.

    X, y = load_digits()
    full = TensorDataset(X, y)              # full[i] == (X[i], y[i]) as Tensors
    train, val = random_split(full, [0.8, 0.2], seed=0)
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from minigrad import rng
from minigrad.tensor import Tensor, to_array

SeedLike = int | np.random.Generator | None

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def generator_from_seed(seed: SeedLike, where: str) -> np.random.Generator:
    """The random generator behind ``seed=``: a fresh one for an integer, the given one for a
    ``numpy.random.Generator``, and minigrad's global one (``mg.manual_seed``) for ``None``."""
    if seed is None:
        return rng.generator()
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(
            f"{where}: seed must be None, a non-negative integer or a numpy.random.Generator, "
            f"got {seed!r}"
        )
    return np.random.default_rng(int(seed))


def as_tensor(data: Any) -> Tensor:
    """``data`` as a Tensor, sharing memory with a NumPy array when its dtype is supported
    (as ``torch.from_numpy``): a 60,000-image dataset is not copied just to be wrapped."""
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray) and (data.dtype.kind in "iub" or data.dtype in _FLOATS):
        return Tensor.wrap(data)
    return Tensor.wrap(to_array(data))


class Dataset:
    """A map-style dataset: ``len(dataset)`` samples, ``dataset[i]`` is the i-th one.

    Subclass it and define ``__len__`` and ``__getitem__(i)``, returning one sample
    (usually a tuple such as ``(features, label)``; numbers, arrays and Tensors are fine).
    """

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")


class TensorDataset(Dataset):
    """Samples are rows: ``dataset[i] == (t[i] for t in tensors)``, as a tuple of Tensors.

    ``TensorDataset(X, y)`` takes Tensors or NumPy arrays with the same first dimension.
    Arrays are wrapped without copying and keep their dtype (float64 stays float64, int64
    labels stay int64). ``DataLoader`` batches it with one vectorized index per batch.
    """

    def __init__(self, *tensors: Tensor | np.ndarray):
        if not tensors:
            raise ValueError("TensorDataset: needs at least one tensor or array")
        tensors = tuple(as_tensor(t) for t in tensors)
        for position, t in enumerate(tensors):
            if t.ndim == 0:
                raise ValueError(
                    f"TensorDataset: argument {position} is a scalar (shape ()); every tensor "
                    "needs a first dimension that indexes the samples"
                )
        lengths = [t.shape[0] for t in tensors]
        if len(set(lengths)) > 1:
            shapes = ", ".join(str(t.shape) for t in tensors)
            raise ValueError(
                f"TensorDataset: all tensors must have the same first dimension, got lengths "
                f"{lengths} (shapes {shapes})"
            )
        self.tensors: tuple[Tensor, ...] = tensors

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def __getitem__(self, index: int) -> tuple[Tensor, ...]:
        # np.asarray: a row of a 1-D array is a NumPy scalar; a Tensor holds an ndarray
        return tuple(t[index] if t.requires_grad else Tensor.wrap(np.asarray(t.array[index]))
                     for t in self.tensors)

    def __repr__(self) -> str:
        shapes = ", ".join(f"{t.shape} {t.dtype}" for t in self.tensors)
        return f"TensorDataset({shapes})"


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order: ``subset[i]`` is
    ``dataset[indices[i]]``."""

    def __init__(self, dataset: Dataset, indices: Sequence[int] | np.ndarray):
        if not isinstance(dataset, Dataset):
            raise TypeError(
                f"Subset: dataset must be a minigrad.data.Dataset, got {type(dataset).__name__}"
            )
        indices = np.asarray(indices)
        if indices.size == 0:
            indices = indices.astype(np.int64)
        if indices.ndim != 1 or indices.dtype.kind not in "iu":
            raise TypeError(
                f"Subset: indices must be a 1-D sequence of integers, got dtype "
                f"{indices.dtype} and shape {indices.shape}"
            )
        n = len(dataset)
        outside = indices[(indices < 0) | (indices >= n)]
        if outside.size:
            raise IndexError(
                f"Subset: indices must be in [0, {n}) for a dataset of {n} samples, got "
                f"{outside[:5].tolist()}{' ...' if outside.size > 5 else ''}"
            )
        self.dataset = dataset
        self.indices: np.ndarray = indices.astype(np.int64)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: int) -> Any:
        return self.dataset[int(self.indices[index])]

    def __repr__(self) -> str:
        return f"Subset({len(self)} of {self.dataset!r})"


def tensor_source(dataset: Dataset) -> tuple[tuple[Tensor, ...], np.ndarray | None] | None:
    """For a ``TensorDataset``, or a ``Subset`` (of a ``Subset`` ...) of one: its tensors and
    the row of each sample in them (``None`` means rows 0..n-1). Otherwise ``None``.

    This is what lets ``DataLoader`` take a whole batch from each tensor with one index."""
    rows = None
    while isinstance(dataset, Subset):
        rows = dataset.indices if rows is None else dataset.indices[rows]
        dataset = dataset.dataset
    if type(dataset) is not TensorDataset:  # a subclass may override __getitem__
        return None
    return dataset.tensors, rows


def _split_lengths(n: int, lengths: Sequence[float]) -> list[int]:
    """Counts as given; fractions become counts with PyTorch's rounding: floor each, then
    hand the samples left over to the splits one at a time, round-robin from the first."""
    lengths = list(lengths)
    if not lengths:
        raise ValueError("random_split: lengths is empty")
    for value in lengths:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"random_split: lengths must be numbers, got {lengths!r}")
    if all(isinstance(value, numbers.Integral) for value in lengths):
        counts = [int(value) for value in lengths]
        if any(count < 0 for count in counts):
            raise ValueError(f"random_split: lengths must not be negative, got {counts}")
        if sum(counts) != n:
            raise ValueError(
                f"random_split: lengths {counts} add up to {sum(counts)}, but the dataset "
                f"has {n} samples"
            )
        return counts
    fractions = [float(value) for value in lengths]
    if any(not 0.0 <= f <= 1.0 for f in fractions) or not math.isclose(sum(fractions), 1.0):
        raise ValueError(
            f"random_split: fractions {fractions} must each be in [0, 1] and add up to 1 "
            f"(they add up to {sum(fractions)}); or give integer counts adding up to {n}"
        )
    counts = [math.floor(n * f) for f in fractions]
    for i in range(n - sum(counts)):
        counts[i % len(counts)] += 1
    return counts


def random_split(
    dataset: Dataset, lengths: Sequence[float], seed: SeedLike = None
) -> list[Subset]:
    """Split ``dataset`` at random into disjoint ``Subset``s that together hold every sample.

    ``lengths`` are counts adding up to ``len(dataset)`` (``[800, 200]``) or fractions adding
    up to 1 (``[0.8, 0.2]``; rounded as PyTorch does: floor, then one more sample to each
    split in turn, from the first, until all are placed). ``seed`` makes the split
    reproducible; with ``None`` it comes from minigrad's generator (``mg.manual_seed``).
    """
    if not isinstance(dataset, Dataset):
        raise TypeError(
            f"random_split: dataset must be a minigrad.data.Dataset, got "
            f"{type(dataset).__name__}"
        )
    counts = _split_lengths(len(dataset), lengths)
    order = generator_from_seed(seed, "random_split").permutation(len(dataset))
    ends = np.cumsum(counts)
    return [Subset(dataset, order[end - count:end]) for count, end in zip(counts, ends)]
