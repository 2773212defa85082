"""``minigrad train --model cnn``: a small CNN on the 8×8 digits and on MNIST from a folder,
its checkpoints used by ``evaluate``, ``predict`` and ``--resume``, and the combinations that
make no sense refused in one line."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from test_cli_train import write_tiny_mnist

import minigrad as mg
from minigrad import cli, nn, training
from minigrad.data import load_digits

ROOT = Path(__file__).resolve().parent.parent
CNN = ["--model", "cnn", "--channels", "8,16"]  # smaller than the default: quicker


def run(argv, capsys):
    code = cli.main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def accuracy_of(out: str) -> float:
    last = out.splitlines()[-1]
    assert last.startswith(("test accuracy: ", "accuracy: ")), last
    return float(last.split(": ")[1])


def test_the_default_cnn_learns_the_digits_in_two_epochs_in_a_pipe():
    result = subprocess.run([sys.executable, "-m", "minigrad", "train", "--model", "cnn",
                             "--epochs", "2", "--quiet"], capture_output=True, timeout=120,
                            cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stderr == b""
    lines = result.stdout.decode().splitlines()
    assert len(lines) == 1 and accuracy_of(lines[0]) > 0.85  # 0.894; 0.972 after 30 epochs


def test_make_cnn_takes_images_and_halves_them_per_convolution():
    mg.manual_seed(0)
    model = training.make_cnn((1, 28, 28), 10, channels=(4, 6), dropout=0.5)
    kinds = [type(layer).__name__ for layer in model]
    assert kinds == ["Conv2d", "ReLU", "MaxPool2d", "Conv2d", "ReLU", "MaxPool2d", "Flatten",
                     "Dropout", "Linear"]
    assert model[-1].in_features == 6 * 7 * 7  # 28 → 14 → 7
    assert model(mg.zeros(3, 1, 28, 28)).shape == (3, 10)
    with pytest.raises(ValueError, match="2 poolings need images of at least 4x4 pixels, "
                                         "got 2x2"):
        training.make_cnn((1, 2, 2), 10)
    assert training.square_image_shape(64) == (1, 8, 8)
    with pytest.raises(ValueError, match="13 features are not side x side pixels"):
        training.square_image_shape(13)


def test_cnn_pixels_share_one_scale():
    data = training.load_data(training.TrainConfig(model="cnn"))
    mean, std = data.standardizer.mean, data.standardizer.std
    assert mean.shape == (64,) and np.all(mean == mean[0]) and np.all(std == std[0])
    raw = training.split_data(training.TrainConfig()).X_train
    assert mean[0] == pytest.approx(raw.mean()) and std[0] == pytest.approx(raw.std())
    # The MLP keeps a scale per feature.
    assert np.ptp(training.load_data(training.TrainConfig()).standardizer.mean) > 1


def test_checkpoint_evaluate_predict_give_what_train_reported(tmp_path, capsys):
    ckpt = tmp_path / "cnn.npz"
    code, out, err = run(["train", *CNN, "--epochs", "3", "--dropout", "0.1", "--save", ckpt],
                         capsys)
    assert code == 0, err
    assert out.startswith("training a CNN 8x8-conv8-conv16-10 on digits")
    reported = accuracy_of(out)
    assert reported > 0.75  # 0.82 with 8 and 16 channels after 3 epochs
    state = mg.load(ckpt)
    assert state["architecture"] == {"kind": "cnn", "image_shape": [1, 8, 8],
                                     "channels": [8, 16], "classes": 10, "dropout": 0.1}
    assert state["config"]["model"] == "cnn"

    code, out, err = run(["evaluate", ckpt], capsys)
    assert code == 0, err
    assert out.startswith(f"{ckpt}: a CNN 8x8-conv8-conv16-10 trained on digits")
    assert out.splitlines()[-1] == f"test accuracy: {reported:.4f}"

    # predict takes raw pixels, flat or as 8×8 images, and agrees with the model used by hand.
    split = training.split_data(training.TrainConfig())
    images = split.X_test[:20].reshape(20, 8, 8)
    np.savez(tmp_path / "images.npz", X=images)
    code, out, err = run(["predict", ckpt, tmp_path / "images.npz"], capsys)
    assert code == 0, err
    model = training.make_cnn((1, 8, 8), 10, channels=(8, 16), dropout=0.1)
    model.load_state_dict(state["model"])
    model.eval()
    mean, std = state["preprocessing"]["mean"], state["preprocessing"]["std"]
    X = ((split.X_test[:20] - mean) / std).astype(np.float32).reshape(20, 1, 8, 8)
    by_hand = model(mg.tensor(X)).argmax(1).numpy()
    assert out.splitlines() == [split.classes[i] for i in by_hand]
    assert np.mean(by_hand == split.y_test[:20]) > 0.5

    np.savez(tmp_path / "wrong.npz", X=np.zeros((2, 49)))
    code, _, err = run(["predict", ckpt, tmp_path / "wrong.npz"], capsys)
    assert code == 2 and "the model takes 64 features per sample, the data has 49" in err


def test_resume_a_cnn_continues_exactly(tmp_path, capsys):
    options = [*CNN, "--dropout", "0.2", "--batch-size", "100"]
    whole, half, resumed = tmp_path / "whole.npz", tmp_path / "half.npz", tmp_path / "res.npz"
    assert run(["train", *options, "--epochs", "3", "--save", whole], capsys)[0] == 0
    assert run(["train", *options, "--epochs", "1", "--save", half], capsys)[0] == 0
    code, out, err = run(["train", "--resume", half, "--epochs", "3", "--save", resumed],
                         capsys)
    assert code == 0, err
    assert "training a CNN 8x8-conv8-conv16-10" in out and "resuming" in out
    a, b = mg.load(whole), mg.load(resumed)
    assert a["architecture"] == b["architecture"]
    for name, value in a["model"].items():
        assert np.array_equal(value.numpy(), b["model"][name].numpy()), name
    assert np.array_equal(a["history"]["test_accuracy"], b["history"]["test_accuracy"])
    code, _, err = run(["train", "--resume", half, "--channels", "4,4"], capsys)
    assert code == 2 and "--channels cannot be changed when resuming" in err


def test_cnn_on_an_mnist_folder(tmp_path, capsys):
    write_tiny_mnist(tmp_path)  # 28×28: two classes, a bright top half or not
    ckpt = tmp_path / "mnist.npz"
    code, out, err = run(["train", "--data", "mnist", tmp_path, "--model", "cnn", "--channels",
                          "4,4", "--epochs", "3", "--batch-size", "10", "--save", ckpt], capsys)
    assert code == 0, err
    assert "CNN 28x28-conv4-conv4-2 on MNIST" in out and "60 training, 20 test samples" in out
    assert accuracy_of(out) == 1.0
    code, out, err = run(["evaluate", ckpt, "--data", tmp_path], capsys)
    assert code == 0, err
    assert "20 samples" in out and accuracy_of(out) == 1.0


def test_evaluate_goes_in_batches_with_the_same_numbers():
    mg.manual_seed(0)
    model = training.make_cnn((1, 8, 8), 10, channels=(4, 4))
    X, y = load_digits()
    X = (X[:250] / 16).astype(np.float32).reshape(-1, 1, 8, 8)
    whole = training.evaluate(model, X, y[:250], batch_size=250)
    batched = training.evaluate(model, X, y[:250], batch_size=64)  # 64, 64, 64, 58
    assert batched[0] == pytest.approx(whole[0], rel=1e-6) and batched[1] == whole[1]
    with mg.no_grad():
        logits = model(mg.tensor(X))
    assert whole[0] == pytest.approx(nn.functional.cross_entropy(logits, mg.tensor(y[:250]))
                                     .item(), rel=1e-6)


@pytest.mark.parametrize("argv, message", [
    (["--model", "cnn", "--hidden", "32"], "--hidden applies to --model mlp, not --model cnn"),
    (["--channels", "8"], "--channels applies to --model cnn, not --model mlp"),
    (["--model", "rnn"], "--model: invalid choice: 'rnn'"),
    (["--model", "cnn", "--channels", "4,4,4,4"],
     "--model cnn: digits (1,797 samples): the CNN's 4 poolings need images of at least "
     "16x16 pixels, got 8x8"),
    (["--model", "cnn", "--channels", "4,x"], "--channels: expected comma-separated"),
])
def test_bad_cnn_combinations_get_one_line(argv, message, capsys):
    code, out, err = run(["train", *argv], capsys)
    assert code == 2 and out == ""
    assert message in err and len(err.strip().splitlines()) == 1


def test_a_csv_of_13_features_is_not_an_image(tmp_path, capsys):
    gen = np.random.default_rng(0)
    path = tmp_path / "wine.csv"
    np.savetxt(path, np.column_stack([gen.normal(size=(30, 13)), np.arange(30) % 3]),
               delimiter=",")
    code, out, err = run(["train", "--data", path, "--model", "cnn"], capsys)
    assert code == 2 and out == ""
    assert err.strip() == (f"minigrad train: --model cnn: {path} (30 samples, 13 features): the "
                           "CNN takes square images, but 13 features are not side x side "
                           "pixels (64 = 8x8 digits, 784 = 28x28 MNIST)")
