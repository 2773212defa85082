"""Test functions for optimizer experiments, written with Tensor ops so that their gradients
come from autodiff.

Each is an ``Objective``: the function, where its minima are and the value there, a
customary starting point, and the box its contour plot shows::

    from minigrad.lab import testfunctions as tf
    theta = mg.tensor(tf.rosenbrock.start, dtype=mg.float64, requires_grad=True)
    loss = tf.rosenbrock(theta)     # (1 - x)² + 100·(y - x²)²
    loss.backward()                 # theta.grad: the gradient at the start

The functions take ``theta`` with the coordinates along its last dim, so one call evaluates a
whole grid of points (the contour plots use this).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from minigrad.grad_mode import no_grad
from minigrad.tensor import Tensor, float64

Point = tuple[float, ...]


@dataclass(frozen=True)
class Objective:
    """A test function with its known answer.

    ``f`` maps a Tensor of points (coordinates along the last dim) to their values;
    ``minima`` are the global minimizers, all with value ``min_value``; ``saddles`` the saddle
    points worth marking; ``start`` the customary starting point; ``box`` the
    ``((x_min, x_max), (y_min, y_max))`` a contour plot shows (None when not 2-D).
    """

    name: str
    formula: str
    f: Callable[[Tensor], Tensor]
    minima: tuple[Point, ...]
    min_value: float
    start: Point
    box: tuple[tuple[float, float], tuple[float, float]] | None = None
    saddles: tuple[Point, ...] = ()
    # Learning rates that make each optimizer do something sensible here within a few
    # thousand steps (``minigrad compare --tune-lr``); optimizers not listed use "*".
    lrs: dict[str, float] = field(default_factory=dict, compare=False)
    # One learning rate at which every optimizer runs without diverging from ``start``:
    # what ``minigrad compare`` gives them all, so that they race on equal terms.
    lr: float = 0.01

    @property
    def dim(self) -> int:
        return len(self.start)

    def __call__(self, theta: Tensor) -> Tensor:
        if theta.shape[-1:] != (self.dim,):
            raise ValueError(f"{self.name}: expected points with {self.dim} coordinates along "
                             f"the last dim, got a tensor of shape {theta.shape}")
        return self.f(theta)

    def value(self, point) -> float:
        """f at one point, as a Python float (no graph is recorded)."""
        with no_grad():
            return float(self(Tensor(np.asarray(point, dtype=np.float64))).item())

    def grid(self, n: int = 200) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(X, Y, Z)``: f over an n×n grid of the plotting box, for contour plots."""
        if self.box is None:
            raise ValueError(f"{self.name}: a grid needs a 2-D function with a box, this one "
                             f"has {self.dim} coordinate(s)")
        (x0, x1), (y0, y1) = self.box
        X, Y = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
        with no_grad():
            Z = self(Tensor(np.stack([X, Y], axis=-1), dtype=float64)).array
        return X, Y, Z

    def distance_to_minimum(self, point) -> float:
        """Euclidean distance from ``point`` to the nearest minimizer (inf if there is none)."""
        point = np.asarray(point, dtype=np.float64)
        return min((float(np.linalg.norm(point - np.asarray(m))) for m in self.minima),
                   default=math.inf)


def _xy(theta: Tensor) -> tuple[Tensor, Tensor]:
    return theta[..., 0], theta[..., 1]


def _quadratic(theta: Tensor) -> Tensor:
    return (theta * theta).sum(-1)


quadratic = Objective(
    name="quadratic",
    formula="J(θ) = θ²",
    f=_quadratic,
    minima=((0.0,),),
    min_value=0.0,
    start=(3.0,),
    lrs={"*": 0.01},
)
"""J(θ) = θ², the simplest bowl (one coordinate; for more, see ``elongated_bowl``).
Its gradient is 2θ, so gradient descent with learning rate η multiplies θ by (1 - 2η) per step."""


# κ of the bowl in OBJECTIVES: elongated enough that plain gradient descent visibly zig-zags.
DEFAULT_CONDITION = 20.0


def elongated_bowl(condition: float = DEFAULT_CONDITION) -> Objective:
    """f(x, y) = ½(x² + κ·y²): an ill-conditioned bowl whose curvatures are 1 along x and κ
    along y, so the condition number of its Hessian is κ (``condition``). Gradient descent
    must take η < 2/κ to stay stable along y, and then crawls along x."""
    if not condition >= 1 or math.isinf(condition):
        raise ValueError(f"elongated_bowl: condition must be a finite number >= 1, "
                         f"got {condition!r}")
    kappa = float(condition)

    def bowl(theta: Tensor) -> Tensor:
        x, y = _xy(theta)
        return 0.5 * (x * x + kappa * (y * y))

    reach = 1.1 * 8.0
    return Objective(
        name=f"elongated_bowl(condition={kappa:g})",
        formula=f"f(x, y) = ½(x² + {kappa:g}·y²)",
        f=bowl,
        minima=((0.0, 0.0),),
        min_value=0.0,
        start=(-8.0, 1.0),
        box=((-reach, reach / 4), (-2.0, 2.0)),
        lrs={"sgd": 1.8 / kappa, "momentum": 0.3 / kappa, "nesterov": 0.3 / kappa,
             "adagrad": 1.0, "*": 0.1},
        lr=0.3 / kappa,
    )


def _rosenbrock(theta: Tensor) -> Tensor:
    x, y = _xy(theta)
    return (1.0 - x) ** 2 + 100.0 * (y - x * x) ** 2


rosenbrock = Objective(
    name="rosenbrock",
    formula="f(x, y) = (1 - x)² + 100·(y - x²)²",
    f=_rosenbrock,
    minima=((1.0, 1.0),),
    min_value=0.0,
    start=(-1.5, 2.0),
    box=((-2.0, 2.0), (-1.0, 3.0)),
    lrs={"sgd": 1.5e-3, "momentum": 1e-3, "nesterov": 1e-3, "adagrad": 1.0, "rmsprop": 5e-3,
         "*": 0.02},
    lr=1e-3,
)
"""Rosenbrock's banana: a curved, flat-bottomed valley; the minimum (1, 1) is easy to
reach the valley and slow to follow it to."""


def _beale(theta: Tensor) -> Tensor:
    x, y = _xy(theta)
    return ((1.5 - x + x * y) ** 2 + (2.25 - x + x * y * y) ** 2
            + (2.625 - x + x * y * y * y) ** 2)


beale = Objective(
    name="beale",
    formula="f(x, y) = (1.5 - x + xy)² + (2.25 - x + xy²)² + (2.625 - x + xy³)²",
    f=_beale,
    minima=((3.0, 0.5),),
    min_value=0.0,
    start=(1.0, 1.4),
    box=((-1.0, 4.5), (-1.5, 2.0)),
    lrs={"sgd": 1e-2, "momentum": 1e-3, "nesterov": 1e-3, "adagrad": 0.5, "rmsprop": 5e-3,
         "*": 0.02},
    lr=3e-3,
)
"""Beale's function: flat plateaus and steep ridges, minimum (3, 0.5)."""


def _himmelblau(theta: Tensor) -> Tensor:
    x, y = _xy(theta)
    return (x * x + y - 11.0) ** 2 + (x + y * y - 7.0) ** 2


himmelblau = Objective(
    name="himmelblau",
    formula="f(x, y) = (x² + y - 11)² + (x + y² - 7)²",
    f=_himmelblau,
    minima=((3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126)),
    min_value=0.0,
    start=(0.0, 0.0),
    box=((-5.0, 5.0), (-5.0, 5.0)),
    lrs={"sgd": 5e-3, "momentum": 1e-3, "nesterov": 1e-3, "adagrad": 1.0, "*": 0.05},
    lr=3e-3,
)
"""Himmelblau's function: four minima, all of value 0; which one an optimizer finds depends
on where it starts and how it moves."""


def _saddle(theta: Tensor) -> Tensor:
    x, y = _xy(theta)
    return x * x - y * y + 0.25 * (y * y) * (y * y)


saddle = Objective(
    name="saddle",
    formula="f(x, y) = x² - y² + y⁴/4",
    f=_saddle,
    minima=((0.0, math.sqrt(2.0)), (0.0, -math.sqrt(2.0))),
    min_value=-1.0,
    start=(-2.0, 1e-3),
    box=((-2.5, 2.5), (-2.5, 2.5)),
    saddles=((0.0, 0.0),),
    lrs={"adagrad": 0.5, "*": 0.01},
)
"""The saddle x² - y² around the origin, with y⁴/4 added so that it has minima to find,
(0, ±√2) of value -1. Started almost on the ridge y = 0, the gradient along y is tiny
and an optimizer must escape the saddle point (0, 0) before it can descend."""


OBJECTIVES: dict[str, Objective] = {
    "quadratic": quadratic,
    "bowl": elongated_bowl(),
    "rosenbrock": rosenbrock,
    "beale": beale,
    "himmelblau": himmelblau,
    "saddle": saddle,
}
"""The test functions by the names ``minigrad compare --problem`` knows."""
