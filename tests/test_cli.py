"""The ``minigrad`` command: the train job end to end, its outputs, and its argument errors."""

import subprocess
import sys

import numpy as np
import pytest

import minigrad as mg
from minigrad import cli, training
from minigrad.optim import OPTIMIZERS


def run(argv, capsys):
    code = cli.main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_default_training_reaches_97_percent():
    _, _, history = training.train_digits(training.TrainConfig())
    assert history.test_accuracy[-1] >= 0.97
    assert history.train_loss[-1] < history.train_loss[0] / 10


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
def test_every_optimizer_learns_the_digits(optimizer):
    _, _, history = training.train_digits(training.TrainConfig(optimizer=optimizer, epochs=8))
    assert history.test_accuracy[-1] >= 0.93, (optimizer, history.test_accuracy)


def test_train_command_prints_epochs_and_final_accuracy(capsys, tmp_path):
    model_path = tmp_path / "model.npz"
    code, out, err = run(["train", "--epochs", "3", "--hidden", "32,16", "--batch-size", "64",
                          "--optimizer", "nesterov", "--lr", "0.05", "--seed", "3",
                          "--save", str(model_path)], capsys)
    assert code == 0, err
    lines = out.splitlines()
    assert sum(line.startswith("epoch ") for line in lines) == 3
    assert lines[-1].startswith("test accuracy: 0.")
    accuracy = float(lines[-1].split(": ")[1])
    assert accuracy > 0.8

    # The checkpoint holds a model that reproduces the reported test accuracy.
    checkpoint = mg.load(model_path)
    assert checkpoint["config"]["hidden"] == [32, 16]
    model = training.make_mlp([64, 32, 16, 10])
    model.load_state_dict(checkpoint["model"])
    _, X_test, _, y_test = training.digits_split(seed=3)
    _, reloaded_accuracy = training.evaluate(model, mg.tensor(X_test), mg.tensor(y_test))
    assert reloaded_accuracy == pytest.approx(accuracy, abs=1e-4)
    assert set(checkpoint["optimizer"]) == {"state", "param_groups"}


def test_train_saves_its_curves_as_a_picture(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    plot_path = tmp_path / "curves.png"
    code, out, err = run(["train", "--epochs", "2", "--hidden", "16", "--quiet",
                          "--save-plot", str(plot_path)], capsys)
    assert code == 0, err
    assert plot_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    code, _, err = run(["train", "--save-plot", "curves.xyz"], capsys)
    assert code == 2 and "cannot save a plot as 'xyz'" in err


def test_save_plot_without_matplotlib_says_how_to_get_it(capsys, monkeypatch):
    # Before any training starts: a missing extra is a usage error, not a late traceback.
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    code, out, err = run(["train", "--save-plot", "curves.png"], capsys)
    assert code == 2 and "plotting needs matplotlib" in err and "epoch" not in out


def test_full_batch_training(capsys):
    code, out, _ = run(["train", "--batch-size", "full", "--epochs", "5",
                        "--optimizer", "adam", "--lr", "0.01"], capsys)
    assert code == 0 and "batch size full" in out


def test_same_seed_same_result():
    config = training.TrainConfig(epochs=2, hidden=(16,))
    _, _, first = training.train_digits(config)
    _, _, second = training.train_digits(config)
    assert first.train_loss == second.train_loss


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "--lr", "-1"], "--lr: must be a positive number, got -1"),
        (["train", "--lr", "abc"], "--lr: expected a number"),
        (["train", "--epochs", "0"], "--epochs: must be at least 1"),
        (["train", "--batch-size", "0"], "--batch-size: must be at least 1"),
        (["train", "--hidden", "12,x"], "--hidden: expected comma-separated layer sizes"),
        (["train", "--optimizer", "adamax"], "invalid choice: 'adamax'"),
        (["train", "--seed", "-3"], "--seed: must be 0 or more"),
        (["train", "--test-size", "1.5"], "--test-size: must be between 0 and 1"),
        (["train", "--save", "/no/such/folder/model.npz"], "folder /no/such/folder does not"),
        (["train", "--save", "/"], "--save: / is a folder"),
        (["train", "--bogus"], "unrecognized arguments: --bogus"),
        ([], "the following arguments are required"),
        (["fly"], "invalid choice: 'fly'"),
    ],
)
def test_bad_arguments_give_one_line_and_exit_2(argv, message, capsys):
    code, out, err = run(argv, capsys)
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_python_dash_m_minigrad_runs():
    result = subprocess.run([sys.executable, "-m", "minigrad", "train", "--epochs", "1",
                             "--hidden", "8", "--quiet"], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].startswith("test accuracy: ")
    bad = subprocess.run([sys.executable, "-m", "minigrad", "train", "--lr", "-1"],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_plot_history_returns_a_figure_and_validates(tmp_path):
    pytest.importorskip("matplotlib")
    from minigrad.viz import plot_history

    fig = plot_history({"train_loss": [1.0, 0.5], "test_accuracy": [0.5, 0.9]},
                       tmp_path / "h.png")
    assert len(fig.axes) == 2 and (tmp_path / "h.png").stat().st_size > 1000
    with pytest.raises(ValueError, match="no '...loss'"):
        plot_history({"x": [1.0]})
    assert np.isfinite(fig.axes[0].lines[0].get_ydata()).all()


def test_a_tiny_training_split_still_knows_all_ten_classes(capsys):
    code, out, err = run(["train", "--test-size", "0.995", "--epochs", "1", "--quiet",
                          "--hidden", "8"], capsys)
    assert code == 0, err
    assert out.splitlines()[-1].startswith("test accuracy: ")
