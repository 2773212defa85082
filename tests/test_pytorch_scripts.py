"""The PyTorch-style scripts in tests/pytorch_scripts/ run under minigrad and, with only
their import lines changed, under PyTorch, and print the same numbers (SPEC §10)."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPTS = sorted((Path(__file__).parent / "pytorch_scripts").glob("*.py"))

# minigrad's import lines and PyTorch's: the only lines that differ.
IMPORTS = {
    "import minigrad as torch": "import torch",
    "from minigrad import nn, optim": "from torch import nn, optim",
    "from minigrad import nn": "from torch import nn",
    "import minigrad.nn.functional as F": "import torch.nn.functional as F",
    "from minigrad.data import DataLoader, Dataset":
        "from torch.utils.data import DataLoader, Dataset",
    "from minigrad.data import DataLoader, TensorDataset":
        "from torch.utils.data import DataLoader, TensorDataset",
}
NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


def as_pytorch(source: str) -> str:
    lines = source.splitlines()
    for i, line in enumerate(lines):
        if line.startswith(("import minigrad", "from minigrad")):
            assert line in IMPORTS, f"an import line the test cannot rewrite: {line}"
            lines[i] = IMPORTS[line]
    assert "minigrad" not in "\n".join(lines), "minigrad named outside the import lines"
    return "\n".join(lines) + "\n"


def run(path: Path) -> str:
    result = subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                            timeout=120, cwd=path.parent)
    assert result.returncode == 0, result.stderr
    return result.stdout


def same_output(mine: str, theirs: str, rtol: float = 2e-3, atol: float = 2e-4) -> None:
    """Line by line: the same words, and numbers equal to a tolerance (the frameworks sum
    float32 numbers in different orders)."""
    mine_lines, their_lines = mine.splitlines(), theirs.splitlines()
    assert len(mine_lines) == len(their_lines), (mine, theirs)
    for a, b in zip(mine_lines, their_lines):
        a = a.replace("minigrad.", "torch.")
        assert NUMBER.sub("#", a) == NUMBER.sub("#", b), (a, b)
        for x, y in zip(NUMBER.findall(a), NUMBER.findall(b)):
            assert abs(float(x) - float(y)) <= atol + rtol * abs(float(y)), (a, b)


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.stem for s in SCRIPTS])
def test_script_runs_under_minigrad_and_prints_pytorchs_numbers(script, tmp_path):
    mine = run(script)
    assert mine.strip()
    pytest.importorskip("torch")
    copy = tmp_path / script.name
    copy.write_text(as_pytorch(script.read_text()))
    same_output(mine, run(copy))


def test_the_comparison_can_fail():
    same_output("loss 1.0000 [32/320]", "loss 1.0001 [32/320]")
    for other in ("loss 1.1 [32/320]", "loss 1.0000 [33/320]", "cost 1.0000 [32/320]", ""):
        with pytest.raises(AssertionError):
            same_output("loss 1.0000 [32/320]", other)
