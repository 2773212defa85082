"""Train a classifier MLP on the digits data: the ``minigrad train`` main job, as a function.

``train_digits(config)`` does what ``minigrad train`` does and returns the history, so the
command line, the examples and the tests share one training loop.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from minigrad import nn, optim, rng
from minigrad.data import DataLoader, TensorDataset, standardize, train_test_split
from minigrad.data.datasets import load_digits
from minigrad.grad_mode import no_grad
from minigrad.optim.registry import lookup_optimizer, make_optimizer
from minigrad.tensor import Tensor


@dataclass
class TrainConfig:
    optimizer: str = "adam"
    lr: float | None = None  # None: the optimizer's own, from optim.OPTIMIZERS
    optimizer_args: dict = field(default_factory=dict)  # more arguments for the optimizer
    epochs: int = 30
    batch_size: int | None = 32  # None: full batch
    hidden: tuple[int, ...] = (256,)
    seed: int = 0
    test_size: float = 0.2


@dataclass
class History:
    """Per-epoch metrics of a run, and its summary."""

    config: dict
    train_loss: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)
    epoch_time: list[float] = field(default_factory=list)
    seconds: float = 0.0


def make_mlp(sizes: list[int]) -> nn.Sequential:
    """Linear layers of the given sizes with ReLU between them."""
    layers: list[nn.Module] = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(fan_in, fan_out))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def digits_split(seed: int, test_size: float = 0.2):
    """The digits data, split stratified and seeded, features standardized on the train part."""
    X, y = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=test_size, stratify=y,
                                                        seed=seed)
    X_train, X_test = standardize(X_train, X_test)
    return X_train, X_test, y_train, y_test


def digits_mlp_sizes(hidden: Sequence[int]) -> list[int]:
    """Layer sizes of an MLP classifier for the digits: one input per pixel, the ``hidden``
    sizes, one output per class. Read from the whole data set, not a split of it, because a
    small split may miss a class."""
    X, y = load_digits()
    return [X.shape[1], *hidden, int(y.max()) + 1]


def evaluate(model: nn.Module, X: Tensor, y: Tensor) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) of ``model`` on ``(X, y)``, in eval mode."""
    was_training = model.training
    model.eval()
    with no_grad():
        logits = model(X)
        loss = nn.functional.cross_entropy(logits, y).item()
        accuracy = float((logits.argmax(1).data == y.data).mean())
    model.train(was_training)
    return loss, accuracy


def train_digits(config: TrainConfig, progress: Callable | None = None,
                 log: Callable[[str], None] | None = None,
                 on_epoch: Callable[[nn.Module, optim.Optimizer], None] | None = None):
    """Train an MLP on the digits data as ``config`` says; returns ``(model, optimizer,
    history)``. ``progress(iterable, total, desc)`` wraps each epoch's batches (a progress
    bar); ``log`` receives one line per epoch; ``on_epoch(model, optimizer)`` is called
    after each epoch (to record more)."""
    lr = lookup_optimizer(config.optimizer).lr if config.lr is None else config.lr
    rng.manual_seed(config.seed)
    X_train, X_test, y_train, y_test = digits_split(config.seed, config.test_size)
    X_test_t, y_test_t = Tensor(X_test), Tensor(y_test)
    loader = DataLoader(TensorDataset(X_train, y_train), batch_size=config.batch_size,
                        shuffle=True, seed=config.seed)
    model = make_mlp(digits_mlp_sizes(config.hidden))
    optimizer = make_optimizer(config.optimizer, model.parameters(),
                               **{**config.optimizer_args, "lr": lr})
    loss_fn = nn.CrossEntropyLoss()
    history = History(config={**asdict(config), "lr": lr})

    start = time.perf_counter()
    for epoch in range(1, config.epochs + 1):
        epoch_start = time.perf_counter()
        model.train()
        total, count = 0.0, 0
        batches = loader if progress is None else progress(
            loader, total=len(loader), desc=f"epoch {epoch}/{config.epochs}")
        for xb, yb in batches:
            loss = loss_fn(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(yb)
            count += len(yb)
        history.train_loss.append(total / count)
        test_loss, accuracy = evaluate(model, X_test_t, y_test_t)
        history.test_loss.append(test_loss)
        history.test_accuracy.append(accuracy)
        history.epoch_time.append(time.perf_counter() - epoch_start)
        if log is not None:
            log(f"epoch {epoch:3d}/{config.epochs}  train loss {history.train_loss[-1]:.4f}  "
                f"test loss {test_loss:.4f}  test accuracy {accuracy:.4f}")
        if on_epoch is not None:
            on_epoch(model, optimizer)
    history.seconds = time.perf_counter() - start
    return model, optimizer, history


def plain_progress(iterable, total: int, desc: str):
    """A progress line without tqdm: the epoch and how many of its batches are done."""
    step = max(1, total // 20)
    for i, item in enumerate(iterable, 1):
        yield item
        if i % step == 0 or i == total:
            sys.stderr.write(f"\r{desc} [{'#' * (20 * i // total):<20}] {i}/{total}")
            sys.stderr.flush()
    sys.stderr.write("\r" + " " * (len(desc) + 40) + "\r")


def tqdm_progress():
    """tqdm's bar when the ``progress`` extra is installed, else the plain line."""
    try:
        from tqdm import tqdm
    except ImportError:
        return plain_progress

    def progress(iterable, total: int, desc: str):
        return tqdm(iterable, total=total, desc=desc, leave=False, file=sys.stderr)

    return progress


def history_arrays(history: History) -> dict[str, np.ndarray]:
    return {"train_loss": np.array(history.train_loss), "test_loss": np.array(history.test_loss),
            "test_accuracy": np.array(history.test_accuracy)}
