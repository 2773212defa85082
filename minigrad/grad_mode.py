"""Grad mode: whether ops record the graph, and whether they check for NaN and Inf.

Both switches are per thread, as in PyTorch: ``no_grad`` in one thread never changes what
another thread records, so two threads can train two models at once. ``Function.apply``
(in ``engine.py``) reads ``this_thread.modes.grad_enabled`` for every op it runs.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable


class Modes:
    """One thread's two switches. Plain slots, because ``Function.apply`` reads (and
    switches) them for every op, and slots are several times cheaper to read and write than
    the attributes of a ``threading.local``."""

    __slots__ = ("grad_enabled", "anomaly_enabled")

    def __init__(self):
        self.grad_enabled = True
        self.anomaly_enabled = False


class _PerThread(threading.local):
    """Each thread sees its own ``modes`` (``threading.local`` runs ``__init__`` once in
    every thread that touches it)."""

    def __init__(self):
        self.modes = Modes()


this_thread = _PerThread()


def is_grad_enabled() -> bool:
    """True when ops record the graph for backward (the default)."""
    return this_thread.modes.grad_enabled


class _GradMode:
    """Sets this thread's grad mode on entry and restores it on exit; as a decorator,
    runs the function in that mode."""

    def __init__(self, mode: bool):
        self.mode = mode

    def __enter__(self):
        self.previous = this_thread.modes.grad_enabled
        this_thread.modes.grad_enabled = self.mode
        return self

    def __exit__(self, *exc_info):
        this_thread.modes.grad_enabled = self.previous
        return False

    def __call__(self, func: Callable) -> Callable:
        mode = self.mode

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with _GradMode(mode):  # a new switch per call: each call restores its own mode
                return func(*args, **kwargs)

        return wrapper


def _switch(mode: bool, func: Callable | None, name: str):
    if func is None:
        return _GradMode(mode)  # ``with no_grad():`` or ``@no_grad()``
    if not callable(func):
        raise TypeError(f"{name}() takes no arguments, got {func!r}")
    return _GradMode(mode)(func)  # ``@no_grad`` without parentheses


def no_grad(func: Callable | None = None):
    """Ops inside do not record the graph: their results have ``requires_grad=False``.

    ``with mg.no_grad():``, or a decorator: ``@mg.no_grad`` or ``@mg.no_grad()``.
    """
    return _switch(False, func, "no_grad")


def enable_grad(func: Callable | None = None):
    """Ops inside record the graph, even within ``no_grad`` (same forms as ``no_grad``)."""
    return _switch(True, func, "enable_grad")


class set_grad_enabled(_GradMode):
    """Record the graph exactly when ``mode``: at once when called, as in PyTorch
    (``mg.set_grad_enabled(False)`` switches recording off until switched on again), and
    within ``with set_grad_enabled(mode):``, which restores the previous mode on exit.
    As a decorator, ``@set_grad_enabled(mode)`` runs the function in that mode."""

    def __init__(self, mode: bool):
        super().__init__(bool(mode))
        self.previous = this_thread.modes.grad_enabled
        this_thread.modes.grad_enabled = self.mode

    def __enter__(self):
        return self  # the mode was set when the object was made

    def __call__(self, func: Callable) -> Callable:
        this_thread.modes.grad_enabled = self.previous  # decorating must not change the mode
        return super().__call__(func)


class detect_anomaly:
    """Inside, the first op whose forward or backward makes a NaN or Inf raises an error
    naming that op. Slow (every result is checked); for debugging only."""

    def __enter__(self):
        self.previous = this_thread.modes.anomaly_enabled
        this_thread.modes.anomaly_enabled = True
        return self

    def __exit__(self, *exc_info):
        this_thread.modes.anomaly_enabled = self.previous
        return False
