"""``minigrad compare``, ``minigrad gradcheck`` and ``minigrad graph``: output, files, exit
codes, and one-line errors for bad arguments."""

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from test_catalogue_checks import WrongSquare  # x² with a wrong gradient

from minigrad import cli
from minigrad.catalogue import checks
from minigrad.catalogue.cases import OpCase
from minigrad.optim import OPTIMIZERS

needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's dot is not installed (.ci/run installs it)")


def run(argv, capsys):
    code = cli.main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def table_rows(out: str) -> dict[str, list[str]]:
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("optimizer")) + 2
    rows = {}
    for line in lines[start:]:
        if not line.strip() or line.startswith("saved"):
            break
        rows[line.split()[0]] = line.split()
    return rows


# -- compare -------------------------------------------------------------------------------


def test_compare_runs_every_optimizer_by_default(capsys):
    code, out, err = run(["compare", "--problem", "himmelblau", "--steps", "200",
                          "--tune-lr"], capsys)
    assert code == 0, err
    assert "\nhimmelblau: f(x, y) = (x² + y - 11)² + (x + y² - 7)²" in out
    rows = table_rows(out)
    assert set(rows) == set(OPTIMIZERS)
    # From (0, 0) every optimizer finds the minimum (3, 2) within 200 steps.
    assert all("(3, 2)" in " ".join(row) for name, row in rows.items() if name != "adamw")


def test_compare_hyperparameters_reach_the_optimizers(capsys):
    code, out, err = run(["compare", "--problem", "quadratic", "--steps", "30",
                          "--optimizers", "sgd,adam", "--lr", "0.1",
                          "--set", "adam.betas=0.5,0.9", "--tol", "1e-3"], capsys)
    assert code == 0, err
    rows = table_rows(out)
    assert set(rows) == {"sgd", "adam"}
    # sgd with lr 0.1 on θ²: θ₃₀ = 3·0.8³⁰, the closed form
    assert float(rows["sgd"][2]) == pytest.approx((3 * 0.8**30) ** 2, rel=1e-5)
    assert rows["sgd"][1] == rows["adam"][1] == "0.1"
    assert "steps to tol 0.001" in out


def test_compare_set_for_all_optimizers_that_take_it(capsys):
    code, out, err = run(["compare", "--problem", "bowl", "--condition", "5", "--steps", "50",
                          "--optimizers", "momentum,nesterov", "--set", "momentum=0.5"],
                         capsys)
    assert code == 0, err
    assert "elongated_bowl(condition=5)" in out


def test_compare_saves_trajectories_and_curves(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    plot = tmp_path / "rosen.png"
    code, out, err = run(["compare", "--steps", "100", "--optimizers", "adam,rmsprop",
                          "--save-plot", str(plot)], capsys)
    assert code == 0, err
    for path in (plot, tmp_path / "rosen-loss.png"):
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"to {path}" in out


def test_compare_one_dimensional_function_saves_curves_only(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    plot = tmp_path / "q.png"
    code, out, _ = run(["compare", "--problem", "quadratic", "--steps", "20", "--optimizers",
                        "sgd", "--save-plot", str(plot)], capsys)
    assert code == 0 and plot.exists() and not (tmp_path / "q-loss.png").exists()
    assert "saved loss curves" in out


def test_compare_on_digits(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    plot = tmp_path / "digits.png"
    code, out, err = run(["compare", "--problem", "digits", "--epochs", "2", "--optimizers",
                          "momentum,adam", "--hidden", "32", "--save-plot", str(plot)], capsys)
    assert code == 0, err
    assert "digits MLP 64-32-10, batch size 32, 2 epochs" in out
    rows = table_rows(out)
    assert set(rows) == {"momentum", "adam"}
    for row in rows.values():
        assert 0.5 < float(row[3]) <= 1.0  # test accuracy after 2 epochs
    assert "epochs to tol 0.05" in out
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("argv, message", [
    (["--optimizers", "sgd,lbfgs"], "unknown optimizer 'lbfgs'"),
    (["--steps", "0"], "--steps: must be at least 1"),
    (["--lr", "-1"], "--lr: must be a positive number"),
    (["--tol", "nan"], "--tol: must be a positive number"),
    (["--problem", "ackley"], "invalid choice: 'ackley'"),
    (["--set", "adam.lr"], "expected OPTIMIZER.NAME=VALUE"),
    (["--set", "adam.lr=fast"], "the value of adam.lr must be a number"),
    (["--set", "lion.lr=1"], "unknown optimizer 'lion'"),
    (["--set", "adam.momentum=0.9"], "adam has no hyperparameter 'momentum'"),
    (["--optimizers", "sgd", "--set", "adam.lr=0.1"], "adam is not among the chosen"),
    (["--set", "adam.betas=1.5,0.9"], "minigrad compare: "),
    (["--epochs", "3"], "--epochs does not apply to --problem rosenbrock"),
    (["--condition", "10"], "--condition does not apply to --problem rosenbrock"),
    (["--problem", "digits", "--steps", "10"], "--steps does not apply to --problem digits"),
    (["--start", "1,2,3"], "--start: rosenbrock takes 2 coordinate(s), got 3"),
    (["--start", "1,x"], "expected comma-separated coordinates"),
    (["--problem", "bowl", "--condition", "0.5"], "--condition: must be at least 1"),
    (["--save-plot", "/no/such/folder/p.png"], "folder /no/such/folder does not exist"),
])
def test_compare_bad_arguments_get_one_line_and_exit_2(argv, message, capsys):
    code, out, err = run(["compare", *argv], capsys)
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert out == ""


# -- gradcheck ------------------------------------------------------------------------------


def test_gradcheck_prints_a_table_and_passes(capsys):
    code, out, err = run(["gradcheck", "--kind", "loss", "--second-order"], capsys)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[1].split()[:2] == ["op", "kind"] and "gradgradcheck" in lines[1]
    body = [line for line in lines[3:] if line.strip() and " loss " in line]
    assert len(body) == len(checks.select(groups=["loss"]))
    for line in body:
        fields = line.split()
        assert float(fields[-4]) < 1e-5 and fields[-2:] == ["ok", "ok"]
    assert lines[-1] == f"{len(body)} of {len(body)} passed"


def test_gradcheck_exits_1_when_a_gradient_is_wrong(monkeypatch, capsys):
    catalogue = [OpCase("square", lambda a: a * a, np.square, [(3,)]),
                 OpCase("wrong_square", WrongSquare.apply, np.square, [(3,)])]
    monkeypatch.setattr(checks, "CATALOGUE", catalogue)
    code, out, _ = run(["gradcheck"], capsys)
    assert code == 1
    assert "1 of 2 passed; FAILED: wrong_square" in out
    assert "wrong_square: gradcheck: the gradient of output 0" in out


def test_gradcheck_only_and_unknown_names(capsys):
    code, out, _ = run(["gradcheck", "--only", "softmax"], capsys)
    assert code == 0 and "log_softmax" in out and "relu" not in out
    code, out, err = run(["gradcheck", "--only", "no_such_op"], capsys)
    assert code == 2 and "no op in the catalogue matches no_such_op" in err
    code, _, err = run(["gradcheck", "--kind", "optimizer"], capsys)
    assert code == 2 and "invalid choice" in err


# -- graph ----------------------------------------------------------------------------------


def test_graph_writes_dot_source_without_needing_dot(tmp_path, capsys):
    out_path = tmp_path / "graph.dot"
    code, out, err = run(["graph", "--out", str(out_path), "--hidden", "8,8"], capsys)
    assert code == 0, err
    source = out_path.read_text()
    assert source.startswith("digraph")
    for name in ("0.weight", "0.bias", "2.weight", "4.bias"):
        assert name in source
    assert "(6 ops, 14 tensors)" in out


def test_graph_expand_draws_the_primitive_ops(tmp_path, capsys):
    fused, expanded = tmp_path / "fused.dot", tmp_path / "expanded.dot"
    assert run(["graph", "--out", str(fused), "--hidden", "8"], capsys)[0] == 0
    code, out, err = run(["graph", "--out", str(expanded), "--hidden", "8", "--expand"], capsys)
    assert code == 0, err
    assert "Linear" in fused.read_text() and "MatMul" not in fused.read_text()
    source = expanded.read_text()
    assert "MatMul" in source and "Linear" not in source and "SoftmaxCrossEntropy" not in source


@needs_dot
def test_graph_renders_svg(tmp_path, capsys):
    out_path = tmp_path / "graph.svg"
    code, out, err = run(["graph", "--out", str(out_path), "--show-grad"], capsys)
    assert code == 0, err
    svg = out_path.read_text()
    assert "<svg" in svg and "SoftmaxCrossEntropy" in svg and "grad" in svg
    assert svg.count(">Linear<") == 3 and svg.count(">ReLU<") == 2


def test_graph_without_dot_explains_how_to_install_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    code, _, err = run(["graph", "--out", str(tmp_path / "g.svg")], capsys)
    assert code == 1
    assert "apt-get install graphviz" in err and "--out graph.dot" in err
    assert not (tmp_path / "g.svg").exists()


@pytest.mark.parametrize("argv, message", [
    (["--out", "graph.txt"], "use a .svg, .png, .pdf or .dot file"),
    (["--out", "/no/such/folder/g.svg"], "folder /no/such/folder does not exist"),
    (["--hidden", "8,x"], "expected comma-separated layer sizes"),
    (["--batch-size", "0"], "must be at least 1"),
    (["--rankdir", "XY"], "invalid choice"),
])
def test_graph_bad_arguments(argv, message, capsys):
    code, _, err = run(["graph", *argv], capsys)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_commands_run_as_a_module():
    root = Path(__file__).resolve().parent.parent  # this checkout's minigrad
    result = subprocess.run([sys.executable, "-m", "minigrad", "gradcheck", "--only",
                             "nll_loss"], capture_output=True, text=True, timeout=60,
                            cwd=root)
    assert result.returncode == 0, result.stderr
    assert "1 of 1 passed" in result.stdout
    result = subprocess.run([sys.executable, "-m", "minigrad", "compare", "--steps", "-5"],
                            capture_output=True, text=True, timeout=60, cwd=root)
    assert result.returncode == 2 and "Traceback" not in result.stderr


# -- compare is fair: same settings unless asked, seeds, ranking ------------------------------


def test_compare_gives_every_optimizer_the_same_lr_and_momentum_beats_sgd_on_the_bowl(capsys):
    code, out, err = run(["compare", "--problem", "bowl", "--optimizers", "sgd,momentum,adam"],
                         capsys)
    assert code == 0, err
    assert "the same learning rate for every optimizer: 0.015" in out
    rows = table_rows(out)
    assert {row[1] for row in rows.values()} == {"0.015"}
    order = list(rows)
    assert order.index("momentum") < order.index("sgd")  # ranked by steps to tolerance
    steps = {name: int(row[-3]) for name, row in rows.items()}
    assert steps["momentum"] < steps["sgd"]
    assert "ranked by steps to reach and stay within tol 0.0001 (fewest first), then by " \
           "final loss" in out


def test_compare_tune_lr_shows_each_optimizers_own_lr(capsys):
    code, out, err = run(["compare", "--problem", "bowl", "--optimizers", "sgd,momentum",
                          "--tune-lr", "--steps", "300"], capsys)
    assert code == 0, err
    assert "learning rates tuned per optimizer (--tune-lr): sgd 0.09, momentum 0.015" in out
    rows = table_rows(out)
    assert rows["sgd"][1] == "0.09" and rows["momentum"][1] == "0.015"
    code, _, err = run(["compare", "--tune-lr", "--lr", "0.1"], capsys)
    assert code == 2 and "not allowed with argument" in err
    code, _, err = run(["compare", "--tune-lr", "--set", "adam.lr=0.1"], capsys)
    assert code == 2 and "--tune-lr chooses the learning rates" in err


def test_compare_ranks_by_steps_not_by_final_loss(capsys):
    # RMSProp ends with a lower loss than Nesterov here but reaches the tolerance later.
    code, out, err = run(["compare", "--problem", "quadratic", "--optimizers",
                          "rmsprop,nesterov", "--lr", "0.01", "--steps", "1000"], capsys)
    assert code == 0, err
    rows = table_rows(out)
    assert list(rows) == ["nesterov", "rmsprop"]
    assert int(rows["nesterov"][-3]) < int(rows["rmsprop"][-3])


def test_compare_seeds_report_mean_and_spread(capsys):
    code, out, err = run(["compare", "--problem", "himmelblau", "--optimizers", "sgd,nesterov",
                          "--seeds", "3", "--steps", "300"], capsys)
    assert code == 0, err
    assert "(and 2 start(s) near it)" in out
    assert "mean ± standard deviation over 3 seeds" in out
    assert all("±" in " ".join(row) for row in table_rows(out).values())
    code, out, err = run(["compare", "--problem", "digits", "--optimizers", "adam",
                          "--seeds", "2", "--epochs", "1", "--hidden", "8"], capsys)
    assert code == 0, err
    assert "seed 0 to 1" in out and "adam (seed 1)" in out
    code, out, err = run(["compare", "--problem", "digits", "--optimizers", "adam",
                          "--batch-size", "full", "--epochs", "1", "--hidden", "8"], capsys)
    assert code == 0 and "batch size full" in out


# -- gradcheck of a user's function ---------------------------------------------------------

USER_MODULE = '''
import minigrad as mg


def loss(a, b):
    return (a @ b).tanh().sum()


class HalfWrong(mg.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 2

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x          # should be 2x


def wrong(x):
    return HalfWrong.apply(x).sum()


class Layer(mg.nn.Module):
    def forward(self, x):
        return (x * x).sum()
'''


def test_gradcheck_target_checks_a_users_function(tmp_path, monkeypatch, capsys):
    (tmp_path / "user_ops.py").write_text(USER_MODULE)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    code, out, err = run(["gradcheck", "--target", "user_ops:loss", "--shapes", "3,4", "4"],
                         capsys)
    assert code == 0, err
    assert "user_ops:loss" in out and "3x4 4" in out and "1 of 1 passed" in out
    code, out, _ = run(["gradcheck", "--target", "user_ops:wrong", "--shapes", "5"], capsys)
    assert code == 1 and "FAILED: user_ops:wrong" in out
    code, out, _ = run(["gradcheck", "--target", "user_ops:Layer", "--shapes", "2,2"], capsys)
    assert code == 0 and "1 of 1 passed" in out


@pytest.mark.parametrize("argv, message", [
    (["--target", "user_ops:loss", "--shapes", "3"], "failed on inputs of shapes 3: TypeError"),
    (["--target", "user_ops:missing", "--shapes", "3"], "user_ops has no 'missing'"),
    (["--target", "no_such_module:f", "--shapes", "3"], "cannot import 'no_such_module'"),
    (["--target", "user_ops", "--shapes", "3"], "expected MODULE:FUNCTION"),
    (["--target", "user_ops:loss"], "--target needs --shapes"),
    (["--shapes", "3"], "--shapes needs --target"),
    (["--target", "user_ops:loss", "--shapes", "3,x"], "expected a shape such as 3,4"),
    (["--target", "user_ops:loss", "--shapes", "3", "--only", "relu"], "do not apply"),
])
def test_gradcheck_target_errors(argv, message, tmp_path, monkeypatch, capsys):
    (tmp_path / "user_ops.py").write_text(USER_MODULE)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    code, _, err = run(["gradcheck", *argv], capsys)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_gradcheck_rows_worst_first(monkeypatch, capsys):
    catalogue = [OpCase("square", lambda a: a * a, np.square, [(3,)]),
                 OpCase("wrong_square", WrongSquare.apply, np.square, [(3,)]),
                 OpCase("exp", lambda a: a.exp(), np.exp, [(3,)])]
    monkeypatch.setattr(checks, "CATALOGUE", catalogue)
    code, out, _ = run(["gradcheck"], capsys)
    lines = out.splitlines()
    names = [line.split()[0] for line in lines[3:6]]
    assert names[0] == "wrong_square"
    errors = [float(line.split()[-3]) for line in lines[3:6]]
    assert errors == sorted(errors, reverse=True)
