"""DataLoader: a dataset, cut into batches, one epoch per ``for`` loop.

The three gradient-descent regimes are one argument apart:

    DataLoader(ds, batch_size=None)              # batch: the whole dataset every step
    DataLoader(ds, batch_size=64, shuffle=True)  # mini-batch
    DataLoader(ds, batch_size=1, shuffle=True)   # stochastic: one sample per step
"""

from __future__ import annotations

import numbers
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from minigrad.data.dataset_classes import (
    Dataset,
    SeedLike,
    as_tensor,
    generator_from_seed,
    tensor_source,
)
from minigrad.functions import stack
from minigrad.tensor import Tensor


def default_collate(samples: Sequence[Any]) -> Any:
    """Turn a list of samples into one batch: Tensors, arrays and numbers are stacked along a
    new first dimension into a Tensor; tuples, lists, named tuples and dicts keep their form
    and each field is batched the same way.

    Dtypes are kept (float64 stays float64); Python ints become int64 and Python floats
    float32, minigrad's default (PyTorch would give float64 for Python floats).
    """
    if len(samples) == 0:
        raise ValueError("default_collate: no samples to batch")
    first = samples[0]
    if isinstance(first, Tensor | np.ndarray | np.generic):
        if any(isinstance(s, Tensor) and s.requires_grad for s in samples):
            return stack(list(samples))  # keeps the graph to the samples
        arrays = [s.array if isinstance(s, Tensor) else np.asarray(s) for s in samples]
        shapes = {a.shape for a in arrays}
        if len(shapes) > 1:
            raise ValueError(
                f"default_collate: cannot stack samples of different shapes {sorted(shapes)}; "
                "pass a collate_fn that pads or keeps them apart"
            )
        return as_tensor(np.stack(arrays))
    if isinstance(first, bool):
        return Tensor.wrap(np.array(samples, dtype=np.bool_))
    if isinstance(first, numbers.Integral):
        return Tensor.wrap(np.array(samples, dtype=np.int64))
    if isinstance(first, numbers.Real):
        return Tensor.wrap(np.array(samples, dtype=np.float32))
    if isinstance(first, Mapping):
        return {key: default_collate([s[key] for s in samples]) for key in first}
    if isinstance(first, Sequence) and not isinstance(first, str | bytes):
        sizes = {len(s) for s in samples}
        if len(sizes) > 1:
            raise ValueError(
                f"default_collate: samples have different numbers of fields {sorted(sizes)}"
            )
        fields = [default_collate([s[i] for s in samples]) for i in range(len(first))]
        if isinstance(first, tuple) and hasattr(first, "_fields"):  # a named tuple
            return type(first)(*fields)
        return tuple(fields) if isinstance(first, tuple) else fields
    raise TypeError(
        f"default_collate: cannot batch samples of type {type(first).__name__}; samples "
        "should be numbers, arrays, Tensors, or tuples/lists/dicts of them (or pass collate_fn)"
    )


class DataLoader:
    """Iterate over a dataset in batches: ``for X, y in loader:``, one epoch per loop.

    Args:
        dataset: a ``Dataset`` (e.g. ``TensorDataset(X, y)``).
        batch_size: samples per batch. ``None`` means **full batch**: the whole dataset as
            one batch each epoch (plain gradient descent). This is a deliberate difference
            from PyTorch, where ``batch_size=None`` means "do not batch at all". ``k`` gives
            mini-batches of ``k`` samples, ``1`` gives stochastic gradient descent.
        shuffle: draw a new random order of the samples at the start of every epoch.
        drop_last: leave out the last batch when it has fewer than ``batch_size`` samples.
        seed: the order of the epochs. Two loaders with the same seed give the same sequence
            of epochs (each epoch still different from the one before). With ``None`` the
            order comes from minigrad's generator, so ``mg.manual_seed`` makes it repeatable.
            A ``numpy.random.Generator`` is also accepted and used as is.
        collate_fn: turns a list of samples into a batch; default ``default_collate``.

    ``len(loader)`` is the number of batches per epoch. A ``TensorDataset`` (or a ``Subset``
    of one), with the default ``collate_fn``, is batched with one vectorized index per batch
    and per tensor, and yields a tuple of Tensors. Any other dataset is read sample by
    sample and the samples go through ``collate_fn``. Batches are new arrays: changing one
    does not change the dataset.
    """

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int | None = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        seed: SeedLike = None,
        collate_fn: Callable[[list], Any] | None = None,
    ):
        if not isinstance(dataset, Dataset):
            raise TypeError(
                f"DataLoader: dataset must be a minigrad.data.Dataset, got "
                f"{type(dataset).__name__}; wrap arrays as TensorDataset(X, y)"
            )
        if batch_size is not None:
            if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral):
                raise TypeError(
                    f"DataLoader: batch_size must be a positive integer or None (full batch), "
                    f"got {batch_size!r}"
                )
            if batch_size <= 0:
                raise ValueError(
                    f"DataLoader: batch_size must be a positive integer or None (full batch), "
                    f"got {batch_size}"
                )
            if batch_size > sys.maxsize:  # no dataset is longer: len() stops at sys.maxsize
                raise ValueError(
                    f"DataLoader: batch_size must be at most sys.maxsize ({sys.maxsize}), got "
                    f"a {int(batch_size).bit_length()}-bit number; for one batch of the whole "
                    "dataset use batch_size=None"
                )
            batch_size = int(batch_size)
        if shuffle is None:  # as PyTorch, whose default it is
            shuffle = False
        for name, flag in (("shuffle", shuffle), ("drop_last", drop_last)):
            if not isinstance(flag, bool | np.bool_):
                raise ValueError(f"DataLoader: {name} must be True or False, got {flag!r}")
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(f"DataLoader: collate_fn must be callable, got {collate_fn!r}")
        # An integer seed gets its own generator now, so the sequence of epochs is fixed.
        self._generator = None if seed is None else generator_from_seed(seed, "DataLoader")
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.seed = seed
        self.collate_fn = collate_fn

    def __len__(self) -> int:
        return self._number_of_batches(len(self.dataset))

    def _number_of_batches(self, n: int) -> int:
        if self.batch_size is None:
            return 1 if n > 0 else 0
        if self.drop_last:
            return n // self.batch_size
        return -(-n // self.batch_size)  # ⌈n / batch_size⌉ in integers (a float rounds)

    def _batch_bounds(self, n: int) -> list[tuple[int, int]]:
        """(start, stop) of each batch, as positions in the epoch's order."""
        size = n if self.batch_size is None else self.batch_size
        return [(b * size, min((b + 1) * size, n)) for b in range(self._number_of_batches(n))]

    def __iter__(self) -> Iterator[Any]:
        n = len(self.dataset)
        order = None
        if self.shuffle:  # drawn now, so each iter(loader) is a new epoch
            generator = self._generator
            if generator is None:  # looked up now, so a later mg.manual_seed takes effect
                generator = generator_from_seed(None, "DataLoader")
            order = generator.permutation(n)
        source = tensor_source(self.dataset) if self.collate_fn is None else None
        if source is not None:
            return self._tensor_batches(*source, order, n)
        return self._sample_batches(order, n)

    def _tensor_batches(
        self, tensors: tuple[Tensor, ...], rows: np.ndarray | None, order: np.ndarray | None,
        n: int,
    ) -> Iterator[tuple[Tensor, ...]]:
        for start, stop in self._batch_bounds(n):
            index = slice(start, stop) if order is None else order[start:stop]
            if rows is not None:
                index = rows[index]
            yield tuple(_take_rows(t, index) for t in tensors)

    def _sample_batches(self, order: np.ndarray | None, n: int) -> Iterator[Any]:
        collate = self.collate_fn or default_collate
        for start, stop in self._batch_bounds(n):
            positions = range(start, stop) if order is None else order[start:stop].tolist()
            yield collate([self.dataset[i] for i in positions])

    def __repr__(self) -> str:
        return (
            f"DataLoader({self.dataset!r}, batch_size={self.batch_size}, "
            f"shuffle={self.shuffle}, drop_last={self.drop_last}, seed={self.seed!r})"
        )


def _take_rows(t: Tensor, index: slice | np.ndarray) -> Tensor:
    """Rows ``index`` of ``t`` as a new Tensor: one NumPy indexing for the whole batch."""
    if t.requires_grad:
        return t[index]  # recorded, so gradients reach the dataset's tensor
    if isinstance(index, slice):
        return Tensor.wrap(t.array[index].copy())
    return Tensor.wrap(t.array[index])
