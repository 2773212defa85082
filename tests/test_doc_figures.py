"""docs/make_figures.py regenerates every figure the docs show (run here in --quick mode,
into a temporary folder), and every figure the docs show is one it makes."""

from __future__ import annotations

import importlib.util
import re
import shutil
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
IMAGE = re.compile(r"!\[[^\]]*\]\((?P<path>[^)\s]+)\)")


def load_script():
    spec = importlib.util.spec_from_file_location("make_figures", DOCS / "make_figures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """The script's main, run once in quick mode: (output folder, files written)."""
    out = tmp_path_factory.mktemp("figures")
    script = load_script()
    assert script.main(["--quick", "--out", str(out)]) == 0
    return out, {p.name for p in out.iterdir()}


def images_shown() -> dict[str, list[str]]:
    """Figure file name -> the pages that show it."""
    shown: dict[str, list[str]] = {}
    for page in sorted(DOCS.glob("**/*.md")):
        for m in IMAGE.finditer(page.read_text()):
            target = (page.parent / m.group("path")).resolve()
            assert target.parent == DOCS / "figures", (
                f"{page.name} shows {m.group('path')}, which is not in docs/figures/")
            shown.setdefault(target.name, []).append(page.name)
    return shown


def test_the_script_writes_every_figure(quick_run):
    out, written = quick_run
    script = load_script()
    assert len(written) == len(script.FIGURE_MAKERS)  # one file per figure
    for name in written:
        data = (out / name).read_bytes()
        if name.endswith(".png"):
            assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 5_000, name
        elif name.endswith(".svg"):
            assert b"<svg" in data[:2_000] and b"<title>" in data, name
        else:  # graph.dot when Graphviz's dot is missing
            assert name == "graph.dot" and data.startswith(b"digraph"), name


def test_every_figure_shown_is_made_by_the_script(quick_run):
    _, written = quick_run
    shown = images_shown()
    assert len(shown) >= 12
    stems = {Path(name).stem for name in written}
    missing = [name for name in shown if Path(name).stem not in stems]
    assert not missing, f"figures shown in docs/ that make_figures.py does not make: {missing}"


def test_every_figure_shown_is_committed():
    missing = [name for name in images_shown() if not (DOCS / "figures" / name).is_file()]
    assert not missing, f"run python docs/make_figures.py: missing {missing}"


def test_every_committed_figure_is_shown():
    shown = images_shown()
    orphans = [p.name for p in (DOCS / "figures").iterdir()
               if p.suffix in (".png", ".svg") and p.name not in shown]
    assert not orphans, f"figures in docs/figures/ that no page shows: {orphans}"


def test_the_graph_figure_names_the_ops():
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed")
    svg = (DOCS / "figures" / "graph.svg").read_text()
    # ops, the composites as written (w.T, .mean()), named parameters, the loss
    for op in ("MatMul", "Tanh", "Pow", ">T<", ">mean<", ">w<", ">b<", ">loss<"):
        assert op in svg, op
    assert ">Permute<" not in svg and ">Sum<" not in svg


def test_only_and_unknown_names(tmp_path, capsys):
    script = load_script()
    assert script.main(["--quick", "--out", str(tmp_path), "--only", "schedulers"]) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["schedulers.png"]
    with pytest.raises(SystemExit):
        script.main(["--only", "no_such_figure"])
    assert "no_such_figure" in capsys.readouterr().err
