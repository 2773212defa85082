"""A small MLP classifier on three Gaussian clouds in the plane, PyTorch-tutorial style: a
Dataset, DataLoaders, a Module, train_loop/test_loop and an accuracy line."""

import numpy as np

import minigrad as torch
import minigrad.nn.functional as F
from minigrad import nn
from minigrad.data import DataLoader, Dataset

device = ("cuda" if torch.cuda.is_available()
          else "mps" if torch.backends.mps.is_available() else "cpu")
print(f"Using {device} device")


class Clouds(Dataset):
    """Points around three centres, labelled by their centre."""

    centres = np.array([[0.0, 2.0], [2.0, -1.0], [-2.0, -1.0]])

    def __init__(self, count, seed):
        rng = np.random.default_rng(seed)
        labels = rng.integers(0, 3, count)
        points = self.centres[labels] + 0.9 * rng.standard_normal((count, 2))
        self.points = torch.from_numpy(points.astype(np.float32))
        self.labels = torch.from_numpy(labels.astype(np.int64))

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, index):
        return self.points[index], self.labels[index]


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.hidden = nn.Linear(2, 16)
        self.out = nn.Linear(16, 3)

    def forward(self, x):
        return self.out(F.relu(self.hidden(self.flatten(x))))


def start_from_numpy(model, seed):
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for param in model.parameters():
            param.copy_(torch.tensor(rng.uniform(-0.5, 0.5, tuple(param.shape)),
                                     dtype=torch.float))


def train_loop(dataloader, model, loss_fn, optimizer):
    size = len(dataloader.dataset)
    model.train()
    for batch, (X, y) in enumerate(dataloader):
        X, y = X.to(device), y.to(device)
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        if batch % 4 == 0:
            print(f"loss: {loss.item():>7f}  [{(batch + 1) * len(X):>4d}/{size:>4d}]")


def test_loop(dataloader, model, loss_fn):
    model.eval()
    size, batches = len(dataloader.dataset), len(dataloader)
    total_loss, correct = 0.0, 0.0
    with torch.no_grad():
        for X, y in dataloader:
            X, y = X.to(device), y.to(device)
            pred = model(X)
            total_loss += loss_fn(pred, y).item()
            correct += (pred.argmax(1) == y).type(torch.float).sum().item()
    print(f"Accuracy: {100 * correct / size:>0.1f}%, Avg loss: {total_loss / batches:>8f}")


train_data, test_data = Clouds(320, seed=0), Clouds(200, seed=1)
train_loader = DataLoader(train_data, batch_size=32)
test_loader = DataLoader(test_data, batch_size=50)
X, y = next(iter(test_loader))
print("Shape of X:", X.shape, "labels:", y[:5].tolist())

model = Net().to(device)
start_from_numpy(model, seed=2)
loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for epoch in range(3):
    print(f"Epoch {epoch + 1}")
    train_loop(train_loader, model, loss_fn, optimizer)
    test_loop(test_loader, model, loss_fn)

classes = ["north", "east", "west"]
with torch.no_grad():
    pred = model(test_data.points[:1].to(device))
    print(f"first test point: predicted {classes[pred[0].argmax(0)]}, "
          f"actual {classes[test_data.labels[0]]}")
print("Done!")
