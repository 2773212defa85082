"""Data for training: datasets, the loader that batches them, splits and toy/real data.

    from minigrad.data import DataLoader, TensorDataset, train_test_split, standardize
    from minigrad.data.datasets import load_digits

    X, y = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, seed=0)
    X_train, X_test = standardize(X_train, X_test)
    loader = DataLoader(TensorDataset(X_train, y_train), batch_size=64, shuffle=True, seed=0)
    for xb, yb in loader:   # one epoch; the next loop is a new shuffled epoch
        ...

``batch_size=None`` gives full-batch gradient descent, ``batch_size=1`` stochastic.

Where each part lives: ``dataset_classes.py`` (``Dataset``, ``TensorDataset``, ``Subset``,
``random_split``), ``loader.py`` (``DataLoader``), ``preprocessing.py`` (splits, scaling),
``datasets.py`` (the data itself: toy generators, the digits) and ``mnist.py`` (MNIST's files).
"""

from minigrad.data import datasets
from minigrad.data.dataset_classes import Dataset, Subset, TensorDataset, random_split
from minigrad.data.datasets import (
    load_digits,
    load_mnist,
    make_blobs,
    make_moons,
    make_regression,
    make_spirals,
)
from minigrad.data.loader import DataLoader, default_collate
from minigrad.data.preprocessing import Standardizer, standardize, train_test_split

__all__ = [
    "Dataset", "TensorDataset", "Subset", "random_split",
    "DataLoader", "default_collate",
    "train_test_split", "Standardizer", "standardize",
    "datasets", "make_moons", "make_spirals", "make_blobs", "make_regression",
    "load_digits", "load_mnist",
]
