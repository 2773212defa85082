"""Fit y = a + b·x + c·x² + d·x³ to sin(x) on [-π, π] by gradient descent on the summed
squared error: the gradients from autograd, the updates by hand under no_grad."""

import math

import numpy as np

import minigrad as torch

dtype = torch.float
device = torch.device("cpu")

x = torch.linspace(-math.pi, math.pi, 1000, dtype=dtype, device=device)
y = torch.sin(x)

# The four coefficients start from the same numbers in every framework.
start = np.random.default_rng(7).standard_normal(4)
a, b, c, d = (torch.tensor(value, dtype=dtype, device=device, requires_grad=True)
              for value in start)

step_size = 2e-6
for step in range(1500):
    prediction = a + b * x + c * x ** 2 + d * x ** 3
    loss = (prediction - y).pow(2).sum()
    if step % 300 == 299:
        print(step, f"{loss.item():.4f}")
    loss.backward()
    with torch.no_grad():
        for coefficient in (a, b, c, d):
            coefficient -= step_size * coefficient.grad
            coefficient.grad.zero_()

print(f"y = {a.item():+.4f} {b.item():+.4f} x {c.item():+.4f} x^2 {d.item():+.4f} x^3")
