"""Each classic experiment in examples/ runs as a script (Agg backend), exits 0 with every
check of its claim passing, saves its figures, and prints numbers that agree with
closed forms and loops written here."""

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

try:
    import matplotlib  # noqa: F401  (figures are drawn only with the plot extra)

    HAVE_MATPLOTLIB = True
except ImportError:
    HAVE_MATPLOTLIB = False

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def run_example(name: str, tmp_path) -> str:
    # This checkout's minigrad, whatever else is installed; figures without a display.
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": path}
    result = subprocess.run([sys.executable, str(EXAMPLES / name), "--out", str(tmp_path)],
                            capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "Claim: " in out and out.rstrip().endswith("claim holds: every check passed")
    assert "[FAIL]" not in out and out.count("[ok  ]") >= 3
    saved = re.findall(r"^saved (.+\.png)$", out, re.M)
    if not HAVE_MATPLOTLIB:
        # Without the plot extra the checks still run; each figure says why it is missing.
        assert not saved and "skipped: plotting needs matplotlib" in out
        return out
    assert saved
    for path in saved:
        assert Path(path).parent == tmp_path
        assert Path(path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return out


def number_after(pattern: str, text: str) -> float:
    match = re.search(pattern + r"\s*(-?[\d.]+(?:e[-+]?\d+)?)", text)
    assert match, pattern
    return float(match.group(1))


def test_parabola(tmp_path):
    out = run_example("parabola_optimizers.py", tmp_path)
    # PyTorch's momentum on J = θ², written out: v ← βv + 2θ, θ ← θ - lr·v.
    theta, v, lowest = 3.0, 0.0, 3.0
    for _ in range(1000):
        v = 0.9 * v + 2 * theta
        theta -= 0.01 * v
        lowest = min(lowest, theta)
    assert number_after(r"momentum overshoots.*lowest θ", out) == pytest.approx(lowest,
                                                                                abs=1e-3)
    # AdaGrad: G ← G + g², θ ← θ - lr·g/(√G + ε)
    theta, total = 3.0, 0.0
    for _ in range(1000):
        g = 2 * theta
        total += g * g
        theta -= 0.01 * g / (np.sqrt(total) + 1e-10)
    assert number_after(r"AdaGrad crawls.*θ =", out) == pytest.approx(theta, abs=1e-3)


def test_ewma_three_conventions(tmp_path):
    out = run_example("ewma_prices.py", tmp_path)
    prices = [12.30, 11.00, 10.20, 10.50, 11.10]
    for beta in (0.2, 0.5):
        v = 0.0
        for x in prices:
            v = beta * v + (1 - beta) * x
        assert number_after(rf"β = {beta}: v₅ .*v₅ =", out) == pytest.approx(v, abs=1e-4)
    # the last row of the second table (β = 0.2 and 0.5, from zero and corrected)
    last_row = [line for line in out.splitlines() if line.startswith("5  11.10")][-1]
    corrected = 10.5219 / (1 - 0.5**5)  # the β = 0.5 average over 1 - β⁵
    assert float(last_row.split()[-1]) == pytest.approx(corrected, abs=1e-4)
    assert number_after(r"plain mean of the prices:", out) == pytest.approx(sum(prices) / 5)
    # The head start v₁ = p₁, then vₜ = 0.2·vₜ₋₁ + 0.8·pₜ, by hand: 11.26 and 10.412.
    assert number_after(r"\(v₂ =", out) == pytest.approx(0.2 * 12.30 + 0.8 * 11.00, abs=1e-4)
    assert number_after(r"\(v₂ = [\d.]+, v₃ =", out) == pytest.approx(
        0.2 * (0.2 * 12.30 + 0.8 * 11.00) + 0.8 * 10.20, abs=1e-4)
    table = out.split("t  price   from zero  bias-corrected  head start\n")[1]
    rows = [list(map(float, line.split())) for line in table.splitlines()[:5]]
    zero = 0.0
    for t, (_, price, from_zero, corrected, started) in enumerate(rows, 1):
        zero = 0.2 * zero + 0.8 * price
        assert from_zero == pytest.approx(zero, abs=1e-4)
        assert corrected == pytest.approx(zero / (1 - 0.2**t), abs=1e-4)
        assert started == pytest.approx(zero + 0.2**t * prices[0], abs=1e-4)


def test_rmsprop_bursts_back_out_of_the_minimum(tmp_path):
    out = run_example("rmsprop_epsilon_floor.py", tmp_path)
    # RMSProp on θ² written out once more: the lowest point and the first burst.
    theta, v, path = 3.0, 0.0, [3.0]
    for _ in range(2000):
        g = 2 * theta
        v = 0.99 * v + 0.01 * g * g
        theta -= 0.01 * g / (np.sqrt(v) + 1e-8)
        path.append(theta)
    size = np.abs(path)
    lowest = int(np.argmin(size))
    assert number_after(r"lowest \|θ\| =", out) == pytest.approx(size[lowest], rel=1e-2)
    assert number_after(r"lowest \|θ\| = \S+ at step", out) == lowest
    peak = 1600 + int(np.argmax(size[1600:1700]))
    assert number_after(r"peak \|θ\| =", out) == pytest.approx(size[peak], abs=1e-3)
    assert number_after(r"peak \|θ\| = \S+ at\s+step", out) == peak
    assert "in the long run it bounces between ±lr/2" in out


def test_elongated_bowl(tmp_path):
    out = run_example("elongated_bowl.py", tmp_path)
    # Gradient descent at lr = 1.9/κ multiplies y by (1 - 1.9) = -0.9 per step: it changes
    # sign on every step while |y| = 0.9ᵏ stays above 1e-3.
    big_steps = int(np.floor(np.log(1e-3) / np.log(0.9)))
    row = next(line for line in out.splitlines() if line.startswith("gradient descent "))
    assert int(row.split()[3]) == big_steps
    assert float(row.split()[5]) == pytest.approx(50 / 8)


def test_momentum_terminal_velocity(tmp_path):
    out = run_example("momentum_terminal_velocity.py", tmp_path)
    assert number_after(r"after 100 steps.*\(", out) == pytest.approx(
        10 * (1 - 0.9**100), abs=1e-5)


def test_adam_bias_correction(tmp_path):
    out = run_example("adam_bias_correction.py", tmp_path)
    # Too large, not "initially very slow": m₁ = 0.1·g₁, √v₁ = 0.0316·|g₁|, m₁/√v₁ = 3.16.
    assert number_after(r"m₁/g₁ =", out) == pytest.approx(0.1, abs=1e-4)
    assert number_after(r"√v₁/\|g₁\| =", out) == pytest.approx(np.sqrt(0.001), abs=1e-4)
    assert number_after(r"m₁/√v₁ =", out) == pytest.approx(0.1 / np.sqrt(0.001), abs=1e-4)
    assert number_after(r"without correction the first step.*\(", out) == pytest.approx(
        0.1 / np.sqrt(0.001), abs=1e-4)
    t = np.arange(1, 5001)
    ratio = (1 - 0.9**t) / np.sqrt(1 - 0.999**t)
    assert number_after(r"largest at t =", out) == np.argmax(ratio) + 1


def test_adagrad_wins_at_ten_epochs_and_stalls_by_forty(tmp_path):
    out = run_example("adagrad_stalls.py", tmp_path)
    assert "AdaGrad is ahead at epoch 10, RMSProp is ahead at epoch 40" in out
    assert "adagrad (lr 0.05)" in out and "rmsprop (lr 0.001)" in out
    # G = t·g² for a constant gradient: the step is lr/√t = 0.1/10 at t = 100, 0.1/20 at 400.
    assert number_after(r"step 100", out) == pytest.approx(0.1 / np.sqrt(100), abs=1e-4)
    assert number_after(r"step 400", out) == pytest.approx(0.1 / np.sqrt(400), abs=1e-4)
    ranking = re.search(r"10 epochs, training loss: (.+)", out).group(1).split(", ")
    losses = [float(item.split()[1]) for item in ranking]
    assert ranking[0].startswith("adagrad ") and losses == sorted(losses) and len(losses) == 8
    # The 10-epoch comparison and the 40-epoch run agree on AdaGrad's loss at epoch 10.
    adagrad_row = re.search(r"adagrad \(lr 0.05\)\n.*\n  training loss\s+(.+)", out).group(1)
    assert float(adagrad_row.split()[2]) == pytest.approx(losses[0], abs=1e-4)


def test_saddle_escape_and_two_minima(tmp_path):
    out = run_example("saddle_and_local_minima.py", tmp_path)
    # Gradient descent on x² - y² + y⁴/4, written out: the step at which |y| passes 0.1.
    x, y, step = -2.0, 1e-3, 0
    while abs(y) <= 0.1:
        x, y, step = x - 0.01 * 2 * x, y - 0.01 * (-2 * y + y**3), step + 1
    row = next(line for line in out.splitlines() if line.startswith("sgd "))
    assert int(row.split()[1]) == step
    # The minima of x⁴ - 3x² + x are the roots of 4x³ - 6x + 1 = 0.
    deep, _, shallow = np.sort(np.roots([4, 0, -6, 1]).real)
    assert number_after(r"minima at x =", out) == pytest.approx(deep, abs=1e-4)
    assert number_after(r"gradient descent from x = 2\s+ends at x = \+?", out) == pytest.approx(
        shallow, abs=1e-4)
    assert number_after(r"momentum from x = 2\s+ends at x = \+?", out) == pytest.approx(
        deep, abs=1e-4)


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("[!_]*.py")
                                        if p.name != "quickstart.py"))
def test_every_example_takes_out_seed_and_quick(name):
    result = subprocess.run([sys.executable, str(EXAMPLES / name), "--help"],
                            capture_output=True, text=True, timeout=60,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr
    for flag in ("--out", "--seed", "--quick"):
        assert flag in result.stdout, (name, flag)


def test_quickstart_fits_the_line():
    # The first example a newcomer reads: hand-written gradient descent on y = 3x - 2.
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    result = subprocess.run([sys.executable, str(EXAMPLES / "quickstart.py")],
                            capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONPATH": path})
    assert result.returncode == 0, result.stderr
    assert number_after(r"w =", result.stdout) == pytest.approx(3, abs=0.05)
    assert number_after(r"b =", result.stdout) == pytest.approx(-2, abs=0.05)


def test_every_example_is_linked_from_the_index():
    index = (ROOT / "docs" / "index.md").read_text()
    for path in EXAMPLES.glob("[!_]*.py"):
        assert f"(../examples/{path.name})" in index, path.name


def test_a_log_axis_is_cut_at_its_floor_not_flattened_by_1e_300(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    monkeypatch.syspath_prepend(str(EXAMPLES))
    from _flags import log_axis_curves

    figure = log_axis_curves({"reaches 0": [1.0, 1e-5, 1e-300, 0.0], "stays": [1.0, 0.5, 0.2,
                                                                             0.1]},
                             tmp_path / "curves.png", floor=1e-12, title="t")
    bottom, top = figure.axes[0].get_ylim()
    assert bottom == pytest.approx(1e-12) and top < 10
    assert "cut at 1e-12" in figure.axes[0].get_title()
    assert (tmp_path / "curves.png").stat().st_size > 1000
