"""``minigrad train``, ``evaluate`` and ``predict`` as a user runs them: output in a pipe,
the options reaching the optimizer, data files and their errors, checkpoints that carry
their preprocessing, an exact ``--resume``, metrics files, and no traceback ever."""

import csv
import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
from minigrad import cli, training
from minigrad.data import load_digits

ROOT = Path(__file__).resolve().parent.parent
SMALL = ["--epochs", "2", "--hidden", "16"]


def run(argv, capsys):
    code = cli.main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def minigrad(*argv, cwd=None):
    """The command in a subprocess, its output in a pipe, as bytes."""
    return subprocess.run([sys.executable, "-m", "minigrad", *map(str, argv)],
                          capture_output=True, timeout=120, cwd=cwd or ROOT)


# -- output ----------------------------------------------------------------------------------


def test_output_in_a_pipe_is_plain_lines_without_carriage_returns():
    result = minigrad("train", "--epochs", "3", "--hidden", "32")
    assert result.returncode == 0, result.stderr
    assert b"\r" not in result.stdout and b"\r" not in result.stderr
    assert result.stderr == b""  # no progress bar outside a terminal
    lines = result.stdout.decode().splitlines()
    epochs = [line for line in lines if line.startswith("epoch ")]
    assert len(epochs) == 3 and all(line == line.strip() for line in epochs)
    assert lines[-1].startswith("test accuracy: 0.")


def test_a_terminal_gets_a_progress_bar_and_the_lines_stay_clean():
    pytest.importorskip("tqdm")
    pty = pytest.importorskip("pty")  # POSIX only
    import fcntl
    import termios

    controller, terminal = pty.openpty()  # stderr is a terminal, stdout a pipe
    # 24 rows of 80 columns: a new pty has 0, and tqdm draws nothing in 0 columns.
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    try:
        process = subprocess.Popen([sys.executable, "-m", "minigrad", "train", "--epochs", "2",
                                    "--hidden", "16"], cwd=ROOT, stdout=subprocess.PIPE,
                                   stderr=terminal)
        os.close(terminal)
        bar = b""
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # the terminal closed with the process
                break
            if not chunk:
                break
            bar += chunk
        stdout = process.communicate(timeout=120)[0]
    finally:
        os.close(controller)
    assert process.returncode == 0
    assert b"\r" in bar and b"epoch 1/2" in bar  # tqdm's bar, redrawn in place
    assert b"\r" not in stdout and stdout.decode().splitlines()[-1].startswith("test accuracy")


def test_quiet_prints_only_the_final_line(tmp_path):
    result = minigrad("train", *SMALL, "--quiet", "--save", tmp_path / "m.npz")
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().splitlines() == [
        f"test accuracy: {mg.load(tmp_path / 'm.npz')['history']['test_accuracy'][-1]:.4f}"]
    assert result.stderr == b""


def test_progress_bar_only_for_a_terminal():
    pytest.importorskip("tqdm")

    class Terminal:
        def isatty(self):
            return True

        def write(self, text):
            pass

        def flush(self):
            pass

    assert training.progress_bar(Terminal()) is not None
    with open(__file__) as not_a_terminal:
        assert training.progress_bar(not_a_terminal) is None


def test_no_hand_written_progress_bar_is_left():
    source = (ROOT / "minigrad" / "training.py").read_text()
    assert "\\r" not in source and "plain_progress" not in source


def test_version_and_unknown_flags(capsys):
    code, out, _ = run(["--version"], capsys)
    assert code == 0 and out.strip() == f"minigrad {mg.__version__}"
    code, _, err = run(["train", "--bogus"], capsys)
    assert code == 2 and err.startswith("minigrad train: unrecognized arguments: --bogus")
    code, _, err = run(["compare", "--bogus"], capsys)
    assert code == 2 and err.startswith("minigrad compare: unrecognized arguments")


def test_lr_help_shows_every_optimizers_default(capsys):
    code, out, _ = run(["train", "--help"], capsys)
    flat = " ".join(out.split())
    assert code == 0 and "sgd 0.1, momentum 0.02" in flat and "adam 0.001" in flat
    for option in ("--momentum", "--nesterov", "--weight-decay", "--betas", "--scheduler",
                   "--dropout", "--data", "--val-split", "--resume", "--metrics", "--quiet"):
        assert option in out


# -- options reach the run ------------------------------------------------------------------


def test_optimizer_options_and_scheduler_reach_the_run(capsys, tmp_path):
    ckpt = tmp_path / "m.npz"
    code, out, err = run(["train", *SMALL, "--optimizer", "sgd", "--lr", "0.05",
                          "--momentum", "0.8", "--nesterov", "--weight-decay", "1e-3",
                          "--scheduler", "step", "--step-size", "1", "--gamma", "0.5",
                          "--save", ckpt], capsys)
    assert code == 0, err
    state = mg.load(ckpt)
    (group,) = state["optimizer"]["param_groups"]
    assert (group["momentum"], group["nesterov"], group["weight_decay"]) == (0.8, True, 1e-3)
    np.testing.assert_allclose(state["history"]["lr"], [0.05, 0.025])  # halved each epoch
    assert group["lr"] == pytest.approx(0.0125)
    assert "momentum 0.8, nesterov True, weight_decay 0.001, step schedule" in out

    code, _, err = run(["train", *SMALL, "--optimizer", "adamw", "--betas", "0.8,0.9",
                        "--scheduler", "cosine", "--save", ckpt], capsys)
    assert code == 0, err
    state = mg.load(ckpt)
    assert state["optimizer"]["param_groups"][0]["betas"] == [0.8, 0.9]
    np.testing.assert_allclose(state["history"]["lr"], [1e-3, 0.5e-3])  # cosine over 2 epochs


def test_dropout_layers_and_a_validation_split(capsys, tmp_path):
    code, out, err = run(["train", *SMALL, "--dropout", "0.3", "--val-split", "0.2",
                          "--metrics", tmp_path / "m.json"], capsys)
    assert code == 0, err
    assert "val accuracy" in out
    rows = json.loads((tmp_path / "m.json").read_text())
    assert [r["epoch"] for r in rows] == [1, 2]
    assert {"train_loss", "val_loss", "val_accuracy", "test_accuracy", "lr"} <= set(rows[0])
    model = training.make_mlp([64, 16, 10], dropout=0.3)
    assert any(isinstance(m, mg.nn.Dropout) for m in model)


def test_metrics_as_csv_one_line_per_epoch(capsys, tmp_path):
    path = tmp_path / "metrics.csv"
    code, out, _ = run(["train", "--epochs", "3", "--hidden", "16", "--metrics", path], capsys)
    assert code == 0
    with open(path) as file:
        rows = list(csv.DictReader(file))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]
    printed = [line for line in out.splitlines() if line.startswith("epoch")]
    assert f"{float(rows[2]['test_accuracy']):.4f}" in printed[2]


@pytest.mark.parametrize("argv, message", [
    (["--momentum", "0.9"], "optimizer adam has no hyperparameter momentum"),
    (["--optimizer", "sgd", "--nesterov"], "minigrad train: "),
    (["--betas", "0.9"], "--betas: expected two numbers in [0, 1)"),
    (["--dropout", "1"], "--dropout: must be at least 0 and less than 1"),
    (["--scheduler", "cosine", "--gamma", "0.5"], "--gamma does not apply to --scheduler cosine"),
    (["--scheduler", "warp"], "invalid choice: 'warp'"),
    (["--val-split", "0"], "--val-split: must be a positive number"),
    (["--metrics", "m.txt"], "--metrics: use a .csv or .json file"),
    (["--hidden", ",".join(["8"] * 500)], "at most 100 hidden layers"),
    (["--hidden", "99999999"], "a layer of at most 100,000 units"),
    (["--epochs", "9" * 5000], "--epochs: expected a whole number"),
    (["--resume", "/no/such/ckpt.npz"], "minigrad train: --resume:"),
    (["--data", "/no/such/file.csv"], "minigrad train: --data: /no/such/file.csv: no such file"),
    (["--data", "data.txt"], "minigrad train: --data: data.txt: no such file"),
])
def test_bad_train_arguments_get_one_line_before_any_training(argv, message, capsys):
    code, out, err = run(["train", *argv], capsys)
    assert code == 2, err
    assert message in err
    assert len(err.strip().splitlines()) == 1 and len(err) < 400
    assert out == ""


# -- output paths are checked before training ------------------------------------------------


def test_unwritable_save_and_metrics_are_refused_before_training(tmp_path, capsys):
    read_only = tmp_path / "old.npz"
    read_only.write_bytes(b"keep me")
    read_only.chmod(0o444)
    code, out, err = run(["train", "--save", read_only], capsys)
    assert code == 2 and "--save" in err and "read-only" in err and out == ""
    assert read_only.read_bytes() == b"keep me"
    code, out, err = run(["train", "--save", "/dev/null"], capsys)
    assert code == 2 and "not a regular file" in err and out == ""
    code, out, err = run(["train", "--metrics", tmp_path / "no" / "m.csv"], capsys)
    assert code == 2 and "does not exist" in err and out == ""


# -- checkpoints: usable as saved ---------------------------------------------------------


def test_checkpoint_holds_preprocessing_so_raw_digits_give_the_reported_accuracy(
        tmp_path, capsys):
    ckpt = tmp_path / "model.npz"
    code, out, err = run(["train", "--epochs", "5", "--hidden", "32", "--save", ckpt], capsys)
    assert code == 0, err
    reported = float(out.splitlines()[-1].split(": ")[1])
    state = mg.load(ckpt)
    assert state["architecture"] == {"kind": "mlp", "sizes": [64, 32, 10], "dropout": 0.0}
    assert state["classes"] == [str(d) for d in range(10)]
    assert state["config"]["hidden"] == [32] and state["epochs_done"] == 5
    split = training.split_data(training.TrainConfig())
    mean, std = state["preprocessing"]["mean"], state["preprocessing"]["std"]
    np.testing.assert_allclose(mean, split.X_train.mean(0))
    # A fresh model fed raw features through the saved mean and std, as a user would.
    model = training.make_mlp(state["architecture"]["sizes"])
    model.load_state_dict(state["model"])
    X = ((split.X_test - np.asarray(mean)) / np.asarray(std)).astype(np.float32)
    _, accuracy = training.evaluate(model, X, split.y_test)
    assert accuracy == pytest.approx(reported, abs=1e-4)

    classifier = training.load_checkpoint(ckpt)
    assert classifier.predict(split.X_test[:3]) == [str(v) for v in
                                                    model(mg.tensor(X[:3])).argmax(1).numpy()]

    code, out, err = run(["evaluate", ckpt], capsys)
    assert code == 0, err
    assert out.splitlines()[-1] == f"test accuracy: {reported:.4f}"
    X_all, y_all = load_digits()
    code, out, _ = run(["evaluate", ckpt, "--data", "digits"], capsys)
    assert code == 0 and "every sample of digits" in out and "1,797 samples" in out
    assert float(out.splitlines()[-1].split(": ")[1]) > reported - 0.05


def test_resume_continues_exactly(tmp_path, capsys):
    options = ["--hidden", "16", "--dropout", "0.2", "--optimizer", "adam",
               "--scheduler", "exponential", "--gamma", "0.7", "--batch-size", "50"]
    whole, half, resumed = tmp_path / "whole.npz", tmp_path / "half.npz", tmp_path / "res.npz"
    assert run(["train", *options, "--epochs", "4", "--save", whole], capsys)[0] == 0
    assert run(["train", *options, "--epochs", "2", "--save", half], capsys)[0] == 0
    code, out, err = run(["train", "--resume", half, "--epochs", "4", "--save", resumed,
                          "--metrics", tmp_path / "m.csv"], capsys)
    assert code == 0, err
    assert "resuming" in out and sum(line.startswith("epoch ") for line in out.splitlines()) == 2
    a, b = mg.load(whole), mg.load(resumed)
    for name, value in a["model"].items():
        assert np.array_equal(value.numpy(), b["model"][name].numpy()), name
    for name, values in a["history"].items():
        if name != "epoch_time":
            assert np.array_equal(values, b["history"][name]), name
    assert a["optimizer"]["state"][0]["step"] == b["optimizer"]["state"][0]["step"]
    with open(tmp_path / "m.csv") as file:
        assert len(list(csv.DictReader(file))) == 4  # the whole history
    code, _, err = run(["train", "--resume", half, "--lr", "0.1"], capsys)
    assert code == 2 and "--lr cannot be changed when resuming" in err
    code, _, err = run(["train", "--resume", whole, "--epochs", "4"], capsys)
    assert code == 2 and "already trained 4 of 4 epochs" in err


# -- data files ------------------------------------------------------------------------------


def _three_blobs(n=150, seed=0):
    gen = np.random.default_rng(seed)
    y = np.repeat([0, 1, 2], n // 3)
    X = gen.normal(size=(n, 4)) + 4 * np.eye(3, 4)[y]
    return X, y


def test_train_on_a_csv_with_header_and_named_classes_then_predict(tmp_path, capsys):
    X, y = _three_blobs()
    names = np.array(["cat", "dog", "eel"])[y]
    data = tmp_path / "animals.csv"
    with open(data, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["a", "b", "c", "d", "animal"])
        writer.writerows([[*row, name] for row, name in zip(X, names)])
    ckpt = tmp_path / "m.npz"
    code, out, err = run(["train", "--data", data, "--epochs", "20", "--hidden", "8",
                          "--lr", "0.02", "--save", ckpt], capsys)
    assert code == 0, err
    assert "MLP 4-8-3" in out and "150 samples, 4 features" in out
    assert float(out.splitlines()[-1].split(": ")[1]) > 0.9
    assert mg.load(ckpt)["classes"] == ["cat", "dog", "eel"]

    features = tmp_path / "new.csv"
    np.savetxt(features, X[:6], delimiter=",", header="a,b,c,d", comments="")
    code, out, err = run(["predict", ckpt, features], capsys)
    assert code == 0, err
    assert out.splitlines() == list(names[:6])
    np.savez(tmp_path / "new.npz", X=X[:6])
    out_file = tmp_path / "pred.txt"
    code, out, _ = run(["predict", ckpt, tmp_path / "new.npz", "--out", out_file], capsys)
    assert code == 0 and out_file.read_text().splitlines() == list(names[:6])
    assert "wrote 6 predictions" in out
    code, _, err = run(["predict", ckpt, tmp_path / "new.npz", "--out", tmp_path / "no" / "p"],
                       capsys)
    assert code == 2 and "does not exist" in err


def test_train_on_an_npz_and_evaluate_on_another(tmp_path, capsys):
    X, y = _three_blobs()
    np.savez(tmp_path / "train.npz", X=X, y=y)
    X2, y2 = _three_blobs(seed=1)
    np.savez(tmp_path / "other.npz", X=X2, y=y2)
    ckpt = tmp_path / "m.npz"
    code, out, err = run(["train", "--data", tmp_path / "train.npz", "--epochs", "20",
                          "--hidden", "8", "--lr", "0.02", "--save", ckpt], capsys)
    assert code == 0, err
    code, out, err = run(["evaluate", ckpt], capsys)
    assert code == 0, err
    code, out, err = run(["evaluate", ckpt, "--data", tmp_path / "other.npz"], capsys)
    assert code == 0, err
    assert out.splitlines()[-1].startswith("accuracy: ")
    assert float(out.splitlines()[-1].split(": ")[1]) > 0.9
    np.savez(tmp_path / "five.npz", X=X2[:, :3], y=y2)
    code, _, err = run(["evaluate", ckpt, "--data", tmp_path / "five.npz"], capsys)
    assert code == 2 and "the model takes 4 features per sample, the data has 3" in err
    np.savez(tmp_path / "new_class.npz", X=X2, y=y2 + 5)
    code, _, err = run(["evaluate", ckpt, "--data", tmp_path / "new_class.npz"], capsys)
    assert code == 2 and "label '5' is not one of the model's classes (0, 1, 2)" in err


@pytest.mark.parametrize("content, message", [
    ("1,2,0\n3,x,1\n", "{path}:2:2: expected a finite number, got 'x'"),
    ("f1,f2,label\n1,2,0\n3,4\n", "{path}:3: expected 3 columns like the first line, got 2"),
    ("1,2,0\n3,nan,1\n", "{path}:2:2: expected a finite number, got 'nan'"),
    ("1,2,0\n3,4,\n", "{path}:2:3: the label is empty"),
    ("a,b,c\n", "{path}: no samples"),
])
def test_a_bad_csv_cell_is_named_by_line_and_column(content, message, tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    code, out, err = run(["train", "--data", path], capsys)
    assert code == 2 and out == ""
    assert err.strip() == f"minigrad train: --data: {message.format(path=path)}"


def test_npz_without_y_and_foreign_checkpoints(tmp_path, capsys):
    np.savez(tmp_path / "x.npz", X=np.zeros((4, 2)))
    code, _, err = run(["train", "--data", tmp_path / "x.npz"], capsys)
    assert code == 2 and "has no array 'y'" in err
    mg.save({"model": {}}, tmp_path / "foreign.npz")
    for command in (["evaluate", tmp_path / "foreign.npz"],
                    ["predict", tmp_path / "foreign.npz", tmp_path / "x.npz"],
                    ["train", "--resume", tmp_path / "foreign.npz"]):
        code, _, err = run(command, capsys)
        assert code == 2 and "not a checkpoint written by minigrad train --save" in err


def _write_idx(path: Path, array: np.ndarray) -> None:
    header = struct.pack(">BBBB", 0, 0, 8, array.ndim) + struct.pack(
        f">{array.ndim}I", *array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def write_tiny_mnist(folder: Path) -> None:
    """MNIST's four IDX files with 60 training and 20 test images of two easy classes."""
    gen = np.random.default_rng(0)
    for prefix, n in (("train", 60), ("t10k", 20)):
        labels = np.arange(n) % 2
        images = gen.integers(0, 60, size=(n, 28, 28))
        images[labels == 1, :14] += 150  # class 1: a bright top half
        _write_idx(folder / f"{prefix}-images-idx3-ubyte", images)
        _write_idx(folder / f"{prefix}-labels-idx1-ubyte", labels)


def test_train_on_an_mnist_folder_uses_its_own_test_files(tmp_path, capsys):
    write_tiny_mnist(tmp_path)
    code, out, err = run(["train", "--data", tmp_path, "--epochs", "3", "--hidden", "8"],
                         capsys)
    assert code == 0, err
    assert "MLP 784-8-2 on MNIST" in out and "60 training, 20 test samples" in out
    assert float(out.splitlines()[-1].split(": ")[1]) == 1.0
    code, same, _ = run(["train", "--data", "mnist", tmp_path, "--epochs", "3", "--hidden", "8"],
                        capsys)
    assert code == 0 and same.splitlines()[-1] == out.splitlines()[-1]  # the same run
    code, _, err = run(["train", "--data", "mnist", tmp_path, "extra"], capsys)
    assert code == 2 and "--data: expected digits, mnist DIR, a folder" in err


# -- never a traceback -----------------------------------------------------------------------


@pytest.mark.parametrize("argv", [
    ["compare", "--set", "adam.lr=" + "-1" * 3000],
    ["compare", "--set", "adam.betas=" + "(" * 3000 + ")" * 3000],
    ["compare", "--set", "x" * 100000 + "=1"],
    ["train", "--hidden", "1," * 20000 + "1"],
    ["train", "--lr", "9" * 100000],
    ["train", "--data", "x" * 5000 + ".csv"],
    ["gradcheck", "--target", ":" * 1000, "--shapes", "3"],
    ["predict", "-" * 100, "x"],
])
def test_absurd_arguments_give_one_line_not_a_traceback(argv):
    result = minigrad(*argv)
    assert result.returncode == 2, result.stderr[-500:]
    assert b"Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) == 1 and len(result.stderr) < 1000
