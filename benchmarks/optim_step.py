"""How fast is one optimizer step, compared with the memory-bandwidth bound and with torch?

An optimizer step over N parameters is memory-bound. Adam must read the gradient (4 bytes
per float32 parameter) and read and write θ, m and v (3 × 8 bytes): 28 bytes per parameter
at least. SGD with momentum reads g and reads and writes θ and the velocity: 20 bytes.

The bound is those bytes at the machine's in-place streaming rate, ``a += b`` over two
float32 arrays far larger than the caches (12 bytes moved per element: two reads, one
write), measured in the same run. That is the access pattern of an optimizer step, and the
fastest rate one core streams memory at; a copy (``np.copyto``, 8 bytes per element) is
slower here, and a bound taken from it would flatter every contender, so its rate is
printed beside but not used.

Every contender (the two rates included) is timed once per round, in turn, over many
rounds, and the median of each is kept: on a shared machine a burst of someone else's work
then slows every contender alike instead of one. Times are CPU seconds of this process
(every contender runs on one thread: PyTorch is pinned to the ``--threads`` given), which a
neighbour's load distorts less than wall time; wall-time medians are in the JSON too.

minigrad's Adam and SGD run as one compiled loop when numba is installed
(``pip install "minigrad[fast]"``); their NumPy passes (``fused=False``) are then timed too.

    python benchmarks/optim_step.py            # full run (a minute or two)
    python benchmarks/optim_step.py --quick    # a few seconds

Prints a table and writes ``benchmarks/results/optim_step.json``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _timing import print_table, time_in_rounds, write_json  # noqa: E402

import minigrad as mg  # noqa: E402
from minigrad import optim  # noqa: E402
from minigrad._numba import available  # noqa: E402

BYTES_PER_PARAM = {"Adam": 28, "SGD-momentum": 20}
BYTES_MOVED = {"Adam": "read θ, g, m, v; write θ, m, v: 7 × 4 B",
               "SGD-momentum": "read θ, g, buf; write θ, buf: 5 × 4 B"}
N_TENSORS = 10
STREAM_ELEMENTS = 64 * 1024 * 1024  # 256 MB per float32 array: far beyond the caches


def tensor_sizes(total: int) -> list[int]:
    """About ``total`` parameters in N_TENSORS tensors of uneven sizes (like a model's
    weight matrices and biases)."""
    weights = np.array([1, 100, 3, 200, 7, 300, 11, 150, 5, 223], dtype=np.float64)
    sizes = np.maximum((weights / weights.sum() * total).astype(int), 1)
    sizes[-1] += total - sizes.sum()
    return sizes.tolist()


def streaming_rates() -> dict:
    """The two memory rates, as contenders: name -> (a call, bytes it moves)."""
    a = np.ones(STREAM_ELEMENTS, np.float32)
    b = np.ones(STREAM_ELEMENTS, np.float32)
    return {"in-place a += b": (lambda: np.add(a, b, out=a), 12 * STREAM_ELEMENTS),
            "copy": (lambda: np.copyto(b, a), 8 * STREAM_ELEMENTS)}


def minigrad_step(kind: str, sizes: list[int], fused: bool | None = None):
    rng = np.random.default_rng(0)
    params = [mg.tensor(rng.standard_normal(n).astype(np.float32), requires_grad=True)
              for n in sizes]
    for p in params:
        p.grad = mg.tensor(rng.standard_normal(p.shape).astype(np.float32) * 1e-3)
    if kind == "Adam":
        opt = optim.Adam(params, lr=1e-4, fused=fused)
    else:
        opt = optim.SGD(params, lr=1e-4, momentum=0.9, fused=fused)
    opt.step()  # the first step packs the parameters and allocates the state
    return opt.step


def torch_steps(torch, kind: str, sizes: list[int]) -> dict:
    if torch is None:
        return {}
    variants = {"Adam": {"torch Adam foreach": dict(foreach=True),
                         "torch Adam fused": dict(fused=True)},
                "SGD-momentum": {"torch SGD foreach": dict(foreach=True),
                                 "torch SGD fused": dict(fused=True)}}[kind]
    steps = {}
    for label, options in variants.items():
        params = [torch.randn(n, requires_grad=True) for n in sizes]
        for p in params:
            p.grad = torch.randn(p.numel()) * 1e-3
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
    parser.add_argument("--quick", action="store_true", help="few rounds, for a smoke test")
    parser.add_argument("--threads", type=int, default=1, help="PyTorch's thread count")
    args = parser.parse_args()
    rounds = 5 if args.quick else 25
    try:
        import torch

        torch.set_num_threads(args.threads)
        torch_info = {"version": torch.__version__, "threads": torch.get_num_threads()}
    except ImportError:
        torch, torch_info = None, None

    rates = streaming_rates()
    rows, measured_rates = [], []
    for total in (1_000_000, 10_000_000):
        sizes = tensor_sizes(total)
        contenders = {name: fn for name, (fn, _) in rates.items()}
        kinds = {}
        for kind in BYTES_PER_PARAM:
            steps = {f"minigrad {kind}": minigrad_step(kind, sizes)}
            if available():  # then the line above ran the fused loop: the passes too
                steps[f"minigrad {kind}, NumPy passes"] = minigrad_step(kind, sizes, False)
            steps.update(torch_steps(torch, kind, sizes))
            kinds.update(dict.fromkeys(steps, kind))
            contenders.update(steps)
        times = time_in_rounds(contenders, rounds, warmup=2)
        rate = {name: bytes_moved / times[name]["cpu"] for name, (_, bytes_moved) in rates.items()}
        measured_rates.append({"params": total, **{f"{name} GB/s": r / 1e9
                                                   for name, r in rate.items()}})
        print(f"\n{total:,} parameters: in-place rate {rate['in-place a += b'] / 1e9:.1f} GB/s, "
              f"copy {rate['copy'] / 1e9:.1f} GB/s (CPU-time medians of {rounds} rounds)")
        for kind, per_param in BYTES_PER_PARAM.items():
            bound = per_param * total / rate["in-place a += b"]
            print(f"  bound for {kind}: {per_param} B/param ({BYTES_MOVED[kind]}) at the "
                  f"in-place rate = {bound * 1e3:.2f} ms")
        for label, kind in kinds.items():
            bound = BYTES_PER_PARAM[kind] * total / rate["in-place a += b"]
            copy_bound = BYTES_PER_PARAM[kind] * total / rate["copy"]
            seconds, wall = times[label]["cpu"], times[label]["wall"]
            rows.append({"params": total, "tensors": len(sizes), "optimizer": kind,
                         "implementation": label, "ms": seconds * 1e3, "wall_ms": wall * 1e3,
                         "bound_ms": bound * 1e3, "x_bound": seconds / bound,
                         "x_copy_bound": seconds / copy_bound})
            print(f"  {label:<30} {seconds * 1e3:8.2f} ms  {seconds / bound:5.2f}x in-place "
                  f"bound  ({seconds / copy_bound:.2f}x a copy's)", flush=True)

    header = ["params", "implementation", "ms / step", "in-place bound ms", "x in-place bound",
              "x copy bound"]
    table = [[f"{r['params']:,}", r["implementation"], f"{r['ms']:.2f}", f"{r['bound_ms']:.2f}",
              f"{r['x_bound']:.2f}", f"{r['x_copy_bound']:.2f}"] for r in rows]
    print_table("one optimizer step, float32, CPU time", header, table)
    path = write_json("optim_step", {
        "command": "python benchmarks/optim_step.py" + (" --quick" if args.quick else ""),
        "rates": measured_rates, "bytes_per_param": BYTES_PER_PARAM,
        "bytes_moved": BYTES_MOVED, "rounds": rounds,
        "torch": torch_info, "results": rows})
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
