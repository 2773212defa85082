"""The frame of the classic experiments in ``examples/``: each states a claim, measures,
prints its numbers, saves its figures and checks the claim, exiting non-zero if it fails.

    exp = Experiment("momentum's terminal velocity", claim="...", argv=argv)
    exp.check("the step approaches 10× the plain step", abs(ratio - 10) < 1e-3, f"{ratio:.4f}")
    exp.figure("steps.png", lambda path: plot_curves(..., path=path))
    return exp.finish()
"""

from __future__ import annotations

import argparse
import tempfile
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path


class Experiment:
    """Parses ``--out FOLDER`` (default: a new temporary folder), prints the claim, and
    collects the checks of it."""

    def __init__(self, title: str, claim: str, argv: Sequence[str] | None = None):
        parser = argparse.ArgumentParser(description=f"{title}. {claim}")
        parser.add_argument("--out", metavar="FOLDER", default=None,
                            help="where to save the figures (default: a new temporary folder)")
        args = parser.parse_args(argv)
        self.out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="minigrad-"))
        self.out.mkdir(parents=True, exist_ok=True)
        self.failures: list[str] = []
        print(title)
        print("=" * len(title))
        print(textwrap.fill("Claim: " + " ".join(claim.split()), width=92))
        print()

    def check(self, statement: str, holds: bool, measured: str = "") -> bool:
        """Print one checked statement with what was measured; remember a failure."""
        mark = "ok  " if holds else "FAIL"
        print(f"[{mark}] {statement}" + (f"  ({measured})" if measured else ""))
        if not holds:
            self.failures.append(statement)
        return bool(holds)

    def figure(self, name: str, draw: Callable[[Path], object]) -> Path | None:
        """``draw(path)`` saves a figure to ``out/name``; skipped without matplotlib."""
        path = self.out / name
        try:
            figure = draw(path)
        except ImportError as error:
            print(f"(figure {name} skipped: {error})")
            return None
        import matplotlib.pyplot as plt

        plt.close(figure)
        print(f"saved {path}")
        return path

    def finish(self) -> int:
        """Print the verdict; 0 if every check held, 1 otherwise (the exit status)."""
        print()
        if self.failures:
            print(f"CLAIM FAILED: {len(self.failures)} check(s) did not hold: "
                  + "; ".join(self.failures))
            return 1
        print("claim holds: every check passed")
        return 0
