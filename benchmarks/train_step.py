"""A full training step of an MLP classifier, side by side: minigrad, hand-written NumPy
(the limit), and PyTorch eager (Adam and fused Adam) when it is installed.

    python benchmarks/train_step.py [--quick] [--threads 1]

One step = forward, cross-entropy loss, backward, Adam update, zero grad; float32; every
contender runs with the same number of BLAS/OpenMP threads (pinned through the environment
before NumPy and PyTorch load, and ``torch.set_num_threads``). The contenders first run five
steps from the same weights and must agree on the losses and the parameters: the same work.
Then they are timed in turn, round after round (batches of steps, after warm-up), and the
median CPU time per step is kept (wall time is in the JSON): on a shared machine a
neighbour's burst then slows every contender alike. Reported: those medians, and ratios
against NumPy and PyTorch. Writes ``benchmarks/results/train_step.json``.

With numba installed (``minigrad[fast]``), minigrad's Adam runs as one compiled loop and a
compiled step fuses its ReLUs' kernels; the output says whether it was. The compiled step is
then also timed without them ("NumPy only"): minigrad on NumPy alone, as the limit.
"""

from __future__ import annotations

import argparse
import functools
import math
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
from _timing import print_table, time_in_rounds, write_json  # noqa: E402

import minigrad as mg  # noqa: E402
from minigrad import nn, optim  # noqa: E402
from minigrad._numba import available, switched_off  # noqa: E402
from minigrad.optim._flat import CHUNK, aligned_empty  # noqa: E402

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
    """The limit: forward, cross-entropy, backward and Adam written by hand in NumPy for
    exactly this model and batch, as a careful programmer would, allocating nothing per step.

    Every intermediate has a buffer made once, and every NumPy call writes into one with
    ``out=``. Parameters and gradients live in one flat buffer each (the matmuls write the
    gradients straight into theirs, so zero-grad has nothing left to do: every gradient is
    overwritten), and Adam is a dozen calls over the flat buffers: the order of
    ``adam_step_rearranged_`` (12 passes, the fewest NumPy calls we know for Adam), in
    chunks that stay in the cache and on 64-byte-aligned buffers, as minigrad's optimizers
    do (``minigrad/optim/_flat.py``): over the medium model's 535k parameters, 12 passes
    over whole arrays that overflow the L2 cache take twice as long."""

    def __init__(self, layers, x, y, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        arrays = [a for layer in layers for a in layer]
        sizes = [a.size for a in arrays]
        offsets = np.concatenate([[0], np.cumsum(sizes)])
        self.theta = aligned_empty(offsets[-1], np.float32)
        np.concatenate([a.ravel() for a in arrays], out=self.theta)
        self.grad = aligned_empty(offsets[-1], np.float32)

        def views(flat):
            return [flat[a:b].reshape(a_.shape)
                    for a, b, a_ in zip(offsets, offsets[1:], arrays)]

        params, grads = views(self.theta), views(self.grad)
        self.ws, self.bs = params[0::2], params[1::2]
        self.gws, self.gbs = grads[0::2], grads[1::2]
        self.m, self.v = (aligned_empty(offsets[-1], np.float32) for _ in range(2))
        self.m.fill(0)
        self.v.fill(0)
        chunk = min(CHUNK, offsets[-1])
        self.tmp, self.tmp2 = (aligned_empty(chunk, np.float32) for _ in range(2))
        self.lr, (self.b1, self.b2), self.eps, self.t = lr, betas, eps, 0

        n, classes = len(y), layers[-1][0].shape[0]
        self.x = x
        # acts[i + 1]: layer i's output (after ReLU but the last); deltas[i]: d loss / d it
        self.acts = [x] + [np.empty((n, w.shape[0]), np.float32) for w, _ in layers]
        self.deltas = [np.empty((n, w.shape[0]), np.float32) for w, _ in layers]
        self.masks = [np.empty((n, w.shape[0]), bool) for w, _ in layers[:-1]]
        self.shifted = np.empty((n, classes), np.float32)
        self.row_max = np.empty((n, 1), np.float32)
        self.row_sum = np.empty((n, 1), np.float32)
        self.log_sum = np.empty((n, 1), np.float32)
        self.picked = np.empty(n, np.float32)
        self.label_index = np.arange(n) * classes + y  # logits.flat[i]: the true class's
        self.one_hot_over_n = np.zeros((n, classes), np.float32)
        self.one_hot_over_n.flat[self.label_index] = 1.0 / n

    def step(self):
        ws, bs, acts, deltas = self.ws, self.bs, self.acts, self.deltas
        n = len(self.picked)
        for i, (w, b) in enumerate(zip(ws, bs)):  # forward
            h = acts[i + 1]
            np.matmul(acts[i], w.T, out=h)
            h += b
            if i < len(ws) - 1:
                np.maximum(h, 0, out=h)
        logits, shifted = acts[-1], self.shifted  # cross-entropy, from max-shifted logits
        np.max(logits, axis=1, keepdims=True, out=self.row_max)
        np.subtract(logits, self.row_max, out=shifted)
        np.take(shifted, self.label_index, out=self.picked)
        np.exp(shifted, out=shifted)
        np.sum(shifted, axis=1, keepdims=True, out=self.row_sum)
        np.log(self.row_sum, out=self.log_sum)
        loss = (self.log_sum.sum() - self.picked.sum()) / n
        self.row_sum *= n  # d loss / d logits = (softmax − one_hot) / n
        np.divide(shifted, self.row_sum, out=deltas[-1])
        deltas[-1] -= self.one_hot_over_n
        for i in reversed(range(len(ws))):  # backward, into the flat gradient buffer
            np.matmul(deltas[i].T, acts[i], out=self.gws[i])
            np.sum(deltas[i], axis=0, out=self.gbs[i])
            if i > 0:
                np.matmul(deltas[i], ws[i], out=deltas[i - 1])
                np.greater(acts[i], 0, out=self.masks[i - 1])
                np.multiply(deltas[i - 1], self.masks[i - 1], out=deltas[i - 1])
        self.adam()
        return loss

    def adam(self):
        self.t += 1
        correction = math.sqrt(1 - self.b2**self.t)  # √(1 − β2ᵗ): see adam_step_rearranged_
        step_size = self.lr / (1 - self.b1**self.t) * correction
        eps = self.eps * correction
        for start in range(0, self.theta.size, CHUNK):  # chunks that stay in cache
            stop = min(start + CHUNK, self.theta.size)
            theta, g = self.theta[start:stop], self.grad[start:stop]
            m, v = self.m[start:stop], self.v[start:stop]
            tmp, tmp2 = self.tmp[:stop - start], self.tmp2[:stop - start]
            np.subtract(g, m, out=tmp)  # m ← m + (1 − β1)·(g − m)
            tmp *= 1 - self.b1
            m += tmp
            v *= self.b2  # v ← β2·v + (1 − β2)·g²
            np.multiply(g, 1 - self.b2, out=tmp)
            tmp *= g
            v += tmp
            np.sqrt(v, out=tmp)  # θ ← θ − (lr·c / (1 − β1ᵗ)) · m / (√v + ε·c)
            tmp += eps
            np.multiply(m, step_size, out=tmp2)
            tmp2 /= tmp
            theta -= tmp2

    def parameters(self):
        return [a for pair in zip(self.ws, self.bs) for a in pair]


def minigrad_step_fn(layers, x, y, compiled: bool = False, numpy_only: bool = False):
    model = nn.Sequential()
    for i, (w, b) in enumerate(layers):
        linear = nn.Linear(w.shape[1], w.shape[0])
        linear.weight.array[...] = w
        linear.bias.array[...] = b
        model.append(linear)
        if i < len(layers) - 1:
            model.append(nn.ReLU())
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    xt, yt = mg.tensor(x), mg.tensor(y)

    def train_step(x, y):
        loss = loss_fn(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss

    run = mg.compile(train_step) if compiled else train_step

    def step():
        if numpy_only:  # as if numba were not installed: Adam's NumPy calls, no fused kernels
            with switched_off():
                return run(xt, yt)
        return run(xt, yt)

    step.parameters = lambda: [p.array for p in model.parameters()]
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

    step.parameters = lambda: [p.detach().numpy() for p in model.parameters()]
    return step


def check_same_work(steps: dict, n: int = 5) -> None:
    """Each contender must compute the same thing: equal losses over the first steps, and
    equal parameters after them (to 1% of one step of lr = 1e-3: where a gradient is near 0,
    Adam's m / √v amplifies float32 rounding)."""
    losses = {name: [float(step()) for _ in range(n)] for name, step in steps.items()}
    for name, values in losses.items():
        np.testing.assert_allclose(values, losses["numpy"], rtol=2e-4, err_msg=name)
        for mine, limit in zip(steps[name].parameters(), steps["numpy"].parameters()):
            np.testing.assert_allclose(mine, limit, rtol=1e-4, atol=1e-5, err_msg=name)


def make_contenders(torch, sizes, x, y) -> dict:
    """Fresh models with the same initial weights: name -> a function doing one step."""
    layers = init_weights(sizes)
    limit = NumpyAdamMLP(layers, x, y)
    limit_step = functools.partial(limit.step)
    limit_step.parameters = limit.parameters
    steps = {"numpy": limit_step, "minigrad": minigrad_step_fn(layers, x, y),
             "compiled": minigrad_step_fn(layers, x, y, compiled=True)}
    if available():  # the compiled step above used numba's loops: without them too
        steps["compiled_numpy"] = minigrad_step_fn(layers, x, y, compiled=True, numpy_only=True)
    if torch is not None:
        steps["torch"] = torch_step_fn(torch, layers, x, y, fused=False)
        steps["torch_fused"] = torch_step_fn(torch, layers, x, y, fused=True)
    return steps


def run(rounds: int) -> list[dict]:
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
        check_same_work(make_contenders(torch, sizes, x, y))
        row = {"model": f"{name} {'-'.join(map(str, sizes))}, batch {batch}"}
        times = time_in_rounds(make_contenders(torch, sizes, x, y), rounds, warmup=20,
                               budget=0.05)
        for contender, seconds in times.items():
            row[f"{contender}_us"] = seconds["cpu"] * 1e6
            row[f"{contender}_wall_us"] = seconds["wall"] * 1e6
        rows.append(row)
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--threads", type=int, default=1, help="BLAS/OpenMP threads for all")
    args = parser.parse_args(argv)
    rows = run(rounds=5 if args.quick else 21)
    has_torch = "torch_us" in rows[0]
    header = ["model", "NumPy (limit)", "minigrad", "/ NumPy", "minigrad compiled", "/ NumPy"]
    has_numpy_only = "compiled_numpy_us" in rows[0]
    if has_numpy_only:
        header += ["compiled, NumPy only", "/ NumPy"]
    if has_torch:
        header += ["PyTorch Adam", "PyTorch fused", "minigrad / fused",
                   "compiled / fused"]
    table = []
    for r in rows:
        line = [r["model"], f"{r['numpy_us']:.0f}", f"{r['minigrad_us']:.0f}",
                f"{r['minigrad_us'] / r['numpy_us']:.2f}x", f"{r['compiled_us']:.0f}",
                f"{r['compiled_us'] / r['numpy_us']:.2f}x"]
        if has_numpy_only:
            line += [f"{r['compiled_numpy_us']:.0f}",
                     f"{r['compiled_numpy_us'] / r['numpy_us']:.2f}x"]
        if has_torch:
            line += [f"{r['torch_us']:.0f}", f"{r['torch_fused_us']:.0f}",
                     f"{r['minigrad_us'] / r['torch_fused_us']:.2f}x",
                     f"{r['compiled_us'] / r['torch_fused_us']:.2f}x"]
        table.append(line)
    print_table(f"training step, float32, {args.threads} thread(s), median CPU µs per step",
                header, table)
    if not has_torch:
        print("(PyTorch is not installed: its columns are skipped)")
    numba = "with numba's loops" if available() else "NumPy only (numba is not installed)"
    print(f"minigrad ran {numba}")
    path = write_json("train_step", {"threads": args.threads, "rows": rows, "numba": numba})
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
