"""The cubic fit of sin(x) with an optimizer doing the updates: SGD with momentum on the
mean squared error, and a learning-rate schedule."""

import math

import numpy as np

import minigrad as torch
from minigrad import nn, optim

x = torch.linspace(-math.pi, math.pi, 1000)
y = torch.sin(x)
features = torch.stack([x, x ** 2, x ** 3], dim=1)

model = nn.Sequential(nn.Linear(3, 1), nn.Flatten(0, 1))
rng = np.random.default_rng(11)
with torch.no_grad():
    for param in model.parameters():
        param.copy_(torch.from_numpy(rng.uniform(-0.3, 0.3, tuple(param.shape)).astype(np.float32)))

loss_fn = nn.MSELoss()
optimizer = optim.SGD(model.parameters(), lr=0.005, momentum=0.9)
scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=400, gamma=0.5)
for step in range(1200):
    loss = loss_fn(model(features), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    scheduler.step()
    if step % 200 == 199:
        print(step, f"{loss.item():.6f}", f"{scheduler.get_last_lr()[0]:.5f}")

weight, bias = model[0].weight, model[0].bias
print("coefficients:", [round(v, 4) for v in [bias.item(), *weight.flatten().tolist()]])
print("norm of the weights:", f"{weight.norm().item():.4f}")
