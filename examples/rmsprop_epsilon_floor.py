"""RMSProp on J(θ) = θ² does not stay at the minimum: it falls to |θ| ≈ 1e-213, then jumps
back to |θ| = 0.054 near step 1657, and again and again, smaller each time.

    python examples/rmsprop_epsilon_floor.py [--out DIR] [--seed N] [--quick]

RMSProp (lr = 0.01, α = 0.99, ε = 1e-8, the run of ``minigrad compare --problem quadratic``):

    v ← α·v + (1 - α)·g²        θ ← θ - η·g   with the effective learning rate η = lr/(√v + ε)

On θ² the gradient is g = 2θ, so one step multiplies θ by 1 - 2η: it shrinks θ while η < 1
and makes |θ| grow once η > 1 (the stability limit of gradient descent on this parabola).
As θ → 0 the gradients vanish and v forgets them: it decays by α per step, √v by √α = 0.995,
and η = lr/√v rises. When √v falls below lr (step 1293 here), η passes 1 and θ starts to
grow — from 1e-213 it takes until step 1657 to be seen — until the new, larger gradients
refill v and η falls back below 1. Then it starts over.

The ε in the denominator is not the floor that saves it: it caps η at lr/ε = 10⁶, a million
times above the limit, so ε = 1e-8 and ε = 0 give the same bursts. An ε at least
as large as lr (η ≤ lr/ε ≤ 1) removes the bursts. In the long run RMSProp behaves like sign
descent (v ≈ g², steps ≈ lr) and ends bouncing between ±lr/2.
"""

import sys

import numpy as np
from _flags import log_axis_curves, parse_flags

from minigrad.lab import compare
from minigrad.lab import testfunctions as tf
from minigrad.lab.experiment import Experiment

LR, ALPHA, EPS = 0.01, 0.99, 1e-8
BURST = 1e-3  # |θ| above this after having been far below it: a burst


def rmsprop_path(steps: int, eps: float = EPS) -> tuple[np.ndarray, np.ndarray]:
    """θ and the effective learning rate lr/(√v + ε) of each step, written out in NumPy."""
    theta, v = 3.0, 0.0
    thetas, rates = [theta], []
    for _ in range(steps):
        g = 2 * theta
        v = ALPHA * v + (1 - ALPHA) * g * g
        rates.append(LR / (np.sqrt(v) + eps))
        theta -= rates[-1] * g
        thetas.append(theta)
    return np.array(thetas), np.array(rates)


def bursts(theta: np.ndarray) -> np.ndarray:
    """The steps at which |θ| rises through BURST."""
    above = np.abs(theta) > BURST
    return np.flatnonzero(above[1:] & ~above[:-1]) + 1


def main(argv=None) -> int:
    flags, rest = parse_flags(argv, quick="3,000 steps instead of 6,000")
    exp = Experiment(
        "RMSProp on θ²: down to 1e-213, then back up to 0.054",
        claim="RMSProp does not settle at the minimum of θ²: once the gradients vanish, its "
              "effective learning rate lr/(√v + ε) grows past the stability limit 1 and θ "
              "bursts out again; ε = 1e-8 does not prevent it, ε ≥ lr does.",
        argv=rest)
    steps = 3000 if flags.quick else 6000
    run = compare.run_objective(tf.quadratic, "rmsprop", steps, lr=LR)
    theta, rate = rmsprop_path(steps)
    relative = np.abs(run.path[:, 0] - theta) / np.maximum(np.abs(theta), 1e-300)
    exp.check("the NumPy loop is minigrad's RMSProp, step for step",
              relative.max() < 1e-12, f"largest relative difference {relative.max():.1e}")

    size = np.abs(theta)
    lowest = int(np.argmin(size))
    starts = bursts(theta)
    first = int(starts[0])
    peak = first + int(np.argmax(size[first:first + 20]))
    unstable = int(np.argmax(rate > 1)) + 1  # the step whose η first exceeds 1
    print(f"lowest |θ| = {size[lowest]:.3g} at step {lowest}")
    print(f"η = lr/(√v + ε) passes 1 at step {unstable} (√v = {LR / rate[unstable - 1]:.4g})")
    print(f"first burst: |θ| > {BURST:g} at step {first}, peak |θ| = {size[peak]:.3f} at "
          f"step {peak}")
    heights = [float(size[s:s + 20].max()) for s in starts]
    print("bursts at steps " + ", ".join(map(str, starts)) + "; peaks "
          + ", ".join(f"{h:.3f}" for h in heights))
    print(f"after {steps} steps: θ = {theta[-1]:+.6f}, {theta[-2]:+.6f} (lr/2 = {LR / 2})\n")

    exp.check("at 1,000 steps RMSProp looks converged (|θ| < 1e-40)", size[1000] < 1e-40,
              f"|θ| = {size[1000]:.2g}")
    exp.check("it falls to |θ| ≈ 1e-213 (the lowest point)", 1e-220 < size[lowest] < 1e-200,
              f"{size[lowest]:.3g} at step {lowest}")
    exp.check("then η = lr/(√v + ε) passes the stability limit 1 while θ is still falling",
              lowest < unstable + 100 and unstable < first, f"step {unstable}")
    exp.check("and θ jumps back to |θ| ≈ 0.054 near step 1657",
              abs(peak - 1657) <= 2 and abs(size[peak] - 0.054) < 0.001,
              f"|θ| = {size[peak]:.4f} at step {peak}")
    exp.check("the bursts repeat, each lower than the one before",
              len(heights) >= 3 and all(b < a for a, b in zip(heights, heights[1:])),
              f"{len(heights)} bursts")
    no_eps, _ = rmsprop_path(steps, eps=0.0)
    no_eps_starts = bursts(no_eps)
    no_eps_peak = float(np.abs(no_eps[no_eps_starts[0]:no_eps_starts[0] + 20]).max())
    exp.check("ε = 1e-8 plays no part: with ε = 0 the bursts come at the same steps, as high "
              "(within 1%)",
              np.array_equal(no_eps_starts[:3], starts[:3])
              and abs(no_eps_peak / size[peak] - 1) < 0.01,
              f"first peak {no_eps_peak:.4f} with ε = 0")
    big_eps, _ = rmsprop_path(steps, eps=LR)
    exp.check("ε = lr caps η at 1: no burst, θ keeps falling",
              bursts(big_eps).size == 0 and abs(big_eps[-1]) < 1e-100,
              f"|θ| = {abs(big_eps[-1]):.2g} at the end")
    if not flags.quick:
        exp.check("in the long run it bounces between ±lr/2 = ±0.005 (sign descent)",
                  np.allclose(np.abs(theta[-10:]), LR / 2, rtol=1e-4),
                  f"θ = {theta[-1]:+.6f}")

    exp.figure("rmsprop_theta.png", lambda path: log_axis_curves(
        {"RMSProp, ε = 1e-8 (and ε = 0)": size, "RMSProp, ε = lr = 0.01": np.abs(big_eps)},
        path, floor=1e-40, title="RMSProp on θ², lr = 0.01", ylabel="|θ|"))
    exp.figure("rmsprop_rate.png", lambda path: log_axis_curves(
        {"η = lr/(√v + ε)": rate, "stability limit": np.ones_like(rate)},
        path, floor=1e-3, title="RMSProp's effective learning rate", ylabel="η"))
    return exp.finish()


if __name__ == "__main__":
    sys.exit(main())
