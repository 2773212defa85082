"""The ``minigrad`` command line (also ``python -m minigrad``).

    minigrad train [--optimizer NAME] [--lr LR] [--epochs N] [--batch-size N|full]
                   [--hidden SIZES] [--seed N] [--save model.npz] [--save-plot curves.png]
    minigrad compare [--problem rosenbrock|digits|...] [--optimizers sgd,adam] [--steps N]
                     [--lr LR] [--set adam.betas=0.9,0.99] [--tol TOL] [--save-plot a.png]
    minigrad gradcheck [--second-order] [--only NAME] [--kind op|layer|loss]
    minigrad graph [--out graph.svg] [--hidden SIZES] [--show-data] [--show-grad]

The defaults of ``train`` and ``compare`` live where the work is done (``TrainConfig`` in
``minigrad.training``, the constants of ``minigrad.lab.compare``); ``--help`` shows them.

Bad arguments get a one-line error and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import ast
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from minigrad import training
from minigrad.lab import compare as lab_compare
from minigrad.lab.testfunctions import DEFAULT_CONDITION, OBJECTIVES, elongated_bowl
from minigrad.optim.registry import OPTIMIZERS, hyperparameter_names, make_optimizer


class UsageError(Exception):
    """A bad command-line argument: reported in one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse would print the whole usage; one line is enough
        raise UsageError(f"{self.prog}: {message}")


# -- argument types: each checks one value and says what was wrong --------------------------


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def _whole_number(text: str, minimum: int, requirement: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"must be {requirement}, got {text}")
    return value


def positive_int(text: str) -> int:
    return _whole_number(text, 1, "at least 1")


def non_negative_int(text: str) -> int:
    return _whole_number(text, 0, "0 or more")


def batch_size(text: str) -> int | None:
    if text.lower() == "full":
        return None
    return positive_int(text)


def layer_sizes(text: str) -> tuple[int, ...]:
    if text.strip() == "":
        return ()
    try:
        return tuple(positive_int(part) for part in text.split(","))
    except argparse.ArgumentTypeError as error:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated layer sizes such as 128,64 ({error})") from None


def comma_separated(values: Sequence) -> str:
    """Layer sizes or a point as the command line takes them: 128,64."""
    return ",".join(map(str, values))


def fraction(text: str) -> float:
    value = positive_float(text)
    if not value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def optimizer_names(text: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        raise argparse.ArgumentTypeError("expected optimizer names such as sgd,adam")
    unknown = [n for n in names if n not in OPTIMIZERS]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown optimizer {unknown[0]!r}; choose from {', '.join(OPTIMIZERS)}")
    return list(dict.fromkeys(names))  # in the order given, once each


def point(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated coordinates such as -1.5,2, got {text!r}") from None
    if not all(abs(v) < float("inf") for v in values):
        raise argparse.ArgumentTypeError(f"coordinates must be finite numbers, got {text}")
    return values


def condition_number(text: str) -> float:
    value = positive_float(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return value


def hyperparameter(text: str) -> tuple[str | None, str, object]:
    """``OPTIMIZER.NAME=VALUE`` (one optimizer) or ``NAME=VALUE`` (every optimizer that has
    it); the value is a Python literal: 0.9, 1e-3, True, or a tuple such as 0.9,0.99."""
    target, sep, raw = text.partition("=")
    if not sep or not target.strip() or not raw.strip():
        raise argparse.ArgumentTypeError(
            f"expected OPTIMIZER.NAME=VALUE or NAME=VALUE, e.g. adam.betas=0.9,0.99; got "
            f"{text!r}")
    optimizer, _, name = target.strip().rpartition(".")
    if optimizer and optimizer not in OPTIMIZERS:
        raise argparse.ArgumentTypeError(
            f"unknown optimizer {optimizer!r} in {text!r}; choose from "
            f"{', '.join(OPTIMIZERS)}")
    try:
        value = ast.literal_eval(raw.strip())
    except (ValueError, SyntaxError):
        raise argparse.ArgumentTypeError(
            f"the value of {target.strip()} must be a number, True/False or numbers separated "
            f"by commas, got {raw.strip()!r}") from None
    return optimizer or None, name, value


# -- commands ------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="minigrad", description="minigrad: autodiff and optimizers on NumPy")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    defaults = training.TrainConfig()
    train = commands.add_parser(
        "train", help="train an MLP on the built-in 8x8 digits data",
        description="Train an MLP classifier on the built-in 8x8 handwritten digits "
                    f"(1,797 images; a stratified split holding out {defaults.test_size:.0%} "
                    "by default; standardized pixels).")
    train.add_argument("--optimizer", choices=list(OPTIMIZERS),
                       default=defaults.optimizer, help="default: %(default)s")
    train.add_argument("--lr", type=positive_float, default=None,
                       help="learning rate (default: a value suited to the optimizer)")
    train.add_argument("--epochs", type=positive_int, default=defaults.epochs,
                       help="default: %(default)s")
    train.add_argument("--batch-size", type=batch_size, default=defaults.batch_size,
                       help="samples per step, or 'full' for full-batch gradient descent "
                            "(default: %(default)s)")
    train.add_argument("--hidden", type=layer_sizes, default=defaults.hidden,
                       help="hidden layer sizes, comma-separated, e.g. 128,64 (default: "
                            f"{comma_separated(defaults.hidden)})")
    train.add_argument("--seed", type=non_negative_int, default=defaults.seed,
                       help="seeds the split, the init and the shuffling (default: %(default)s)")
    train.add_argument("--test-size", type=fraction, default=defaults.test_size,
                       help="fraction of the data held out for testing (default: %(default)s)")
    train.add_argument("--save", metavar="PATH", help="save model and optimizer state here")
    train.add_argument("--save-plot", metavar="PATH",
                       help="save loss and accuracy curves (needs matplotlib)")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.set_defaults(run=run_train)

    problems = [*OBJECTIVES, "digits"]
    cmp = commands.add_parser(
        "compare", help="run several optimizers on a test function or the digits MLP",
        description="Run optimizers side by side on a test function (each from the same "
                    "start, in float64) or on the digits MLP, and print a table: final loss, "
                    "steps (epochs for digits) to reach the tolerance, wall time.")
    cmp.add_argument("--problem", choices=problems, default="rosenbrock",
                     help="default: %(default)s")
    cmp.add_argument("--optimizers", type=optimizer_names, default=list(OPTIMIZERS),
                     help="comma-separated, from: " + ", ".join(OPTIMIZERS)
                          + " (default: all)")
    cmp.add_argument("--steps", type=positive_int, default=None,
                     help=f"optimizer steps on a test function (default: {lab_compare.STEPS})")
    cmp.add_argument("--epochs", type=positive_int, default=None,
                     help=f"epochs on digits (default: {lab_compare.DIGITS_EPOCHS})")
    cmp.add_argument("--lr", type=positive_float, default=None,
                     help="learning rate for every optimizer (default: one suited to each "
                          "optimizer and problem)")
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
                     help="digits: seeds the split, init and shuffling (default: %(default)s)")
    cmp.add_argument("--save-plot", metavar="PATH",
                     help="save the trajectories (2-D functions) and the loss curves, "
                          "as PATH and PATH with '-loss' added (needs matplotlib)")
    cmp.set_defaults(run=run_compare)

    check = commands.add_parser(
        "gradcheck", help="gradient-check every differentiable op, layer and loss",
        description="Compare the gradient of every op, layer and loss in the catalogue with "
                    "central finite differences in float64; print the largest errors; exit "
                    "with status 1 if any check fails.")
    check.add_argument("--second-order", action="store_true",
                       help="also check second derivatives (gradgradcheck)")
    check.add_argument("--only", action="append", default=[], metavar="NAME",
                       help="only the entries whose name contains NAME; repeatable")
    check.add_argument("--kind", action="append", default=[], choices=["op", "layer", "loss"],
                       help="only this kind of entry; repeatable")
    check.set_defaults(run=run_gradcheck)

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
    graph.add_argument("--show-data", action="store_true", help="show the values")
    graph.add_argument("--show-grad", action="store_true",
                       help="run backward (keeping the graph) and show the gradients")
    graph.add_argument("--rankdir", choices=["LR", "TB"], default="LR",
                       help="left to right or top to bottom (default: %(default)s)")
    graph.add_argument("--seed", type=non_negative_int, default=0, help="default: %(default)s")
    graph.set_defaults(run=run_graph)
    return parser


def check_writable(option: str, path: str, command: str = "train") -> None:
    """Refuse an output path before the work rather than after it."""
    target = Path(path).expanduser().resolve()
    folder = target.parent
    if target.is_dir():
        raise UsageError(f"minigrad {command}: {option}: {path} is a folder; give a file name")
    if not folder.is_dir():
        raise UsageError(f"minigrad {command}: {option}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise UsageError(f"minigrad {command}: {option}: folder {folder} is not writable")


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


def run_train(args: argparse.Namespace) -> int:
    if args.save:
        check_writable("--save", args.save)
    if args.save_plot:
        check_plot_path("--save-plot", args.save_plot, "train")
    config = training.TrainConfig(optimizer=args.optimizer, lr=args.lr, epochs=args.epochs,
                                  batch_size=args.batch_size, hidden=args.hidden,
                                  seed=args.seed, test_size=args.test_size)
    sizes = "-".join(map(str, training.digits_mlp_sizes(config.hidden)))
    batch = "full" if config.batch_size is None else config.batch_size
    print(f"training an MLP {sizes} on digits: optimizer {config.optimizer}, "
          f"batch size {batch}, {config.epochs} epochs, seed {config.seed}", flush=True)
    progress = None if args.quiet else training.tqdm_progress()
    model, optimizer, history = training.train_digits(
        config, progress=progress, log=lambda line: print(line, flush=True))
    print(f"done in {history.seconds:.1f} s ({history.seconds / config.epochs * 1000:.0f} ms "
          f"per epoch); lr {history.config['lr']:g}")
    if args.save:
        from minigrad.serialization import save

        save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
              "config": {**history.config, "hidden": list(config.hidden)},
              "history": training.history_arrays(history)}, args.save)
        print(f"saved model and optimizer state to {args.save}")
    if args.save_plot:
        from minigrad.viz.plots import plot_history

        plot_history(training.history_arrays(history), args.save_plot,
                     title=f"digits MLP, {config.optimizer}")
        print(f"saved curves to {args.save_plot}")
    print(f"test accuracy: {history.test_accuracy[-1]:.4f}")
    return 0


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
            raise UsageError(f"minigrad compare: --set {optimizer}.{key}: {optimizer} is not "
                             f"among the chosen optimizers ({', '.join(chosen)})")
        takers = [t for t in targets if key in hyperparameter_names(t)]
        if not takers:
            where = optimizer or "any of the chosen optimizers"
            allowed = ", ".join(hyperparameter_names(targets[0]))
            raise UsageError(f"minigrad compare: --set: {where} has no hyperparameter "
                             f"{key!r} ({targets[0]} takes {allowed})")
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
    try:  # build every optimizer once on a dummy parameter: bad values fail before any run
        from minigrad.tensor import Tensor

        for name, kwargs in hyperparameters.items():
            make_optimizer(name, [Tensor([0.0], requires_grad=True)], **kwargs)
    except (ValueError, TypeError) as error:
        raise UsageError(f"minigrad compare: {error}") from None
    for name, kwargs in hyperparameters.items():
        settings = {k: v for k, v in kwargs.items() if k != "lr"}
        if settings:
            print(f"{name}: " + ", ".join(f"{k}={v!r}" for k, v in settings.items()))

    if digits:
        return _compare_digits(args, hyperparameters)
    objective = OBJECTIVES[args.problem]
    if args.condition is not None:
        objective = elongated_bowl(args.condition)
    if args.start is not None and len(args.start) != objective.dim:
        raise UsageError(f"minigrad compare: --start: {objective.name} takes {objective.dim} "
                         f"coordinate(s), got {len(args.start)}")
    steps = args.steps or lab_compare.STEPS
    tol = args.tol or lab_compare.TOL
    print(f"{objective.name}: {objective.formula}; minimum {_points(objective.minima)} "
          f"(f = {objective.min_value:g}); start {_points([args.start or objective.start])}; "
          f"{steps} steps", flush=True)
    runs = [lab_compare.run_objective(objective, name, steps, tol, start=args.start,
                                      **hyperparameters[name])
            for name in args.optimizers]
    print(lab_compare.format_table(runs, tol, min_value=objective.min_value))
    if args.save_plot:
        from minigrad.viz.plots import plot_curves, plot_trajectories

        gaps = {r.optimizer: r.losses - objective.min_value for r in runs}
        curves_path = args.save_plot
        if objective.box is not None:
            plot_trajectories(objective, {r.optimizer: r.path for r in runs}, args.save_plot,
                              title=f"{objective.formula}, {steps} steps")
            print(f"saved trajectories to {args.save_plot}")
            curves_path = _with_suffix(args.save_plot, "loss")
        plot_curves(gaps, curves_path, title=objective.name, ylabel="f(θ) - min f",
                    log_scale=True)
        print(f"saved loss curves to {curves_path}")
    return 0


def _points(points) -> str:
    return " ".join("(" + ", ".join(f"{v:.4g}" for v in p) + ")" for p in points)


def _compare_digits(args: argparse.Namespace, hyperparameters: dict[str, dict]) -> int:
    epochs = args.epochs or lab_compare.DIGITS_EPOCHS
    batch = lab_compare.DIGITS_BATCH_SIZE if args.batch_size is None else args.batch_size
    hidden = lab_compare.DIGITS_HIDDEN if args.hidden is None else args.hidden
    tol = args.tol or lab_compare.DIGITS_TOL
    sizes = "-".join(map(str, training.digits_mlp_sizes(hidden)))
    print(f"digits MLP {sizes}, batch size {batch}, {epochs} epochs, seed {args.seed}",
          flush=True)
    runs = []
    for name in args.optimizers:
        run = lab_compare.run_digits(name, epochs, batch, hidden, args.seed, tol,
                                     **hyperparameters[name])
        print(f"  {name}: train loss {run.final_loss:.4f}, test accuracy "
              f"{run.extra['test_accuracy'][-1]:.4f} ({run.seconds:.1f} s)", flush=True)
        runs.append(run)
    print(lab_compare.format_table(runs, tol, steps_label="epochs",
                                   loss_label="final train loss"))
    if args.save_plot:
        from minigrad.viz.plots import plot_curves

        plot_curves({r.optimizer: r.losses for r in runs}, args.save_plot,
                    title=f"digits MLP {sizes}", xlabel="epoch", ylabel="training loss",
                    log_scale=True, x=range(1, epochs + 1))
        print(f"saved loss curves to {args.save_plot}")
    return 0


def run_gradcheck(args: argparse.Namespace) -> int:
    from minigrad.catalogue import checks

    try:
        cases = checks.select(args.only, args.kind)
    except ValueError as error:
        raise UsageError(f"minigrad gradcheck: {error}") from None
    order = "first and second derivatives" if args.second_order else "first derivatives"
    print(f"gradient check of {len(cases)} ops, layers and losses in float64 ({order}; "
          f"central differences, {checks.settings()})", flush=True)
    results = checks.check_all(cases, second_order=args.second_order)
    print(checks.format_results(results))
    return 0 if all(r.ok for r in results) else 1


def run_graph(args: argparse.Namespace) -> int:
    from minigrad import nn
    from minigrad.rng import manual_seed
    from minigrad.tensor import Tensor
    from minigrad.viz.graph import DotNotFoundError, draw_graph, save_graph

    if Path(args.out).suffix.lower() not in (".svg", ".png", ".pdf", ".dot", ".gv"):
        raise UsageError(f"minigrad graph: --out: use a .svg, .png, .pdf or .dot file, got "
                         f"{args.out!r}")
    check_writable("--out", args.out, "graph")
    manual_seed(args.seed)
    X_train, _, y_train, _ = training.digits_split(args.seed)
    mlp_sizes = training.digits_mlp_sizes(args.hidden)
    model = training.make_mlp(mlp_sizes)
    x, y = Tensor(X_train[:args.batch_size]), Tensor(y_train[:args.batch_size])
    loss = nn.CrossEntropyLoss()(model(x), y)
    if args.show_grad:
        loss.backward(retain_graph=True)
    graph = draw_graph(loss, params=dict(model.named_parameters()), show_data=args.show_data,
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
    try:
        args = build_parser().parse_args(argv)
        return args.run(args)
    except UsageError as error:
        print(str(error), file=sys.stderr)
        return 2
    except (OSError, ValueError) as error:  # e.g. an unwritable --save path
        print(f"minigrad: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("minigrad: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
