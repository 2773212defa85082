"""DataLoader, TensorDataset, Subset, random_split, train_test_split and standardize."""

import math
from collections import namedtuple

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad.data import (
    DataLoader,
    Dataset,
    Standardizer,
    Subset,
    TensorDataset,
    default_collate,
    random_split,
    standardize,
    train_test_split,
)


def numbered(n, features=3, dtype=np.float32):
    """A dataset whose row i holds the value i everywhere, so a batch tells which samples
    it holds: X[i] == [i, i, i], y[i] == i."""
    X = np.repeat(np.arange(n, dtype=dtype)[:, None], features, axis=1)
    y = np.arange(n, dtype=np.int64)
    return TensorDataset(X, y)


def epoch_order(loader):
    """The sample ids of one epoch, in the order the loader gave them."""
    ids = []
    for X, y in loader:
        assert np.array_equal(X.array[:, 0], y.array)  # rows of X and y stay together
        ids.extend(y.array.tolist())
    return ids


# ---------------------------------------------------------------------------------------
# Number and size of batches
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("n, batch_size", [(10, 3), (10, 5), (10, 1), (10, 10), (10, 16), (1, 4)])
@pytest.mark.parametrize("drop_last", [False, True])
def test_number_and_sizes_of_batches(n, batch_size, drop_last):
    loader = DataLoader(numbered(n), batch_size=batch_size, drop_last=drop_last)
    expected_len = n // batch_size if drop_last else math.ceil(n / batch_size)
    assert len(loader) == expected_len
    sizes = [len(y) for _, y in loader]
    assert len(sizes) == expected_len
    assert all(size == batch_size for size in sizes[:-1])
    if drop_last:
        assert sum(sizes) == (n // batch_size) * batch_size
    else:
        assert sum(sizes) == n
        if sizes:
            assert sizes[-1] == n - (len(sizes) - 1) * batch_size


@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 40), batch_size=st.one_of(st.none(), st.integers(1, 45)),
       shuffle=st.booleans(), drop_last=st.booleans(), seed=st.integers(0, 2**32))
def test_any_loader_gives_len_batches_of_distinct_samples(n, batch_size, shuffle, drop_last,
                                                          seed):
    loader = DataLoader(numbered(n), batch_size=batch_size, shuffle=shuffle,
                        drop_last=drop_last, seed=seed)
    batches = [y.array.tolist() for _, y in loader]
    assert len(batches) == len(loader)
    ids = [i for batch in batches for i in batch]
    assert len(set(ids)) == len(ids) and set(ids) <= set(range(n))
    size = n if batch_size is None else batch_size
    assert all(len(batch) == size for batch in batches[:-1])
    full_only = drop_last and batch_size is not None
    assert len(ids) == (n // size * size if full_only and n else n)
    if not shuffle:
        assert ids == sorted(ids)


def test_unshuffled_order_is_the_dataset_order():
    assert epoch_order(DataLoader(numbered(11), batch_size=4)) == list(range(11))


@pytest.mark.parametrize("batch_size", [1, 4, 7, None])
def test_each_sample_exactly_once_per_shuffled_epoch(batch_size):
    loader = DataLoader(numbered(23), batch_size=batch_size, shuffle=True, seed=0)
    for _ in range(3):
        order = epoch_order(loader)
        assert sorted(order) == list(range(23))
        assert order != list(range(23))  # shuffled (23! orders: equal by chance is impossible)


def test_drop_last_with_shuffle_drops_only_the_remainder():
    loader = DataLoader(numbered(10), batch_size=4, shuffle=True, drop_last=True, seed=1)
    order = epoch_order(loader)
    assert len(order) == 8 and len(set(order)) == 8


def test_empty_dataset_gives_no_batches():
    empty = TensorDataset(np.zeros((0, 2), np.float32), np.zeros(0, np.int64))
    for batch_size in (None, 1, 3):
        loader = DataLoader(empty, batch_size=batch_size, shuffle=True, seed=0)
        assert len(loader) == 0 and list(loader) == []


# ---------------------------------------------------------------------------------------
# The three gradient-descent regimes
# ---------------------------------------------------------------------------------------


def test_full_batch_is_the_whole_dataset_each_epoch():
    data = numbered(37)
    loader = DataLoader(data, batch_size=None)
    assert len(loader) == 1
    for _ in range(2):
        (X, y), = list(loader)
        assert X.shape == (37, 3) and np.array_equal(y.array, np.arange(37))
    shuffled = DataLoader(data, batch_size=None, shuffle=True, seed=0, drop_last=True)
    (X, y), = list(shuffled)
    assert X.shape == (37, 3) and sorted(y.array.tolist()) == list(range(37))


def test_mini_batch_regime():
    loader = DataLoader(numbered(100), batch_size=32, shuffle=True, seed=0)
    assert [len(y) for _, y in loader] == [32, 32, 32, 4]


def test_stochastic_regime_gives_one_sample_per_batch():
    loader = DataLoader(numbered(6), batch_size=1, shuffle=True, seed=0)
    assert len(loader) == 6
    batches = list(loader)
    assert all(X.shape == (1, 3) and y.shape == (1,) for X, y in batches)
    assert sorted(int(y.item()) for _, y in batches) == list(range(6))


# ---------------------------------------------------------------------------------------
# Shuffling: new order every epoch, reproducible with a seed
# ---------------------------------------------------------------------------------------


def test_every_epoch_reshuffles():
    loader = DataLoader(numbered(50), batch_size=8, shuffle=True, seed=3)
    epochs = [epoch_order(loader) for _ in range(4)]
    assert all(epochs[i] != epochs[j] for i in range(4) for j in range(i))


def test_same_seed_same_sequence_of_epochs():
    a = DataLoader(numbered(40), batch_size=8, shuffle=True, seed=7)
    b = DataLoader(numbered(40), batch_size=8, shuffle=True, seed=7)
    c = DataLoader(numbered(40), batch_size=8, shuffle=True, seed=8)
    epochs_a = [epoch_order(a) for _ in range(3)]
    assert epochs_a == [epoch_order(b) for _ in range(3)]
    assert epochs_a != [epoch_order(c) for _ in range(3)]


def test_seeded_order_is_numpys_permutation_from_that_seed():
    # Independent reference: epoch k is the k-th permutation of default_rng(seed).
    reference = np.random.default_rng(5)
    loader = DataLoader(numbered(30), batch_size=7, shuffle=True, seed=5)
    for _ in range(3):
        assert epoch_order(loader) == reference.permutation(30).tolist()


def test_unseeded_order_follows_manual_seed():
    loader = DataLoader(numbered(40), batch_size=8, shuffle=True)
    mg.manual_seed(123)
    first = [epoch_order(loader) for _ in range(2)]
    mg.manual_seed(123)
    again = [epoch_order(loader) for _ in range(2)]
    mg.manual_seed(124)
    other = [epoch_order(loader) for _ in range(2)]
    assert first == again and first != other


def test_order_is_drawn_when_the_epoch_starts():
    loader = DataLoader(numbered(20), batch_size=5, shuffle=True)
    mg.manual_seed(0)
    it = iter(loader)
    mg.manual_seed(99)  # does not change the epoch already started
    order = [i for _, y in it for i in y.array.tolist()]
    assert order == np.random.default_rng(0).permutation(20).tolist()


# ---------------------------------------------------------------------------------------
# TensorDataset: dtypes, vectorized batching, no aliasing
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("x_dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shuffle", [False, True])
def test_dtypes_are_kept(x_dtype, shuffle):
    X = np.random.default_rng(0).standard_normal((10, 2)).astype(x_dtype)
    y = np.arange(10, dtype=np.int64)
    mask = np.arange(10) % 2 == 0
    for batch_size in (None, 3):
        for xb, yb, mb in DataLoader(TensorDataset(X, y, mask), batch_size=batch_size,
                                     shuffle=shuffle, seed=0):
            assert isinstance(xb, mg.Tensor) and xb.dtype == x_dtype
            assert yb.dtype == np.int64 and mb.dtype == np.bool_
            assert np.array_equal(xb.array, X[yb.array])
            assert np.array_equal(mb.array, mask[yb.array])


def test_tensor_dataset_accepts_tensors_and_arrays_and_indexes_rows():
    X = mg.tensor(np.arange(12.0).reshape(6, 2))  # float64 array: stays float64
    y = np.array([0, 1, 0, 1, 1, 0])
    data = TensorDataset(X, y)
    assert len(data) == 6
    x3, y3 = data[3]
    assert isinstance(x3, mg.Tensor) and x3.tolist() == [6.0, 7.0] and y3.item() == 1
    assert isinstance(y3.array, np.ndarray) and y3.shape == () and y3.dtype == y.dtype
    assert data.tensors[0] is X


class CountingArray(np.ndarray):
    """An ndarray that counts how often it is indexed."""

    calls = 0

    def __getitem__(self, index):
        CountingArray.calls += 1
        return np.asarray(self).__getitem__(index)


@pytest.mark.parametrize("shuffle", [False, True])
def test_tensor_dataset_is_batched_with_one_index_per_batch_per_tensor(shuffle, monkeypatch):
    X = np.arange(200, dtype=np.float32).reshape(100, 2).view(CountingArray)
    y = np.arange(100, dtype=np.int64).view(CountingArray)
    data = TensorDataset(X, y)

    def sample_by_sample(self, index):
        raise AssertionError("the loader read a TensorDataset sample by sample")

    monkeypatch.setattr(TensorDataset, "__getitem__", sample_by_sample)
    loader = DataLoader(data, batch_size=16, shuffle=shuffle, seed=0)
    CountingArray.calls = 0
    batches = list(loader)
    assert CountingArray.calls == 2 * len(loader) == 2 * len(batches)
    seen = np.concatenate([yb.array for _, yb in batches])
    assert sorted(seen.tolist()) == list(range(100))


def test_subset_of_tensor_dataset_is_batched_with_one_index_too(monkeypatch):
    data = numbered(50)
    monkeypatch.setattr(TensorDataset, "__getitem__", None)  # any per-sample read would fail
    inner = Subset(data, np.arange(10, 50))
    subset = Subset(inner, [5, 0, 39, 7])  # rows 15, 10, 49, 17 of data
    assert epoch_order(DataLoader(subset, batch_size=3)) == [15, 10, 49, 17]
    shuffled = epoch_order(DataLoader(subset, batch_size=3, shuffle=True, seed=0))
    assert sorted(shuffled) == [10, 15, 17, 49]


def test_batches_are_copies_not_views_of_the_dataset():
    data = numbered(8)
    for shuffle in (False, True):
        for X, y in DataLoader(data, batch_size=None, shuffle=shuffle, seed=0):
            X.array[:] = -1
            y.array[:] = -1
    assert np.array_equal(data.tensors[1].array, np.arange(8))
    assert (data.tensors[0].array >= 0).all()


def test_gradient_reaches_a_dataset_tensor_that_requires_grad():
    X = mg.tensor(np.zeros((5, 2)), requires_grad=True)
    loader = DataLoader(TensorDataset(X, np.arange(5)), batch_size=2)
    first_x, _ = next(iter(loader))
    (first_x * 3.0).sum().backward()
    expected = np.zeros((5, 2))
    expected[:2] = 3.0
    assert np.array_equal(X.grad.array, expected)


# ---------------------------------------------------------------------------------------
# Other datasets: sample by sample through collate_fn
# ---------------------------------------------------------------------------------------


class Squares(Dataset):
    """Sample i: (features [i, i²] as float64, label i % 3 as a Python int, weight as float)."""

    def __init__(self, n):
        self.n = n
        self.reads = []

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        self.reads.append(i)
        return np.array([i, i * i], dtype=np.float64), i % 3, 0.5 * i


def test_generic_dataset_with_default_collate():
    data = Squares(7)
    batches = list(DataLoader(data, batch_size=3))
    assert len(batches) == 3 and data.reads == list(range(7))
    X, label, weight = batches[0]
    assert isinstance(batches[0], tuple)
    assert X.dtype == np.float64 and X.tolist() == [[0, 0], [1, 1], [2, 4]]
    assert label.dtype == np.int64 and label.tolist() == [0, 1, 2]
    assert weight.dtype == np.float32 and weight.tolist() == [0.0, 0.5, 1.0]
    assert batches[2][0].shape == (1, 2)


def test_generic_dataset_shuffled_reads_each_sample_once_per_epoch():
    data = Squares(9)
    loader = DataLoader(data, batch_size=4, shuffle=True, seed=0)
    for _ in range(2):
        data.reads.clear()
        labels = [x for X, _, _ in loader for x in X.array[:, 0].tolist()]
        assert sorted(data.reads) == list(range(9))
        assert labels == [float(i) for i in data.reads]


def test_custom_collate_fn_gets_the_list_of_samples():
    received = []

    def collate(samples):
        received.append(samples)
        return len(samples)

    assert list(DataLoader(Squares(5), batch_size=2, collate_fn=collate)) == [2, 2, 1]
    assert [len(s) for s in received] == [2, 2, 1]
    assert received[0][1][1] == 1  # the label of sample 1, untouched
    # honoured for a TensorDataset too (then it is read sample by sample)
    sizes = list(DataLoader(numbered(5), batch_size=2, collate_fn=collate))
    assert sizes == [2, 2, 1] and isinstance(received[-1][0][0], mg.Tensor)


def test_default_collate_keeps_the_structure():
    Pair = namedtuple("Pair", "image label")
    batch = default_collate([Pair(np.ones((2, 2), np.float32), 1), Pair(np.zeros((2, 2),
                                                                                  np.float32), 0)])
    assert isinstance(batch, Pair) and batch.image.shape == (2, 2, 2)
    assert batch.label.tolist() == [1, 0]
    as_dict = default_collate([{"x": mg.tensor([1.0]), "flag": True},
                               {"x": mg.tensor([2.0]), "flag": False}])
    assert as_dict["x"].tolist() == [[1.0], [2.0]] and as_dict["flag"].dtype == np.bool_
    as_list = default_collate([[1, 2.5], [3, 4.5]])
    assert isinstance(as_list, list) and as_list[0].tolist() == [1, 3]


def test_default_collate_errors():
    with pytest.raises(ValueError, match=r"different shapes.*\(2,\).*\(3,\)"):
        default_collate([np.zeros(2), np.zeros(3)])
    with pytest.raises(TypeError, match="cannot batch samples of type str"):
        default_collate(["a", "b"])
    with pytest.raises(ValueError, match="different numbers of fields"):
        default_collate([(1, 2), (1, 2, 3)])
    with pytest.raises(ValueError, match="no samples"):
        default_collate([])


# ---------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("batch_size", [0, -3])
def test_non_positive_batch_size_is_refused(batch_size):
    with pytest.raises(ValueError, match=f"batch_size.*got {batch_size}"):
        DataLoader(numbered(4), batch_size=batch_size)


@pytest.mark.parametrize("batch_size", [2.0, "8", True])
def test_non_integer_batch_size_is_refused(batch_size):
    with pytest.raises(TypeError, match="batch_size"):
        DataLoader(numbered(4), batch_size=batch_size)


@pytest.mark.parametrize("not_a_dataset", [np.zeros((4, 2)), [(1, 2), (3, 4)], mg.zeros(4)])
def test_non_dataset_is_refused(not_a_dataset):
    with pytest.raises(TypeError, match="dataset must be a minigrad.data.Dataset"):
        DataLoader(not_a_dataset)


@pytest.mark.parametrize("seed", [-1, 1.5, "0"])
def test_bad_seed_is_refused(seed):
    with pytest.raises(ValueError, match="seed"):
        DataLoader(numbered(4), shuffle=True, seed=seed)


def test_bad_collate_fn_is_refused():
    with pytest.raises(TypeError, match="collate_fn"):
        DataLoader(numbered(4), collate_fn="stack")


def test_tensor_dataset_errors_name_the_lengths():
    with pytest.raises(ValueError, match=r"same first dimension.*\[5, 4, 5\]"):
        TensorDataset(np.zeros((5, 2)), np.zeros(4), np.zeros(5))
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()
    with pytest.raises(ValueError, match="argument 1 is a scalar"):
        TensorDataset(np.zeros(3), np.float32(1.0))


def test_subset_errors():
    with pytest.raises(IndexError, match=r"\[0, 4\).*\[4, -1\]"):
        Subset(numbered(4), [0, 4, -1])
    with pytest.raises(TypeError, match="integers"):
        Subset(numbered(4), [0.5])
    with pytest.raises(TypeError, match="Dataset"):
        Subset([1, 2, 3], [0])


# ---------------------------------------------------------------------------------------
# random_split
# ---------------------------------------------------------------------------------------


def split_ids(parts):
    return [sorted(int(part[i][1].item()) for i in range(len(part))) for part in parts]


def test_random_split_with_counts_is_disjoint_and_complete():
    parts = random_split(numbered(20), [12, 5, 3], seed=0)
    assert [len(p) for p in parts] == [12, 5, 3]
    ids = split_ids(parts)
    assert sorted(i for part in ids for i in part) == list(range(20))
    assert ids[0] != list(range(12))  # random, not the first 12


@pytest.mark.parametrize("n, fractions, expected", [
    (10, [0.33, 0.33, 0.34], [4, 3, 3]),   # floors 3, 3, 3; one left over goes to the first
    (10, [0.5, 0.5], [5, 5]),
    (7, [0.1, 0.2, 0.7], [1, 2, 4]),       # floors 0, 1, 4; two left over: first, second
    (1797, [0.8, 0.2], [1438, 359]),
])
def test_random_split_rounds_fractions_as_pytorch(n, fractions, expected):
    assert [len(p) for p in random_split(numbered(n), fractions, seed=0)] == expected


@pytest.mark.filterwarnings("ignore:Length of split")  # torch warns about empty splits
def test_random_split_fraction_rounding_matches_torch():
    torch = pytest.importorskip("torch")
    for n in (1, 7, 10, 33, 101):
        for fractions in ([0.5, 0.5], [0.3, 0.3, 0.4], [0.1, 0.2, 0.3, 0.4], [1 / 3] * 3):
            ours = [len(p) for p in random_split(numbered(n), fractions, seed=0)]
            theirs = [len(p) for p in torch.utils.data.random_split(range(n), fractions)]
            assert ours == theirs, (n, fractions)


def test_random_split_is_seeded():
    a = split_ids(random_split(numbered(30), [0.5, 0.5], seed=4))
    b = split_ids(random_split(numbered(30), [0.5, 0.5], seed=4))
    c = split_ids(random_split(numbered(30), [0.5, 0.5], seed=5))
    assert a == b and a != c
    mg.manual_seed(2)
    d = split_ids(random_split(numbered(30), [15, 15]))
    mg.manual_seed(2)
    assert d == split_ids(random_split(numbered(30), [15, 15]))


def test_random_split_parts_work_in_a_loader():
    train, _ = random_split(numbered(30), [20, 10], seed=0)
    order = epoch_order(DataLoader(train, batch_size=6, shuffle=True, seed=0))
    assert sorted(order) == split_ids([train])[0]


def test_random_split_errors_name_the_lengths():
    with pytest.raises(ValueError, match=r"\[5, 4\] add up to 9.*10 samples"):
        random_split(numbered(10), [5, 4])
    with pytest.raises(ValueError, match=r"\[0.5, 0.4\].*add up to 1"):
        random_split(numbered(10), [0.5, 0.4])
    with pytest.raises(ValueError, match="negative"):
        random_split(numbered(10), [12, -2])
    with pytest.raises(ValueError, match="empty"):
        random_split(numbered(10), [])


# ---------------------------------------------------------------------------------------
# train_test_split
# ---------------------------------------------------------------------------------------


def test_train_test_split_keeps_rows_together_and_covers_everything():
    X = np.arange(40, dtype=np.float32).reshape(20, 2)
    y = np.arange(20)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, seed=0)
    assert X_train.shape == (15, 2) and X_test.shape == (5, 2) and len(y_test) == 5
    assert np.array_equal(X_train[:, 0], 2 * y_train) and np.array_equal(X_test[:, 0], 2 * y_test)
    assert sorted(np.concatenate([y_train, y_test]).tolist()) == list(range(20))
    assert X_train.dtype == np.float32 and y_train.dtype == y.dtype


def test_train_test_split_sizes():
    y = np.arange(10)
    assert len(train_test_split(y, test_size=0.25, seed=0)[1]) == 3  # ceil(2.5), as sklearn
    assert len(train_test_split(y, test_size=4, seed=0)[1]) == 4
    assert len(train_test_split(y, seed=0)[1]) == 3


def test_stratified_split_is_exact_per_class():
    y = np.repeat([0, 1, 2], [40, 80, 120])
    X = np.arange(240)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y, seed=0)
    assert np.bincount(y_test).tolist() == [10, 20, 30]
    assert np.bincount(y_train).tolist() == [30, 60, 90]
    assert np.array_equal(y[X_test], y_test)
    assert not np.array_equal(y_test, np.sort(y_test))  # not grouped by class


def test_stratified_split_of_uneven_classes_rounds_to_the_nearest():
    y = np.repeat(np.arange(10), [178, 182, 177, 183, 181, 182, 181, 179, 174, 180])
    _, y_test = train_test_split(y, test_size=0.25, stratify=y, seed=1)
    test_counts = np.bincount(y_test, minlength=10)
    exact = 450 * np.bincount(y) / len(y)
    assert test_counts.sum() == 450
    assert np.all(np.abs(test_counts - exact) < 1)
    # the classes that get the extra sample are those with the largest fractional parts
    floors = np.floor(exact)
    extra = np.flatnonzero(test_counts > floors)
    others = np.flatnonzero(test_counts == floors)
    assert (exact - floors)[extra].min() >= (exact - floors)[others].max()


def test_train_test_split_is_seeded_and_keeps_tensors():
    y = np.arange(30) % 3
    a = train_test_split(y, stratify=y, seed=3)
    b = train_test_split(y, stratify=y, seed=3)
    c = train_test_split(y, stratify=y, seed=4)
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    x = np.arange(30)
    assert not np.array_equal(train_test_split(x, seed=3)[1], train_test_split(x, seed=4)[1])
    assert len(c) == 2
    X_train, X_test = train_test_split(mg.tensor(np.arange(30.0)), seed=0)
    assert isinstance(X_train, mg.Tensor) and X_test.dtype == np.float64


def test_train_test_split_errors():
    with pytest.raises(ValueError, match=r"same length.*\[10, 9\]"):
        train_test_split(np.zeros(10), np.zeros(9))
    with pytest.raises(ValueError, match="test_size"):
        train_test_split(np.zeros(10), test_size=1.5)
    with pytest.raises(ValueError, match="test_size=10"):
        train_test_split(np.zeros(10), test_size=10)
    with pytest.raises(ValueError, match=r"stratify.*\(10,\).*\(9,\)"):
        train_test_split(np.zeros(10), stratify=np.zeros(9))
    with pytest.raises(ValueError, match="at least one array"):
        train_test_split()


# ---------------------------------------------------------------------------------------
# standardize / Standardizer
# ---------------------------------------------------------------------------------------


def test_standardize_uses_training_statistics_for_everything():
    rng = np.random.default_rng(0)
    train = rng.normal(5.0, 3.0, size=(200, 4)).astype(np.float32)
    test = rng.normal(5.0, 3.0, size=(50, 4)).astype(np.float32)
    train_z, test_z = standardize(train, test)
    mean = train.astype(np.float64).mean(axis=0)
    std = np.sqrt(((train.astype(np.float64) - mean) ** 2).mean(axis=0))
    assert train_z.dtype == np.float32 and test_z.dtype == np.float32
    np.testing.assert_allclose(test_z, (test - mean) / std, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(train_z.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(train_z.std(axis=0), 1.0, atol=1e-5)


def test_constant_features_become_zero_not_nan():
    train = np.array([[1.0, 7.0], [3.0, 7.0], [5.0, 7.0]])
    scaler = Standardizer().fit(train)
    z = scaler.transform(np.array([[3.0, 7.0], [3.0, 9.0]]))
    assert np.isfinite(z).all()
    assert z[:, 1].tolist() == [0.0, 2.0]  # centred only
    np.testing.assert_allclose(scaler.inverse_transform(z), [[3.0, 7.0], [3.0, 9.0]])


def test_standardizer_with_tensors_and_integers():
    scaler = Standardizer()
    z = scaler.fit_transform(mg.tensor(np.array([[0.0], [2.0]])))
    assert isinstance(z, mg.Tensor) and z.dtype == np.float64 and z.tolist() == [[-1.0], [1.0]]
    as_float = Standardizer().fit_transform(np.array([[0], [2], [4]]))
    assert as_float.dtype == np.float32


def test_standardizer_errors():
    with pytest.raises(RuntimeError, match="fit"):
        Standardizer().transform(np.zeros((2, 2)))
    scaler = Standardizer().fit(np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"\(5,\).*fitted on samples of shape \(4,\)"):
        scaler.transform(np.zeros((2, 5)))
