"""How fast is one optimizer step, compared with the memory-bandwidth bound and with torch?

An optimizer step over N parameters is memory-bound: Adam must read the gradient (4 bytes
per float32 parameter) and read and write θ, m and v (3 × 8 bytes) — 28 bytes per parameter
at least; SGD with momentum reads g and reads and writes θ and the velocity — 20 bytes. The
bandwidth is measured in the same run by copying a large array (8 bytes moved per float32:
one read, one write), and each time is reported as a multiple of bytes / bandwidth.

    python benchmarks/optim_step.py            # full run (a minute or two)
    python benchmarks/optim_step.py --quick    # a few seconds

Prints a table and writes ``benchmarks/results/optim_step.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import minigrad as mg  # noqa: E402
from minigrad import optim  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "optim_step.json"
BYTES_PER_PARAM = {"Adam": 28, "SGD-momentum": 20}
N_TENSORS = 10


def median_seconds(fn, repeats: int, warmup: int = 2) -> float:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def measure_bandwidth(repeats: int) -> float:
    """Bytes per second of a large float32 copy (8 bytes moved per element)."""
    n = 64 * 1024 * 1024  # 256 MB per array: far beyond the caches
    src = np.ones(n, np.float32)
    dst = np.empty_like(src)
    seconds = median_seconds(lambda: np.copyto(dst, src), repeats)
    return 8 * n / seconds


def tensor_sizes(total: int) -> list[int]:
    """About ``total`` parameters in N_TENSORS tensors of uneven sizes (like a model's
    weight matrices and biases)."""
    weights = np.array([1, 100, 3, 200, 7, 300, 11, 150, 5, 223], dtype=np.float64)
    sizes = np.maximum((weights / weights.sum() * total).astype(int), 1)
    sizes[-1] += total - sizes.sum()
    return sizes.tolist()


def minigrad_step(kind: str, sizes: list[int]):
    rng = np.random.default_rng(0)
    params = [mg.tensor(rng.standard_normal(n).astype(np.float32), requires_grad=True)
              for n in sizes]
    for p in params:
        p.grad = mg.tensor(rng.standard_normal(p.shape).astype(np.float32) * 1e-3)
    if kind == "Adam":
        opt = optim.Adam(params, lr=1e-4)
    else:
        opt = optim.SGD(params, lr=1e-4, momentum=0.9)
    opt.step()  # the first step packs the parameters and allocates the state
    return opt.step


def torch_steps(kind: str, sizes: list[int]) -> dict:
    try:
        import torch
    except ImportError:
        return {}
    variants = {"Adam": {"torch Adam foreach": dict(foreach=True),
                         "torch Adam fused": dict(fused=True)},
                "SGD-momentum": {"torch SGD foreach": dict(foreach=True),
                                 "torch SGD fused": dict(fused=True)}}[kind]
    steps = {}
    for label, options in variants.items():
        params = [torch.randn(n, requires_grad=True) for n in sizes]
        for p in params:
            p.grad = torch.randn(n) * 1e-3 if (n := p.numel()) else None
        try:
            if kind == "Adam":
                opt = torch.optim.Adam(params, lr=1e-4, **options)
            else:
                opt = torch.optim.SGD(params, lr=1e-4, momentum=0.9, **options)
            opt.step()
        except (RuntimeError, TypeError, ValueError) as error:  # e.g. fused not built for CPU
            print(f"  ({label} unavailable: {error})")
            continue
        steps[label] = opt.step
    return steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few repeats, for a smoke test")
    args = parser.parse_args()
    repeats = 5 if args.quick else 25

    bandwidth = measure_bandwidth(repeats)
    print(f"memory bandwidth (float32 copy): {bandwidth / 1e9:.1f} GB/s")
    try:
        import torch

        torch_info = {"version": torch.__version__, "threads": torch.get_num_threads()}
    except ImportError:
        torch_info = None

    rows = []
    for total in (1_000_000, 10_000_000):
        sizes = tensor_sizes(total)
        for kind, bytes_per_param in BYTES_PER_PARAM.items():
            bound = bytes_per_param * total / bandwidth
            candidates = {f"minigrad {kind}": minigrad_step(kind, sizes),
                          **torch_steps(kind, sizes)}
            for label, step in candidates.items():
                seconds = median_seconds(step, repeats)
                rows.append({"params": total, "tensors": len(sizes), "optimizer": kind,
                             "implementation": label, "ms": seconds * 1e3,
                             "bound_ms": bound * 1e3, "x_bound": seconds / bound})
                print(f"  {total:>10,} {label:<24} {seconds * 1e3:8.2f} ms  "
                      f"{seconds / bound:5.2f}x bound", flush=True)

    header = ["params", "implementation", "ms / step", "bound ms", "x bound"]
    table = [[f"{r['params']:,}", r["implementation"], f"{r['ms']:.2f}", f"{r['bound_ms']:.2f}",
              f"{r['x_bound']:.2f}"] for r in rows]
    widths = [max(len(row[i]) for row in [header, *table]) for i in range(len(header))]
    print()
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |")
    print("| " + " | ".join("-" * w for w in widths) + " |")
    for row in table:
        print("| " + " | ".join(c.rjust(w) for c, w in zip(row, widths)) + " |")

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "command": "python benchmarks/optim_step.py" + (" --quick" if args.quick else ""),
        "bandwidth_GBps": bandwidth / 1e9,
        "bytes_per_param": BYTES_PER_PARAM,
        "repeats": repeats,
        "machine": {"python": platform.python_version(), "numpy": np.__version__,
                    "cpus": os.cpu_count(), "platform": platform.platform(),
                    "torch": torch_info},
        "results": rows,
    }, indent=2) + "\n")
    print(f"\nwritten to {RESULTS}")


if __name__ == "__main__":
    main()
