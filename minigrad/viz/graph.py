"""Drawing the computation graph: what backward will walk, one node per op and per tensor.

    loss = loss_fn(model(x), y)
    graph = draw_graph(loss, params=dict(model.named_parameters()))
    graph                       # in Jupyter: shown inline
    save_graph(graph, "graph.svg")
    draw_graph(loss, expand=True)   # fused ops (Linear, ...) drawn as matmul, add, ...

Names as the user wrote them. The graph holds primitive ops only (``ops.py``), and a few
things the user writes are built from several of them: ``x.mean()`` is ``Sum`` then ``Div``
by the count, ``w.T`` is a ``Permute`` that reverses the dims. The drawing recognises these
patterns (one table, ``_AS_WRITTEN`` below) and draws one node, ``mean`` or ``T``; every
other op is drawn under the name of its class in ``ops.py``, where its backward is.

Fused ops. ``Linear``, ``SoftmaxCrossEntropy`` and ``BinaryCrossEntropy`` are one op each
for speed (the last section of ``ops.py``). With ``expand=True`` each is drawn as the
primitive ops it stands for: the drawing evaluates the op's primitive form
(``PRIMITIVE_FORMS``, e.g. ``x @ w.T + b``) on the op's own inputs and draws that graph in
its place. ``tests/test_viz_graph.py`` checks that each form computes what its fused op does.

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
from minigrad.grad_mode import enable_grad
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


# -- fused ops as their primitive ops ----------------------------------------------------


def _linear_as_primitives(x, weight, bias):
    out = x @ weight.T
    return out if bias is None else out + bias


def _softmax_cross_entropy_as_primitives(logits, q, scale, reduce, one_hot=False):
    losses = -(q * logits.log_softmax(1)).sum(1)  # one loss per row
    if not reduce:
        return losses
    if scale * logits.shape[0] == 1:  # reduction="mean" over every row
        return losses.mean()
    return losses.sum() if scale == 1 else losses.sum() * scale


def _binary_cross_entropy_as_primitives(x, y):
    return -(y * x.log().clamp(min=-100.0) + (1.0 - y) * (1.0 - x).log().clamp(min=-100.0))


PRIMITIVE_FORMS = {
    "Linear": _linear_as_primitives,
    "SoftmaxCrossEntropy": _softmax_cross_entropy_as_primitives,
    "BinaryCrossEntropy": _binary_cross_entropy_as_primitives,
}
"""What ``draw_graph(..., expand=True)`` draws for each fused op: the same value, computed
with primitive ops, from the fused op's inputs (``node.recorded_inputs``) in their order."""

# The input of a fused loss that holds the targets (labelled "target" when unnamed).
_TARGET_INPUT = {"SoftmaxCrossEntropy": 1, "BinaryCrossEntropy": 1}


def _expanded(node: Function) -> tuple[Tensor, dict[int, Tensor]]:
    """The output of ``node``'s primitive form, and which tensors of its graph stand for
    ``node``'s inputs (by id: the form runs on detached copies, so that even constants are
    recorded). The caller keeps the output alive while the drawing runs: it holds the whole
    graph, and a freed tensor's id could be reused by the next."""
    copies, originals = [], {}
    for t in node.recorded_inputs:
        if isinstance(t, Tensor):
            copy = t.detach()
            if copy.dtype.kind == "f":
                copy.requires_grad_(True)
            originals[id(copy)] = t
            copies.append(copy)
        else:
            copies.append(t)
    with enable_grad():
        out = PRIMITIVE_FORMS[node.name](*copies)
    return out, originals


# -- composites drawn under the name the user wrote -------------------------------------


def _as_mean(node: Function) -> tuple[str, list] | None:
    """``Sum`` then ``Div`` by the number of elements summed: ``mean``."""
    total, count = node.recorded_inputs
    if not (isinstance(count, Tensor) and count.grad_fn is None and count.array.size == 1
            and isinstance(total, Tensor) and total.grad_fn is not None
            and total.grad_fn.name == "Sum" and total.grad_fn.recorded_inputs is not None):
        return None
    summed = total.grad_fn.recorded_inputs[0]
    if summed.array.size == 0 or count.array.item() != summed.array.size // max(total.array.size,
                                                                             1):
        return None
    return "mean", [summed]


def _as_permutation(node: Function) -> tuple[str, list]:
    """``Permute`` as written: ``T`` (all dims reversed), ``transpose(i, j)``, ``permute``."""
    x, dims = node.recorded_inputs[0], tuple(node.recorded_inputs[1])
    if dims == tuple(reversed(range(len(dims)))):
        return "T", [x]
    moved = [d for d, k in enumerate(dims) if d != k]
    if len(moved) == 2:
        return f"transpose({moved[0]}, {moved[1]})", [x]
    return f"permute{dims}", [x]


_AS_WRITTEN = {"Div": _as_mean, "Permute": _as_permutation}
"""op name -> a function of the node returning (the name the user wrote, the tensors it
takes), or None when the node is not that composite."""


def _as_written(node: Function) -> tuple[str, list]:
    recognise = _AS_WRITTEN.get(node.name)
    written = recognise(node) if recognise is not None else None
    return written if written is not None else (node.name, list(node.recorded_inputs))


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
               expand: bool = False, show_data: bool = False, show_grad: bool = False,
               rankdir: str = "LR") -> graphviz.Digraph:
    """The computation graph that produced ``tensor``, as a ``graphviz.Digraph``.

    One node per op (its name, e.g. ``Linear``, ``ReLU``, ``SoftmaxCrossEntropy``; ``mean``
    and ``T`` for ``x.mean()`` and ``w.T``) and one per tensor, labelled with its shape and
    dtype, and with its name when ``params`` maps names to tensors (e.g.
    ``dict(model.named_parameters())``; inputs and targets can be named there too). Unnamed,
    the targets of a loss read "target", other constant arrays "input", and a scalar
    ``tensor`` "loss". ``expand=True`` draws the fused ops (``Linear``,
    ``SoftmaxCrossEntropy``, ``BinaryCrossEntropy``) as the primitive ops they stand for
    (``MatMul``, ``T``, ``Add``, ``LogSoftmax``, ...). ``show_data`` adds the values
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
    roles: dict[int, str] = {}  # unnamed tensors' roles: "target"
    originals: dict[int, Tensor] = {}  # id of a copy in an expanded form -> the tensor it is
    expansions: list[Tensor] = []  # the expanded graphs, alive until the drawing is done

    def key_of(obj, prefix: str) -> str:
        return keys.setdefault(id(obj), f"{prefix}{len(keys)}")

    def add_tensor(t: Tensor, kind: str) -> str:
        key = key_of(t, "t")
        if id(t) not in drawn_tensors:
            drawn_tensors.add(id(t))
            name = names.get(id(t)) or _role(t, kind, roles)
            label = _tensor_label(t, name, kind, show_data, show_grad)
            graph.node(key, label, **_STYLES[kind])
        return key

    root_key = add_tensor(tensor, "output")
    graph.tensor_count = 1
    if tensor.grad_fn is None:
        return graph

    # Walk from the output to the leaves, without recursion (graphs can be long chains).
    seen: set[int] = set()
    drawn_ops = 0
    stack: list[tuple[Function, str]] = [(tensor.grad_fn, root_key)]
    while stack:
        node, output_key = stack.pop()
        if id(node) in seen:  # reached again through another use of its output
            continue
        seen.add(id(node))
        if node.recorded_inputs is None:
            raise RuntimeError(
                f"draw_graph: the graph was freed by backward() (at op {node.name}); draw "
                "it before calling backward(), or call backward(retain_graph=True)")
        target = _TARGET_INPUT.get(node.name)
        if target is not None and isinstance(node.recorded_inputs[target], Tensor):
            roles.setdefault(id(node.recorded_inputs[target]), "target")
        if expand and node.name in PRIMITIVE_FORMS:
            primitive, stand_ins = _expanded(node)
            originals.update(stand_ins)
            expansions.append(primitive)
            stack.append((primitive.grad_fn, output_key))  # drawn in the fused op's place
            continue
        label, inputs = _as_written(node)
        op_key = key_of(node, "op")
        graph.edge(op_key, output_key)
        graph.node(op_key, label, **_STYLES["op"])
        drawn_ops += 1
        for t in inputs:
            if not isinstance(t, Tensor):
                continue  # dims, flags and other settings of the op: part of the op itself
            t = originals.get(id(t), t)
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
    graph.op_count, graph.tensor_count = drawn_ops, len(drawn_tensors)
    return graph


def _role(t: Tensor, kind: str, roles: dict[int, str]) -> str | None:
    """What an unnamed tensor is to the reader: the loss, a target, an input, or nothing
    worth saying (intermediates, parameters, scalar constants such as the 2 of x * 2)."""
    if kind == "output":
        return "loss" if t.ndim == 0 else None
    if kind == "constant" and t.ndim > 0:
        return roles.get(id(t), "input")
    return None


def _tensor_label(t: Tensor, name: str | None, kind: str, show_data: bool,
                  show_grad: bool) -> str:
    shape = "(" + ", ".join(map(str, t.shape)) + ("," if t.ndim == 1 else "") + ")"
    lines = [name] if name else []
    lines.append(f"{shape} {t.dtype}")
    if t.array.size == 1 and kind in ("output", "constant") and not show_data:
        lines.append(f"= {t.array.item():.4g}")  # the loss, or a constant such as the 2 of x * 2
    elif show_data:
        lines.append("data " + _summary(t.array))
    if show_grad and t.grad is not None:
        lines.append("grad " + _summary(t.grad.array))
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
