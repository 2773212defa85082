"""Before and after: the same small workloads on two or more source trees of minigrad, in
turn, round after round, so a change to a hot path can quote its cost.

    python benchmarks/trees.py OLD_TREE NEW_TREE [MORE_TREES ...] [--rounds 3]

A tree is a folder holding the ``minigrad`` package (a checkout, or ``git worktree add
/tmp/old <commit>``). Each round runs every tree once, each in its own process with one
BLAS thread, and each process measures (CPU time, median of 9 batches): a training step
(forward, cross-entropy, backward, Adam, zero-grad) of the tiny 2-16-16-2 and the small
64-128-128-10 MLPs on a batch of 64, and one recorded op (``a * a`` on a 4×4 float32 tensor
that requires grad). The table gives the median over the rounds and the ratio to the first
tree. Ratios, not microseconds: the machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

# Run in each tree's own process: imports that tree's minigrad, prints its times as JSON.
WORKLOAD = r"""
import json, statistics, time
import numpy as np
import minigrad as mg
from minigrad import nn, optim

def per_call(fn, number):
    for _ in range(number // 10 + 3):
        fn()
    samples = []
    for _ in range(9):
        start = time.process_time()
        for _ in range(number):
            fn()
        samples.append((time.process_time() - start) / number)
    return statistics.median(samples) * 1e6

def training_step(sizes, batch=64):
    mg.manual_seed(0)
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(n_in, n_out), nn.ReLU()]
    model = nn.Sequential(*layers[:-1])
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.standard_normal((batch, sizes[0])).astype(np.float32))
    y = mg.tensor(rng.integers(0, sizes[-1], batch))
    loss_fn = nn.CrossEntropyLoss()

    def step():
        loss = loss_fn(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return step

a = mg.tensor(np.ones((4, 4), np.float32), requires_grad=True)
print(json.dumps({
    "tiny step (µs)": per_call(training_step((2, 16, 16, 2)), 300),
    "small step (µs)": per_call(training_step((64, 128, 128, 10)), 150),
    "recorded op a * a (µs)": per_call(lambda: a * a, 20000),
}))
"""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trees", nargs="+", type=Path, help="folders holding minigrad/")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    for tree in args.trees:
        if not (tree / "minigrad" / "__init__.py").is_file():
            parser.error(f"{tree} holds no minigrad package")
    env = dict(os.environ)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = "1"
    results: dict[Path, list[dict]] = {tree: [] for tree in args.trees}
    for _ in range(args.rounds):
        for tree in args.trees:
            env["PYTHONPATH"] = str(tree.resolve())
            run = subprocess.run([sys.executable, "-c", WORKLOAD], env=env, cwd=tree,
                                 capture_output=True, text=True, check=True)
            results[tree].append(json.loads(run.stdout))
    names = list(results[args.trees[0]][0])
    medians = {tree: {n: statistics.median(r[n] for r in runs) for n in names}
               for tree, runs in results.items()}
    first = medians[args.trees[0]]
    print(f"median of {args.rounds} rounds, CPU time, 1 thread; ratio to {args.trees[0]}")
    print("| tree | " + " | ".join(names) + " |")
    print("| --- |" + " ---: |" * len(names))
    for tree, row in medians.items():
        cells = [f"{row[n]:.2f} ({row[n] / first[n]:.2f}×)" for n in names]
        print(f"| {tree} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
