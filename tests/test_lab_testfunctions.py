"""Test functions: values and gradients against formulas written here, the stated minima
(value, zero gradient, positive-definite Hessian) and saddle points."""

import numpy as np
import pytest

import minigrad as mg
from minigrad.autograd import hessian
from minigrad.lab import testfunctions as tf

# Each function and its gradient, written with NumPy independently of the Tensor versions.
FORMULAS = {
    "quadratic": (lambda p: p[0] ** 2, lambda p: np.array([2 * p[0]])),
    "bowl": (lambda p: 0.5 * (p[0] ** 2 + 20 * p[1] ** 2),
             lambda p: np.array([p[0], 20 * p[1]])),
    "rosenbrock": (lambda p: (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2,
                   lambda p: np.array([-2 * (1 - p[0]) - 400 * p[0] * (p[1] - p[0] ** 2),
                                       200 * (p[1] - p[0] ** 2)])),
    "beale": (lambda p: sum((c - p[0] + p[0] * p[1] ** k) ** 2
                            for k, c in ((1, 1.5), (2, 2.25), (3, 2.625))),
              lambda p: np.array([
                  sum(2 * (c - p[0] + p[0] * p[1] ** k) * (p[1] ** k - 1)
                      for k, c in ((1, 1.5), (2, 2.25), (3, 2.625))),
                  sum(2 * (c - p[0] + p[0] * p[1] ** k) * k * p[0] * p[1] ** (k - 1)
                      for k, c in ((1, 1.5), (2, 2.25), (3, 2.625)))])),
    "himmelblau": (lambda p: (p[0] ** 2 + p[1] - 11) ** 2 + (p[0] + p[1] ** 2 - 7) ** 2,
                   lambda p: np.array([
                       4 * p[0] * (p[0] ** 2 + p[1] - 11) + 2 * (p[0] + p[1] ** 2 - 7),
                       2 * (p[0] ** 2 + p[1] - 11) + 4 * p[1] * (p[0] + p[1] ** 2 - 7)])),
    "saddle": (lambda p: p[0] ** 2 - p[1] ** 2 + p[1] ** 4 / 4,
               lambda p: np.array([2 * p[0], -2 * p[1] + p[1] ** 3])),
}


def gradient(objective, point):
    theta = mg.tensor(np.asarray(point, dtype=np.float64), requires_grad=True)
    objective(theta).backward()
    return theta.grad.array


def test_every_registered_function_has_a_formula_here():
    assert set(tf.OBJECTIVES) == set(FORMULAS)


@pytest.mark.parametrize("name", list(FORMULAS))
def test_values_and_gradients_match_the_formulas(name):
    objective = tf.OBJECTIVES[name]
    value, grad = FORMULAS[name]
    generator = np.random.default_rng(0)
    for _ in range(5):
        point = generator.uniform(-2, 2, size=objective.dim)
        assert objective.value(point) == pytest.approx(value(point), rel=1e-12)
        np.testing.assert_allclose(gradient(objective, point), grad(point), rtol=1e-10,
                                   atol=1e-12)


@pytest.mark.parametrize("name", list(FORMULAS))
def test_gradcheck(name):
    objective = tf.OBJECTIVES[name]
    point = mg.tensor(np.random.default_rng(1).uniform(-1.5, 1.5, objective.dim),
                      dtype=mg.float64, requires_grad=True)
    assert mg.gradcheck(objective, (point,))
    assert mg.gradgradcheck(objective, (point,))


@pytest.mark.parametrize("name", list(FORMULAS))
def test_stated_minima_are_minima(name):
    objective = tf.OBJECTIVES[name]
    assert objective.minima
    for point in objective.minima:
        # Himmelblau's three irrational minima are stated to 6 decimals.
        assert objective.value(point) == pytest.approx(objective.min_value, abs=1e-9)
        assert np.abs(gradient(objective, point)).max() < 1e-4
        h = hessian(objective, mg.tensor(np.asarray(point, dtype=np.float64))).array
        assert np.linalg.eigvalsh(h.reshape(objective.dim, objective.dim)).min() > 0
    # and nothing on a grid of the plotting box is lower
    if objective.box is not None:
        _, _, Z = objective.grid(120)
        assert Z.min() >= objective.min_value - 1e-9


def test_saddle_point_is_a_saddle():
    (point,) = tf.saddle.saddles
    assert np.abs(gradient(tf.saddle, point)).max() == 0
    h = hessian(tf.saddle, mg.tensor(np.asarray(point, dtype=np.float64))).array
    eigenvalues = np.linalg.eigvalsh(h)
    assert eigenvalues.min() < 0 < eigenvalues.max()


@pytest.mark.parametrize("kappa", [1.0, 10.0, 1000.0])
def test_elongated_bowl_has_the_condition_number_asked_for(kappa):
    bowl = tf.elongated_bowl(kappa)
    h = hessian(bowl, mg.tensor(np.array([0.3, -0.2]))).array
    eigenvalues = np.linalg.eigvalsh(h)
    assert eigenvalues.max() / eigenvalues.min() == pytest.approx(kappa)
    assert str(int(kappa)) in bowl.name


def test_elongated_bowl_refuses_bad_condition_numbers():
    for bad in (0.5, -3, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="condition must be a finite number >= 1"):
            tf.elongated_bowl(bad)


def test_grid_evaluates_many_points_at_once():
    X, Y, Z = tf.rosenbrock.grid(30)
    assert X.shape == Y.shape == Z.shape == (30, 30)
    value, _ = FORMULAS["rosenbrock"]
    np.testing.assert_allclose(Z, value(np.stack([X, Y])), rtol=1e-12)
    assert (X[0, 0], Y[0, 0]) == (tf.rosenbrock.box[0][0], tf.rosenbrock.box[1][0])
    with pytest.raises(ValueError, match="quadratic: a grid needs a 2-D function"):
        tf.quadratic.grid()


def test_wrong_number_of_coordinates_is_refused():
    with pytest.raises(ValueError, match=r"rosenbrock: expected points with 2 coordinates .* "
                                         r"shape \(3,\)"):
        tf.rosenbrock(mg.tensor([1.0, 2.0, 3.0]))


def test_distance_to_minimum():
    assert tf.himmelblau.distance_to_minimum((3.0, 2.5)) == pytest.approx(0.5)
    assert tf.rosenbrock.distance_to_minimum((1.0, 1.0)) == 0
