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
DIGITS_LR = 0.01  # the learning rate every optimizer gets on digits (unless --tune-lr)


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
                         f"{objective.name}, got {list(theta.array)}")
    opt = make_optimizer(optimizer, [theta], **hyperparameters)
    losses = np.empty(steps + 1)
    path = np.empty((steps + 1, objective.dim))
    diverged = False
    begin = time.perf_counter()
    with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported, not warned
        for k in range(steps + 1):
            path[k] = theta.array
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


def jittered_start(objective: Objective, seed: int,
                   start: Sequence[float] | None = None) -> tuple[float, ...]:
    """The starting point of run ``seed`` of ``compare --seeds``: seed 0 starts at ``start``
    (default: the objective's own), every other seed at a point near it, moved by a normal
    step of 2% of the plotting box (0.1 without a box) per coordinate."""
    point = np.array(objective.start if start is None else start, dtype=np.float64)
    if seed == 0:
        return tuple(point)
    scale = (0.02 * np.array([hi - lo for lo, hi in objective.box]) if objective.box
             else np.full(point.shape, 0.1))
    return tuple(point + scale * np.random.default_rng(seed).standard_normal(point.shape))


def ranking_key(runs: Sequence[Run]) -> tuple:
    """How ``format_table`` ranks an optimizer's runs (one per seed): by the mean steps to
    tolerance (a run that never reached it counts as never), then by the mean final loss;
    diverged runs last."""
    diverged = any(r.diverged for r in runs)
    steps = [r.steps_to_tol for r in runs]
    mean_steps = math.inf if None in steps else float(np.mean(steps))
    losses = [r.final_loss for r in runs]
    mean_loss = float(np.mean(losses)) if all(map(math.isfinite, losses)) else math.inf
    return diverged, mean_steps, mean_loss


def ranking_rule(tol: float, steps_label: str = "steps", loss_label: str = "final loss") -> str:
    """The sentence that says how ``format_table`` ranks."""
    return (f"ranked by {steps_label} to reach and stay within tol {tol:g} (fewest first), "
            f"then by {loss_label} (lowest first)")


def format_table(runs: Sequence[Run], tol: float, steps_label: str = "steps",
                 min_value: float | None = None, loss_label: str = "final loss") -> str:
    """The comparison as a fixed-width text table, ranked as ``ranking_key`` says (the line
    above the table says so). Runs of the same optimizer (several seeds) make one row of
    mean ± standard deviation."""
    groups: dict[str, list[Run]] = {}
    for r in runs:
        groups.setdefault(r.optimizer, []).append(r)
    seeds = max(len(g) for g in groups.values())
    has_accuracy = any("test_accuracy" in r.extra for r in runs)
    has_path = seeds == 1 and any(r.path is not None for r in runs)
    header = ["optimizer", "lr", loss_label]
    if min_value is not None:
        header.append("gap to min")
    if has_accuracy:
        header.append("test acc")
    if has_path:
        header.append("final point")
    header += [f"{steps_label} to tol {tol:g}", "time"]
    rows = []
    for name, group in sorted(groups.items(), key=lambda item: ranking_key(item[1])):
        lrs = sorted({r.hyperparameters.get("lr", float("nan")) for r in group})
        row = [name, "/".join(f"{lr:g}" for lr in lrs)]
        diverged = sum(r.diverged for r in group)
        if diverged:
            row.append("diverged" if diverged == len(group) else f"diverged {diverged}/"
                                                                  f"{len(group)}")
        else:
            row.append(_spread([r.final_loss for r in group], ".6g"))
        if min_value is not None:
            row.append("-" if diverged else _spread([r.final_loss - min_value for r in group],
                                                    ".3g"))
        if has_accuracy:
            row.append(_spread([r.extra.get("test_accuracy", [math.nan])[-1] for r in group],
                               ".4f"))
        if has_path:
            row.append("(" + ", ".join(f"{v:.4g}" for v in group[0].path[-1]) + ")")
        steps = [r.steps_to_tol for r in group]
        reached = [s for s in steps if s is not None]
        if len(reached) == len(steps):
            row.append(_spread(reached, ".0f" if len(reached) > 1 else "d"))
        else:
            row.append("-" if not reached else f"- ({len(reached)}/{len(steps)} reached)")
        row.append(_seconds(float(np.mean([r.seconds for r in group]))))
        rows.append(row)
    widths = [max(len(str(x)) for x in column) for column in zip(header, *rows)]
    lines = ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                       for i, (cell, w) in enumerate(zip(line, widths)))
             for line in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    caption = ranking_rule(tol, steps_label, loss_label)
    if seeds > 1:
        caption += f"; mean ± standard deviation over {seeds} seeds"
    return caption + "\n" + "\n".join(lines)


def _spread(values: Sequence[float], spec: str) -> str:
    """One value as it is; several as mean ± standard deviation."""
    if len(values) == 1:
        return format(values[0], spec)
    return f"{format(float(np.mean(values)), spec)} ± {float(np.std(values)):.2g}"


def _seconds(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


__all__ = ["STEPS", "TOL", "DIGITS_EPOCHS", "DIGITS_BATCH_SIZE", "DIGITS_HIDDEN", "DIGITS_SEED",
           "DIGITS_TOL", "DIGITS_LR", "Run", "run_objective", "compare_objective", "run_digits",
           "jittered_start", "ranking_key", "ranking_rule", "format_table"]
