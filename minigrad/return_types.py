"""The named tuples that ``max(dim)``, ``min(dim)``, ``sort``, ``topk``, ``median(dim)``,
``kthvalue`` and ``mode``
return, as ``torch.return_types``: ``values, indices = t.max(dim=1)``, ``t.max(1)[1]``,
``t.max(1).values``."""

from __future__ import annotations

from collections import namedtuple


def _values_and_indices(name: str) -> type:
    base = namedtuple(name, ["values", "indices"])

    def __repr__(self) -> str:
        return f"minigrad.return_types.{name}(\nvalues={self.values!r},\nindices={self.indices!r})"

    return type(name, (base,), {"__slots__": (), "__repr__": __repr__,
                                "__module__": "minigrad.return_types"})


max = _values_and_indices("max")  # noqa: A001 - PyTorch's names
min = _values_and_indices("min")  # noqa: A001
sort = _values_and_indices("sort")
topk = _values_and_indices("topk")
median = _values_and_indices("median")
kthvalue = _values_and_indices("kthvalue")
mode = _values_and_indices("mode")
