"""The ``minigrad`` command line (also ``python -m minigrad``).

    minigrad train [--optimizer adam] [--lr 1e-3] [--epochs 30] [--batch-size 32|full]
                   [--hidden 256] [--seed 0] [--save model.npz] [--save-plot curves.png]

Bad arguments get a one-line error and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from minigrad import training


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


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return value


def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


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


def fraction(text: str) -> float:
    value = positive_float(text)
    if not value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


# -- commands ------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="minigrad", description="minigrad: autodiff and optimizers on NumPy")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    train = commands.add_parser(
        "train", help="train an MLP on the built-in 8x8 digits data",
        description="Train an MLP classifier on the built-in 8x8 handwritten digits "
                    "(1,797 images; stratified 80/20 split; standardized pixels).")
    defaults = training.TrainConfig()
    train.add_argument("--optimizer", choices=list(training.OPTIMIZERS),
                       default=defaults.optimizer, help="default: %(default)s")
    train.add_argument("--lr", type=positive_float, default=None,
                       help="learning rate (default: a value suited to the optimizer)")
    train.add_argument("--epochs", type=positive_int, default=defaults.epochs,
                       help="default: %(default)s")
    train.add_argument("--batch-size", type=batch_size, default=defaults.batch_size,
                       help="samples per step, or 'full' for full-batch gradient descent "
                            "(default: %(default)s)")
    train.add_argument("--hidden", type=layer_sizes, default=defaults.hidden,
                       help="hidden layer sizes, comma-separated, e.g. 128,64 (default: 256)")
    train.add_argument("--seed", type=non_negative_int, default=defaults.seed,
                       help="seeds the split, the init and the shuffling (default: %(default)s)")
    train.add_argument("--test-size", type=fraction, default=defaults.test_size,
                       help="fraction of the data held out for testing (default: %(default)s)")
    train.add_argument("--save", metavar="PATH", help="save model and optimizer state here")
    train.add_argument("--save-plot", metavar="PATH",
                       help="save loss and accuracy curves (needs matplotlib)")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.set_defaults(run=run_train)
    return parser


def check_writable(option: str, path: str) -> None:
    """Refuse an output path before training rather than after it."""
    folder = Path(path).expanduser().resolve().parent
    if not folder.is_dir():
        raise UsageError(f"minigrad train: {option}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise UsageError(f"minigrad train: {option}: folder {folder} is not writable")


def run_train(args: argparse.Namespace) -> int:
    if args.save:
        check_writable("--save", args.save)
    if args.save_plot:
        from minigrad.viz.plots import require_matplotlib

        check_writable("--save-plot", args.save_plot)
        try:
            require_matplotlib()
        except ImportError as error:
            raise UsageError(f"minigrad train: --save-plot: {error}") from None
    config = training.TrainConfig(optimizer=args.optimizer, lr=args.lr, epochs=args.epochs,
                                  batch_size=args.batch_size, hidden=args.hidden,
                                  seed=args.seed, test_size=args.test_size)
    sizes = "-".join(map(str, (64, *config.hidden, 10)))
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
