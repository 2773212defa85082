"""Per-op overhead and an MLP forward/backward, minigrad against the bare NumPy it runs on.

    python benchmarks/core.py [--quick]

(a) each op: minigrad's call (with and without recording the graph) / the NumPy call alone;
(b) forward + backward of a 64-128-128-10 MLP on a batch of 64 (ReLU, cross-entropy):
    minigrad / hand-written NumPy forward and backward, float32.
Ratios, not seconds: the machines this runs on are shared and noisy.
"""

from __future__ import annotations

import argparse
import functools
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _timing import median_time, print_table, write_json  # noqa: E402

import minigrad as mg  # noqa: E402


def op_overhead(repeats: int) -> list[dict]:
    rng = np.random.default_rng(0)
    a32 = rng.standard_normal((64, 128)).astype(np.float32)
    b32 = rng.standard_normal((64, 128)).astype(np.float32)
    w32 = rng.standard_normal((128, 128)).astype(np.float32)
    small = rng.standard_normal((4, 4)).astype(np.float32)
    cases = [
        ("add 64x128", lambda x, y: x + y, lambda x, y: x + y, a32, b32),
        ("mul 4x4", lambda x, y: x * y, lambda x, y: x * y, small, small),
        ("matmul 64x128 @ 128x128", lambda x, y: x @ y, lambda x, y: x @ y, a32, w32),
        ("relu 64x128", lambda x, y: x.relu(), lambda x, y: np.maximum(x, 0), a32, b32),
        ("exp 4x4", lambda x, y: x.exp(), lambda x, y: np.exp(x), small, small),
        ("sum(dim=1) 64x128", lambda x, y: x.sum(1), lambda x, y: x.sum(1), a32, b32),
    ]
    rows = []
    for name, mg_fn, np_fn, x, y in cases:
        tx, ty = mg.tensor(x, requires_grad=True), mg.tensor(y, requires_grad=True)
        t_np = median_time(functools.partial(np_fn, x, y), repeats)
        t_graph = median_time(functools.partial(mg_fn, tx, ty), repeats)
        with mg.no_grad():
            t_nograd = median_time(functools.partial(mg_fn, tx, ty), repeats)
        rows.append({"op": name, "numpy_us": t_np * 1e6, "minigrad_us": t_graph * 1e6,
                     "minigrad_no_grad_us": t_nograd * 1e6})
    return rows


class NumpyMLP:
    """The limit: forward and backward of the same MLP written by hand in NumPy."""

    def __init__(self, weights):
        self.w = [w.array.copy() for w in weights[::2]]
        self.b = [b.array.copy() for b in weights[1::2]]

    def forward_backward(self, x, y):
        acts, h = [x], x
        for i, (w, b) in enumerate(zip(self.w, self.b)):
            h = h @ w.T + b
            if i < len(self.w) - 1:
                h = np.maximum(h, 0)
            acts.append(h)
        logits = h
        shifted = logits - logits.max(1, keepdims=True)
        logp = shifted - np.log(np.exp(shifted).sum(1, keepdims=True))
        n = len(y)
        loss = -logp[np.arange(n), y].mean()
        grad = np.exp(logp)
        grad[np.arange(n), y] -= 1
        grad /= n
        grads = []
        for i in reversed(range(len(self.w))):
            grads.append((grad.T @ acts[i], grad.sum(0)))
            if i > 0:
                grad = (grad @ self.w[i]) * (acts[i] > 0)
        return loss, grads


def mlp(repeats: int) -> dict:
    sizes, batch = [64, 128, 128, 10], 64
    mg.manual_seed(0)
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        bound = 1 / float(np.sqrt(fan_in))
        params.append((mg.rand(fan_out, fan_in) * 2 - 1).detach() * bound)
        params.append((mg.rand(fan_out) * 2 - 1).detach() * bound)
    for p in params:
        p.requires_grad_()
    rng = np.random.default_rng(1)
    x_np = rng.standard_normal((batch, sizes[0])).astype(np.float32)
    y_np = rng.integers(0, sizes[-1], batch)
    x = mg.tensor(x_np)
    rows = mg.arange(batch)
    y = mg.tensor(y_np)

    def minigrad_step():
        h = x
        for i in range(0, len(params), 2):
            h = h @ params[i].T + params[i + 1]
            if i < len(params) - 2:
                h = h.relu()
        loss = -h.log_softmax(1)[rows, y].mean()
        for p in params:
            p.grad = None
        loss.backward()
        return loss

    reference = NumpyMLP(params)
    loss_np, grads_np = reference.forward_backward(x_np, y_np)
    loss_mg = minigrad_step()
    assert np.isclose(loss_mg.item(), loss_np, rtol=1e-5)
    np.testing.assert_allclose(params[-2].grad.array, grads_np[0][0], rtol=1e-4, atol=1e-6)
    t_np = median_time(lambda: reference.forward_backward(x_np, y_np), repeats)
    t_mg = median_time(minigrad_step, repeats)
    return {"model": "64-128-128-10, batch 64, float32", "numpy_us": t_np * 1e6,
            "minigrad_us": t_mg * 1e6, "ratio": t_mg / t_np}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args(argv)
    repeats = 3 if args.quick else 9

    ops = op_overhead(repeats)
    print_table("(a) per-op cost (median µs per call)",
                ["op", "NumPy", "minigrad", "ratio", "minigrad no_grad", "ratio"],
                [[r["op"], f"{r['numpy_us']:.2f}", f"{r['minigrad_us']:.2f}",
                  f"{r['minigrad_us'] / r['numpy_us']:.1f}x",
                  f"{r['minigrad_no_grad_us']:.2f}",
                  f"{r['minigrad_no_grad_us'] / r['numpy_us']:.1f}x"] for r in ops])
    model = mlp(repeats)
    print_table("(b) MLP forward + backward (median µs per step)",
                ["model", "hand-written NumPy", "minigrad", "ratio"],
                [[model["model"], f"{model['numpy_us']:.1f}", f"{model['minigrad_us']:.1f}",
                  f"{model['ratio']:.2f}x"]])
    path = write_json("core", {"ops": ops, "mlp": model})
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
