"""The course notebooks (docs/notebooks/): each runs top to bottom in a fresh kernel (nbclient
and ipykernel, from the dev extra; skipped with the reason when absent), without matplotlib
too, and is committed without outputs."""

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "docs" / "notebooks").glob("*.ipynb"))
NAMES = [path.name for path in NOTEBOOKS]


def test_there_are_the_four_notebooks_of_the_course():
    assert NAMES == ["01_autodiff_from_scratch.ipynb", "02_optimizer_race.ipynb",
                     "03_gradient_descent_regimes.ipynb", "04_gradcheck_your_own_op.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NAMES)
def test_committed_notebooks_have_no_outputs(path):
    notebook = json.loads(path.read_text())
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, (
                f"{path.name}: strip the outputs before committing (Kernel > Restart and "
                "clear output, or jupyter nbconvert --clear-output --inplace)")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NAMES)
def test_plotting_cells_work_without_matplotlib(path):
    # matplotlib is an optional extra: only the cell that imports it may, under a try.
    for cell in json.loads(path.read_text())["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "code" and ("plt." in source or "plot_" in source):
            assert "if plt is not None:" in source or "except ImportError" in source, source


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NAMES)
def test_every_notebook_is_linked_from_the_index(path):
    assert f"notebooks/{path.name}" in (ROOT / "docs" / "index.md").read_text()


def execute(path: Path, monkeypatch, first_cell: str | None = None):
    """Run the notebook in a new kernel with this checkout's minigrad; returns it, run."""
    nbformat = pytest.importorskip("nbformat", reason="notebooks need the dev extra")
    nbclient = pytest.importorskip("nbclient", reason="notebooks need nbclient (dev extra)")
    pytest.importorskip("ipykernel", reason="notebooks need ipykernel (dev extra)")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = nbformat.read(path, as_version=4)
    if first_cell is not None:
        notebook.cells.insert(0, nbformat.v4.new_code_cell(first_cell))
    client = nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    return notebook


def printed(notebook) -> str:
    return "".join(output.get("text", "") for cell in notebook.cells
                   if cell.cell_type == "code" for output in cell.outputs)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NAMES)
def test_notebook_runs_top_to_bottom(path, monkeypatch):
    notebook = execute(path, monkeypatch)
    errors = [output for cell in notebook.cells if cell.cell_type == "code"
              for output in cell.outputs if output.output_type == "error"]
    assert not errors
    assert printed(notebook).strip()  # it printed its numbers


def test_the_optimizer_race_runs_without_matplotlib(monkeypatch):
    # As in `pip install -e ".[dev]"`, which has no matplotlib: the plots are skipped, the
    # numbers and their checks still run.
    notebook = execute(NOTEBOOKS[1], monkeypatch,
                       first_cell="import sys\nsys.modules['matplotlib'] = None")
    text = printed(notebook)
    assert "matplotlib is not installed" in text and "saddle: gradient descent" in text
