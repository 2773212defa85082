"""Batch, mini-batch and stochastic gradient descent, side by side.

The same MLP (64-64-10, same initial weights) is trained on the digits data three ways,
with the same plain SGD update and only the loader changing:

    full batch   DataLoader(data, batch_size=None)   1 step per epoch, exact gradient
    mini-batch   DataLoader(data, batch_size=32)     45 steps per epoch, noisy gradient
    stochastic   DataLoader(data, batch_size=1)      1,437 steps per epoch, very noisy

The claim it checks: per epoch, smaller batches make far more progress (more steps), and
per second of wall time mini-batches win, because each step vectorizes 32 samples for about
the cost of one. Run:  python examples/gradient_descent_variants.py [--epochs 5] [--plot out.png]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import minigrad as mg
from minigrad import nn, optim
from minigrad.data import DataLoader, TensorDataset
from minigrad.training import digits_split, evaluate, make_mlp

REGIMES = {  # name: (batch_size, learning rate)
    "full batch": (None, 0.5),
    "mini-batch (32)": (32, 0.05),
    "stochastic (1)": (1, 0.005),
}


def train(batch_size, lr, epochs, data, seed=0, evaluations_per_epoch=8):
    """Train one regime; record the full training loss against epochs and seconds
    (``evaluations_per_epoch`` times per epoch, with the evaluation time left out)."""
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
               "train_loss": [evaluate(model, X_all, y_all)[0]]}
    elapsed = 0.0
    for epoch in range(epochs):
        start = time.perf_counter()
        for step, (xb, yb) in enumerate(loader, 1):
            loss = loss_fn(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if step % every == 0 or step == len(loader):
                elapsed += time.perf_counter() - start
                history["epoch"].append(epoch + step / len(loader))
                history["seconds"].append(elapsed)
                history["train_loss"].append(evaluate(model, X_all, y_all)[0])
                start = time.perf_counter()
    history["test_accuracy"] = evaluate(model, mg.tensor(X_test), mg.tensor(y_test))[1]
    history["steps_per_epoch"] = len(loader)
    return history


def loss_at(history, key, value):
    """The training loss when ``history[key]`` (epoch or seconds) reached ``value``."""
    return float(np.interp(value, history[key], history["train_loss"]))


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--plot", metavar="PATH", help="save loss against epochs and time")
    args = parser.parse_args(argv)

    data = digits_split(seed=0)
    results = {name: train(bs, lr, args.epochs, data) for name, (bs, lr) in REGIMES.items()}

    print(f"{'regime':<18}{'steps/epoch':>12}{'loss after 1 epoch':>20}"
          f"{'final loss':>12}{'seconds':>9}{'test acc':>10}")
    for name, h in results.items():
        print(f"{name:<18}{h['steps_per_epoch']:>12}{loss_at(h, 'epoch', 1):>20.4f}"
              f"{h['train_loss'][-1]:>12.4f}{h['seconds'][-1]:>9.2f}{h['test_accuracy']:>10.3f}")

    full, mini, sgd = (results[k] for k in REGIMES)
    # Claim 1: per epoch, more (noisier) steps make more progress than one exact step.
    assert loss_at(mini, "epoch", 1) < loss_at(full, "epoch", 1)
    assert loss_at(sgd, "epoch", 1) < loss_at(full, "epoch", 1)
    # Claim 2: per second, mini-batches beat single samples: when the mini-batch run has
    # finished, stochastic descent, given the same wall time, is at a higher loss.
    t_mini = mini["seconds"][-1]
    print(f"\nafter {t_mini:.2f} s: mini-batch loss {mini['train_loss'][-1]:.4f}, "
          f"stochastic loss {loss_at(sgd, 'seconds', t_mini):.4f}, "
          f"full-batch loss {loss_at(full, 'seconds', min(t_mini, full['seconds'][-1])):.4f}")
    assert mini["train_loss"][-1] < loss_at(sgd, "seconds", t_mini)
    print("claims hold: small batches win per epoch; mini-batches win per second")

    if args.plot:
        from minigrad.viz.plots import require_matplotlib

        plt = require_matplotlib()
        fig, (by_epoch, by_time) = plt.subplots(1, 2, figsize=(10, 3.6))
        for name, h in results.items():
            by_epoch.plot(h["epoch"], h["train_loss"], marker=".", label=name)
            by_time.plot(h["seconds"], h["train_loss"], marker=".", label=name)
        for ax, xlabel in ((by_epoch, "epoch"), (by_time, "wall time (s)")):
            ax.set_xlabel(xlabel)
            ax.set_ylabel("training loss")
            ax.set_yscale("log")
            ax.grid(alpha=0.3)
            ax.legend()
        fig.tight_layout()
        fig.savefig(args.plot, dpi=120)
        print(f"saved {args.plot}")
    return results


if __name__ == "__main__":
    main()
