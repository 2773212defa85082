"""Seeing what happens: computation graphs (Graphviz) and plots of training histories and
optimizer trajectories (extra ``plot``: matplotlib, imported only when a plot is made).

    from minigrad.viz import draw_graph, plot_trajectories
"""

from minigrad.viz.graph import DotNotFoundError, draw_graph, save_graph
from minigrad.viz.plots import plot_curves, plot_history, plot_trajectories

__all__ = ["draw_graph", "save_graph", "DotNotFoundError", "plot_history", "plot_curves",
           "plot_trajectories"]
