"""dtypes by PyTorch's names, and the default float dtype.

minigrad's dtypes are NumPy's (``mg.float32`` is ``np.dtype("float32")``), so a Tensor's
array and its dtype are one thing. PyTorch's other names for them are here too
(``mg.float``, ``mg.long``, ...), as are its type strings (``'torch.FloatTensor'``).
minigrad computes in float32 or float64; ``mg.half`` exists so that PyTorch code naming it
gets a clear error where it is used, rather than an AttributeError.
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
float16 = np.dtype(np.float16)
int64 = np.dtype(np.int64)
int32 = np.dtype(np.int32)
int16 = np.dtype(np.int16)
int8 = np.dtype(np.int8)
uint8 = np.dtype(np.uint8)
bool_ = np.dtype(np.bool_)

FLOAT_DTYPES = (float32, float64)

# PyTorch's type strings (``t.type()``), and the names its ``.type(...)`` accepts.
_TYPE_NAMES = {
    float32: "torch.FloatTensor", float64: "torch.DoubleTensor", float16: "torch.HalfTensor",
    int64: "torch.LongTensor", int32: "torch.IntTensor", int16: "torch.ShortTensor",
    int8: "torch.CharTensor", uint8: "torch.ByteTensor", bool_: "torch.BoolTensor",
}
_DTYPES_BY_TYPE_NAME = {name: dtype for dtype, name in _TYPE_NAMES.items()}
for _name, _dtype in list(_DTYPES_BY_TYPE_NAME.items()):
    _DTYPES_BY_TYPE_NAME[_name.replace("torch.", "minigrad.")] = _dtype


class _Defaults:
    float_dtype = float32  # what Python floats and the float factories give


def get_default_dtype() -> np.dtype:
    """The dtype of Python floats turned into tensors and of the float factories
    (``zeros``, ``rand``, ``linspace``, ...): float32 unless set otherwise."""
    return _Defaults.float_dtype


def set_default_dtype(dtype: Any) -> None:
    """Make ``dtype`` (float32 or float64) the default float dtype, as
    ``torch.set_default_dtype``. It is global: every thread sees it."""
    dtype = as_dtype(dtype, "set_default_dtype")
    if dtype not in FLOAT_DTYPES:
        raise TypeError(f"set_default_dtype: only floating-point types are supported as the "
                        f"default type, and minigrad computes in float32 or float64; got {dtype}")
    _Defaults.float_dtype = dtype


def as_dtype(dtype: Any, op: str) -> np.dtype:
    """A dtype named any way PyTorch code names one: ``mg.float32``, a NumPy dtype, the
    Python types ``float``/``int``/``bool`` (float is the default float dtype, int is int64,
    as in PyTorch), or a type string such as ``'torch.FloatTensor'``. Refuses float16 and
    other dtypes minigrad does not compute in, naming ``op``."""
    if dtype is builtins.float:
        return _Defaults.float_dtype
    if dtype is builtins.int:
        return int64
    if isinstance(dtype, str) and dtype in _DTYPES_BY_TYPE_NAME:
        dtype = _DTYPES_BY_TYPE_NAME[dtype]
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{op}: {dtype!r} is not a dtype (use mg.float32, mg.int64, ...)") from None
    if dtype.kind not in "fiub" or (dtype.kind == "f" and dtype not in FLOAT_DTYPES):
        raise TypeError(f"{op}: unsupported dtype {dtype}; minigrad computes in float32 or "
                        "float64 (and keeps integer and boolean data)")
    return dtype


def type_name(dtype: np.dtype) -> str:
    """PyTorch's type string for ``dtype``, as ``t.type()`` returns it."""
    return _TYPE_NAMES[dtype]
