"""The ``minigrad`` command line (also ``python -m minigrad``).

    minigrad train [--optimizer NAME] [--lr LR] [--momentum M] [--nesterov]
                   [--weight-decay WD] [--betas B1,B2] [--scheduler step|cosine|exponential]
                   [--epochs N] [--batch-size N|full] [--model mlp|cnn] [--channels SIZES]
                   [--hidden SIZES] [--dropout P]
                   [--seed N] [--data digits|MNIST_DIR|FILE.npz|FILE.csv] [--val-split F]
                   [--save CKPT] [--resume CKPT] [--save-plot PNG] [--metrics FILE.csv|.json]
                   [--quiet] [--eager]
    minigrad evaluate CKPT [--data ...]
    minigrad predict CKPT INPUT [--out FILE]
    minigrad compare [--problem rosenbrock|digits|...] [--optimizers sgd,adam] [--steps N]
                     [--lr LR | --tune-lr] [--seeds N] [--set adam.betas=0.9,0.99] [--tol TOL]
                     [--save-plot a.png]
    minigrad gradcheck [--second-order] [--only NAME] [--kind op|layer|loss]
                       [--target MODULE:FUNCTION --shapes 3,4 4]
    minigrad graph [--out graph.svg] [--hidden SIZES] [--expand] [--show-data] [--show-grad]
    minigrad --version

The defaults of ``train`` and ``compare`` live where the work is done (``TrainConfig`` in
``minigrad.training``, the constants of ``minigrad.lab.compare``); ``--help`` shows them.

Bad arguments get a one-line error and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import math
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from minigrad import __version__, training
from minigrad.lab import compare as lab_compare
from minigrad.lab.testfunctions import DEFAULT_CONDITION, OBJECTIVES, elongated_bowl
from minigrad.optim.registry import OPTIMIZERS, hyperparameter_names, make_optimizer

# Longest piece of a user's argument quoted back in a message.
QUOTE_LIMIT = 40
# compare's loss plots cut their log axis here, far below any tolerance: an optimizer whose
# gap reaches 1e-300 in float64 would otherwise flatten every other curve.
COMPARE_PLOT_FLOOR = 1e-20


def quoted(text: str) -> str:
    """``repr(text)``, shortened: an absurdly long argument must not flood the message."""
    return repr(text if len(text) <= QUOTE_LIMIT else text[:QUOTE_LIMIT] + "…")


class UsageError(Exception):
    """A bad command-line argument: reported in one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse would print the whole usage; one line is enough
        raise UsageError(f"{self.prog}: {message}")


# -- argument types: each checks one value and says what was wrong --------------------------


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {quoted(text)}") from None


def positive_float(text: str) -> float:
    value = _float(text)
    if not 0 < value < math.inf:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {quoted(text)[1:-1]}")
    return value


def non_negative_float(text: str) -> float:
    value = _float(text)
    if not 0 <= value < math.inf:
        raise argparse.ArgumentTypeError(f"must be 0 or a positive number, got "
                                         f"{quoted(text)[1:-1]}")
    return value


def _whole_number(text: str, minimum: int, requirement: str) -> int:
    try:
        if len(text) > 18:  # int() of thousands of digits is slow, and no count is that big
            raise ValueError
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {quoted(text)}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"must be {requirement}, got {text}")
    return value


def positive_int(text: str) -> int:
    return _whole_number(text, 1, "at least 1")


def non_negative_int(text: str) -> int:
    return _whole_number(text, 0, "0 or more")


FULL_BATCH = "full"


def batch_size(text: str) -> int | str:
    """A number of samples, or "full" (``batch_size=None``: one batch of everything)."""
    if text.lower() == FULL_BATCH:
        return FULL_BATCH
    return positive_int(text)


def batch_size_value(given: int | str | None, default: int | None) -> int | None:
    """``batch_size`` for the loader from the option: the default when not given."""
    if given is None:
        return default
    return None if given == FULL_BATCH else given


# Beyond these an MLP is not "small", and a typo (an extra zero) would exhaust the memory.
MAX_LAYERS = 100
MAX_LAYER_SIZE = 100_000


def layer_sizes(text: str) -> tuple[int, ...]:
    if text.strip() == "":
        return ()
    parts = text.split(",")
    if len(parts) > MAX_LAYERS:
        raise argparse.ArgumentTypeError(f"at most {MAX_LAYERS} hidden layers, got {len(parts)}")
    try:
        sizes = tuple(positive_int(part) for part in parts)
    except argparse.ArgumentTypeError as error:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated layer sizes such as 128,64 ({error})") from None
    if max(sizes) > MAX_LAYER_SIZE:
        raise argparse.ArgumentTypeError(f"a layer of at most {MAX_LAYER_SIZE:,} units, got "
                                         f"{max(sizes):,}")
    return sizes


def comma_separated(values: Sequence) -> str:
    """Layer sizes or a point as the command line takes them: 128,64."""
    return ",".join(map(str, values))


def fraction(text: str) -> float:
    value = positive_float(text)
    if not value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def dropout_probability(text: str) -> float:
    value = non_negative_float(text)
    if not value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 0 and less than 1, got {text}")
    return value


def betas(text: str) -> tuple[float, float]:
    parts = text.split(",")
    try:
        values = tuple(float(part) for part in parts)
    except ValueError:
        values = ()
    if len(values) != 2 or not all(0 <= v < 1 for v in values):
        raise argparse.ArgumentTypeError(
            f"expected two numbers in [0, 1) such as 0.9,0.999, got {quoted(text)}")
    return values


def optimizer_names(text: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        raise argparse.ArgumentTypeError("expected optimizer names such as sgd,adam")
    unknown = [n for n in names if n not in OPTIMIZERS]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown optimizer {quoted(unknown[0])}; choose from {', '.join(OPTIMIZERS)}")
    return list(dict.fromkeys(names))  # in the order given, once each


def point(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated coordinates such as -1.5,2, got {quoted(text)}") from None
    if not all(abs(v) < math.inf for v in values):
        raise argparse.ArgumentTypeError(f"coordinates must be finite numbers, got "
                                         f"{quoted(text)[1:-1]}")
    return values


def condition_number(text: str) -> float:
    value = positive_float(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return value


def shape(text: str) -> tuple[int, ...]:
    """An input shape for ``gradcheck --shapes``: 3,4 (or "" / "()" for a scalar)."""
    if text.strip() in ("", "()"):
        return ()
    try:
        return tuple(positive_int(part) for part in text.strip("()").split(","))
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"expected a shape such as 3,4 (sizes separated by commas), got {quoted(text)}"
        ) from None


class DataSource(argparse.Action):
    """``--data``: ``digits``, ``mnist DIR`` (or just ``DIR``), ``FILE.npz`` or ``FILE.csv``;
    stored as one string, the folder for MNIST."""

    def __call__(self, parser, namespace, values, option_string=None):
        if len(values) == 2 and values[0].lower() == "mnist":
            values = values[1:]
        if len(values) != 1:
            raise argparse.ArgumentError(
                self, "expected digits, mnist DIR, a folder, FILE.npz or FILE.csv, got "
                      + " ".join(quoted(v) for v in values[:3]))
        setattr(namespace, self.dest, values[0])


def _literal(text: str) -> object:
    """One hyperparameter value: True/False, or a number."""
    if text in ("True", "False"):
        return text == "True"
    try:
        return int(text) if len(text) <= 18 else float(text)
    except ValueError:
        return float(text)  # raises ValueError for anything that is not a number


def hyperparameter(text: str) -> tuple[str | None, str, object]:
    """``OPTIMIZER.NAME=VALUE`` (one optimizer) or ``NAME=VALUE`` (every optimizer that has
    it); the value is a number, True/False, or numbers separated by commas (a tuple such as
    0.9,0.99). Parsed by hand, not evaluated: any text gives a one-line error."""
    target, sep, raw = text.partition("=")
    if not sep or not target.strip() or not raw.strip():
        raise argparse.ArgumentTypeError(
            f"expected OPTIMIZER.NAME=VALUE or NAME=VALUE, e.g. adam.betas=0.9,0.99; got "
            f"{quoted(text)}")
    optimizer, _, name = target.strip().rpartition(".")
    if optimizer and optimizer not in OPTIMIZERS:
        raise argparse.ArgumentTypeError(
            f"unknown optimizer {quoted(optimizer)} in {quoted(text)}; choose from "
            f"{', '.join(OPTIMIZERS)}")
    parts = [part.strip() for part in raw.strip().strip("()").split(",")]
    try:
        values = tuple(_literal(part) for part in parts if part)
        if not values:
            raise ValueError
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"the value of {quoted(target.strip())[1:-1]} must be a number, True/False or "
            f"numbers separated by commas, got {quoted(raw.strip())}") from None
    return optimizer or None, name, values[0] if len(values) == 1 else values


# -- commands ------------------------------------------------------------------------------


def _lr_defaults() -> str:
    return ", ".join(f"{name} {choice.lr:g}" for name, choice in OPTIMIZERS.items())


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="minigrad", description="minigrad: autodiff and optimizers on NumPy")
    parser.add_argument("--version", action="version", version=f"minigrad {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True
    _add_train(commands)
    _add_evaluate_and_predict(commands)
    _add_compare(commands)
    _add_gradcheck(commands)
    _add_graph(commands)
    return parser


def _add_train(commands) -> None:
    defaults = training.TrainConfig()
    train = commands.add_parser(
        "train", help="train an MLP or CNN classifier (on the built-in 8x8 digits by "
                      "default)",
        description="Train an MLP or a small CNN classifier: on the built-in 8x8 handwritten "
                    "digits (1,797 "
                    "images), an MNIST folder, or your own .npz/.csv. The data is split "
                    f"stratified (holding out {defaults.test_size:.0%} for testing by "
                    "default) and standardized with the mean and std of the training part; "
                    "the checkpoint (--save) keeps them, with the class names, so that "
                    "'minigrad evaluate' and 'minigrad predict' take raw features. Options "
                    "left out take the default shown; with --resume, the checkpoint's.")
    # Defaults are None here and filled in by run_train, so that --resume can tell the
    # options given from the ones left out.
    model = train.add_argument_group("model")
    model.add_argument("--model", choices=list(training.MODELS),
                       help="mlp: linear layers of the --hidden sizes with ReLU between them; "
                            "cnn: for square images (the features as side x side pixels: 8x8 "
                            "digits, 28x28 MNIST), 3x3 convolutions of --channels output "
                            "channels, each followed by ReLU and 2x2 max pooling, then one "
                            "linear layer; its pixels are standardized with one mean and std "
                            f"(default: {defaults.model})")
    model.add_argument("--channels", type=layer_sizes, metavar="SIZES",
                       help="the CNN's convolutions: the output channels of each, "
                            "comma-separated (default: "
                            f"{comma_separated(defaults.channels)})")
    model.add_argument("--hidden", type=layer_sizes, metavar="SIZES",
                       help="the MLP's hidden layer sizes, comma-separated, e.g. 128,64 "
                            f"(default: {comma_separated(defaults.hidden)})")
    model.add_argument("--dropout", type=dropout_probability, metavar="P",
                       help="dropout probability after each hidden layer of the MLP, before "
                            "the last layer of the CNN (default: 0)")
    opt = train.add_argument_group("optimizer (the names and defaults of torch.optim)")
    opt.add_argument("--optimizer", choices=list(OPTIMIZERS),
                     help=f"default: {defaults.optimizer}")
    opt.add_argument("--lr", type=positive_float,
                     help=f"learning rate (default, per optimizer: {_lr_defaults()})")
    opt.add_argument("--momentum", type=non_negative_float, metavar="M",
                     help="momentum of sgd (0 by default; 0.9 for the momentum and nesterov "
                          "choices) or rmsprop")
    opt.add_argument("--nesterov", action="store_const", const=True,
                     help="Nesterov momentum (sgd with --momentum > 0)")
    opt.add_argument("--weight-decay", type=non_negative_float, metavar="WD",
                     help="L2 penalty (decoupled for adamw, whose default is 0.01; else 0)")
    opt.add_argument("--betas", type=betas, metavar="B1,B2",
                     help="adam, adamw, nadam: e.g. 0.9,0.999")
    opt.add_argument("--scheduler", choices=list(training.SCHEDULERS),
                     help="learning-rate schedule, stepped per epoch: step (times --gamma, "
                          "default 0.1, every --step-size epochs, default a third of the run), "
                          "cosine (down to 0 over the run), exponential (times --gamma, "
                          "default 0.95, per epoch) (default: none)")
    opt.add_argument("--step-size", type=positive_int, metavar="N",
                     help="epochs between steps of 'step'")
    opt.add_argument("--gamma", type=positive_float, metavar="G",
                     help="factor of 'step' and 'exponential'")
    run = train.add_argument_group("run")
    run.add_argument("--epochs", type=positive_int, metavar="N",
                     help=f"epochs in all, also when resuming (default: {defaults.epochs})")
    run.add_argument("--batch-size", type=batch_size, metavar="N|full",
                     help="samples per step, or 'full' for full-batch gradient descent "
                          f"(default: {defaults.batch_size})")
    run.add_argument("--seed", type=non_negative_int, metavar="N",
                     help="seeds the split, the init, the shuffling and dropout (default: "
                          f"{defaults.seed})")
    data = train.add_argument_group("data")
    data.add_argument("--data", metavar="SOURCE", nargs="+", action=DataSource,
                      help="digits (built in), mnist DIR (or just DIR): a folder with the "
                           "MNIST IDX files (its own test set), a .npz with arrays X and y, "
                           "or a .csv with one sample per line, the features then the label "
                           "(a header line is skipped) (default: digits)")
    data.add_argument("--test-size", type=fraction, metavar="F",
                      help=f"fraction held out for testing (default: {defaults.test_size})")
    data.add_argument("--val-split", type=fraction, metavar="F",
                      help="fraction of the training part held out for validation, reported "
                           "per epoch (default: none)")
    out = train.add_argument_group("output")
    out.add_argument("--save", metavar="CKPT",
                     help="save a checkpoint: model, preprocessing, class names, config, "
                          "optimizer and scheduler state, history")
    out.add_argument("--resume", metavar="CKPT",
                     help="continue the run saved in CKPT up to --epochs (exactly as if it "
                          "had not stopped)")
    out.add_argument("--save-plot", metavar="PATH",
                     help="save loss and accuracy curves (needs matplotlib)")
    out.add_argument("--metrics", metavar="FILE",
                     help="write the per-epoch metrics as .csv or .json")
    out.add_argument("--quiet", action="store_true", help="print only the final line")
    out.add_argument("--eager", action="store_true",
                     help="run each training step eagerly, not as a captured step "
                          "(mg.compile): the same numbers, slower")
    train.set_defaults(run=run_train)


def _add_evaluate_and_predict(commands) -> None:
    evaluate = commands.add_parser(
        "evaluate", help="the loss and accuracy of a checkpoint of 'minigrad train'",
        description="Evaluate a checkpoint of 'minigrad train --save': on the test part of "
                    "its own data (the same split, so the accuracy train printed), or on all "
                    "the samples of --data.")
    evaluate.add_argument("checkpoint", metavar="CKPT")
    evaluate.add_argument("--data", metavar="SOURCE", nargs="+",
                          action=DataSource,
                          help="labelled data, as for train: every sample of it is evaluated "
                               "(the test files of an MNIST folder)")
    evaluate.set_defaults(run=run_evaluate)

    predict = commands.add_parser(
        "predict", help="predict classes with a checkpoint of 'minigrad train'",
        description="Predict the class of each sample of INPUT (raw features, as given to "
                    "train: an .npz with an array X, or a .csv with one sample per line and "
                    "no label) with a checkpoint of 'minigrad train --save'; one class name "
                    "per line.")
    predict.add_argument("checkpoint", metavar="CKPT")
    predict.add_argument("input", metavar="INPUT")
    predict.add_argument("--out", metavar="FILE",
                         help="write the predictions here instead of printing them")
    predict.set_defaults(run=run_predict)


def _add_compare(commands) -> None:
    problems = [*OBJECTIVES, "digits"]
    cmp = commands.add_parser(
        "compare", help="run several optimizers on a test function or the digits MLP",
        description="Run optimizers side by side on a test function (each from the same "
                    "start, in float64) or on the digits MLP, with the same settings (the "
                    "same learning rate) for all unless --tune-lr, and print a table ranked "
                    "by the steps (epochs for digits) to reach and stay within the "
                    "tolerance, then by the final loss.")
    cmp.add_argument("--problem", choices=problems, default="rosenbrock",
                     help="default: %(default)s")
    cmp.add_argument("--optimizers", type=optimizer_names, default=list(OPTIMIZERS),
                     help="comma-separated, from: " + ", ".join(OPTIMIZERS)
                          + " (default: all)")
    cmp.add_argument("--steps", type=positive_int, default=None,
                     help=f"optimizer steps on a test function (default: {lab_compare.STEPS})")
    cmp.add_argument("--epochs", type=positive_int, default=None,
                     help=f"epochs on digits (default: {lab_compare.DIGITS_EPOCHS})")
    lr = cmp.add_mutually_exclusive_group()
    lr.add_argument("--lr", type=positive_float, default=None,
                    help="the learning rate of every optimizer (default: one the problem "
                         "suggests for all, e.g. 0.001 on rosenbrock, "
                         f"{lab_compare.DIGITS_LR:g} on digits)")
    lr.add_argument("--tune-lr", action="store_true",
                    help="give each optimizer its own tuned learning rate instead (shown in "
                         "the table)")
    cmp.add_argument("--seeds", type=positive_int, default=1,
                     help="runs per optimizer, reported as mean ± std: different inits and "
                          "shuffles on digits, starts moved by a small random step on a test "
                          "function (seed 0 starts at the start) (default: %(default)s)")
    cmp.add_argument("--set", dest="hyperparameters", type=hyperparameter, action="append",
                     default=[], metavar="[OPT.]NAME=VALUE",
                     help="any other hyperparameter, for one optimizer (adam.betas=0.9,0.99) "
                          "or all that have it (weight_decay=1e-4); repeatable")
    cmp.add_argument("--tol", type=positive_float, default=None,
                     help=f"tolerance on f - min f (default {lab_compare.TOL:g}), or on the "
                          f"training loss for digits (default {lab_compare.DIGITS_TOL:g})")
    cmp.add_argument("--start", type=point, default=None,
                     help="starting point, e.g. -1.5,2 (default: the function's own)")
    cmp.add_argument("--condition", type=condition_number, default=None,
                     help=f"condition number of --problem bowl (default: {DEFAULT_CONDITION:g})")
    cmp.add_argument("--batch-size", type=batch_size, default=None,
                     help="digits: samples per step, or 'full' (default: "
                          f"{lab_compare.DIGITS_BATCH_SIZE or 'full'})")
    cmp.add_argument("--hidden", type=layer_sizes, default=None,
                     help="digits: hidden layer sizes (default: "
                          f"{comma_separated(lab_compare.DIGITS_HIDDEN)})")
    cmp.add_argument("--seed", type=non_negative_int, default=lab_compare.DIGITS_SEED,
                     help="digits: the first seed (default: %(default)s)")
    cmp.add_argument("--save-plot", metavar="PATH",
                     help="save the trajectories (2-D functions) and the loss curves of the "
                          "first seed, as PATH and PATH with '-loss' added (needs matplotlib)")
    cmp.set_defaults(run=run_compare)


def _add_gradcheck(commands) -> None:
    check = commands.add_parser(
        "gradcheck", help="gradient-check every op, layer and loss, or a function of yours",
        description="Compare the gradient of every op, layer and loss in the catalogue (or "
                    "of your function, with --target) with central finite differences in "
                    "float64; print one row per entry, the largest error first; exit with "
                    "status 1 if any check fails.")
    check.add_argument("--second-order", action="store_true",
                       help="also check second derivatives (gradgradcheck)")
    check.add_argument("--only", action="append", default=[], metavar="NAME",
                       help="only the entries whose name contains NAME; repeatable")
    check.add_argument("--kind", action="append", default=[], choices=["op", "layer", "loss"],
                       help="only this kind of entry; repeatable")
    check.add_argument("--target", metavar="MODULE:FUNCTION",
                       help="check your own function (or module class) of Tensors instead, "
                            "imported from the current folder or sys.path, e.g. "
                            "mymodel:loss")
    check.add_argument("--shapes", type=shape, nargs="+", metavar="SHAPE",
                       help="with --target: the shape of each input, e.g. --shapes 3,4 4 "
                            "for two inputs (random float64 values in [-2, 2])")
    check.set_defaults(run=run_gradcheck)


def _add_graph(commands) -> None:
    graph = commands.add_parser(
        "graph", help="draw the computation graph of a small MLP's loss",
        description="Draw the graph of the cross-entropy loss of a small MLP on a batch of "
                    "the digits: one node per op and per tensor, parameters by name.")
    graph.add_argument("--out", default="graph.svg", metavar="PATH",
                       help="output file: .svg, .png or .pdf (rendered with Graphviz's dot), "
                            "or .dot for the source alone (default: %(default)s)")
    graph_hidden = (16, 16)
    graph.add_argument("--hidden", type=layer_sizes, default=graph_hidden,
                       help=f"hidden layer sizes (default: {comma_separated(graph_hidden)})")
    graph.add_argument("--batch-size", type=positive_int, default=4,
                       help="default: %(default)s")
    graph.add_argument("--expand", action="store_true",
                       help="draw fused ops (Linear, cross-entropy) as their primitive ops")
    graph.add_argument("--show-data", action="store_true", help="show the values")
    graph.add_argument("--show-grad", action="store_true",
                       help="run backward (keeping the graph) and show the gradients")
    graph.add_argument("--rankdir", choices=["LR", "TB"], default="LR",
                       help="left to right or top to bottom (default: %(default)s)")
    graph.add_argument("--seed", type=non_negative_int, default=0, help="default: %(default)s")
    graph.set_defaults(run=run_graph)


# -- output paths: refused before the work, not after it -------------------------------------


def check_writable(option: str, path: str, command: str = "train",
                   replace_atomically: bool = False) -> None:
    """Refuse an output path before the work rather than after it: a folder, a missing or
    unwritable folder, a read-only file; with ``replace_atomically`` (``mg.save``), also
    anything but a regular file."""
    where = f"minigrad {command}: {option}"
    target = Path(path).expanduser().resolve()
    folder = target.parent
    if target.is_dir():
        raise UsageError(f"{where}: {path} is a folder; give a file name")
    if not folder.is_dir():
        raise UsageError(f"{where}: folder {folder} does not exist")
    if target.exists():
        if replace_atomically and not target.is_file():
            raise UsageError(f"{where}: {path} exists and is not a regular file")
        mode = target.stat().st_mode
        if not os.access(target, os.W_OK) or not mode & 0o222:
            raise UsageError(f"{where}: {path} is read-only")
    try:  # the one sure test, also for root and read-only file systems: write something
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError:
        raise UsageError(f"{where}: folder {folder} is not writable") from None


def check_plot_path(option: str, path: str, command: str) -> None:
    """A plot path must be writable and end in a format matplotlib can save."""
    check_writable(option, path, command)
    from minigrad.viz.plots import require_matplotlib

    try:
        plt = require_matplotlib()
    except ImportError as error:
        raise UsageError(f"minigrad {command}: {option}: {error}") from None
    formats = plt.figure().canvas.get_supported_filetypes()
    plt.close("all")
    suffix = Path(path).suffix.lstrip(".").lower()
    if suffix not in formats:
        raise UsageError(f"minigrad {command}: {option}: cannot save a plot as "
                         f"{suffix or 'a file without an extension'!r}; use one of "
                         f"{', '.join(sorted(formats))}")


def check_optimizer(command: str, name: str, hyperparameters: dict) -> None:
    """Build the optimizer once on a dummy parameter: bad values fail before any work."""
    from minigrad.tensor import Tensor

    try:
        make_optimizer(name, [Tensor([0.0], requires_grad=True)], **hyperparameters)
    except (ValueError, TypeError) as error:
        raise UsageError(f"minigrad {command}: {error}") from None


# -- train, evaluate, predict ----------------------------------------------------------------

# The options of train that describe the run, and TrainConfig's name for each.
_RUN_OPTIONS = {"optimizer": "--optimizer", "lr": "--lr", "momentum": "--momentum",
                "nesterov": "--nesterov", "weight_decay": "--weight-decay",
                "betas": "--betas", "scheduler": "--scheduler", "step_size": "--step-size",
                "gamma": "--gamma", "batch_size": "--batch-size", "model": "--model",
                "channels": "--channels", "hidden": "--hidden",
                "dropout": "--dropout", "seed": "--seed", "test_size": "--test-size",
                "val_split": "--val-split", "data": "--data"}


def _train_config(args: argparse.Namespace) -> tuple[training.TrainConfig, dict | None]:
    """The TrainConfig of the options given (the rest default), or of the checkpoint to
    resume, with the checkpoint."""
    if args.resume:
        try:
            state = training.read_checkpoint(args.resume)
        except (OSError, ValueError) as error:
            raise UsageError(f"minigrad train: --resume: {error}") from None
        given = [option for name, option in _RUN_OPTIONS.items()
                 if getattr(args, name) is not None and name != "data"]
        if given:
            raise UsageError(f"minigrad train: {given[0]} cannot be changed when resuming; "
                             "the run continues with the checkpoint's settings")
        config = training.config_from_checkpoint(state)
        if args.data is not None:
            config.data = args.data  # the same data, moved
        if args.epochs is not None:
            config.epochs = args.epochs
        config.compiled = not args.eager
        done = int(state["epochs_done"])
        if config.epochs <= done:
            raise UsageError(f"minigrad train: --resume: {args.resume} has already trained "
                             f"{done} of {config.epochs} epochs; give --epochs N with N > "
                             f"{done}")
        return config, state
    defaults = training.TrainConfig()
    optimizer_args = {name: getattr(args, name) for name in
                      ("momentum", "nesterov", "weight_decay", "betas")
                      if getattr(args, name) is not None}
    scheduler = args.scheduler or "none"
    scheduler_args = {name: getattr(args, name) for name in ("step_size", "gamma")
                      if getattr(args, name) is not None}
    takes = {"none": (), "step": ("step_size", "gamma"), "cosine": (),
             "exponential": ("gamma",)}[scheduler]
    for name in scheduler_args:
        if name not in takes:
            raise UsageError(f"minigrad train: {_RUN_OPTIONS[name]} does not apply to "
                             f"--scheduler {scheduler}")

    def given(name):
        value = getattr(args, name)
        return getattr(defaults, name) if value is None else value

    for option, applies_to in (("hidden", "mlp"), ("channels", "cnn")):
        if getattr(args, option) is not None and given("model") != applies_to:
            raise UsageError(f"minigrad train: --{option} applies to --model {applies_to}, "
                             f"not --model {given('model')}")

    config = training.TrainConfig(
        optimizer=given("optimizer"), lr=args.lr, optimizer_args=optimizer_args,
        epochs=given("epochs"),
        batch_size=batch_size_value(args.batch_size, defaults.batch_size),
        model=given("model"), hidden=given("hidden"), channels=given("channels"),
        dropout=given("dropout"),
        seed=given("seed"),
        test_size=given("test_size"), val_split=given("val_split"), scheduler=scheduler,
        scheduler_args=scheduler_args, data=given("data"), compiled=not args.eager)
    check_optimizer("train", config.optimizer,
                    {**config.optimizer_args, "lr": training.resolved_lr(config)})
    return config, None


def _load_data(config: training.TrainConfig, command: str = "train") -> training.Data:
    try:
        return training.load_data(config)
    except (OSError, ValueError) as error:
        raise UsageError(f"minigrad {command}: --data: {error}") from None


def _print(quiet: bool):
    return (lambda line: None) if quiet else (lambda line: print(line, flush=True))


def run_train(args: argparse.Namespace) -> int:
    # Every output path is checked before the first epoch.
    if args.save:
        check_writable("--save", args.save, replace_atomically=True)
    if args.save_plot:
        check_plot_path("--save-plot", args.save_plot, "train")
    if args.metrics:
        if Path(args.metrics).suffix.lower() not in (".csv", ".json"):
            raise UsageError(f"minigrad train: --metrics: use a .csv or .json file, got "
                             f"{quoted(args.metrics)}")
        check_writable("--metrics", args.metrics)
    config, resume = _train_config(args)
    data = _load_data(config)
    try:
        architecture = training.model_architecture(config, data.X_train.shape[1],
                                                   len(data.classes))
    except ValueError as error:
        raise UsageError(f"minigrad train: --model {config.model}: {data.description}: "
                         f"{error}") from None
    say = _print(args.quiet)
    model = training.describe_model(architecture)
    batch = "full" if config.batch_size is None else config.batch_size
    schedule = "" if config.scheduler == "none" else f", {config.scheduler} schedule"
    extra = "".join(f", {k} {v}" for k, v in config.optimizer_args.items())
    say(f"training {_article(model)} {model} on {data.description}: optimizer "
        f"{config.optimizer} "
        f"(lr {training.resolved_lr(config):g}{extra}{schedule}), batch size {batch}, "
        f"{config.epochs} epochs, seed {config.seed}")
    if resume is not None:
        say(f"resuming {args.resume} after epoch {int(resume['epochs_done'])}")
    progress = None if args.quiet else training.progress_bar(sys.stderr)
    result = training.train(config, progress=progress, log=say, resume=resume, data=data)
    history = result.history
    epochs_run = max(1, config.epochs - (int(resume["epochs_done"]) if resume else 0))
    say(f"done in {history.seconds:.2f} s ({history.seconds / epochs_run * 1000:.0f} ms "
        "per epoch)")
    if args.save:
        from minigrad.serialization import save

        save(training.checkpoint(result), args.save)
        say(f"saved the checkpoint (model, preprocessing, classes, optimizer) to {args.save}")
    if args.metrics:
        training.write_metrics(history, args.metrics)
        say(f"saved per-epoch metrics to {args.metrics}")
    if args.save_plot:
        from minigrad.viz.plots import plot_history

        plot_history({name: values for name, values in
                      training.history_arrays(history, every=True).items()
                      if len(values) and ("loss" in name or "acc" in name)},
                     args.save_plot, title=f"{model}, {config.optimizer}")
        say(f"saved curves to {args.save_plot}")
    print(f"test accuracy: {history.test_accuracy[-1]:.4f}")
    return 0


def _article(name: str) -> str:
    return "an" if name.startswith("MLP") else "a"  # "an MLP", "a CNN": as spoken


def _read_classifier(command: str, path: str) -> training.Classifier:
    try:
        return training.load_checkpoint(path)
    except (OSError, ValueError, KeyError) as error:
        message = f"missing entry {error}" if isinstance(error, KeyError) else str(error)
        raise UsageError(f"minigrad {command}: {message}") from None


def run_evaluate(args: argparse.Namespace) -> int:
    classifier = _read_classifier("evaluate", args.checkpoint)
    config = classifier.config
    model = training.describe_model(classifier.architecture)
    print(f"{args.checkpoint}: {_article(model)} {model} trained on {config.data} with "
          f"{config.optimizer}")
    try:
        if args.data is None:
            # The test part of the training data, split as train split it, raw: the
            # checkpoint's own preprocessing is what is being used.
            split = training.split_data(config)
            X_test = split.X_test
            labels = [split.classes[i] for i in split.y_test]
            what, label = f"the test part of {split.description}", "test"
        else:
            X_test, labels, test, description = training.load_raw(args.data)
            if test is not None:  # an MNIST folder: its test files
                X_test, labels = test
            what, label = f"every sample of {description}", ""
        loss, accuracy = classifier.evaluate(X_test, [str(v) for v in labels],
                                             args.data or config.data)
    except (OSError, ValueError) as error:
        hint = "" if args.data else " (the checkpoint's own data; --data names another)"
        raise UsageError(f"minigrad evaluate: --data: {error}{hint}") from None
    print(f"evaluated on {what}: {len(labels):,} samples; loss {loss:.4f}")
    print(f"{label + ' ' if label else ''}accuracy: {accuracy:.4f}")
    return 0


def run_predict(args: argparse.Namespace) -> int:
    classifier = _read_classifier("predict", args.checkpoint)
    if args.out:
        check_writable("--out", args.out, "predict")
    try:
        X, _ = training.read_table(args.input, labels=False)
        predictions = classifier.predict(X)
    except (OSError, ValueError) as error:
        raise UsageError(f"minigrad predict: {error}") from None
    text = "".join(f"{name}\n" for name in predictions)
    if args.out:
        Path(args.out).write_text(text)
        print(f"wrote {len(predictions):,} predictions to {args.out}")
    else:
        sys.stdout.write(text)
    return 0


# -- compare ---------------------------------------------------------------------------------


def _compare_hyperparameters(args: argparse.Namespace) -> dict[str, dict]:
    """Per-optimizer keyword arguments from --lr and --set, checked against each optimizer's
    signature (a name no chosen optimizer takes is refused)."""
    chosen = args.optimizers
    per_optimizer: dict[str, dict] = {name: {} for name in chosen}
    if args.lr is not None:
        for name in chosen:
            per_optimizer[name]["lr"] = args.lr
    for optimizer, key, value in args.hyperparameters:
        targets = [optimizer] if optimizer else chosen
        if optimizer and optimizer not in chosen:
            raise UsageError(f"minigrad compare: --set {optimizer}.{quoted(key)[1:-1]}: "
                             f"{optimizer} is not among the chosen optimizers "
                             f"({', '.join(chosen)})")
        takers = [t for t in targets if key in hyperparameter_names(t)]
        if not takers:
            where = optimizer or "any of the chosen optimizers"
            allowed = ", ".join(hyperparameter_names(targets[0]))
            raise UsageError(f"minigrad compare: --set: {where} has no hyperparameter "
                             f"{quoted(key)} ({targets[0]} takes {allowed})")
        for t in takers:
            per_optimizer[t][key] = value
    return per_optimizer


def _with_suffix(path: str, tag: str) -> str:
    p = Path(path)
    return str(p.with_name(f"{p.stem}-{tag}{p.suffix}"))


def run_compare(args: argparse.Namespace) -> int:
    digits = args.problem == "digits"
    given = {"--steps": args.steps, "--start": args.start, "--condition": args.condition}
    if digits:
        misplaced = [option for option, value in given.items() if value is not None]
    else:
        misplaced = [option for option, value in {"--epochs": args.epochs,
                                                  "--batch-size": args.batch_size,
                                                  "--hidden": args.hidden}.items()
                     if value is not None]
    if args.condition is not None and args.problem != "bowl":
        misplaced.append("--condition")
    if misplaced:
        raise UsageError(f"minigrad compare: {misplaced[0]} does not apply to --problem "
                         f"{args.problem}")
    if args.save_plot:
        check_plot_path("--save-plot", args.save_plot, "compare")
    hyperparameters = _compare_hyperparameters(args)
    if args.tune_lr and any("lr" in kwargs for kwargs in hyperparameters.values()):
        raise UsageError("minigrad compare: --tune-lr chooses the learning rates; do not "
                         "also --set lr")
    objective = None
    if not digits:
        objective = OBJECTIVES[args.problem]
        if args.condition is not None:
            objective = elongated_bowl(args.condition)
        if args.start is not None and len(args.start) != objective.dim:
            raise UsageError(f"minigrad compare: --start: {objective.name} takes "
                             f"{objective.dim} coordinate(s), got {len(args.start)}")
    for name, kwargs in hyperparameters.items():
        if "lr" not in kwargs:
            kwargs["lr"] = _default_lr(name, objective, args.tune_lr)
        check_optimizer("compare", name, kwargs)
    if args.tune_lr:
        print("learning rates tuned per optimizer (--tune-lr): " + ", ".join(
            f"{name} {kwargs['lr']:g}" for name, kwargs in hyperparameters.items()))
    elif len({kwargs["lr"] for kwargs in hyperparameters.values()}) == 1:
        print(f"the same learning rate for every optimizer: "
              f"{next(iter(hyperparameters.values()))['lr']:g} (--tune-lr: each its own)")
    for name, kwargs in hyperparameters.items():
        settings = {k: v for k, v in kwargs.items() if k != "lr"}
        if settings:
            print(f"{name}: " + ", ".join(f"{k}={v!r}" for k, v in settings.items()))

    if digits:
        return _compare_digits(args, hyperparameters)
    steps = args.steps or lab_compare.STEPS
    tol = args.tol or lab_compare.TOL
    seeds = range(args.seeds)
    print(f"{objective.name}: {objective.formula}; minimum {_points(objective.minima)} "
          f"(f = {objective.min_value:g}); start {_points([args.start or objective.start])}"
          + (f" (and {args.seeds - 1} start(s) near it)" if args.seeds > 1 else "")
          + f"; {steps} steps", flush=True)
    runs = [lab_compare.run_objective(objective, name, steps, tol,
                                      start=lab_compare.jittered_start(objective, seed,
                                                                       args.start),
                                      **hyperparameters[name])
            for name in args.optimizers for seed in seeds]
    print(lab_compare.format_table(runs, tol, min_value=objective.min_value))
    if args.save_plot:
        from minigrad.viz.plots import plot_curves, plot_trajectories

        first = runs[::args.seeds]  # seed 0 of each optimizer, from the same start
        gaps = {r.optimizer: r.losses - objective.min_value for r in first}
        curves_path = args.save_plot
        if objective.box is not None:
            plot_trajectories(objective, {r.optimizer: r.path for r in first}, args.save_plot,
                              title=f"{objective.formula}, {steps} steps")
            print(f"saved trajectories to {args.save_plot}")
            curves_path = _with_suffix(args.save_plot, "loss")
        plot_curves(gaps, curves_path, title=objective.name, ylabel="f(θ) - min f",
                    log_scale=True, floor=COMPARE_PLOT_FLOOR)
        print(f"saved loss curves to {curves_path}")
    return 0


def _default_lr(optimizer: str, objective, tune: bool) -> float:
    """The lr compare gives ``optimizer``: the problem's common one, or its tuned one."""
    if objective is None:
        return OPTIMIZERS[optimizer].lr if tune else lab_compare.DIGITS_LR
    if tune:
        return objective.lrs.get(optimizer, objective.lrs.get("*", objective.lr))
    return objective.lr


def _points(points) -> str:
    return " ".join("(" + ", ".join(f"{v:.4g}" for v in p) + ")" for p in points)


def _compare_digits(args: argparse.Namespace, hyperparameters: dict[str, dict]) -> int:
    epochs = args.epochs or lab_compare.DIGITS_EPOCHS
    batch = batch_size_value(args.batch_size, lab_compare.DIGITS_BATCH_SIZE)
    hidden = lab_compare.DIGITS_HIDDEN if args.hidden is None else args.hidden
    tol = args.tol or lab_compare.DIGITS_TOL
    sizes = "-".join(map(str, training.digits_mlp_sizes(hidden)))
    seeds = range(args.seed, args.seed + args.seeds)
    print(f"digits MLP {sizes}, batch size {batch or FULL_BATCH}, {epochs} epochs, seed "
          + (f"{args.seed}" if args.seeds == 1 else f"{seeds[0]} to {seeds[-1]}"), flush=True)
    runs = []
    for name in args.optimizers:
        for seed in seeds:
            run = lab_compare.run_digits(name, epochs, batch, hidden, seed, tol,
                                         **hyperparameters[name])
            print(f"  {name}" + (f" (seed {seed})" if args.seeds > 1 else "")
                  + f": train loss {run.final_loss:.4f}, test accuracy "
                  f"{run.extra['test_accuracy'][-1]:.4f} ({run.seconds:.1f} s)", flush=True)
            runs.append(run)
    print(lab_compare.format_table(runs, tol, steps_label="epochs",
                                   loss_label="final train loss"))
    if args.save_plot:
        from minigrad.viz.plots import plot_curves

        plot_curves({r.optimizer: r.losses for r in runs[::args.seeds]}, args.save_plot,
                    title=f"digits MLP {sizes}", xlabel="epoch", ylabel="training loss",
                    log_scale=True, x=range(1, epochs + 1))
        print(f"saved loss curves to {args.save_plot}")
    return 0


# -- gradcheck, graph ------------------------------------------------------------------------


def _import_target(target: str):
    """The function ``MODULE:FUNCTION`` names, imported from the current folder or
    sys.path."""
    module_name, sep, attribute = target.partition(":")
    if not sep or not module_name or not attribute:
        raise UsageError(f"minigrad gradcheck: --target: expected MODULE:FUNCTION such as "
                         f"mymodel:loss, got {quoted(target)}")
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        obj = importlib.import_module(module_name)
    except Exception as error:  # the user's module: anything it raises is reported
        raise UsageError(f"minigrad gradcheck: --target: cannot import {quoted(module_name)}: "
                         f"{type(error).__name__}: {_one_line(error)}") from None
    for part in attribute.split("."):
        if not hasattr(obj, part):
            raise UsageError(f"minigrad gradcheck: --target: {quoted(module_name)[1:-1]} has "
                             f"no {quoted(attribute)}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise UsageError(f"minigrad gradcheck: --target: {quoted(target)[1:-1]} is not "
                         "callable")
    if isinstance(obj, type):  # a Module class: an instance of it is the function
        try:
            obj = obj()
        except Exception as error:
            raise UsageError(f"minigrad gradcheck: --target: {quoted(target)[1:-1]}() failed: "
                             f"{type(error).__name__}: {_one_line(error)}") from None
    return obj


def _one_line(error: BaseException | str, limit: int = 300) -> str:
    """A message on one line, and not longer than ``limit`` (a user's absurdly long path or
    value is quoted in it)."""
    text = " ".join(str(error).split())
    return text if len(text) <= limit else text[:limit] + "…"


def run_gradcheck(args: argparse.Namespace) -> int:
    from minigrad.catalogue import checks

    if args.target is None:
        if args.shapes:
            raise UsageError("minigrad gradcheck: --shapes needs --target MODULE:FUNCTION")
        try:
            cases = checks.select(args.only, args.kind)
        except ValueError as error:
            raise UsageError(f"minigrad gradcheck: {error}") from None
        what = f"{len(cases)} ops, layers and losses"
    else:
        if args.only or args.kind:
            raise UsageError("minigrad gradcheck: --only and --kind choose from the catalogue; "
                             "they do not apply to --target")
        if not args.shapes:
            raise UsageError("minigrad gradcheck: --target needs --shapes, the shape of each "
                             "input, e.g. --shapes 3,4 4")
        from minigrad.catalogue.cases import OpCase

        function = _import_target(args.target)
        cases = [OpCase(args.target, function, None, list(args.shapes), group="yours")]
        what = args.target
    order = "first and second derivatives" if args.second_order else "first derivatives"
    print(f"gradient check of {what} in float64 ({order}; central differences, "
          f"{checks.settings()})", flush=True)
    try:
        results = checks.check_all(cases, second_order=args.second_order)
    except Exception as error:  # a user's function that fails on these inputs
        if args.target is None:
            raise
        shapes = " ".join(comma_separated(s) or "()" for s in args.shapes)
        raise UsageError(f"minigrad gradcheck: --target {quoted(args.target)[1:-1]} failed on "
                         f"inputs of shapes {shapes}: {type(error).__name__}: "
                         f"{_one_line(error)}") from None
    worst_first = sorted(results, key=lambda r: (r.ok, -r.max_abs_error, -r.max_rel_error))
    print(checks.format_results(worst_first))
    return 0 if all(r.ok for r in results) else 1


def run_graph(args: argparse.Namespace) -> int:
    from minigrad import nn
    from minigrad.rng import manual_seed
    from minigrad.tensor import Tensor
    from minigrad.viz.graph import DotNotFoundError, draw_graph, save_graph

    if Path(args.out).suffix.lower() not in (".svg", ".png", ".pdf", ".dot", ".gv"):
        raise UsageError(f"minigrad graph: --out: use a .svg, .png, .pdf or .dot file, got "
                         f"{quoted(args.out)}")
    check_writable("--out", args.out, "graph")
    manual_seed(args.seed)
    X_train, _, y_train, _ = training.digits_split(args.seed)
    mlp_sizes = training.digits_mlp_sizes(args.hidden)
    model = training.make_mlp(mlp_sizes)
    x, y = Tensor(X_train[:args.batch_size]), Tensor(y_train[:args.batch_size])
    loss = nn.CrossEntropyLoss()(model(x), y)
    if args.show_grad:
        loss.backward(retain_graph=True)
    graph = draw_graph(loss, params=dict(model.named_parameters()), expand=args.expand,
                       show_data=args.show_data,
                       show_grad=args.show_grad, rankdir=args.rankdir)
    try:
        save_graph(graph, args.out)
    except DotNotFoundError as error:
        print(f"minigrad graph: {error} Or save the source alone: --out graph.dot",
              file=sys.stderr)
        return 1
    sizes = "-".join(map(str, mlp_sizes))
    print(f"drew the loss of an MLP {sizes} on a batch of {args.batch_size} digits "
          f"({graph.op_count} ops, {graph.tensor_count} tensors) to {args.out}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    command = "minigrad"
    try:
        args, unknown = parser.parse_known_args(argv)
        command = f"minigrad {args.command}"
        if unknown:
            raise UsageError(f"{command}: unrecognized arguments: "
                             + " ".join(quoted(a)[1:-1] for a in unknown[:3])
                             + (" …" if len(unknown) > 3 else "")
                             + f" (see {command} --help)")
        return args.run(args)
    except UsageError as error:
        print(_one_line(error, limit=600), file=sys.stderr)
        return 2
    except SystemExit as exit_:  # --help and --version
        return exit_.code if isinstance(exit_.code, int) else 0
    except KeyboardInterrupt:
        print(f"{command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. piped into head: the reader has what it wanted
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so that the exit's flush does not fail too
        return 141
    except (OSError, ValueError) as error:  # e.g. the disk filled up during --save
        print(f"{command}: error: {_one_line(error)}", file=sys.stderr)
        return 1
    except Exception as error:  # noqa: BLE001 - the promise: never a traceback
        print(f"{command}: internal error ({type(error).__name__}): {_one_line(error)}; "
              "please report it", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
