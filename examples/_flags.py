"""The flags every example takes: ``--out DIR`` (where the figures go; parsed by
``minigrad.lab.experiment.Experiment``), ``--seed N`` and ``--quick`` (parsed here, since
Experiment knows only ``--out``). The same words as the ``minigrad`` command's.

    flags, rest = parse_flags(argv, quick="20 epochs instead of 40")
    exp = Experiment(title, claim, argv=rest)
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import numpy as np


def parse_flags(argv: Sequence[str] | None, quick: str = "it is quick already",
                seed: str = "it draws no random numbers") -> tuple[argparse.Namespace, list]:
    """``--seed`` and ``--quick``, and the other arguments (for Experiment). ``quick`` and
    ``seed`` say what the flags change in this example (for ``--help``)."""
    import sys

    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--seed", type=int, default=0, metavar="N",
                        help=f"seed of the random numbers (default 0; {seed})")
    parser.add_argument("--quick", action="store_true",
                        help=f"a short run for tests ({quick})")
    flags, rest = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    if "-h" in rest or "--help" in rest:  # Experiment prints --out; these come first
        for action in parser._actions:
            print(f"  {', '.join(action.option_strings):<12} {action.help}")
    if flags.seed < 0:
        parser.error(f"--seed must be >= 0, got {flags.seed}")
    return flags, rest


def log_axis_curves(curves, path, floor: float, **labels):
    """``plot_curves`` of the absolute values on a log y axis cut at ``floor`` (see its
    ``floor`` argument: values of 1e-300 would flatten every other curve)."""
    from minigrad.viz import plot_curves

    return plot_curves({name: np.abs(values) for name, values in curves.items()}, path,
                       log_scale=True, floor=floor, **labels)
