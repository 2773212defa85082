"""How an optimizer keeps a parameter group in memory so that a step is a few NumPy calls.

You can read every optimizer without reading this file: it only decides *where* the numbers
live, never *what* is computed.

Small models have many small tensors, and a Python loop over them costs more than the
arithmetic. So the parameters of a group that share a dtype are packed into ONE contiguous
array, and each parameter's ``.data`` becomes a view into it (``theta[a:b].reshape(shape)``):
updating the flat array updates every parameter at once. The optimizer's state (``exp_avg``,
``exp_avg_sq``, ...) lives in flat arrays laid out the same way, and the gradients are
gathered into a flat array with one ``np.concatenate``. A step is then the update rule applied
once to the whole flat arrays — cut into cache-sized chunks, because every NumPy call is a
pass over memory and a chunk that stays in cache makes the passes after the first one cheap.

Per-parameter numbers (``step``, NAdam's ``mu_product``) are arrays with one entry per
parameter. While every parameter of the bucket has taken the same steps (the usual case) one
update serves them all; a parameter whose gradient is ``None`` is skipped, and then the
bucket is updated parameter by parameter until the counts agree again.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable

import numpy as np

# Elements per chunk: the 6 arrays an Adam update touches (θ, g, m, v and two scratch arrays)
# take 3 MB in float32, which stays in a laptop's L3 cache, and the Python cost per chunk is
# small next to the arithmetic. Measured on a 2-core EPYC (1 MB L2, 32 MB L3): 2¹⁷ beat 2¹⁵
# (L2-sized, more Python calls) and 2¹⁹ (cache misses) by 10-20% (benchmarks/optim_step.py).
CHUNK = 1 << 17


class FlatBucket:
    """The parameters of one group that share a dtype, packed into one flat array ``theta``."""

    def __init__(self, params: list, dtype: np.dtype):
        self.params = params
        self.dtype = dtype
        sizes = [p.data.size for p in params]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(int).tolist()
        total = self.offsets[-1]
        self.theta = np.empty(total, dtype)
        self.grad = np.empty(total, dtype)
        self.views: list[np.ndarray] = [None] * len(params)  # type: ignore[list-item]
        for i in range(len(params)):
            self.adopt(i)
        scratch_size = min(max(total, 1), CHUNK)
        self.scratch = (np.empty(scratch_size, dtype), np.empty(scratch_size, dtype))
        self.grad_chunk = np.empty(scratch_size, dtype)  # a chunk of gradients, in cache
        self.buffers: dict[str, np.ndarray] = {}  # name -> flat array, laid out like theta
        self.scalars: dict[str, np.ndarray] = {}  # name -> one float64 per parameter
        self.exposed = [False] * len(params)  # has state[p] been published?
        self.in_lockstep = True  # do all parameters have the same scalar state?

    def adopt(self, i: int) -> None:
        """Copy parameter i's values into ``theta`` and make its ``.data`` a view of them."""
        p, a, b = self.params[i], self.offsets[i], self.offsets[i + 1]
        view = self.theta[a:b].reshape(p.data.shape)
        np.copyto(view, p.data)
        p.data = view
        self.views[i] = view

    def check_params(self) -> bool:
        """Re-adopt parameters whose ``.data`` was replaced by a new array of the same shape
        and dtype. Returns False when a dtype changed (the bucket must be rebuilt)."""
        for i, (p, view) in enumerate(zip(self.params, self.views)):
            if p.data is view:
                continue
            if p.data.dtype != self.dtype:
                return False
            if p.data.shape != view.shape:
                raise RuntimeError(
                    f"optimizer: a parameter of shape {view.shape} was given new data of "
                    f"shape {p.data.shape}; an optimizer cannot follow a change of shape "
                    "(create a new optimizer)"
                )
            self.adopt(i)
        return True

    def buffer(self, name: str, init: float) -> np.ndarray:
        """The flat state array ``name``, created filled with ``init`` on first use."""
        array = self.buffers.get(name)
        if array is None:
            array = self.buffers[name] = np.full(self.theta.size, init, self.dtype)
        return array

    def scalar(self, name: str, init: float) -> np.ndarray:
        """The per-parameter numbers ``name``, created filled with ``init`` on first use."""
        array = self.scalars.get(name)
        if array is None:
            array = self.scalars[name] = np.full(len(self.params), init, np.float64)
        return array

    def param_view(self, flat: np.ndarray, i: int) -> np.ndarray:
        """Parameter i's part of a flat array, shaped like the parameter."""
        return flat[self.offsets[i]:self.offsets[i + 1]].reshape(self.views[i].shape)

    def gather(self, sources: list[np.ndarray], start: int, stop: int,
               out: np.ndarray) -> None:
        """Copy the flat range [start, stop) of the gradients ``sources`` (one flat array per
        parameter) into ``out``."""
        i = bisect.bisect_right(self.offsets, start) - 1
        position = start
        while position < stop:
            end = min(stop, self.offsets[i + 1])
            base = self.offsets[i]
            out[position - start:end - start] = sources[i][position - base:end - base]
            position = end
            i += 1

    def sync_lockstep(self) -> None:
        self.in_lockstep = all(s.min() == s.max() for s in self.scalars.values() if s.size)


def apply_update(
    update: Callable,
    bucket: FlatBucket,
    start: int,
    stop: int,
    buffers: dict[str, np.ndarray],
    scalars: dict[str, float],
    grad_sources: list[np.ndarray] | None = None,
) -> dict[str, float]:
    """Run ``update(theta, g, state, scratch)`` over the flat range [start, stop), chunk by chunk.

    ``state`` holds the chunk's slices of the flat state arrays and a fresh copy of the
    scalars for every chunk, so the rule may update both (``state["step"] += 1``) as if it
    saw one whole tensor. The scalars it computed are returned.

    The gradients come from ``bucket.grad``, or, given ``grad_sources`` (each parameter's
    gradient, flat), are gathered chunk by chunk into a buffer that stays in cache: the
    gradients are then read from memory once, instead of copied out and read back.
    """
    tmp, tmp2 = bucket.scratch
    new_scalars = dict(scalars)
    for a in range(start, max(stop, start + 1), CHUNK):
        b = min(a + CHUNK, stop)
        if grad_sources is None:
            g = bucket.grad[a:b]
        else:
            g = bucket.grad_chunk[:b - a]
            bucket.gather(grad_sources, a, b, g)
        state = {name: flat[a:b] for name, flat in buffers.items()}
        state.update(scalars)  # every chunk starts from the scalars before the step
        update(bucket.theta[a:b], g, state, (tmp[:b - a], tmp2[:b - a]))
        new_scalars = {name: state[name] for name in scalars}
    return new_scalars
