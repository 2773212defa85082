"""A LeNet-5 training step on 28×28 images, side by side: minigrad and PyTorch eager.

    python benchmarks/conv_step.py [--quick] [--threads 1] [--batch 64]

LeNet-5 (as MNIST tutorials write it): conv 1→6 (5×5, padding 2), ReLU, 2×2 max pool,
conv 6→16 (5×5), ReLU, 2×2 max pool, then 400→120→84→10 with ReLUs. One step = forward,
cross-entropy, backward, Adam update, zero grad; float32; both with the same number of
BLAS/OpenMP threads (pinned through the environment before NumPy and PyTorch load, and
``torch.set_num_threads``). Both start from the same weights and must give the same losses.
Reported: the median time per step, in wall time and in CPU time (on a machine shared
with other work the wall time also counts waits for a core), and minigrad / PyTorch (the
median of the ratios of rounds that alternate between the two). Writes
``benchmarks/results/conv_step.json``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time


def _threads_pinned_from_argv() -> int:
    """``--threads`` (default 1), set for BLAS/OpenMP. Done before NumPy and PyTorch are
    imported: they read the thread counts from the environment when they load."""
    peek = argparse.ArgumentParser(add_help=False)
    peek.add_argument("--threads", type=int, default=1)
    threads = peek.parse_known_args()[0].threads
    os.environ.update({name: str(threads) for name in
                       ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")})
    return threads


THREADS = _threads_pinned_from_argv() if __name__ == "__main__" else None

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _timing import print_table, write_json  # noqa: E402

import minigrad as mg  # noqa: E402
from minigrad import nn, optim  # noqa: E402

STEPS_PER_ROUND = 10


def lenet5(nn):
    """LeNet-5 for 28×28 inputs, in the ``nn`` given (minigrad's or torch's: same names)."""
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10),
    )


def minigrad_step_fn(x, y, compiled: bool = False):
    mg.manual_seed(0)
    model = lenet5(nn)
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    xt, yt = mg.tensor(x), mg.tensor(y)

    def train_step(xb, yb):
        loss = nn.functional.cross_entropy(model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss

    run = mg.compile(train_step) if compiled else train_step

    def step():
        return run(xt, yt).item()

    return model, step


def torch_step_fn(torch, weights, x, y):
    model = lenet5(torch.nn)
    model.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in weights.items()})
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    def step():
        loss = torch.nn.functional.cross_entropy(model(xt), yt)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


def make_contenders(torch, x, y) -> dict:
    """Fresh models with the same initial weights: name -> a function doing one step."""
    model, minigrad_step = minigrad_step_fn(x, y)
    steps = {"minigrad": minigrad_step, "compiled": minigrad_step_fn(x, y, compiled=True)[1]}
    if torch is not None:
        steps["torch"] = torch_step_fn(torch, model.state_dict(), x, y)
    return steps


def check_same_losses(steps: dict, n: int = 4) -> None:
    """Both must compute the same thing: equal losses over the first steps."""
    losses = {name: [step() for _ in range(n)] for name, step in steps.items()}
    for name, values in losses.items():
        np.testing.assert_allclose(values, losses["minigrad"], rtol=1e-3, err_msg=name)


def run(batch: int, repeats: int) -> dict:
    try:
        import torch

        torch.set_num_threads(THREADS or 1)
    except ImportError:
        torch = None
    generator = np.random.default_rng(1)
    x = generator.standard_normal((batch, 1, 28, 28)).astype(np.float32)
    y = generator.integers(0, 10, batch).astype(np.int64)
    check_same_losses(make_contenders(torch, x, y))
    steps = make_contenders(torch, x, y)
    for step in steps.values():
        for _ in range(5):  # warm-up
            step()
    # Rounds alternate between the contenders, so that a machine busy with something else
    # for a while slows both alike; the ratios are the medians of the per-round ratios.
    # Wall time, and CPU time of this process: on a shared machine the wall time also
    # counts the waits for a core, the CPU time only the work.
    wall = {name: [] for name in steps}
    cpu = {name: [] for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            wall_start, cpu_start = time.perf_counter(), time.process_time()
            for _ in range(STEPS_PER_ROUND):
                step()
            wall[name].append((time.perf_counter() - wall_start) / STEPS_PER_ROUND)
            cpu[name].append((time.process_time() - cpu_start) / STEPS_PER_ROUND)
    row = {}
    for clock, times in (("wall", wall), ("cpu", cpu)):
        for name, samples in times.items():
            row[f"{name}_{clock}_ms"] = statistics.median(samples) * 1e3
        if torch is not None:
            row[f"{clock}_ratio"] = statistics.median(
                m / t for m, t in zip(times["minigrad"], times["torch"]))
            row[f"{clock}_compiled_ratio"] = statistics.median(
                m / t for m, t in zip(times["compiled"], times["torch"]))
    return row


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--threads", type=int, default=1, help="BLAS/OpenMP threads for both")
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args(argv)
    row = run(args.batch, repeats=5 if args.quick else 15)
    header = ["model", "clock", "minigrad (ms)", "compiled (ms)"]
    lines = [[f"LeNet-5, 28×28, batch {args.batch}", clock, f"{row[f'minigrad_{clock}_ms']:.2f}",
              f"{row[f'compiled_{clock}_ms']:.2f}"] for clock in ("wall", "cpu")]
    if "torch_wall_ms" in row:
        header += ["PyTorch eager (ms)", "minigrad / PyTorch", "compiled / PyTorch"]
        for line, clock in zip(lines, ("wall", "cpu")):
            line += [f"{row[f'torch_{clock}_ms']:.2f}", f"{row[f'{clock}_ratio']:.2f}x",
                     f"{row[f'{clock}_compiled_ratio']:.2f}x"]
    print_table(f"training step (Adam), float32, {args.threads} thread(s), median per step",
                header, lines)
    if "torch_wall_ms" not in row:
        print("(PyTorch is not installed: its columns are skipped)")
    path = write_json("conv_step", {"threads": args.threads, "batch": args.batch, **row})
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
