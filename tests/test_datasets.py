"""minigrad.data.datasets: the generators, the shipped digits data and the MNIST reader."""

import gzip
import hashlib
import struct
from importlib import resources

import numpy as np
import pytest

import minigrad as mg
from minigrad.data import datasets
from minigrad.data.datasets import (
    load_digits,
    load_mnist,
    make_blobs,
    make_moons,
    make_regression,
    make_spirals,
)

CLASSIFIERS = [
    (make_moons, 2),
    (lambda n, **kw: make_spirals(n, n_classes=4, **kw), 4),
    (lambda n, **kw: make_blobs(n, centers=5, **kw), 5),
]


# ---------------------------------------------------------------------------------------
# Generators: common contract
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("make, n_classes", CLASSIFIERS)
@pytest.mark.parametrize("n_samples", [101, 40])
def test_classification_shapes_dtypes_and_balanced_classes(make, n_classes, n_samples):
    X, y = make(n_samples, noise=0.1, seed=0)
    assert X.shape == (n_samples, 2) and X.dtype == np.float32
    assert y.shape == (n_samples,) and y.dtype == np.int64
    counts = np.bincount(y, minlength=n_classes)
    assert len(counts) == n_classes and counts.sum() == n_samples
    assert counts.max() - counts.min() <= 1  # n_samples is shared out evenly
    assert y[: n_samples // 2].min() != y[: n_samples // 2].max()  # shuffled, not in blocks


@pytest.mark.parametrize("make", [c[0] for c in CLASSIFIERS] + [make_regression])
def test_same_seed_same_data_and_noise_changes_it(make):
    X1, y1 = make(60, noise=0.2, seed=1)
    X2, y2 = make(60, noise=0.2, seed=1)
    X3, _ = make(60, noise=0.2, seed=2)
    assert np.array_equal(X1, X2) and np.array_equal(y1, y2)
    assert not np.array_equal(X1, X3)
    X_more, y_more = make(60, noise=0.5, seed=1)
    if make is make_regression:
        assert np.array_equal(X1, X_more) and not np.array_equal(y1, y_more)
    else:  # the same clean points, moved by more noise
        assert np.array_equal(y1, y_more) and not np.array_equal(X1, X_more)


@pytest.mark.parametrize("make", [c[0] for c in CLASSIFIERS] + [make_regression])
def test_unseeded_generators_follow_manual_seed(make):
    mg.manual_seed(11)
    X1, y1 = make(30, noise=0.1)
    mg.manual_seed(11)
    X2, y2 = make(30, noise=0.1)
    assert np.array_equal(X1, X2) and np.array_equal(y1, y2)


@pytest.mark.parametrize("make", [make_moons, make_spirals, make_blobs, make_regression])
def test_generator_argument_errors(make):
    name = make.__name__
    with pytest.raises(ValueError, match=f"{name}: n_samples.*got 0"):
        make(0)
    with pytest.raises(ValueError, match=f"{name}: n_samples"):
        make(2.5)
    with pytest.raises(ValueError, match=f"{name}: noise.*got -0.1"):
        make(10, noise=-0.1)
    with pytest.raises(ValueError, match="seed"):
        make(10, seed=-1)


# ---------------------------------------------------------------------------------------
# Generators: geometry of the clean data
# ---------------------------------------------------------------------------------------


def test_moons_lie_on_two_half_circles():
    X, y = make_moons(201, noise=0.0, seed=0)
    X = X.astype(np.float64)
    upper, lower = X[y == 0], X[y == 1]
    assert len(upper) == 101 and len(lower) == 100
    np.testing.assert_allclose(np.hypot(*upper.T), 1.0, atol=1e-6)
    assert (upper[:, 1] >= -1e-6).all()
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1.0, lower[:, 1] - 0.5), 1.0, atol=1e-6)
    assert (lower[:, 1] <= 0.5 + 1e-6).all()
    # the ends of each arc are there: (1, 0) and (-1, 0); (0, 0.5) and (2, 0.5)
    for point, part in [((1, 0), upper), ((-1, 0), upper), ((0, 0.5), lower), ((2, 0.5), lower)]:
        assert np.min(np.hypot(*(part - point).T)) < 1e-6


def test_spiral_arms_follow_their_equation():
    n_classes, turns = 3, 1.5
    X, y = make_spirals(300, n_classes=n_classes, noise=0.0, seed=0, turns=turns)
    X = X.astype(np.float64)
    radius = np.hypot(X[:, 0], X[:, 1])
    assert radius.max() == pytest.approx(1.0, abs=1e-6) and radius.min() < 1e-6
    far = radius > 0.05  # the angle of a point at the origin is undefined
    expected_angle = 2 * np.pi * (y[far] / n_classes + turns * radius[far])
    error = np.angle(np.exp(1j * (np.arctan2(X[far, 1], X[far, 0]) - expected_angle)))
    assert np.abs(error).max() < 1e-4


def test_blobs_are_centred_on_their_centers():
    centers = np.array([[0.0, 0.0, 0.0], [10.0, -5.0, 2.0]])
    X, y = make_blobs(4000, centers=centers, noise=0.5, seed=0)
    assert X.shape == (4000, 3)
    for c in range(2):
        np.testing.assert_allclose(X[y == c].mean(axis=0), centers[c], atol=0.05)
        np.testing.assert_allclose(X[y == c].std(axis=0), 0.5, rtol=0.05)
    X0, y0 = make_blobs(10, centers=centers, noise=0.0, seed=0)
    assert np.array_equal(X0, centers[y0].astype(np.float32))


def test_random_blob_centers_are_in_the_box():
    X, y = make_blobs(50, centers=4, n_features=3, noise=0.0, seed=0, center_box=(2.0, 3.0))
    assert X.shape == (50, 3) and ((X >= 2.0) & (X <= 3.0)).all()
    assert len(np.unique(X, axis=0)) == 4
    with pytest.raises(ValueError, match="centers"):
        make_blobs(10, centers=np.zeros(3))


def test_regression_targets_are_linear_in_the_features():
    X, y, w = make_regression(200, n_features=5, n_informative=3, bias=2.0, seed=0, coef=True)
    assert X.shape == (200, 5) and X.dtype == np.float32 and y.dtype == np.float32
    assert y.shape == (200,) and w.shape == (5,)
    assert (w[3:] == 0).all() and ((w[:3] > 0) & (w[:3] < 100)).all()
    np.testing.assert_allclose(y, X.astype(np.float64) @ w + 2.0, rtol=1e-4, atol=1e-3)
    Xn, yn, wn = make_regression(5000, n_features=2, noise=3.0, seed=1, coef=True)
    residual = yn - Xn.astype(np.float64) @ wn
    assert residual.std() == pytest.approx(3.0, rel=0.05)
    with pytest.raises(ValueError, match="n_informative=3 is more than n_features=2"):
        make_regression(10, n_features=2, n_informative=3)


# ---------------------------------------------------------------------------------------
# The shipped digits
# ---------------------------------------------------------------------------------------

# Reference values computed from scikit-learn 1.9.1's copy (sklearn.datasets.load_digits),
# independently of minigrad's file.
DIGITS_CLASS_COUNTS = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
DIGITS_PIXEL_SUM = 561718
DIGITS_X_SHA256 = "8f26b2bd9d135c256808f68f14fdabddde6d9c7f869ae419704b051f0f14b3b3"  # uint8
DIGITS_Y_SHA256 = "8ba4f891220f5e4c9c819638d1602d74b83618f167043c6da52a2a247841ddf0"  # uint8
DIGITS_FIRST_IMAGE = [
    0, 0, 5, 13, 9, 1, 0, 0,
    0, 0, 13, 15, 10, 15, 5, 0,
    0, 3, 15, 2, 0, 11, 8, 0,
    0, 4, 12, 0, 0, 8, 8, 0,
    0, 5, 8, 0, 0, 9, 8, 0,
    0, 4, 11, 0, 1, 12, 7, 0,
    0, 2, 14, 5, 10, 12, 0, 0,
    0, 0, 6, 13, 10, 0, 0, 0,
]


def test_digits_shape_dtype_and_values():
    X, y = load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int64
    assert X.min() == 0 and X.max() == 16 and (X == np.round(X)).all()
    assert np.bincount(y).tolist() == DIGITS_CLASS_COUNTS
    assert y[:10].tolist() == list(range(10))


def test_digits_match_the_reference_checksums():
    X, y = load_digits()
    assert int(X.astype(np.int64).sum()) == DIGITS_PIXEL_SUM
    assert hashlib.sha256(X.astype(np.uint8).tobytes()).hexdigest() == DIGITS_X_SHA256
    assert hashlib.sha256(y.astype(np.uint8).tobytes()).hexdigest() == DIGITS_Y_SHA256
    assert X[0].astype(int).tolist() == DIGITS_FIRST_IMAGE  # a zero, drawn in 8x8


def test_digits_are_fresh_arrays_and_ship_with_their_licence():
    X, _ = load_digits()
    X[:] = -1
    assert load_digits()[0].min() == 0
    licence = resources.files("minigrad.data").joinpath("DIGITS_LICENSE.txt").read_text()
    assert "CC BY 4.0" in licence and "Alpaydin" in licence and "Kaynak" in licence
    assert "CC BY 4.0" in datasets.load_digits.__doc__


# ---------------------------------------------------------------------------------------
# MNIST IDX reader, on small files written here following the IDX format
# ---------------------------------------------------------------------------------------


def idx_bytes(array):
    """An unsigned-byte IDX file: 0x00 0x00 0x08 ndim, the sizes as big-endian uint32, data."""
    array = np.asarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


def write(path, content, gz=False):
    if gz:
        path = path.with_name(path.name + ".gz")
        content = gzip.compress(content)
    path.write_bytes(content)
    return path


def small_mnist(n, seed):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8), rng.integers(0, 10, size=n)


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("train", [True, False])
def test_load_mnist_reads_idx_files(tmp_path, gz, train):
    prefix = "train" if train else "t10k"
    images, labels = small_mnist(7, seed=int(train))
    write(tmp_path / f"{prefix}-images-idx3-ubyte", idx_bytes(images), gz)
    write(tmp_path / f"{prefix}-labels-idx1-ubyte", idx_bytes(labels), gz)
    X, y = load_mnist(tmp_path, train=train)
    assert X.dtype == np.uint8 and X.shape == (7, 28, 28) and np.array_equal(X, images)
    assert y.dtype == np.int64 and np.array_equal(y, labels)
    X[0, 0, 0] = 1  # writable


def test_load_mnist_byte_layout_is_row_major(tmp_path):
    raw = bytes([0, 0, 8, 3]) + struct.pack(">3I", 1, 28, 28) + bytes(range(256)) * 3 + bytes(16)
    (tmp_path / "train-images-idx3-ubyte").write_bytes(raw)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 1, 9]))
    X, y = load_mnist(str(tmp_path))
    assert X[0, 0, :3].tolist() == [0, 1, 2] and X[0, 1, 0] == 28 and X[0, 9, 4] == 0
    assert y.tolist() == [9]


def test_load_mnist_finds_other_usual_layouts(tmp_path):
    images, labels = small_mnist(3, seed=0)
    raw = tmp_path / "MNIST" / "raw"  # what torchvision downloads to
    raw.mkdir(parents=True)
    write(raw / "t10k-images-idx3-ubyte", idx_bytes(images), gz=True)
    write(raw / "t10k-labels-idx1-ubyte", idx_bytes(labels))
    assert np.array_equal(load_mnist(tmp_path, train=False)[0], images)
    dotted = tmp_path / "dotted"  # the train-images.idx3-ubyte spelling
    dotted.mkdir()
    write(dotted / "train-images.idx3-ubyte", idx_bytes(images))
    write(dotted / "train-labels.idx1-ubyte", idx_bytes(labels))
    assert np.array_equal(load_mnist(dotted)[1], labels)


def test_load_mnist_missing_folder_or_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a folder"):
        load_mnist(tmp_path / "nowhere")
    images, labels = small_mnist(3, seed=0)
    write(tmp_path / "train-images-idx3-ubyte", idx_bytes(images))
    with pytest.raises(FileNotFoundError) as error:
        load_mnist(tmp_path)
    message = str(error.value)
    assert str(tmp_path) in message and "labels" in message
    assert "train-labels-idx1-ubyte" in message and "train-labels-idx1-ubyte.gz" in message
    with pytest.raises(FileNotFoundError, match="t10k-images-idx3-ubyte"):
        load_mnist(tmp_path, train=False)


@pytest.mark.parametrize("gz", [False, True])
def test_load_mnist_bad_magic_number(tmp_path, gz):
    images, labels = small_mnist(3, seed=0)
    # the label file where the image file should be: a 1-D file, magic 0x00000801
    write(tmp_path / "train-images-idx3-ubyte", idx_bytes(labels), gz)
    write(tmp_path / "train-labels-idx1-ubyte", idx_bytes(labels), gz)
    with pytest.raises(ValueError, match=r"bad magic number 0x00000801 .*train-images.*"
                                         r"expected 0x00000803"):
        load_mnist(tmp_path)
    write(tmp_path / "train-images-idx3-ubyte", b"GIF89a" + bytes(100), gz)
    with pytest.raises(ValueError, match="bad magic number 0x47494638"):
        load_mnist(tmp_path)


@pytest.mark.parametrize("gz", [False, True])
def test_load_mnist_truncated_file(tmp_path, gz):
    images, labels = small_mnist(4, seed=0)
    write(tmp_path / "train-images-idx3-ubyte", idx_bytes(images)[:-10], gz)
    write(tmp_path / "train-labels-idx1-ubyte", idx_bytes(labels), gz)
    with pytest.raises(ValueError, match=r"train-images.* is truncated: .*\(4, 28, 28\), 3136 "
                                         r"values, but 3126 bytes"):
        load_mnist(tmp_path)
    write(tmp_path / "train-images-idx3-ubyte", idx_bytes(images)[:10], gz)
    with pytest.raises(ValueError, match="truncated: 10 bytes, shorter than its 16-byte header"):
        load_mnist(tmp_path)


def test_load_mnist_truncated_gzip_stream(tmp_path):
    images, labels = small_mnist(4, seed=0)
    packed = gzip.compress(idx_bytes(images))
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(packed[: len(packed) // 2])
    write(tmp_path / "train-labels-idx1-ubyte", idx_bytes(labels))
    with pytest.raises(ValueError, match="cannot decompress .*train-images-idx3-ubyte.gz"):
        load_mnist(tmp_path)


def test_load_mnist_extra_bytes(tmp_path):
    images, labels = small_mnist(2, seed=0)
    write(tmp_path / "train-images-idx3-ubyte", idx_bytes(images))
    write(tmp_path / "train-labels-idx1-ubyte", idx_bytes(labels) + b"\x00")
    with pytest.raises(ValueError, match=r"train-labels.* has bytes left over: .*\(2,\), 2 "
                                         r"values, but 3 bytes"):
        load_mnist(tmp_path)


def test_load_mnist_image_and_label_counts_must_agree(tmp_path):
    images, labels = small_mnist(5, seed=0)
    write(tmp_path / "train-images-idx3-ubyte", idx_bytes(images))
    write(tmp_path / "train-labels-idx1-ubyte", idx_bytes(labels[:4]))
    with pytest.raises(ValueError, match="has 5 images but .*train-labels-idx1-ubyte has 4 "
                                         "labels"):
        load_mnist(tmp_path)
