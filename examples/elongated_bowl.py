"""Gradient descent in an elongated bowl f(x, y) = ½(x² + κ·y²), κ = 50, from (-8, 1).

    python examples/elongated_bowl.py [--out DIR] [--seed N] [--quick]

The gradient (x, κ·y) points mostly across the valley, so gradient descent with a learning
rate near its stability limit 2/κ bounces from wall to wall (a zig-zag) while it creeps
along the floor. Momentum averages the bouncing away: the components that flip sign cancel in
the velocity and the ones that agree add up. AdaGrad and RMSProp divide each coordinate by the
root of its own average squared gradient, so both directions take steps of about the same
size: their path does not depend on κ at all.
"""

import sys

import numpy as np
from _flags import parse_flags

from minigrad.lab import compare
from minigrad.lab import testfunctions as tf
from minigrad.lab.experiment import Experiment
from minigrad.viz import plot_curves, plot_trajectories

KAPPA, STEPS = 50.0, 200
GD_LR = 1.9 / KAPPA  # just inside gradient descent's stability limit 2/κ
# Momentum's step under a steady gradient grows to lr/(1 - β): this lr gives it the same
# top speed along the valley floor as gradient descent, so only the zig-zag differs.
RUNS = {
    "gradient descent": ("sgd", {"lr": GD_LR}),
    "momentum 0.9": ("momentum", {"lr": GD_LR * (1 - 0.9)}),
    "AdaGrad": ("adagrad", {"lr": 1.0}),
    "RMSProp": ("rmsprop", {"lr": 0.1}),
}


def zigzags(path: np.ndarray, floor: float = 1e-3) -> int:
    """How often y changes sign while it is still more than ``floor`` from the floor."""
    y = path[:, 1]
    big = np.abs(y) > floor
    return int(((np.sign(y[1:]) != np.sign(y[:-1])) & big[1:] & big[:-1]).sum())


def main(argv=None) -> int:
    exp = Experiment(
        f"An elongated bowl f(x, y) = ½(x² + {KAPPA:g}·y²)",
        claim="gradient descent zig-zags across the bowl; momentum damps the zig-zag and "
              "gets closer to the minimum; AdaGrad and RMSProp rescale each direction, so "
              "their first step is equal along x and y and their path is the same for any κ.",
        argv=parse_flags(argv)[1])
    bowl = tf.elongated_bowl(KAPPA)
    runs = {label: compare.run_objective(bowl, name, STEPS, **kw)
            for label, (name, kw) in RUNS.items()}

    print(f"{'method':17} {'lr':>7} {'y sign changes':>14} {'path along y':>12} "
          f"{'|Δy/Δx| step 1':>14} {'distance after 200':>18}")
    stats = {}
    for label, run in runs.items():
        steps = np.diff(run.path, axis=0)
        stats[label] = {
            "zigzags": zigzags(run.path),
            "travel_y": float(np.abs(steps[:, 1]).sum()),  # the straight way is 1
            "first": float(abs(steps[0, 1] / steps[0, 0])),
            "distance": float(np.linalg.norm(run.path[-1])),
        }
        s = stats[label]
        print(f"{label:17} {run.hyperparameters['lr']:7.4g} {s['zigzags']:14d} "
              f"{s['travel_y']:12.2f} {s['first']:14.2f} {s['distance']:18.3g}")
    print()

    gd, mom = stats["gradient descent"], stats["momentum 0.9"]
    exp.check("gradient descent zig-zags: y changes sign at almost every step and travels "
              "more than 10× the straight distance across the valley",
              gd["zigzags"] >= 50 and gd["travel_y"] > 10,
              f"{gd['zigzags']} sign changes, path along y {gd['travel_y']:.1f}")
    exp.check("momentum damps it: at most a third as many sign changes, a shorter path "
              "along y, and closer to the minimum after 200 steps",
              mom["zigzags"] <= gd["zigzags"] / 3 and mom["travel_y"] < gd["travel_y"]
              and mom["distance"] < gd["distance"],
              f"{mom['zigzags']} sign changes, distance {mom['distance']:.2g} vs "
              f"{gd['distance']:.2g}")
    exp.check(f"gradient descent's first step leans κ·|y₀/x₀| = {KAPPA / 8:g}× more along y",
              np.isclose(gd["first"], KAPPA / 8), f"{gd['first']:.3f}")
    for label in ("AdaGrad", "RMSProp"):
        other = compare.run_objective(tf.elongated_bowl(KAPPA / 10), RUNS[label][0], STEPS,
                                      **RUNS[label][1])
        difference = float(np.abs(other.path - runs[label].path).max())
        exp.check(f"{label} rescales each direction: its first step is equal along x and y, "
                  f"and its path is the same for κ = {KAPPA / 10:g} and κ = {KAPPA:g}",
                  np.isclose(stats[label]["first"], 1.0) and difference < 1e-6,
                  f"|Δy/Δx| = {stats[label]['first']:.3f}, paths differ by {difference:.1e}")

    exp.figure("bowl_trajectories.png", lambda path: plot_trajectories(
        bowl, {label: run.path for label, run in runs.items()}, path,
        title=f"½(x² + {KAPPA:g}·y²), {STEPS} steps"))
    exp.figure("bowl_loss.png", lambda path: plot_curves(
        {label: run.losses for label, run in runs.items()}, path, title="elongated bowl",
        ylabel="f(x, y)", log_scale=True))
    return exp.finish()


if __name__ == "__main__":
    sys.exit(main())
