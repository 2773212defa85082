"""Batch, mini-batch and stochastic gradient descent, side by side.

    python examples/gradient_descent_variants.py [--out DIR] [--seed N] [--quick]

The same MLP (64-64-10, the same initial weights) is trained on the digits data three ways,
with the same plain SGD update and only the loader changing:

    full batch   DataLoader(data, batch_size=None)   1 step per epoch, the exact gradient
    mini-batch   DataLoader(data, batch_size=32)     45 steps per epoch, a noisy gradient
    stochastic   DataLoader(data, batch_size=1)      1,437 steps per epoch, a very noisy one

The noise, measured: the gradient of a batch of B samples drawn without replacement from N
is the full gradient plus an error whose mean squared size is

    E‖g_B - g‖² = (σ²/B)·(N - B)/(N - 1)       σ² = the mean of ‖gᵢ - g‖² over the samples

0 for the full batch, σ² for one sample, about σ²/32 for 32. The example measures it at the
initial weights, against this closed form, and shows the loss of every step (the loss of
the batch the step was computed on): flat for the full batch, a band for mini-batches, a
cloud for single samples. Per epoch the smaller batches still make far more progress
(more steps), and per second of wall time mini-batches win, because each step vectorizes
32 samples for about the cost of one.
"""

from __future__ import annotations

import sys
import time

import numpy as np
from _flags import parse_flags

import minigrad as mg
from minigrad import nn, optim
from minigrad.data import DataLoader, TensorDataset
from minigrad.lab.experiment import Experiment
from minigrad.training import digits_split, evaluate, make_mlp
from minigrad.viz import plot_curves

REGIMES = {  # name: (batch_size, learning rate)
    "full batch": (None, 0.5),
    "mini-batch (32)": (32, 0.05),
    "stochastic (1)": (1, 0.005),
}


def train(batch_size, lr, epochs, data, seed=0, evaluations_per_epoch=8):
    """Train one regime. Records the loss of every step's batch (``step_loss``) and, at
    ``evaluations_per_epoch`` checkpoints per epoch, the full training loss against epochs
    and seconds (with the evaluation time left out)."""
    X_train, X_test, y_train, y_test = data
    mg.manual_seed(seed)  # the same initial weights for every regime
    model = make_mlp([64, 64, 10])
    optimizer = optim.SGD(model.parameters(), lr=lr)
    loader = DataLoader(TensorDataset(X_train, y_train), batch_size=batch_size, shuffle=True,
                        seed=seed)
    loss_fn = nn.CrossEntropyLoss()
    X_all, y_all = mg.tensor(X_train), mg.tensor(y_train)
    every = max(1, len(loader) // evaluations_per_epoch)
    history = {"epoch": [0.0], "seconds": [0.0],
               "train_loss": [evaluate(model, X_all, y_all)[0]], "step_loss": []}
    elapsed = 0.0
    for epoch in range(epochs):
        start = time.perf_counter()
        for step, (xb, yb) in enumerate(loader, 1):
            loss = loss_fn(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            history["step_loss"].append(loss.item())
            if step % every == 0 or step == len(loader):
                elapsed += time.perf_counter() - start
                history["epoch"].append(epoch + step / len(loader))
                history["seconds"].append(elapsed)
                history["train_loss"].append(evaluate(model, X_all, y_all)[0])
                start = time.perf_counter()
    history["test_accuracy"] = evaluate(model, mg.tensor(X_test), mg.tensor(y_test))[1]
    history["steps_per_epoch"] = len(loader)
    return history


def flat_gradient(model, loss) -> np.ndarray:
    model.zero_grad()
    loss.backward()
    return np.concatenate([p.grad.array.ravel() for p in model.parameters()]).astype(np.float64)


def gradient_noise(data, batch_size: int, shuffles: int, seed: int = 0):
    """At the initial weights: the full gradient g, σ² = mean ‖gᵢ - g‖² over the samples,
    and the measured mean of ‖g_B - g‖² over the batches of ``shuffles`` shuffled epochs
    (the last, smaller batch of each epoch left out, so that every batch has B samples)."""
    X_train, _, y_train, _ = data
    mg.manual_seed(seed)
    model = make_mlp([64, 64, 10])
    loss_fn = nn.CrossEntropyLoss()
    full = flat_gradient(model, loss_fn(model(mg.tensor(X_train)), mg.tensor(y_train)))
    per_sample = [flat_gradient(model, loss_fn(model(xb), yb))
                  for xb, yb in DataLoader(TensorDataset(X_train, y_train), batch_size=1)]
    sigma2 = float(np.mean([np.sum((g - full) ** 2) for g in per_sample]))
    loader = DataLoader(TensorDataset(X_train, y_train), batch_size=batch_size, shuffle=True,
                        drop_last=True, seed=seed)
    errors = [np.sum((flat_gradient(model, loss_fn(model(xb), yb)) - full) ** 2)
              for _ in range(shuffles) for xb, yb in loader]
    return sigma2, float(np.mean(errors))


def loss_at(history, key, value):
    """The training loss when ``history[key]`` (epoch or seconds) reached ``value``."""
    return float(np.interp(value, history[key], history["train_loss"]))


def step_noise(step_loss, steps_per_epoch: int) -> float:
    """How much the loss of each step scatters in the last epoch: the standard deviation of
    log(loss) around its trend (a straight line fitted over that epoch)."""
    last = np.log(np.asarray(step_loss[-steps_per_epoch:]) + 1e-12)
    if last.size < 3:
        return 0.0  # the full batch: one step per epoch, nothing to scatter
    steps = np.arange(last.size)
    trend = np.polyval(np.polyfit(steps, last, 1), steps)
    return float(np.std(last - trend))


def plot_each_against(curves, path, xlabel="epoch", **labels):
    """``plot_curves`` (log y) where each curve has x values of its own: ``curves[name]`` is
    ``(x, y)``. Curves with many points are drawn thin and underneath, so that the others
    show through."""
    figure = plot_curves({name: y for name, (_, y) in curves.items()}, None, xlabel=xlabel,
                         log_scale=True, **labels)
    axis = figure.axes[0]
    for line, (x, y) in zip(axis.get_lines(), curves.values()):
        line.set_xdata(np.asarray(x, dtype=np.float64))
        line.set_linewidth(0.5 if len(y) > 500 else 1.8)
        line.set_zorder(1 if len(y) > 500 else 3)
        line.set_marker("." if len(y) < 50 else "")
    axis.relim()
    axis.autoscale_view()
    figure.savefig(path, dpi=120)
    return figure


def main(argv=None) -> int:
    flags, rest = parse_flags(argv, quick="2 epochs instead of 5, fewer noise samples",
                              seed="the initial weights and the shuffling")
    exp = Experiment(
        "Batch, mini-batch and stochastic gradient descent on the digits",
        claim="the gradient of B samples is the full gradient plus noise of mean square "
              "(σ²/B)·(N - B)/(N - 1), so the per-step loss is smooth with the full batch, "
              "noisy with 32 samples and very noisy with 1; per epoch the smaller batches "
              "still make more progress, and per second mini-batches win.",
        argv=rest)
    epochs = 2 if flags.quick else 5
    data = digits_split(seed=flags.seed)
    n = len(data[2])

    sigma2, measured = gradient_noise(data, 32, shuffles=3 if flags.quick else 10,
                                      seed=flags.seed)
    expected = sigma2 / 32 * (n - 32) / (n - 1)
    print(f"at the initial weights, N = {n}: σ² = mean ‖gᵢ - g‖² = {sigma2:.4f}")
    print(f"mean ‖g_B - g‖²:  full batch 0,  B = 32 measured {measured:.5f} "
          f"(closed form {expected:.5f}),  B = 1 {sigma2:.4f}\n")
    exp.check("gradient noise of a mini-batch of 32 is (σ²/32)·(N - 32)/(N - 1), within 10%",
              abs(measured / expected - 1) < 0.1, f"measured/closed form = "
              f"{measured / expected:.3f}")

    results = {name: train(bs, lr, epochs, data, seed=flags.seed)
               for name, (bs, lr) in REGIMES.items()}
    print(f"{'regime':<18}{'steps/epoch':>12}{'loss after 1 epoch':>20}{'final loss':>12}"
          f"{'step-loss noise':>17}{'seconds':>9}{'test acc':>10}")
    noise = {}
    for name, h in results.items():
        noise[name] = step_noise(h["step_loss"], h["steps_per_epoch"])
        print(f"{name:<18}{h['steps_per_epoch']:>12}{loss_at(h, 'epoch', 1):>20.4f}"
              f"{h['train_loss'][-1]:>12.4f}{noise[name]:>17.3f}{h['seconds'][-1]:>9.2f}"
              f"{h['test_accuracy']:>10.3f}")
    print("(step-loss noise: the standard deviation of log(loss of each step) around its "
          "trend, over the last epoch)\n")

    full, mini, sgd = (results[k] for k in REGIMES)
    exp.check("the per-step loss scatters more as the batch shrinks: full batch (one step per "
              "epoch, no scatter) < 32 < 1",
              noise["full batch"] < noise["mini-batch (32)"] < noise["stochastic (1)"],
              " < ".join(f"{noise[k]:.3f}" for k in REGIMES))
    exp.check("per epoch, more (noisier) steps make more progress than one exact step",
              loss_at(mini, "epoch", 1) < loss_at(full, "epoch", 1)
              and loss_at(sgd, "epoch", 1) < loss_at(full, "epoch", 1),
              f"after 1 epoch: {loss_at(full, 'epoch', 1):.3f} full, "
              f"{loss_at(mini, 'epoch', 1):.3f} mini, {loss_at(sgd, 'epoch', 1):.3f} single")
    # Per second: when the mini-batch run has finished, stochastic descent, given the same
    # wall time, is at a higher loss.
    t_mini = mini["seconds"][-1]
    exp.check("per second, mini-batches beat single samples",
              mini["train_loss"][-1] < loss_at(sgd, "seconds", t_mini),
              f"after {t_mini:.2f} s: mini-batch {mini['train_loss'][-1]:.4f}, stochastic "
              f"{loss_at(sgd, 'seconds', t_mini):.4f}")

    exp.figure("gd_step_loss.png", lambda path: plot_each_against(
        {name: (np.arange(len(h["step_loss"])) / h["steps_per_epoch"], h["step_loss"])
         for name, h in results.items()}, path, ylabel="loss of the step's own batch",
        title="the loss of every step: smooth, a band, a cloud"))
    exp.figure("gd_by_epoch.png", lambda path: plot_each_against(
        {name: (h["epoch"], h["train_loss"]) for name, h in results.items()}, path,
        ylabel="full training loss", title="the full training loss, per epoch"))
    exp.figure("gd_by_time.png", lambda path: plot_each_against(
        {name: (h["seconds"], h["train_loss"]) for name, h in results.items()}, path,
        xlabel="wall time (s)", ylabel="full training loss",
        title="the full training loss, per second"))
    return exp.finish()


if __name__ == "__main__":
    sys.exit(main())
