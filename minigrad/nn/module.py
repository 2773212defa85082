"""``Module``: the base of every layer, and ``Parameter``: a tensor a module learns.

A module registers what is assigned to its attributes, in the order of assignment:

    self.weight = Parameter(...)      # a parameter: returned by parameters(), saved
    self.register_buffer("running_mean", t)   # state that is saved but not learned
    self.fc = Linear(2, 3)            # a sub-module: its parameters are ours too

That registration is all ``parameters()``, ``state_dict()`` and ``train()``/``eval()`` need:
they walk the registered names recursively, producing PyTorch's dotted names
(``fc.weight``, ``layers.1.bias``) in PyTorch's order, so a state dict moves to the
equivalent ``torch.nn`` model unchanged.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from minigrad.tensor import Tensor, float32, float64, to_array
from minigrad.tensor_methods import to_arguments


class Parameter(Tensor):
    """A tensor that is a learned parameter of a ``Module`` (``requires_grad=True``).

    ``Parameter(data)`` shares the array of a Tensor or float ndarray it is given (as
    PyTorch's does), so ``Parameter(t)`` and ``t`` see the same numbers, also after optimizer
    steps, and share their version counter.
    """

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True):
        if data is None:
            data = np.empty(0, dtype=float32)
        if isinstance(data, Tensor):
            self.version_counter = data.shared_version_counter()
            data = data.array
        if not (isinstance(data, np.ndarray) and data.dtype in (float32, float64)):
            data = to_array(data)
        self.array = data
        self.grad = None
        self.grad_fn = None
        self._retains_grad = False
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(strict=False)`` could not match, as in PyTorch."""

    missing_keys: list[str]
    unexpected_keys: list[str]


def _addindent(text: str, spaces: int) -> str:
    lines = text.split("\n")
    return "\n".join([lines[0]] + [" " * spaces + line for line in lines[1:]])


class Module:
    """Base class of layers and models: subclass it, assign parameters and sub-modules in
    ``__init__`` and write ``forward``. Calling the module calls ``forward``."""

    training: bool

    def __init__(self) -> None:
        # Set through object.__setattr__: our own __setattr__ needs these dicts to exist.
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", OrderedDict())

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} has no forward() method")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # -- registration ---------------------------------------------------------------------
    #
    # A registered value lives in its registry (``_parameters``, ``_buffers``, ``_modules``)
    # and also in the instance ``__dict__``, so that reading ``self.weight`` in ``forward``
    # is a plain attribute lookup: no ``__getattr__`` on the hot path.

    def _check_ready(self) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot assign parameters, buffers or modules before "
                f"Module.__init__() is called (call super().__init__() first in "
                f"{type(self).__name__}.__init__)"
            )

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, Parameter | Module):
            self._check_ready()
            # Assignment replaces whatever had the name (a plain attribute, or a registered
            # value of another kind); register_parameter and add_module alone would refuse.
            self._forget(name)
            self.__dict__.pop(name, None)
            if isinstance(value, Parameter):
                self.register_parameter(name, value)
            else:
                self.add_module(name, value)
        elif "_parameters" in self.__dict__ and name in self._parameters:
            if value is not None:
                raise TypeError(
                    f"cannot assign a {type(value).__name__} to parameter '{name}' of "
                    f"{type(self).__name__} (a Parameter or None is required)"
                )
            self.register_parameter(name, None)
        elif "_modules" in self.__dict__ and name in self._modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign a {type(value).__name__} to sub-module '{name}' of "
                    f"{type(self).__name__} (a Module or None is required)"
                )
            self._modules[name] = None
            object.__setattr__(self, name, None)
        elif "_buffers" in self.__dict__ and name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign a {type(value).__name__} to buffer '{name}' of "
                    f"{type(self).__name__} (a Tensor or None is required)"
                )
            self._buffers[name] = value
            object.__setattr__(self, name, value)
        else:
            object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        for registry in ("_parameters", "_buffers", "_modules"):
            if name in self.__dict__.get(registry, ()):
                del self.__dict__[registry][name]
                self._non_persistent_buffers.discard(name)
        object.__delattr__(self, name)

    def _forget(self, name: str) -> None:
        """Take ``name`` out of every registry (it is about to be registered anew)."""
        for registry in (self._parameters, self._buffers, self._modules):
            registry.pop(name, None)
        self._non_persistent_buffers.discard(name)

    def _is_registered(self, name: str) -> bool:
        return name in self._parameters or name in self._buffers or name in self._modules

    def _refuse_other_kind(self, name: str, kind: str) -> None:
        """As PyTorch: ``register_buffer("w", ...)`` must not silently drop a parameter ``w``
        (an optimizer would no longer see it), nor a sub-module."""
        for other, registry in (("parameter", self._parameters), ("buffer", self._buffers),
                                ("module", self._modules)):
            if other != kind and name in registry:
                raise KeyError(f"cannot register {kind} '{name}': {type(self).__name__} "
                               f"already has a {other} of that name")

    def _check_name(self, name: str, kind: str) -> None:
        if not isinstance(name, str):
            raise TypeError(f"{kind} name must be a str, got {type(name).__name__}")
        if name == "" or "." in name:
            raise KeyError(f"{kind} name must be non-empty and contain no '.', got {name!r}")
        if hasattr(self, name) and not self._is_registered(name):
            raise KeyError(f"attribute '{name}' already exists on {type(self).__name__}")

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (or a ``None`` placeholder, e.g. ``bias=False``) named ``name``."""
        self._check_ready()
        self._check_name(name, "parameter")
        self._refuse_other_kind(name, "parameter")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"register_parameter: '{name}' must be a Parameter or None, got "
                f"{type(param).__name__}"
            )
        self._forget(name)
        self._parameters[name] = param
        object.__setattr__(self, name, param)

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add state that is not learned (BatchNorm's running statistics). Persistent
        buffers are part of ``state_dict()``."""
        self._check_ready()
        self._check_name(name, "buffer")
        self._refuse_other_kind(name, "buffer")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"register_buffer: '{name}' must be a Tensor or None, got {type(tensor).__name__}"
            )
        self._forget(name)
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent_buffers.add(name)
        object.__setattr__(self, name, tensor)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a sub-module named ``name`` (``register_module`` is the same)."""
        self._check_ready()
        self._check_name(name, "module")
        self._refuse_other_kind(name, "module")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: '{name}' must be a Module, got {type(module).__name__}")
        self._forget(name)
        self._modules[name] = module
        object.__setattr__(self, name, module)

    register_module = add_module

    def get_submodule(self, target: str) -> Module:
        """The sub-module at the dotted path ``target`` (``""`` is this module)."""
        module = self
        for part in target.split(".") if target else ():
            child = module._modules.get(part)
            if child is None:
                raise AttributeError(f"{type(module).__name__} has no sub-module '{part}' "
                                     f"(looking up '{target}')")
            module = child
        return module

    # -- walking the tree -----------------------------------------------------------------

    def named_modules(self, memo: set | None = None, prefix: str = "") -> Iterator[tuple]:
        """``(dotted name, module)`` for this module and every sub-module, each once."""
        if memo is None:
            memo = set()
        if id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is not None:
                yield from module.named_modules(memo, f"{prefix}.{name}" if prefix else name)

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator[Module]:
        for _, module in self.named_children():
            yield module

    def _named_members(self, registry: str, prefix: str, recurse: bool) -> Iterator[tuple]:
        seen = set()  # a tensor shared by two modules is listed once, as in PyTorch
        modules = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in getattr(module, registry).items():
                if value is None or id(value) in seen:
                    continue
                seen.add(id(value))
                yield (f"{module_prefix}.{name}" if module_prefix else name), value

    def named_parameters(self, prefix: str = "", recurse: bool = True
                         ) -> Iterator[tuple[str, Parameter]]:
        """``(dotted name, parameter)`` in registration order: ``0.weight``, ``0.bias``, ..."""
        return self._named_members("_parameters", prefix, recurse)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "", recurse: bool = True
                      ) -> Iterator[tuple[str, Tensor]]:
        return self._named_members("_buffers", prefix, recurse)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    # -- modes, gradients, dtypes ---------------------------------------------------------

    def train(self, mode: bool = True) -> Module:
        """Training mode (dropout drops, batch norm uses batch statistics), recursively."""
        if not isinstance(mode, bool):
            raise ValueError(f"train: mode must be a bool, got {mode!r}")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode: ``train(False)``."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: ``.grad = None`` (default), or zero them in place."""
        for param in self.parameters():
            if param.grad is None:
                continue
            if set_to_none:
                param.grad = None
            else:
                param.grad.array[...] = 0

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every sub-module (children first) and then on this module."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    def to(self, *args: Any, dtype: Any = None, device: Any = None,
           non_blocking: bool = False) -> Module:
        """As ``torch.nn.Module.to``: ``to(device)``, ``to(dtype)``, ``to(tensor)`` (its
        dtype), ``to(device, dtype)``, or the same as keywords. A dtype converts the
        parameters, their gradients and the float buffers (``float32`` or ``float64``), in
        place: the Parameter objects stay the same. The CPU is the only device."""
        dtype = to_arguments(args, dtype, device, "Module.to")
        if dtype is None:
            return self  # a device alone: the CPU, where everything already is
        if dtype not in (float32, float64):
            raise TypeError(f"Module.to: dtype must be float32 or float64, got {dtype}")
        for tensor in [*self.parameters(), *self.buffers()]:
            if tensor.dtype.kind == "f" and tensor.dtype != dtype:
                tensor.array = tensor.array.astype(dtype)
                if tensor.grad is not None:
                    tensor.grad = Tensor.wrap(tensor.grad.array.astype(dtype))
        return self

    def cpu(self) -> Module:
        return self

    def float(self) -> Module:
        return self.to(float32)

    def double(self) -> Module:
        return self.to(float64)

    # -- state dicts ----------------------------------------------------------------------

    def state_dict(self, destination: dict | None = None, prefix: str = "",
                   keep_vars: bool = False) -> OrderedDict[str, Tensor]:
        """Every parameter and persistent buffer by dotted name, in PyTorch's order (a
        module's own parameters, then its buffers, then its sub-modules'). The values are
        detached tensors sharing the module's arrays (``keep_vars=True``: the tensors)."""
        if destination is None:
            destination = OrderedDict()
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, buffer in self._buffers.items():
            if buffer is not None and name not in self._non_persistent_buffers:
                destination[prefix + name] = buffer if keep_vars else buffer.detach()
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination, prefix + name + ".", keep_vars)
        return destination

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True
                        ) -> IncompatibleKeys:
        """Copy ``state_dict``'s values into this module's parameters and buffers, in place.

        Everything is checked before anything is copied: missing and unexpected keys (when
        ``strict``), values of the wrong shape, values that are not numbers, destinations
        that are read-only. If anything is wrong, a RuntimeError lists all of it and the
        module is left unchanged.

        The copy is ``tensor.array[...] = value``, into the existing arrays, because an
        optimizer keeps references to them. Returns ``(missing_keys, unexpected_keys)``.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(
                f"load_state_dict: expected a dict of tensors, got {type(state_dict).__name__}"
            )
        own = self.state_dict(keep_vars=True)
        missing = [key for key in own if key not in state_dict]
        unexpected = [key for key in state_dict if key not in own]
        problems, updates = [], []
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            array = value.array if isinstance(value, Tensor) else value
            if isinstance(array, int | float | bool | np.generic):
                array = np.asarray(array)
            if not isinstance(array, np.ndarray) or array.dtype.kind not in "biuf":
                problems.append(
                    f'value for "{key}" is a {type(value).__name__}'
                    + (f" of dtype {array.dtype}" if isinstance(array, np.ndarray) else "")
                    + ", expected a numeric Tensor or ndarray"
                )
            elif array.shape != target.shape:
                problems.append(
                    f"size mismatch for {key}: copying a param with shape {array.shape} from "
                    f"checkpoint, the shape in current model is {target.shape}."
                )
            elif not target.array.flags.writeable:  # e.g. memory-mapped from a read-only file
                problems.append(f'cannot copy into "{key}": its array is read-only')
            else:
                updates.append((target, array))
        errors = []
        if strict and missing:
            errors.append("Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing)
                          + ".")
        if strict and unexpected:
            errors.append("Unexpected key(s) in state_dict: "
                          + ", ".join(f'"{k}"' for k in unexpected) + ".")
        errors.extend(problems)
        if errors:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                + "\n\t".join(errors)
            )
        for target, array in updates:
            target.array[...] = array  # in place: optimizers hold these very arrays
            target.bump_version()  # as PyTorch's copy_: a graph that saved it sees the change
        return IncompatibleKeys(missing, unexpected)

    # -- printing -------------------------------------------------------------------------

    def extra_repr(self) -> str:
        """The arguments shown inside this module's parentheses in ``repr``."""
        return ""

    def __repr__(self) -> str:
        lines = [f"({name}): {_addindent(repr(module), 2)}"
                 for name, module in self._modules.items()]
        extra = self.extra_repr()
        if not lines:
            return f"{type(self).__name__}({extra})"
        body = ([extra] if extra else []) + lines
        return f"{type(self).__name__}(\n  " + "\n  ".join(body) + "\n)"


def _check_module(module: Any, where: str) -> None:
    """Refuse anything but a Module, before a container changes anything."""
    if not isinstance(module, Module):
        raise TypeError(f"{where}: {type(module).__name__} is not a Module subclass")


class Sequential(Module):
    """Modules applied one after the other: ``Sequential(Linear(2, 8), ReLU(), Linear(8, 1))``
    (or one ``OrderedDict`` of named modules). Indexable, sliceable and iterable."""

    def __init__(self, *modules: Module):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], Mapping):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            for index, module in enumerate(modules):
                self.add_module(str(index), module)

    def forward(self, x):
        for module in self._modules.values():
            x = module(x)
        return x

    def _key(self, index: int) -> str:
        if not isinstance(index, int | np.integer):
            raise TypeError(
                f"{type(self).__name__} indices must be integers or slices, "
                f"not {type(index).__name__}"
            )
        n = len(self._modules)
        if not -n <= index < n:
            raise IndexError(f"index {index} is out of range for {type(self).__name__} of "
                             f"length {n}")
        return list(self._modules)[index % n]

    def __getitem__(self, index):
        if isinstance(index, slice):
            return type(self)(OrderedDict(list(self._modules.items())[index]))
        return self._modules[self._key(index)]

    def __setitem__(self, index: int, module: Module) -> None:
        self.add_module(self._key(index), module)

    def __delitem__(self, index) -> None:
        keys = list(self._modules)[index] if isinstance(index, slice) else [self._key(index)]
        for key in keys:
            delattr(self, key)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self, module: Module) -> Sequential:
        self.add_module(str(len(self)), module)
        return self


class ModuleList(Module):
    """A list of modules whose parameters are registered (a plain list's would not be)."""

    def __init__(self, modules: Iterable[Module] | None = None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    _key = Sequential._key
    __len__ = Sequential.__len__
    __iter__ = Sequential.__iter__

    def __getitem__(self, index):
        if isinstance(index, slice):
            return ModuleList(list(self._modules.values())[index])
        return self._modules[self._key(index)]

    def __setitem__(self, index: int, module: Module) -> None:
        self.add_module(self._key(index), module)

    def __delitem__(self, index) -> None:
        modules = list(self._modules.values())
        del modules[index]
        self._renumber(modules)

    def _renumber(self, modules: list[Module]) -> None:
        for key in list(self._modules):
            delattr(self, key)
        for index, module in enumerate(modules):
            self.add_module(str(index), module)

    def append(self, module: Module) -> ModuleList:
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        if isinstance(modules, Module) and not isinstance(modules, Sequential | ModuleList):
            raise TypeError(f"ModuleList.extend should be called with an iterable of modules, "
                            f"but got a {type(modules).__name__}")
        modules = list(modules)
        for index, module in enumerate(modules):  # all checked before the list changes
            _check_module(module, f"ModuleList.extend: element {index}")
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        _check_module(module, "ModuleList.insert")
        if not isinstance(index, int | np.integer):
            raise TypeError(f"ModuleList.insert: index must be an integer, not "
                            f"{type(index).__name__}")
        modules = list(self._modules.values())
        modules.insert(index, module)
        self._renumber(modules)

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleList has no forward(); iterate over its modules")
