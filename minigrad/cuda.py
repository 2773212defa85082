"""``mg.cuda``: as ``torch.cuda``, for code that asks whether a GPU is there. minigrad runs
on the CPU only, so the answer is no."""


def is_available() -> bool:
    return False


def device_count() -> int:
    return 0


def manual_seed(seed: int) -> None:
    """Seeding CUDA's generators: there are none, so nothing to do (as PyTorch without CUDA)."""


manual_seed_all = manual_seed
