"""The plots render to PNG with the Agg backend: what is drawn, and the argument errors."""

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from minigrad.lab import compare  # noqa: E402
from minigrad.lab import testfunctions as tf  # noqa: E402
from minigrad.viz import plot_curves, plot_history, plot_trajectories  # noqa: E402
from minigrad.viz.plots import require_matplotlib  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"


def png_size(path):
    """(width, height) from the PNG header."""
    data = path.read_bytes()
    assert data[:8] == PNG
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_backend_is_non_interactive():
    plt = require_matplotlib()
    assert plt.get_backend().lower() in ("agg", "module://matplotlib_inline.backend_inline")


def test_trajectories_one_colour_per_optimizer_with_start_and_minima(tmp_path):
    plt = require_matplotlib()
    runs = compare.compare_objective(tf.himmelblau, ["sgd", "adam", "rmsprop"], steps=50)
    path = tmp_path / "traj.png"
    fig = plot_trajectories(tf.himmelblau, {r.optimizer: r.path for r in runs}, path)
    width, height = png_size(path)
    assert width > 500 and height > 400
    ax = fig.axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    for r in runs:  # each path is drawn through exactly the points visited
        np.testing.assert_allclose(lines[r.optimizer].get_xydata(), r.path)
    colours = {lines[r.optimizer].get_color() for r in runs}
    assert len(colours) == 3
    np.testing.assert_allclose(lines["start"].get_xydata(), [tf.himmelblau.start])
    stars = [line for line in ax.get_lines() if line.get_marker() == "*"]
    np.testing.assert_allclose(sorted(tuple(s.get_xydata()[0]) for s in stars),
                               sorted(tf.himmelblau.minima))
    assert ax.get_xlim() == tf.himmelblau.box[0] and ax.get_ylim() == tf.himmelblau.box[1]
    assert ax.get_legend() is not None
    plt.close(fig)


def test_saddle_points_are_marked(tmp_path):
    plt = require_matplotlib()
    run = compare.run_objective(tf.saddle, "adam", 20)
    fig = plot_trajectories(tf.saddle, {"adam": run.path}, tmp_path / "saddle.png")
    crosses = [line for line in fig.axes[0].get_lines() if line.get_marker() == "X"]
    np.testing.assert_allclose(crosses[0].get_xydata(), [(0.0, 0.0)])
    plt.close(fig)


def test_trajectories_are_for_2d_functions_and_2d_paths():
    with pytest.raises(ValueError, match="quadratic has 1 coordinate"):
        plot_trajectories(tf.quadratic, {"sgd": np.zeros((3, 1))})
    with pytest.raises(ValueError, match=r"path of sgd must have shape \(steps \+ 1, 2\)"):
        plot_trajectories(tf.rosenbrock, {"sgd": np.zeros((3, 3))})


def test_curves_log_scale_and_reference(tmp_path):
    plt = require_matplotlib()
    curves = {"a": [1.0, 0.1, 0.01], "b": [2.0, 0.0, -1.0]}
    path = tmp_path / "curves.png"
    fig = plot_curves(curves, path, log_scale=True, reference=0.5, xlabel="epoch",
                      x=[1, 2, 3])
    png_size(path)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "epoch"
    b = next(line for line in ax.get_lines() if line.get_label() == "b")
    # Non-positive values cannot sit on a log axis: they are left out, not faked.
    assert np.isnan(b.get_ydata()[1:]).all() and b.get_ydata()[0] == 2.0
    assert list(b.get_xdata()) == [1, 2, 3]
    (reference,) = [line for line in ax.get_lines() if line.get_label() not in curves]
    assert reference.get_linestyle() == "--" and list(reference.get_ydata()) == [0.5, 0.5]
    plt.close(fig)
    with pytest.raises(ValueError, match="no curves"):
        plot_curves({})


def test_no_path_means_no_file(tmp_path):
    plt = require_matplotlib()
    fig = plot_curves({"a": [3, 2, 1]})
    assert fig.axes and not list(tmp_path.iterdir())
    plt.close(fig)


def test_history_curves_still_render(tmp_path):
    plt = require_matplotlib()
    path = tmp_path / "history.png"
    fig = plot_history({"train_loss": [1.0, 0.5], "test_accuracy": [0.8, 0.9]}, path,
                       title="run")
    assert len(fig.axes) == 2
    png_size(path)
    plt.close(fig)


def test_curves_differ_in_colour_line_style_and_marker(tmp_path):
    plt = require_matplotlib()
    names = [f"optimizer {i}" for i in range(8)]
    same = np.linspace(1, 0.1, 50)  # curves exactly on top of each other
    fig = plot_curves({name: same for name in names})
    lines = [line for line in fig.axes[0].get_lines() if line.get_label() in names]
    styles = {(line.get_color(), line.get_linestyle(), line.get_marker()) for line in lines}
    assert len(styles) == 8
    assert len({line.get_marker() for line in lines}) == 8
    assert len({line.get_linestyle() for line in lines}) == 4
    # Markers of overlapping curves are staggered, not stacked on the same points.
    marked = {tuple(np.arange(50)[line.get_markevery()[0]::line.get_markevery()[1]][:2])
              for line in lines}
    assert len(marked) > 1
    plt.close(fig)


def test_a_path_leaving_the_frame_is_clipped_and_named(tmp_path):
    plt = require_matplotlib()
    escaping = np.array([[-1.5, 2.0], [0.0, 2.5], [1.0, 9.0]])  # y = 9 is above the box
    fig = plot_trajectories(tf.rosenbrock, {"adagrad": escaping, "sgd": escaping[:2]},
                            tmp_path / "t.png")
    ax = fig.axes[0]
    labels = [line.get_label() for line in ax.get_lines()]
    assert "adagrad (leaves the frame)" in labels and "sgd" in labels
    path_line = ax.get_lines()[labels.index("adagrad (leaves the frame)")]
    assert path_line.get_clip_on()
    assert ax.get_ylim() == tf.rosenbrock.box[1]
    # The legend sits below the frame, where it hides no path.
    legend_box = ax.get_legend().get_window_extent(fig.canvas.get_renderer())
    assert legend_box.y1 <= ax.get_window_extent().y0
    plt.close(fig)


def test_plot_curves_floor_cuts_a_log_axis(tmp_path):
    from minigrad.viz import plot_curves

    curves = {"reaches the minimum": [1.0, 1e-8, 1e-300], "slow": [1.0, 0.5, 0.25]}
    uncut = plot_curves(curves, log_scale=True)
    assert uncut.axes[0].get_ylim()[0] < 1e-200  # what the floor is for
    figure = plot_curves(curves, tmp_path / "c.png", title="bowl", log_scale=True, floor=1e-20)
    bottom, top = figure.axes[0].get_ylim()
    assert bottom == pytest.approx(1e-20, rel=1e-9) and top < 100
    assert figure.axes[0].get_title() == "bowl (axis cut at 1e-20)"
