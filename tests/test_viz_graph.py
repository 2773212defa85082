"""draw_graph: one node per op and per tensor, names from params, styles, values and grads,
the freed-graph error, rendering with dot, and the install hint without it; expand=True
(fused ops as their primitive ops, each form checked against its fused op), the roles
input/target/loss, and composites named as written (mean, T)."""

import re
import shutil
import subprocess
import sys

import graphviz
import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.tensor import Tensor
from minigrad.training import make_mlp
from minigrad.viz import DotNotFoundError, draw_graph, save_graph
from minigrad.viz.graph import PRIMITIVE_FORMS

needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's dot is not installed (.ci/run installs it)")


def node_labels(graph) -> dict[str, str]:
    """node id -> label, parsed from the DOT source."""
    labels = {}
    for match in re.finditer(r'^\t(\w+) \[label=("(?:[^"\\]|\\.)*"|\w+)', graph.source, re.M):
        labels[match.group(1)] = match.group(2).strip('"')
    return labels


def edges(graph) -> list[tuple[str, str]]:
    return re.findall(r"^\t(\w+) -> (\w+)", graph.source, re.M)


def mlp_loss(batch=5):
    mg.manual_seed(0)
    model = make_mlp([4, 8, 8, 3])
    x = mg.randn(batch, 4)
    y = mg.tensor(np.arange(batch) % 3)
    return model, nn.CrossEntropyLoss()(model(x), y)


def test_three_layer_mlp_has_one_node_per_op_and_named_parameters():
    model, loss = mlp_loss()
    graph = draw_graph(loss, params=dict(model.named_parameters()))
    assert isinstance(graph, graphviz.Digraph)
    labels = node_labels(graph)
    ops = sorted(label for key, label in labels.items() if key.startswith("op"))
    assert ops == sorted(["Linear"] * 3 + ["ReLU"] * 2 + ["SoftmaxCrossEntropy"])
    assert graph.op_count == 6
    # 6 parameters, the input batch, the target weights of the loss, 5 intermediates, the loss
    assert graph.tensor_count == len(labels) - 6 == 14
    for name, p in model.named_parameters():
        shape = "(" + ", ".join(map(str, p.shape)) + ("," if p.ndim == 1 else "") + ")"
        assert any(label.startswith(f"{name}\\n{shape} float32") for label in labels.values()), name
    # Every op has exactly one outgoing edge (to its output tensor).
    outgoing = [a for a, _ in edges(graph) if a.startswith("op")]
    assert sorted(outgoing) == sorted(k for k in labels if k.startswith("op"))


def test_styles_tell_parameters_constants_intermediates_and_the_output_apart():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    out = (x * 2.0).sum()
    source = draw_graph(out, params={"x": x}).source
    lines = {line.split(" [")[0].strip(): line for line in source.splitlines() if "label=" in line}
    x_line = next(line for line in lines.values() if 'label="x\\n' in line)
    const_line = next(line for line in lines.values() if "= 2" in line)
    out_line = next(line for line in lines.values() if "= 6" in line)  # the output's value
    assert "filled" in x_line and "dashed" not in x_line
    assert "dashed" in const_line
    assert "bold" in out_line
    mul_line = next(line for line in lines.values() if "label=Mul" in line)
    assert "ellipse" in mul_line


def test_show_data_and_show_grad():
    w = mg.tensor([[0.5, -1.25]], requires_grad=True)
    x = mg.tensor([[2.0], [4.0]])
    loss = (x @ w).sum()
    loss.backward(retain_graph=True)  # keep the graph so it can still be drawn
    source = draw_graph(loss, params={"w": w}, show_data=True, show_grad=True).source
    assert "\\ndata [[ 0.5 , -1.25]]" in source
    assert "\\ngrad [[6., 6.]]" in source  # d/dw sum(x @ w) = column sums of x
    plain = draw_graph(loss, params={"w": w}).source
    assert "\\ndata " not in plain and "\\ngrad " not in plain


def test_freed_graph_is_refused_with_a_clear_error():
    _, loss = mlp_loss()
    loss.backward()
    with pytest.raises(RuntimeError, match="freed by backward.*retain_graph=True"):
        draw_graph(loss)


def test_a_tensor_used_twice_gives_one_node_and_two_edges():
    x = mg.tensor([3.0], requires_grad=True)
    y = x * x
    graph = draw_graph(y.sum())
    labels = node_labels(graph)
    assert sorted(labels[k] for k in labels if k.startswith("op")) == ["Mul", "Sum"]
    mul = next(k for k in labels if labels[k] == "Mul")
    (x_key,) = {source for source, target in edges(graph) if target == mul}  # x, once
    assert edges(graph).count((x_key, mul)) == 2


def test_diamond_graph_draws_each_op_once():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = x.exp()
    out = (h.sin() + h.cos()).sum()
    graph = draw_graph(out)
    ops = [label for key, label in node_labels(graph).items() if key.startswith("op")]
    assert sorted(ops) == ["Add", "Cos", "Exp", "Sin", "Sum"]
    assert len(edges(graph)) == len(set(edges(graph)))


def test_long_chain_needs_no_recursion():
    x = mg.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0
    graph = draw_graph(y)
    assert graph.op_count == 5000


def test_a_leaf_alone_and_argument_errors():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    graph = draw_graph(x, params={"x": x})
    assert graph.op_count == 0 and "x\\n(2,) float32" in graph.source
    with pytest.raises(TypeError, match="expected a Tensor"):
        draw_graph(np.ones(3))
    with pytest.raises(ValueError, match="rankdir"):
        draw_graph(x, rankdir="diagonal")
    with pytest.raises(TypeError, match=r"params\['w'\]"):
        draw_graph(x, params={"w": np.ones(2)})
    assert "rankdir=TB" in draw_graph(x * 2, rankdir="TB").source


@needs_dot
def test_renders_svg_and_png(tmp_path):
    model, loss = mlp_loss()
    graph = draw_graph(loss, params=dict(model.named_parameters()))
    svg = save_graph(graph, tmp_path / "graph.svg").read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert svg.count("SoftmaxCrossEntropy") == 1 and "0.weight" in svg
    png = save_graph(graph, tmp_path / "graph.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    # Jupyter's inline display.
    bundle = graph._repr_mimebundle_()
    assert "<svg" in bundle["image/svg+xml"]


def test_without_dot_the_source_is_kept_and_rendering_says_how_to_install(tmp_path,
                                                                           monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot on this PATH
    _, loss = mlp_loss()
    graph = draw_graph(loss)
    assert graph.source.startswith("digraph")
    for render in (lambda: graph.pipe(format="svg"),
                   lambda: graph.render(tmp_path / "g", format="svg"),
                   lambda: save_graph(graph, tmp_path / "g.svg")):
        with pytest.raises(DotNotFoundError, match="apt-get install graphviz.*brew install"):
            render()
    # Jupyter shows the DOT source and the hint instead of a traceback.
    shown = graph._repr_mimebundle_()["text/plain"]
    assert "apt-get install graphviz" in shown and graph.source in shown
    assert not (tmp_path / "g.svg").exists()
    # A plain Digraph (not drawn by minigrad) gets the same hint from save_graph.
    with pytest.raises(DotNotFoundError, match="apt-get install graphviz"):
        save_graph(graphviz.Digraph(), tmp_path / "plain.png")
    # The source alone needs no dot.
    assert save_graph(graph, tmp_path / "g.dot").read_text() == graph.source


def test_save_graph_refuses_unknown_formats(tmp_path):
    graph = draw_graph(mg.tensor([1.0], requires_grad=True) * 2)
    with pytest.raises(ValueError, match="no suffix"):
        save_graph(graph, tmp_path / "graph")
    with pytest.raises(ValueError, match="unknown format 'docx'"):
        save_graph(graph, tmp_path / "graph.docx")


def test_minigrad_imports_without_the_graphviz_package_and_drawing_says_how_to_install_it():
    # A fresh interpreter in which `import graphviz` fails, as when the package is missing.
    script = """
import sys
sys.modules["graphviz"] = None
import minigrad as mg
from minigrad.tensor import Tensor
from minigrad.viz import DotNotFoundError, draw_graph, save_graph
from minigrad.viz.graph import PRIMITIVE_FORMS
assert callable(mg.viz.draw_graph) and callable(save_graph) and DotNotFoundError
x = mg.tensor([1.0, 2.0], requires_grad=True)
try:
    draw_graph((x * 2).sum())
except ImportError as error:
    print(error)
else:
    raise SystemExit("draw_graph worked without graphviz")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "`graphviz` Python package" in done.stdout and "pip install graphviz" in done.stdout


# -- expand=True and the names as written -------------------------------------------------


def op_labels(graph) -> list[str]:
    return sorted(label for key, label in node_labels(graph).items() if key.startswith("op"))


def test_expand_draws_an_mlp_as_matmul_add_and_log_softmax():
    model, loss = mlp_loss()
    graph = draw_graph(loss, params=dict(model.named_parameters()), expand=True)
    assert op_labels(graph) == sorted(["MatMul", "T", "Add"] * 3 + ["ReLU"] * 2
                                      + ["LogSoftmax", "Mul", "Sum", "Neg", "mean"])
    assert graph.op_count == 16
    labels = list(node_labels(graph).values())
    for name, _ in model.named_parameters():
        assert sum(label.startswith(f"{name}\\n") for label in labels) == 1, name
    assert sum(label.startswith("input\\n(5, 4)") for label in labels) == 1
    assert sum(label.startswith("target\\n(5, 3)") for label in labels) == 1
    assert sum(label.startswith("loss\\n() float32") for label in labels) == 1
    # Every op still has exactly one outgoing edge, and every edge joins drawn nodes.
    keys = set(node_labels(graph))
    assert all(a in keys and b in keys for a, b in edges(graph))
    outgoing = [a for a, _ in edges(graph) if a.startswith("op")]
    assert sorted(outgoing) == sorted(k for k in keys if k.startswith("op"))


def test_without_expand_fused_ops_keep_their_names_and_labels_still_say_what_is_what():
    _, loss = mlp_loss()
    labels = list(node_labels(draw_graph(loss)).values())
    assert "SoftmaxCrossEntropy" in labels and "Linear" in labels
    assert any(label.startswith("target\\n") for label in labels)
    assert any(label.startswith("input\\n") for label in labels)
    assert any(label.startswith("loss\\n") for label in labels)


def test_drawing_expanded_leaves_the_graph_and_its_gradients_as_they_were():
    model, loss = mlp_loss()
    draw_graph(loss, expand=True)
    loss.backward()
    grads = [p.grad.array.copy() for p in model.parameters()]
    model2, loss2 = mlp_loss()
    loss2.backward()
    for g, p in zip(grads, model2.parameters()):
        np.testing.assert_array_equal(g, p.grad.array)
    with pytest.raises(RuntimeError, match="freed by backward"):
        draw_graph(loss, expand=True)


@pytest.mark.parametrize("make_loss", [
    lambda z, y, p: nn.functional.linear(z, mg.randn(2, 3, dtype=mg.float64)),
    lambda z, y, p: nn.functional.linear(z, mg.randn(2, 3, dtype=mg.float64),
                                         mg.randn(2, dtype=mg.float64)),
    lambda z, y, p: nn.functional.cross_entropy(z, y),
    lambda z, y, p: nn.functional.cross_entropy(z, y, reduction="sum"),
    lambda z, y, p: nn.functional.cross_entropy(z, y, reduction="none"),
    lambda z, y, p: nn.functional.cross_entropy(z, y, weight=mg.tensor([1.0, 2.0, 0.5],
                                                                       dtype=mg.float64)),
    lambda z, y, p: nn.functional.cross_entropy(z, y, label_smoothing=0.1),
    lambda z, y, p: nn.functional.binary_cross_entropy(p, (p.detach() > 0.5).double()),
], ids=["linear", "linear-bias", "ce-mean", "ce-sum", "ce-none", "ce-weights",
        "ce-smoothing", "bce"])
def test_each_primitive_form_computes_what_its_fused_op_computes(make_loss):
    mg.manual_seed(1)
    z = mg.randn(4, 3, dtype=mg.float64, requires_grad=True)
    p = mg.tensor(np.array([[0.1, 0.7, 0.999], [0.5, 1e-6, 0.3], [0.2, 0.4, 0.6],
                            [0.9, 0.05, 0.5]]), requires_grad=True)
    out = make_loss(z, mg.tensor([0, 2, 1, 2]), p)
    node = out.grad_fn
    while node.name not in PRIMITIVE_FORMS:  # a reshape or weighting after the fused op
        node = next(t.grad_fn for t in node.recorded_inputs
                    if isinstance(t, Tensor) and t.grad_fn)
    (fused,) = node.outputs()
    with mg.no_grad():
        primitive = PRIMITIVE_FORMS[node.name](*node.recorded_inputs)
    np.testing.assert_allclose(primitive.array, fused.array, rtol=1e-12, atol=1e-12)


def test_mean_and_transpose_read_as_written():
    x = mg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    assert op_labels(draw_graph((x * 2.0).mean())) == ["Mul", "mean"]
    assert op_labels(draw_graph(x.mean(dim=1).sum())) == ["Sum", "mean"]
    assert op_labels(draw_graph(x.sum() / 2.0)) == ["Div", "Sum"]  # not a mean: 6 elements
    assert op_labels(draw_graph(x.T.sum())) == ["Sum", "T"]
    cube = mg.randn(2, 3, 4, requires_grad=True)
    assert op_labels(draw_graph(cube.transpose(0, 2).sum())) == ["Sum", "T"]
    assert op_labels(draw_graph(cube.transpose(0, 1).sum())) == ["Sum", "transpose(0, 1)"]
    assert op_labels(draw_graph(cube.permute(2, 0, 1).sum())) == ["Sum", "permute(2, 0, 1)"]
    # The mean's count constant and the intermediate sum are not drawn: x -> mean -> loss.
    graph = draw_graph(x.mean(), params={"x": x})
    assert graph.op_count == 1 and graph.tensor_count == 2


def test_a_graph_changed_in_place_after_recording_can_still_be_drawn():
    # Drawing reads the recorded inputs, not the values backward would check.
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    z = (y * y).sum()
    with mg.no_grad():
        y += 10  # backward would now refuse: Mul saved y
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.backward(retain_graph=True)
    graph = draw_graph(z, params={"x": x})
    assert "Mul" in graph.source and "x" in graph.source
