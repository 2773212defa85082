"""One shuffled mini-batch epoch of DataLoader against the NumPy loop it stands for.

    python benchmarks/data_loader.py [--quick] [--json]

Data: an MNIST-sized TensorDataset, 60,000 x 784 float32 images and int64 labels.
minigrad: ``for X, y in DataLoader(TensorDataset(X, y), batch_size=b, shuffle=True)``.
NumPy:    ``order = rng.permutation(n)`` then ``X[idx], y[idx]`` for each slice of ``order``.
Both do the same work (one permutation per epoch, one fancy index per batch and array),
so the ratio is what the loader adds on top: Tensor wrapping and the generator.
Ratios matter more than seconds: the machines this runs on are shared and noisy.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _timing import median_time, print_table, write_json  # noqa: E402

from minigrad.data import DataLoader, TensorDataset  # noqa: E402

N_SAMPLES, N_FEATURES = 60_000, 784


def numpy_epoch(X: np.ndarray, y: np.ndarray, batch_size: int, rng: np.random.Generator) -> int:
    order = rng.permutation(len(X))
    seen = 0
    for start in range(0, len(X), batch_size):
        index = order[start:start + batch_size]
        batch = X[index], y[index]
        seen += len(batch[1])
    return seen


def loader_epoch(loader: DataLoader) -> int:
    seen = 0
    for batch in loader:
        seen += len(batch[1])
    return seen


def time_epochs(dataset: TensorDataset, batch_size: int, repeats: int) -> dict:
    X, y = (t.array for t in dataset.tensors)
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=True, seed=0)
    numpy_rng = np.random.default_rng(0)
    assert loader_epoch(loader) == numpy_epoch(X, y, batch_size, numpy_rng) == len(X)
    t_numpy = median_time(lambda: numpy_epoch(X, y, batch_size, numpy_rng), repeats,
                          number=1, warmup=1)
    t_loader = median_time(lambda: loader_epoch(loader), repeats, number=1, warmup=1)
    return {"batch_size": batch_size, "numpy_s": t_numpy, "minigrad_s": t_loader,
            "ratio": t_loader / t_numpy}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--json", action="store_true", help="also write results/data_loader.json")
    args = parser.parse_args()
    repeats = 3 if args.quick else 9

    rng = np.random.default_rng(0)
    X = rng.standard_normal((N_SAMPLES, N_FEATURES), dtype=np.float32)
    y = rng.integers(0, 10, size=N_SAMPLES)
    dataset = TensorDataset(X, y)

    results = [time_epochs(dataset, batch_size, repeats) for batch_size in (64, 128)]
    rows = [[str(r["batch_size"]), f"{r['numpy_s'] * 1e3:.1f}", f"{r['minigrad_s'] * 1e3:.1f}",
             f"{r['ratio']:.2f}x"] for r in results]

    print_table(
        f"One shuffled epoch over {N_SAMPLES:,} x {N_FEATURES} float32 (median of {repeats})",
        ["batch", "NumPy loop (ms)", "DataLoader (ms)", "DataLoader / NumPy"], rows,
    )
    if args.json:
        print(f"\nwritten to {write_json('data_loader', {'epochs': results})}")


if __name__ == "__main__":
    main()
