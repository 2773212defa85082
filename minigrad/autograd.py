"""Gradients as values: ``grad`` (like ``torch.autograd.grad``) and, built on it, the
Jacobian, Hessian and Hessian-vector product of small functions (like
``torch.autograd.functional``). ``Function``, the base class of every op, is here too under
PyTorch's name (``torch.autograd.Function``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from minigrad.engine import Function, run_backward, seed_gradient  # noqa: F401 (Function: re-exported)
from minigrad.functions import stack
from minigrad.tensor import Tensor


def as_tuple(x) -> tuple:
    """A tensor, or a list or tuple of them, as a tuple."""
    return tuple(x) if isinstance(x, list | tuple) else (x,)


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Tensor | Sequence[Tensor | None] | None = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Tensor | None, ...]:
    """The gradients of ``outputs`` with respect to ``inputs``, as a tuple.

    Nothing is accumulated into any ``.grad``. ``grad_outputs`` weights each output (needed
    for non-scalar outputs). With ``create_graph=True`` the result is itself differentiable:
    ``grad(grad(f, x, create_graph=True)[0] @ v, x)`` is a Hessian-vector product.
    An input the outputs do not depend on raises, unless ``allow_unused`` (then its
    gradient is None).
    """
    outputs, inputs = as_tuple(outputs), as_tuple(inputs)
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    grad_outputs = as_tuple(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise ValueError(
            f"grad: got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs"
        )
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad")
    seeds = []
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if not out.requires_grad:
            raise RuntimeError(f"grad: output {i} does not require grad and has no grad_fn")
        seeds.append(seed_gradient(out, g, f"grad (output {i})", "grad_outputs"))
    if retain_graph is None:
        retain_graph = create_graph
    result = run_backward(outputs, seeds, retain_graph, create_graph, inputs=inputs)
    for i, g in enumerate(result):
        if g is None and not allow_unused:
            raise RuntimeError(
                f"grad: input {i} (shape {inputs[i].shape}) was not used to compute the "
                "outputs; pass allow_unused=True to get None for it"
            )
    return tuple(result)


def _prepare(inputs) -> tuple[tuple[Tensor, ...], bool]:
    """Fresh leaves for the inputs of a functional helper (so ``f`` is differentiated at
    the point, not through however the inputs were made)."""
    is_tuple = isinstance(inputs, list | tuple)
    leaves = tuple(
        Tensor.wrap(np.array(t.array if isinstance(t, Tensor) else t)).requires_grad_()
        for t in as_tuple(inputs)
    )
    return leaves, is_tuple


def _zeros_if_none(grads, like) -> tuple[Tensor, ...]:
    return tuple(
        g if g is not None else Tensor.wrap(np.zeros(x.shape, dtype=x.dtype))
        for g, x in zip(grads, like)
    )


def vjp(func: Callable, inputs, v=None, create_graph: bool = False):
    """``(func(inputs), vᵀ·J)``: the vector-Jacobian product, as
    ``torch.autograd.functional.vjp``."""
    x, is_tuple = _prepare(inputs)
    out = func(*x)
    g = grad(out, x, grad_outputs=v, create_graph=create_graph, allow_unused=True)
    g = _zeros_if_none(g, x)
    return (out if create_graph else out.detach()), (g if is_tuple else g[0])


def jacobian(func: Callable, inputs, create_graph: bool = False):
    """The Jacobian of ``func`` at ``inputs``: shape ``out.shape + input.shape``.

    For a tuple of inputs, a tuple of Jacobians (one per input). One backward per output
    element: meant for small problems, as ``torch.autograd.functional.jacobian``.
    """
    x, is_tuple = _prepare(inputs)
    out = func(*x)
    if not isinstance(out, Tensor):
        raise TypeError(f"jacobian: func must return one Tensor, got {type(out).__name__}")
    rows: list[list[Tensor]] = [[] for _ in x]
    flat_size = out.numel()
    for k in range(flat_size):
        seed = np.zeros(out.numel(), dtype=out.dtype)
        seed[k] = 1
        seed_tensor = Tensor.wrap(seed.reshape(out.shape))
        if out.requires_grad:
            g = grad(out, x, grad_outputs=seed_tensor, retain_graph=True,
                     create_graph=create_graph, allow_unused=True)
        else:
            g = (None,) * len(x)
        for rows_i, g_i in zip(rows, _zeros_if_none(g, x)):
            rows_i.append(g_i)
    jacobians = tuple(
        (stack(r) if r else Tensor.wrap(np.zeros((0,) + xi.shape, xi.dtype))).reshape(
            out.shape + xi.shape
        )
        for r, xi in zip(rows, x)
    )
    if not create_graph:
        jacobians = tuple(j.detach() for j in jacobians)
    return jacobians if is_tuple else jacobians[0]


def hessian(func: Callable, inputs, create_graph: bool = False):
    """The Hessian of a scalar ``func`` at ``inputs``: shape ``input.shape + input.shape``
    (for one input), as ``torch.autograd.functional.hessian``."""
    x, is_tuple = _prepare(inputs)

    def gradient(*xs):
        out = func(*xs)
        _check_scalar(out, "hessian")
        return _zeros_if_none(grad(out, xs, create_graph=True, allow_unused=True), xs)

    if not is_tuple:
        return jacobian(lambda t: gradient(t)[0], x[0], create_graph=create_graph)
    return tuple(
        jacobian(lambda *xs, i=i: gradient(*xs)[i], x, create_graph=create_graph)
        for i in range(len(x))
    )


def hvp(func: Callable, inputs, v, create_graph: bool = False):
    """``(func(inputs), H·v)``: the Hessian-vector product of a scalar function, in two
    backward passes and without forming H (as ``torch.autograd.functional.hvp``)."""
    x, is_tuple = _prepare(inputs)
    vs = tuple(t if isinstance(t, Tensor) else Tensor(t) for t in as_tuple(v))
    if len(vs) != len(x) or any(a.shape != b.shape for a, b in zip(vs, x)):
        raise ValueError(
            f"hvp: v must match the inputs' shapes {[t.shape for t in x]}, "
            f"got {[t.shape for t in vs]}"
        )
    out = func(*x)
    _check_scalar(out, "hvp")
    g = _zeros_if_none(grad(out, x, create_graph=True, allow_unused=True), x)
    g_dot_v = sum((gi * vi).sum() for gi, vi in zip(g, vs))
    if not g_dot_v.requires_grad:  # the gradient does not depend on x: H = 0
        hv = tuple(Tensor.wrap(np.zeros(xi.shape, xi.dtype)) for xi in x)
    else:
        hv = _zeros_if_none(grad(g_dot_v, x, create_graph=create_graph, allow_unused=True), x)
    out = out if create_graph else out.detach()
    return out, (hv if is_tuple else hv[0])


def _check_scalar(out, name: str) -> None:
    if not isinstance(out, Tensor) or out.numel() != 1:
        shape = out.shape if isinstance(out, Tensor) else type(out).__name__
        raise ValueError(f"{name}: func must return a scalar Tensor, got {shape}")
