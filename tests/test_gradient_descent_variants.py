"""examples/gradient_descent_variants.py runs and its claims hold (it asserts them itself)."""

import importlib.util
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "gradient_descent_variants.py"


def load_example():
    spec = importlib.util.spec_from_file_location("gradient_descent_variants", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_three_regimes_and_their_claims(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    example = load_example()
    results = example.main(["--epochs", "2", "--plot", str(tmp_path / "gd.png")])
    steps = {name: r["steps_per_epoch"] for name, r in results.items()}
    assert steps == {"full batch": 1, "mini-batch (32)": 45, "stochastic (1)": 1437}
    assert "claims hold" in capsys.readouterr().out
    assert (tmp_path / "gd.png").stat().st_size > 1000
