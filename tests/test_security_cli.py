"""The command line under failure: OS errors, Ctrl-C, huge cells (issue 19, items 6 and 7)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import warnings
import zipfile

import numpy as np
import pytest

from benchmarks.fuzz import peak_memory_growth
from skneuron.cli import main
from skneuron.training import observe_epochs

pd = pytest.importorskip("pandas")

QUICK = ["--param", "max_iter=3", "--param", "hidden_layer_sizes=(4,)", "--no-progress"]


@pytest.fixture()
def table(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200),
                          "c": rng.choice(["u", "v"], 200)})
    frame["y"] = 2 * frame["a"] + frame["b"] ** 2
    frame.to_csv("t.csv", index=False)
    return tmp_path


def _one_line_error(capsys, fragment: str) -> None:
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], captured.err
    assert "Traceback" not in captured.err
    assert "formula:" not in captured.out  # refused before the fit


@pytest.mark.parametrize(("out", "fragment"), [
    (".", "is a directory"),
    ("/dev/full", "not a regular file"),
    ("missing/dir/m.skn", "no such directory"),
])
def test_an_unwritable_output_is_refused_before_the_fit(table, capsys, out, fragment):
    if out == "/dev/full" and not os.path.exists(out):
        pytest.skip("no /dev/full here")
    assert main(["fit", "t.csv", "--target", "y", "--out", out, *QUICK]) == 1
    _one_line_error(capsys, fragment)


def test_a_disk_full_while_saving_is_one_line_and_keeps_the_old_file(table, capsys, monkeypatch):
    assert main(["fit", "t.csv", "--target", "y", "--out", "m.skn", "--cv", "0", *QUICK]) == 0
    before = (table / "m.skn").read_bytes()

    def disk_full(descriptor):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    capsys.readouterr()
    assert main(["fit", "t.csv", "--target", "y", "--out", "m.skn", "--cv", "0", *QUICK]) == 1
    assert "No space left on device" in capsys.readouterr().err
    assert (table / "m.skn").read_bytes() == before
    assert sorted(os.listdir(table)) == ["m.skn", "t.csv"]


def test_predict_and_inspect_outputs_are_checked_first(table, capsys):
    assert main(["fit", "t.csv", "--target", "y", "--out", "m.skn", "--cv", "0", *QUICK]) == 0
    capsys.readouterr()
    assert main(["predict", "m.skn", "t.csv", "--out", "."]) == 1
    assert "is a directory" in capsys.readouterr().err
    assert main(["inspect", "m.skn", "--plot", "/dev/full"]) == 1
    assert "not a regular file" in capsys.readouterr().err


@pytest.mark.parametrize("cv", ["3", "0"])
def test_ctrl_c_in_training_stops_the_whole_command(table, capsys, cv):
    """Ctrl-C three epochs into the first fit: exit 130, no other fit, no file."""
    epochs = []

    def press_ctrl_c(report):
        epochs.append(report.epoch)
        if len(epochs) == 3:
            os.kill(os.getpid(), signal.SIGINT)

    with observe_epochs(press_ctrl_c):
        status = main(["fit", "t.csv", "--target", "y", "--out", "m.skn", "--cv", cv,
                       "--param", "max_iter=50", "--param", "hidden_layer_sizes=(4,)",
                       "--no-progress"])
    assert status == 130
    assert len(epochs) == 3  # neither the next fold nor the final fit started
    assert not (table / "m.skn").exists()
    assert capsys.readouterr().err.strip().endswith("skneuron fit: interrupted")


def test_ctrl_c_stops_the_console_command(table):
    """A real SIGINT to ``python -m skneuron fit`` with cross-validation."""
    process = subprocess.Popen(
        [sys.executable, "-m", "skneuron", "fit", "t.csv", "--target", "y", "--out", "m.skn",
         "--cv", "3", "--param", "max_iter=100000", "--param", "tol=0", "--no-progress"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    try:
        assert process.stdout.readline().startswith("t.csv: 200 rows")
        time.sleep(1.0)  # into the first fold's fit
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert not (table / "m.skn").exists()


def test_a_ten_megabyte_cell_costs_neither_minutes_nor_gigabytes(table, capsys):
    frame = pd.read_csv("t.csv")
    frame.loc[0, "c"] = "w" * 10_000_000
    frame.to_csv("big.csv", index=False)
    start = time.perf_counter()
    with peak_memory_growth() as memory:
        status = main(["fit", "big.csv", "--target", "y", "--out", "m.skn", "--cv", "2", *QUICK])
    assert status == 0, capsys.readouterr().err
    assert time.perf_counter() - start < 30 and memory["mb"] < 500, (memory, start)
    assert (table / "m.skn").stat().st_size < 100_000  # the long text is no category


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory):
    """A small regressor saved as ``fit`` saves it: its manifest, weights and a table to predict."""
    from skneuron import TaskNeuronRegressor
    from skneuron.persistence import save

    folder = tmp_path_factory.mktemp("crafted")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=80), "b": rng.normal(size=80)})
    reg = TaskNeuronRegressor(hidden_layer_sizes=(4,), max_iter=3, formula="x", random_state=0,
                              device="cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the fit is short on purpose
        reg.fit(frame, frame["a"] - frame["b"])
    save(reg, folder / "base.skn", metadata={"target": "y", "task": "regression"})
    frame.head(3).to_csv(folder / "rows.csv", index=False)
    with zipfile.ZipFile(folder / "base.skn") as archive:
        manifest, weights = json.loads(archive.read("manifest.json")), archive.read("weights.pt")
    return folder, manifest, weights


def _fitted(**changes):
    return lambda m: m["model"]["fitted"].update(changes)


CRAFTED_MANIFESTS = {
    # name: (change to the manifest, commands, fragment of the one-line error)
    "discovery_ text": (_fitted(discovery_="td"), ("inspect", "predict"),
                        "discovery_ must be a DiscoveryResult or None"),
    "loss_curve_ missing": (lambda m: m["model"]["fitted"].pop("loss_curve_"),
                            ("inspect", "predict"), "fitted attribute loss_curve_ is missing"),
    "loss_curve_ nested": (_fitted(loss_curve_=[[1], [2]]), ("inspect", "predict"),
                           "loss_curve_ must be a list of numbers"),
    "n_iter_ a list": (_fitted(n_iter_=[1]), ("inspect", "predict"),
                       "n_iter_ must be a non-negative integer"),
    "target a list": (lambda m: m.update(metadata={"dict": {"target": ["a", "b"]}}),
                      ("predict",), "metadata 'target' is a list, not a column name"),
    "target a dict": (lambda m: m.update(metadata={"dict": {"target": {"dict": {"a": 1}}}}),
                      ("predict",), "metadata 'target' is a dict, not a column name"),
    "metadata a list": (lambda m: m.update(metadata=[1, 2]), ("inspect", "predict"),
                        "its metadata is a list, not a mapping"),
}


@pytest.mark.parametrize("name", CRAFTED_MANIFESTS)
def test_crafted_manifests_end_in_one_line_not_a_traceback(saved_model, tmp_path, capsys, name):
    """Well-formed files whose fitted attributes or metadata are of the wrong type."""
    folder, manifest, weights = saved_model
    change, commands, fragment = CRAFTED_MANIFESTS[name]
    manifest = json.loads(json.dumps(manifest))
    change(manifest)
    path = tmp_path / "crafted.skn"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("manifest.json", json.dumps(manifest))
        archive.writestr("weights.pt", weights, compress_type=zipfile.ZIP_STORED)
    for command in commands:
        arguments = [command, str(path)] + ([str(folder / "rows.csv")] if command == "predict"
                                            else [])
        assert main(arguments) == 1, command
        captured = capsys.readouterr()
        lines = captured.err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"skneuron {command}: error: "), captured.err
        assert fragment in lines[0] and "Traceback" not in captured.err
        assert captured.out == ""


def test_inspect_shows_a_cross_validated_score_that_is_not_a_number(saved_model, tmp_path,
                                                                   capsys):
    """metadata {"cv_score": "high"} without a metric: shown as it is, not a KeyError."""
    folder, manifest, weights = saved_model
    manifest = json.loads(json.dumps(manifest))
    manifest["metadata"] = {"dict": {"cv_score": "high"}}
    path = tmp_path / "crafted.skn"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("manifest.json", json.dumps(manifest))
        archive.writestr("weights.pt", weights, compress_type=zipfile.ZIP_STORED)
    assert main(["inspect", str(path)]) == 0
    assert "cross-validated None: high" in capsys.readouterr().out
