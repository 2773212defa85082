"""AdaGrad stalls on an MLP where RMSProp keeps learning.

    python examples/adagrad_stalls.py [--out DIR] [--seed N] [--quick]

Both divide each parameter's step by the root of its squared gradients:

    AdaGrad:  G ← G + g²            θ ← θ - lr·g/(√G + ε)
    RMSProp:  v ← α·v + (1 - α)·g²  θ ← θ - lr·g/(√v + ε)

AdaGrad's sum G only grows, so its effective learning rate lr/√G can only fall, and so do
its steps as training goes on. RMSProp's average v forgets old gradients: as the gradients
shrink near a minimum, lr/√v grows back and the steps stay large enough to keep learning.

When, and why: with gradients of constant size g, G = t·g² and AdaGrad's effective learning
rate lr/√G falls exactly like 1/√t (checked first, on a straight line). On an MLP the
gradients shrink as the loss falls, so G stops growing — it is set by the large gradients of
the first epochs — and the steps lr·g/√G shrink with g itself: AdaGrad's steps fall with its
gradients, RMSProp's stay about lr. That is an advantage early and a stall later: AdaGrad has
the lowest training loss of all eight optimizers of ``minigrad compare --problem digits`` at
its default 10 epochs, and RMSProp passes it before epoch 40.

Here: an MLP 64-64-10 on the digits, batch 32, 40 epochs, each optimizer with the learning
rate ``minigrad train`` uses for it (from ``minigrad.optim.OPTIMIZERS``; the run prints it).
"""

import sys

import numpy as np
from _flags import parse_flags

import minigrad as mg
from minigrad import training
from minigrad.lab import compare
from minigrad.lab.experiment import Experiment
from minigrad.viz import plot_curves

EPOCHS = 40
EVERY_OPTIMIZER = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw",
                   "nadam"]
OPTIMIZERS = {"adagrad": "sum", "rmsprop": "square_avg"}  # the state holding Σg² or avg g²


class Recorder:
    """After each epoch: how far the parameters moved, and the median effective learning
    rate lr/(√G + ε) over all parameters."""

    def __init__(self, accumulator: str):
        self.accumulator = accumulator
        self.previous = None
        self.moved, self.effective_lr, self.accumulated = [], [], []

    def __call__(self, model, optimizer):
        params = list(model.parameters())
        now = np.concatenate([p.array.ravel() for p in params]).astype(np.float64)
        if self.previous is None:
            self.previous = self.start
        self.moved.append(float(np.linalg.norm(now - self.previous)))
        self.previous = now
        group = optimizer.param_groups[0]
        squares = np.concatenate([np.asarray(optimizer.state[p][self.accumulator]).ravel()
                                  for p in params])
        self.accumulated.append(float(squares.sum()))
        self.effective_lr.append(float(np.median(group["lr"] / (np.sqrt(squares)
                                                                 + group["eps"]))))


def initial_parameters(seed: int = 0) -> np.ndarray:
    """The parameters both runs start from: ``run_digits`` seeds minigrad's generator and
    then builds the same MLP (the data split has a generator of its own)."""
    from minigrad import rng

    rng.manual_seed(seed)
    model = training.make_mlp([64, 64, 10])
    return np.concatenate([p.array.ravel() for p in model.parameters()]).astype(np.float64)


def constant_gradient_steps(steps: int, lr: float = 0.1, slope: float = 3.0) -> np.ndarray:
    """AdaGrad's step sizes on f(θ) = slope·θ, whose gradient never changes."""
    theta = mg.tensor([0.0], dtype=mg.float64, requires_grad=True)
    optimizer = mg.optim.Adagrad([theta], lr=lr)
    sizes = []
    for _ in range(steps):
        before = float(theta.item())
        optimizer.zero_grad()
        (theta * slope).sum().backward()
        optimizer.step()
        sizes.append(abs(float(theta.item()) - before))
    return np.array(sizes)


def main(argv=None) -> int:
    flags, rest = parse_flags(argv, seed="the split, the initial weights, the shuffling")
    exp = Experiment(
        "AdaGrad stalls where RMSProp keeps learning",
        claim="on an MLP, AdaGrad's effective learning rate only falls and its steps shrink, "
              "so its progress slows to a crawl; RMSProp's effective learning rate grows as "
              "the gradients shrink, and it keeps reducing the loss and overtakes AdaGrad.",
        argv=rest)
    sizes = constant_gradient_steps(400)
    t = np.arange(1, sizes.size + 1)
    print("constant gradient: AdaGrad's step × √t = " + ", ".join(
        f"{sizes[k - 1] * np.sqrt(k):.6f}" for k in (1, 4, 100, 400)) + " (lr = 0.1)")
    exp.check("with a constant gradient, G = t·g² and the step is lr/√t exactly",
              np.allclose(sizes * np.sqrt(t), 0.1, rtol=1e-6),
              f"step 1 {sizes[0]:.4f}, step 100 {sizes[99]:.4f}, step 400 {sizes[399]:.4f}")

    at_ten = {name: compare.run_digits(name, epochs=10, seed=flags.seed)
              for name in EVERY_OPTIMIZER}
    ranked = sorted(at_ten, key=lambda name: at_ten[name].final_loss)
    print("compare --problem digits, 10 epochs, training loss: " + ", ".join(
        f"{name} {at_ten[name].final_loss:.4f}" for name in ranked))
    exp.check("at 10 epochs (compare's default) AdaGrad has the lowest training loss of "
              "all eight", ranked[0] == "adagrad", f"then {ranked[1]}")
    print()
    runs, records = {}, {}
    for name, accumulator in OPTIMIZERS.items():
        records[name] = Recorder(accumulator)
        records[name].start = initial_parameters(flags.seed)
        runs[name] = compare.run_digits(name, epochs=EPOCHS, batch_size=32, hidden=(64,),
                                        seed=flags.seed, on_epoch=records[name])

    shown = [1, 5, 10, 20, 30, 40]
    for name, run in runs.items():
        print(f"{name} (lr {run.hyperparameters['lr']:g})")
        print("  epoch           " + "".join(f"{e:>10}" for e in shown))
        print("  training loss   " + "".join(f"{run.losses[e - 1]:10.5f}" for e in shown))
        print("  test accuracy   " + "".join(f"{run.extra['test_accuracy'][e - 1]:10.4f}"
                                             for e in shown))
        print("  distance moved  " + "".join(f"{records[name].moved[e - 1]:10.4f}"
                                             for e in shown))
        print("  Σ G (or Σ v)    " + "".join(f"{records[name].accumulated[e - 1]:10.4g}"
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
    growth = ada_rec.accumulated[-1] / ada_rec.accumulated[9]
    exp.check("why: AdaGrad's G hardly grows after the first epochs (far less than the ×4 a "
              "constant gradient would give from epoch 10 to 40): its steps shrink with g",
              growth < 1.5, f"G ×{growth:.3f} from epoch 10 to 40")
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
