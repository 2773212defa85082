"""``mg.backends``: as ``torch.backends``, for code that asks which accelerators exist.
minigrad runs on the CPU only."""

from minigrad.backends import mps

__all__ = ["mps"]
