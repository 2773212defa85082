"""Gradient-check everything in the catalogue (``minigrad.catalogue.cases``) in float64: the
runner behind ``minigrad gradcheck``.

For each op, layer and loss: the largest absolute and relative difference between the
gradient backward computes and central finite differences, and whether ``mg.gradcheck``
(and, when asked, ``mg.gradgradcheck``) accepts it.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Iterable
from dataclasses import dataclass

from minigrad.catalogue.cases import CATALOGUE, OpCase, make_inputs
from minigrad.gradcheck import GradcheckError, gradcheck, gradcheck_report, gradgradcheck
from minigrad.tensor import Tensor, float64


@dataclass
class CheckResult:
    name: str
    group: str
    input_shapes: list[tuple[int, ...]]
    max_abs_error: float
    max_rel_error: float
    passed: bool
    second_order: bool | None = None  # None: gradgradcheck not run
    message: str = ""  # what failed, when something did
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.passed and self.second_order is not False


def _inputs(case: OpCase, seed: int) -> list[Tensor]:
    return [Tensor(a, dtype=float64, requires_grad=True) for a in make_inputs(case, seed=seed)]


def settings() -> str:
    """The step and tolerances every check uses, for the heading of ``minigrad gradcheck``:
    ``mg.gradcheck``'s defaults, read from its signature so the heading cannot disagree."""
    defaults = inspect.signature(gradcheck).parameters
    return ", ".join(f"{name} {defaults[name].default:g}" for name in ("eps", "atol", "rtol"))


def check_case(case: OpCase, second_order: bool = False, seed: int = 1) -> CheckResult:
    """Gradient-check one catalogue entry; never raises for a wrong gradient (the result
    says so), only for a broken entry."""
    begin = time.perf_counter()
    reports = gradcheck_report(case.fn, _inputs(case, seed))
    max_abs = max(r.max_abs_error for r in reports)
    max_rel = max(r.max_rel_error for r in reports)
    message = ""
    try:
        passed = gradcheck(case.fn, _inputs(case, seed))
    except GradcheckError as error:
        passed, message = False, str(error)
    second = None
    if second_order and case.second_order:
        try:
            second = gradgradcheck(case.fn, _inputs(case, seed + 1))
        except GradcheckError as error:
            second, message = False, message or f"second order: {error}"
    return CheckResult(case.name, case.group, list(case.shapes), max_abs, max_rel, passed,
                       second, message, time.perf_counter() - begin)


def check_all(cases: Iterable[OpCase] = CATALOGUE, second_order: bool = False
              ) -> list[CheckResult]:
    """``check_case`` for every entry (by default the whole catalogue)."""
    return [check_case(case, second_order) for case in cases]


def select(names: Iterable[str] = (), groups: Iterable[str] = ()) -> list[OpCase]:
    """Catalogue entries whose name contains one of ``names`` (all when none are given),
    restricted to ``groups`` ("op", "layer", "loss") when given."""
    names, groups = list(names), set(groups)
    unknown_groups = groups - {case.group for case in CATALOGUE}
    if unknown_groups:
        raise ValueError(f"unknown group(s) {', '.join(sorted(unknown_groups))}; the catalogue "
                         "has op, layer and loss")
    chosen = [case for case in CATALOGUE
              if (not names or any(n in case.name for n in names))
              and (not groups or case.group in groups)]
    if not chosen:
        raise ValueError(f"no op in the catalogue matches {', '.join(names)}")
    return chosen


def format_results(results: list[CheckResult]) -> str:
    """The results as a fixed-width table, one line per entry, then a summary line."""
    show_second = any(r.second_order is not None for r in results)
    header = ["op", "kind", "input shapes", "max abs err", "max rel err", "gradcheck"]
    if show_second:
        header.append("gradgradcheck")
    rows = []
    for r in results:
        shapes = " ".join("x".join(map(str, s)) or "()" for s in r.input_shapes)
        row = [r.name, r.group, shapes, f"{r.max_abs_error:.2e}", f"{r.max_rel_error:.2e}",
               "ok" if r.passed else "FAIL"]
        if show_second:
            row.append({None: "-", True: "ok", False: "FAIL"}[r.second_order])
        rows.append(row)
    widths = [max(len(x) for x in column) for column in zip(header, *rows)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip()
             for line in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    failed = [r for r in results if not r.ok]
    lines.append("")
    lines.append(f"{len(results) - len(failed)} of {len(results)} passed"
                 + (f"; FAILED: {', '.join(r.name for r in failed)}" if failed else ""))
    for r in failed:
        lines.append(f"  {r.name}: {r.message}")
    return "\n".join(lines)
