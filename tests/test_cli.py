"""The command line, as a user runs it."""

import subprocess
import sys

import pytest

from skneuron.cli import main


def test_demo_prints_formulas_and_a_table_against_the_mlp(capsys, monkeypatch):
    from sklearn.datasets import make_classification, make_regression

    import skneuron.cli as cli

    def tiny_tasks():  # the real demo data sets take ~10 s; the printing logic is the same
        X, y = make_regression(200, 4, random_state=0)
        yield "tiny regression", "regression", X, y
        X, y = make_classification(200, 4, random_state=0)
        yield "tiny classification", "classification", X, y

    monkeypatch.setattr(cli, "_demo_tasks", tiny_tasks)
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert out.count("discovered formula: σ(") == 2
    assert "| tiny regression | TaskNeuron | R² " in out
    assert "| tiny classification | sklearn MLP | accuracy " in out
    assert "| tiny regression | HistGradientBoosting | R² " in out


def test_demo_mlp_is_the_fair_one():
    """Scaled inputs, a standardised target and early stopping, as in the real suite."""
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.preprocessing import StandardScaler

    from skneuron.cli import _demo_rivals

    (label, pipeline), _ = _demo_rivals("regression", seed=0)
    scaler, regressor = (step for _, step in pipeline.steps)
    assert label == "sklearn MLP" and isinstance(scaler, StandardScaler)
    assert isinstance(regressor, TransformedTargetRegressor)
    assert isinstance(regressor.transformer, StandardScaler)
    assert regressor.regressor.early_stopping and regressor.regressor.hidden_layer_sizes == (64, 64)
    (_, classifier), _ = _demo_rivals("classification", seed=0)
    assert classifier.steps[-1][1].early_stopping


def test_console_entry_point_runs_as_a_module():
    result = subprocess.run([sys.executable, "-m", "skneuron", "--help"], capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0
    assert "demo" in result.stdout


def test_unknown_command_is_a_usage_error():
    with pytest.raises(SystemExit) as exc:
        main(["nonsense"])
    assert exc.value.code == 2


def test_version_prints_the_package_version(capsys):
    import skneuron

    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out == f"skneuron {skneuron.__version__}\n"


@pytest.mark.parametrize("folds", ["1", "-1"])
def test_fewer_than_two_folds_is_a_usage_error(capsys, folds):
    """Not 'cross-validation skipped: too few rows per class' after reading the table."""
    with pytest.raises(SystemExit) as exc:
        main(["fit", "no-such.csv", "--target", "y", "--cv", folds])
    assert exc.value.code == 2
    assert (f"skneuron fit: error: argument --cv: must be 0 (no cross-validation) or at least 2; "
            f"got {folds}") in capsys.readouterr().err


def test_no_cross_validation_or_two_folds_and_more_are_accepted():
    from skneuron.cli import _parser

    for folds in (0, 2, 10):
        assert _parser().parse_args(["fit", "t.csv", "--target", "y", "--cv", str(folds)]).cv \
            == folds


@pytest.mark.parametrize("error, one_line", [
    (RuntimeError("[enforce fail at alloc_cpu.cpp:117] . DefaultCPUAllocator: can't allocate "
                  "memory: you tried to allocate 12884901888 bytes."), True),
    (RuntimeError("mat1 and mat2 shapes cannot be multiplied"), False),  # a defect: traceback
])
def test_torch_running_out_of_memory_is_one_line_like_memory_error(monkeypatch, capsys, error,
                                                                   one_line):
    import skneuron.cli as cli

    def fails(args):
        raise error

    monkeypatch.setattr(cli, "run_inspect", fails)
    if not one_line:
        with pytest.raises(RuntimeError, match="shapes"):
            main(["inspect", "m.skn"])
        return
    assert main(["inspect", "m.skn"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("skneuron inspect: error: ") and "can't allocate memory" in err
    assert len(err.strip().splitlines()) == 1


def test_only_text_that_reads_as_full_dates_gets_the_date_hint():
    import pandas as pd

    from skneuron.cli import _text_dates

    frame = pd.DataFrame({
        "iso": ["2001-06-18", None, "2002-01-31"],
        "day_first": ["31/01/2024", "05/02/2024", "01/03/2024"],
        "city": ["Paris", "Rome", "Oslo"],
        "version": ["1.2.3", "1.2.4", "2.0.0"],
        "year": ["2001", "2002", "2003"],  # a year alone is no date
        "month": ["Jan 2020", "Feb 2020", "Mar 2020"],  # no day
        "some_dates": ["2001-06-18", "soon", "2002-01-31"],
        "number": [1.0, 2.0, 3.0],
    })
    assert _text_dates(frame) == ["iso", "day_first"]
