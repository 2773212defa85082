"""Plots with matplotlib (the ``plot`` extra). Each function returns the figure and saves it
when given a path."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path


def require_matplotlib():
    """``matplotlib.pyplot`` on the non-interactive Agg backend, or a clear ImportError."""
    try:
        import matplotlib
    except ImportError:
        raise ImportError(
            "plotting needs matplotlib: pip install 'minigrad[plot]' (or pip install matplotlib)"
        ) from None
    if matplotlib.get_backend().lower() not in ("agg", "module://matplotlib_inline.backend_inline"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_history(history: Mapping[str, Sequence[float]], path: str | Path | None = None,
                 title: str | None = None):
    """Loss curves (left) and accuracy curves (right) of a training history: a mapping of
    names such as ``train_loss``, ``test_loss``, ``test_accuracy`` to per-epoch values."""
    plt = require_matplotlib()
    losses = {k: v for k, v in history.items() if "loss" in k}
    accuracies = {k: v for k, v in history.items() if "acc" in k}
    panels = [p for p in (losses, accuracies) if p]
    if not panels:
        raise ValueError("plot_history: history has no '...loss' or '...accuracy' series")
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.6), squeeze=False)
    for ax, series, label in zip(axes[0], panels, ("loss", "accuracy")):
        for name, values in series.items():
            ax.plot(range(1, len(values) + 1), values, label=name.replace("_", " "))
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig
