"""Plots with matplotlib (the ``plot`` extra). Each function returns the figure and saves it
when given a path."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np


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


# Every series gets its own colour, line style and marker, so that two curves on top of each
# other (momentum under Nesterov, Adam under AdamW) stay distinguishable, also in grey.
LINE_STYLES = ("-", "--", "-.", ":")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">")
MARKS_PER_LINE = 8


def series_style(index: int, points: int, colours: Sequence[str]) -> dict:
    """The ``ax.plot`` keywords of series number ``index`` (of ``points`` points): a colour,
    a line style and a marker, the markers staggered so that those of curves lying on top of
    each other do not coincide."""
    every = max(1, points // MARKS_PER_LINE)
    return {"color": colours[index % len(colours)],
            "linestyle": LINE_STYLES[index % len(LINE_STYLES)],
            "marker": MARKERS[index % len(MARKERS)], "markersize": 4,
            "markevery": ((index * every) // len(MARKERS) % every, every)}


def _colours(plt) -> list[str]:
    return plt.rcParams["axes.prop_cycle"].by_key()["color"]


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
        for i, (name, values) in enumerate(series.items()):
            ax.plot(range(1, len(values) + 1), values, label=name.replace("_", " "),
                    **series_style(i, len(values), _colours(plt)))
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    _finish(fig, path)
    return fig


def plot_curves(curves: Mapping[str, Sequence[float]], path: str | Path | None = None,
                title: str | None = None, xlabel: str = "step", ylabel: str = "loss",
                log_scale: bool = False, x: Sequence[float] | None = None,
                reference: float | None = None, floor: float | None = None):
    """One line per named series (e.g. the loss of each optimizer against the step), in one
    panel. ``log_scale`` puts y on a log axis (only positive values are drawn there);
    ``x`` gives shared x values (default 0, 1, 2, ...); ``reference`` draws a dashed
    horizontal line (a minimum value, a target).

    ``floor`` cuts a log axis at that value: a series that falls to 1e-300 (an optimizer
    that reached the minimum in float64) would otherwise stretch the axis over hundreds of
    decades and flatten every other curve. Values below it leave the bottom of the frame,
    and the title says where the axis is cut."""
    plt = require_matplotlib()
    if not curves:
        raise ValueError("plot_curves: no curves to plot")
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for i, (name, values) in enumerate(curves.items()):
        values = np.asarray(values, dtype=np.float64)
        xs = np.arange(len(values)) if x is None else np.asarray(x)[:len(values)]
        if log_scale:
            values = np.where(values > 0, values, np.nan)
            if floor is not None:  # below the frame, so the line visibly leaves it
                values = np.maximum(values, floor / 10)
        ax.plot(xs, values, label=str(name), linewidth=1.5,
                **series_style(i, len(values), _colours(plt)))
    if reference is not None:
        ax.axhline(reference, color="0.4", linestyle="--", linewidth=1)
    if log_scale:
        ax.set_yscale("log")
        if floor is not None:
            ax.set_ylim(bottom=floor)
            title = f"{title or ''} (axis cut at {floor:g})".strip()
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend()
    if title:
        ax.set_title(title)
    _finish(fig, path)
    return fig


def plot_trajectories(objective, paths: Mapping[str, np.ndarray],
                      path: str | Path | None = None, title: str | None = None,
                      levels: int = 30, resolution: int = 200):
    """Optimizer trajectories over the contours of a 2-D test function
    (a ``minigrad.lab.testfunctions.Objective``): each optimizer in its own colour, line
    style and marker, the start marked with a white circle, the minima with stars and saddle
    points with crosses. ``paths[name]`` is an array of shape (steps + 1, 2), the points
    visited. The frame is the objective's box: paths are clipped to it, and one that leaves
    it says so in the legend."""
    plt = require_matplotlib()
    if objective.box is None:
        raise ValueError(f"plot_trajectories: {objective.name} has {objective.dim} "
                         "coordinate(s); trajectories are drawn over 2-D functions only")
    for name, points in paths.items():
        if np.ndim(points) != 2 or np.shape(points)[1] != 2:
            raise ValueError(f"plot_trajectories: the path of {name} must have shape "
                             f"(steps + 1, 2), got {np.shape(points)}")
    X, Y, Z = objective.grid(resolution)
    fig, ax = plt.subplots(figsize=(6.4, 6.0))
    # Contours of log(f - min f): valleys as flat as Rosenbrock's stay visible.
    gap = np.log10(np.maximum(Z - objective.min_value, 0) + 1e-3)
    contour = ax.contourf(X, Y, gap, levels=levels, cmap="viridis", alpha=0.55)
    ax.contour(X, Y, gap, levels=levels, colors="white", linewidths=0.3, alpha=0.6)
    fig.colorbar(contour, ax=ax, label="log10(f - min f + 0.001)")
    colours = _colours(plt)
    (x0, x1), (y0, y1) = objective.box
    for i, (name, points) in enumerate(paths.items()):
        points = np.asarray(points, dtype=np.float64)
        inside = ((points[:, 0] >= x0) & (points[:, 0] <= x1) & (points[:, 1] >= y0)
                  & (points[:, 1] <= y1))
        style = series_style(i, len(points), colours)
        label = str(name) if inside.all() else f"{name} (leaves the frame)"
        ax.plot(points[:, 0], points[:, 1], linewidth=1.6, clip_on=True, label=label, **style)
        if inside[-1]:
            ax.plot(points[-1, 0], points[-1, 1], style["marker"], color=style["color"],
                    markersize=7, markeredgecolor="black", zorder=4)
    start = next(iter(paths.values()))[0] if paths else objective.start
    ax.plot(*start, "o", color="black", markersize=7, markerfacecolor="white",
            label="start", zorder=5)
    for k, point in enumerate(objective.minima):
        ax.plot(*point, "*", color="red", markersize=14, markeredgecolor="black",
                label="minimum" if k == 0 else None, zorder=5)
    for k, point in enumerate(objective.saddles):
        ax.plot(*point, "X", color="orange", markersize=10, markeredgecolor="black",
                label="saddle point" if k == 0 else None, zorder=5)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(title or objective.formula)
    # Below the frame, so that it hides no path.
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=4, fontsize=8,
              frameon=False)
    _finish(fig, path)
    return fig


def _finish(fig, path: str | Path | None) -> None:
    """Lay the figure out, and save it when given a path."""
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=120)
