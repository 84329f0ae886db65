"""Smoke test of the benchmark runner: a tiny suite into a temporary directory."""

import csv
import time
from dataclasses import replace

import pytest

pytest.importorskip("pandas")

from benchmarks import measure, report  # noqa: E402
from benchmarks.competitors import COMPETITORS, final_estimator, shared_network_params  # noqa: E402
from benchmarks.datasets import FAMILIES, dataset  # noqa: E402
from benchmarks.run import main, run  # noqa: E402
from benchmarks.suites import (  # noqa: E402
    SUITES, ScalingSettings, SpeedSettings, fixed_epochs, get_suite)

TINY = replace(
    get_suite("quick", seeds=1, only=["iris", "diabetes"],
              models=["TaskNeuron-TD", "LinearNeuron", "sklearn-MLP", "LightGBM"]),
    network_overrides={"max_iter": 5, "hidden_layer_sizes": (8,)},
    speed=SpeedSettings(n_samples=400, n_features=5, hidden_layer_sizes=(8,), epochs=2,
                        predict_rows=1000, repeats=1),
    scaling=ScalingSettings(sample_sizes=(300, 600), feature_counts=(5, 8), base_samples=300,
                            epochs=2, models=("LinearNeuron", "sklearn-MLP")),
)


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    with pytest.MonkeyPatch.context() as patch:  # no pause before the ~45 timed calls
        patch.setattr(measure, "SETTLE_SECONDS", 0.0)
        summary = run(TINY, out, threads=1, note="smoke test", log=lambda *_: None)
    return out, summary


def _rows(path):
    with path.open() as handle:
        return list(csv.DictReader(handle))


def test_suite_csv_has_one_row_per_dataset_seed_and_model(results):
    out, _ = results
    rows = _rows(out / "suite_quick.csv")
    models = [c.name for c in COMPETITORS.values() if c.name in TINY.models and c.available()]
    assert len(rows) == 2 * len(models)  # data sets × seeds × models
    for column in ("dataset", "task", "seed", "model", "r2", "rmse", "accuracy", "log_loss",
                   "fit_s", "discovery_s", "predict_rows_per_s", "peak_mem_mb", "n_params",
                   "formula"):
        assert column in rows[0], column
    ln = [r for r in rows if r["model"] == "LinearNeuron"]
    assert {r["formula"] for r in ln} == {"x"}
    iris = [r for r in rows if r["dataset"] == "iris"]
    assert all(0.0 <= float(r["accuracy"]) <= 1.0 and r["r2"] == "" for r in iris)


def test_speed_and_scaling_csvs(results):
    out, _ = results
    speed = _rows(out / "speed_quick.csv")
    measures = {(r["measure"], r["model"]) for r in speed}
    assert ("fit", "TaskNeuron-TD (formula given)") in measures
    assert ("predict", "sklearn-MLP") in measures
    scaling = _rows(out / "scaling_quick.csv")
    assert {r["axis"] for r in scaling} == {"n", "D"}
    assert len(scaling) == 4 * 2


def test_summary_has_tables_and_verdicts(results):
    out, summary = results
    text = summary.read_text()
    assert summary == out / "summary_quick.md"
    for phrase in ("## Targets", "≥ sklearn MLP", "≥ linear-neuron network", "discovery ≤ 10%",
                   "Default fit (discovery + training)", "Predict throughput",
                   "| data set | TaskNeuron-TD |", "smoke test"):
        assert phrase in text, phrase
    # Re-rendering from the CSVs alone gives the same summary.
    assert report.write_report("quick", out).read_text() == text


def test_command_line_runs_chosen_parts_without_discovery_models(tmp_path, monkeypatch):
    import benchmarks.run as runner

    fast = replace(TINY, models=("LinearNeuron", "sklearn-MLP"))
    monkeypatch.setattr(runner, "get_suite", lambda name, **kw: fast)
    path = main(["--suite", "quick", "--out", str(tmp_path), "--parts", "accuracy", "scaling",
                 "--threads", "1"])
    assert path.exists() and (tmp_path / "scaling_quick.csv").exists()
    assert not (tmp_path / "speed_quick.csv").exists()
    text = path.read_text()
    assert "--parts accuracy scaling" in text and "TaskNeuron-TD was not run" in text


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_same_network_settings_for_every_network():
    params = shared_network_params({"max_iter": 7})
    assert params["max_iter"] == 7 and params["batch_size"] == 200
    for name in ("TaskNeuron-TD", "LinearNeuron", "sklearn-MLP"):
        model = COMPETITORS[name].build("regression", 0, params, 1)
        estimator = model.regressor.steps[-1][1]
        assert {k: estimator.get_params()[k] for k in params} == params
    linear = COMPETITORS["LinearNeuron"].build("classification", 0, params, 1)
    linear.fit([[0.0], [1.0], [0.1], [0.9]], [0, 1, 0, 1])
    assert final_estimator(linear).formula_.terms == ("x",)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_timed_fits_run_every_epoch_even_where_ours_would_stop_early():
    X, y = dataset("friedman1", 10_001).load()  # above early_stopping="auto"'s threshold
    params = {**shared_network_params(fixed_epochs(2)), "hidden_layer_sizes": (4,)}
    ours, mlp = (final_estimator(COMPETITORS[name].build("regression", 0, params, 1).fit(X, y))
                 for name in ("LinearNeuron", "sklearn-MLP"))
    assert ours.n_iter_ == mlp.n_iter_ == 2
    assert not ours.do_early_stopping_ and ours.validation_scores_ is None


def test_suites_are_offline_and_bounded():
    for suite in SUITES.values():
        assert len({d.name for d in suite.datasets}) == len(suite.datasets)
        assert len(suite.seeds) >= 3
    assert max(d.n_samples or 0 for d in SUITES["quick"].datasets) <= 10_000
    assert max(d.n_samples or 0 for d in SUITES["full"].datasets) == 200_000
    X, y = dataset("planted_poly", 300).load()
    assert X.shape == (300, 10) and y.shape == (300,)
    assert set(FAMILIES) >= {"friedman1", "friedman2", "friedman3"}
    with pytest.raises(ValueError):
        dataset("iris", 100)


def test_settled_timing_pauses_before_the_call_and_does_not_count_the_pause(monkeypatch):
    monkeypatch.setattr(measure, "SETTLE_SECONDS", 0.05)
    calls = []
    start = time.perf_counter()
    result, seconds = measure.timed_settled(lambda x: calls.append(time.perf_counter()) or x, 7)
    assert result == 7
    assert calls[0] - start >= 0.05  # the call began after the pause
    assert seconds < 0.05  # and its time leaves the pause out


def test_compile_probe_times_the_training_gradients_and_weighs_saving_against_compiling():
    import torch

    from benchmarks.torch_compile import break_even_steps, step_gradients, verdict
    from skneuron import TaskNeuronRegressor
    from skneuron.nn import TaskNeuronNetwork

    network = TaskNeuronNetwork(3, 1, "x + x**2 + inter(3, rank=2)", hidden_layer_sizes=(4,),
                                generator=torch.Generator().manual_seed(0))
    x, y = torch.randn(16, 3), torch.randn(16, 1)
    loss = 0.5 * (network(x) - y).square().mean()
    expected = torch.autograd.grad(loss, list(network.parameters()))
    gradients = step_gradients(network, TaskNeuronRegressor()._loss_and_gradient)
    for got, want in zip(gradients(x, y), expected, strict=True):
        torch.testing.assert_close(got, want)

    figures = {"fit_steps": 3000, "eager": 6e-4, "compiled": 4e-4, "compile_warm": 2.0}
    assert break_even_steps(2.0, 6e-4, 4e-4) == pytest.approx(10_000)
    assert break_even_steps(2.0, 4e-4, 6e-4) == float("inf")
    assert verdict({**figures, "compile_cold": 13.0}).endswith("does not pay there.")
    assert verdict({**figures, "compile_warm": 0.5, "compile_cold": 13.0}).endswith(
        "pays there once the cache is warm.")
