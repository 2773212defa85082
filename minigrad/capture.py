"""A captured step: what a JIT compiler does for a training step, done in NumPy.

``step = mg.compile(step_fn)`` returns a function that computes what ``step_fn`` computes.
Eager mode builds a graph on every call: a Tensor and a node per op, a backward walk that
schedules the nodes, gradients summed in dictionaries. For a small model that bookkeeping
costs more than the arithmetic. But the *arithmetic* of a training step is the same every
time: the same NumPy kernels, on arrays of the same shapes, in the same order. So:

0. **Set up.** The first call runs ``step_fn`` as it is (the optimizer makes its state).
1. **Record.** The second call runs ``step_fn`` eagerly, with its tensor arguments'
   arrays replaced by ``Traced`` arrays (an ``ndarray`` subclass). NumPy hands every
   operation on a ``Traced`` array to it (``__array_ufunc__``, ``__array_function__``),
   and it writes each kernel down, with the array it produced, on a tape. Views (reshape,
   transpose, slices) are not kernels: they stay views of the same memory.
2. **Check.** The third call (same shapes) replays the tape up to the optimizer step, then
   records ``step_fn`` again eagerly and compares every array the two produced. Anything
   the tape missed (a value computed outside NumPy's protocols, kept as a constant) would
   show as a difference; then ``step_fn`` stays eager for those shapes, with a warning.
3. **Replay.** The checked tape is written out as the source of one Python function, one
   line per kernel (``step.source()`` shows it), and from then on a call copies its
   arguments into the tape's input arrays and runs it: each kernel writes into the array
   it wrote when recorded (``out=``); no Tensors, no graph, no allocation. The gradients
   are written where the optimizer reads them (``Optimizer.gradient_buffer``), and
   ``optimizer.step()`` runs as it is (its learning rate and step count change from call
   to call); each parameter's ``.grad`` is the array its gradient was written into.

Values that steer Python (``if x.any():``, ``float(x)``) are written down as *guards*:
replay checks them and, if one differs, runs eagerly and records anew. New shapes or
dtypes of the arguments record a new tape (each kept: the last batch of an epoch is often
smaller). Eager mode stays the reference: a captured step gives the same numbers
(``tests/test_compile.py`` checks it step for step).

What a step may do: tensor ops, modules, losses, ``loss.backward()``,
``optimizer.zero_grad()`` and ``optimizer.step()``, and return tensors (copied out). What
stays eager, always: steps that draw random numbers (dropout) or update running statistics
(batch norm in training mode). Other Python side effects (printing, counting, a scheduler
step) happen only when the step is recorded: keep them outside the compiled function.
"""

from __future__ import annotations

import builtins
import functools
import operator
import threading
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from minigrad import rng, tensor
from minigrad.tensor import Tensor

# The tape being recorded by this thread (None: none), and whether it is paused.
_recording = threading.local()
_recordings = 0  # how many are being recorded, in all threads: 0 lets eager code skip all this
_recordings_lock = threading.Lock()


def capturing() -> bool:
    """Whether this thread is recording a step right now (and not paused)."""
    if not _recordings:
        return False
    tape = getattr(_recording, "tape", None)
    return tape is not None and not tape.paused


def note_side_effect(reason: str) -> None:
    """Called by code whose effect a tape cannot replay (a random draw, running statistics):
    a step being recorded stays eager."""
    tape = getattr(_recording, "tape", None)
    if tape is not None and not tape.paused and tape.impure is None:
        tape.impure = reason


def run_as_call(method: Callable, *args, idempotent: bool = False, **kwargs) -> Any:
    """Run ``method`` now and, in a step being recorded, put the call itself on the tape
    (replay calls it again): for ``optimizer.step()`` and ``zero_grad()``, whose numbers
    (step count, learning rate) change from call to call. An ``idempotent`` call (twice
    is once: ``zero_grad``) may be replayed by the check before a fresh recording."""
    tape = _recording.tape
    if not idempotent:
        tape.mark_external()
    optimizer = getattr(method, "__self__", None)
    for group in getattr(optimizer, "param_groups", ()):
        tape.parameters.extend((p, p.array) for p in group["params"])
    tape.entries.append((method, args, kwargs))
    tape.written.append(None)
    tape.paused = True
    try:
        return method(*args, **kwargs)
    finally:
        tape.paused = False


def note_gradient(leaf: Tensor) -> None:
    """Backward has just given ``leaf`` its ``.grad``: in a step being recorded, replay
    gives it a ``.grad`` holding the same memory (its gradient is written there)."""
    if capturing():
        tape = _recording.tape
        grad = Tensor.wrap(_plain(leaf.grad.array))  # the same Tensor, every replay
        tape.entries.append((_set_grad, (leaf, grad), {}))
        tape.written.append(None)


def _set_grad(leaf: Tensor, grad: Tensor) -> None:
    leaf.grad = grad


# ---------------------------------------------------------------------------------------
# Traced: an ndarray whose operations are written down
# ---------------------------------------------------------------------------------------


class _Stale(Exception):
    """Raised by a guard during replay: a value that steered Python has changed."""


def _plain(x: Any) -> Any:
    """``x`` with every ``Traced`` array in it as a plain view of the same memory."""
    if isinstance(x, Traced):
        return x.view(np.ndarray)
    if isinstance(x, tuple):
        return tuple(_plain(item) for item in x)
    if isinstance(x, list):
        return [_plain(item) for item in x]
    if isinstance(x, dict):
        return {key: _plain(value) for key, value in x.items()}
    return x


def _is_view_of_inputs(result: np.ndarray, inputs: list) -> bool:
    return any(isinstance(a, np.ndarray) and np.may_share_memory(result, a) for a in inputs)


def _arrays_in(x: Any) -> list:
    """The arrays in ``x``: itself, or inside its tuples, lists, dicts and Tensors."""
    if isinstance(x, np.ndarray):
        return [x]
    if isinstance(x, tuple | list):
        return [a for item in x for a in _arrays_in(item)]
    if isinstance(x, dict):
        return _arrays_in(list(x.values()))
    if isinstance(x, Tensor):
        return [x.array]
    return []


def _recompute_into(buffers: tuple, function: Callable, args: tuple, kwargs: dict) -> None:
    """Replay of a NumPy function that makes new arrays (no ``out=``): call it, and copy
    what it returns into the buffers."""
    result = function(*args, **kwargs)
    results = result if isinstance(result, tuple | list) else (result,)
    for buffer, value in zip(buffers, results):
        if buffer is not None:
            np.copyto(buffer, value, casting="unsafe")


def _check_guard(array: np.ndarray, convert: Callable, expected: Any) -> None:
    if convert(array) != expected:
        raise _Stale


class Traced(np.ndarray):
    """An array whose NumPy operations are written on the tape of the step being recorded.
    Outside a recording (or while it is paused) it computes as a plain array."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        inputs = _plain(inputs)
        out = kwargs.get("out")
        if out is not None:
            kwargs["out"] = _plain(out)
        function = ufunc if method == "__call__" else getattr(ufunc, method)
        result = function(*inputs, **kwargs)
        if not capturing():
            return result
        tape = _recording.tape
        if method == "at":  # in place, into inputs[0]
            tape.record(function, inputs, kwargs, (inputs[0],))
            return None
        if out is not None:
            tape.record_ufunc(function, method, inputs, kwargs)
            return out[0] if len(out) == 1 else out
        results = result if isinstance(result, tuple) else (result,)
        owners = tuple(tape.new_buffer(r) for r in results)
        buffers = tuple(owner.view(np.ndarray) for owner in owners)
        tape.record_ufunc(function, method, inputs, dict(kwargs, out=buffers))
        return owners if isinstance(result, tuple) else owners[0]

    def __array_function__(self, function, types, args, kwargs):
        args, kwargs = _plain(args), _plain(kwargs)
        result = function(*args, **kwargs)
        if not capturing():
            return result
        if function in _FROM_SHAPE_ONLY:  # new memory whose values do not depend on the data
            owner = _recording.tape.new_buffer(result)
            if function is not np.empty_like:  # (empty: nothing to put back)
                plain = owner.view(np.ndarray)
                _recording.tape.record(np.copyto, (plain, np.array(result)), {}, (plain,))
            return owner
        return _recorded_result(function, args, kwargs, result)

    # Methods NumPy does not route through the protocols above are written down too: the
    # ones that may make a new array, below the class (``_traced_method``), and these.

    def __getitem__(self, key):
        return _recorded_method(operator.getitem, self, _plain(key))

    def __setitem__(self, key, value):
        plain, key, value = self.view(np.ndarray), _plain(key), _plain(value)
        plain[key] = value
        if capturing():
            _recording.tape.record(operator.setitem, (plain, key, value), {}, (plain,))

    def fill(self, value):
        self.view(np.ndarray).fill(value)
        if capturing():
            plain = self.view(np.ndarray)
            _recording.tape.record(np.ndarray.fill, (plain, value), {}, (plain,))

    # Values that leave NumPy for Python: guards.

    def _guard(self, convert: Callable) -> Any:
        plain = self.view(np.ndarray)
        value = convert(plain)
        if capturing():
            _recording.tape.guard(plain, convert, value)
        return value

    def __bool__(self):
        return self._guard(bool)

    def __float__(self):
        return self._guard(float)

    def __int__(self):
        return self._guard(int)

    def __index__(self):
        return self._guard(operator.index)

    def item(self, *args):
        return self._guard(functools.partial(np.ndarray.item, *args) if args else
                           np.ndarray.item)

    def tolist(self):
        return self._guard(np.ndarray.tolist)


# NumPy functions whose result depends on their argument's shape and dtype only.
_FROM_SHAPE_ONLY = (np.empty_like, np.zeros_like, np.ones_like, np.full_like)


def _traced_method(name: str) -> Callable:
    """``ndarray.<name>`` written down when it makes a new array (``copy``, ``astype``;
    ``reshape`` of a non-contiguous array; ``dot``, ``argmax``... are C methods outside
    NumPy's protocols). One that returns a view of the array stays a view."""
    method = getattr(np.ndarray, name)

    def traced(self, *args, **kwargs):
        return _recorded_method(method, self, *args, **kwargs)

    traced.__name__ = name
    return traced


for _name in ("copy", "astype", "ravel", "flatten", "reshape", "dot", "argmax", "argmin",
              "argsort", "repeat", "take", "nonzero", "searchsorted", "diagonal", "compress",
              "choose", "squeeze", "swapaxes", "transpose"):
    setattr(Traced, _name, _traced_method(_name))


def _recorded_method(function: Callable, array: Traced, *args, **kwargs):
    plain = array.view(np.ndarray)
    result = function(plain, *args, **kwargs)
    if not capturing():
        return result
    return _recorded_result(function, (plain, *args), kwargs, result)


def _recorded_result(function: Callable, args: tuple, kwargs: dict, result: Any):
    """The result of a NumPy function in a step being recorded: a view of the inputs stays
    a view; anything new is a buffer that replay fills by calling ``function`` again."""
    tape = _recording.tape
    inputs = _arrays_in(args) + _arrays_in(list(kwargs.values()))
    if result is None:  # changed an argument in place (np.copyto, np.put_along_axis...)
        tape.record(function, args, kwargs, tuple(inputs[:1]))
        return None
    results = result if isinstance(result, tuple | list) else (result,)
    buffers = []
    traced = []
    for r in results:
        if isinstance(r, np.ndarray) and _is_view_of_inputs(r, inputs):
            buffers.append(None)
            traced.append(r.view(Traced))
        elif isinstance(r, np.ndarray | np.generic | int | float | bool | complex):
            owner = tape.new_buffer(r)
            buffers.append(owner.view(np.ndarray))
            traced.append(owner)
        else:  # not an array (a shape, a dtype...): a constant
            buffers.append(None)
            traced.append(r)
    if any(b is not None for b in buffers):
        tape.record(_recompute_into, (tuple(buffers), function, args, kwargs), {},
                    tuple(b for b in buffers if b is not None))
    if isinstance(result, tuple | list):
        return type(result)(traced)
    return traced[0]


# ---------------------------------------------------------------------------------------
# The tape
# ---------------------------------------------------------------------------------------


_NO_DEFAULT = object()
_UFUNC_DEFAULTS = {"dtype": None, "keepdims": False, "where": True}


class Tape:
    """One recorded step: its kernels in order, each with the arrays it wrote."""

    def __init__(self):
        self.entries: list[tuple] = []  # (function, args, kwargs), called in turn by replay
        self.written: list[tuple | None] = []  # per entry: the arrays it writes
        self.paused = False
        self.impure: str | None = None
        self.inputs: list[np.ndarray] = []  # the arrays the arguments are copied into
        self.outputs: Any = None  # how to build the result from the tape's arrays
        self.owned: set[int] = set()  # ids of the arrays the tape made (its memory)
        # (parameter, its array when recorded): replay needs the same arrays (an optimizer
        # that repacks its parameters, or ``p.data = other``, makes the tape stale).
        self.parameters: list[tuple[Tensor, np.ndarray]] = []
        # The first entry with an effect outside the tape's memory (a kept call, or a write
        # into a parameter or a gradient from before): where a checking replay stops.
        self.first_external: int | None = None

    def new_buffer(self, value: Any) -> Traced:
        """A ``Traced`` array of the tape's own, holding ``value``."""
        value = np.asarray(value)
        owner = Traced(value.shape, value.dtype)
        owner.view(np.ndarray)[...] = value
        self.owned.add(id(owner))
        return owner

    def input_buffer(self, value: np.ndarray) -> np.ndarray:
        buffer = np.array(value)
        self.owned.add(id(buffer))
        self.inputs.append(buffer)
        return buffer

    def owns(self, array: np.ndarray) -> bool:
        return id(_root(array)) in self.owned

    def mark_external(self) -> None:
        if self.first_external is None:
            self.first_external = len(self.entries)

    def record(self, function: Callable, args: tuple, kwargs: dict, written: tuple) -> None:
        if not all(self.owns(a) for a in written):
            self.mark_external()
        self.entries.append((function, args, kwargs))
        self.written.append(written)

    def record_ufunc(self, function: Callable, method: str, inputs: tuple,
                     kwargs: dict) -> None:
        """A ufunc writing into ``kwargs["out"]``; a plain call takes its outputs as
        positional arguments (``np.add(a, b, out)``), which NumPy parses faster."""
        # (NumPy 2.4 deprecates a positional output for maximum and minimum alone)
        if method == "__call__" and len(kwargs) == 1 and function not in (np.maximum,
                                                                          np.minimum):
            self.record(function, (*inputs, *kwargs["out"]), {}, kwargs["out"])
        else:  # (the defaults NumPy passes to reduce, dropped: the program reads better)
            kwargs = {key: value for key, value in kwargs.items()
                      if _UFUNC_DEFAULTS.get(key, _NO_DEFAULT) is not value}
            self.record(function, inputs, kwargs, kwargs["out"])

    def guard(self, array: np.ndarray, convert: Callable, value: Any) -> None:
        if self.first_external is not None and self.impure is None:
            # Replay could not go back on the effects before it: stay eager.
            self.impure = "a value read after optimizer.step() (or another effect) steers it"
        self.entries.append((_check_guard, (array, convert, value), {}))
        self.written.append(None)

    def replay(self, tensors: list, stop: int | None = None) -> None:
        """Run the kernels (the first ``stop`` of them) on the arguments' values."""
        for p, array in self.parameters:
            if p.array is not array:
                raise _Stale
        for buffer, t in zip(self.inputs, tensors):
            np.copyto(buffer, t.array)
        if stop is None and self.program is not None:
            self.program()
            return
        for function, args, kwargs in self.entries[:stop]:
            function(*args, **kwargs)

    program = None  # the entries as one Python function (see write_program), once checked

    def write_program(self) -> None:
        """Turn the entries into the source of one Python function, one line per kernel,
        and compile it: what a JIT does last (the calls then cost no loop, no unpacking).
        ``source`` keeps the text, to read."""
        from minigrad import _fusion  # (a pass over tapes: it imports this module)

        namer = _Namer()
        lines = ["def replay():"]
        for function, args, kwargs in _fusion.fuse(_simplified(self.entries), self.outputs):
            call = ", ".join([namer.expression(a) for a in args]
                             + [f"{key}={namer.expression(v)}" for key, v in kwargs.items()])
            line = f"    {namer.function(function)}({call})"
            note = _describe(function, args, kwargs)
            lines.append(f"{line:<60}  # {note}" if note else line)
        if len(lines) == 1:
            lines.append("    pass")
        self.source = "\n".join(lines) + "\n"
        code = builtins.compile(self.source, "<minigrad.compile>", "exec")
        namespace = dict(namer.names)
        exec(code, namespace)
        self.program = namespace["replay"]


def _simplified(entries: list) -> list:
    """The entries with the ``.grad`` bookkeeping made cheaper, doing the same: the
    ``.grad`` settings gathered into one call (``set_grads``) just before the next call
    that might read them (kernels read arrays, never ``.grad``), and a ``zero_grad()``
    left out when every parameter it clears gets its ``.grad`` there again."""
    result: list = []
    pending: list = []  # the (leaf, grad) pairs not yet set
    cleared: list = []  # [index in result, ids of the parameters a zero_grad clears]
    for function, args, kwargs in entries:
        if function is _set_grad:
            pending.append(args)
            continue
        if _may_read_grads(function):
            _flush(result, pending, cleared)
            if getattr(function, "__name__", "") == "zero_grad" and (
                    args[0] if args else kwargs.get("set_to_none", True)):
                optimizer = function.__self__
                cleared.append([len(result), {id(p) for group in optimizer.param_groups
                                              for p in group["params"]}])
        result.append((function, args, kwargs))
    _flush(result, pending, cleared)
    dropped = {index for index, ids in cleared if not ids}
    return [entry for i, entry in enumerate(result) if i not in dropped]


def _may_read_grads(function: Callable) -> bool:
    """Whether a line may read a ``.grad``: a call of an object's method (an optimizer's),
    not a NumPy kernel nor one of this module's."""
    owner = getattr(function, "__self__", None)
    return owner is not None and not isinstance(owner, np.ufunc | type(np))


def _flush(result: list, pending: list, cleared: list) -> None:
    if pending:
        result.append((_set_grads, (tuple(pending),), {}))
        set_again = {id(leaf) for leaf, _ in pending}
        for entry in cleared:  # a zero_grad whose parameters all get a .grad here: not needed
            entry[1] -= set_again
        pending.clear()
    cleared[:] = [entry for entry in cleared if not entry[1]]  # (kept: only those to drop)


def _set_grads(pairs: tuple) -> None:
    for leaf, grad in pairs:
        leaf._grad = grad  # (``.grad``'s setter checked these pairs when they were recorded)


class _Namer:
    """Names for the objects a program uses: its arrays (``a0``, ``a1``... in the order they
    appear), its functions (NumPy's by their names), anything else (``k0``...)."""

    def __init__(self):
        self.names: dict[str, Any] = {}
        self.by_key: dict[Any, str] = {}
        self.counts: dict[str, int] = {}

    def _bind(self, obj: Any, key: Any, prefix: str) -> str:
        name = self.by_key.get(key)
        if name is None:
            number = self.counts.get(prefix, 0)
            self.counts[prefix] = number + 1
            name = f"{prefix}{number}"
            self.by_key[key] = name
            self.names[name] = obj
        return name

    def function(self, function: Callable) -> str:
        owner = getattr(function, "__self__", None)
        if isinstance(function, np.ufunc):
            name, key = function.__name__, id(function)
        elif isinstance(owner, np.ufunc):  # add.reduce, add.at...: made anew at each access
            name, key = f"{owner.__name__}_{function.__name__}", (id(owner), function.__name__)
        else:
            name, key = getattr(function, "__name__", "call").lstrip("_"), id(function)
        known = self.by_key.get(key)
        if known is not None:
            return known
        if name in self.names:  # another function of the same name: number it
            return self._bind(function, key, name + "_")
        self.by_key[key] = name
        self.names[name] = function
        return name

    def expression(self, value: Any) -> str:
        if value is None or isinstance(value, bool | int | float | str):
            return repr(value)
        if isinstance(value, slice):
            return f"slice({value.start!r}, {value.stop!r}, {value.step!r})"
        if value is Ellipsis:
            return "Ellipsis"
        if isinstance(value, tuple):
            inner = ", ".join(self.expression(v) for v in value)
            return f"({inner},)" if len(value) == 1 else f"({inner})"
        if isinstance(value, dict) and not value:
            return "{}"
        if callable(value) and not isinstance(value, np.ndarray | Tensor):
            return self.function(value)
        if isinstance(value, np.ndarray):  # the same memory and layout: the same name
            key = (value.__array_interface__["data"][0], value.shape, value.strides,
                   value.dtype.str)
            return self._bind(value, key, "a")
        return self._bind(value, id(value), "k")


def _describe(function: Callable, args: tuple, kwargs: dict) -> str:
    """A comment for a line of the program: the shapes it works on."""
    if function is _check_guard:
        return f"guard: {getattr(args[1], '__name__', 'value')}(...) == {args[2]!r}"
    if function is _set_grads:
        return f".grad of {len(args[0])} parameters"
    shapes = " ".join(str(tuple(a.shape)) for a in args if isinstance(a, np.ndarray))
    fused = getattr(function, "fuses", None)  # a loop of _fusion.py: the kernels it replaces
    return f"{shapes}, fused: {fused}" if fused else shapes


def _build_outputs(tape: Tape, result: Any) -> Any:
    """How replay rebuilds ``step_fn``'s result: its tensors from the tape's arrays."""
    if isinstance(result, Tensor):
        return ("tensor", _plain(result.array))
    if isinstance(result, tuple | list):
        return (type(result), [_build_outputs(tape, r) for r in result])
    return ("constant", result)


def _make_outputs(spec: Any) -> Any:
    kind, value = spec
    if kind == "tensor":
        return Tensor.wrap(np.array(value))  # a copy: the next replay overwrites the tape
    if kind == "constant":
        return value
    return kind(_make_outputs(s) for s in value)


# ---------------------------------------------------------------------------------------
# compile
# ---------------------------------------------------------------------------------------


class CompiledStep:
    """``step_fn``, recorded once per signature (shapes and dtypes of its tensor arguments,
    values of the others) and replayed; see the module docstring."""

    def __init__(self, step_fn: Callable, warn: bool = True):
        self.step_fn = step_fn
        self.warn = warn
        # signature -> [state, tape]: "new" (called once, eagerly), "unchecked" (recorded),
        # "ok" (checked: replayed), "eager" (not capturable)
        self.tapes: dict = {}
        self.recordings: dict = {}  # signature -> how many times a guard sent it back
        functools.update_wrapper(self, step_fn)

    def __call__(self, *args):
        key = _signature(args)
        tensors = [a for a in args if isinstance(a, Tensor)]
        entry = self.tapes.get(key)
        if entry is None:  # the first call runs as it is: optimizers set up their state
            self.tapes[key] = ["new", None]
            return self.step_fn(*args)
        if entry[0] == "new":
            self.tapes[key] = ["unchecked", self._record(args)]
            return self.tapes[key][1].result
        state, tape = entry
        if state == "eager":
            return self.step_fn(*args)
        if state == "unchecked":
            return self._check(key, tape, args, tensors)
        try:
            tape.replay(tensors)
        except _Stale:  # a guard failed: record anew (and check that tape next time)
            return self._record_again(key, args)
        return _make_outputs(tape.outputs)

    # A tape that goes stale this often is not worth recording (a value read for Python
    # that changes every step, as ``loss.item()`` inside the step): the step stays eager.
    MAX_RECORDINGS = 8

    def _record_again(self, key, args: tuple):
        self.recordings[key] = self.recordings.get(key, 0) + 1
        if self.recordings[key] > self.MAX_RECORDINGS:
            self._stay_eager(key, "a value read for Python (item(), float(), bool(), an "
                                  "`if` on a tensor) changes from call to call; return the "
                                  "tensor and read it outside the compiled step")
            return self.step_fn(*args)
        self.tapes[key] = ["unchecked", self._record(args)]
        return self.tapes[key][1].result

    def _stay_eager(self, key, reason: str) -> None:
        self.tapes[key] = ["eager", None]
        if self.warn:
            warnings.warn(f"compile: {getattr(self.step_fn, '__name__', 'step')} stays eager "
                          f"for these shapes: {reason}", RuntimeWarning, stacklevel=4)

    def _record(self, args: tuple) -> Tape:
        tape = Tape()
        traced_args = []
        for a in args:
            if isinstance(a, Tensor):
                buffer = tape.input_buffer(a.array)
                traced_args.append(Tensor.wrap(buffer.view(Traced), a.requires_grad))
            else:
                traced_args.append(a)
        _start_recording(tape)
        try:
            result = self.step_fn(*traced_args)
        finally:
            _stop_recording()
        tape.outputs = _build_outputs(tape, result)
        tape.result = _make_outputs(tape.outputs)
        _untrace_gradients(tape)
        if tape.impure is None and not _depends_on_arguments(tape):
            tape.impure = ("its results do not come from its tensor arguments (only they are "
                           "traced: pass the data in as arguments)")
        return tape

    def _check(self, key, tape: Tape, args: tuple, tensors: list):
        """Replay up to the first effect outside the tape (so that nothing the user sees
        changes), record anew, and compare everything the two wrote."""
        ran = tape.first_external if tape.first_external is not None else len(tape.entries)
        try:
            tape.replay(tensors, stop=ran)
            replayed = [None if w is None else [np.array(a) for a in w]
                        for w in tape.written[:ran]]
        except _Stale:  # a value that steers Python changed: check on the next call
            return self._record_again(key, args)
        fresh = self._record(args)
        reason = fresh.impure or tape.impure
        if reason is None:
            reason = _difference(replayed, fresh, ran)
        if reason is None:
            _gradients_into_optimizers(fresh)
            fresh.write_program()
            self.tapes[key] = ["ok", fresh]
        else:
            self._stay_eager(key, reason)
        return fresh.result

    def source(self) -> str:
        """The programs replayed, as Python source: one line per NumPy kernel, the
        optimizer's calls and the guards, with the shapes in comments (one program per
        signature that was checked). What the step does, with everything else taken away."""
        parts = []
        for key, (state, tape) in self.tapes.items():
            shapes = ", ".join(str(k[0]) for k in key if k[0] != "value")
            if state == "ok":
                parts.append(f"# arguments of shapes {shapes}\n{tape.source}")
            else:
                parts.append(f"# arguments of shapes {shapes}: {state}, no program\n")
        return "\n".join(parts)


def _difference(replayed: list, fresh: Tape, ran: int) -> str | None:
    """Why the replayed arrays and a fresh recording's differ (None if they agree)."""
    if len(fresh.entries) < ran:
        return "the step did different work on the second call"
    for i, (old, new) in enumerate(zip(replayed, fresh.written[:ran])):
        if (old is None) != (new is None) or (old is not None and len(old) != len(new)):
            return "the step did different work on the second call"
        for a, b in zip(old or (), new or ()):
            if a.shape != b.shape or not np.allclose(a, b, rtol=1e-6, atol=1e-12,
                                                      equal_nan=True):
                name = getattr(fresh.entries[i][0], "__name__", "an operation")
                return (f"replaying {name} (kernel {i}) did not give what running the step "
                        "did: a value was computed outside NumPy's protocols")
    return None


def _gradients_into_optimizers(tape: Tape) -> None:
    """Let each gradient the tape makes be written straight into the optimizer's flat
    gradient buffer (``Optimizer.gradient_buffer``), as a hand-written step would: the
    optimizer then reads it there instead of gathering it. A gradient whose memory the tape
    also uses in another layout (a view) keeps its own."""
    optimizers = [getattr(function, "__self__", None) for function, _, _ in tape.entries]
    optimizers = [o for o in optimizers if hasattr(o, "gradient_buffer")]
    if not optimizers:
        return
    uses: dict[int, list] = {}  # the tape's memory -> the arrays on the tape that show it
    for array in _arrays_in([(args, tuple(kwargs.values())) for _, args, kwargs in tape.entries]):
        uses.setdefault(id(_root(array)), []).append(array)
    replacements: dict[int, np.ndarray] = {}
    for function, args, _ in tape.entries:
        if function is not _set_grad:
            continue
        leaf, grad = args
        target = next((t for t in (o.gradient_buffer(leaf) for o in optimizers)
                       if t is not None), None)
        old = grad.array
        root = _root(old)
        if (target is None or target.shape != old.shape or target.dtype != old.dtype
                or not tape.owns(old) or root.size != old.size
                or any(a.shape != old.shape or a.strides != old.strides
                       for a in uses.get(id(root), []))):
            continue
        np.copyto(target, old)  # (this call's gradient, for whoever reads .grad now)
        for a in uses.get(id(root), []):
            replacements[id(a)] = target
        grad.array = target
    if replacements:
        tape.entries = [(function, _replaced(args, replacements),
                         _replaced(kwargs, replacements))
                        for function, args, kwargs in tape.entries]


def _root(array: np.ndarray) -> np.ndarray:
    while array.base is not None:
        array = array.base
    return array


def _replaced(x: Any, replacements: dict) -> Any:
    if isinstance(x, np.ndarray):
        return replacements.get(id(x), x)
    if isinstance(x, tuple):
        return tuple(_replaced(item, replacements) for item in x)
    if isinstance(x, list):
        return [_replaced(item, replacements) for item in x]
    if isinstance(x, dict):
        return {key: _replaced(value, replacements) for key, value in x.items()}
    return x


def _depends_on_arguments(tape: Tape) -> bool:
    """Whether every tensor the step returns, and every ``.grad`` it sets, is memory of the
    tape: computed from the arguments, so that replay computes it anew."""
    arrays = [args[1].array for function, args, _ in tape.entries if function is _set_grad]

    def returned(spec):
        kind, value = spec
        if kind == "tensor":
            arrays.append(value)
        elif kind != "constant":
            for s in value:
                returned(s)

    returned(tape.outputs)
    return all(tape.owns(a) for a in arrays)


def _untrace_gradients(tape: Tape) -> None:
    """After recording: the ``.grad`` replay sets hold plain arrays, never ``Traced`` ones."""
    for function, args, _ in tape.entries:
        if function is _set_grad:
            leaf, grad = args
            if leaf.grad is not None and isinstance(leaf.grad.array, Traced):
                leaf.grad = grad


def _signature(args: tuple) -> tuple:
    key = []
    for a in args:
        if isinstance(a, Tensor):
            key.append((a.array.shape, a.array.dtype.str, a.requires_grad))
        else:
            try:
                hash(a)
                key.append(("value", a))
            except TypeError:
                key.append(("object", id(a)))
    return tuple(key)


def compile(step_fn: Callable | None = None, *, warn: bool = True):
    """``step_fn`` as a captured step: recorded on its first call, checked on its second,
    replayed after (see this module's docstring). Also a decorator (``@mg.compile``)."""
    if step_fn is None:
        return functools.partial(compile, warn=warn)
    return CompiledStep(step_fn, warn=warn)


def note_value(array: np.ndarray, convert: Callable, value: Any) -> None:
    """A value read from a tensor for Python: in a step being recorded, a guard (a
    ``Traced`` array has already kept it; this catches plain views of the tape's memory)."""
    if capturing() and not isinstance(array, Traced) and _recording.tape.owns(array):
        _recording.tape.guard(array, convert, value)


def _start_recording(tape: Tape) -> None:
    """Make ``tape`` this thread's recording, and hook into the code that tells it things
    (eager code, while nothing is recorded anywhere, only finds the hooks empty)."""
    global _recordings
    with _recordings_lock:
        _recordings += 1
        tensor.gradient_hook = note_gradient
        tensor.value_hook = note_value
        rng.draw_hook = _note_random_draw
    _recording.tape = tape


def _stop_recording() -> None:
    global _recordings
    _recording.tape = None
    with _recordings_lock:
        _recordings -= 1
        if not _recordings:
            tensor.gradient_hook = tensor.value_hook = rng.draw_hook = None


def _note_random_draw() -> None:
    note_side_effect("it draws random numbers")
