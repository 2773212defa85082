"""The exponentially weighted moving average, the building block of momentum, RMSProp and Adam:

    vₜ = β·vₜ₋₁ + (1 - β)·xₜ

    python examples/ewma_prices.py [--out DIR] [--seed N] [--quick]

Texts start it in one of three ways, and their numbers differ in the first steps:

    from zero        v₀ = 0                   (Adam's m and v; most course notes)
    bias-corrected   v̂ₜ = vₜ / (1 - βᵗ)       (Adam's m̂ and v̂; pandas ewm(adjust=True))
    head start       v₁ = x₁                  (PyTorch's momentum buffer, which starts at
                                               g₁; pandas ewm(adjust=False); the classic
                                               worked example on prices)

First over five prices [12.30, 11.00, 10.20, 10.50, 11.10] (plain mean 11.02) with β = 0.2
and β = 0.5, in all three conventions, then over a long noisy series. A larger β smooths
more and lags more: on a steady trend the average trails by β/(1 - β) steps, and it cuts
the standard deviation of white noise by √((1 - β)/(1 + β)).
"""

import sys

import numpy as np
from _flags import parse_flags

import minigrad as mg
from minigrad.lab.experiment import Experiment
from minigrad.viz import plot_curves

PRICES = [12.30, 11.00, 10.20, 10.50, 11.10]
BETAS = (0.2, 0.5)


def ewma(xs, beta: float) -> np.ndarray:
    """vₜ = β·vₜ₋₁ + (1 - β)·xₜ from v₀ = 0."""
    v, out = 0.0, []
    for x in xs:
        v = beta * v + (1 - beta) * x
        out.append(v)
    return np.array(out)


def head_start(xs, beta: float) -> np.ndarray:
    """vₜ = β·vₜ₋₁ + (1 - β)·xₜ from v₁ = x₁: the first value is taken as it is."""
    out = [float(xs[0])]
    for x in xs[1:]:
        out.append(beta * out[-1] + (1 - beta) * x)
    return np.array(out)


def state_after_each_step(xs, make_optimizer, key: str) -> np.ndarray:
    """Feed xₜ to an optimizer as the gradient of one parameter, and read the average it
    keeps (``state[key]``) after each step."""
    p = mg.tensor([0.0], dtype=mg.float64, requires_grad=True)
    optimizer = make_optimizer([p])
    out = []
    for x in xs:
        p.grad = mg.tensor([x], dtype=mg.float64)
        optimizer.step()
        out.append(float(np.asarray(optimizer.state[p][key]).item()))
    return np.array(out)


def momentum_buffer(xs, beta: float) -> np.ndarray:
    """PyTorch's (and minigrad's) SGD velocity with dampening = momentum = β. Its first
    value is g₁ itself: the head start."""
    return state_after_each_step(
        xs, lambda params: mg.optim.SGD(params, lr=0.0, momentum=beta, dampening=beta),
        "momentum_buffer")


def debiased(averages: np.ndarray, beta: float) -> np.ndarray:
    t = np.arange(1, len(averages) + 1)
    return averages / (1 - beta**t)


def adam_first_moment(xs, beta: float) -> np.ndarray:
    """The same average as kept by Adam (``exp_avg``), started at zero."""
    return state_after_each_step(
        xs, lambda params: mg.optim.Adam(params, betas=(beta, 0.999)), "exp_avg")


def total_variation(xs) -> float:
    return float(np.abs(np.diff(xs)).sum())


def main(argv=None) -> int:
    flags, rest = parse_flags(argv, seed="the noise of the long series")
    exp = Experiment(
        "Exponentially weighted moving averages: smoothing and lag",
        claim="the three ways of starting the average (from zero, bias-corrected, head start "
              "v₁ = x₁) differ only in the first steps, by βᵗ; "
              "a larger β gives a smoother average that lags more: on the prices, β = 0.5 "
              "varies less than β = 0.2, which varies less than the prices; on a trend the "
              "average trails by β/(1 - β) steps; white noise shrinks by √((1 - β)/(1 + β)).",
        argv=rest)

    print(f"plain mean of the prices: {np.mean(PRICES):.2f}")
    print("the three conventions, β = 0.2:")
    print("t  price   from zero  bias-corrected  head start")
    conventions = {"from zero": ewma(PRICES, 0.2), "bias-corrected": debiased(
        ewma(PRICES, 0.2), 0.2), "head start": head_start(PRICES, 0.2)}
    for t, price in enumerate(PRICES):
        print(f"{t + 1}  {price:5.2f}   " + "  ".join(
            f"{values[t]:{len(name)}.4f}" for name, values in conventions.items()))
    print()
    exp.check("the plain mean of the five prices is 11.02",
              np.isclose(np.mean(PRICES), 11.02), f"{np.mean(PRICES):.4f}")
    started = conventions["head start"]
    exp.check("head start, β = 0.2: v₁ = 12.30, v₂ = 0.2·12.30 + 0.8·11.00 = 11.26, "
              "v₃ = 0.2·11.26 + 0.8·10.20 = 10.41",
              np.allclose(started[:3], [12.30, 11.26, 10.412], atol=1e-12),
              f"v₂ = {started[1]:.4f}, v₃ = {started[2]:.4f}")
    exp.check("the head start is PyTorch's momentum buffer (SGD with momentum = dampening = "
              "β, which starts at g₁), and differs from the zero start by βᵗ·x₁",
              np.allclose(momentum_buffer(PRICES, 0.2), started, rtol=1e-12)
              and np.allclose(started - conventions["from zero"],
                              0.2 ** np.arange(1, 6) * PRICES[0], rtol=1e-9),
              f"v₅: {started[-1]:.4f} head start, {conventions['from zero'][-1]:.4f} from "
              "zero")
    print()

    print("t  price   " + "   ".join(f"v (β={b})  v̂ (β={b})" for b in BETAS))
    averages = {b: ewma(PRICES, b) for b in BETAS}
    corrected = {b: debiased(averages[b], b) for b in BETAS}
    for t, price in enumerate(PRICES):
        print(f"{t + 1}  {price:5.2f}   " + "   ".join(
            f"{averages[b][t]:9.4f}  {corrected[b][t]:10.4f}" for b in BETAS))
    print()

    # The recursion, written out, is a weighted sum: vₜ = Σₖ (1 - β)·β^(t-k)·xₖ.
    for b in BETAS:
        t = len(PRICES)
        weights = (1 - b) * b ** np.arange(t - 1, -1, -1)
        exp.check(f"β = {b}: v₅ is the weighted sum Σ (1-β)·β^(5-k)·xₖ, and Adam's first "
                  "moment is the same average",
                  np.isclose(averages[b][-1], weights @ PRICES, rtol=1e-12)
                  and np.allclose(adam_first_moment(PRICES, b), averages[b], rtol=1e-12),
                  f"v₅ = {averages[b][-1]:.4f}")
    exp.check("bias correction: the first corrected average is the first price", all(
        np.isclose(corrected[b][0], PRICES[0]) for b in BETAS))
    tv = {b: total_variation(corrected[b]) for b in BETAS}
    exp.check("smoothing: total variation prices > β = 0.2 > β = 0.5 (bias-corrected)",
              total_variation(PRICES) > tv[0.2] > tv[0.5],
              f"{total_variation(PRICES):.3f} > {tv[0.2]:.3f} > {tv[0.5]:.3f}")

    # Lag: on a steady trend xₜ = c·t the average settles at c·(t - β/(1 - β)).
    ramp = np.arange(200.0)
    for b in BETAS:
        lag = ramp[-1] - ewma(ramp, b)[-1]
        exp.check(f"lag: on a trend, β = {b} trails by β/(1 - β) = {b / (1 - b):g} steps",
                  np.isclose(lag, b / (1 - b), rtol=1e-9), f"measured {lag:.6f}")

    # A noisy series: a slow wave plus white noise of standard deviation 1.
    generator = np.random.default_rng(flags.seed)
    t = np.arange(5000)
    signal = 10 + 3 * np.sin(2 * np.pi * t / 1000)
    noisy = signal + generator.standard_normal(t.size)
    for b in BETAS:
        residual = debiased(ewma(noisy, b), b)[100:] - signal[100:]
        expected = np.sqrt((1 - b) / (1 + b))
        exp.check(f"noise: β = {b} leaves {expected:.3f} of the noise's standard deviation",
                  abs(residual.std() / expected - 1) < 0.05, f"measured {residual.std():.3f}")

    exp.figure("ewma_prices.png", lambda path: plot_curves(
        {"prices": PRICES, **{f"β = {b} (bias-corrected)": corrected[b] for b in BETAS},
         **{f"β = {b} (from 0)": averages[b] for b in BETAS},
         **{f"β = {b} (head start)": head_start(PRICES, b) for b in BETAS}},
        path, title="EWMA of five prices", xlabel="day", ylabel="price",
        x=range(1, len(PRICES) + 1)))
    window = slice(0, 300)
    exp.figure("ewma_noisy.png", lambda path: plot_curves(
        {"noisy series": noisy[window], "signal": signal[window],
         **{f"β = {b}": debiased(ewma(noisy, b), b)[window] for b in (*BETAS, 0.9)}},
        path, title="EWMA of a noisy series: larger β, smoother and later",
        ylabel="value"))
    return exp.finish()


if __name__ == "__main__":
    sys.exit(main())
