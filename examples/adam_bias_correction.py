"""Adam with and without bias correction, over the first steps.

    python examples/adam_bias_correction.py [--out DIR] [--seed N] [--quick]

Adam keeps two averages that start at zero, m (of g, β₁ = 0.9) and v (of g², β₂ = 0.999),
and steps by lr·m̂/(√v̂ + ε) with the corrected averages m̂ = m/(1 - β₁ᵗ), v̂ = v/(1 - β₂ᵗ).
Without the correction the step is lr·m/(√v + ε): for the same gradients it is
(1 - β₁ᵗ)/√(1 - β₂ᵗ) times the corrected one — 0.1/√0.001 ≈ 3.16× at t = 1, more in the
following steps, and it takes thousands of steps to come back to 1, because v's start from
zero is forgotten a hundred times more slowly than m's.

Much course material says the opposite: that without bias correction "learning is
initially very slow". That is true of an average used on its own — momentum written as
v ← β·v + (1 - β)·g, θ ← θ - lr·v starts at v₁ = 0.1·g₁, a first step 10× too small — and
of m alone in Adam (m₁ = 0.1·g₁). But Adam divides m by √v, and v starts even further from
its target: √v₁ = √0.001·|g₁| = 0.0316·|g₁|. The quotient m₁/√v₁ = 0.1/0.0316 = 3.16 is too
large, not too small. The correction of the denominator matters more than the numerator's.

The Adam below is written out in NumPy so that the correction can be switched off; with it on
it is checked against ``minigrad.optim.Adam``, step for step.
"""

import sys

import numpy as np
from _flags import parse_flags

import minigrad as mg
from minigrad.lab import testfunctions as tf
from minigrad.lab.experiment import Experiment
from minigrad.viz import plot_curves

BETA1, BETA2, EPS = 0.9, 0.999, 1e-8
LR, STEPS = 0.1, 50


def adam_path(gradient, theta0, steps: int, bias_correction: bool = True):
    """Adam's iterates from theta0, and the steps it took (NumPy, float64)."""
    theta = np.array(theta0, dtype=np.float64)
    m, v = np.zeros_like(theta), np.zeros_like(theta)
    path, step_sizes = [theta.copy()], []
    for t in range(1, steps + 1):
        g = gradient(theta)
        m = BETA1 * m + (1 - BETA1) * g
        v = BETA2 * v + (1 - BETA2) * g * g
        if bias_correction:
            m_hat, v_hat = m / (1 - BETA1**t), v / (1 - BETA2**t)
        else:
            m_hat, v_hat = m, v
        step = LR * m_hat / (np.sqrt(v_hat) + EPS)
        theta = theta - step
        path.append(theta.copy())
        step_sizes.append(float(np.linalg.norm(step)))
    return np.array(path), np.array(step_sizes)


def minigrad_adam_path(objective, theta0, steps: int) -> np.ndarray:
    theta = mg.tensor(theta0, dtype=mg.float64, requires_grad=True)
    optimizer = mg.optim.Adam([theta], lr=LR, betas=(BETA1, BETA2), eps=EPS)
    path = [theta.array.copy()]
    for _ in range(steps):
        optimizer.zero_grad()
        objective(theta).backward()
        optimizer.step()
        path.append(theta.array.copy())
    return np.array(path)


def first_moments(objective, start):
    """g₁, and Adam's state after its first step: m₁ (``exp_avg``), v₁ (``exp_avg_sq``)."""
    theta = mg.tensor(start, dtype=mg.float64, requires_grad=True)
    optimizer = mg.optim.Adam([theta], lr=LR, betas=(BETA1, BETA2), eps=EPS)
    objective(theta).backward()
    g1 = theta.grad.array.copy()
    optimizer.step()
    state = optimizer.state[theta]
    return g1, np.asarray(state["exp_avg"]), np.asarray(state["exp_avg_sq"])


def gradient_of(objective):
    def gradient(point):
        theta = mg.tensor(point, dtype=mg.float64, requires_grad=True)
        objective(theta).backward()
        return theta.grad.array
    return gradient


def main(argv=None) -> int:
    exp = Experiment(
        "Adam with and without bias correction",
        claim="bias correction makes Adam's first step exactly lr whatever the gradient's "
              "scale; without it the early steps are too large — not too slow, as course "
              "texts say of an uncorrected average — by (1 - β₁ᵗ)/√(1 - β₂ᵗ): 3.16× at "
              "t = 1 with the default betas.",
        argv=parse_flags(argv)[1])
    objective = tf.rosenbrock
    gradient = gradient_of(objective)
    start = objective.start
    corrected, corrected_steps = adam_path(gradient, start, STEPS, bias_correction=True)
    raw, raw_steps = adam_path(gradient, start, STEPS, bias_correction=False)

    reference = minigrad_adam_path(objective, start, STEPS)
    exp.check("the NumPy Adam with correction is minigrad.optim.Adam, step for step",
              np.allclose(corrected, reference, rtol=0, atol=1e-12),
              f"largest difference {np.abs(corrected - reference).max():.1e}")

    # The same gradients, both ways: the ratio of the steps is (1 - β₁ᵗ)/√(1 - β₂ᵗ).
    t = np.arange(1, 5001)
    ratio = (1 - BETA1**t) / np.sqrt(1 - BETA2**t)
    print("t:                          " + "".join(f"{k:>8}" for k in (1, 2, 5, 10, 100, 1000,
                                                                       5000)))
    print("uncorrected / corrected:    " + "".join(f"{ratio[k - 1]:8.3f}" for k in
                                                   (1, 2, 5, 10, 100, 1000, 5000)))
    peak = int(np.argmax(ratio)) + 1
    print(f"largest at t = {peak}: {ratio.max():.2f}×\n")

    for scale in (1e-3, 1.0, 1e3):
        path, _ = adam_path(lambda x, s=scale: s * gradient(x), start, 1)
        moves = np.abs(path[1] - path[0])
        exp.check(f"with correction the first step moves each coordinate by exactly "
                  f"lr = {LR:g} (gradient scaled by {scale:g})",
                  np.allclose(moves, LR, rtol=1e-6),
                  "moves " + ", ".join(f"{m:.6f}" for m in moves))
    g1, m1, v1 = first_moments(objective, start)
    print(f"first gradient g₁ = {g1}: m₁/g₁ = {m1[0] / g1[0]:.4f} (too small), "
          f"√v₁/|g₁| = {np.sqrt(v1[0]) / abs(g1[0]):.4f} (far too small), "
          f"m₁/√v₁ = {m1[0] / np.sqrt(v1[0]) * np.sign(g1[0]):.4f} (too large)")
    exp.check("the 'initially very slow' of the course texts is the numerator alone: "
              "minigrad's Adam holds m₁ = (1 - β₁)·g₁ = 0.1·g₁ (an average started at 0), "
              "and v₁ = (1 - β₂)·g₁², so √v₁ = 0.0316·|g₁|",
              np.allclose(m1 / g1, 1 - BETA1, rtol=1e-12)
              and np.allclose(np.sqrt(v1) / np.abs(g1), np.sqrt(1 - BETA2), rtol=1e-12),
              f"m₁/g₁ = {m1[0] / g1[0]:.3f}")
    first_ratio = raw_steps[0] / corrected_steps[0]
    exp.check("without correction the first step is (1 - β₁)/√(1 - β₂) = 3.162× larger",
              np.isclose(first_ratio, (1 - BETA1) / np.sqrt(1 - BETA2), rtol=1e-6),
              f"{first_ratio:.4f}×")
    exp.check("the early steps stay too large: the ratio exceeds 3 for every t ≤ 100 and "
              "is still above 1.1 at t = 1000",
              (ratio[:100] > 3).all() and ratio[999] > 1.1,
              f"{ratio[99]:.2f}× at t = 100, {ratio[999]:.3f}× at t = 1000")

    print(f"Rosenbrock from {start}, lr = {LR:g}: first steps (size of each step)")
    for k in range(5):
        print(f"  t = {k + 1}: corrected {corrected_steps[k]:.4f}   uncorrected "
              f"{raw_steps[k]:.4f}")
    print(f"after {STEPS} steps: f = {objective.value(corrected[-1]):.4g} (corrected), "
          f"{objective.value(raw[-1]):.4g} (uncorrected)\n")

    exp.figure("adam_bias_ratio.png", lambda path: plot_curves(
        {"(1 - β₁ᵗ)/√(1 - β₂ᵗ)": ratio}, path, x=t, xlabel="step t",
        ylabel="uncorrected step / corrected step",
        title="Adam without bias correction: how much too large", reference=1.0))
    exp.figure("adam_bias_steps.png", lambda path: plot_curves(
        {"with bias correction": corrected_steps, "without": raw_steps}, path,
        x=np.arange(1, STEPS + 1), ylabel="step size", title="Adam's first steps on "
        "Rosenbrock", log_scale=True))
    return exp.finish()


if __name__ == "__main__":
    sys.exit(main())
