"""Drawing the computation graph: what backward will walk, one node per op and per tensor.

    loss = loss_fn(model(x), y)
    graph = draw_graph(loss, params=dict(model.named_parameters()))
    graph                       # in Jupyter: shown inline
    save_graph(graph, "graph.svg")

The drawing is a ``graphviz.Digraph``: its DOT source is always available
(``graph.source``); turning it into an image needs Graphviz's ``dot`` program.

The ``graphviz`` Python package is imported when a graph is first drawn, not when minigrad
is imported: a missing or broken install then affects drawing only.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from minigrad.engine import Function
from minigrad.tensor import Tensor

if TYPE_CHECKING:
    import graphviz

INSTALL_GRAPHVIZ = (
    "drawing the graph needs the `graphviz` Python package, which is not installed: "
    "install it with `pip install graphviz` (minigrad lists it as a dependency, so "
    "`pip install -e .` in minigrad's folder installs it too)."
)

INSTALL_DOT = (
    "drawing the graph as an image needs Graphviz's `dot` program, which is not installed "
    "(or not on PATH): install it with `apt-get install graphviz` (Debian/Ubuntu), "
    "`brew install graphviz` (macOS), `conda install graphviz` or `winget install graphviz` "
    "(Windows), or see https://graphviz.org/download/. The DOT source is in `graph.source`."
)

# How each kind of node looks. Leaves that require grad (parameters, inputs being
# differentiated) are the filled boxes a learner looks for; constants are dashed.
_STYLES = {
    "op": {"shape": "ellipse", "style": "filled", "fillcolor": "#fde9c4", "color": "#b07d1f"},
    "parameter": {"shape": "box", "style": "filled,rounded", "fillcolor": "#cfe2ff",
                  "color": "#2f5e9e"},
    "constant": {"shape": "box", "style": "dashed,rounded", "color": "#888888",
                 "fontcolor": "#555555"},
    "intermediate": {"shape": "box", "style": "rounded", "color": "#444444"},
    "output": {"shape": "box", "style": "filled,rounded,bold", "fillcolor": "#d3f0d3",
               "color": "#2d7a2d"},
}


class DotNotFoundError(RuntimeError):
    """Rendering a graph needs Graphviz's ``dot`` program, and it is missing."""


def require_graphviz():
    """The ``graphviz`` Python package, or an ImportError that says how to install it."""
    try:
        import graphviz
    except ImportError as error:
        raise ImportError(INSTALL_GRAPHVIZ) from error
    return graphviz


@functools.cache
def computation_graph_class() -> type[graphviz.Digraph]:
    """The class of the graphs ``draw_graph`` returns. It extends ``graphviz.Digraph``, so it
    is defined on first use, when graphviz is imported (once: the class is cached)."""
    graphviz = require_graphviz()

    class ComputationGraph(graphviz.Digraph):
        """A ``graphviz.Digraph`` whose rendering, when ``dot`` is missing, fails with an
        error that says how to install it (Jupyter's inline display goes through ``pipe``
        too). ``op_count`` and ``tensor_count`` say how many nodes of each kind were drawn."""

        op_count = 0
        tensor_count = 0

        def pipe(self, *args, **kwargs):
            try:
                return super().pipe(*args, **kwargs)
            except graphviz.ExecutableNotFound as error:
                raise DotNotFoundError(INSTALL_DOT) from error

        def render(self, *args, **kwargs):
            try:
                return super().render(*args, **kwargs)
            except graphviz.ExecutableNotFound as error:
                raise DotNotFoundError(INSTALL_DOT) from error

        def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
            """Jupyter's inline picture; without ``dot``, the DOT source and how to get it."""
            try:
                return super()._repr_mimebundle_(include, exclude, **kwargs)
            except DotNotFoundError:
                return {"text/plain": f"{INSTALL_DOT}\n\n{self.source}"}

    return ComputationGraph


def draw_graph(tensor: Tensor, params: Mapping[str, Tensor] | None = None,
               show_data: bool = False, show_grad: bool = False,
               rankdir: str = "LR") -> graphviz.Digraph:
    """The computation graph that produced ``tensor``, as a ``graphviz.Digraph``.

    One node per op (its name, e.g. ``Linear``, ``ReLU``, ``SoftmaxCrossEntropy``) and one
    per tensor, labelled with its shape and dtype, and with its name when ``params`` maps
    names to tensors (e.g. ``dict(model.named_parameters())``). ``show_data`` adds the values
    (summarized when large) and ``show_grad`` the ``.grad`` of the tensors that have one.
    Leaves that require grad are filled blue boxes, constants dashed boxes, ``tensor``
    itself a green box; ``rankdir`` is Graphviz's direction ("LR" left to right, "TB" top
    to bottom).

    Draw the graph *before* calling ``backward()``: backward frees the graph it walks (as in
    PyTorch), and drawing a freed graph raises an error. To see gradients, call
    ``backward(retain_graph=True)`` first and pass ``show_grad=True``.
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"draw_graph: expected a Tensor, got {type(tensor).__name__}")
    if rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f"draw_graph: rankdir must be 'LR', 'RL', 'TB' or 'BT', "
                         f"got {rankdir!r}")
    names = {}
    for name, t in (params or {}).items():
        if not isinstance(t, Tensor):
            raise TypeError(f"draw_graph: params[{name!r}] is a {type(t).__name__}, "
                            "not a Tensor")
        names[id(t)] = name

    ComputationGraph = computation_graph_class()
    graph = ComputationGraph(name="minigrad", graph_attr={"rankdir": rankdir},
                             node_attr={"fontname": "Helvetica", "fontsize": "11"},
                             edge_attr={"arrowsize": "0.7"})
    drawn_tensors: set[int] = set()
    keys: dict[int, str] = {}  # node names numbered in drawing order: the same graph, the same DOT

    def key_of(obj, prefix: str) -> str:
        return keys.setdefault(id(obj), f"{prefix}{len(keys)}")

    def add_tensor(t: Tensor, kind: str) -> str:
        key = key_of(t, "t")
        if id(t) not in drawn_tensors:
            drawn_tensors.add(id(t))
            label = _tensor_label(t, names.get(id(t)), kind, show_data, show_grad)
            graph.node(key, label, **_STYLES[kind])
        return key

    root_key = add_tensor(tensor, "output")
    graph.tensor_count = 1
    if tensor.grad_fn is None:
        return graph

    # Walk from the output to the leaves, without recursion (graphs can be long chains).
    seen: set[int] = set()
    stack: list[tuple[Function, str]] = [(tensor.grad_fn, root_key)]
    while stack:
        node, output_key = stack.pop()
        if id(node) in seen:  # reached again through another use of its output
            continue
        seen.add(id(node))
        op_key = key_of(node, "op")
        graph.edge(op_key, output_key)
        if node.inputs is None:
            raise RuntimeError(
                f"draw_graph: the graph was freed by backward() (at op {node.name}); draw "
                "it before calling backward(), or call backward(retain_graph=True)")
        graph.node(op_key, node.name, **_STYLES["op"])
        for t in node.inputs:
            if not isinstance(t, Tensor):
                continue  # dims, flags and other settings of the op: part of the op itself
            if t.grad_fn is not None:
                kind = "intermediate"
            elif t.requires_grad:
                kind = "parameter"
            else:
                kind = "constant"
            input_key = add_tensor(t, kind)
            graph.edge(input_key, op_key)
            if t.grad_fn is not None:
                stack.append((t.grad_fn, input_key))
    graph.op_count, graph.tensor_count = len(seen), len(drawn_tensors)
    return graph


def _tensor_label(t: Tensor, name: str | None, kind: str, show_data: bool,
                  show_grad: bool) -> str:
    shape = "(" + ", ".join(map(str, t.shape)) + ("," if t.ndim == 1 else "") + ")"
    lines = [name] if name else []
    lines.append(f"{shape} {t.dtype}")
    if t.data.size == 1 and kind in ("output", "constant") and not show_data:
        lines.append(f"= {t.data.item():.4g}")  # the loss, or a constant such as the 2 of x * 2
    elif show_data:
        lines.append("data " + _summary(t.data))
    if show_grad and t.grad is not None:
        lines.append("grad " + _summary(t.grad.data))
    # DOT's own line break: the label stays on one line of the source.
    return r"\n".join(line.replace("\n", r"\n") for line in lines)


def _summary(array: np.ndarray) -> str:
    """Values for a label: all of a small array, the corners of a large one."""
    if array.dtype.kind == "b":
        return np.array2string(array, threshold=6, edgeitems=2)
    return np.array2string(array, precision=4, threshold=6, edgeitems=2,
                           suppress_small=True, separator=", ", max_line_width=48)


def save_graph(graph: graphviz.Digraph, path: str | Path) -> Path:
    """Write ``graph`` to ``path``: rendered by ``dot`` in the format the suffix names
    (``.svg``, ``.png``, ``.pdf``, ...), or as DOT source for ``.dot`` and ``.gv`` (no
    ``dot`` needed). The file is written whole or not at all."""
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if not fmt:
        raise ValueError(f"save_graph: {path} has no suffix; use .svg, .png, .pdf or .dot")
    if fmt in ("dot", "gv"):
        content = graph.source.encode()
    else:
        graphviz = require_graphviz()
        if fmt not in graphviz.FORMATS:
            raise ValueError(f"save_graph: unknown format {fmt!r} (from {path.name}); use "
                             ".svg, .png, .pdf or .dot")
        try:
            content = graph.pipe(format=fmt)
        except graphviz.ExecutableNotFound as error:  # a plain Digraph, not one of ours
            raise DotNotFoundError(INSTALL_DOT) from error
    path.write_bytes(content)
    return path
