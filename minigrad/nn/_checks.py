"""Argument checks shared by ``nn.functional`` and the layers (not part of the API)."""

from __future__ import annotations

import numpy as np

REDUCTIONS = ("mean", "sum", "none")


def check_reduction(reduction: str, op: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def check_probability(p: float, op: str) -> float:
    """``p`` as a float, refused unless it is a number in [0, 1]."""
    if isinstance(p, bool) or not isinstance(p, int | float) or not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: probability p has to be between 0 and 1, but got {p!r}")
    return float(p)


class DomainError(RuntimeError, ValueError):
    """Values outside a function's domain: a RuntimeError, as PyTorch raises for them, and a
    ValueError, as minigrad's refusals of bad values are."""


def check_probabilities(values: np.ndarray, name: str, op: str) -> None:
    """Refuse unless every element is in [0, 1] (NaN is not, as in PyTorch)."""
    inside = (values >= 0) & (values <= 1)
    if not inside.all():
        outside = values[~inside]
        raise DomainError(f"{op}: all elements of {name} should be between 0 and 1, got "
                          f"{outside.size} that are not, the first {outside.flat[0]}")
