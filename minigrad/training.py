"""Train a classifier (an MLP, or a small CNN on images): the ``minigrad train`` job, as
functions.

``train(config)`` does what ``minigrad train`` does and returns the model, the optimizer
and the history, so the command line, the examples and the tests share one training loop.
``train_digits`` is the same on the built-in digits. ``checkpoint(result)`` is everything
needed to use or continue the model (architecture, the standardizer's mean and std, class
names, config, optimizer and scheduler state, history); ``load_checkpoint(path)`` gives it
back as a ready model with its preprocessing, and ``train(config, resume=...)`` continues a
run exactly where it stopped.

Each epoch's randomness (the shuffled order, the dropout masks) is drawn from generators
seeded by ``(seed, epoch)``, so a run of 4 epochs and a run of 2 epochs resumed for 2 more
give the same numbers, bit for bit.
"""

from __future__ import annotations

import csv
import json
import math
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np

from minigrad import capture, nn, optim, rng
from minigrad.data import DataLoader, TensorDataset, train_test_split
from minigrad.data.datasets import load_digits
from minigrad.data.preprocessing import Standardizer
from minigrad.grad_mode import no_grad
from minigrad.optim import lr_scheduler
from minigrad.optim.registry import lookup_optimizer, make_optimizer
from minigrad.tensor import Tensor

CHECKPOINT_FORMAT = "minigrad-train-checkpoint"
CHECKPOINT_VERSION = 1

# The schedulers ``--scheduler`` offers, stepped once per epoch; see ``make_scheduler``.
SCHEDULERS = ("none", "step", "cosine", "exponential")

# The models ``--model`` offers; see ``model_architecture``.
MODELS = ("mlp", "cnn")

# The channels of the CNN's convolutions, by default: past 0.9 test accuracy on the digits in
# 3 epochs of the default Adam (8 and 16 need 6), and an MNIST epoch well under a minute of
# CPU time (32 and 64 take 4 times as long).
CNN_CHANNELS = (16, 32)


@dataclass
class TrainConfig:
    optimizer: str = "adam"
    lr: float | None = None  # None: the optimizer's own, from optim.OPTIMIZERS
    optimizer_args: dict = field(default_factory=dict)  # more arguments for the optimizer
    epochs: int = 30
    batch_size: int | None = 32  # None: full batch
    model: str = "mlp"  # or "cnn", for square images: see model_architecture
    hidden: tuple[int, ...] = (256,)  # the MLP's
    channels: tuple[int, ...] = CNN_CHANNELS  # the CNN's
    dropout: float = 0.0  # after each hidden layer of the MLP, before the CNN's last layer
    seed: int = 0
    test_size: float = 0.2  # ignored for MNIST, which has its own test set
    val_split: float = 0.0  # fraction of the training part held out for validation
    scheduler: str = "none"
    scheduler_args: dict = field(default_factory=dict)  # step_size, gamma
    data: str = "digits"  # "digits", an MNIST folder, a .npz or a .csv file
    compiled: bool = True  # steps through mg.compile (the same numbers, faster); or eager


@dataclass
class History:
    """Per-epoch metrics of a run, and its summary."""

    config: dict
    train_loss: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)  # the rate used during each epoch
    epoch_time: list[float] = field(default_factory=list)
    seconds: float = 0.0

    def rows(self) -> list[dict]:
        """One dict per epoch: epoch, then every metric recorded (the ``--metrics`` file)."""
        series = {name: values for name, values in history_arrays(self, every=True).items()
                  if len(values)}
        return [{"epoch": i + 1, **{name: float(values[i]) for name, values in series.items()}}
                for i in range(len(self.train_loss))]


# -- data ----------------------------------------------------------------------------------


@dataclass
class Data:
    """A data set ready to train on: standardized features (one row per sample, also for
    images), labels as class indices."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    X_val: np.ndarray | None
    y_val: np.ndarray | None
    classes: list[str]  # the name of each class index
    standardizer: Standardizer  # fitted on X_train, before it was standardized
    description: str  # e.g. "digits (1,797 samples)"


def read_table(path: str | Path, labels: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    """``(X, y)`` from a ``.npz`` (arrays ``X`` and, when ``labels``, ``y``) or a ``.csv``
    (one sample per line, the features, then the label in the last column when ``labels``;
    a header line is detected and skipped). ``y`` is None when ``labels`` is False. A bad
    cell raises ``ValueError`` as ``FILE:LINE:COLUMN: what`` (1-based)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    if suffix == ".npz":
        return _read_npz(path, labels)
    if suffix == ".csv":
        return _read_csv(path, labels)
    raise ValueError(f"{path}: expected a .npz or a .csv file")


def _read_npz(path: Path, labels: bool) -> tuple[np.ndarray, np.ndarray | None]:
    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise ValueError(f"{path}: not a readable .npz file ({error})") from None
    with archive:
        needed = ["X", "y"] if labels else ["X"]
        missing = [name for name in needed if name not in archive.files]
        if missing:
            raise ValueError(f"{path}: has no array {missing[0]!r} (it has "
                             f"{', '.join(archive.files) or 'no arrays'}); expected X"
                             + (" and y" if labels else ""))
        try:
            X = archive["X"]
            y = archive["y"] if labels else None
        except ValueError as error:  # object arrays need pickle, which is refused
            raise ValueError(f"{path}: {error}") from None
    if X.ndim < 2 or X.dtype.kind not in "iubf":
        raise ValueError(f"{path}: X must be numbers of shape (samples, features...), got "
                         f"dtype {X.dtype} and shape {X.shape}")
    X = X.reshape(len(X), -1)
    if labels:
        if y.ndim != 1 or len(y) != len(X):
            raise ValueError(f"{path}: y must have one label per sample ({len(X)}), got shape "
                             f"{y.shape}")
    return X, y


def _number(cell: str) -> float | None:
    try:
        value = float(cell)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _read_csv(path: Path, labels: bool) -> tuple[np.ndarray, np.ndarray | None]:
    rows: list[list[float]] = []
    names: list[str] = []
    width = None
    with open(path, newline="", encoding="utf-8", errors="replace") as file:
        for line_number, cells in enumerate(csv.reader(file), 1):
            if not cells or all(not c.strip() for c in cells):
                continue
            features = cells[:-1] if labels else cells
            if width is None:
                width = len(cells)
                # A first line whose features are not all numbers is a header.
                if any(_number(c) is None for c in features):
                    continue
            if len(cells) != width:
                raise ValueError(f"{path}:{line_number}: expected {width} columns like the "
                                 f"first line, got {len(cells)}")
            values = []
            for column, cell in enumerate(features, 1):
                value = _number(cell)
                if value is None:
                    raise ValueError(f"{path}:{line_number}:{column}: expected a finite "
                                     f"number, got {_shorten(cell)!r}")
                values.append(value)
            if labels:
                label = cells[-1].strip()
                if not label:
                    raise ValueError(f"{path}:{line_number}:{len(cells)}: the label is empty")
                names.append(label)
            rows.append(values)
    if not rows:
        raise ValueError(f"{path}: no samples")
    if labels and width < 2:
        raise ValueError(f"{path}: expected features then a label on each line, got one column")
    X = np.array(rows, dtype=np.float64)
    if not labels:
        return X, None
    as_numbers = [_number(n) for n in names]
    if all(v is not None and v == int(v) for v in as_numbers):
        return X, np.array([int(v) for v in as_numbers])  # 3 and 3.0 are the same class
    return X, np.array(names)


def _shorten(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _class_indices(labels: np.ndarray, classes: list[str], where: str) -> np.ndarray:
    """Labels as indices into ``classes`` (names); an unknown label is an error."""
    index = {name: i for i, name in enumerate(classes)}
    unknown = [str(v) for v in labels if str(v) not in index]
    if unknown:
        raise ValueError(f"{where}: label {_shorten(unknown[0])!r} is not one of the model's "
                         f"classes ({', '.join(classes[:20])})")
    return np.array([index[str(v)] for v in labels], dtype=np.int64)


def _mnist_features(images: np.ndarray) -> np.ndarray:
    return images.reshape(len(images), -1).astype(np.float32) / 255


def load_raw(spec: str) -> tuple[np.ndarray, np.ndarray, tuple | None, str]:
    """``(X, y, test, description)`` for ``--data`` spec: "digits", an MNIST folder, a
    ``.npz`` or a ``.csv``. ``test`` is ``(X_test, y_test)`` when the data has its own test
    set (MNIST), else None."""
    if spec == "digits":
        X, y = load_digits()
        return X, y, None, f"digits ({len(X):,} samples)"
    path = Path(spec)
    if path.is_dir():
        from minigrad.data.mnist import load_mnist

        X, y = load_mnist(path, train=True)
        X_test, y_test = load_mnist(path, train=False)
        return (_mnist_features(X), y, (_mnist_features(X_test), y_test),
                f"MNIST from {path} ({len(X):,} training, {len(X_test):,} test samples)")
    X, y = read_table(path)
    return X, y, None, f"{path} ({len(X):,} samples, {X.shape[1]} features)"


@dataclass
class Split:
    """A data set split for training, as read (not standardized); labels as class indices."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray | None
    y_val: np.ndarray | None
    X_test: np.ndarray
    y_test: np.ndarray
    classes: list[str]  # the name of each class index
    description: str


def split_data(config: TrainConfig) -> Split:
    """The data ``config.data`` names, split (stratified, seeded by ``config.seed``) into
    train, validation (``config.val_split`` of the training part) and test (``test_size``;
    MNIST has its own test files). Labels become indices into the sorted class names."""
    X, y, test, description = load_raw(config.data)
    classes = [str(c) for c in np.unique(y if y.dtype.kind in "iu" else y.astype(str))]
    if len(classes) < 2:
        raise ValueError(f"{config.data}: needs at least two classes, found {classes}")
    y = _class_indices(y, classes, config.data)
    if test is None:
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=config.test_size, stratify=_stratify(y, config.test_size),
            seed=config.seed)
    else:
        X_train, y_train = X, y
        X_test, y_test = test[0], _class_indices(test[1], classes, config.data)
    X_val = y_val = None
    if config.val_split > 0:
        X_train, X_val, y_train, y_val = train_test_split(
            X_train, y_train, test_size=config.val_split,
            stratify=_stratify(y_train, config.val_split), seed=config.seed + 1)
    return Split(X_train, y_train, X_val, y_val, X_test, y_test, classes, description)


def load_data(config: TrainConfig) -> Data:
    """``split_data``, with the features standardized by the mean and std of the training
    part (the ``standardizer`` a checkpoint keeps): each feature's own for the MLP, one over
    all the pixels for the CNN."""
    split = split_data(config)
    scaler = fit_standardizer(split.X_train, per_feature=config.model != "cnn")

    def standardized(X):
        return None if X is None else _float32(scaler.transform(X))

    return Data(standardized(split.X_train), split.y_train, standardized(split.X_test),
                split.y_test, standardized(split.X_val), split.y_val, split.classes, scaler,
                split.description)


def fit_standardizer(X_train: np.ndarray, per_feature: bool = True) -> Standardizer:
    """A ``Standardizer`` fitted on ``X_train``: a mean and std per feature, or (not
    ``per_feature``) one mean and std over all the values, repeated for every feature."""
    if per_feature:
        return Standardizer().fit(X_train)
    # A CNN slides the same kernels over every pixel, so every pixel must mean the same:
    # one scale for all (torchvision's Normalize), stored per feature so that a checkpoint's
    # preprocessing is applied the same way for both models.
    overall = Standardizer().fit(np.asarray(X_train).reshape(-1, 1))
    scaler = Standardizer()
    scaler.mean = np.full(X_train.shape[1], overall.mean[0])
    scaler.std = np.full(X_train.shape[1], overall.std[0])
    return scaler


def _stratify(y: np.ndarray, fraction: float) -> np.ndarray | None:
    """Stratify when every class can appear on both sides; tiny data sets are split plainly."""
    counts = np.bincount(y)
    return y if counts[counts > 0].min() >= 2 and 0 < fraction < 1 else None


def _float32(X: np.ndarray) -> np.ndarray:
    return np.asarray(X, dtype=np.float32)


def digits_split(seed: int, test_size: float = 0.2):
    """The digits data, split stratified and seeded, features standardized on the train part
    (the split ``minigrad train`` uses by default)."""
    data = load_data(TrainConfig(seed=seed, test_size=test_size))
    return data.X_train, data.X_test, data.y_train, data.y_test


def digits_mlp_sizes(hidden: Sequence[int]) -> list[int]:
    """Layer sizes of an MLP classifier for the digits: one input per pixel, the ``hidden``
    sizes, one output per class."""
    return [64, *hidden, 10]


# -- model, optimizer, schedule --------------------------------------------------------------


def make_mlp(sizes: Sequence[int], dropout: float = 0.0) -> nn.Sequential:
    """Linear layers of the given sizes with ReLU between them (and Dropout after each ReLU
    when ``dropout`` > 0)."""
    layers: list[nn.Module] = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(fan_in, fan_out))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


def make_cnn(image_shape: Sequence[int], classes: int, channels: Sequence[int] = CNN_CHANNELS,
             dropout: float = 0.0) -> nn.Sequential:
    """A LeNet-style CNN for images of ``image_shape`` (channels, height, width): for each of
    ``channels``, a 3×3 convolution (padding 1 keeps the size), ReLU and 2×2 max pooling
    (halves it); then the maps flattened into a linear layer with one output per class
    (Dropout before it when ``dropout`` > 0). Input: (N, channels, height, width)."""
    in_channels, height, width = (int(n) for n in image_shape)
    _check_image_size(height, width, len(channels))
    layers: list[nn.Module] = []
    for out_channels in channels:
        layers += [nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1), nn.ReLU(),
                   nn.MaxPool2d(2)]
        in_channels, height, width = out_channels, height // 2, width // 2
    layers.append(nn.Flatten())
    if dropout > 0:
        layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(in_channels * height * width, classes))
    return nn.Sequential(*layers)


def _check_image_size(height: int, width: int, poolings: int) -> None:
    smallest = 2 ** poolings  # each pooling halves the size, which must stay at least 1
    if min(height, width) < smallest:
        raise ValueError(f"the CNN's {poolings} poolings need images of at least "
                         f"{smallest}x{smallest} pixels, got {height}x{width}")


def square_image_shape(features: int) -> tuple[int, int, int]:
    """``(1, side, side)``: ``features`` pixels as one square grey image (64 → 8×8, 784 →
    28×28); ``ValueError`` when ``features`` is not a square."""
    side = math.isqrt(features)
    if side * side != features:
        raise ValueError(f"the CNN takes square images, but {features} features are not "
                         f"side x side pixels (64 = 8x8 digits, 784 = 28x28 MNIST)")
    return (1, side, side)


def model_architecture(config: TrainConfig, features: int, classes: int) -> dict:
    """What ``config.model`` builds on data of ``features`` features and ``classes`` classes,
    as plain data (a checkpoint's "architecture"): the MLP's layer sizes, or the CNN's image
    shape and channels; with the dropout. ``build_model`` makes it."""
    if config.model == "mlp":
        return {"kind": "mlp", "sizes": [features, *config.hidden, classes],
                "dropout": float(config.dropout)}
    if config.model == "cnn":
        shape = square_image_shape(features)
        _check_image_size(shape[1], shape[2], len(config.channels))
        return {"kind": "cnn", "image_shape": list(shape), "channels": list(config.channels),
                "classes": classes, "dropout": float(config.dropout)}
    raise ValueError(f"unknown model {config.model!r}; choose from {', '.join(MODELS)}")


def build_model(architecture: dict) -> nn.Sequential:
    """The (untrained) model an architecture from ``model_architecture`` describes."""
    kind = architecture["kind"]
    if kind == "mlp":
        return make_mlp([int(s) for s in architecture["sizes"]], float(architecture["dropout"]))
    if kind == "cnn":
        return make_cnn(architecture["image_shape"], int(architecture["classes"]),
                        [int(c) for c in architecture["channels"]],
                        float(architecture["dropout"]))
    raise ValueError(f"unknown model kind {kind!r}; this minigrad builds {', '.join(MODELS)}")


def input_shape(architecture: dict) -> tuple[int, ...]:
    """The shape of one sample the model takes: (features,) or (channels, height, width)."""
    if architecture["kind"] == "cnn":
        return tuple(int(n) for n in architecture["image_shape"])
    return (int(architecture["sizes"][0]),)


def describe_model(architecture: dict) -> str:
    """A short name for the model: "MLP 64-256-10", "CNN 8x8-conv32-conv64-10"."""
    if architecture["kind"] == "cnn":
        _, height, width = architecture["image_shape"]
        convs = "".join(f"-conv{c}" for c in architecture["channels"])
        return f"CNN {height}x{width}{convs}-{architecture['classes']}"
    return "MLP " + "-".join(str(s) for s in architecture["sizes"])


def make_scheduler(name: str, optimizer: optim.Optimizer, epochs: int,
                   step_size: int | None = None, gamma: float | None = None):
    """The learning-rate schedule ``--scheduler`` names, stepped once per epoch: "step"
    (times ``gamma``, default 0.1, every ``step_size`` epochs, default a third of the run),
    "cosine" (from the lr down to 0 over the run), "exponential" (times ``gamma``, default
    0.95, every epoch), "none" (None)."""
    if name == "none":
        return None
    if name == "step":
        return lr_scheduler.StepLR(optimizer, step_size or max(1, epochs // 3),
                                   0.1 if gamma is None else gamma)
    if name == "cosine":
        return lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    if name == "exponential":
        return lr_scheduler.ExponentialLR(optimizer, 0.95 if gamma is None else gamma)
    raise ValueError(f"unknown scheduler {name!r}; choose from {', '.join(SCHEDULERS)}")


def resolved_lr(config: TrainConfig) -> float:
    return lookup_optimizer(config.optimizer).lr if config.lr is None else config.lr


def evaluate(model: nn.Module, X, y, batch_size: int = 1000) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) of ``model`` on ``(X, y)``, in eval mode, ``batch_size``
    samples at a time (at once, a CNN's unfolded patches of MNIST's 10,000 test images would
    take gigabytes)."""
    X = X if isinstance(X, Tensor) else Tensor(np.asarray(X))
    y = y if isinstance(y, Tensor) else Tensor(np.asarray(y))
    was_training = model.training
    model.eval()
    total_loss, correct = 0.0, 0
    with no_grad():
        for start in range(0, len(y), batch_size):
            logits = model(X[start:start + batch_size])
            labels = y[start:start + batch_size]
            total_loss += nn.functional.cross_entropy(logits, labels, reduction="sum").item()
            correct += int((logits.argmax(1).array == labels.array).sum())
    model.train(was_training)
    return total_loss / len(y), correct / len(y)


def _epoch_seed(seed: int, epoch: int) -> int:
    return int(np.random.SeedSequence([seed, epoch]).generate_state(1)[0])


# -- the loop ------------------------------------------------------------------------------


@dataclass
class TrainResult:
    model: nn.Sequential
    optimizer: optim.Optimizer
    scheduler: object | None
    history: History
    data: Data
    config: TrainConfig
    architecture: dict  # see model_architecture


def train(config: TrainConfig, progress: Callable | None = None,
          log: Callable[[str], None] | None = None,
          on_epoch: Callable[[nn.Module, optim.Optimizer], None] | None = None,
          resume: dict | None = None, data: Data | None = None) -> TrainResult:
    """Train the model ``config`` names, up to ``config.epochs`` epochs in all.
    ``progress(iterable, total, desc)`` wraps each epoch's batches (a progress bar, e.g.
    ``progress_bar``); ``log`` receives one line per epoch; ``on_epoch(model, optimizer)``
    is called after each epoch. ``resume``: a checkpoint (``mg.load`` of a saved one) to
    continue from its last epoch."""
    data = data or load_data(config)
    lr = resolved_lr(config)
    rng.manual_seed(config.seed)
    architecture = model_architecture(config, data.X_train.shape[1], len(data.classes))
    model = build_model(architecture)
    shape = input_shape(architecture)

    def inputs(X):
        """Rows of features as the model takes them (images for the CNN)."""
        return None if X is None else X.reshape(len(X), *shape)

    optimizer = make_optimizer(config.optimizer, model.parameters(),
                               **{**config.optimizer_args, "lr": lr})
    scheduler = make_scheduler(config.scheduler, optimizer, config.epochs,
                               **config.scheduler_args)
    history = History(config={**asdict(config), "lr": lr})
    first_epoch = 1
    if resume is not None:
        model.load_state_dict(resume["model"])
        optimizer.load_state_dict(resume["optimizer"])
        if scheduler is not None:
            scheduler.load_state_dict(resume["scheduler"])
        for name, values in resume["history"].items():
            setattr(history, name, [float(v) for v in np.asarray(values)])
        first_epoch = int(resume["epochs_done"]) + 1

    loss_fn = nn.CrossEntropyLoss()

    def train_step(xb, yb):
        loss = loss_fn(model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss

    # A captured step gives the same numbers; dropout keeps it eager (it draws numbers).
    step = capture.compile(train_step, warn=False) if config.compiled else train_step
    X_test, y_test = Tensor(inputs(data.X_test)), Tensor(data.y_test)
    X_val = inputs(data.X_val)
    dataset = TensorDataset(inputs(data.X_train), data.y_train)
    start = time.perf_counter()
    for epoch in range(first_epoch, config.epochs + 1):
        epoch_start = time.perf_counter()
        rng.manual_seed(_epoch_seed(config.seed, epoch))  # dropout masks
        loader = DataLoader(dataset, batch_size=config.batch_size, shuffle=True,
                            seed=np.random.default_rng([config.seed, epoch]))
        history.lr.append(optimizer.param_groups[0]["lr"])
        model.train()
        total, count = 0.0, 0
        batches = loader if progress is None else progress(
            loader, total=len(loader), desc=f"epoch {epoch}/{config.epochs}")
        for xb, yb in batches:
            loss = step(xb, yb)
            total += loss.item() * len(yb)
            count += len(yb)
        if scheduler is not None:
            scheduler.step()
        history.train_loss.append(total / count)
        line = f"epoch {epoch:3d}/{config.epochs}  train loss {history.train_loss[-1]:.4f}"
        if X_val is not None:
            val_loss, val_accuracy = evaluate(model, X_val, data.y_val)
            history.val_loss.append(val_loss)
            history.val_accuracy.append(val_accuracy)
            line += f"  val loss {val_loss:.4f}  val accuracy {val_accuracy:.4f}"
        test_loss, accuracy = evaluate(model, X_test, y_test)
        history.test_loss.append(test_loss)
        history.test_accuracy.append(accuracy)
        history.epoch_time.append(time.perf_counter() - epoch_start)
        if log is not None:
            log(f"{line}  test loss {test_loss:.4f}  test accuracy {accuracy:.4f}")
        if on_epoch is not None:
            on_epoch(model, optimizer)
    history.seconds = time.perf_counter() - start
    return TrainResult(model, optimizer, scheduler, history, data, config, architecture)


def train_digits(config: TrainConfig, progress: Callable | None = None,
                 log: Callable[[str], None] | None = None,
                 on_epoch: Callable[[nn.Module, optim.Optimizer], None] | None = None):
    """``train`` on ``config.data`` (the digits by default); returns ``(model, optimizer,
    history)``."""
    result = train(config, progress, log, on_epoch)
    return result.model, result.optimizer, result.history


# -- output: progress and metrics ------------------------------------------------------------


def progress_bar(stream=None) -> Callable | None:
    """A progress wrapper for ``train(progress=...)``: tqdm's bar (``tqdm.auto``: widgets in
    Jupyter) when tqdm is installed and ``stream`` (default stderr) is a terminal or a
    notebook; None otherwise, so that logs and pipes get plain lines and no carriage
    returns."""
    stream = sys.stderr if stream is None else stream
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    if not (_in_notebook() or _is_terminal(stream)):
        return None

    def progress(iterable, total: int, desc: str):
        return tqdm(iterable, total=total, desc=desc, leave=False, file=stream)

    return progress


def _is_terminal(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _in_notebook() -> bool:
    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    return type(shell).__name__ == "ZMQInteractiveShell"


def history_arrays(history: History, every: bool = False) -> dict[str, np.ndarray]:
    """The per-epoch series as arrays: train_loss, test_loss, test_accuracy (and, with
    ``every``, val_loss, val_accuracy, lr, epoch_time)."""
    names = ["train_loss", "test_loss", "test_accuracy"]
    if every:
        names += ["val_loss", "val_accuracy", "lr", "epoch_time"]
    return {name: np.array(getattr(history, name), dtype=np.float64) for name in names}


def write_metrics(history: History, path: str | Path) -> None:
    """The per-epoch metrics as ``.csv`` (a header, one line per epoch) or ``.json`` (a list
    of objects, one per epoch)."""
    rows = history.rows()
    path = Path(path)
    if path.suffix.lower() == ".json":
        path.write_text(json.dumps(rows, indent=1) + "\n")
        return
    with open(path, "w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]) if rows else ["epoch"])
        writer.writeheader()
        writer.writerows(rows)


# -- checkpoints -------------------------------------------------------------------------------


def checkpoint(result: TrainResult) -> dict:
    """Everything needed to use the model or continue training it, as plain data for
    ``mg.save``: architecture, preprocessing (the standardizer's mean and std: feed raw
    features through ``(X - mean) / std``), class names, config, model, optimizer and
    scheduler state, history."""
    config = _plain(asdict(result.config))
    return {
        "format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION,
        "architecture": _plain(result.architecture),
        "preprocessing": {"kind": "standardize", "mean": result.data.standardizer.mean,
                          "std": result.data.standardizer.std},
        "classes": list(result.data.classes),
        "config": config,
        "epochs_done": len(result.history.train_loss),
        "model": result.model.state_dict(),
        "optimizer": result.optimizer.state_dict(),
        "scheduler": None if result.scheduler is None else _plain(result.scheduler.state_dict()),
        "history": history_arrays(result.history, every=True),
    }


def _plain(value):
    """Tuples as lists, so that ``mg.save`` stores them."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def config_from_checkpoint(state: dict) -> TrainConfig:
    """The ``TrainConfig`` a checkpoint was trained with."""
    saved = state["config"]
    known = {f.name for f in fields(TrainConfig)}
    config = TrainConfig(**{k: v for k, v in saved.items() if k in known})
    config.hidden = tuple(int(h) for h in config.hidden)
    config.channels = tuple(int(c) for c in config.channels)
    config.optimizer_args = {k: tuple(v) if isinstance(v, list) else v
                             for k, v in config.optimizer_args.items()}
    return config


def read_checkpoint(path: str | Path) -> dict:
    """``mg.load(path)``, checked to be a ``minigrad train`` checkpoint."""
    from minigrad.serialization import load

    state = load(path)
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path}: not a checkpoint written by minigrad train --save")
    if state.get("version") != CHECKPOINT_VERSION:
        raise ValueError(f"{path}: checkpoint version {state.get('version')} is not supported "
                         f"(this minigrad reads version {CHECKPOINT_VERSION})")
    return state


@dataclass
class Classifier:
    """A trained model with its preprocessing and class names: what a checkpoint holds."""

    model: nn.Sequential
    standardizer: Standardizer
    classes: list[str]
    config: TrainConfig
    architecture: dict  # see model_architecture

    def logits(self, X_raw: np.ndarray) -> Tensor:
        X = self._features(X_raw)
        self.model.eval()
        with no_grad():
            return self.model(Tensor(X))

    def predict(self, X_raw: np.ndarray) -> list[str]:
        """The class name predicted for each row of raw (not yet standardized) features."""
        return [self.classes[i] for i in self.logits(X_raw).argmax(1).array]

    def evaluate(self, X_raw: np.ndarray, labels: Iterable, where: str = "data"
                 ) -> tuple[float, float]:
        """(mean cross-entropy, accuracy) on raw features and labels (class names)."""
        y = _class_indices(np.asarray(labels), self.classes, where)
        return evaluate(self.model, self._features(X_raw), y)

    def _features(self, X_raw: np.ndarray) -> np.ndarray:
        X = np.asarray(X_raw)
        X = X.reshape(len(X), -1)
        expected = self.standardizer.mean.shape[0]
        if X.shape[1] != expected:
            raise ValueError(f"the model takes {expected} features per sample, the data has "
                             f"{X.shape[1]}")
        X = _float32(self.standardizer.transform(X))
        return X.reshape(len(X), *input_shape(self.architecture))  # images for the CNN


def load_checkpoint(path: str | Path) -> Classifier:
    """The model a ``minigrad train --save`` checkpoint holds, ready to use on raw features."""
    state = read_checkpoint(path)
    architecture = state["architecture"]
    model = build_model(architecture)
    model.load_state_dict(state["model"])
    model.eval()
    scaler = Standardizer()
    scaler.mean = np.asarray(state["preprocessing"]["mean"], dtype=np.float64)
    scaler.std = np.asarray(state["preprocessing"]["std"], dtype=np.float64)
    return Classifier(model, scaler, [str(c) for c in state["classes"]],
                      config_from_checkpoint(state), architecture)


__all__ = ["TrainConfig", "History", "Data", "TrainResult", "Classifier", "SCHEDULERS",
           "MODELS", "CNN_CHANNELS",
           "Split", "read_table", "load_raw", "split_data", "load_data", "fit_standardizer",
           "digits_split", "digits_mlp_sizes",
           "make_mlp", "make_cnn", "square_image_shape", "model_architecture", "build_model",
           "input_shape", "describe_model", "make_scheduler", "evaluate", "train",
           "train_digits", "progress_bar",
           "history_arrays", "write_metrics", "checkpoint", "config_from_checkpoint",
           "read_checkpoint", "load_checkpoint"]
