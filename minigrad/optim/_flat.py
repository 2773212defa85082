"""How an optimizer keeps a parameter group in memory so that a step is a few NumPy calls.

You can read every optimizer without reading this file: it only decides *where* the numbers
live, never *what* is computed.

Small models have many small tensors, and a Python loop over them costs more than the
arithmetic. So the parameters of a group that share a dtype are packed into ONE contiguous
array, and each parameter's ``.array`` becomes a view into it (``theta[a:b].reshape(shape)``):
updating the flat array updates every parameter at once. The optimizer's state
(``exp_avg``, ``exp_avg_sq``, ...) lives in flat arrays laid out the same way, and the
gradients of a small group are gathered into a flat array with one ``np.concatenate``. A
step is then the update rule applied once to the whole flat arrays — cut into cache-sized
chunks, because every NumPy call is a pass over its arrays: over a large model, the first
pass of a chunk brings θ, g and the state from memory and the dozen passes after it find
them in the cache. A large group's gradients are not gathered first (that would be one more
pass over memory): each chunk reads them where they are.

Packing must never be visible: ``nn.Parameter(t)`` shares ``t``'s array, and so do
``p.detach()``, ``model.state_dict()`` and any view of ``p.array`` taken before. A parameter
whose array something else refers to (or that is a view of another array) therefore stays
where it is; its values are copied into ``theta`` before each step and written back after
it. A parameter that only the parameter itself refers to is moved into ``theta`` (the usual
case: arrays made by the layers), and is checked again at every step, so a parameter whose
other holders are gone (``del t``, a finished ``copy.deepcopy``) is moved in then.

Per-parameter numbers (``step``, NAdam's ``mu_product``) are arrays with one entry per
parameter. While every parameter of the bucket has taken the same steps (the usual case) one
update serves them all; a parameter whose gradient is ``None`` is skipped, and then the
bucket is updated parameter by parameter until the counts agree again.

The optimizer sees only ``FlatGroup``, one per parameter group: it is built with the state
to start from, and then asked for ``step(rule, buffers)``, ``follows_params()``,
``state_views(p)``, ``state_copy(p)``, ``set_state(p, entry)`` and ``reset_state(p)``. The
update rule sees NumPy arrays only.
"""

from __future__ import annotations

import bisect
import operator
import sys
from collections.abc import Callable

import numpy as np

# Elements per chunk: the arrays an Adam update touches in a chunk (θ, g, m, v and one scratch
# array, 192 kB each in float32: 960 kB) stay in a core's L2 cache with room for the previous
# chunk's lines on their way out, and the Python cost per chunk is small next to the
# arithmetic. Measured on a 2-core Xeon (2 MB L2 per core) over 10M float32 parameters
# (benchmarks/optim_step.py): 3·2¹⁴ beat 2¹⁵ (more chunks, each restarting the streams from
# memory) and 2¹⁶ (L2 misses), for Adam and for SGD with momentum.
CHUNK = 3 << 14

# Every flat array starts on a 64-byte boundary (a cache line, one AVX-512 register), and so
# does every chunk (CHUNK is a multiple of 16 elements): NumPy's loops write a misaligned
# output up to twice as slowly as an aligned one.
ALIGNMENT = 64


class FlatGroup:
    """A parameter group packed into flat arrays: one ``FlatBucket`` per dtype.

    ``buffers`` and ``scalars`` declare the state (name → initial value) of arrays shaped like
    each parameter and of one number per parameter; ``initial_state`` maps parameters to the
    state they start from (a checkpoint's, or the state kept across a change of dtype).
    """

    def __init__(self, params: list, buffers: dict[str, float], scalars: dict[str, float],
                 initial_state: dict | None = None):
        by_dtype: dict[np.dtype, list] = {}
        for p in params:
            by_dtype.setdefault(p.array.dtype, []).append(p)
        self.buckets = [FlatBucket(same_dtype, dtype, buffers, scalars, initial_state or {})
                        for dtype, same_dtype in by_dtype.items()]
        # Keyed by the parameters themselves (hashed by identity), so that a deep copy of the
        # optimizer finds the copied parameters.
        self.place = {p: (bucket, i) for bucket in self.buckets
                      for i, p in enumerate(bucket.params)}

    def gradient_buffer(self, p) -> np.ndarray | None:
        """Parameter p's part of its bucket's flat gradient buffer."""
        place = self.place.get(p)
        return None if place is None else place[0].grad_views[place[1]]

    def step(self, rule: Callable, buffers: dict[str, float], grad_read_only: bool = False,
             one_pass: bool = False) -> list:
        """Apply ``rule(theta, g, state, scratch)`` to every parameter that has a gradient and
        return those parameters. ``buffers`` are the state arrays the rule uses (those not yet
        kept are created, e.g. after ``group["momentum"]`` was changed). ``grad_read_only``
        says the rule never writes to g: the gradients may then be handed to it where they
        are, without a copy. ``one_pass`` says the rule is a fused loop that makes one pass
        and needs no scratch: it is then not cut into cache-sized chunks (see ``pieces``)."""
        stepped = []
        for bucket in self.buckets:
            stepped += bucket.step(rule, buffers, grad_read_only, one_pass)
        return stepped

    def follows_params(self) -> bool:
        """Take in new ``.array`` given to parameters; False when a dtype changed, in which case
        the group must be packed anew."""
        return all(bucket.check_params() for bucket in self.buckets)

    def state_views(self, p, hidden: tuple[str, ...] = ()) -> dict:
        """Parameter p's state, as views that always show the current values (0-d arrays for
        the numbers), leaving out the ``hidden`` names."""
        bucket, i = self.place[p]
        entry = {name: array[i, ...] for name, array in bucket.scalars.items()
                 if name not in hidden}
        entry.update({name: bucket.param_view(flat, i) for name, flat in bucket.buffers.items()})
        return entry

    def state_copy(self, p) -> dict:
        """A copy of parameter p's whole state, hidden numbers included."""
        bucket, i = self.place[p]
        entry = {name: bucket.param_view(flat, i).copy() for name, flat in bucket.buffers.items()}
        entry.update({name: float(array[i]) for name, array in bucket.scalars.items()})
        return entry

    def set_state(self, p, entry: dict) -> None:
        """Give parameter p the state ``entry`` (name → number or array shaped like p)."""
        bucket, i = self.place[p]
        bucket.set_state(i, entry)

    def reset_state(self, p) -> None:
        """Start parameter p's state anew, as before its first step (zero moments, step 0)."""
        bucket, i = self.place[p]
        bucket.set_state(i, {**bucket.buffer_init, **bucket.scalar_init})


class FlatBucket:
    """The parameters of a group that share a dtype, packed into one flat array ``theta``."""

    def __init__(self, params: list, dtype: np.dtype, buffers: dict[str, float],
                 scalars: dict[str, float], initial_state: dict):
        self.params = params
        self.dtype = dtype
        sizes = [p.array.size for p in params]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(int).tolist()
        total = self.offsets[-1]
        self.theta = aligned_empty(total, dtype)
        self.grad = aligned_empty(total, dtype)
        # Each parameter's part of ``grad``, shaped like it: a gradient written there by its
        # producer (a compiled step's, see ``Optimizer.gradient_buffer``) needs no gathering.
        self.grad_views = [self.grad[a:b].reshape(p.array.shape)
                           for a, b, p in zip(self.offsets, self.offsets[1:], params)]
        # Each parameter's array: a view of theta, or its own array ("external", see above).
        self.views: list[np.ndarray] = [None] * len(params)  # type: ignore[list-item]
        self.external: set[int] = set()  # the indices of the external ones
        for i in range(len(params)):
            self.adopt(i)
        self.chunk = CHUNK  # (read once: a bucket's scratch arrays are this long)
        scratch_size = min(max(total, 1), self.chunk)
        self.scratch = (aligned_empty(scratch_size, dtype), aligned_empty(scratch_size, dtype))
        self.grad_chunk = aligned_empty(scratch_size, dtype)  # a chunk of gradients, in cache
        self.buffers: dict[str, np.ndarray] = {}  # name -> flat array, laid out like theta
        self.buffer_init: dict[str, float] = {}  # name -> the value its entries start at
        self.scalars = {name: np.full(len(params), init, np.float64)  # one per parameter
                        for name, init in scalars.items()}
        self.scalar_init = dict(scalars)
        self.add_buffers(buffers)
        for i, p in enumerate(params):
            if initial_state.get(p):
                self.set_state(i, initial_state[p])
        self.in_lockstep = self.scalars_agree()  # have all parameters the same numbers?

    def set_state(self, i: int, entry: dict) -> None:
        """Give parameter i the state ``entry`` (name → number or array shaped like it)."""
        for name, value in entry.items():
            if name in self.scalars:
                self.scalars[name][i] = value
            else:
                np.copyto(self.param_view(self.buffer(name, 0.0), i), value)
        self.in_lockstep = self.scalars_agree()

    def adopt(self, i: int) -> None:
        """Copy parameter i's values into ``theta``; make its ``.array`` a view of them if
        nothing else can see its array, else keep the array as an external one."""
        p, a, b = self.params[i], self.offsets[i], self.offsets[i + 1]
        self.views[i] = None  # type: ignore[call-overload]  # (not a holder of the array)
        view = self.theta[a:b].reshape(p.array.shape)
        np.copyto(view, p.array)
        if only_its_parameter_holds(p):
            p.array = view
            self.external.discard(i)
        else:
            self.external.add(i)
        self.views[i] = p.array

    def is_packed(self, i: int) -> bool:
        # A view's base is the array that owns the memory: the aligned block theta is cut
        # from, or theta itself in a deep copy.
        owner = self.theta if self.theta.base is None else self.theta.base
        return self.views[i].base is owner

    def check_params(self) -> bool:
        """Follow the parameters' ``.array``: adopt a new array of the same shape and dtype,
        and move external arrays into ``theta`` once nothing else holds them. Returns False
        when a dtype changed (the bucket must be rebuilt)."""
        for i, p in enumerate(self.params):
            # (no local variable for p.array here: it would count as a holder in adopt)
            if p.array is self.views[i] and self.is_packed(i):
                continue
            if p.array.dtype != self.dtype:
                return False
            if p.array.shape != self.views[i].shape:
                raise RuntimeError(
                    f"optimizer: a parameter of shape {self.views[i].shape} was given new "
                    f"data of shape {p.array.shape}; an optimizer cannot follow a change of "
                    "shape (create a new optimizer)"
                )
            if p.array is not self.views[i] or only_its_parameter_holds(p, also_held_by=1):
                self.adopt(i)
        return True

    def buffer(self, name: str, init: float) -> np.ndarray:
        """The flat state array ``name``, created filled with ``init`` on first use."""
        array = self.buffers.get(name)
        if array is None:
            array = self.buffers[name] = aligned_empty(self.theta.size, self.dtype)
            array.fill(init)
            self.buffer_init[name] = init
        return array

    def add_buffers(self, buffers: dict[str, float]) -> dict[str, np.ndarray]:
        return {name: self.buffer(name, init) for name, init in buffers.items()}

    def param_view(self, flat: np.ndarray, i: int) -> np.ndarray:
        """Parameter i's part of a flat array, shaped like the parameter."""
        return flat[self.offsets[i]:self.offsets[i + 1]].reshape(self.views[i].shape)

    def scalars_agree(self) -> bool:
        return all(s.min() == s.max() for s in self.scalars.values() if s.size)

    def step(self, rule: Callable, buffers: dict[str, float], grad_read_only: bool,
             one_pass: bool = False) -> list:
        """``FlatGroup.step`` for this bucket's parameters (``check_params`` comes first)."""
        flat_buffers = self.add_buffers(buffers)
        grads = [p.grad for p in self.params]
        for i in self.external:  # their current values, which may have been changed in place
            np.copyto(self.param_view(self.theta, i), self.views[i])
        stepped = self.step_packed(rule, flat_buffers, grads, grad_read_only, one_pass)
        for i in self.external:  # write the step through to the parameter's own array
            if grads[i] is not None:
                np.copyto(self.views[i], self.param_view(self.theta, i))
        return stepped

    def step_packed(self, rule: Callable, flat_buffers: dict[str, np.ndarray],
                    grads: list, grad_read_only: bool, one_pass: bool) -> list:
        """Step ``theta``: all at once, or parameter by parameter."""
        arrays = [None if grad is None else grad.array for grad in grads]
        lockstep = self.in_lockstep and all(a is not None for a in arrays)
        if lockstep and grad_read_only and all(map(operator.is_, arrays, self.grad_views)):
            sources = None  # every gradient is in ``self.grad`` already (and stays as it is)
        elif lockstep and self.theta.size <= self.chunk:
            # One chunk: one call gathers every gradient into ``self.grad``.
            np.concatenate([a.reshape(-1) for a in arrays], out=self.grad)
            sources = None
        else:
            sources = [None if a is None else flat_view(a, grad_read_only) for a in arrays]
        if lockstep:
            # The fast path: one update for all of the bucket's parameters.
            self.step_all(rule, flat_buffers, sources, grad_read_only, one_pass)
            return self.params

        # Some gradients are missing (or the counts differ): parameter by parameter.
        stepped = []
        for i, grad in enumerate(grads):
            if grad is None:
                continue  # as PyTorch: no gradient, no update, and its state does not advance
            scalars = {name: float(array[i]) for name, array in self.scalars.items()}
            start, stop = self.offsets[i], self.offsets[i + 1]
            new = self.run(rule, start, stop, flat_buffers, scalars, sources, grad_read_only,
                           one_pass)
            for name, array in self.scalars.items():
                array[i] = new[name]
            stepped.append(self.params[i])
        self.in_lockstep = self.scalars_agree()
        return stepped

    def step_all(self, rule: Callable, flat_buffers: dict[str, np.ndarray],
                 sources: list | None, grad_read_only: bool, one_pass: bool = False) -> None:
        """One update of every parameter at once (their step counts agree), the gradients
        in ``self.grad`` (``sources`` None) or read from ``sources``."""
        scalars = {name: float(array[0]) for name, array in self.scalars.items()}
        new = self.run(rule, 0, self.theta.size, flat_buffers, scalars, sources,
                       grad_read_only, one_pass)
        for name, array in self.scalars.items():
            array.fill(new[name])

    def repeatable(self) -> bool:
        """Whether the next step may be ``step_all`` on ``self.grad`` as it is, with no
        check: no external parameter, the step counts in lockstep, and every gradient
        already in ``self.grad`` (see ``Optimizer._repeat_step``)."""
        return (not self.external and self.in_lockstep
                and all(p.grad is not None and p.grad.array is view
                        for p, view in zip(self.params, self.grad_views)))

    def run(self, rule: Callable, start: int, stop: int, buffers: dict[str, np.ndarray],
            scalars: dict[str, float], grad_sources: list[np.ndarray] | None,
            grad_read_only: bool = False, one_pass: bool = False) -> dict[str, float]:
        """Run ``rule(theta, g, state, scratch)`` over the flat range [start, stop), piece by
        piece (``pieces``).

        ``state`` holds the piece's slices of the flat state arrays and a fresh copy of the
        scalars for every piece, so the rule may update both (``state["step"] += 1``) as if
        it saw one whole tensor. The scalars it computed are returned.

        The gradients come from ``self.grad``, or else from ``grad_sources`` (each
        parameter's gradient, flat), read where they are: each is read from memory once, by
        the rule's first pass over the chunk, and from the cache after that. A chunk within
        one parameter is handed to the rule as a read-only view of its gradient when the
        rule only reads g (``grad_read_only``); otherwise the chunk is first copied into a
        buffer that stays in cache (the rule may then change it; ``p.grad`` never changes).
        """
        tmp, tmp2 = self.scratch
        theta = self.theta
        state = dict(scalars)
        for a, b in self.pieces(start, stop, grad_sources, one_pass):
            if grad_sources is None:
                g = self.grad[a:b]
            else:
                g = self.gradient_chunk(grad_sources, a, b, grad_read_only)
            state = {name: flat[a:b] for name, flat in buffers.items()}
            state.update(scalars)  # every piece starts from the scalars before the step
            scratch = None if one_pass else (tmp[:b - a], tmp2[:b - a])
            rule(theta[a:b], g, state, scratch)
        return {name: state[name] for name in scalars}  # (as the last piece left them)

    def pieces(self, start: int, stop: int, grad_sources: list[np.ndarray] | None,
               one_pass: bool) -> list[tuple[int, int]]:
        """The ranges [a, b) of [start, stop) a rule is applied to, in turn.

        NumPy passes go over cache-sized chunks (``CHUNK``): the first pass over a chunk
        brings it from memory, the others find it in the cache. A one-pass rule (a fused
        loop) gains nothing from chunks and pays for each call: it takes the whole range at
        once, or, when the gradients are read where they are, one parameter at a time (each
        gradient then is one view, never a copy).
        """
        if not one_pass:
            return [(a, min(a + self.chunk, stop))
                    for a in range(start, max(stop, start + 1), self.chunk)]
        if grad_sources is None:
            return [(start, stop)]
        if any(source.dtype != self.dtype for source in grad_sources if source is not None):
            return self.pieces(start, stop, grad_sources, one_pass=False)  # (copies: chunks)
        bounds = [start] + [o for o in self.offsets if start < o < stop] + [stop]
        return list(zip(bounds, bounds[1:]))

    def gradient_chunk(self, sources: list[np.ndarray], start: int, stop: int,
                       read_only: bool) -> np.ndarray:
        """The flat range [start, stop) of the gradients ``sources``: a read-only view when
        it lies within one parameter, ``read_only`` is allowed and the gradient has the
        bucket's dtype; else a copy (in the bucket's dtype)."""
        i = bisect.bisect_right(self.offsets, start) - 1
        if read_only and stop <= self.offsets[i + 1] and sources[i].dtype == self.dtype:
            base = self.offsets[i]
            return sources[i][start - base:stop - base]  # read-only (see flat_view)
        out = self.grad_chunk[:stop - start]
        self.gather(sources, start, stop, out)
        return out

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


def flat_view(array: np.ndarray, read_only: bool) -> np.ndarray:
    """A flat view of ``array``; read-only if asked, so that a rule that writes to a gradient
    it was told to only read raises instead of changing ``p.grad`` (the array itself stays
    writable)."""
    view = array.reshape(-1).view()
    if read_only:
        view.flags.writeable = False
    return view


def aligned_empty(size: int, dtype: np.dtype) -> np.ndarray:
    """An uninitialised flat array of ``size`` elements whose first byte is on an
    ``ALIGNMENT`` boundary (NumPy itself only promises 16 bytes)."""
    itemsize = np.dtype(dtype).itemsize
    raw = np.empty(size * itemsize + ALIGNMENT, np.uint8)
    start = -raw.ctypes.data % ALIGNMENT
    return raw[start:start + size * itemsize].view(dtype)


def only_its_parameter_holds(p, also_held_by: int = 0) -> bool:
    """Whether ``p.array`` is an array of its own, writable, that nothing but ``p`` (and
    ``also_held_by`` known holders) refers to: no other tensor, view or variable could see
    it move into a flat array.

    Uses CPython's reference counts; where there are none the answer is a safe no.
    """
    if p.array.base is not None or not p.array.flags.writeable or _getrefcount is None:
        return False
    return _references(p) <= _REFERENCES_OF_ONE_HOLDER + also_held_by


_getrefcount = getattr(sys, "getrefcount", None)


def _references(holder) -> int:
    array = holder.array
    return _getrefcount(array)  # type: ignore[misc]


class _Holder:
    def __init__(self, data):
        self.array = data


# What _references counts for an array held by one object alone (this call's own references
# included), measured rather than assumed since it differs between Python versions.
_REFERENCES_OF_ONE_HOLDER = _references(_Holder(np.empty(1))) if _getrefcount else 0
