"""Seeing what happens: plots of training histories (extra ``plot``: matplotlib)."""

from minigrad.viz.plots import plot_history

__all__ = ["plot_history"]
