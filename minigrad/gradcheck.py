"""Checking analytic gradients against finite differences.

For a function f and an input x, the analytic Jacobian comes from backward (one pass per
output element) and the numerical one from central differences, one input element j at a
time:

    ∂f/∂xⱼ ≈ (f(x + ε·eⱼ) - f(x - ε·eⱼ)) / 2ε

whose error is O(ε²) from truncation plus O(δ/ε) from rounding (δ ≈ 1e-16 in float64), which
is why the check runs in float64 with ε = 1e-6. Entries agree when
|analytic - numerical| ≤ atol + rtol·|numerical|.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from minigrad.autograd import as_tuple, grad
from minigrad.tensor import Tensor, float64


class GradcheckError(RuntimeError):
    """An analytic gradient disagrees with its finite-difference estimate."""


@dataclass
class InputReport:
    """How far the analytic gradient of one input is from the numerical one."""

    input: int
    shape: tuple[int, ...]
    max_abs_error: float
    max_rel_error: float


def _checked_inputs(inputs, caller: str) -> tuple[tuple, list[int]]:
    inputs = as_tuple(inputs)
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError(f"{caller}: no input has requires_grad=True, nothing to check")
    for i in checked:
        if inputs[i].dtype != float64:
            raise ValueError(
                f"{caller}: input {i} has dtype {inputs[i].dtype}; finite differences need "
                "float64 (make it with dtype=mg.float64 or .double())"
            )
    return inputs, checked


def _outputs(fn: Callable, inputs: tuple) -> tuple[Tensor, ...]:
    outs = as_tuple(fn(*inputs))
    for k, o in enumerate(outs):
        if not isinstance(o, Tensor):
            raise TypeError(f"gradcheck: output {k} of fn is a {type(o).__name__}, not a Tensor")
    return outs


def _analytic_jacobians(fn, inputs, checked) -> list[list[np.ndarray]]:
    """J[k][i]: the Jacobian of output k with respect to input i, shape (out size, in size)."""
    outs = _outputs(fn, inputs)
    xs = [inputs[i] for i in checked]
    jacobians = []
    for out in outs:
        rows = [np.zeros((out.numel(), x.numel())) for x in xs]
        if out.requires_grad:
            for k in range(out.numel()):
                seed = np.zeros(out.numel(), dtype=out.dtype)
                seed[k] = 1
                grads = grad(out, xs, grad_outputs=Tensor.wrap(seed.reshape(out.shape)),
                             retain_graph=True, allow_unused=True)
                for rows_i, g in zip(rows, grads):
                    if g is not None:
                        rows_i[k] = g.array.reshape(-1)
        jacobians.append(rows)
    return jacobians


def _numerical_jacobians(fn, inputs, checked, eps: float) -> list[list[np.ndarray]]:
    """The same Jacobians by central differences, perturbing one input element at a time."""
    outs = _outputs(fn, inputs)
    jacobians = [[np.zeros((o.numel(), inputs[i].numel())) for i in checked] for o in outs]
    for col, i in enumerate(checked):
        flat = inputs[i].array.reshape(-1)  # a view when possible, else written back below
        view = np.shares_memory(flat, inputs[i].array)
        for j in range(flat.size):
            original = flat[j]
            values = []
            for step in (eps, -eps):
                flat[j] = original + step
                if not view:
                    inputs[i].array[...] = flat.reshape(inputs[i].shape)
                values.append([o.array.astype(np.float64).reshape(-1)
                               for o in _outputs(fn, inputs)])
            flat[j] = original
            if not view:
                inputs[i].array[...] = flat.reshape(inputs[i].shape)
            for k, (plus, minus) in enumerate(zip(*values)):
                jacobians[k][col][:, j] = (plus - minus) / (2 * eps)
    return jacobians


def gradcheck(
    fn: Callable,
    inputs,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """Compare the gradients of ``fn`` at ``inputs`` with central finite differences.

    Every input with ``requires_grad=True`` is checked and must be float64. ``fn`` returns
    a Tensor or a tuple of Tensors. On a mismatch, raises ``GradcheckError`` naming the
    input, the element, and the analytic and numerical values (or returns False when
    ``raise_exception=False``).
    """
    inputs, checked = _checked_inputs(inputs, "gradcheck")
    analytic = _analytic_jacobians(fn, inputs, checked)
    numerical = _numerical_jacobians(fn, inputs, checked, eps)
    for k, (a_rows, n_rows) in enumerate(zip(analytic, numerical)):
        for col, i in enumerate(checked):
            a, n = a_rows[col], n_rows[col]
            bad = ~(np.abs(a - n) <= atol + rtol * np.abs(n))
            if bad.any():
                if not raise_exception:
                    return False
                out_index, in_index = np.argwhere(bad)[0]
                element = tuple(int(e) for e in np.unravel_index(in_index, inputs[i].shape))
                analytic, numeric = float(a[out_index, in_index]), float(n[out_index, in_index])
                raise GradcheckError(
                    f"gradcheck: the gradient of output {k} (element {out_index}) with "
                    f"respect to input {i} (shape {inputs[i].shape}) at element {element}: "
                    f"analytic {analytic!r}, numerical {numeric!r} "
                    f"(atol={atol}, rtol={rtol}, eps={eps})"
                )
    return True


def gradcheck_report(fn: Callable, inputs, eps: float = 1e-6) -> list[InputReport]:
    """The largest absolute and relative error between analytic and numerical gradients,
    per checked input (over all outputs), for experiments with ``eps`` and dtypes."""
    inputs, checked = _checked_inputs(inputs, "gradcheck_report")
    analytic = _analytic_jacobians(fn, inputs, checked)
    numerical = _numerical_jacobians(fn, inputs, checked, eps)
    reports = []
    for col, i in enumerate(checked):
        max_abs = max_rel = 0.0
        for a_rows, n_rows in zip(analytic, numerical):
            a, n = a_rows[col], n_rows[col]
            diff = np.abs(a - n)
            scale = np.maximum(np.abs(a), np.abs(n))
            rel = np.divide(diff, scale, out=np.zeros_like(diff), where=scale > 0)
            max_abs = max(max_abs, float(diff.max(initial=0.0)))
            max_rel = max(max_rel, float(rel.max(initial=0.0)))
        reports.append(InputReport(i, inputs[i].shape, max_abs, max_rel))
    return reports


def gradgradcheck(
    fn: Callable,
    inputs,
    grad_outputs=None,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    seed: int = 0,
) -> bool:
    """Check second derivatives: ``gradcheck`` of x, v ↦ vᵀ·∂fn/∂x, with ``v`` the
    ``grad_outputs`` (random float64 tensors by default), differentiating the gradients
    that backward computes with ``create_graph=True``."""
    inputs, checked = _checked_inputs(inputs, "gradgradcheck")
    outs = _outputs(fn, inputs)
    if grad_outputs is None:
        generator = np.random.default_rng(seed)
        grad_outputs = tuple(
            Tensor(generator.standard_normal(o.shape), dtype=float64, requires_grad=True)
            for o in outs
        )
    vs = as_tuple(grad_outputs)
    n_inputs = len(inputs)

    def first_derivatives(*args):
        xs, v = args[:n_inputs], args[n_inputs:]
        xs_checked = [xs[i] for i in checked]
        result = []
        outputs = as_tuple(fn(*xs))
        used = [(o, g) for o, g in zip(outputs, v) if o.requires_grad]
        if used:
            grads = grad([o for o, _ in used], xs_checked, grad_outputs=[g for _, g in used],
                         create_graph=True, allow_unused=True)
            result = [g for g in grads if g is not None]
        if not result:
            raise ValueError("gradgradcheck: fn's outputs do not depend on the inputs")
        return tuple(result)

    return gradcheck(first_derivatives, inputs + vs, eps, atol, rtol, raise_exception)
