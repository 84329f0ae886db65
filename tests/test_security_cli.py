"""The command line under failure: OS errors, Ctrl-C, huge cells (issue 19, items 6 and 7)."""

from __future__ import annotations

import io
import json
import os
import re
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


# ------------------------------------------------- text from model files and tables
#: What a terminal acts on: an OSC retitle, a screen clear, colour, a bell, a forged line,
#: a C1 CSI, and a right-to-left override.
HOSTILE = "\x1b]0;pwned\x07\x1b[2J\x1b[31m\r\nINJECTED\x9b31m\u202e"
#: Characters that must never reach the terminal raw (besides the newlines ending lines).
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
#: Cells a spreadsheet runs as formulas (OWASP's examples).
FORMULAS = ["=1+cmd|' /C calc'!A0", "@SUM(1+1)"]


def _write_model(path, manifest, weights):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("manifest.json", json.dumps(manifest))
        archive.writestr("weights.pt", weights, compress_type=zipfile.ZIP_STORED)


def _quiet_fit(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the fit is short on purpose
        return estimator.fit(X, y)


@pytest.fixture(scope="module")
def hostile_model(tmp_path_factory):
    """A classifier whose labels, feature names, metadata, device parameter and discovery
    method hold terminal escapes and bidi overrides (versions stay plain: they are refused
    otherwise, see below)."""
    from skneuron import TaskNeuronClassifier
    from skneuron.persistence import save

    folder = tmp_path_factory.mktemp("hostile")
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a" + HOSTILE: rng.normal(size=40), "b": rng.normal(size=40)})
    y = np.where(X["b"] > 0, "c1" + HOSTILE, "c2")
    clf = _quiet_fit(TaskNeuronClassifier(hidden_layer_sizes=(4,), max_iter=2, random_state=0,
                                          device="cpu"), X, y)
    metadata = {key: key + HOSTILE for key in ("target", "data", "metric", "cv_score")}
    metadata["dates"] = {"d" + HOSTILE: "%Y" + HOSTILE}
    save(clf, folder / "base.skn", metadata=metadata)
    with zipfile.ZipFile(folder / "base.skn") as archive:
        manifest, weights = json.loads(archive.read("manifest.json")), archive.read("weights.pt")
    manifest["model"]["params"]["device"] = "cpu" + HOSTILE
    manifest["model"]["fitted"]["discovery_"]["discovery"]["method"] = "td" + HOSTILE
    _write_model(folder / "hostile.skn", manifest, weights)
    return folder / "hostile.skn"


def test_inspect_shows_hostile_text_escaped(hostile_model, capsys):
    """Labels, feature names, metadata, device and discovery method: escaped as repr does,
    on the lines they belong to (none forged, none reversed)."""
    assert main(["inspect", str(hostile_model)]) == 0
    out = capsys.readouterr().out
    assert not RAW.search(out), out
    escaped = "\\x1b]0;pwned\\x07\\x1b[2J\\x1b[31m\\r\\nINJECTED\\x9b31m\\u202e"
    lines = out.splitlines()
    assert not any(line.startswith("INJECTED") for line in lines)
    for start in ("target: target", "dates (read as date-times): d", "cross-validated metric",
                  "classes: c1", "features: 2 columns of the table: a",
                  "parameters (non-default):"):
        line = next(line for line in lines if line.startswith(start))
        assert escaped in line, line
    assert "(discovered by TD\\x1b]0;PWNED\\x07" in out  # the method is shown upper-cased


def test_inspect_json_escapes_control_and_bidi_characters(hostile_model, capsys):
    assert main(["inspect", str(hostile_model), "--json"]) == 0
    out = capsys.readouterr().out
    assert not RAW.search(out), out
    info = json.loads(out)  # the escapes read back as the text
    assert info["metadata"]["target"] == "target" + HOSTILE
    assert info["classes"] == ["c1" + HOSTILE, "c2"]
    assert "R²" not in out or "\\u00b2" not in out  # other text is left readable


def test_errors_and_warnings_show_hostile_text_escaped(table, capsys):
    """CSV header names and cells, and a warning's message, reach standard error escaped,
    on one line."""
    from skneuron.cli import _warnings_on_one_line

    pd.DataFrame({"a": [1.0, 2.0], "x" + HOSTILE: [2.0, 3.0],
                  "d": ["2024-01-05", "5" + HOSTILE]}).to_csv("odd.csv", index=False)
    for arguments, shown in [(["--target", "y"], "columns: a, x\\x1b]0;pwned\\x07"),
                             (["--target", "a", "--date", "d"], "5\\x1b]0;pwned\\x07")]:
        assert main(["fit", "odd.csv", "--out", "m.skn", *arguments, *QUICK]) == 1
        err = capsys.readouterr().err
        assert len(err.splitlines()) == 1 and not RAW.search(err.rstrip("\n")), err
        assert shown in err, err
    with _warnings_on_one_line("inspect"):
        warnings.warn("saved with torch 2.0" + HOSTILE, UserWarning)
    err = capsys.readouterr().err
    assert err.startswith("skneuron inspect: warning: saved with torch 2.0\\x1b]0;")
    assert len(err.splitlines()) == 1 and not RAW.search(err.rstrip("\n")), err


@pytest.mark.parametrize("version", ["2.0" + HOSTILE, "2.0 ", "", "1" * 65])
def test_a_version_that_is_not_plain_text_is_refused(saved_model, tmp_path, capsys, version):
    """Versions end up in ModelVersionWarning and inspect: letters, digits, . + - _ only."""
    _, manifest, weights = saved_model
    manifest = json.loads(json.dumps(manifest))
    manifest["versions"]["torch"] = version
    _write_model(tmp_path / "v.skn", manifest, weights)
    assert main(["inspect", str(tmp_path / "v.skn")]) == 1
    captured = capsys.readouterr()
    assert "'versions' is not a mapping of names to version strings" in captured.err
    assert captured.out == "" and not RAW.search(captured.err.rstrip("\n"))


# ---------------------------------------------------------------- date formats
@pytest.fixture()
def dated_model(saved_model, tmp_path):
    """Saves the fixture's model with the given metadata ``dates`` and a table to predict with
    a date column ``d``; returns the paths."""
    folder, manifest, weights = saved_model
    rows = pd.read_csv(folder / "rows.csv").assign(d=["2024-01-05", "2024-02-06", "2024-03-07"])
    rows.to_csv(tmp_path / "rows.csv", index=False)

    def make(dates):
        changed = json.loads(json.dumps(manifest))
        changed["metadata"] = {"dict": {"target": "y", "dates": {"dict": dates}}}
        _write_model(tmp_path / "dated.skn", changed, weights)
        return str(tmp_path / "dated.skn"), str(tmp_path / "rows.csv")

    return make


@pytest.mark.parametrize("date_format", [
    "%d" * 300_000,  # pandas compiles it into a regular expression: more than ten minutes
    "%d%d",  # a directive twice: re.error, a traceback
    "%Y" + "-" * 63,  # longer than MAX_DATE_FORMAT_LENGTH
    "%Y-%m-%d%c",  # a locale's whole date and time
    "%Y\x1b[2J",  # not printable
])
def test_a_model_file_date_format_beyond_the_limits_is_refused_at_once(dated_model, capsys,
                                                                     date_format):
    model, rows = dated_model({"d": date_format})
    start = time.perf_counter()
    assert main(["predict", model, rows]) == 1
    assert time.perf_counter() - start < 10
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in captured.err, captured.err
    assert "is damaged: its metadata 'dates' gives column 'd' the format" in lines[0]
    assert len(lines[0]) < 400 and captured.out == ""


@pytest.mark.parametrize("date_format", ["ISO8601", "%Y-%m-%d", "%Y-%m-%d%%", "%Y-%m-%dT%H"])
def test_plain_date_formats_in_a_model_file_are_read(dated_model, capsys, date_format):
    model, rows = dated_model({"d": date_format})
    status = main(["predict", model, rows])
    captured = capsys.readouterr()
    if date_format in ("ISO8601", "%Y-%m-%d"):
        assert status == 0 and len(captured.out.splitlines()) == 4, captured.err
    else:  # accepted, but the text does not fit: the date reader's one-line error
        assert status == 1 and "cannot read column 'd' of" in captured.err
        assert len(captured.err.strip().splitlines()) == 1


def test_the_date_reader_reports_a_format_pandas_cannot_compile_in_one_line():
    from skneuron.cli import DateReader, UsageError

    read = DateReader(["d"], "t.csv", formats={"d": "%d%d"})
    with pytest.raises(UsageError, match="cannot read column 'd' of t.csv as dates in the "
                                         "format %d%d: redefinition of group name"):
        read(pd.DataFrame({"d": ["0505"]}))


@pytest.mark.parametrize("metadata, fragment", [
    ({"target": ["a", "b"]}, "its metadata 'target' is a list, not a column name"),
    ({"target": "y", "dates": ["d"]}, "its metadata 'dates' does not map column names"),
    ({"target": "y", "dates": {"d": "%d%d"}}, "its metadata 'dates' gives column 'd' the format"),
])
def test_predict_refuses_fit_metadata_it_cannot_use_as_a_damaged_model_file(metadata, fragment):
    """A bad 'target' was a UsageError, bad 'dates' a ModelFileError: one check, one type
    (the exit status is 1 either way)."""
    from skneuron.cli import _fit_metadata
    from skneuron.persistence import ModelFileError

    with pytest.raises(ModelFileError, match=re.escape(f"'m.skn' is damaged: {fragment}")):
        _fit_metadata({"metadata": metadata}, "m.skn")


def test_fit_metadata_gives_the_prediction_column_and_the_date_formats():
    from skneuron.cli import _fit_metadata

    assert _fit_metadata({"metadata": {}}, "m.skn") == ("prediction", {})
    assert _fit_metadata({"metadata": {"target": "y", "dates": {"d": "%Y-%m-%d", "e": None}}},
                         "m.skn") == ("y", {"d": "%Y-%m-%d", "e": None})


@pytest.mark.parametrize("command", ["predict", "inspect"])
def test_predict_and_inspect_read_the_model_file_once(saved_model, capsys, monkeypatch, command):
    """The model and the manifest come from one read: not load, then read_manifest, which
    checked the file twice and could read two files if it was replaced in between."""
    from skneuron import persistence

    folder, _, _ = saved_model
    reads = []
    read = persistence._read

    def counted(path, **options):
        reads.append(os.fspath(path))
        return read(path, **options)

    monkeypatch.setattr(persistence, "_read", counted)
    model = str(folder / "base.skn")
    arguments = [command, model] + ([str(folder / "rows.csv")] if command == "predict" else [])
    assert main(arguments) == 0, capsys.readouterr().err
    assert reads == [model]


# ------------------------------------------------------------- predict's CSV
@pytest.fixture(scope="module")
def formula_labels(tmp_path_factory):
    """A classifier whose labels and target name are spreadsheet formulas, a table to
    predict, and a regressor whose predictions are negative."""
    from skneuron import TaskNeuronClassifier, TaskNeuronRegressor
    from skneuron.persistence import save

    folder = tmp_path_factory.mktemp("formulas")
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=60)})
    y = np.where(X["a"] > 0, *FORMULAS)
    clf = _quiet_fit(TaskNeuronClassifier(hidden_layer_sizes=(4,), max_iter=2, random_state=0,
                                          device="cpu"), X, y)
    save(clf, folder / "labels.skn", metadata={"target": "=HYPERLINK(\"http://evil\")"})
    reg = _quiet_fit(TaskNeuronRegressor(hidden_layer_sizes=(4,), max_iter=2, formula="x",
                                         random_state=0, device="cpu"), X, X["a"] - 100)
    save(reg, folder / "negative.skn", metadata={"target": "-y"})
    clf_ints = _quiet_fit(TaskNeuronClassifier(hidden_layer_sizes=(4,), max_iter=2,
                                               random_state=0, device="cpu"),
                          X, np.where(X["a"] > 0, -1, 1))
    save(clf_ints, folder / "ints.skn", metadata={"target": "y"})
    X.to_csv(folder / "rows.csv", index=False)
    X.head(0).to_csv(folder / "empty.csv", index=False)
    return folder


@pytest.mark.parametrize("chunk", [[], ["--chunk-rows", "7"]])
def test_predict_writes_no_spreadsheet_formula(formula_labels, capsys, chunk):
    """Text cells and headers starting with = + - @ get a leading ' (OWASP); numbers do not."""
    folder = formula_labels
    assert main(["predict", str(folder / "labels.skn"), str(folder / "rows.csv"), "--proba",
                 *chunk]) == 0
    written = pd.read_csv(io.StringIO(capsys.readouterr().out), dtype=str)
    assert list(written.columns) == ["'=HYPERLINK(\"http://evil\")",
                                     *(f"proba_{label}" for label in sorted(FORMULAS))]
    assert set(written.iloc[:, 0]) == {"'" + label for label in FORMULAS}
    assert all(written.iloc[:, 1:].astype(float).notna().all())
    for model in ("negative", "ints"):  # negative numbers stay numbers
        assert main(["predict", str(folder / f"{model}.skn"), str(folder / "rows.csv"),
                     *chunk]) == 0
        written = pd.read_csv(io.StringIO(capsys.readouterr().out))
        assert written.columns[0] in ("'-y", "y")
        assert written.iloc[:, 0].dtype.kind in "if" and (written.iloc[:, 0] < 0).any()


def test_an_empty_table_has_the_same_quoted_header_in_chunks_or_whole(saved_model, tmp_path,
                                                                      capsys):
    """A target name with a comma, a quote and a newline is one quoted column, never three."""
    folder, manifest, weights = saved_model
    manifest = json.loads(json.dumps(manifest))
    name = 'y,forged,"x"\nz'
    manifest["metadata"] = {"dict": {"target": name}}
    _write_model(tmp_path / "m.skn", manifest, weights)
    pd.read_csv(folder / "rows.csv").head(0).to_csv(tmp_path / "empty.csv", index=False)
    outputs = []
    for chunk in ([], ["--chunk-rows", "5"]):
        assert main(["predict", str(tmp_path / "m.skn"), str(tmp_path / "empty.csv"),
                     *chunk]) == 0
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1]
    assert list(pd.read_csv(io.StringIO(outputs[1])).columns) == [name]
