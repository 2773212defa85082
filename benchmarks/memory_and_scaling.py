"""Memory and graph-size checks: resident memory over 10,000 training steps (it must not
grow: the graph is freed after every backward), and backward time against graph size (it
must grow linearly: 10x the ops, about 10x the time).

    python benchmarks/memory_and_scaling.py [--steps 10000] [--quick]

Writes ``benchmarks/results/memory_and_scaling.json``.
"""

from __future__ import annotations

import argparse
import gc
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _timing import print_table, write_json  # noqa: E402

import minigrad as mg  # noqa: E402
from minigrad import nn, optim  # noqa: E402


def resident_mb() -> float:
    """Current resident set size in MB (Linux /proc; the peak elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * resource.getpagesize() / 2**20
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def memory_over_training(steps: int) -> dict:
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(),
                          nn.Linear(128, 10))
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    generator = np.random.default_rng(0)
    x = mg.tensor(generator.standard_normal((64, 64)).astype(np.float32))
    y = mg.tensor(generator.integers(0, 10, 64))
    samples = []
    for step in range(1, steps + 1):
        loss = loss_fn(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step == 100 or step % max(1, steps // 10) == 0:
            gc.collect()
            samples.append((step, resident_mb()))
    start, end = samples[0][1], samples[-1][1]
    return {"steps": steps, "rss_mb_at_step_100": start, "rss_mb_at_end": end,
            "growth_mb": end - start, "samples": samples}


def backward_seconds(n_ops: int) -> float:
    x = mg.tensor(np.ones(16, dtype=np.float32), requires_grad=True)
    y = x
    for _ in range(n_ops // 2):
        y = y * 1.0001 + 0.0001  # two ops per iteration
    loss = y.sum()
    start = time.perf_counter()
    loss.backward()
    return time.perf_counter() - start


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true", help="1,000 steps")
    args = parser.parse_args(argv)
    steps = 1_000 if args.quick else args.steps

    memory = memory_over_training(steps)
    print_table(f"resident memory over {steps:,} training steps (64-128-128-10, Adam)",
                ["step", "RSS (MB)"], [[f"{s:,}", f"{mb:.1f}"] for s, mb in memory["samples"]])
    print(f"growth from step 100 to {steps:,}: {memory['growth_mb']:+.1f} MB")

    sizes = [10_000, 100_000]
    times = {n: min(backward_seconds(n) for _ in range(3)) for n in sizes}
    ratio = times[100_000] / times[10_000]
    print_table("backward time against graph size",
                ["ops in graph", "backward (ms)", "µs per op"],
                [[f"{n:,}", f"{t * 1e3:.1f}", f"{t / n * 1e6:.2f}"] for n, t in times.items()])
    print(f"100k / 10k: {ratio:.1f}x (linear would be 10x)")
    path = write_json("memory_and_scaling", {"memory": memory,
                                             "backward_seconds": {str(n): t for n, t in
                                                                  times.items()},
                                             "backward_ratio_100k_10k": ratio})
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
