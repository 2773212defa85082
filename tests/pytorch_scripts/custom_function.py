"""A custom autograd Function, written the PyTorch way: a "soft step" s(z) = z³/(1 + z²)
with its hand-written derivative, fitted to noisy samples of 1.2·s(1.5x − 0.3). The
forward saves its input, the backward reads it back; a second Function returns two
outputs, one of them marked non-differentiable."""

import numpy as np

import minigrad as torch


class SoftStep(torch.autograd.Function):
    """s(z) = z³ / (1 + z²)        s'(z) = (z⁴ + 3z²) / (1 + z²)²"""

    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return z ** 3 / (1 + z ** 2)

    @staticmethod
    def backward(ctx, grad_output):
        (z,) = ctx.saved_tensors
        z2 = z * z
        return grad_output * (z2 * z2 + 3 * z2) / (1 + z2) ** 2


class ScaleAndSign(torch.autograd.Function):
    """Two outputs: k·v (differentiable in both) and sign(v) (not differentiable)."""

    @staticmethod
    def forward(ctx, v, k):
        ctx.save_for_backward(v, k)
        sign = torch.sign(v)
        ctx.mark_non_differentiable(sign)
        return v * k, sign

    @staticmethod
    def backward(ctx, grad_scaled, grad_sign):
        v, k = ctx.saved_tensors
        grad_v = grad_scaled * k if ctx.needs_input_grad[0] else None
        grad_k = (grad_scaled * v).sum() if ctx.needs_input_grad[1] else None
        return grad_v, grad_k


rng = np.random.default_rng(3)
x = torch.linspace(-2, 2, 200, dtype=torch.float64)
z_true = 1.5 * x - 0.3
y = 1.2 * z_true ** 3 / (1 + z_true ** 2) + 0.05 * torch.from_numpy(rng.standard_normal(200))

a = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
b = torch.tensor(0.1, dtype=torch.float64, requires_grad=True)
c = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
learning_rate = 0.1
for t in range(600):
    y_pred = c * SoftStep.apply(a * x + b)
    loss = ((y_pred - y) ** 2).mean()
    if t % 100 == 99:
        print(t, f"{loss.item():.6f}")
    loss.backward()
    with torch.no_grad():
        for p in (a, b, c):
            p -= learning_rate * p.grad
            p.grad = None
print(f"s(z) = {c.item():.4f} * soft_step({a.item():.4f} z + {b.item():.4f})")

v = torch.tensor([1.5, -0.5, 2.0], dtype=torch.float64, requires_grad=True)
k = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
scaled, sign = ScaleAndSign.apply(v, k)
print("requires grad:", scaled.requires_grad, sign.requires_grad)
(scaled * sign).sum().backward()
print("grad of v:", v.grad.tolist(), "grad of k:", f"{k.item():.1f}", f"{k.grad.item():.1f}")
