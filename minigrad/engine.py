"""The autodiff engine: the op node and the backward walk.

* ``Function`` is one op, as PyTorch's ``torch.autograd.Function``: ``forward`` computes
  the output from the input Tensors and saves what backward needs; ``backward`` turns the
  gradient of the op's output into gradients of its inputs (a vector-Jacobian product).
  ``SomeOp.apply(*args)`` runs ``forward`` and, when a gradient is wanted, records the call
  as a node of the graph. Every built-in op (the derivative sheet, ``ops.py``) is one.
* ``run_backward`` walks the recorded graph once, from the outputs back to the leaves,
  visiting each node only after every node that used its output has sent it a gradient.
  It also undoes broadcasting (``_sum_to_shape``), once for every op, so no op has to.

Each ``backward`` is written with Tensor ops. Normally it runs with recording switched off,
so it costs no more than NumPy code; with ``create_graph=True`` the gradient computation is
itself recorded, and gradients of gradients (Hessian-vector products, ...) come for free.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Any

import numpy as np

from minigrad.grad_mode import this_thread

# ---------------------------------------------------------------------------------------
# Function: one op of the graph
# ---------------------------------------------------------------------------------------


class Function:
    """One op of the graph, defined as in PyTorch (``torch.autograd.Function``).

    Subclass it and write two static methods::

        class Cube(mg.autograd.Function):
            @staticmethod
            def forward(ctx, x):                # x: a Tensor
                ctx.save_for_backward(x)        # what backward will need
                return x ** 3                   # (not recorded: forward runs under no_grad)

            @staticmethod
            def backward(ctx, grad):            # grad: a Tensor shaped like the output
                (x,) = ctx.saved_tensors
                return grad * 3 * x * x         # one gradient per argument of forward

        y = Cube.apply(t)

    ``apply(*args)`` calls ``forward(ctx, *args)`` with the arguments as given: Tensors
    and anything else (numbers, dims...). ``forward`` returns a Tensor, or a tuple of them
    for several outputs (``backward`` then receives one gradient per output). It may also
    return a NumPy array, which ``apply`` wraps: every built-in op computes on the inputs'
    arrays (``x.array``) that way, so its forward records nothing by construction.

    ``backward`` returns one gradient per argument of ``forward`` (``None`` for arguments
    that need none, such as numbers; missing trailing ones count as ``None``). A gradient
    may be broadcast to a larger shape than its input: the engine sums it back to the
    input's shape. Written with Tensor ops, ``backward`` is differentiable itself
    (``create_graph=True``).

    ``ctx`` is the node of the graph, an instance of the class. Besides what forward stores
    on it, it offers PyTorch's ``save_for_backward`` / ``saved_tensors`` (checked when read:
    a saved tensor changed in place since raises, rather than giving a wrong gradient),
    ``needs_input_grad``, ``mark_non_differentiable`` and ``set_materialize_grads``.
    """

    retain_output_grad = False  # set by ``retain_grad()`` on the output: give it a ``.grad``
    # What ``save_for_backward`` was given, and the versions of those tensors then (None:
    # all at 0, as most are). ``saved_tensors`` compares them before backward reads one.
    _saved: tuple = ()
    _saved_versions: list | None = None
    _saves_outputs = False  # whether some of ``_saved`` are this node's outputs
    _changes_seen = 0  # ``VersionCounter.changes`` when recorded (see there)
    _materialize_grads = True
    _non_differentiable: tuple = ()
    # How many Tensors forward returned; with more than one, ``_output_refs`` holds them.
    n_outputs = 1
    # True for ops whose output may be a view of their first input (reshape, indexing...):
    # the output then shares the input's version counter, as the two share memory.
    is_view = False

    @staticmethod
    def forward(ctx, *args, **kwargs) -> Tensor | np.ndarray | tuple:
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grads: Tensor):
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **kwargs) -> Tensor | tuple[Tensor, ...]:
        ctx = cls()
        modes = this_thread.modes
        recording = False
        if modes.grad_enabled:
            for a in args:
                if isinstance(a, Tensor) and a.requires_grad:
                    recording = True
                    break
        try:
            if recording:
                ctx._inputs = args  # for needs_input_grad, which forward may read
                modes.grad_enabled = False  # forward's own Tensor ops are not recorded
                try:
                    result = cls.forward(ctx, *args, **kwargs)
                finally:
                    modes.grad_enabled = True
            else:
                result = cls.forward(ctx, *args, **kwargs)
        except (ValueError, IndexError, TypeError) as error:
            raise _op_error(cls.__name__, error, args) from error
        if type(result) is np.ndarray:  # as the built-in ops return it: wrap it
            out = Tensor.wrap(result, recording)
        elif type(result) is tuple:
            return _record_outputs(ctx, result, args, recording)
        else:
            recording = recording and not _is_among(result, ctx._non_differentiable)
            out = _as_output(result, args, recording)
            if recording and "_saved" in ctx.__dict__:
                _keep_saved_outputs(ctx, (out,), (result,))
        if modes.anomaly_enabled:
            _check_finite(out.array, f"the forward of {cls.__name__}")
        if recording:
            if ctx._saves_outputs and not isinstance(result, Tensor):
                ctx._saved_result = result  # forward saved the array it returned: see there
            # Record the call: the output points at this node, the node at its inputs,
            # through the nodes that made them (the edges the walk follows, fixed now: an
            # in-place op may later give an input a new grad_fn).
            out.grad_fn = ctx
            ctx._changes_seen = VersionCounter.changes
            ctx._input_nodes = nodes = []  # (a loop: faster than a comprehension, here)
            for a in args:
                nodes.append(a.grad_fn if isinstance(a, Tensor) else None)
            ctx._output_ref = weakref.ref(out)
        if cls.is_view:
            _share_memory_version(out, args[0])
        return out

    # -- what forward and backward use (PyTorch's names) -----------------------------------

    def save_for_backward(self, *tensors: Tensor | np.ndarray | None) -> None:
        """Keep ``tensors`` (inputs or outputs of forward, or None) for backward to read
        as ``saved_tensors``. Their versions are noted now, to check then. A forward that
        returns an array may save that array (as the built-in ops do): backward then reads
        the output Tensor apply made of it."""
        self._saved = tensors
        versions = False
        for t in tensors:
            if t.__class__ is Tensor or isinstance(t, Tensor):
                versions = versions or t.version_counter is not None  # (else all at 0)
            elif t is not None:  # the array forward returns (see apply)
                self._saves_outputs = True
        if versions:
            self._saved_versions = [_version_of(t) for t in tensors]

    @property
    def saved_tensors(self) -> tuple:
        """What forward saved, checked first: none of it was changed in place since."""
        saved = self.__dict__.get("_saved")
        if saved is None:
            if "_input_nodes" in self.__dict__ or "_inputs" in self.__dict__:
                return ()
            raise RuntimeError(
                f"backward through the graph a second time: the saved tensors of {self.name} "
                "were freed by an earlier backward. Pass retain_graph=True to the first "
                "backward() if you need to go back through the same graph again."
            )
        if self._saves_outputs:  # the outputs forward saved, as the live Tensors
            saved = self._live_outputs(saved)
        if self._changes_seen != VersionCounter.changes:
            self._check_saved_versions(saved)  # some tensor changed since: which?
        return saved

    def _live_outputs(self, saved: tuple) -> tuple:
        """``saved`` with the outputs in it as the Tensors apply made: forward saved the array
        it returned (a built-in op), or a Tensor it returned, which is held weakly (see
        ``_keep_saved_outputs``)."""
        outputs = self.outputs()
        result = self.__dict__.get("_saved_result")
        return tuple(outputs[s.index] if s.__class__ is _SavedOutput
                     else outputs[0] if s is result and s is not None else s for s in saved)

    def _check_saved_versions(self, saved: tuple) -> None:
        versions = self._saved_versions or [0] * len(saved)
        for t, version in zip(saved, versions):
            if version is None:  # an array when saved: the output, made at version 0
                version = 0
            if t is not None and version != _version_of(t):
                # Named by the node that made it then: an input's, or this one (an output).
                made_by = next((node for a, node in zip(self._inputs, self._input_nodes)
                                if a is t), self)
                raise _modified_error(self, t, made_by, version)

    @property
    def needs_input_grad(self) -> tuple[bool, ...]:
        """Per argument of forward: whether it is a Tensor that requires grad (backward may
        skip the gradients of the others)."""
        inputs = self.__dict__.get("_inputs") or ()
        return tuple([isinstance(a, Tensor) and a.requires_grad for a in inputs])

    def mark_non_differentiable(self, *outputs: Tensor) -> None:
        """Outputs that get no gradient (indices, masks): they do not require grad, and
        backward receives zeros (or None, see ``set_materialize_grads``) for them."""
        self._non_differentiable = outputs

    def set_materialize_grads(self, value: bool) -> None:
        """Whether backward receives zeros (True, the default) or None for the gradients
        of outputs that nothing differentiated."""
        self._materialize_grads = bool(value)

    # -- the graph, for the walk and for drawing it ----------------------------------------

    @property
    def name(self) -> str:
        return type(self).__name__

    @property
    def recorded_inputs(self) -> tuple | None:
        """The arguments of ``apply`` as recorded (None once the graph is freed), for
        drawing or inspecting the graph. Backward reads ``saved_tensors``."""
        return self.__dict__.get("_inputs")

    @property
    def next_functions(self) -> tuple:
        """PyTorch's edges: per argument of ``apply``, ``(node that made it, 0)``, with
        None for leaves and non-tensors."""
        return tuple((node, 0) for node in self.__dict__.get("_input_nodes", ()))

    def outputs(self) -> list:
        """The Tensors this node made that are still alive (None for the dead ones)."""
        refs = self.__dict__.get("_output_refs")
        if refs is not None:
            return [ref() for ref in refs]
        ref = self.__dict__.get("_output_ref")
        return [ref() if ref is not None else None]

    def output_index(self, t: Tensor) -> int:
        """Which of this node's outputs ``t`` is (0 for single-output nodes)."""
        if self.n_outputs == 1:
            return 0
        return next(i for i, ref in enumerate(self._output_refs) if ref() is t)

    def __repr__(self) -> str:
        return f"<{self.name}>"


# ---------------------------------------------------------------------------------------
# Recording a call, and the version counters that keep saved values honest
# ---------------------------------------------------------------------------------------


def _as_output(result: Any, args: tuple, requires_grad: bool) -> Tensor:
    """What forward returned, as the Tensor that becomes the op's output: an array is
    wrapped; a Tensor that is one of the inputs (``return x``) or that lives elsewhere is
    not adopted (it would take this node as its grad_fn), but shared through a new Tensor."""
    if isinstance(result, np.ndarray):  # (a subclass: a step being compiled)
        return Tensor.wrap(result, requires_grad)
    if not isinstance(result, Tensor):
        return Tensor.wrap(np.asarray(result), requires_grad)
    if (result.__class__ is Tensor and result.grad_fn is None and not result.requires_grad
            and not _is_among(result, args)):  # a new Tensor (saved by forward, often)
        return result.requires_grad_() if requires_grad else result
    out = Tensor.wrap(result.array, requires_grad)
    out.version_counter = result.shared_version_counter()
    return out


def _record_outputs(ctx: Function, results: tuple, args: tuple, recording: bool) -> tuple:
    """``apply`` for a forward that returned several outputs: each becomes a Tensor; when
    recording, the differentiable ones point at ``ctx``, which keeps them by index."""
    outs = tuple(_as_output(r, args, False) for r in results)
    if this_thread.modes.anomaly_enabled:
        for out in outs:
            _check_finite(out.array, f"the forward of {ctx.name}")
    if recording:
        ctx.n_outputs = len(outs)
        ctx._output_refs = [weakref.ref(out) for out in outs]
        ctx._output_layouts = [(out.array.shape, out.array.dtype) for out in outs]
        ctx._changes_seen = VersionCounter.changes
        ctx._input_nodes = [a.grad_fn if isinstance(a, Tensor) else None for a in args]
        for result, out in zip(results, outs):  # integer outputs (indices) never require grad
            if out.array.dtype.kind == "f" and not _is_among(result, ctx._non_differentiable):
                out.requires_grad_(True)
                out.grad_fn = ctx
        if "_saved" in ctx.__dict__:
            _keep_saved_outputs(ctx, outs, results)
    return outs


class _SavedOutput:
    """Stands in ``ctx._saved`` for output ``index`` of the node, which the node holds
    weakly: a strong reference would make a cycle (output → node → output) that only the
    garbage collector frees. The output is alive whenever backward runs (the walk reaches a
    node only through tensors that hold its outputs)."""

    __slots__ = ("index",)

    def __init__(self, index: int):
        self.index = index


def _keep_saved_outputs(ctx: Function, outs: tuple, results: tuple) -> None:
    """Replace the outputs among what forward saved (as the Tensors apply returns, or as
    the arrays forward returned) by ``_SavedOutput`` markers."""
    saved = list(ctx._saved)
    found = False
    for i, s in enumerate(saved):
        for index, (out, result) in enumerate(zip(outs, results)):
            if s is out or s is result:
                saved[i] = _SavedOutput(index)
                found = True
    ctx._saved = tuple(saved)
    ctx._saves_outputs = ctx._saves_outputs or found


def _is_among(t: Tensor, tensors: tuple) -> bool:
    for other in tensors:  # by identity: == on Tensors is elementwise (a loop: faster here)
        if t is other:
            return True
    return False


def _share_memory_version(out: Tensor, source: Tensor) -> None:
    """A view op's output shares its input's version counter when it shares its memory
    (NumPy's reshape, for one, copies when it has to)."""
    if out.array.base is not None and _memory_owner(out.array) is _memory_owner(source.array):
        out.version_counter = source.shared_version_counter()


def _memory_owner(array: np.ndarray) -> np.ndarray:
    """The array that owns ``array``'s memory: NumPy points every view straight at it."""
    return array if array.base is None else array.base


def take_history(target: Tensor, result: Tensor) -> None:
    """After an in-place change: ``target``, whose memory now holds ``result``'s values,
    takes ``result``'s place in the graph, as the output of ``result``'s node. Nodes that
    used ``target`` before keep their edge to its old node (noted when they were recorded)."""
    node = result.grad_fn
    if node is None:
        return
    target.grad_fn = node
    target.requires_grad_(True)
    node._output_ref = weakref.ref(target)


def view_source(t: Tensor) -> Function | None:
    """The node that made ``t`` as a view of its input's memory (reshape, indexing with
    slices...), or None if ``t`` has its own memory or was not recorded."""
    node = t.grad_fn
    if node is None or not node.is_view:
        return None
    source = node.__dict__.get("_inputs", (None,))[0]
    if isinstance(source, Tensor) and _memory_owner(t.array) is _memory_owner(source.array):
        return node
    return None


def view_source_tensor(node: Function) -> Tensor:
    """The tensor whose memory the output of view node ``node`` shares."""
    return node._inputs[0]


def _version_of(t) -> int | None:
    if not isinstance(t, Tensor):
        return None
    counter = t.version_counter
    return counter.value if counter is not None else 0


def _modified_error(node: Function, t: Tensor, made_by: Function | None,
                    expected: int) -> RuntimeError:
    """PyTorch's error for a saved tensor changed in place, naming both versions, the op
    that made the value and the op whose backward needs it."""
    made_by = f", which is output 0 of {made_by.name}," if made_by is not None else ""
    return RuntimeError(
        "one of the variables needed for gradient computation has been modified by an "
        f"inplace operation: [{t.dtype} tensor of shape {tuple(t.shape)}]{made_by} is at "
        f"version {_version_of(t)}; expected version {expected} instead. The backward of "
        f"{node.name} needs its value as it was when {node.name} was applied: change a "
        "copy (.clone()) instead, or apply the op after the in-place change."
    )


class ShapeError(RuntimeError, ValueError):
    """Operands whose shapes do not fit an op. A RuntimeError, as in PyTorch (so PyTorch
    code that catches one works), and a ValueError, as NumPy has it."""


def _op_error(op: str, error: Exception, args: tuple) -> Exception:
    """Re-raise a NumPy error from an op's forward with the op's name and input shapes
    (a ValueError, NumPy's shape mismatch, as a ShapeError)."""
    shapes = ", ".join(str(tuple(a.array.shape)) for a in args if isinstance(a, Tensor))
    kind = ShapeError if type(error) is ValueError else type(error)
    return kind(f"{op}: {error} (input shapes: {shapes})")


def _check_finite(array: np.ndarray, where: str) -> None:
    """``detect_anomaly``: refuse a NaN or Inf, naming where it was made."""
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        kind = "NaN" if np.isnan(array).any() else "Inf"
        raise FloatingPointError(f"detect_anomaly: {where} produced {kind} values")


# ---------------------------------------------------------------------------------------
# The backward walk
# ---------------------------------------------------------------------------------------


def seed_gradient(output: Tensor, gradient: Any, caller: str,
                  argument: str = "gradient") -> Tensor:
    """The gradient that starts a backward walk at ``output`` (given as ``argument``):
    1 for a one-element output when none is given."""
    if gradient is None:
        if output.array.size != 1:
            raise RuntimeError(
                f"{caller}: the output has shape {output.shape}, so its gradient cannot be "
                f"implied; pass {argument}= (a tensor of that shape), or reduce the output "
                "to a scalar first, e.g. .sum()"
            )
        return Tensor.wrap(np.ones_like(output.array))
    if not isinstance(gradient, Tensor):
        gradient = Tensor.wrap(np.asarray(gradient, dtype=output.dtype))
    if gradient.shape != output.shape:
        raise RuntimeError(
            f"{caller}: gradient has shape {gradient.shape} but the output has shape "
            f"{output.shape}"
        )
    return gradient


def run_backward(
    outputs: Sequence[Tensor],
    output_grads: Sequence[Tensor],
    retain_graph: bool,
    create_graph: bool,
    inputs: Sequence[Tensor] | None = None,
) -> list[Tensor | None] | None:
    """Send ``output_grads`` back through the graph of ``outputs``.

    With ``inputs=None`` the gradients are accumulated into ``.grad`` of the leaves that
    require grad (``Tensor.backward``). Otherwise nothing is accumulated anywhere and the
    gradients with respect to ``inputs`` are returned, ``None`` where an input was not
    reached (``minigrad.grad``).

    The walk is Kahn's topological order: first count, for every node, how many uses of
    its output lie in the graph; then start from the outputs and process a node once all
    those uses have sent their gradient to it, so its gradient is complete.
    """
    # What minigrad.grad asked for, keyed by node (or by the tensor itself for a leaf).
    wanted = None if inputs is None else {_grad_key(t): None for t in inputs}

    # 1. Count the edges: how many uses of each node's output will send it a gradient.
    pending = _count_uses(outputs)

    # 2. Walk in Kahn order: a node runs its backward once all those uses have reported.
    sums: dict[Function, Tensor] = {}  # node -> gradient of its output, summed so far
    kept: set[int] = set()  # ids of the arrays that leaves kept as their .grad
    walked = []
    previous_mode = this_thread.modes.grad_enabled
    this_thread.modes.grad_enabled = create_graph  # backward's own ops are recorded only then
    try:
        for out, grad in zip(outputs, output_grads, strict=True):
            if out.grad_fn is not None:
                key = _grad_key(out)
                sums[key] = _add(sums.get(key), grad)
            else:  # backward() of a leaf itself
                _deliver_to_leaf(out, grad, wanted, create_graph, owned=False)
        ready = [node for node, count in pending.items() if count == 0]
        while ready:
            node = ready.pop()
            # Its output's gradient is complete now (None: nothing flowed into the node).
            if node.n_outputs == 1:
                grad = sums.pop(node, None)
                input_grads = ()
                if grad is not None:
                    if wanted is not None or node.retain_output_grad:
                        _hand_over(node, grad, wanted)
                    input_grads = _call_backward(node, (grad,))
            else:
                input_grads = _backward_of_several_outputs(node, sums, wanted)
            for i, t in enumerate(node._inputs):
                if not isinstance(t, Tensor):
                    continue
                child = node._input_nodes[i]  # the node that made t, as recorded (None: a leaf)
                g = input_grads[i] if i < len(input_grads) else None
                if g is not None and (child is not None or t.requires_grad):
                    if g.__class__ is np.ndarray:  # from a fused op's array path
                        g = Tensor.wrap(g)
                    if (g.__class__ is not Tensor or g.array.shape != t.array.shape
                            or g.array.dtype != t.array.dtype):  # most fit: skip the call
                        g = _fit_gradient(g, t, node)
                    if child is not None:  # a non-leaf: sum until its node is walked
                        key = child if child.n_outputs == 1 else (child, child.output_index(t))
                        previous = sums.get(key)
                        sums[key] = g if previous is None else previous + g
                    else:  # a leaf: into .grad, or into the result of minigrad.grad
                        owned = _leaf_may_keep(g, grad, kept)
                        _deliver_to_leaf(t, g, wanted, create_graph, owned)
                if child is not None:
                    pending[child] -= 1
                    if pending[child] == 0:
                        ready.append(child)
            walked.append(node)
    finally:
        this_thread.modes.grad_enabled = previous_mode
        # 3. Free the graph: the inputs and everything saved for backward. Only now: a
        #    node's inputs keep alive the outputs that nodes walked later read.
        if not retain_graph:
            for node in walked:
                node.__dict__.clear()

    if wanted is None:
        return None
    return [wanted[_grad_key(t)] for t in inputs]


def _count_uses(outputs: Sequence[Tensor]) -> dict[Function, int]:
    """For every node in the graph of ``outputs``: how many inputs of other nodes in the
    graph are its output (each will send it a share of its gradient)."""
    pending: dict[Function, int] = {}
    stack = []
    for out in outputs:
        node = out.grad_fn
        if node is not None and node not in pending:
            pending[node] = 0
            stack.append(node)
    while stack:
        node = stack.pop()
        if "_inputs" not in node.__dict__:
            raise RuntimeError(
                f"backward through the graph a second time: the graph of {node.name} was "
                "freed by an earlier backward. Pass retain_graph=True to the first "
                "backward() if you need to go back through the same graph again."
            )
        for child in node._input_nodes:
            if child is not None:
                if child in pending:
                    pending[child] += 1
                else:
                    pending[child] = 1
                    stack.append(child)
    return pending


def _grad_key(t: Tensor):
    """Where the walk sums ``t``'s gradient: under the node that made it (with the output's
    index, for a node with several outputs), or under ``t`` itself for a leaf."""
    node = t.grad_fn
    if node is None:
        return t
    return node if node.n_outputs == 1 else (node, node.output_index(t))


def _add(total: Tensor | None, grad: Tensor) -> Tensor:
    """A running sum of gradients; ``None`` means nothing has arrived yet."""
    return grad if total is None else total + grad


def _hand_over(node: Function, grad: Tensor, wanted: dict | None) -> None:
    """The gradient of ``node``'s output is complete: hand it to whoever asked for it,
    ``minigrad.grad`` (``wanted``) or ``retain_grad()`` on the output."""
    if wanted is not None:
        if node in wanted:
            wanted[node] = grad
    elif node.retain_output_grad:
        out = node._output_ref()  # its gradient, not its value: no version check
        out.grad = _add(out.grad, grad)


def _backward_of_several_outputs(node: Function, sums: dict, wanted: dict | None) -> tuple:
    """The walk's step for a node whose forward returned several Tensors: backward gets
    one gradient per output, zeros (or None, ``set_materialize_grads(False)``) for those
    that nothing differentiated."""
    grads = [sums.pop((node, i), None) for i in range(node.n_outputs)]
    if all(g is None for g in grads):
        return ()
    if wanted is not None:
        for i, g in enumerate(grads):
            if g is not None and (node, i) in wanted:
                wanted[(node, i)] = g
    if node._materialize_grads:
        grads = [g if g is not None else Tensor.wrap(np.zeros(shape, dtype))
                 for g, (shape, dtype) in zip(grads, node._output_layouts)]
    return _call_backward(node, grads)


def _call_backward(node: Function, grads: Sequence[Tensor | None]) -> tuple:
    """``node``'s backward, its result always a tuple, checked."""
    try:
        input_grads = type(node).backward(node, *grads)
    except FloatingPointError as error:  # raised by detect_anomaly in an op of the backward
        raise FloatingPointError(
            f"detect_anomaly: the backward of {node.name} produced non-finite values ({error})"
        ) from error
    if not isinstance(input_grads, tuple):
        input_grads = (input_grads,)
    if len(input_grads) > len(node._inputs):
        raise RuntimeError(
            f"backward of {node.name} returned {len(input_grads)} gradients for "
            f"{len(node._inputs)} inputs"
        )
    if this_thread.modes.anomaly_enabled:
        for g in input_grads:
            if g is not None:
                _check_finite(np.asarray(g.array if isinstance(g, Tensor) else g),
                              f"the backward of {node.name}")
    return input_grads


def _deliver_to_leaf(t: Tensor, grad: Tensor, wanted: dict | None, create_graph: bool,
                     owned: bool) -> None:
    """Add ``grad`` to what leaf ``t`` has received: the result of ``minigrad.grad`` if
    it asked for ``t`` (nothing goes into ``.grad`` then), else ``t.grad``."""
    if wanted is not None:
        if t in wanted:
            wanted[t] = _add(wanted[t], grad)
    elif create_graph:  # the sum is recorded too: t.grad is differentiable
        t.grad = _add(t.grad, grad)
    else:
        t.accumulate_grad(grad, owned)


def _leaf_may_keep(g: Tensor, incoming: Tensor, kept: set[int]) -> bool:
    """Whether a leaf may keep ``g``'s array as its ``.grad`` rather than a copy (saves a
    copy per parameter and backward): yes when a backward made it for this input alone;
    no for the incoming gradient passed on (Add gives it to both inputs), a view of
    another array, or an array that another leaf already kept."""
    if g is incoming or g.array.base is not None or id(g.array) in kept:
        return False
    kept.add(id(g.array))
    return True


def _fit_gradient(grad: Any, t: Tensor, node: Function) -> Tensor:
    """The gradient an op's backward returned for input ``t``, made to fit ``t``: a Tensor,
    summed over the dims that broadcasting added, in ``t``'s dtype. This is the one place
    where broadcasting is undone, so no op has to do it itself."""
    if not isinstance(grad, Tensor):  # a backward may return arrays (the fused ops do)
        grad = Tensor.wrap(grad if isinstance(grad, np.ndarray) else np.asarray(grad))
    if grad.array.shape == t.array.shape and grad.array.dtype == t.array.dtype:
        return grad  # most gradients fit already
    if grad.shape != t.shape:
        grad = _sum_to_shape(grad, t.shape, node)
    if grad.dtype != t.dtype:
        grad = grad.to(t.dtype)
    return grad


def _sum_to_shape(grad: Tensor, shape: tuple[int, ...], node: Function) -> Tensor:
    """Sum ``grad`` over the dims that broadcasting ``shape`` to ``grad.shape`` created."""
    lead = grad.ndim - len(shape)
    fits = lead >= 0 and all(n == 1 or n == m for n, m in zip(shape, grad.shape[lead:]))
    if not fits:
        raise RuntimeError(f"backward of {node.name} returned a gradient of shape "
                           f"{grad.shape} for an input of shape {shape}")
    dims = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1
    )
    if dims:
        grad = grad.sum(dims)
    return grad.reshape(shape) if grad.shape != shape else grad


# Tensor builds on Function (its ops are Functions) and Function makes Tensors: whichever
# of the two modules is imported first, the other is complete by the time either is used.
from minigrad.tensor import Tensor, VersionCounter  # noqa: E402
