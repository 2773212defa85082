"""The cubic fit of sin(x) again, as a model: the powers x, x², x³ are the features of one
Linear layer, the loss is nn.MSELoss, and the update loops over model.parameters()."""

import math

import numpy as np

import minigrad as torch
from minigrad import nn

x = torch.linspace(-math.pi, math.pi, 1000)
y = torch.sin(x)
powers = torch.tensor([1, 2, 3])
features = x.unsqueeze(-1).pow(powers)  # (1000, 3)

model = nn.Sequential(nn.Linear(3, 1), nn.Flatten(0, 1))
rng = np.random.default_rng(3)
with torch.no_grad():  # start from NumPy's numbers, so every framework starts alike
    model[0].weight.copy_(torch.tensor(rng.uniform(-0.5, 0.5, (1, 3)), dtype=torch.float32))
    model[0].bias.fill_(0.1)

loss_fn = nn.MSELoss(reduction="sum")
step_size = 2e-6
for step in range(1500):
    loss = loss_fn(model(features), y)
    if step % 300 == 299:
        print(step, f"{loss.item():.4f}")
    model.zero_grad()
    loss.backward()
    with torch.no_grad():
        for param in model.parameters():
            param -= step_size * param.grad

layer = model[0]
print("weight shape:", layer.weight.shape)
w = layer.weight
print(f"y = {layer.bias.item():+.4f} {w[0, 0].item():+.4f} x {w[0, 1].item():+.4f} x^2 "
      f"{w[:, 2].item():+.4f} x^3")
