"""The ``Optimizer`` base class: parameter groups, state, ``step``, ``zero_grad``, checkpoints.

An optimizer subclass only states its update rule, on NumPy arrays, as if for one tensor::

    def _update(self, group, theta, g, state, scratch):
        ...                       # θ, g and the state arrays, updated in place

and declares the state it keeps (``_state_buffers``: arrays shaped like the parameter,
``_state_scalars``: one number per parameter such as ``step``). This class does the rest:
it packs each group's parameters into one flat array (a ``FlatGroup``, see ``_flat.py``) so
that the rule runs once for all of them, skips parameters without a gradient, publishes each
parameter's state in ``state``, and reads and writes checkpoints in PyTorch's format.

``state`` is what it says, as in PyTorch: an entry deleted (``state.clear()``,
``del state[p]``) restarts that parameter's state from zero at the next step, an entry
replaced by another dict is taken in, and ``copy.deepcopy`` gives an independent optimizer.
"""

from __future__ import annotations

import copy
import functools
import math
import numbers
import operator
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from minigrad import capture
from minigrad.grad_mode import enable_grad
from minigrad.optim._flat import FlatGroup
from minigrad.tensor import Tensor, bump_versions

ParamsT = Iterable[Tensor] | Iterable[dict[str, Any]]


# Group entries that choose how a step runs here, not what it computes (``fused``,
# ``foreach``): ``load_state_dict`` keeps the optimizer's own (a checkpoint saved with
# fused=True loads where numba is missing, and one saved before they existed loads too).
_OPTIONS = ("foreach", "fused")


class Optimizer:
    """Base class of all optimizers (``torch.optim.Optimizer``'s interface).

    ``params`` is an iterable of Tensors, or of dicts (*parameter groups*) that each have a
    ``"params"`` entry and may override any hyperparameter of ``defaults``::

        optim.SGD([{"params": body, "lr": 1e-2}, {"params": head}], lr=1e-3, momentum=0.9)
    """

    # Per-parameter numbers of the state and their initial values (arrays shaped like the
    # parameter are declared by ``_state_buffers``, since which ones exist may depend on the
    # group, e.g. Adam's ``max_exp_avg_sq`` only with amsgrad).
    _state_scalars: dict[str, float] = {"step": 0.0}
    # Scalars kept for the optimizer's own use and not shown in ``state`` or checkpoints.
    _hidden_state: tuple[str, ...] = ()
    # Whether every parameter has its (initial) state from the start, before any step, as
    # PyTorch's Adagrad does; otherwise a parameter's state appears with its first step.
    _state_at_construction = False

    def __init__(self, params: ParamsT, defaults: dict[str, Any]):
        self.defaults = dict(defaults)
        self._validate_group(self.defaults)
        if isinstance(params, Tensor):
            raise TypeError(
                "optimizer: params must be an iterable of Tensors or of dicts, but got a "
                "Tensor; wrap it in a list: [tensor]"
            )
        if isinstance(params, set | frozenset):
            raise TypeError("optimizer: params must be an ordered collection (a list), not a set, "
                            "so that the order of the parameters is the same in every run")
        param_groups = list(params)
        if not param_groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        self.param_groups: list[dict[str, Any]] = []
        self.state: defaultdict[Tensor, dict[str, Any]] = StateDict()
        self._storage: dict[int, FlatGroup] = {}  # group index -> its packed parameters
        # parameter -> the entry of ``state`` showing its flat state and the views it held, to
        # notice when the user deleted or replaced the entry or one of its values
        self._published: dict[Tensor, tuple[dict[str, Any], tuple]] = {}
        for group in param_groups:
            self.add_param_group(group)
        if self._state_at_construction:
            for index, group in enumerate(self.param_groups):
                flat = self._flat_group(index)
                for p in group["params"]:
                    self._publish_state(flat, p)

    # -- what a subclass provides ----------------------------------------------------------

    def _validate_group(self, group: dict[str, Any]) -> None:
        """Raise ``ValueError`` naming the hyperparameter if a value of ``group`` is invalid."""

    def _state_buffers(self, group: dict[str, Any]) -> dict[str, float]:
        """The state arrays (shaped like each parameter) and the value each starts at."""
        return {}

    def _update(self, group: dict[str, Any], theta: np.ndarray, g: np.ndarray,
                state: dict[str, Any], scratch: tuple[np.ndarray, np.ndarray]) -> None:
        """Apply one step of the rule in place to ``theta`` given the gradient ``g``.

        ``g`` is the optimizer's own copy of the gradient (``p.grad`` is never changed), so
        the rule may overwrite it — unless ``_leaves_grad_alone(group)`` says it does not, in
        which case ``g`` may be a read-only view of ``p.grad``; ``state`` maps the names of
        ``_state_buffers`` to arrays shaped like ``theta`` and those of ``_state_scalars`` to
        numbers, which the rule updates in place (``state["step"] += 1``); ``scratch`` is two
        arrays like ``theta`` for intermediate results. Rules start with ``begin_step_``
        (``_moments.py``): maximize, step count and weight decay.
        """
        raise NotImplementedError

    def _reads_grad_only(self, group: dict[str, Any]) -> bool:
        """Whether the rule's NumPy passes leave g unchanged for this group."""
        return False

    def _fused(self, group: dict[str, Any]) -> bool:
        """Whether ``_update`` runs as one compiled loop for this group (``_kernels.py``): a
        rule that makes one pass over memory, needs no scratch and leaves g unchanged."""
        return False

    def _leaves_grad_alone(self, group: dict[str, Any]) -> bool:
        """Whether ``_update`` leaves g unchanged for this group (a fused loop always does):
        then it may be handed the gradients where they are (read-only), which saves a copy
        of them per step."""
        return self._fused(group) or self._reads_grad_only(group)

    def _complete_loaded_state(self, entry: dict[str, Any]) -> None:
        """Fill in hidden scalars that a checkpoint in PyTorch's format does not carry."""

    # -- parameter groups -------------------------------------------------------------------

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters, with hyperparameters that default to ``defaults``."""
        if not isinstance(param_group, dict):
            raise TypeError(f"add_param_group: a param group must be a dict, got "
                            f"{type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError("add_param_group: the param group has no 'params' entry")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set | frozenset):
            raise TypeError("add_param_group: 'params' must be an ordered collection (a list), "
                            "not a set")
        else:
            params = list(params)
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but parameter {i} of the "
                                f"group is a {type(p).__name__}")
            if p.grad_fn is not None:
                raise ValueError(f"can't optimize a non-leaf Tensor (parameter {i} of the "
                                 f"group was made by {p.grad_fn.name})")
            if p.array.dtype.kind != "f":
                raise TypeError(f"optimizer: parameter {i} of the group has dtype "
                                f"{p.array.dtype}; only floating-point tensors can be optimized")
        if len({id(p) for p in params}) != len(params):
            raise ValueError("add_param_group: the group contains the same parameter twice")
        known = {id(p) for group in self.param_groups for p in group["params"]}
        if any(id(p) in known for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        group = {**self.defaults, **param_group, "params": params}
        self._validate_group(group)
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients: to ``None`` (the default, as PyTorch), or to zeros."""
        if capture.capturing():  # in a step being compiled: replay calls it again
            return capture.run_as_call(self.zero_grad, set_to_none, idempotent=True)
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                elif p.grad.grad_fn is not None:  # a gradient made with create_graph=True
                    p.grad = Tensor.wrap(np.zeros_like(p.grad.array))
                else:
                    p.grad.array.fill(0)

    # -- the step ---------------------------------------------------------------------------

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; return ``closure()``'s loss, if given.

        ``closure`` re-evaluates the model and returns the loss (it should zero the gradients
        and call ``backward``); it is called with gradients enabled, before the update.
        """
        if capture.capturing():  # in a step being compiled: replay calls it again
            return capture.run_as_call(self.step, closure)
        self._step_called = True  # lets a scheduler warn if it is stepped first
        if closure is None and self._repeat_step():
            return None
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        storage = [self._flat_group(index) for index in range(len(self.param_groups))]
        for group in self.param_groups:  # check everything before changing any parameter
            self._check_grads(group)
        if getattr(self.state, "edited", True):  # (a flag: no loop over the entries)
            for group, flat in zip(self.param_groups, storage):
                self._take_in_state_changes(group, flat)
        for group, flat in zip(self.param_groups, storage):
            rule = functools.partial(self._update, group)  # rule(theta, g, state, scratch)
            stepped = flat.step(rule, self._state_buffers(group),
                                self._leaves_grad_alone(group), self._fused(group))
            bump_versions(stepped)  # changed in place: a graph that saved them must not use them
            for p in stepped:
                if not self.state.get(p):  # its first step: publish its state
                    self._publish_state(flat, p)
        if isinstance(self.state, StateDict):  # what the step put there is taken in already
            self.state.edited = False
        self._remember_step(storage)
        return loss

    # -- an optimisation: the same step again ----------------------------------------------

    _last_step: tuple | None = None

    def _remember_step(self, storage: list) -> None:
        """After a full step: note what ``_repeat_step`` needs to do the same step again
        without its checks, if it can (every gradient already where the update reads it:
        a compiled step's, see ``gradient_buffer``)."""
        self._last_step = None
        if not all(self._leaves_grad_alone(g) for g in self.param_groups):
            return
        buckets = [b for flat in storage for b in flat.buckets]
        if not all(b.repeatable() for b in buckets):
            return
        checks = tuple((p, p.array, p.grad, p.grad.array) for b in buckets for p in b.params)
        runs = tuple((group, functools.partial(self._update, group),
                      self._state_buffers(group), self._fused(group), bucket)
                     for group, flat in zip(self.param_groups, storage)
                     for bucket in flat.buckets)
        shape = tuple(len(g["params"]) for g in self.param_groups)
        self._last_step = (checks, runs, shape, tuple(b.params for b in buckets))

    def _repeat_step(self) -> bool:
        """Optimisation: the last step again, without its checks, when nothing they check
        has changed since: the same parameter arrays, the same gradient tensors holding the
        same arrays (in the flat gradient buffer), the same groups and hyperparameters'
        state buffers, the state not edited. A compiled step gives exactly that each time;
        an eager one makes new gradients, and takes the full step. Returns whether it ran."""
        last = self._last_step
        if last is None or getattr(self.state, "edited", True):
            return False
        checks, runs, shape, params = last
        for p, array, grad, grad_array in checks:
            if (p.array is not array or p.grad is not grad or grad.array is not grad_array
                    or not array.flags.writeable):
                return False
        if tuple(len(g["params"]) for g in self.param_groups) != shape:
            return False
        for group, _, buffers, fused, _ in runs:
            if (self._state_buffers(group) != buffers or not self._leaves_grad_alone(group)
                    or self._fused(group) != fused):
                return False
        for _, rule, buffers, fused, bucket in runs:
            bucket.step_all(rule, bucket.add_buffers(buffers), None, True, fused)
        for stepped in params:
            bump_versions(stepped)
        return True

    def gradient_buffer(self, p: Tensor) -> np.ndarray | None:
        """Where this optimizer gathers parameter p's gradient before a step: an array
        shaped like p, part of one flat buffer. A gradient that is written there (as a
        compiled step writes it, ``mg.compile``) needs no gathering: the step reads it
        where it is. None if p is not one of this optimizer's parameters, or if its update
        rule changes the gradient it is given (then it must work on a copy: ``p.grad``
        never changes)."""
        for index, group in enumerate(self.param_groups):
            if any(p is q for q in group["params"]):
                if not self._leaves_grad_alone(group):
                    return None
                return self._flat_group(index).gradient_buffer(p)
        return None

    def _check_grads(self, group: dict[str, Any]) -> None:
        for i, p in enumerate(group["params"]):
            if p.grad is None:
                continue
            if p.grad.array.shape != p.array.shape:
                raise RuntimeError(f"{type(self).__name__}.step: a parameter of shape "
                                   f"{p.array.shape} has a gradient of shape "
                                   f"{p.grad.array.shape}")
            if not p.array.flags.writeable:
                raise RuntimeError(f"{type(self).__name__}.step: parameter {i} of its group "
                                   f"(shape {p.array.shape}) is read-only")

    def _take_in_state_changes(self, group: dict[str, Any], flat: FlatGroup) -> None:
        """Make the flat state follow what was done to ``self.state`` since the last step: a
        deleted entry restarts from zero (as PyTorch's), a new dict or value is checked and
        taken in."""
        for p in group["params"]:
            published, views = self._published.get(p, (None, None))
            if published is None:
                continue
            entry = self.state.get(p)
            if (entry is published and len(entry) == len(views)
                    and all(map(operator.is_, entry.values(), views))):
                continue  # as published (its values may have been changed in place)
            checked = self._checked_entry(p, entry, "state") if entry else None
            del self._published[p]
            if checked is not None:
                flat.set_state(p, checked)
            else:
                self.state.pop(p, None)
                flat.reset_state(p)
            if entry or self._state_at_construction:
                self._publish_state(flat, p)

    # -- flat storage (see ``_flat.py``) ------------------------------------------------------

    def _flat_group(self, index: int) -> FlatGroup:
        flat = self._storage.get(index)
        if flat is None:
            return self._pack(index, {})
        if not flat.follows_params():
            # A parameter changed dtype (``p.array = p.array.astype(...)``): repack the group,
            # carrying its state over in the new dtype.
            group = self.param_groups[index]
            return self._pack(index, {p: flat.state_copy(p) for p in group["params"]
                                      if self.state.get(p)})
        return flat

    def _pack(self, index: int, initial_state: dict[Tensor, dict[str, Any]]) -> FlatGroup:
        """Pack group ``index`` into flat arrays, its state starting from ``initial_state``."""
        self._last_step = None  # (new flat arrays: the next step is a full one)
        group = self.param_groups[index]
        for p in group["params"]:
            self.state.pop(p, None)
            self._published.pop(p, None)
        flat = FlatGroup(group["params"], self._state_buffers(group), self._state_scalars,
                         initial_state)
        for p in group["params"]:
            if initial_state.get(p):
                self._publish_state(flat, p)
        self._storage[index] = flat
        return flat

    def _publish_state(self, flat: FlatGroup, p: Tensor) -> None:
        """Show p's state in ``self.state[p]``: views into the flat arrays, so it always shows
        the current values (changes in place act at once; new values or a deleted entry are
        taken in by the next step, see ``_take_in_state_changes``)."""
        entry = flat.state_views(p, hidden=self._hidden_state)
        if entry:
            entry = StateEntry(entry, self.state)
            self.state[p] = entry
            self._published[p] = (entry, tuple(entry.values()))

    def __deepcopy__(self, memo: dict) -> Optimizer:
        """An independent copy (with copies of the parameters, or of the model when it is
        copied along: ``copy.deepcopy((model, optimizer))``)."""
        clone = object.__new__(type(self))
        memo[id(self)] = clone
        clone.__dict__.update(copy.deepcopy(
            {k: v for k, v in self.__dict__.items() if k != "_last_step"}, memo))
        # The copied ``state`` holds copies of the views it showed: show the copied flat state.
        for index, flat in clone._storage.items():
            for p in clone.param_groups[index]["params"]:
                if p in clone._published:
                    clone._publish_state(flat, p)
        return clone

    # -- checkpoints ----------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state in PyTorch's layout, as copies::

            {"state": {index: {"step": 3.0, "exp_avg": ndarray, ...}},
             "param_groups": [{"lr": 0.001, ..., "params": [0, 1, ...]}]}

        Parameters are numbered in the order of the groups. Everything in it is an ndarray,
        a number, a bool, a string, None, a list or a dict, so ``mg.save`` can store it.
        """
        index_of: dict[int, int] = {}
        param_groups = []
        for group in self.param_groups:
            packed = {key: _plain(value) for key, value in group.items() if key != "params"}
            packed["params"] = []
            for p in group["params"]:
                index_of[id(p)] = len(index_of)
                packed["params"].append(index_of[id(p)])
            param_groups.append(packed)
        state = {}
        for p, entry in self.state.items():
            if entry and id(p) in index_of:
                state[index_of[id(p)]] = {
                    name: float(value) if np.ndim(value) == 0 else np.array(value)
                    for name, value in entry.items()
                }
        return {"state": state, "param_groups": param_groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a ``state_dict()`` (also one saved by ``torch.optim`` for the same model).

        Everything is checked first — the number of groups, of parameters per group, the shape
        of every state array — and nothing changes if anything is wrong.
        """
        name = type(self).__name__
        if not isinstance(state_dict, dict) or set(state_dict) != {"state", "param_groups"}:
            raise ValueError(f"{name}.load_state_dict: expected a dict with the keys 'state' and "
                             "'param_groups'")
        saved_groups = state_dict["param_groups"]
        if not isinstance(state_dict["state"], dict) or not isinstance(saved_groups, list | tuple):
            raise ValueError(f"{name}.load_state_dict: 'state' should be a dict and "
                             "'param_groups' a list")
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{name}.load_state_dict: the state dict has {len(saved_groups)} "
                             f"parameter groups, the optimizer has {len(self.param_groups)}")
        params_of: dict[int, Tensor] = {}
        new_groups = []
        for g, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            if not isinstance(saved, dict) or not isinstance(saved.get("params"), list | tuple):
                raise ValueError(f"{name}.load_state_dict: parameter group {g} of the state "
                                 "dict should be a dict with a list of 'params'")
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    f"{name}.load_state_dict: parameter group {g} has {len(saved['params'])} "
                    f"parameters in the state dict and {len(group['params'])} in the optimizer")
            missing = sorted(set(self.defaults) - set(saved) - set(_OPTIONS))
            if missing:  # e.g. the state dict of another kind of optimizer
                raise ValueError(
                    f"{name}.load_state_dict: parameter group {g} of the state dict lacks "
                    f"{', '.join(missing)}; is it the state of another kind of optimizer?")
            for i, p in zip(saved["params"], group["params"]):
                index = _parameter_index(i, name)
                if index in params_of:
                    raise ValueError(f"{name}.load_state_dict: parameter index {index} appears "
                                     "twice in the state dict's parameter groups")
                params_of[index] = p
            new_group = {key: _restore(value, self.defaults.get(key))
                         for key, value in saved.items() if key not in ("params", *_OPTIONS)}
            new_group.update({key: group[key] for key in _OPTIONS if key in group})
            new_group["params"] = group["params"]
            self._validate_group(new_group)
            new_groups.append(new_group)
        new_state: dict[Tensor, dict[str, Any]] = {}
        for key, saved_entry in state_dict["state"].items():
            p = params_of.get(_parameter_index(key, name))
            if p is None:
                raise ValueError(f"{name}.load_state_dict: state for parameter {key}, but there "
                                 f"are only {len(params_of)} parameters")
            new_state[p] = self._checked_entry(p, saved_entry,
                                               f"load_state_dict: parameter {key}")

        # Everything checked: now apply.
        for group, new_group in zip(self.param_groups, new_groups):
            group.clear()
            group.update(new_group)
        self.state = StateDict()
        self._storage = {}
        for index in range(len(self.param_groups)):
            self._pack(index, new_state)

    def _checked_entry(self, p: Tensor, saved_entry: dict[str, Any],
                       where: str) -> dict[str, Any]:
        """A parameter's state entry (from a checkpoint, or put in ``state`` by the user) as
        numbers and arrays of the parameter's dtype, checked."""
        name = type(self).__name__
        if not isinstance(saved_entry, dict):
            raise ValueError(f"{name}.{where}: the state should be a dict, got "
                             f"{type(saved_entry).__name__}")
        entry = {}
        for state_name, value in saved_entry.items():
            array = np.asarray(value.array if isinstance(value, Tensor) else value)
            if array.dtype.kind not in "biuf":
                raise ValueError(f"{name}.{where}: '{state_name}' should be numbers, got "
                                 f"{type(value).__name__} of dtype {array.dtype}")
            if state_name in self._state_scalars:
                if array.size != 1:
                    raise ValueError(f"{name}.{where}: '{state_name}' should be a number, "
                                     f"got shape {array.shape}")
                entry[state_name] = float(array.reshape(()))
            elif array.shape != p.array.shape:
                raise StateShapeError(
                    f"{name}.{where}: '{state_name}' has shape {array.shape}, but the "
                    f"parameter has shape {p.array.shape}")
            else:
                entry[state_name] = array.astype(p.array.dtype)
        self._complete_loaded_state(entry)
        return entry

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(key for key in group if key != "params"):
                lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)


def _marks_edited(method_name: str, of_entry: bool):
    method = getattr(dict, method_name)

    def edit(self, *args, **kwargs):
        (self.owner if of_entry else self).edited = True
        return method(self, *args, **kwargs)

    edit.__name__ = method_name
    return edit


_EDITS = ("__setitem__", "__delitem__", "pop", "popitem", "clear", "update", "setdefault",
          "__ior__")


class StateDict(defaultdict):
    """``optimizer.state``: PyTorch's ``defaultdict(dict)``, which notes whether it (or one
    of the entries the optimizer put in it) was edited since the last step. A step checks
    every entry against the flat state only then, rather than every step (changes made in
    place to an entry's arrays need no check: they are views of the state)."""

    def __init__(self, *args):
        super().__init__(*(args or (dict,)))
        self.edited = False

    def __missing__(self, key):
        self.edited = True
        return super().__missing__(key)

    def __reduce__(self):  # (copies: a StateDict again, with its entries)
        return type(self), (self.default_factory,), {"edited": True}, None, iter(self.items())


class StateEntry(dict):
    """One parameter's entry of ``optimizer.state``, as the optimizer shows it: a dict that
    tells its ``StateDict`` when it is edited."""

    def __init__(self, values: dict, owner: StateDict):
        super().__init__(values)
        self.owner = owner

    def __reduce__(self):
        return type(self), (dict(self), self.owner)


for _name in _EDITS:
    setattr(StateDict, _name, _marks_edited(_name, of_entry=False))
    setattr(StateEntry, _name, _marks_edited(_name, of_entry=True))


class StateShapeError(RuntimeError, ValueError):
    """A state array whose shape is not its parameter's: a RuntimeError, as PyTorch's size
    mismatches are, and a ValueError, as minigrad's refusals of a checkpoint were."""


def has_stepped(optimizer: Optimizer) -> bool:
    """Whether ``optimizer.step()`` has been called (a scheduler warns if it steps first)."""
    return getattr(optimizer, "_step_called", False)


def _parameter_index(key: Any, optimizer: str) -> int:
    """A parameter's index in a state dict (an int, or a str of one after a JSON round trip)."""
    try:
        if isinstance(key, bool) or (isinstance(key, float) and not key.is_integer()):
            raise ValueError
        return int(key)
    except (TypeError, ValueError):
        raise ValueError(f"{optimizer}.load_state_dict: {key!r} is not a parameter index"
                         ) from None


def _plain(value: Any) -> Any:
    """A hyperparameter as plain data for a checkpoint (tuples become lists)."""
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def _restore(value: Any, default: Any) -> Any:
    """A hyperparameter read from a checkpoint, in the type of its default (lists → tuples)."""
    if isinstance(default, tuple) and isinstance(value, list | tuple):
        return tuple(value)
    if isinstance(value, np.ndarray) and value.ndim == 0:  # numbers stored as 0-d arrays
        return value.item()
    return value


# -- checks shared by the optimizers' ``_validate_group`` ------------------------------------


def check_non_negative(optimizer: str, group: dict[str, Any], *names: str) -> None:
    for name in names:
        value = group[name]
        if not isinstance(value, numbers.Real) or math.isnan(value) or value < 0:
            raise ValueError(f"{optimizer}: invalid {name}={value!r}; it must be a number >= 0")


def check_unit_interval(optimizer: str, name: str, value: Any) -> None:
    """0 ≤ value < 1, as a decay rate of a moving average must be."""
    if not isinstance(value, numbers.Real) or not 0.0 <= value < 1.0:
        raise ValueError(f"{optimizer}: invalid {name}={value!r}; it must be in [0, 1)")


def as_pair(betas: Any) -> Any:
    """``betas`` as a tuple when it is a sequence (checked later by ``check_betas``)."""
    return tuple(betas) if isinstance(betas, tuple | list) else betas


def check_betas(optimizer: str, betas: Any) -> None:
    if not isinstance(betas, tuple | list) or len(betas) != 2:
        raise ValueError(f"{optimizer}: invalid betas={betas!r}; expected a pair (beta1, beta2)")
    check_unit_interval(optimizer, "betas[0]", betas[0])
    check_unit_interval(optimizer, "betas[1]", betas[1])
