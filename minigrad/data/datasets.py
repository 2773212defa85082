"""Small datasets to train on: 2-D toy problems to see a classifier learn, a regression
problem with a known answer, and two real image datasets.

Every generator returns ``(X, y)`` as NumPy arrays: ``X`` float32 of shape
(n_samples, n_features); ``y`` int64 class labels (classification) or float32 targets
(regression). ``n_samples`` is the total over all classes. ``noise`` is the standard
deviation of Gaussian noise added to the points (to the targets for ``make_regression``).
``seed`` makes the data reproducible; with ``None`` it follows ``mg.manual_seed``.
The clean points are drawn before the noise, so the same seed with a different ``noise``
gives the same points, moved by different amounts.
"""

from __future__ import annotations

import numbers
from importlib import resources

import numpy as np

from minigrad.data.dataset_classes import SeedLike, generator_from_seed
from minigrad.data.mnist import load_mnist

__all__ = ["make_moons", "make_spirals", "make_blobs", "make_regression", "load_digits",
           "load_mnist"]


def _check_count(value: int, name: str, where: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{where}: {name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_noise(noise: float, where: str, name: str = "noise") -> float:
    if isinstance(noise, bool) or not isinstance(noise, numbers.Real) or not noise >= 0:
        raise ValueError(f"{where}: {name} must be a number >= 0, got {noise!r}")
    return float(noise)


def _class_sizes(n_samples: int, n_classes: int) -> list[int]:
    """``n_samples`` shared as evenly as possible: the first ``n_samples % n_classes``
    classes get one sample more."""
    base, extra = divmod(n_samples, n_classes)
    return [base + (c < extra) for c in range(n_classes)]


def _shuffled_with_noise(
    X: np.ndarray, y: np.ndarray, noise: float, generator: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    order = generator.permutation(len(y))
    X, y = X[order], y[order]
    X = X + noise * generator.standard_normal(X.shape)
    return X.astype(np.float32), y.astype(np.int64)


def make_moons(
    n_samples: int = 100, noise: float = 0.0, seed: SeedLike = None
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles in 2-D: class 0 is the upper arc of the unit circle,
    class 1 the lower arc shifted to (1, 0.5) - the same construction as scikit-learn's.
    Not linearly separable, so a linear model fails and a small MLP succeeds."""
    n_samples = _check_count(n_samples, "n_samples", "make_moons")
    noise = _check_noise(noise, "make_moons")
    generator = generator_from_seed(seed, "make_moons")
    n_upper, n_lower = _class_sizes(n_samples, 2)
    angle_upper = np.linspace(0.0, np.pi, n_upper)
    angle_lower = np.linspace(0.0, np.pi, n_lower)
    upper = np.stack([np.cos(angle_upper), np.sin(angle_upper)], axis=1)
    lower = np.stack([1.0 - np.cos(angle_lower), 0.5 - np.sin(angle_lower)], axis=1)
    X = np.concatenate([upper, lower])
    y = np.repeat([0, 1], [n_upper, n_lower])
    return _shuffled_with_noise(X, y, noise, generator)


def make_spirals(
    n_samples: int = 300,
    n_classes: int = 3,
    noise: float = 0.0,
    seed: SeedLike = None,
    turns: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """``n_classes`` spiral arms around the origin in 2-D, one class per arm.

    Arm ``c`` starts at the origin, at angle ``2π c / n_classes``, and winds ``turns``
    times around it while its radius grows from 0 to 1:
    ``point = r (cos θ, sin θ)`` with ``θ = 2π (c / n_classes + turns · r)``.
    """
    n_samples = _check_count(n_samples, "n_samples", "make_spirals")
    n_classes = _check_count(n_classes, "n_classes", "make_spirals")
    noise = _check_noise(noise, "make_spirals")
    turns = _check_noise(turns, "make_spirals", name="turns")
    generator = generator_from_seed(seed, "make_spirals")
    arms, labels = [], []
    for c, size in enumerate(_class_sizes(n_samples, n_classes)):
        radius = np.linspace(0.0, 1.0, size)
        angle = 2 * np.pi * (c / n_classes + turns * radius)
        arms.append(radius[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1))
        labels.append(np.full(size, c))
    return _shuffled_with_noise(np.concatenate(arms), np.concatenate(labels), noise, generator)


def make_blobs(
    n_samples: int = 100,
    centers: int | np.ndarray = 3,
    n_features: int = 2,
    noise: float = 1.0,
    seed: SeedLike = None,
    center_box: tuple[float, float] = (-10.0, 10.0),
) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian blobs, one class per blob.

    ``centers`` is a number of blobs (their centers drawn uniformly in ``center_box`` in
    every coordinate) or an array of centers of shape (n_blobs, n_features), which then
    sets ``n_features``. ``noise`` is the standard deviation of each blob (scikit-learn's
    ``cluster_std``).
    """
    n_samples = _check_count(n_samples, "n_samples", "make_blobs")
    noise = _check_noise(noise, "make_blobs")
    generator = generator_from_seed(seed, "make_blobs")
    if isinstance(centers, numbers.Integral) and not isinstance(centers, bool):
        n_blobs = _check_count(centers, "centers", "make_blobs")
        n_features = _check_count(n_features, "n_features", "make_blobs")
        low, high = center_box
        center_points = generator.uniform(low, high, size=(n_blobs, n_features))
    else:
        center_points = np.asarray(centers, dtype=np.float64)
        if center_points.ndim != 2 or len(center_points) == 0:
            raise ValueError(
                f"make_blobs: centers must be a count or an array of shape "
                f"(n_blobs, n_features), got shape {center_points.shape}"
            )
    sizes = _class_sizes(n_samples, len(center_points))
    X = np.repeat(center_points, sizes, axis=0)
    y = np.repeat(np.arange(len(center_points)), sizes)
    return _shuffled_with_noise(X, y, noise, generator)


def make_regression(
    n_samples: int = 100,
    n_features: int = 1,
    noise: float = 0.0,
    seed: SeedLike = None,
    n_informative: int | None = None,
    bias: float = 0.0,
    coef: bool = False,
) -> tuple[np.ndarray, ...]:
    """A linear regression problem with a known answer: ``y = X w + bias + noise · ε``.

    ``X`` and ``ε`` are standard normal; the first ``n_informative`` weights (all by
    default) are drawn uniformly from [0, 100), as in scikit-learn, and the others are 0.
    Returns ``(X, y)``, or ``(X, y, w)`` with ``coef=True``; ``y`` is float32 of shape
    (n_samples,).
    """
    n_samples = _check_count(n_samples, "n_samples", "make_regression")
    n_features = _check_count(n_features, "n_features", "make_regression")
    if n_informative is None:
        n_informative = n_features
    n_informative = _check_count(n_informative, "n_informative", "make_regression", minimum=0)
    if n_informative > n_features:
        raise ValueError(
            f"make_regression: n_informative={n_informative} is more than "
            f"n_features={n_features}"
        )
    noise = _check_noise(noise, "make_regression")
    generator = generator_from_seed(seed, "make_regression")
    X = generator.standard_normal((n_samples, n_features))
    w = np.zeros(n_features)
    w[:n_informative] = 100 * generator.uniform(size=n_informative)
    y = X @ w + bias + noise * generator.standard_normal(n_samples)
    X, y, w = X.astype(np.float32), y.astype(np.float32), w.astype(np.float32)
    return (X, y, w) if coef else (X, y)


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 8×8 handwritten digits: 1,797 images of the digits 0..9, shipped with minigrad.

    Returns ``(X, y)``: ``X`` float32 of shape (1797, 64), each row an 8×8 image read row
    by row, with the original pixel values 0..16 (scale them before training, e.g. with
    ``standardize`` or ``X / 16``); ``y`` int64 of shape (1797,).

    Source: the test set of the UCI "Optical Recognition of Handwritten Digits" data,
    E. Alpaydin and C. Kaynak (1998), UCI Machine Learning Repository,
    https://doi.org/10.24432/C50P49, licensed CC BY 4.0; the same copy scikit-learn ships.
    See ``minigrad/data/DIGITS_LICENSE.txt``.
    """
    with resources.files("minigrad.data").joinpath("digits.npz").open("rb") as f:
        with np.load(f, allow_pickle=False) as archive:
            images, target = archive["images"], archive["target"]
    return images.reshape(len(images), 64).astype(np.float32), target.astype(np.int64)
