"""Regenerate every figure of docs/ with minigrad itself.

    python docs/make_figures.py                  # writes docs/figures/*.png and *.svg
    python docs/make_figures.py --out /tmp/figs  # somewhere else
    python docs/make_figures.py --quick          # fewer steps, coarser grids (for the tests)
    python docs/make_figures.py --only adam ema  # just these figures

Every number drawn comes from minigrad: the trajectories from ``minigrad.lab.compare``
running ``minigrad.optim`` on the test functions of ``minigrad.lab.testfunctions``, the
graph from ``minigrad.viz.draw_graph``, the finite-difference errors from minigrad's own
backward. Needs the ``plot`` extra (matplotlib) and, for the graph, Graphviz's ``dot``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

import minigrad as mg
from minigrad import optim
from minigrad.lab import compare
from minigrad.lab import testfunctions as tf
from minigrad.viz import DotNotFoundError, draw_graph, plot_curves, plot_trajectories, save_graph
from minigrad.viz.plots import require_matplotlib

FIGURES = Path(__file__).resolve().parent / "figures"
BOWL = tf.elongated_bowl(condition=20.0)  # curvature 1 along x, 20 along y


def trajectories(objective: tf.Objective, runs: dict[str, tuple[str, dict]], steps: int,
                 path: Path, title: str) -> None:
    """Run each ``label: (optimizer, hyperparameters)`` from the objective's start and draw
    the points visited over its contours."""
    paths = {}
    for label, (name, hyperparameters) in runs.items():
        run = compare.run_objective(objective, name, steps, **hyperparameters)
        paths[label] = run.path
    fig = plot_trajectories(objective, paths, path=path, title=title,
                            resolution=60 if steps < 500 else 200)
    require_matplotlib().close(fig)


# ---------------------------------------------------------------------------------------
# One function per figure: name -> writes <out>/<file>
# ---------------------------------------------------------------------------------------


def graph(out: Path, quick: bool) -> list[Path]:
    """The computation graph of a one-neuron regression loss (docs/autodiff.md)."""
    mg.manual_seed(0)
    w = mg.randn(1, 3, requires_grad=True)
    b = mg.zeros(1, requires_grad=True)
    x = mg.tensor([[0.5, -1.0, 2.0]])
    y = mg.tensor([1.0])
    loss = ((mg.tanh(x @ w.T + b) - y) ** 2).mean()
    drawing = draw_graph(loss, params={"w": w, "b": b, "x": x, "y": y})
    target = out / "graph.svg"
    try:
        save_graph(drawing, target)
    except DotNotFoundError:
        target = out / "graph.dot"  # no `dot` here: keep the source, say so
        save_graph(drawing, target)
        print("note: Graphviz's dot is not installed; wrote graph.dot instead of graph.svg")
    return [target]


def ema(out: Path, quick: bool) -> list[Path]:
    """Exponentially weighted moving averages: lag and smoothing (left), bias correction
    (right) — computed with the in-place helpers the optimizers use (docs/optimizers.md)."""
    from minigrad.optim._moments import bias_correction, ema_

    plt = require_matplotlib()
    generator = np.random.default_rng(0)
    steps = np.arange(1, 121)
    signal = np.where(steps < 60, 1.0, 3.0) + 0.6 * generator.standard_normal(steps.size)

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8))
    left.plot(steps, signal, ".", color="0.6", markersize=4, label="data x_t")
    for beta in (0.5, 0.9, 0.98):
        avg, tmp, values = np.zeros(1), np.zeros(1), []
        for x in signal:
            ema_(avg, np.array([x]), beta, tmp)
            values.append(avg[0] / bias_correction(beta, len(values) + 1))
        left.plot(steps, values, label=f"β = {beta} (≈ last {1 / (1 - beta):.0f} steps)")
    left.set_title("larger β: smoother, and later to follow a change")
    left.set_xlabel("step t")
    left.legend(fontsize=8)
    left.grid(alpha=0.3)

    beta, constant = 0.9, np.full(40, 2.0)
    avg, tmp, raw, corrected = np.zeros(1), np.zeros(1), [], []
    for t, x in enumerate(constant, start=1):
        ema_(avg, np.array([x]), beta, tmp)
        raw.append(avg[0])
        corrected.append(avg[0] / bias_correction(beta, t))
    right.plot(range(1, 41), raw, label="m_t, started at 0")
    right.plot(range(1, 41), corrected, linewidth=3, label="m_t / (1 − β^t)")
    right.plot(range(1, 41), constant, "--", color="0.2", label="data (always 2)")
    right.set_title("bias correction, β = 0.9")
    right.set_xlabel("step t")
    right.set_ylim(0, 2.4)
    right.legend(fontsize=8)
    right.grid(alpha=0.3)
    fig.tight_layout()
    target = out / "ema.png"
    fig.savefig(target, dpi=110)
    plt.close(fig)
    return [target]


def learning_rate(out: Path, quick: bool) -> list[Path]:
    """Gradient descent on θ² with four learning rates: θ ← (1 − 2η)·θ (docs/optimizers.md)."""
    steps = 15 if quick else 30
    curves = {}
    for lr in (0.05, 0.4, 0.9, 1.05):
        run = compare.run_objective(tf.quadratic, "sgd", steps, lr=lr)
        curves[f"η = {lr}:  θ × ({1 - 2 * lr:+.1f}) per step"] = run.losses
    plt = require_matplotlib()
    target = out / "learning_rate.png"
    fig = plot_curves(curves, path=target, title="gradient descent on J(θ) = θ², θ₀ = 3",
                      ylabel="J(θ)", log_scale=True)
    plt.close(fig)
    return [target]


def gradient_descent(out: Path, quick: bool) -> list[Path]:
    steps = 20 if quick else 40
    target = out / "gd.png"
    trajectories(BOWL, {
        "η = 0.02": ("sgd", {"lr": 0.02}),
        "η = 0.09 (< 2/κ = 0.1)": ("sgd", {"lr": 0.09}),
        "η = 0.101 (> 2/κ)": ("sgd", {"lr": 0.101}),
    }, steps, target, f"gradient descent, {BOWL.formula}")
    return [target]


def momentum(out: Path, quick: bool) -> list[Path]:
    steps = 40 if quick else 150
    target = out / "momentum.png"
    trajectories(BOWL, {
        "SGD, lr 0.02": ("sgd", {"lr": 0.02}),
        "SGD momentum 0.9, lr 0.02": ("momentum", {"lr": 0.02}),
        "momentum 0.9, dampening 0.9, lr 0.02": ("momentum", {"lr": 0.02, "dampening": 0.9}),
    }, steps, target, f"momentum, {BOWL.formula}")
    return [target]


def nesterov(out: Path, quick: bool) -> list[Path]:
    steps = 40 if quick else 150
    target = out / "nesterov.png"
    trajectories(BOWL, {
        "momentum 0.9, lr 0.04": ("momentum", {"lr": 0.04}),
        "Nesterov 0.9, lr 0.04": ("nesterov", {"lr": 0.04}),
    }, steps, target, f"Nesterov momentum, {BOWL.formula}")
    return [target]


def adagrad(out: Path, quick: bool) -> list[Path]:
    steps = 200 if quick else 3000
    target = out / "adagrad.png"
    trajectories(tf.beale, {
        "SGD, lr 1e-3": ("sgd", {"lr": 1e-3}),
        "Adagrad, lr 0.5": ("adagrad", {"lr": 0.5}),
        "Adagrad, lr 0.1": ("adagrad", {"lr": 0.1}),
    }, steps, target, f"Adagrad, {steps} steps on Beale's function")
    return [target]


def rmsprop(out: Path, quick: bool) -> list[Path]:
    steps = 200 if quick else 3000
    target = out / "rmsprop.png"
    trajectories(tf.rosenbrock, {
        "Adagrad, lr 0.02": ("adagrad", {"lr": 0.02}),
        "RMSprop, lr 0.02": ("rmsprop", {"lr": 0.02}),
        "RMSprop, lr 0.002": ("rmsprop", {"lr": 0.002}),
    }, steps, target, f"RMSprop, {steps} steps on Rosenbrock's function")
    return [target]


def adam(out: Path, quick: bool) -> list[Path]:
    steps = 200 if quick else 3000
    target = out / "adam.png"
    trajectories(tf.rosenbrock, {
        "SGD momentum 0.9, lr 2e-4": ("momentum", {"lr": 2e-4}),
        "RMSprop, lr 0.02": ("rmsprop", {"lr": 0.02}),
        "Adam, lr 0.02": ("adam", {"lr": 0.02}),
    }, steps, target, f"Adam, {steps} steps on Rosenbrock's function")
    return [target]


def adamw(out: Path, quick: bool) -> list[Path]:
    steps = 200 if quick else 3000
    target = out / "adamw.png"
    trajectories(tf.rosenbrock, {
        "Adam": ("adam", {"lr": 0.02}),
        "Adam, weight_decay 0.3 (L2 in g)": ("adam", {"lr": 0.02, "weight_decay": 0.3}),
        "AdamW, weight_decay 0.3 (decoupled)": ("adamw", {"lr": 0.02, "weight_decay": 0.3}),
    }, steps, target, f"AdamW, {steps} steps on Rosenbrock's function, lr 0.02")
    return [target]


def nadam(out: Path, quick: bool) -> list[Path]:
    steps = 200 if quick else 3000
    target = out / "nadam.png"
    trajectories(tf.rosenbrock, {
        "Adam, lr 0.02": ("adam", {"lr": 0.02}),
        "NAdam, lr 0.02": ("nadam", {"lr": 0.02}),
    }, steps, target, f"NAdam, {steps} steps on Rosenbrock's function")
    return [target]


def finite_differences(out: Path, quick: bool) -> list[Path]:
    """Error of forward and central differences against the step, float32 and float64,
    measured against the gradient minigrad's backward computes in float64
    (docs/gradcheck.md)."""

    def f(x):
        return mg.exp(mg.sin(x)) * x

    point = 0.7
    x = mg.tensor([point], dtype=mg.float64, requires_grad=True)
    f(x).sum().backward()
    exact = float(x.grad.item())

    steps = np.logspace(-14, -1, 27 if quick else 105)
    curves = {}
    for dtype, label in ((mg.float32, "float32"), (mg.float64, "float64")):

        def value(at, dtype=dtype):
            return float(f(mg.tensor([at], dtype=dtype)).item())

        forward, central = [], []
        for eps in steps:
            step = float(np.asarray(eps, dtype=dtype))
            forward.append(abs((value(point + step) - value(point)) / step - exact))
            central.append(abs((value(point + step) - value(point - step)) / (2 * step) - exact))
        curves[f"forward, {label}"] = forward
        curves[f"central, {label}"] = central

    plt = require_matplotlib()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    styles = {"forward": "--", "central": "-"}
    for name, errors in curves.items():
        errors = np.where(np.asarray(errors) > 0, errors, np.nan)
        ax.loglog(steps, errors, styles[name.split(",")[0]], label=name,
                  color="C0" if "float64" in name else "C3")
    ax.set_xlabel("step ε")
    ax.set_ylabel("|finite difference − exact derivative|")
    ax.set_title("d/dx [x·exp(sin x)] at x = 0.7")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    fig.tight_layout()
    target = out / "finite_differences.png"
    fig.savefig(target, dpi=110)
    plt.close(fig)
    return [target]


def gd_variants(out: Path, quick: bool) -> list[Path]:
    """Full-batch, mini-batch and stochastic gradient descent on the digits MLP, training
    loss per epoch (docs/training.md)."""
    epochs = 2 if quick else 10
    curves = {}
    for label, batch_size, lr in (("full batch, lr 0.5", None, 0.5),
                                  ("mini-batch 32, lr 0.05", 32, 0.05),
                                  ("stochastic (1), lr 0.005", 1, 0.005)):
        if quick and batch_size == 1:
            continue  # 1,437 steps an epoch: too slow for the quick run
        run = compare.run_digits("sgd", epochs=epochs, batch_size=batch_size, lr=lr,
                                 hidden=(64,), seed=0)
        curves[label] = run.losses
    plt = require_matplotlib()
    target = out / "gd_variants.png"
    fig = plot_curves(curves, path=target, title="plain SGD on the digits MLP 64-64-10",
                      xlabel="epoch", ylabel="mean training loss of the epoch",
                      log_scale=True, x=range(1, epochs + 1))
    plt.close(fig)
    return [target]


def schedulers(out: Path, quick: bool) -> list[Path]:
    """The learning rate each scheduler gives, epoch by epoch (docs/training.md)."""
    from minigrad.optim import lr_scheduler

    makers = {
        "StepLR(step_size=30, gamma=0.3)": lambda o: lr_scheduler.StepLR(o, 30, gamma=0.3),
        "ExponentialLR(gamma=0.97)": lambda o: lr_scheduler.ExponentialLR(o, gamma=0.97),
        "CosineAnnealingLR(T_max=100)": lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=100),
        "LinearLR(start_factor=0.1, total_iters=10)":
            lambda o: lr_scheduler.LinearLR(o, start_factor=0.1, total_iters=10),
    }
    curves = {}
    for name, make in makers.items():
        optimizer = optim.SGD([mg.zeros(1, requires_grad=True)], lr=0.1)
        scheduler = make(optimizer)
        rates = []
        for _ in range(100):
            rates.append(scheduler.get_last_lr()[0])
            optimizer.step()
            scheduler.step()
        curves[name] = rates
    plt = require_matplotlib()
    target = out / "schedulers.png"
    fig = plot_curves(curves, path=target, title="learning rate per epoch, starting at 0.1",
                      xlabel="epoch", ylabel="lr")
    plt.close(fig)
    return [target]


def conv_as_matmul(out: Path, quick: bool) -> list[Path]:
    """A convolution as a matrix product over patches (docs/convolution.md), drawn by
    docs/make_conv_figure.py, loaded from its file (docs/ is not a package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "make_conv_figure", Path(__file__).resolve().parent / "make_conv_figure.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.conv_as_matmul(out, quick)


FIGURE_MAKERS: dict[str, Callable[[Path, bool], list[Path]]] = {
    "graph": graph,
    "ema": ema,
    "learning_rate": learning_rate,
    "gd": gradient_descent,
    "momentum": momentum,
    "nesterov": nesterov,
    "adagrad": adagrad,
    "rmsprop": rmsprop,
    "adam": adam,
    "adamw": adamw,
    "nadam": nadam,
    "finite_differences": finite_differences,
    "gd_variants": gd_variants,
    "schedulers": schedulers,
    "conv_as_matmul": conv_as_matmul,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Regenerate the figures of docs/.")
    parser.add_argument("--out", type=Path, default=FIGURES,
                        help="folder to write into (default: docs/figures)")
    parser.add_argument("--quick", action="store_true",
                        help="fewer steps and coarser grids: checks the script, not the figures")
    parser.add_argument("--only", nargs="+", choices=sorted(FIGURE_MAKERS), metavar="NAME",
                        help=f"make only these figures: {', '.join(FIGURE_MAKERS)}")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.only or FIGURE_MAKERS:
        begin = time.perf_counter()
        written = FIGURE_MAKERS[name](args.out, args.quick)
        files = ", ".join(p.name for p in written)
        print(f"{name:20s} {files}  ({time.perf_counter() - begin:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
