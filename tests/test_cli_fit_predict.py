"""``skneuron fit | predict | inspect`` as a user runs them, on temporary tables: a few as
subprocesses (the console command itself), the rest through ``main`` in-process."""

import json
import subprocess
import sys

import numpy as np
import pytest

from skneuron.cli import main

pd = pytest.importorskip("pandas")

QUICK = ["--param", "max_iter=5", "--param", "hidden_layer_sizes=(8,)", "--cv", "2"]


def run(*args, cwd):
    result = subprocess.run([sys.executable, "-m", "skneuron", *map(str, args)], cwd=cwd,
                            capture_output=True, text=True, timeout=300, check=False)
    return result


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    """A regression and a classification table with numeric, categorical and missing values."""
    folder = tmp_path_factory.mktemp("tables")
    rng = np.random.default_rng(0)
    n = 120
    frame = pd.DataFrame({
        "area": rng.normal(size=n),
        "rooms": rng.integers(1, 6, size=n),
        "city": rng.choice(["paris", "rome", "oslo"], size=n),
    })
    frame.loc[3, "area"] = np.nan
    frame.loc[5, "city"] = None
    frame["price"] = 100 + 10 * frame["area"].fillna(0) + 5 * (frame["city"] == "rome")
    frame["size"] = np.where(frame["price"] > 100, "large", "small")
    frame.drop(columns="size").to_csv(folder / "houses.csv", index=False)
    frame.drop(columns="price").to_csv(folder / "sizes.csv", index=False)
    frame[["area", "rooms"]].to_csv(folder / "no_city.csv", index=False)
    dirty = frame.drop(columns="size").astype({"price": object})
    dirty.loc[7, "price"] = "?"  # an unknown price
    dirty.to_csv(folder / "dirty.csv", index=False)
    named = frame.drop(columns=["size", "price"]).assign(owner=[f"owner {i}" for i in range(n)])
    named.to_csv(folder / "owners.csv", index=False)  # a text column of one value per row
    return folder


def test_fit_predict_inspect_a_regression(tables, monkeypatch, capsys):
    fit = run("fit", "houses.csv", "--target", "price", "--out", "houses.skn", *QUICK, cwd=tables)
    assert fit.returncode == 0, fit.stderr
    assert "task: regression of 'price'" in fit.stdout
    assert "3 columns (1 categorical)" in fit.stdout  # read by the estimator itself
    assert "cross-validated R²: " in fit.stdout and "(2 folds)" in fit.stdout
    assert "formula: σ(" in fit.stdout
    assert (tables / "houses.skn").is_file()

    # predict and inspect in-process: the command's start-up is tested by the fit above
    monkeypatch.chdir(tables)
    assert main(["predict", "houses.skn", "houses.csv", "--out", "preds.csv"]) == 0
    predictions = pd.read_csv(tables / "preds.csv")
    assert list(predictions.columns) == ["price"] and len(predictions) == 120
    assert predictions["price"].notna().all()

    capsys.readouterr()
    assert main(["inspect", "houses.skn", "--plot", "curve.png"]) == 0
    shown = capsys.readouterr().out
    assert "TaskNeuronRegressor" in shown and "pipeline" not in shown
    assert "formula: σ(" in shown and "versions (saved / running): skneuron" in shown
    assert "max_iter=5" in shown
    assert (tables / "curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_fit_a_text_target_as_classification_with_a_progress_bar(tables, monkeypatch, capsys):
    fit = run("fit", "sizes.csv", "--target", "size", "--out", "sizes.skn", "--progress", *QUICK,
              cwd=tables)
    assert fit.returncode == 0, fit.stderr
    assert "task: classification of 'size' (2 classes)" in fit.stdout
    assert "cross-validated accuracy: " in fit.stdout
    assert "fold 1/2" in fit.stderr and "epoch" in fit.stderr  # tqdm's bar
    # predict and inspect run in-process here (the regression test runs them as commands)
    monkeypatch.chdir(tables)
    assert main(["predict", "sizes.skn", "sizes.csv", "--proba"]) == 0
    header, first = capsys.readouterr().out.splitlines()[:2]
    assert header == "size,proba_large,proba_small"
    label, p_large, p_small = first.split(",")
    assert label in ("large", "small") and abs(float(p_large) + float(p_small) - 1) < 1e-9
    assert main(["inspect", "sizes.skn", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["classes"] == ["large", "small"] and info["metadata"]["target"] == "size"
    assert info["features"] == ["area", "rooms", "city"]


def test_a_user_mistake_is_a_one_line_error_of_the_command(tables):
    result = run("fit", "missing.csv", "--target", "price", cwd=tables)
    assert result.returncode == 1
    assert result.stderr.strip() == result.stderr.strip().splitlines()[0]  # one line
    assert result.stderr.startswith("skneuron fit: error: ")
    assert "no such file: missing.csv" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("args, message", [
    (["fit", "houses.csv", "--target", "cost"], "no column 'cost' in houses.csv"),
    (["fit", "sizes.csv", "--target", "size", "--task", "regression"],
     "target column 'size' is not numeric"),
    (["fit", "houses.csv", "--target", "price", "--param", "speed=3"], "unknown parameter 'speed'"),
    (["fit", "houses.csv", "--target", "price", "--param", "max_iter=0"], "'max_iter' parameter"),
    (["fit", "houses.csv", "--target", "price", "--param", "formula=x + foo(x)"],
     "unknown name 'foo'"),
    (["fit", "houses.csv", "--target", "price", "--date", "sold"],
     "--date: no column 'sold' in houses.csv"),
    (["fit", "houses.csv", "--target", "price", "--date", "price"], "--date 'price' names the target"),
    (["fit", "houses.csv", "--target", "price", "--date", "rooms"],
     "column 'rooms' of houses.csv holds numbers, not dates"),
    (["fit", "houses.csv", "--target", "price", "--date", "city"],
     "cannot read column 'city' of houses.csv as dates: no date format fits its first value"),
    (["predict", "houses.csv", "houses.csv"], "not a skneuron model file"),
    (["predict", "nothing.skn", "houses.csv"], "no such model file"),
    (["inspect", "nothing.skn"], "no such model file"),
    (["predict", ".", "houses.csv"], ". is a directory, not a model file"),
    (["fit", "dirty.csv", "--target", "price"],
     "target column 'price' holds numbers except for 1 value(s) such as '?'"),
    (["fit", "owners.csv", "--target", "owner"],
     "target column 'owner' holds 120 distinct values in 120 rows: an identifier"),
])
def test_more_mistakes_in_process(tables, monkeypatch, capsys, args, message):
    monkeypatch.chdir(tables)
    assert main(args) == 1
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert err.startswith(f"skneuron {args[0]}: error: ")


def test_predict_names_the_missing_columns(tables, monkeypatch, capsys):
    monkeypatch.chdir(tables)
    assert main(["fit", "houses.csv", "--target", "price", "--out", "m.skn", *QUICK]) == 0
    capsys.readouterr()
    assert main(["predict", "m.skn", "no_city.csv"]) == 1
    assert "lacks the column(s) ['city']" in capsys.readouterr().err


@pytest.mark.parametrize("chunks", [[], ["--chunk-rows", "7"]])
def test_a_table_without_rows_predicts_the_header_alone(tables, monkeypatch, capsys, chunks):
    monkeypatch.chdir(tables)
    if not (tables / "m.skn").exists():
        assert main(["fit", "houses.csv", "--target", "price", "--out", "m.skn", *QUICK]) == 0
    pd.read_csv("houses.csv").iloc[:0].to_csv("header.csv", index=False)
    capsys.readouterr()
    assert main(["predict", "m.skn", "header.csv", "--out", "none.csv", *chunks]) == 0
    assert (tables / "none.csv").read_text() == "price\n"
    assert "wrote 0 predictions" in capsys.readouterr().err


def test_parquet_tables_are_read(tables, monkeypatch, capsys):
    pytest.importorskip("pyarrow")
    monkeypatch.chdir(tables)
    pd.read_csv("houses.csv").to_parquet("houses.parquet")
    assert main(["fit", "houses.parquet", "--target", "price", "--out", "pq.skn", *QUICK]) == 0
    assert "houses.parquet: 120 rows, 3 columns" in capsys.readouterr().out


def test_predict_and_inspect_a_model_saved_from_python(tmp_path, monkeypatch, capsys):
    from skneuron import TaskNeuronRegressor

    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(rng.normal(size=(80, 3)), columns=["a", "b", "c"])
    reg = TaskNeuronRegressor(formula="x + x**2", hidden_layer_sizes=(4,), max_iter=3,
                              random_state=0)
    with pytest.warns(Warning):  # ConvergenceWarning after 3 epochs
        reg.fit(frame, frame["a"] ** 2)
    reg.save("est.skn")
    frame[["c", "a", "b"]].to_csv("new.csv", index=False)  # columns are matched by name
    assert main(["predict", "est.skn", "new.csv", "--out", "p.csv"]) == 0
    np.testing.assert_allclose(pd.read_csv("p.csv")["prediction"], reg.predict(frame))
    assert main(["inspect", "est.skn"]) == 0
    out = capsys.readouterr().out
    assert "est.skn: TaskNeuronRegressor\n" in out and "terms: x, x**2\n" in out


@pytest.fixture(scope="module")
def dated(tmp_path_factory):
    """Sales whose price follows the date; a quarter of them, on other days, is held out."""
    folder = tmp_path_factory.mktemp("dated")
    rng = np.random.default_rng(0)
    days = rng.permutation(1000)[:160]  # no day twice: each held-out date is unseen
    frame = pd.DataFrame({
        "sold": (pd.Timestamp("2021-01-01") + pd.to_timedelta(days, unit="D")).strftime("%Y-%m-%d"),
        "rooms": rng.integers(1, 6, size=160),
    })
    frame["price"] = 100 + 0.05 * days + 2 * frame["rooms"] + rng.normal(size=160)
    frame.loc[7, "sold"] = None  # a missing date
    frame.iloc[:120].to_csv(folder / "sales.csv", index=False)
    frame.iloc[120:].to_csv(folder / "later.csv", index=False)
    return folder


def test_date_columns_are_read_as_dates_by_fit_and_predict(dated, monkeypatch, capsys):
    monkeypatch.chdir(dated)
    quick = ["--param", "max_iter=60", "--param", "hidden_layer_sizes=(8,)", "--cv", "0"]
    assert main(["fit", "sales.csv", "--target", "price", "--date", "sold", "--out", "d.skn",
                 *quick]) == 0
    read = capsys.readouterr()
    assert "sales.csv: 120 rows, 2 columns\n" in read.out and "note:" not in read.err
    assert main(["fit", "sales.csv", "--target", "price", "--out", "text.skn", *quick]) == 0
    read = capsys.readouterr()
    assert "2 columns (1 categorical)" in read.out  # dates as text, and a hint
    assert "note: column 'sold' holds text that reads as dates" in read.err
    assert "--date sold reads it as dates" in read.err
    truth = pd.read_csv("later.csv")["price"]
    correlations = {}
    for name in ("d", "text"):
        assert main(["predict", f"{name}.skn", "later.csv", "--out", f"{name}.csv"]) == 0
        correlations[name] = pd.read_csv(f"{name}.csv")["price"].corr(truth)
    # Unseen dates follow the trend as numbers; as categories they are all unknown.
    assert correlations["d"] > 0.9 > correlations["text"] + 0.3
    # predict reads the dates the model was fitted with from the model file: chunked too
    assert main(["predict", "d.skn", "later.csv", "--chunk-rows", "7", "--out", "c.csv"]) == 0
    np.testing.assert_allclose(pd.read_csv("c.csv")["price"], pd.read_csv("d.csv")["price"])
    assert main(["inspect", "d.skn"]) == 0
    assert "dates (read as date-times): sold (ISO8601)\n" in capsys.readouterr().out


def test_streaming_fit_reads_date_columns_in_every_chunk(dated, monkeypatch, capsys):
    monkeypatch.chdir(dated)
    assert main(["fit", "sales.csv", "--target", "price", "--date", "sold", "--chunk-rows", "50",
                 "--out", "s.skn", "--param", "hidden_layer_sizes=(4,)"]) == 0
    from skneuron.persistence import read_manifest

    assert read_manifest("s.skn")["metadata"]["dates"] == {"sold": "ISO8601"}
    capsys.readouterr()
    assert main(["predict", "s.skn", "later.csv"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1 + 40


def test_dates_keep_the_format_fit_inferred_in_every_chunk_and_at_predict(dated, monkeypatch,
                                                                           capsys):
    """Day-first text: an ambiguous date such as 05/02/2021 is the 5th of February wherever
    it falls, even first in a file or a chunk, where pandas alone would infer month first."""
    monkeypatch.chdir(dated)
    for name in ("sales", "later"):
        frame = pd.read_csv(f"{name}.csv")
        ambiguous = (pd.to_datetime(frame["sold"]).dt.day <= 12) & frame["sold"].notna()
        first = ambiguous.idxmax()  # each file begins with an ambiguous date
        frame = frame.iloc[[first, *frame.index.drop(first)]]
        frame.to_csv(f"{name}_iso.csv", index=False)
        frame["sold"] = pd.to_datetime(frame["sold"]).dt.strftime("%d/%m/%Y")
        frame.to_csv(f"{name}_dmy.csv", index=False)
    quick = ["--param", "max_iter=20", "--param", "hidden_layer_sizes=(4,)", "--cv", "0"]
    for text in ("iso", "dmy"):
        for fit, chunked in (("whole", []), ("streamed", ["--chunk-rows", "7"])):
            assert main(["fit", f"sales_{text}.csv", "--target", "price", "--date", "sold",
                         "--out", f"{fit}_{text}.skn", *quick, *chunked]) == 0
            # One row per chunk: each ambiguous date is its chunk's first value.
            assert main(["predict", f"{fit}_{text}.skn", f"later_{text}.csv", "--chunk-rows", "1",
                         "--out", f"{fit}_{text}.csv"]) == 0
    from skneuron.persistence import read_manifest

    assert read_manifest("whole_dmy.skn")["metadata"]["dates"] == {"sold": "%d/%m/%Y"}
    assert read_manifest("streamed_dmy.skn")["metadata"]["dates"] == {"sold": "%d/%m/%Y"}
    # The day-first text is read as the same dates as the ISO text, chunk after chunk.
    for fit in ("whole", "streamed"):
        np.testing.assert_allclose(pd.read_csv(f"{fit}_dmy.csv")["price"],
                                   pd.read_csv(f"{fit}_iso.csv")["price"])
    # Text in another format than fit's is refused, not read differently.
    capsys.readouterr()
    assert main(["predict", "whole_dmy.skn", "later_iso.csv"]) == 1
    assert ("cannot read column 'sold' of later_iso.csv as dates in the format %d/%m/%Y: time data "
            in capsys.readouterr().err)


def test_a_date_column_empty_in_the_first_chunk_takes_its_format_from_a_later_one(
        dated, monkeypatch, capsys):
    """An empty column reads as numbers; it is no date yet, not a refusal."""
    monkeypatch.chdir(dated)
    frame = pd.read_csv("sales.csv")
    frame.loc[:6, "sold"] = None
    frame.to_csv("late_dates.csv", index=False)
    frame.assign(sold=None).to_csv("no_dates.csv", index=False)
    quick = ["--param", "max_iter=5", "--param", "hidden_layer_sizes=(2,)", "--cv", "0"]
    assert main(["fit", "late_dates.csv", "--target", "price", "--date", "sold",
                 "--chunk-rows", "7", "--out", "late.skn", *quick]) == 0
    assert main(["fit", "no_dates.csv", "--target", "price", "--date", "sold",
                 "--out", "none.skn", *quick]) == 0
    from skneuron.persistence import read_manifest

    assert read_manifest("late.skn")["metadata"]["dates"] == {"sold": "ISO8601"}
    assert read_manifest("none.skn")["metadata"]["dates"] == {"sold": None}
    capsys.readouterr()
    assert main(["inspect", "none.skn"]) == 0
    assert "dates (read as date-times): sold (no value seen)\n" in capsys.readouterr().out
    # predict, given dates, infers their format then
    assert main(["predict", "none.skn", "later.csv"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1 + 40


@pytest.mark.parametrize("dates", ["sold", ["sold"], {"sold": 3}, {"sold": ["%Y"]}])
def test_a_model_file_whose_dates_are_not_column_formats_is_refused(dated, monkeypatch, capsys,
                                                                     dates):
    from skneuron import TaskNeuronRegressor
    from skneuron.persistence import save

    monkeypatch.chdir(dated)
    frame = pd.read_csv("sales.csv")[["rooms", "price"]]
    reg = TaskNeuronRegressor(formula="x", hidden_layer_sizes=(2,), max_iter=1).fit(
        frame[["rooms"]], frame["price"])
    save(reg, "odd.skn", metadata={"target": "price", "dates": dates})
    assert main(["predict", "odd.skn", "later.csv"]) == 1
    assert "metadata 'dates' does not map column names to date formats" in capsys.readouterr().err


def test_categorical_features_can_name_columns(tables, monkeypatch, capsys):
    monkeypatch.chdir(tables)
    assert main(["fit", "houses.csv", "--target", "price", "--out", "named.skn", *QUICK[:4],
                 "--cv", "0", "--param", "categorical_features=['city', 'rooms']"]) == 0
    assert "houses.csv: 120 rows, 3 columns (2 categorical)\n" in capsys.readouterr().out


def test_predict_writes_a_column_per_output_of_a_model_saved_from_python(tmp_path, monkeypatch,
                                                                          capsys):
    """A multilabel classifier and a two-output regressor, whose predict is 2-D."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    from skneuron import TaskNeuronClassifier, TaskNeuronRegressor, load

    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(2)
    frame = pd.DataFrame(rng.normal(size=(40, 2)), columns=["a", "b"])
    labels = (rng.random((40, 3)) > 0.5).astype(int)
    tiny = {"formula": "x", "hidden_layer_sizes": (2,), "max_iter": 2, "random_state": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        TaskNeuronClassifier(**tiny).fit(frame, labels).save("labels.skn")
        TaskNeuronRegressor(**tiny).fit(frame, np.c_[frame["a"], -frame["b"]]).save("two.skn")
    frame.to_csv("new.csv", index=False)
    assert main(["predict", "labels.skn", "new.csv", "--proba", "--out", "labels.csv"]) == 0
    predicted = pd.read_csv("labels.csv")
    assert list(predicted.columns) == ["prediction_0", "prediction_1", "prediction_2",
                                       "proba_0", "proba_1", "proba_2"]
    classifier = load("labels.skn")
    np.testing.assert_array_equal(predicted.iloc[:, :3], classifier.predict(frame))
    np.testing.assert_allclose(predicted.iloc[:, 3:], classifier.predict_proba(frame))
    for chunked in ([], ["--chunk-rows", "15"]):
        assert main(["predict", "two.skn", "new.csv", "--out", "two.csv", *chunked]) == 0
        predicted = pd.read_csv("two.csv")
        assert list(predicted.columns) == ["prediction_0", "prediction_1"]
        np.testing.assert_allclose(predicted, load("two.skn").predict(frame))


def test_inspect_shows_an_array_parameter(tmp_path, monkeypatch, capsys):
    from skneuron import TaskNeuronRegressor

    monkeypatch.chdir(tmp_path)
    frame = pd.DataFrame({"a": np.linspace(0, 1, 40), "b": np.arange(40) % 3})
    reg = TaskNeuronRegressor(categorical_features=np.array([False, True]), formula="x",
                              hidden_layer_sizes=(2,), max_iter=2, random_state=0)
    with pytest.warns(Warning):  # ConvergenceWarning after 2 epochs
        reg.fit(frame, frame["a"] + frame["b"])
    reg.save("est.skn")
    assert main(["inspect", "est.skn"]) == 0
    assert "parameters (non-default): categorical_features=[False, True], formula=x, " \
        in capsys.readouterr().out
    assert main(["inspect", "est.skn", "--json", "--plot", "curve.png"]) == 0
    assert json.loads(capsys.readouterr().out)["params"]["categorical_features"] == "[False, True]"


def test_warnings_of_a_command_are_one_line(tmp_path, monkeypatch, capsys):
    """Not Python's 'path/_estimators.py:505: UserWarning: ...' and the source line."""
    import warnings

    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(3)
    pd.DataFrame({"a": rng.normal(size=120), "b": rng.normal(size=120), "y": 3.0}).to_csv(
        "constant.csv", index=False)
    shown = warnings.showwarning
    assert main(["fit", "constant.csv", "--target", "y", "--task", "regression", "--cv", "0",
                 "--param", "max_iter=2", "--param", "hidden_layer_sizes=(2,)"]) == 0
    assert capsys.readouterr().err.splitlines() == [
        "skneuron fit: warning: TD discovery found no informative term (the target is "
        "constant); the linear neuron is used."]
    assert warnings.showwarning is shown  # Python's own format again outside the command


# ------------------------------------------------------- predict --proba: one pass
def _tiny_classifier(X, y):
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    from skneuron import TaskNeuronClassifier

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return TaskNeuronClassifier(formula="x", hidden_layer_sizes=(4,), max_iter=3,
                                    random_state=0, device="cpu").fit(X, y)


@pytest.mark.parametrize("kind", ["binary", "multiclass", "multilabel"])
def test_predict_with_proba_equals_predict_and_predict_proba(kind):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(60, 3))
    y = {"binary": np.where(X[:, 0] > 0, "yes", "no"),
         "multiclass": rng.choice(["a", "b", "c"], 60),
         "multilabel": (rng.random((60, 3)) > 0.5).astype(int)}[kind]
    clf = _tiny_classifier(X, y)
    labels, probabilities = clf._predict_with_proba(X)
    np.testing.assert_array_equal(labels, clf.predict(X))
    assert labels.dtype == clf.predict(X).dtype
    np.testing.assert_array_equal(probabilities, clf.predict_proba(X))


@pytest.mark.parametrize("logits", [
    [[0.0], [1e-300], [-1e-300]],  # binary: a logit of 0 is a tie, broken as predict does
    [[1.0, 1.0, 0.0], [0.0, 2.0, 2.0], [-1.0, -1.0, -1.0]],  # multiclass ties: the first
])
def test_predict_with_proba_breaks_ties_as_predict_does(monkeypatch, logits):
    from skneuron import TaskNeuronClassifier

    rng = np.random.default_rng(4)
    X = rng.normal(size=(30, 2))
    n_classes = 2 if len(logits[0]) == 1 else 3
    clf = _tiny_classifier(X, np.arange(30) % n_classes)
    monkeypatch.setattr(TaskNeuronClassifier, "_forward", lambda self, X: np.array(logits))
    labels, probabilities = clf._predict_with_proba(X[:3])
    np.testing.assert_array_equal(labels, clf.predict(X[:3]))
    np.testing.assert_array_equal(probabilities, clf.predict_proba(X[:3]))


@pytest.mark.parametrize("pipeline", [False, True])
@pytest.mark.parametrize("chunked", [[], ["--chunk-rows", "25"]])
def test_predict_proba_runs_the_network_once_per_chunk(tmp_path, monkeypatch, capsys, pipeline,
                                                       chunked):
    """predict --proba called predict, then predict_proba: two forward passes of the network
    (and two encoder transforms for a pipeline) where one gives both."""
    from sklearn.pipeline import make_pipeline

    from skneuron import TaskNeuronClassifier, load
    from skneuron.persistence import save
    from skneuron.preprocessing import TabularEncoder

    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"a": rng.normal(size=50), "c": rng.choice(["u", "v", "w"], 50)})
    y = np.where(frame["a"] + (frame["c"] == "u") > 0.5, "hi", "lo")
    if pipeline:
        encoder = TabularEncoder().fit(frame)
        model = make_pipeline(encoder, _tiny_classifier(encoder.transform(frame), y))
    else:
        model = _tiny_classifier(frame, y)
    save(model, "m.skn")
    frame.to_csv("rows.csv", index=False)
    restored = load("m.skn")
    expected = pd.DataFrame({"prediction": restored.predict(frame)})
    for label, column in zip(restored.classes_, restored.predict_proba(frame).T):
        expected[f"proba_{label}"] = column

    calls = {"forward": 0, "transform": 0}
    forward, transform = TaskNeuronClassifier._forward, TabularEncoder.transform

    def counted_forward(self, X):
        calls["forward"] += 1
        return forward(self, X)

    def counted_transform(self, X):
        calls["transform"] += 1
        return transform(self, X)

    monkeypatch.setattr(TaskNeuronClassifier, "_forward", counted_forward)
    monkeypatch.setattr(TabularEncoder, "transform", counted_transform)
    assert main(["predict", "m.skn", "rows.csv", "--proba", "--out", "p.csv", *chunked]) == 0
    n_chunks = 2 if chunked else 1
    assert calls == {"forward": n_chunks, "transform": n_chunks if pipeline else 0}
    pd.testing.assert_frame_equal(pd.read_csv("p.csv"), expected, check_exact=True,
                                  check_dtype=False)
