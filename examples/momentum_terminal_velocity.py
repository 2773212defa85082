"""Momentum's terminal velocity: under a constant gradient, β = 0.9 makes steps 10× larger
than plain gradient descent.

    python examples/momentum_terminal_velocity.py [--out DIR] [--seed N] [--quick]

On the slope f(θ) = g·θ (gradient g everywhere), PyTorch's momentum

    v ← β·v + g,   θ ← θ - lr·v

gives vₜ = g·(1 + β + … + βᵗ⁻¹) = g·(1 - βᵗ)/(1 - β) → g/(1 - β): the step grows to
lr·g/(1 - β), ten times gradient descent's lr·g for β = 0.9 (like a ball reaching its
terminal velocity). Nesterov's look-ahead reaches the same speed. The textbook form with an
average instead of a sum, v ← β·v + (1 - β)·g (``dampening=β``), keeps the plain step.
"""

import sys

import numpy as np
from _flags import parse_flags

import minigrad as mg
from minigrad.lab.experiment import Experiment
from minigrad.viz import plot_curves

G, LR, BETA, STEPS = 2.0, 0.01, 0.9, 100

VARIANTS = {
    "gradient descent": {},
    "momentum (β = 0.9)": {"momentum": BETA},
    "Nesterov (β = 0.9)": {"momentum": BETA, "nesterov": True},
    "averaged momentum (dampening = β)": {"momentum": BETA, "dampening": BETA},
}


def step_sizes(**arguments) -> np.ndarray:
    """The size of each of STEPS steps of SGD(lr=LR, **arguments) on f(θ) = G·θ."""
    theta = mg.tensor([0.0], dtype=mg.float64, requires_grad=True)
    optimizer = mg.optim.SGD([theta], lr=LR, **arguments)
    positions = [0.0]
    for _ in range(STEPS):
        loss = (G * theta).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        positions.append(theta.item())
    return -np.diff(positions)


def main(argv=None) -> int:
    exp = Experiment(
        "Momentum's terminal velocity",
        claim="under a constant gradient, momentum with β = 0.9 takes steps that grow to "
              "1/(1 - β) = 10× those of plain gradient descent, as lr·g·(1 - βᵗ)/(1 - β).",
        argv=parse_flags(argv)[1])
    steps = {label: step_sizes(**arguments) for label, arguments in VARIANTS.items()}
    plain = steps["gradient descent"]

    shown = [1, 2, 5, 10, 20, 50, 100]
    print(f"{'step t':34}" + "".join(f"{t:>9}" for t in shown))
    for label, sizes in steps.items():
        print(f"{label:34}" + "".join(f"{sizes[t - 1] / plain[t - 1]:9.4f}" for t in shown))
    print("(step size divided by gradient descent's, lr·g = "
          f"{LR * G:g})\n")

    t = np.arange(1, STEPS + 1)
    formula = LR * G * (1 - BETA**t) / (1 - BETA)
    momentum = steps["momentum (β = 0.9)"]
    exp.check("momentum's steps follow lr·g·(1 - βᵗ)/(1 - β) at every step",
              np.allclose(momentum, formula, rtol=1e-9),
              f"largest relative difference {np.max(np.abs(momentum / formula - 1)):.1e}")
    ratio = momentum[-1] / plain[-1]
    exp.check("after 100 steps momentum's step is 10× gradient descent's",
              abs(ratio - 10) < 1e-3, f"{ratio:.5f}×")
    nesterov = steps["Nesterov (β = 0.9)"][-1] / plain[-1]
    exp.check("Nesterov reaches the same terminal velocity", abs(nesterov - 10) < 1e-3,
              f"{nesterov:.5f}×")
    averaged = steps["averaged momentum (dampening = β)"][-1] / plain[-1]
    exp.check("the averaged (textbook EMA) form keeps the plain step size",
              abs(averaged - 1) < 1e-3, f"{averaged:.5f}×")

    exp.figure("terminal_velocity.png", lambda path: plot_curves(
        {label: sizes / plain for label, sizes in steps.items()}, path,
        title="step size under a constant gradient, relative to gradient descent",
        ylabel="step / (lr·g)", x=t, reference=1 / (1 - BETA)))
    return exp.finish()


if __name__ == "__main__":
    sys.exit(main())
