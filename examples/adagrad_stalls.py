"""AdaGrad stalls on an MLP where RMSProp keeps learning.

    python examples/adagrad_stalls.py [--out FOLDER]

Both divide each parameter's step by the root of its squared gradients:

    AdaGrad:  G ← G + g²            θ ← θ - lr·g/(√G + ε)
    RMSProp:  v ← α·v + (1 - α)·g²  θ ← θ - lr·g/(√v + ε)

AdaGrad's sum G only grows, so its effective learning rate lr/√G can only fall, and so do
its steps as training goes on. RMSProp's average v forgets old gradients: as the gradients
shrink near a minimum, lr/√v grows back and the steps stay large enough to keep learning.

Here: an MLP 64-64-10 on the digits, batch 32, 40 epochs, each optimizer with the learning
rate ``minigrad train`` uses for it (from ``minigrad.optim.OPTIMIZERS``; the run prints it).
"""

import sys

import numpy as np

from minigrad import training
from minigrad.lab import compare
from minigrad.lab.experiment import Experiment
from minigrad.viz import plot_curves

EPOCHS = 40
OPTIMIZERS = {"adagrad": "sum", "rmsprop": "square_avg"}  # the state holding Σg² or avg g²


class Recorder:
    """After each epoch: how far the parameters moved, and the median effective learning
    rate lr/(√G + ε) over all parameters."""

    def __init__(self, accumulator: str):
        self.accumulator = accumulator
        self.previous = None
        self.moved, self.effective_lr = [], []

    def __call__(self, model, optimizer):
        params = list(model.parameters())
        now = np.concatenate([p.data.ravel() for p in params]).astype(np.float64)
        if self.previous is None:
            self.previous = self.start
        self.moved.append(float(np.linalg.norm(now - self.previous)))
        self.previous = now
        group = optimizer.param_groups[0]
        squares = np.concatenate([np.asarray(optimizer.state[p][self.accumulator]).ravel()
                                  for p in params])
        self.effective_lr.append(float(np.median(group["lr"] / (np.sqrt(squares)
                                                                 + group["eps"]))))


def initial_parameters(seed: int = 0) -> np.ndarray:
    """The parameters both runs start from: ``run_digits`` seeds minigrad's generator and
    then builds the same MLP (the data split has a generator of its own)."""
    from minigrad import rng

    rng.manual_seed(seed)
    model = training.make_mlp([64, 64, 10])
    return np.concatenate([p.data.ravel() for p in model.parameters()]).astype(np.float64)


def main(argv=None) -> int:
    exp = Experiment(
        "AdaGrad stalls where RMSProp keeps learning",
        claim="on an MLP, AdaGrad's effective learning rate only falls and its steps shrink, "
              "so its progress slows to a crawl; RMSProp's effective learning rate grows as "
              "the gradients shrink, and it keeps reducing the loss and overtakes AdaGrad.",
        argv=argv)
    runs, records = {}, {}
    for name, accumulator in OPTIMIZERS.items():
        records[name] = Recorder(accumulator)
        records[name].start = initial_parameters()
        runs[name] = compare.run_digits(name, epochs=EPOCHS, batch_size=32, hidden=(64,),
                                        seed=0, on_epoch=records[name])

    shown = [1, 5, 10, 20, 30, 40]
    for name, run in runs.items():
        print(f"{name} (lr {run.hyperparameters['lr']:g})")
        print("  epoch           " + "".join(f"{e:>10}" for e in shown))
        print("  training loss   " + "".join(f"{run.losses[e - 1]:10.5f}" for e in shown))
        print("  test accuracy   " + "".join(f"{run.extra['test_accuracy'][e - 1]:10.4f}"
                                             for e in shown))
        print("  distance moved  " + "".join(f"{records[name].moved[e - 1]:10.4f}"
                                             for e in shown))
        print("  median lr/√G    " + "".join(f"{records[name].effective_lr[e - 1]:10.3g}"
                                             for e in shown))
    print()

    ada, rms = runs["adagrad"].losses, runs["rmsprop"].losses
    ada_rec, rms_rec = records["adagrad"], records["rmsprop"]
    exp.check("AdaGrad's effective learning rate never rises",
              all(b <= a * (1 + 1e-12) for a, b in zip(ada_rec.effective_lr,
                                                         ada_rec.effective_lr[1:])),
              f"{ada_rec.effective_lr[0]:.3g} → {ada_rec.effective_lr[-1]:.3g}")
    exp.check("RMSProp's effective learning rate grows more than 5× as the gradients shrink",
              rms_rec.effective_lr[-1] > 5 * rms_rec.effective_lr[0],
              f"{rms_rec.effective_lr[0]:.3g} → {rms_rec.effective_lr[-1]:.3g}")
    ada_shrink = ada_rec.moved[-1] / ada_rec.moved[9]
    rms_shrink = rms_rec.moved[-1] / rms_rec.moved[9]
    exp.check("AdaGrad's steps shrink: from epoch 10 to 40 its distance moved per epoch "
              "falls below half, and at least 1.5× faster than RMSProp's",
              ada_shrink < 0.5 and ada_shrink < rms_shrink / 1.5,
              f"AdaGrad ×{ada_shrink:.2f}, RMSProp ×{rms_shrink:.2f}")
    ada_gain, rms_gain = ada[9] / ada[-1], rms[9] / rms[-1]
    exp.check("from epoch 10 to 40 RMSProp cuts its training loss by a far larger factor "
              "(≥ 5× more) than AdaGrad does",
              rms_gain >= 5 * ada_gain, f"RMSProp ÷{rms_gain:.0f}, AdaGrad ÷{ada_gain:.1f}")
    exp.check("AdaGrad is ahead at epoch 10, RMSProp is ahead at epoch 40",
              ada[9] < rms[9] and rms[-1] < ada[-1],
              f"epoch 10: {ada[9]:.4f} vs {rms[9]:.4f}; epoch 40: {ada[-1]:.2e} vs "
              f"{rms[-1]:.2e}")

    epochs = range(1, EPOCHS + 1)
    exp.figure("adagrad_rmsprop_loss.png", lambda path: plot_curves(
        {f"{n} (lr {r.hyperparameters['lr']:g})": r.losses for n, r in runs.items()}, path,
        x=epochs, xlabel="epoch", ylabel="training loss", log_scale=True,
        title="digits MLP 64-64-10: AdaGrad stalls, RMSProp keeps learning"))
    exp.figure("adagrad_rmsprop_lr.png", lambda path: plot_curves(
        {n: records[n].effective_lr for n in runs}, path, x=epochs, xlabel="epoch",
        ylabel="median lr/(√G + ε)", log_scale=True, title="effective learning rate"))
    return exp.finish()


if __name__ == "__main__":
    sys.exit(main())
