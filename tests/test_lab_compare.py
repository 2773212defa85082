"""The comparison runner: runs against closed forms, tolerance counting, divergence, the
digits runs against ``train_digits``, the table, and argument errors."""

import math

import numpy as np
import pytest

from minigrad import training
from minigrad.lab import compare
from minigrad.lab import testfunctions as tf
from minigrad.lab.experiment import Experiment
from minigrad.optim import registry


def test_gradient_descent_on_the_parabola_is_the_closed_form():
    # θₖ = θ₀·(1 - 2·lr)ᵏ for J(θ) = θ²
    run = compare.run_objective(tf.quadratic, "sgd", steps=50, lr=0.1)
    k = np.arange(51)
    np.testing.assert_allclose(run.path[:, 0], 3.0 * 0.8**k, rtol=1e-12)
    np.testing.assert_allclose(run.losses, (3.0 * 0.8**k) ** 2, rtol=1e-12)
    assert run.final_loss == run.losses[-1]
    # (3·0.8ᵏ)² ≤ 1e-4 ⇔ k ≥ log(1e-4/9)/(2·log 0.8) = 25.6
    assert compare.run_objective(tf.quadratic, "sgd", 50, tol=1e-4, lr=0.1).steps_to_tol == 26


def test_steps_to_tolerance_means_staying_within_it():
    # Momentum overshoots: it passes through the tolerance long before it stays there.
    run = compare.run_objective(tf.quadratic, "momentum", steps=400, tol=1e-4, lr=0.01)
    gaps = run.losses - tf.quadratic.min_value
    first_touch = int(np.argmax(gaps <= 1e-4))
    assert run.steps_to_tol > first_touch
    assert (gaps[run.steps_to_tol:] <= 1e-4).all() and gaps[run.steps_to_tol - 1] > 1e-4
    assert compare.run_objective(tf.quadratic, "adagrad", 10, lr=0.01).steps_to_tol is None


def test_a_diverging_run_stops_and_says_so():
    run = compare.run_objective(tf.quadratic, "sgd", steps=1000, lr=10.0)
    assert run.diverged and not math.isfinite(run.final_loss)
    assert len(run.losses) < 1000 and len(run.path) == len(run.losses)
    table = compare.format_table([run], tol=1e-4)
    assert "diverged" in table


def test_learning_rate_defaults_come_from_the_objective():
    run = compare.run_objective(tf.rosenbrock, "adagrad", steps=1)
    assert run.hyperparameters["lr"] == tf.rosenbrock.lrs["adagrad"]
    run = compare.run_objective(tf.rosenbrock, "nadam", steps=1)
    assert run.hyperparameters["lr"] == tf.rosenbrock.lrs["*"]


def test_every_optimizer_makes_progress_on_every_2d_function():
    for name in ("rosenbrock", "beale", "himmelblau", "saddle", "bowl"):
        objective = tf.OBJECTIVES[name]
        for run in compare.compare_objective(objective, registry.OPTIMIZERS, steps=300):
            assert run.final_loss < run.losses[0], (name, run.optimizer)
            assert not run.diverged


def test_overrides_reach_the_optimizer_and_bad_ones_are_refused():
    run = compare.run_objective(tf.quadratic, "adam", 3, lr=0.5, betas=(0.5, 0.9))
    assert run.hyperparameters == {"lr": 0.5, "betas": (0.5, 0.9)}
    with pytest.raises(ValueError, match="optimizer adam has no hyperparameter momentum"):
        compare.run_objective(tf.quadratic, "adam", 3, momentum=0.9)
    with pytest.raises(ValueError, match="unknown optimizer 'lbfgs'"):
        registry.make_optimizer("lbfgs", [])
    with pytest.raises(ValueError, match="start must have 2 coordinates"):
        compare.run_objective(tf.rosenbrock, "sgd", 3, start=[1.0])
    assert "nesterov" in registry.hyperparameter_names("momentum")


def test_the_registry_is_one_table_exported_from_optim():
    from minigrad import optim

    assert optim.OPTIMIZERS is registry.OPTIMIZERS
    assert optim.make_optimizer is registry.make_optimizer
    assert optim.lookup_optimizer("momentum") == registry.OPTIMIZERS["momentum"]
    with pytest.raises(ValueError, match="unknown optimizer 'lbfgs'; choose from sgd, momentum"):
        optim.lookup_optimizer("lbfgs")


def test_named_variants_are_the_classes_with_their_arguments():
    import minigrad as mg

    p = mg.tensor([1.0], requires_grad=True)
    nesterov = registry.make_optimizer("nesterov", [p], lr=0.1)
    assert isinstance(nesterov, mg.optim.SGD)
    group = nesterov.param_groups[0]
    assert group["momentum"] == 0.9 and group["nesterov"] and group["lr"] == 0.1


def test_digits_run_is_the_train_command_loop():
    _, _, history = training.train_digits(training.TrainConfig(epochs=2, hidden=(32,)))
    run = compare.run_digits("adam", epochs=2, hidden=(32,), seed=0)
    np.testing.assert_allclose(run.losses, history.train_loss, rtol=1e-12)
    assert run.extra["test_accuracy"] == history.test_accuracy
    assert run.hyperparameters["lr"] == registry.OPTIMIZERS["adam"].lr


def test_digits_on_epoch_hook_and_epochs_to_tolerance():
    seen = []
    run = compare.run_digits("rmsprop", epochs=3, hidden=(16,), tol=10.0,
                             on_epoch=lambda model, opt: seen.append(type(opt).__name__))
    assert seen == ["RMSprop"] * 3
    assert run.steps_to_tol == 1  # a loss below 10 from the first epoch on


def test_table_lists_runs_best_first():
    runs = compare.compare_objective(tf.himmelblau, ["sgd", "adagrad"], steps=20, tol=1e-3,
                                     hyperparameters={"sgd": {"lr": 1e-4}})
    table = compare.format_table(runs, tol=1e-3, min_value=0.0)
    caption, *lines = table.splitlines()
    assert caption.startswith("ranked by steps to reach and stay within tol 0.001")
    assert lines[0].split()[:3] == ["optimizer", "lr", "final"]
    assert "steps to tol 0.001" in lines[0]
    assert set(lines[1]) <= {"-", " "}
    rows = [line.split()[0] for line in lines[2:]]
    assert rows == ["adagrad", "sgd"]  # adagrad reaches the tolerance, sgd does not
    assert runs[1].steps_to_tol == 9 and runs[0].steps_to_tol is None
    assert "0.0001" in table  # the overridden lr


def test_table_ranks_by_steps_to_tolerance_before_final_loss():
    # With lr 0.01 for 1000 steps on θ², RMSProp ends lower than Nesterov (which stops at
    # float64's floor much later in the ranking by loss) but reaches the tolerance far later.
    runs = [compare.run_objective(tf.quadratic, name, 1000, tol=1e-4, lr=0.01)
            for name in ("rmsprop", "nesterov", "adagrad")]
    steps = {r.optimizer: r.steps_to_tol for r in runs}
    assert steps["nesterov"] < steps["rmsprop"] and steps["adagrad"] is None
    rows = [line.split()[0] for line in compare.format_table(runs, 1e-4).splitlines()[3:]]
    assert rows == ["nesterov", "rmsprop", "adagrad"]
    # The key: (diverged, mean steps, mean final loss); never reaching is infinitely slow.
    assert compare.ranking_key([runs[2]])[1] == math.inf


def test_several_seeds_make_one_row_of_mean_and_spread():
    starts = [compare.jittered_start(tf.rosenbrock, seed) for seed in range(3)]
    assert starts[0] == tf.rosenbrock.start and starts[1] != starts[2]
    assert max(abs(a - b) for a, b in zip(starts[1], starts[0])) < 0.5
    runs = [compare.run_objective(tf.rosenbrock, "nesterov", 1500, 1e-4, lr=1e-3, start=s)
            for s in starts]
    table = compare.format_table(runs, 1e-4)
    assert table.splitlines()[0].endswith("mean ± standard deviation over 3 seeds")
    (row,) = table.splitlines()[3:]
    steps = [r.steps_to_tol for r in runs]
    assert f"{np.mean(steps):.0f} ± {np.std(steps):.2g}" in row
    assert "final point" not in table  # several points: none is shown


def test_experiment_exit_status(tmp_path, capsys):
    exp = Experiment("title", claim="a claim", argv=["--out", str(tmp_path / "figs")])
    assert exp.out.is_dir()
    exp.check("true thing", True, "1")
    assert exp.finish() == 0
    exp.check("false thing", False, "2")
    assert exp.finish() == 1
    out = capsys.readouterr().out
    assert "[ok  ] true thing  (1)" in out and "[FAIL] false thing  (2)" in out
    assert "CLAIM FAILED" in out
