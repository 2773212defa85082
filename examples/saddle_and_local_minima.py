"""Two ways gradient descent gets stuck: a saddle point, and a local minimum.

    python examples/saddle_and_local_minima.py [--out DIR] [--seed N] [--quick]

The saddle: f(x, y) = x² - y² + y⁴/4 (``minigrad.lab.testfunctions.saddle``), started at
(-2, 0.001), almost on the ridge y = 0, lr = 0.01. Near the saddle point (0, 0) the gradient
along y is -2y, tiny, so gradient descent multiplies y by only 1 + 2·lr = 1.02 per step: it
needs ln(100)/ln(1.02) = 233 steps to grow y from 0.001 to 0.1. Momentum (β = 0.9) adds up
those small, consistent pushes: along y it multiplies by the larger root r of
r² - (1 + β + 2·lr)·r + β = 0, r = 1.107 per step, and escapes about five times sooner.

The local minimum: f(x) = x⁴ - 3x² + x has two minima, at the roots of 4x³ - 6x + 1: a
deep one, x = -1.3008 (f = -3.514), and a shallow one, x = 1.1309 (f = -1.070), with a bump
between them at x = 0.1699. Gradient descent from x = 2 rolls into the shallow one and stays;
from x = -2 it finds the deep one: where it ends depends on where it starts. Momentum from
x = 2 carries enough speed over the bump to reach the deep one — but from x = 1 it does not:
momentum helps past a small bump, it does not search for the best minimum.
"""

import sys

import numpy as np
from _flags import parse_flags

import minigrad as mg
from minigrad.lab import compare
from minigrad.lab import testfunctions as tf
from minigrad.lab.experiment import Experiment
from minigrad.viz import plot_curves, plot_trajectories

LR, BETA = 0.01, 0.9
STEPS = 1000


def first_step_beyond(values: np.ndarray, level: float) -> int | None:
    """The first step at which |value| exceeds ``level`` (None if it never does)."""
    beyond = np.flatnonzero(np.abs(values) > level)
    return int(beyond[0]) if beyond.size else None


def two_minima(x):
    return x**4 - 3 * x**2 + x


def descend(x0: float, momentum: float, steps: int = STEPS) -> np.ndarray:
    """x after each step of SGD (with ``momentum``) on x⁴ - 3x² + x from ``x0``."""
    x = mg.tensor([x0], dtype=mg.float64, requires_grad=True)
    optimizer = mg.optim.SGD([x], lr=LR, momentum=momentum)
    path = [x0]
    for _ in range(steps):
        optimizer.zero_grad()
        two_minima(x).sum().backward()
        optimizer.step()
        path.append(x.item())
    return np.array(path)


def main(argv=None) -> int:
    exp = Experiment(
        "Saddle points and local minima",
        claim="momentum escapes a saddle point about five times sooner than gradient descent "
              "(its growth factor along the escape direction is 1.107 per step, against "
              "1.02); gradient descent ends in whichever minimum its start leads to, and "
              "momentum can carry it over a small bump, not always.",
        argv=parse_flags(argv)[1])

    # -- the saddle ------------------------------------------------------------------------
    runs = {name: compare.run_objective(tf.saddle, name, STEPS, lr=LR)
            for name in ("sgd", "momentum", "adam")}
    growth_gd = 1 + 2 * LR
    growth_momentum = max(np.roots([1, -(1 + BETA + 2 * LR), BETA]).real)
    print(f"linearized growth of y per step: gradient descent {growth_gd:.3f}, momentum "
          f"{growth_momentum:.4f}")
    print(f"predicted steps from |y| = 0.001 to 0.1: gradient descent "
          f"{np.log(100) / np.log(growth_gd):.1f}, momentum (after its start-up) "
          f"{np.log(100) / np.log(growth_momentum):.1f}")
    print(f"{'optimizer':10}{'|y| > 0.1':>11}{'|y| > 1':>9}{'f within 1e-6 of -1':>21}")
    escape = {}
    for name, run in runs.items():
        y = run.path[:, 1]
        escape[name] = first_step_beyond(y, 0.1)
        print(f"{name:10}{escape[name]:>11}{first_step_beyond(y, 1.0):>9}"
              f"{run.steps_to_tol if run.steps_to_tol is not None else 'never':>21}")
    print()
    exp.check("gradient descent leaves the saddle as its linearization says: |y| passes 0.1 "
              "after ln(100)/ln(1.02) ≈ 233 steps",
              abs(escape["sgd"] - np.log(100) / np.log(growth_gd)) < 3,
              f"step {escape['sgd']}")
    exp.check("momentum escapes at least 4× sooner", escape["momentum"] * 4 <= escape["sgd"],
              f"step {escape['momentum']}, {escape['sgd'] / escape['momentum']:.1f}× sooner")
    exp.check("both then find a minimum (f = -1)",
              all(abs(runs[n].final_loss + 1) < 1e-6 for n in ("sgd", "momentum")),
              ", ".join(f"{n} f = {runs[n].final_loss:.6f}" for n in ("sgd", "momentum")))

    # -- two minima ------------------------------------------------------------------------
    roots = np.sort(np.roots([4, 0, -6, 1]).real)
    deep, bump, shallow = roots
    print(f"x⁴ - 3x² + x: minima at x = {deep:.4f} (f = {two_minima(deep):.3f}) and "
          f"x = {shallow:.4f} (f = {two_minima(shallow):.3f}), a bump at x = {bump:.4f}")
    paths = {f"{label} from x = {x0:g}": descend(x0, momentum)
             for label, momentum in (("gradient descent", 0.0), ("momentum", BETA))
             for x0 in (2.0, -2.0, 1.0)}
    for name, path in paths.items():
        print(f"  {name:28} ends at x = {path[-1]:+.4f}, f = {two_minima(path[-1]):.3f}")
    print()
    ends = {name: path[-1] for name, path in paths.items()}
    exp.check("gradient descent from x = 2 ends in the shallow minimum, from x = -2 in the "
              "deep one",
              np.isclose(ends["gradient descent from x = 2"], shallow, atol=1e-6)
              and np.isclose(ends["gradient descent from x = -2"], deep, atol=1e-6))
    exp.check("momentum from x = 2 carries over the bump into the deep minimum",
              np.isclose(ends["momentum from x = 2"], deep, atol=1e-6),
              f"it crosses x = {bump:.3f} at step "
              f"{int(np.argmax(paths['momentum from x = 2'] < bump))}")
    exp.check("but from x = 1 momentum stays in the shallow one: no guarantee",
              np.isclose(ends["momentum from x = 1"], shallow, atol=1e-6))

    exp.figure("saddle_trajectories.png", lambda path: plot_trajectories(
        tf.saddle, {name: run.path[:300] for name, run in runs.items()}, path,
        title="escaping the saddle of x² - y² + y⁴/4 (first 300 steps)"))
    exp.figure("saddle_escape.png", lambda path: plot_curves(
        {name: np.abs(run.path[:400, 1]) for name, run in runs.items()}, path,
        ylabel="|y|", log_scale=True, title="leaving the saddle along y"))
    exp.figure("two_minima.png", lambda path: plot_curves(
        {name: p[:300] for name, p in paths.items()}, path, ylabel="x",
        title="x⁴ - 3x² + x: which minimum?"))
    return exp.finish()


if __name__ == "__main__":
    sys.exit(main())
