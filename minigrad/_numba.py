"""numba, optional (``pip install "minigrad[fast]"``): imported on first need, and loops
compiled by it on their first call.

Two parts of minigrad compile small Python loops with numba where it is installed: the
optimizers' fused update loops (``optim/_kernels.py``) and the fused kernels of captured
steps (``_fusion.py``). Both are optimisations with a NumPy reference that runs without
numba and gives the same numbers. Importing numba takes a tenth of a second (and its
compiler about 120 MB of memory), which ``import minigrad`` does not pay: it is imported
when a loop is first wanted. The environment variable ``MINIGRAD_NUMBA=0`` makes minigrad
run as if numba were not installed.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import os
from collections.abc import Callable, Iterator

_numba = None  # the numba module once imported, False if it cannot be
_switched_off = False


def available() -> bool:
    """Whether numba can be imported (tried once), and is not switched off."""
    global _numba
    if _numba is None:
        try:
            if os.environ.get("MINIGRAD_NUMBA") == "0":
                raise ImportError("MINIGRAD_NUMBA=0")
            _numba = importlib.import_module("numba")
        except ImportError:
            _numba = False
    return _numba is not False and not _switched_off


@contextlib.contextmanager
def switched_off() -> Iterator[None]:
    """Inside the block, minigrad runs as if numba were not installed: optimizers step with
    their NumPy passes, and steps compiled there keep their NumPy kernels (to compare the
    two, as ``benchmarks/train_step.py`` and the tests do)."""
    global _switched_off
    before, _switched_off = _switched_off, True
    try:
        yield
    finally:
        _switched_off = before


def compiled_on_first_call(loop: Callable) -> Callable:
    """``loop``, compiled to machine code by numba when first called (and cached on disk
    across runs, where numba finds a writable place for its cache).
    ``error_model="numpy"``: a division by zero gives inf or NaN as in NumPy instead of
    raising, which also lets the compiler vectorise the loop. No fast-math: the loop rounds
    as written, operation by operation, as NumPy does."""
    machine_code = None

    @functools.wraps(loop)
    def compiled(*args):
        nonlocal machine_code
        if machine_code is None:
            available()
            options = dict(error_model="numpy", boundscheck=False)
            try:
                machine_code = _numba.njit(cache=True, **options)(loop)
            except RuntimeError:  # nowhere to write numba's cache: compile in each process
                machine_code = _numba.njit(**options)(loop)
        return machine_code(*args)

    return compiled
