"""The random generator behind ``rand``, ``randn``, layer init, dropout and shuffling.

``minigrad.manual_seed(seed)`` replaces it, so a seeded program runs the same every time.
"""

from __future__ import annotations

import numpy as np

_generator = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Seed minigrad's global random generator (and return it)."""
    global _generator
    if not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"manual_seed: seed must be a non-negative integer, got {seed!r}")
    _generator = np.random.default_rng(int(seed))
    return _generator


# Set by ``minigrad.compile``: told of every draw (a step that draws stays eager).
draw_hook = None


def generator() -> np.random.Generator:
    """The generator currently in use (replaced by each ``manual_seed``)."""
    if draw_hook is not None:
        draw_hook()
    return _generator
