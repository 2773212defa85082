"""The figure of docs/convolution.md: a convolution as a matrix product over patches.

    python docs/make_conv_figure.py                  # writes docs/figures/conv_as_matmul.png
    python docs/make_conv_figure.py --out /tmp/figs  # somewhere else

Every number drawn comes from minigrad: the patch matrix is ``F.unfold`` of the image, the
output is ``F.conv2d``, and the figure checks that the matrix product gives the same output.
``conv_as_matmul(out, quick)`` has the signature of the makers in ``docs/make_figures.py``,
so that script can list it too. Needs matplotlib.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

import minigrad as mg
from minigrad.nn import functional as F
from minigrad.viz.plots import require_matplotlib

FIGURES = Path(__file__).resolve().parent / "figures"
WINDOW = (1, 2)  # the window highlighted: its top-left pixel (row, col) in the image


def conv_as_matmul(out: Path, quick: bool = False) -> list[Path]:
    """Image (5×5) → patch matrix (9 × 9 patches) → weights (1 × 9) @ patches → 3×3 output."""
    image = mg.tensor(np.arange(25, dtype=np.float64).reshape(1, 1, 5, 5) % 7)
    kernel = mg.tensor(np.array([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]]))
    weight = kernel.reshape(1, 1, 3, 3)
    patches = F.unfold(image, 3)[0]  # (9 taps, 9 windows)
    product = weight.reshape(1, 9) @ patches  # one row per output channel
    output = F.conv2d(image, weight)[0, 0]
    assert np.allclose(product.numpy().reshape(3, 3), output.numpy())  # the same numbers

    plt = require_matplotlib()
    from matplotlib.patches import Rectangle

    column = WINDOW[0] * 3 + WINDOW[1]  # windows are numbered row by row
    fig, axes = plt.subplots(1, 4, figsize=(13, 3.6),
                             gridspec_kw={"width_ratios": [5, 3, 9, 3]})
    panels = [
        (image.numpy()[0, 0], "input x (5×5)\none 3×3 window", "Blues"),
        (kernel.numpy(), "weights W (3×3)\n= one row of 9", "RdBu"),
        (patches.numpy(), "unfold(x): one column per window\n(9 taps × 9 windows)", "Blues"),
        (output.numpy(), "out = W @ unfold(x)\nreshaped to 3×3", "RdBu"),
    ]
    for ax, (values, title, cmap) in zip(axes, panels):
        ax.imshow(values, cmap=cmap)
        for (r, c), v in np.ndenumerate(values):
            ax.text(c, r, f"{v:g}", ha="center", va="center", fontsize=8)
        ax.set_title(title, fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    highlight = {"edgecolor": "darkorange", "facecolor": "none", "linewidth": 2.5}
    axes[0].add_patch(Rectangle((WINDOW[1] - 0.5, WINDOW[0] - 0.5), 3, 3, **highlight))
    axes[2].add_patch(Rectangle((column - 0.5, -0.5), 1, 9, **highlight))
    axes[3].add_patch(Rectangle((WINDOW[1] - 0.5, WINDOW[0] - 0.5), 1, 1, **highlight))
    fig.suptitle("a convolution is a matrix product over patches: the highlighted window "
                 "becomes one column, and W · that column is one output pixel", fontsize=11)
    fig.tight_layout()
    out.mkdir(parents=True, exist_ok=True)
    target = out / "conv_as_matmul.png"
    fig.savefig(target, dpi=110)
    plt.close(fig)
    return [target]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=FIGURES,
                        help="folder to write into (default: docs/figures)")
    parser.add_argument("--quick", action="store_true", help="accepted for symmetry; no effect")
    args = parser.parse_args(argv)
    for path in conv_as_matmul(args.out, args.quick):
        print(f"written {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
