"""examples/gradient_descent_variants.py: the three regimes, the gradient noise against its
closed form, the per-step loss, and the flags every example takes (--out, --seed, --quick)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "gradient_descent_variants.py"


def run(*args):
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, str(EXAMPLE), *args], capture_output=True,
                          text=True, timeout=120,
                          env={**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": path})


def test_three_regimes_and_the_noise_of_their_steps(tmp_path):
    result = run("--out", str(tmp_path), "--quick", "--seed", "0")
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert out.rstrip().endswith("claim holds: every check passed")
    steps = {m.group(1): int(m.group(2))
             for m in re.finditer(r"^(full batch|mini-batch \(32\)|stochastic \(1\))\s+(\d+)",
                                  out, re.M)}
    assert steps == {"full batch": 1, "mini-batch (32)": 45, "stochastic (1)": 1437}
    # The closed form, recomputed from the printed σ² and N: (σ²/32)·(N - 32)/(N - 1).
    n = int(re.search(r"N = (\d+)", out).group(1))
    sigma2 = float(re.search(r"σ² = mean ‖gᵢ - g‖² = ([\d.]+)", out).group(1))
    closed = float(re.search(r"closed form ([\d.]+)", out).group(1))
    measured = float(re.search(r"B = 32 measured ([\d.]+)", out).group(1))
    assert closed == pytest.approx(sigma2 / 32 * (n - 32) / (n - 1), rel=1e-3)
    assert measured == pytest.approx(closed, rel=0.1)
    noise = [float(re.search(rf"^{re.escape(k)}\s+\d+\s+\S+\s+\S+\s+([\d.]+)", out,
                             re.M).group(1))
             for k in ("full batch", "mini-batch (32)", "stochastic (1)")]
    assert noise[0] < noise[1] < noise[2]
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return
    for name in ("gd_step_loss.png", "gd_by_epoch.png", "gd_by_time.png"):
        assert (tmp_path / name).stat().st_size > 1000


def test_the_flag_vocabulary_is_the_same_as_the_other_examples():
    helped = run("--help")
    assert helped.returncode == 0 and "--quick" in helped.stdout and "--out" in helped.stdout
    refused = run("--plot", "x.png")  # the old flag is gone: --out DIR saves every figure
    assert refused.returncode == 2 and "--plot" in refused.stderr
    refused = run("--seed", "-1")
    assert refused.returncode == 2 and "--seed must be >= 0" in refused.stderr
