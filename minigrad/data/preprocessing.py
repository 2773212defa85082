"""Getting arrays ready for training: a train/test split and feature standardization.

    X, y = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y, seed=0)
    X_train, X_test = standardize(X_train, X_test)   # statistics from the training part only
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from minigrad.data.dataset_classes import SeedLike, generator_from_seed
from minigrad.tensor import Tensor


def _length(a: Any) -> int:
    shape = a.shape if isinstance(a, Tensor | np.ndarray) else np.shape(a)
    if len(shape) == 0:
        raise ValueError("train_test_split: got a scalar; every argument needs a first dimension")
    return shape[0]


def _take(a: Any, index: np.ndarray) -> Any:
    """Rows ``index`` of ``a``, of the same kind: a Tensor for a Tensor, else an ndarray."""
    if isinstance(a, Tensor):
        return Tensor.wrap(a.array[index])
    return np.asarray(a)[index]


def _test_count(test_size: float, n: int) -> int:
    if isinstance(test_size, bool) or not isinstance(test_size, numbers.Real):
        raise TypeError(f"train_test_split: test_size must be a number, got {test_size!r}")
    if isinstance(test_size, numbers.Integral):
        n_test = int(test_size)
    elif 0.0 < test_size < 1.0:
        n_test = math.ceil(test_size * n)  # as scikit-learn: the test part is rounded up
    else:
        raise ValueError(
            f"train_test_split: a fractional test_size must be in (0, 1), got {test_size}"
        )
    if not 0 < n_test < n:
        raise ValueError(
            f"train_test_split: test_size={test_size!r} gives {n_test} test and {n - n_test} "
            f"training samples out of {n}; both parts need at least one"
        )
    return n_test


def _apportion(class_counts: np.ndarray, total: int) -> np.ndarray:
    """Share ``total`` among the classes in proportion to their counts, in whole numbers
    (largest remainders): each class gets ``floor(total * count / n)``, and the samples left
    over go one each to the classes with the largest fractional parts (ties: larger class
    first, then the smaller label). Integer arithmetic, so ties are exact."""
    n = int(class_counts.sum())
    shares = class_counts * total
    counts, remainders = shares // n, shares % n
    left_over = total - int(counts.sum())
    priority = np.lexsort((np.arange(len(class_counts)), -class_counts, -remainders))
    counts[priority[:left_over]] += 1
    return counts


def train_test_split(
    *arrays: Any, test_size: float = 0.25, stratify: Any = None, seed: SeedLike = None
) -> tuple:
    """Shuffle the samples and split every array the same way into a training and a test part.

    Returns ``(a_train, a_test, b_train, b_test, ...)``: Tensors for Tensors, NumPy arrays for
    anything else. ``test_size`` is a fraction in (0, 1) (the test count is rounded up, as in
    scikit-learn) or a number of samples.

    ``stratify=labels`` keeps each class's share the same in both parts: the test count of a
    class with ``n_c`` of the ``n`` samples is ``n_test * n_c / n`` rounded so that the counts
    add up to ``n_test`` (largest remainders; exact when the division is exact).
    ``seed`` makes the split reproducible; with ``None`` it follows ``mg.manual_seed``.
    """
    if not arrays:
        raise ValueError("train_test_split: give at least one array to split")
    lengths = [_length(a) for a in arrays]
    if len(set(lengths)) > 1:
        raise ValueError(f"train_test_split: all arrays must have the same length, got {lengths}")
    n = lengths[0]
    n_test = _test_count(test_size, n)
    generator = generator_from_seed(seed, "train_test_split")

    if stratify is None:
        order = generator.permutation(n)
        test, train = order[:n_test], order[n_test:]
    else:
        labels = stratify.array if isinstance(stratify, Tensor) else np.asarray(stratify)
        if labels.shape != (n,):
            raise ValueError(
                f"train_test_split: stratify must be labels of shape ({n},), got shape "
                f"{labels.shape}"
            )
        _, class_of, class_counts = np.unique(labels, return_inverse=True, return_counts=True)
        test_counts = _apportion(class_counts, n_test)
        test_parts, train_parts = [], []
        for c, n_c_test in enumerate(test_counts):
            members = generator.permutation(np.flatnonzero(class_of == c))
            test_parts.append(members[:n_c_test])
            train_parts.append(members[n_c_test:])
        # mixed again, so neither part comes out sorted by class
        test = generator.permutation(np.concatenate(test_parts))
        train = generator.permutation(np.concatenate(train_parts))

    return tuple(part for a in arrays for part in (_take(a, train), _take(a, test)))


class Standardizer:
    """Rescale each feature to mean 0 and standard deviation 1 on the training data:
    ``z = (x - mean) / std``, with ``mean`` and ``std`` (population, ``ddof=0``) measured once
    by ``fit(train)`` and then applied unchanged to any data by ``transform``.

    A feature that is constant on the training data (``std == 0``, e.g. a pixel that is
    always blank) is only centred: its scale is taken as 1, so it becomes 0 instead of NaN.
    Float inputs keep their dtype, integer inputs become float32; Tensors give Tensors.
    """

    def __init__(self) -> None:
        self.mean: np.ndarray | None = None
        self.std: np.ndarray | None = None  # the scale used: 1 for constant features

    def fit(self, train: Any) -> Standardizer:
        x = _float_array(train, "Standardizer.fit").astype(np.float64)
        if x.ndim == 0 or x.shape[0] == 0:
            raise ValueError(
                f"Standardizer.fit: needs at least one sample, got shape {x.shape}"
            )
        constant = x.max(axis=0) == x.min(axis=0)
        self.mean = x.mean(axis=0)
        self.std = np.where(constant, 1.0, x.std(axis=0))
        return self

    def transform(self, x: Any) -> Any:
        array = self._checked(x, "transform")
        z = ((array - self.mean) / self.std).astype(array.dtype)
        return Tensor.wrap(z) if isinstance(x, Tensor) else z

    def inverse_transform(self, z: Any) -> Any:
        array = self._checked(z, "inverse_transform")
        x = (array * self.std + self.mean).astype(array.dtype)
        return Tensor.wrap(x) if isinstance(z, Tensor) else x

    def fit_transform(self, train: Any) -> Any:
        return self.fit(train).transform(train)

    def _checked(self, x: Any, method: str) -> np.ndarray:
        if self.mean is None:
            raise RuntimeError(f"Standardizer.{method}: call fit(train) first")
        array = _float_array(x, f"Standardizer.{method}")
        if array.shape[1:] != self.mean.shape:
            raise ValueError(
                f"Standardizer.{method}: samples of shape {array.shape[1:]} (data shape "
                f"{array.shape}), but it was fitted on samples of shape {self.mean.shape}"
            )
        return array


def _float_array(x: Any, where: str) -> np.ndarray:
    array = x.array if isinstance(x, Tensor) else np.asarray(x)
    if array.dtype.kind in "iub":
        return array.astype(np.float32)
    if array.dtype.kind != "f":
        raise TypeError(f"{where}: expected numbers, got data of dtype {array.dtype}")
    return array


def standardize(train: Any, *others: Any) -> tuple:
    """``(train_z, *others_z)``: every array standardized with the mean and std of ``train``
    (see ``Standardizer``). ``X_train, X_test = standardize(X_train, X_test)``."""
    scaler = Standardizer().fit(train)
    return tuple(scaler.transform(x) for x in (train, *others))
