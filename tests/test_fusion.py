"""Kernel fusion in captured steps (``minigrad/_fusion.py``): each loop gives the numbers of
the NumPy kernels it replaces, bit for bit (signed zeros, infinities and NaN included), and
a run is fused only where nothing else reads the arrays it no longer writes. (That compiled
steps with fused lines give eager numbers is in ``tests/test_compile.py``.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from minigrad import _fusion, _numba

needs_numba = pytest.mark.skipif(not _numba.available(),
                                 reason='numba is not installed (pip install "minigrad[fast]")')

SPECIAL = np.array([0.0, -0.0, 1.5, -2.0, np.inf, -np.inf, np.nan, 1e-40, -1e-40],
                   np.float32)


def special_grid(rows: int, columns: int, seed: int) -> np.ndarray:
    """Random values with every special value in each column position somewhere."""
    rng = np.random.default_rng(seed)
    values = rng.standard_normal((rows, columns)).astype(np.float32)
    values.flat[rng.choice(values.size, 3 * SPECIAL.size, replace=False)] = np.tile(SPECIAL, 3)
    return values


def assert_same_bits(ours: np.ndarray, theirs: np.ndarray) -> None:
    """Equal as float32 bit patterns (so −0 ≠ +0), NaN against NaN whatever its payload."""
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    both_nan = np.isnan(ours) & np.isnan(theirs)
    np.testing.assert_array_equal(np.where(both_nan, 0, ours.view(np.uint32)),
                                  np.where(both_nan, 0, theirs.view(np.uint32)))


LOOPS = {"python": (_fusion.relu_backward_loop, _fusion.bias_relu_loop),
         "compiled": (_fusion.relu_backward, _fusion.bias_relu)}


@pytest.mark.parametrize("kind", ["python", pytest.param("compiled", marks=needs_numba)])
def test_relu_backward_loop_gives_the_kernels_bits(kind):
    relu_backward, _ = LOOPS[kind]
    x, grad = special_grid(12, 9, seed=0), special_grid(12, 9, seed=1)
    out = np.empty_like(grad)
    with np.errstate(invalid="ignore"):  # (inf · 0: NaN, as intended)
        expected = grad * ~(x <= 0)  # ReLU.backward's kernels
        relu_backward(grad, x, out)
    assert_same_bits(out, expected)


@pytest.mark.parametrize("kind", ["python", pytest.param("compiled", marks=needs_numba)])
def test_bias_relu_loop_gives_the_kernels_bits(kind):
    _, bias_relu = LOOPS[kind]
    h, bias = special_grid(12, 9, seed=2), SPECIAL.copy()
    expected_h = h + bias
    expected_out = np.maximum(expected_h, 0)  # Linear's bias, then ReLU.forward's kernel
    out = np.empty_like(h)
    bias_relu(h, bias, out)
    assert_same_bits(h, expected_h)
    assert_same_bits(out, expected_out)


def relu_backward_entries(x, grad, out):
    mask, keep = np.empty(x.shape, bool), np.empty(x.shape, bool)
    return [(np.less_equal, (x, 0, mask), {}), (np.invert, (mask, keep), {}),
            (np.multiply, (grad, keep, out), {})], mask


@needs_numba
def test_fuse_replaces_the_runs_it_knows():
    x, grad, out = (np.ones((4, 3), np.float32) for _ in range(3))
    h, bias, r = np.ones((4, 3), np.float32), np.ones(3, np.float32), np.empty((4, 3), np.float32)
    entries, _ = relu_backward_entries(x, grad, out)
    entries = [(np.add, (h, bias, h), {}), (np.maximum, (h, 0), {"out": (r,)})] + entries
    fused = _fusion.fuse(entries, outputs=("tensor", out))
    assert [function for function, _, _ in fused] == [_fusion.bias_relu, _fusion.relu_backward]


@needs_numba
def test_fuse_keeps_kernels_whose_arrays_are_read_elsewhere_or_laid_out_otherwise():
    x, grad, out = (np.ones((4, 3), np.float32) for _ in range(3))
    entries, mask = relu_backward_entries(x, grad, out)
    # The mask is read again later: it must still be written.
    read_again = entries + [(np.logical_not, (mask, np.empty_like(mask)), {})]
    assert _fusion.fuse(read_again, outputs=None) == read_again
    # The mask is what the step returns.
    assert _fusion.fuse(entries, outputs=("tensor", mask)) == entries
    # A transposed operand: the loop reads its arrays flat, so the kernels stay.
    transposed, _ = relu_backward_entries(np.ones((3, 4), np.float32).T, grad, out)
    assert _fusion.fuse(transposed, outputs=None) == transposed
    # A where= argument changes what the kernel does: not a run the loop does.
    h, bias, r = np.ones((4, 3), np.float32), np.ones(3, np.float32), np.empty((4, 3), np.float32)
    masked = [(np.add, (h, bias, h), {}),
              (np.maximum, (h, 0), {"out": (r,), "where": np.ones((4, 3), bool)})]
    assert _fusion.fuse(masked, outputs=None) == masked


def test_without_numba_nothing_is_fused():
    x, grad, out = (np.ones((4, 3), np.float32) for _ in range(3))
    entries, _ = relu_backward_entries(x, grad, out)
    with _numba.switched_off():
        assert _fusion.fuse(entries, outputs=None) == entries


def test_minigrad_numba_0_runs_numpy_only_without_importing_numba():
    script = ("import json, sys, numpy as np, minigrad as mg\n"
              "from minigrad import _numba, optim\n"
              "p = mg.tensor(np.ones(3, np.float32), requires_grad=True)\n"
              "p.grad = mg.ones(3)\n"
              "optim.Adam([p], lr=0.1).step()\n"
              "assert not _numba.available() and 'numba' not in sys.modules\n"
              "print(json.dumps(p.detach().numpy().tolist()))\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env={**os.environ, "MINIGRAD_NUMBA": "0"}, timeout=60)
    assert result.returncode == 0, result.stderr
    np.testing.assert_allclose(json.loads(result.stdout), [0.9, 0.9, 0.9], rtol=1e-6)


@needs_numba
def test_without_a_writable_place_for_numbas_cache_the_loops_still_compile():
    # A locator list that finds no place for these files: numba cannot cache them (as where
    # minigrad is installed read-only and the home directory is not writable either).
    script = ("import numpy as np, minigrad as mg\n"
              "from minigrad import optim\n"
              "p = mg.tensor(np.ones(3, np.float32), requires_grad=True)\n"
              "p.grad = mg.ones(3)\n"
              "optim.Adam([p], lr=0.1).step()\n"
              "print(p.detach().numpy().tolist())\n")
    environment = {**os.environ, "NUMBA_CACHE_LOCATOR_CLASSES": "IPythonCacheLocator"}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env=environment, timeout=120)
    assert result.returncode == 0, result.stderr
    np.testing.assert_allclose(json.loads(result.stdout), [0.9, 0.9, 0.9], rtol=1e-6)
