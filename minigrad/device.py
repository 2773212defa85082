"""Devices by PyTorch's names. minigrad computes on the CPU with NumPy: ``"cpu"`` is the one
device there is, and asking for another (``"cuda"``, ``"mps"``) is a clear error, raised where
a tensor would be put on it (``mg.device("cuda")`` itself can be named, as in PyTorch)."""

from __future__ import annotations

from typing import Any

KNOWN_TYPES = ("cpu", "cuda", "mps", "xpu", "meta", "hip", "xla", "mtia", "privateuseone")


class device:  # noqa: N801 - PyTorch's name
    """``mg.device("cpu")``: a device, as ``torch.device`` (``.type``, ``.index``, the same
    repr and equality)."""

    __slots__ = ("type", "index")

    def __init__(self, type: Any, index: int | None = None):  # noqa: A002 - PyTorch's name
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        if not isinstance(type, str):
            raise TypeError(f"device(): expected a string like 'cpu', got {type!r}")
        name, _, number = type.partition(":")
        if name not in KNOWN_TYPES:
            raise RuntimeError(f"Expected one of {', '.join(KNOWN_TYPES)} device type at "
                               f"start of device string: {type}")
        if number:
            if index is not None or not number.isdigit():
                raise RuntimeError(f"Invalid device string: '{type}'")
            index = int(number)
        object.__setattr__(self, "type", name)
        object.__setattr__(self, "index", index)

    def __setattr__(self, name, value):
        raise AttributeError("a device cannot be changed")

    def __eq__(self, other):
        if not isinstance(other, device):
            return NotImplemented
        return (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{index})"

    def __reduce__(self):
        return (device, (self.type, self.index))


CPU = device("cpu")


def check_device(where: Any, op: str) -> device:
    """``where`` (a device, a string, an index or None) as the CPU device, or a clear
    RuntimeError for any other device."""
    if where is None:
        return CPU
    if isinstance(where, int) and not isinstance(where, bool):
        where = device("cuda", where)  # PyTorch reads a bare index as a CUDA device
    elif not isinstance(where, device):
        where = device(where)
    if where.type != "cpu":
        raise RuntimeError(f"{op}: device '{where}' is not available: minigrad computes on "
                           "the CPU only (use device='cpu', or "
                           "'cuda' if mg.cuda.is_available() else 'cpu')")
    return CPU


def set_default_device(where: Any) -> None:
    """As ``torch.set_default_device``: only the CPU is accepted (it is the default already)."""
    check_device(where, "set_default_device")


def get_default_device() -> device:
    return CPU
