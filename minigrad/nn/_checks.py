"""Argument checks shared by ``nn.functional`` and the layers (not part of the API)."""

from __future__ import annotations

REDUCTIONS = ("mean", "sum", "none")


def check_reduction(reduction: str, op: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def check_probability(p: float, op: str) -> float:
    """``p`` as a float, refused unless it is a number in [0, 1]."""
    if isinstance(p, bool) or not isinstance(p, int | float) or not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: probability p has to be between 0 and 1, but got {p!r}")
    return float(p)
