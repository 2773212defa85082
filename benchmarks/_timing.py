"""Shared timing helpers for the benchmarks: medians of repeated runs, printed as ratios."""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def median_time(fn: Callable[[], object], repeats: int = 7, number: int | None = None,
                warmup: int = 3, budget: float = 0.2) -> float:
    """Median seconds per call of ``fn`` over ``repeats`` batches of ``number`` calls
    (``number`` chosen so a batch takes about ``budget`` seconds)."""
    for _ in range(warmup):
        fn()
    if number is None:
        start = time.perf_counter()
        fn()
        once = max(time.perf_counter() - start, 1e-7)
        number = max(1, int(budget / once))
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - start) / number)
    return statistics.median(samples)


def time_in_rounds(contenders: dict[str, Callable[[], object]], rounds: int,
                   warmup: int = 3, budget: float | None = None) -> dict[str, dict]:
    """Median seconds per call of each contender, timed in turn, round after round: on a
    shared machine a burst of someone else's work then slows every contender alike rather
    than the one that happened to run during it.

    Each round times a batch of calls per contender (as many as take about ``budget``
    seconds; one call when ``budget`` is None). Returns name -> {"cpu": CPU seconds of this
    process, "wall": wall seconds}, medians over the rounds. CPU time is what the ratios
    use: every contender runs on one thread, and it excludes the time a neighbour's process
    holds the core (it still includes what shared caches and memory cost)."""
    numbers = {}
    for name, fn in contenders.items():
        for _ in range(warmup):
            fn()
        start = time.perf_counter()
        fn()
        once = max(time.perf_counter() - start, 1e-7)
        numbers[name] = 1 if budget is None else max(1, int(budget / once))
    cpu = {name: [] for name in contenders}
    wall = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, fn in contenders.items():
            number = numbers[name]
            start_cpu, start_wall = time.process_time(), time.perf_counter()
            for _ in range(number):
                fn()
            cpu[name].append((time.process_time() - start_cpu) / number)
            wall[name].append((time.perf_counter() - start_wall) / number)
    return {name: {"cpu": statistics.median(cpu[name]), "wall": statistics.median(wall[name])}
            for name in contenders}


def machine() -> dict:
    """What the figures were measured on."""
    import numpy as np

    info = {"python": platform.python_version(), "numpy": np.__version__,
            "machine": platform.machine(), "cpus": os.cpu_count(),
            "processor": platform.processor() or platform.machine()}
    try:
        import torch

        info["torch"] = torch.__version__
    except ImportError:
        info["torch"] = None
    return info


def print_table(title: str, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print(f"\n{title}")
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |")
    print("| " + " | ".join("-" * w for w in widths) + " |")
    for r in rows:
        print("| " + " | ".join(str(c).rjust(w) for c, w in zip(r, widths)) + " |")


def write_json(name: str, payload: dict) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), **payload}, indent=2))
    return path
