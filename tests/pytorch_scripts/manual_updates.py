"""Gradient descent written by hand, the way older PyTorch code does it: updates through
``.data``, gradients cleared with ``.grad.zero_()``, then the same fit with ``no_grad``.
A small two-layer network learns y = |x| on [-1, 1]."""

import numpy as np

import minigrad as torch

rng = np.random.default_rng(5)
x = torch.from_numpy(rng.uniform(-1, 1, (64, 1)).astype(np.float32))
y = x.abs()

w1 = torch.from_numpy(rng.normal(0, 1, (1, 8)).astype(np.float32)).requires_grad_()
b1 = torch.zeros(8, requires_grad=True)
w2 = torch.from_numpy(rng.normal(0, 0.5, (8, 1)).astype(np.float32)).requires_grad_()
b2 = torch.zeros(1, requires_grad=True)
params = [w1, b1, w2, b2]
initial = [p.detach().clone() for p in params]


def loss_of(params):
    w1, b1, w2, b2 = params
    hidden = (x.mm(w1) + b1).clamp(min=0)
    return ((hidden.mm(w2) + b2 - y) ** 2).mean()


lr = 0.1
for step in range(300):
    loss = loss_of(params)
    loss.backward()
    for p in params:
        p.data.add_(p.grad.data, alpha=-lr)  # the old way: .data is not tracked
        p.grad.zero_()
    if step % 60 == 59:
        print("data", step, f"{loss.item():.6f}", f"{w2.data.norm().item():.4f}")

with_data = [p.detach().clone() for p in params]
with torch.no_grad():
    for p, start in zip(params, initial):
        p.copy_(start)
for _ in range(300):
    loss = loss_of(params)
    for p in params:
        p.grad = None
    loss.backward()
    with torch.no_grad():
        for p in params:
            p -= lr * p.grad
print("no_grad", f"{loss.item():.6f}")
print("same result:", all(torch.allclose(a, p.detach()) for a, p in zip(with_data, params)))
print("is leaf:", w1.is_leaf, "data is a tensor:", isinstance(w1.data, torch.Tensor),
      "data requires grad:", w1.data.requires_grad)
