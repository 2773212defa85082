"""Fit y = 3x - 2 with a hand-written linear model and plain gradient descent.

Run: python examples/quickstart.py
"""

import numpy as np

import minigrad as mg

mg.manual_seed(0)
x = mg.randn(100, 1)
y = 3 * x - 2 + 0.1 * mg.randn(100, 1)

w = mg.zeros(1, 1, requires_grad=True)
b = mg.zeros(1, requires_grad=True)
for step in range(200):
    loss = ((x @ w + b - y) ** 2).mean()
    loss.backward()
    with mg.no_grad():  # the update itself is not part of the model's graph
        for p in (w, b):
            p -= 0.1 * p.grad
            p.grad = None
    if step % 50 == 0:
        print(f"step {step:3d}  loss {loss.item():.4f}")

print(f"w = {w.item():.3f} (true 3), b = {b.item():.3f} (true -2)")
assert np.isclose(w.item(), 3, atol=0.05) and np.isclose(b.item(), -2, atol=0.05)
