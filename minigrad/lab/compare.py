"""Run optimizers side by side: on a test function (``run_objective``) or on the digits MLP
(``run_digits``), and print what happened as a table (``format_table``). This is what
``minigrad compare`` runs; the examples use it too.

    from minigrad.lab import compare, testfunctions as tf
    runs = [compare.run_objective(tf.rosenbrock, name, compare.STEPS, compare.TOL)
            for name in ("sgd", "adam")]
    print(compare.format_table(runs, compare.TOL))
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from minigrad import nn, optim, training
from minigrad.lab.testfunctions import Objective
from minigrad.optim.registry import lookup_optimizer, make_optimizer
from minigrad.tensor import Tensor

# What ``minigrad compare`` runs when an option is not given. On a test function:
STEPS = 2000  # optimizer steps
TOL = 1e-4  # on f(θ) - min f (the command's; ``run_objective`` alone defaults to a finer one)
# On the digits MLP (also the defaults of ``run_digits``):
DIGITS_EPOCHS = 10
DIGITS_BATCH_SIZE = 32
DIGITS_HIDDEN = (64,)
DIGITS_SEED = 0
DIGITS_TOL = 0.05  # on the mean training loss of an epoch


@dataclass
class Run:
    """What one optimizer did: the loss before each step and after the last (``losses``),
    the points it visited (``path``, test functions only), and how long it took."""

    optimizer: str
    hyperparameters: dict
    losses: np.ndarray
    seconds: float
    steps_to_tol: int | None = None  # steps after which the loss stayed within tolerance
    path: np.ndarray | None = None  # (steps + 1, dim): the start, then after each step
    diverged: bool = False
    extra: dict = field(default_factory=dict)  # e.g. test accuracy per epoch on digits

    @property
    def final_loss(self) -> float:
        return float(self.losses[-1])


def _settled(gaps: np.ndarray, tol: float) -> int | None:
    """The first index from which every gap is ≤ tol (None if the last one is not): an
    oscillating optimizer that merely passes through the tolerance has not reached it."""
    outside = np.flatnonzero(~(gaps <= tol))
    if outside.size == 0:
        return 0
    return None if outside[-1] == gaps.size - 1 else int(outside[-1]) + 1


def run_objective(objective: Objective, optimizer: str, steps: int, tol: float = 1e-6,
                  start: Sequence[float] | None = None, **hyperparameters) -> Run:
    """Minimize ``objective`` from ``start`` (default: its own) with ``steps`` steps of
    optimizer ``optimizer``, in float64. The learning rate defaults to the objective's
    suggestion for that optimizer. ``steps_to_tol`` counts the steps after which
    f(θ) - min f stays ≤ ``tol``. A run whose loss stops being finite ends there, marked
    diverged."""
    if steps < 0:
        raise ValueError(f"run_objective: steps must be >= 0, got {steps}")
    if "lr" not in hyperparameters:
        hyperparameters["lr"] = objective.lrs.get(optimizer, objective.lrs.get("*", 1e-3))
    theta = Tensor(np.array(objective.start if start is None else start, dtype=np.float64),
                   requires_grad=True)
    if theta.shape != (objective.dim,):
        raise ValueError(f"run_objective: start must have {objective.dim} coordinates for "
                         f"{objective.name}, got {list(theta.data)}")
    opt = make_optimizer(optimizer, [theta], **hyperparameters)
    losses = np.empty(steps + 1)
    path = np.empty((steps + 1, objective.dim))
    diverged = False
    begin = time.perf_counter()
    with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported, not warned
        for k in range(steps + 1):
            path[k] = theta.data
            loss = objective(theta)
            losses[k] = loss.item()
            if not math.isfinite(losses[k]):
                losses, path, diverged = losses[:k + 1], path[:k + 1], True
                break
            if k == steps:
                break
            opt.zero_grad()
            loss.backward()
            opt.step()
    seconds = time.perf_counter() - begin
    return Run(optimizer, hyperparameters, losses, seconds,
               _settled(losses - objective.min_value, tol), path, diverged)


def compare_objective(objective: Objective, optimizers: Iterable[str], steps: int,
                      tol: float = 1e-6,
                      hyperparameters: Mapping[str, Mapping] | None = None) -> list[Run]:
    """``run_objective`` for each optimizer; ``hyperparameters[name]`` overrides its own."""
    hyperparameters = hyperparameters or {}
    return [run_objective(objective, name, steps, tol, **dict(hyperparameters.get(name, {})))
            for name in optimizers]


def run_digits(optimizer: str, epochs: int = DIGITS_EPOCHS,
               batch_size: int | None = DIGITS_BATCH_SIZE,
               hidden: Sequence[int] = DIGITS_HIDDEN, seed: int = DIGITS_SEED,
               tol: float = DIGITS_TOL,
               on_epoch: Callable[[nn.Module, optim.Optimizer], None] | None = None,
               **hyperparameters) -> Run:
    """Train an MLP on the digits data (the split of ``minigrad train``) with ``optimizer``.
    ``losses`` is the mean training loss of each epoch, ``extra["test_accuracy"]`` the test
    accuracy after it, ``steps_to_tol`` the epochs after which the training loss stays
    ≤ ``tol``. The learning rate defaults to the one ``minigrad train`` uses for that
    optimizer. ``on_epoch(model, optimizer)`` is called after each epoch (to record more)."""
    if "lr" not in hyperparameters:
        hyperparameters["lr"] = lookup_optimizer(optimizer).lr
    optimizer_args = {k: v for k, v in hyperparameters.items() if k != "lr"}
    config = training.TrainConfig(optimizer=optimizer, lr=hyperparameters["lr"],
                                  optimizer_args=optimizer_args, epochs=epochs,
                                  batch_size=batch_size, hidden=tuple(hidden), seed=seed)
    _, _, history = training.train_digits(config, on_epoch=on_epoch)
    losses = np.array(history.train_loss)
    reached = _settled(losses, tol)  # index of an epoch: epochs run = index + 1
    return Run(optimizer, hyperparameters, losses, history.seconds,
               None if reached is None else reached + 1,
               diverged=not np.isfinite(losses).all(),
               extra={"test_accuracy": history.test_accuracy})


def format_table(runs: Sequence[Run], tol: float, steps_label: str = "steps",
                 min_value: float | None = None, loss_label: str = "final loss") -> str:
    """The comparison as a fixed-width text table, best final loss first."""
    has_accuracy = any("test_accuracy" in r.extra for r in runs)
    has_path = any(r.path is not None for r in runs)
    header = ["optimizer", "lr", loss_label]
    if min_value is not None:
        header.append("gap to min")
    if has_accuracy:
        header.append("test acc")
    if has_path:
        header.append("final point")
    header += [f"{steps_label} to tol {tol:g}", "time"]
    rows = []
    order = sorted(runs, key=lambda r: (r.diverged, r.final_loss if math.isfinite(r.final_loss)
                                        else math.inf))
    for r in order:
        row = [r.optimizer, f"{r.hyperparameters.get('lr', float('nan')):g}",
               "diverged" if r.diverged else f"{r.final_loss:.6g}"]
        if min_value is not None:
            row.append("-" if r.diverged else f"{r.final_loss - min_value:.3g}")
        if has_accuracy:
            row.append(f"{r.extra.get('test_accuracy', [math.nan])[-1]:.4f}")
        if has_path:
            row.append("(" + ", ".join(f"{v:.4g}" for v in r.path[-1]) + ")")
        row += ["-" if r.steps_to_tol is None else str(r.steps_to_tol), _seconds(r.seconds)]
        rows.append(row)
    widths = [max(len(str(x)) for x in column) for column in zip(header, *rows)]
    lines = ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                       for i, (cell, w) in enumerate(zip(line, widths)))
             for line in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _seconds(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


__all__ = ["STEPS", "TOL", "DIGITS_EPOCHS", "DIGITS_BATCH_SIZE", "DIGITS_HIDDEN", "DIGITS_SEED",
           "DIGITS_TOL", "Run", "run_objective", "compare_objective", "run_digits",
           "format_table"]
