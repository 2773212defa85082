"""A full training step of an MLP classifier, side by side: minigrad, hand-written NumPy
(the limit), and PyTorch eager (Adam and fused Adam) when it is installed.

    python benchmarks/train_step.py [--quick] [--threads 1]

One step = forward, cross-entropy loss, backward, Adam update, zero grad; float32; every
contender runs with the same number of BLAS/OpenMP threads (pinned through the environment
before NumPy and PyTorch load, and ``torch.set_num_threads``). Reported: the median over many
steps after warm-up, and ratios against NumPy and PyTorch. Writes
``benchmarks/results/train_step.json``.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys


def _pin_threads(argv) -> int:
    """Read ``--threads`` early: thread counts must be set before NumPy is imported."""
    threads = 1
    for i, arg in enumerate(argv):
        if arg == "--threads" and i + 1 < len(argv):
            threads = int(argv[i + 1])
        elif arg.startswith("--threads="):
            threads = int(arg.split("=", 1)[1])
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = str(threads)
    return threads


THREADS = _pin_threads(sys.argv) if __name__ == "__main__" else None

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _timing import median_time, print_table, write_json  # noqa: E402

import minigrad as mg  # noqa: E402
from minigrad import nn, optim  # noqa: E402

MODELS = {
    "tiny": ([2, 16, 16, 2], 64),
    "small": ([64, 128, 128, 10], 64),
    "medium": ([784, 512, 256, 10], 128),
}


def init_weights(sizes, seed=0):
    """PyTorch's Linear init, as float32 arrays: [(W, b), ...], W of shape (out, in)."""
    generator = np.random.default_rng(seed)
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        bound = 1 / np.sqrt(fan_in)
        layers.append((generator.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32),
                       generator.uniform(-bound, bound, fan_out).astype(np.float32)))
    return layers


class NumpyAdamMLP:
    """The limit: forward, backward and Adam written by hand in NumPy for exactly this model,
    as a careful programmer would: parameters and gradients live in one flat buffer each
    (the matmuls write the gradients straight into it), so Adam is a dozen NumPy calls over
    one array whatever the number of layers."""

    def __init__(self, layers, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        arrays = [a for layer in layers for a in layer]
        sizes = [a.size for a in arrays]
        offsets = np.concatenate([[0], np.cumsum(sizes)])
        self.theta = np.concatenate([a.ravel() for a in arrays])
        self.grad = np.zeros_like(self.theta)

        def views(flat):
            return [flat[a:b].reshape(x.shape) for a, b, x in zip(offsets, offsets[1:], arrays)]

        self.params, self.grads = views(self.theta), views(self.grad)
        self.m, self.v = np.zeros_like(self.theta), np.zeros_like(self.theta)
        self.tmp, self.tmp2 = np.empty_like(self.theta), np.empty_like(self.theta)
        self.lr, (self.b1, self.b2), self.eps, self.t = lr, betas, eps, 0

    def step(self, x, y):
        ws, bs = self.params[0::2], self.params[1::2]
        gws, gbs = self.grads[0::2], self.grads[1::2]
        acts, h = [x], x
        for i, (w, b) in enumerate(zip(ws, bs)):
            h = h @ w.T
            h += b
            if i < len(ws) - 1:
                np.maximum(h, 0, out=h)
            acts.append(h)
        logits = acts[-1]
        n = len(y)
        rows = np.arange(n)
        shifted = logits - logits.max(1, keepdims=True)
        exp = np.exp(shifted)
        sums = exp.sum(1, keepdims=True)
        loss = np.log(sums).mean() - shifted[rows, y].mean()
        grad = exp
        grad /= sums
        grad[rows, y] -= 1
        grad /= n
        for i in reversed(range(len(ws))):
            np.matmul(grad.T, acts[i], out=gws[i])
            np.sum(grad, axis=0, out=gbs[i])
            if i > 0:
                grad = grad @ ws[i]
                grad *= acts[i] > 0
        self.t += 1
        step_size = self.lr / (1 - self.b1**self.t)
        correction2 = np.sqrt(1 - self.b2**self.t)
        g, m, v, tmp, tmp2 = self.grad, self.m, self.v, self.tmp, self.tmp2
        m *= self.b1                       # m ← β1·m + (1 − β1)·g
        np.multiply(g, 1 - self.b1, out=tmp)
        m += tmp
        v *= self.b2                       # v ← β2·v + (1 − β2)·g²
        np.multiply(g, g, out=tmp)
        tmp *= 1 - self.b2
        v += tmp
        np.sqrt(v, out=tmp)                # θ ← θ − step_size · m / (√v / √(1 − β2ᵗ) + ε)
        tmp /= correction2
        tmp += self.eps
        np.divide(m, tmp, out=tmp2)
        tmp2 *= step_size
        self.theta -= tmp2
        return loss


def minigrad_step_fn(layers, x, y):
    model = nn.Sequential()
    for i, (w, b) in enumerate(layers):
        linear = nn.Linear(w.shape[1], w.shape[0])
        linear.weight.data[...] = w
        linear.bias.data[...] = b
        model.append(linear)
        if i < len(layers) - 1:
            model.append(nn.ReLU())
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    xt, yt = mg.tensor(x), mg.tensor(y)

    def step():
        loss = loss_fn(model(xt), yt)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss

    return step


def torch_step_fn(torch, layers, x, y, fused: bool):
    modules = []
    for i, (w, b) in enumerate(layers):
        linear = torch.nn.Linear(w.shape[1], w.shape[0])
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(w))
            linear.bias.copy_(torch.from_numpy(b))
        modules.append(linear)
        if i < len(layers) - 1:
            modules.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*modules)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, **({"fused": True} if fused
                                                                  else {"foreach": False}))
    loss_fn = torch.nn.CrossEntropyLoss()
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    def step():
        loss = loss_fn(model(xt), yt)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


def check_same_losses(steps: dict, n: int = 5) -> None:
    """Each contender must compute the same thing: equal losses over the first steps."""
    losses = {name: [float(step()) for _ in range(n)] for name, step in steps.items()}
    reference = losses["numpy"]
    for name, values in losses.items():
        np.testing.assert_allclose(values, reference, rtol=2e-4, err_msg=name)


def make_contenders(torch, sizes, x, y) -> dict:
    """Fresh models with the same initial weights: name -> a function doing one step."""
    layers = init_weights(sizes)
    steps = {"numpy": functools.partial(NumpyAdamMLP(layers).step, x, y),
             "minigrad": minigrad_step_fn(layers, x, y)}
    if torch is not None:
        steps["torch"] = torch_step_fn(torch, layers, x, y, fused=False)
        steps["torch_fused"] = torch_step_fn(torch, layers, x, y, fused=True)
    return steps


def run(repeats: int) -> list[dict]:
    try:
        import torch

        torch.set_num_threads(THREADS or 1)
    except ImportError:
        torch = None
    rows = []
    for name, (sizes, batch) in MODELS.items():
        generator = np.random.default_rng(1)
        x = generator.standard_normal((batch, sizes[0])).astype(np.float32)
        y = generator.integers(0, sizes[-1], batch).astype(np.int64)
        check_same_losses(make_contenders(torch, sizes, x, y))
        row = {"model": f"{name} {'-'.join(map(str, sizes))}, batch {batch}"}
        for contender, step in make_contenders(torch, sizes, x, y).items():
            row[f"{contender}_us"] = median_time(step, repeats, warmup=20) * 1e6
        rows.append(row)
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--threads", type=int, default=1, help="BLAS/OpenMP threads for all")
    args = parser.parse_args(argv)
    rows = run(repeats=3 if args.quick else 9)
    has_torch = "torch_us" in rows[0]
    header = ["model", "NumPy (limit)", "minigrad", "minigrad / NumPy"]
    if has_torch:
        header += ["PyTorch Adam", "PyTorch fused", "minigrad / PyTorch fused"]
    table = []
    for r in rows:
        line = [r["model"], f"{r['numpy_us']:.0f}", f"{r['minigrad_us']:.0f}",
                f"{r['minigrad_us'] / r['numpy_us']:.2f}x"]
        if has_torch:
            line += [f"{r['torch_us']:.0f}", f"{r['torch_fused_us']:.0f}",
                     f"{r['minigrad_us'] / r['torch_fused_us']:.2f}x"]
        table.append(line)
    print_table(f"training step, float32, {args.threads} thread(s), median µs per step",
                header, table)
    if not has_torch:
        print("(PyTorch is not installed: its columns are skipped)")
    path = write_json("train_step", {"threads": args.threads, "rows": rows})
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
