"""``skneuron fit|predict --chunk-rows N``: tables streamed in chunks, in-process."""

import numpy as np
import pytest

from skneuron import load
from skneuron.cli import main
from skneuron.persistence import read_manifest

pd = pytest.importorskip("pandas")

SMALL = ["--param", "hidden_layer_sizes=(8,)", "--param", "n_members=2",
         "--param", "formula=x + x**2", "--param", "batch_size=20"]


@pytest.fixture
def tables(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    n = 300
    frame = pd.DataFrame({
        "area": rng.normal(size=n),
        "rooms": rng.integers(1, 6, size=n),
        "city": rng.choice(["paris", "rome", "oslo"], size=n),
    })
    frame.loc[3, "area"] = np.nan
    frame["price"] = 100 + 10 * frame["area"].fillna(0) + 5 * (frame["city"] == "rome")
    frame.loc[7, "price"] = np.nan  # a row without a target is skipped
    frame.to_csv(tmp_path / "houses.csv", index=False)
    # sorted by the label: the first chunks hold one class only
    sizes = frame.drop(columns="price").assign(
        size=np.where(frame["area"].fillna(0) > 0, "large", "small")).sort_values("size")
    sizes.to_csv(tmp_path / "sizes.csv", index=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_streaming_fit_runs_partial_fit_per_chunk_and_epoch(tables, capsys):
    assert main(["fit", "houses.csv", "--target", "price", "--chunk-rows", "100",
                 "--epochs", "3", "--out", "m.skn", *SMALL]) == 0
    out = capsys.readouterr().out
    assert "streaming houses.csv in chunks of 100 rows, 3 epoch(s)" in out
    assert "epoch 3/3: loss " in out and "(299 rows)" in out
    assert "cross-validated" not in out and "rows/s" in out
    model = load("m.skn")
    assert model.n_iter_ == 9  # three chunks, three passes
    assert model.feature_names_in_.tolist() == ["area", "rooms", "city"]
    metadata = read_manifest("m.skn")["metadata"]
    assert metadata["chunk_rows"] == 100 and metadata["epochs"] == 3
    assert metadata["n_rows"] == 299 and metadata["target"] == "price"
    # the loss goes down over the passes
    losses = [float(line.split("loss ")[1].split()[0]) for line in out.splitlines()
              if line.startswith("epoch ")]
    assert losses[-1] < losses[0]


def test_streaming_fit_equals_partial_fit_by_hand(tables, capsys):
    from skneuron import TaskNeuronRegressor

    assert main(["fit", "houses.csv", "--target", "price", "--chunk-rows", "120",
                 "--epochs", "2", "--out", "m.skn", "--seed", "3", *SMALL]) == 0
    frame = pd.read_csv("houses.csv")
    reg = TaskNeuronRegressor(hidden_layer_sizes=(8,), n_members=2, formula="x + x**2",
                              batch_size=20, random_state=3)
    for _ in range(2):
        for start in range(0, len(frame), 120):
            chunk = frame.iloc[start:start + 120]
            chunk = chunk[chunk["price"].notna()]
            reg.partial_fit(chunk.drop(columns="price"), chunk["price"].to_numpy())
    np.testing.assert_array_equal(load("m.skn").predict(frame.drop(columns="price")),
                                  reg.predict(frame.drop(columns="price")))


def test_chunked_predict_equals_whole_predict(tables, capsys):
    assert main(["fit", "houses.csv", "--target", "price", "--chunk-rows", "100",
                 "--out", "m.skn", *SMALL]) == 0
    assert main(["predict", "m.skn", "houses.csv", "--out", "whole.csv"]) == 0
    assert main(["predict", "m.skn", "houses.csv", "--chunk-rows", "64",
                 "--out", "chunked.csv"]) == 0
    assert "wrote 300 predictions to chunked.csv" in capsys.readouterr().err
    whole, chunked = pd.read_csv("whole.csv"), pd.read_csv("chunked.csv")
    assert list(chunked.columns) == ["price"] and len(chunked) == 300
    np.testing.assert_allclose(chunked["price"], whole["price"], rtol=1e-12)
    assert main(["predict", "m.skn", "houses.csv", "--chunk-rows", "64"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "price" and len(lines) == 301  # one header


def test_streaming_classification_learns_the_labels_first(tables, capsys):
    assert main(["fit", "sizes.csv", "--target", "size", "--chunk-rows", "50",
                 "--epochs", "5", "--out", "c.skn", *SMALL]) == 0
    out = capsys.readouterr().out
    assert "task: classification of 'size' (2 classes)" in out
    model = load("c.skn")
    assert model.classes_.tolist() == ["large", "small"]
    frame = pd.read_csv("sizes.csv")
    # a sorted file: each chunk holds one class, which SGD fits only roughly
    assert model.score(frame.drop(columns="size"), frame["size"]) > 0.7
    assert set(model.predict(frame.drop(columns="size"))) == {"large", "small"}
    assert main(["predict", "c.skn", "sizes.csv", "--chunk-rows", "70", "--proba",
                 "--out", "p.csv"]) == 0
    predictions = pd.read_csv("p.csv")
    assert list(predictions.columns) == ["size", "proba_large", "proba_small"]
    np.testing.assert_allclose(predictions[["proba_large", "proba_small"]].sum(axis=1), 1)


@pytest.mark.parametrize("target, table", [("size", "sizes.csv"), ("rooms", "houses.csv")])
def test_a_streaming_classification_reads_its_labels_in_the_text_columns_pass(
        tables, capsys, monkeypatch, target, table):
    """Text columns, labels, training: the labels come from the pass that finds the text
    columns (it read the CSV file three times), and the model is the one a pass of its
    own over the labels gives."""
    import skneuron.cli as cli

    passes = []
    read_csv = pd.read_csv

    def counted(*args, **kwargs):
        if kwargs.get("chunksize") is not None:
            passes.append(kwargs.get("usecols"))
        return read_csv(*args, **kwargs)

    command = ["fit", table, "--target", target, "--chunk-rows", "50", "--epochs", "2",
               *SMALL]
    with monkeypatch.context() as patch:
        patch.setattr(pd, "read_csv", counted)
        assert main([*command, "--out", "scanned.skn"]) == 0
    assert passes == [None, None, None]  # the scan, then two epochs of training
    out = capsys.readouterr().out
    assert f"task: classification of {target!r}" in out
    with monkeypatch.context() as patch:  # as before: the labels in a pass of their own
        scan_csv = cli.scan_csv
        patch.setattr(cli, "scan_csv", lambda *a, **k: scan_csv(*a, **k)._replace(labels=None))
        assert main([*command, "--out", "label_pass.skn"]) == 0
    assert capsys.readouterr().out.replace("label_pass.skn", "scanned.skn").split("fitted in")[0] \
        == out.split("fitted in")[0]
    scanned, label_pass = load("scanned.skn"), load("label_pass.skn")
    assert scanned.classes_.tolist() == label_pass.classes_.tolist()
    frame = pd.read_csv(table).drop(columns=target)
    np.testing.assert_array_equal(scanned.predict_proba(frame), label_pass.predict_proba(frame))
    assert read_manifest("scanned.skn")["metadata"] == read_manifest("label_pass.skn")["metadata"]


def test_the_scan_leaves_the_labels_to_a_pass_of_their_own_where_it_cannot_tell_them(tables):
    from skneuron.cli import scan_csv

    scan = scan_csv("sizes.csv", 50, target="size", max_labels=50)
    assert scan.labels == {"large", "small"} and scan.n_rows == 300
    assert "size" in scan.text_columns and "city" in scan.text_columns
    assert scan_csv("sizes.csv", 50, target="size").labels is None  # none asked for
    assert scan_csv("houses.csv", 50, target="area", max_labels=50).labels is None  # too many
    pd.DataFrame({"x": range(6), "y": ["01", "2", "01", "2", "a", "b"]}).to_csv(
        "late_text.csv", index=False)  # '01' read as the number 1 in the first chunk
    scan = scan_csv("late_text.csv", 2, target="y", max_labels=10)
    assert scan.text_columns == ["y"] and scan.labels is None


def test_streaming_parquet(tables, capsys):
    pytest.importorskip("pyarrow")
    pd.read_csv("houses.csv").to_parquet("houses.parquet")
    assert main(["fit", "houses.parquet", "--target", "price", "--chunk-rows", "128",
                 "--epochs", "2", "--out", "pq.skn", *SMALL]) == 0
    assert load("pq.skn").n_iter_ == 6
    assert main(["predict", "pq.skn", "houses.parquet", "--chunk-rows", "100",
                 "--out", "p.csv"]) == 0
    assert len(pd.read_csv("p.csv")) == 300


def test_streaming_fit_shows_a_row_progress_bar(tables, capsys):
    assert main(["fit", "houses.csv", "--target", "price", "--chunk-rows", "100",
                 "--epochs", "2", "--out", "m.skn", "--progress", *SMALL]) == 0
    err = capsys.readouterr().err
    assert "fit:" in err and "rows/s" in err  # a bar counting rows


@pytest.mark.parametrize("args, message", [
    (["fit", "houses.csv", "--target", "price", "--epochs", "2"], "--epochs needs --chunk-rows"),
    (["fit", "houses.csv", "--target", "price", "--chunk-rows", "0"],
     "--chunk-rows must be at least 1"),
    (["fit", "houses.csv", "--target", "price", "--chunk-rows", "10", "--epochs", "0"],
     "--epochs must be at least 1"),
    (["fit", "houses.csv", "--target", "cost", "--chunk-rows", "10"],
     "no column 'cost' in houses.csv"),
    (["fit", "nothing.csv", "--target", "price", "--chunk-rows", "10"], "no such file"),
    (["fit", "sizes.csv", "--target", "size", "--task", "regression", "--chunk-rows", "10"],
     "target column 'size' is not numeric"),
])
def test_streaming_mistakes_are_one_line_errors(tables, capsys, args, message):
    assert main(args) == 1
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tables / "model.skn").exists()


def test_chunked_predict_mistakes(tables, capsys):
    assert main(["fit", "houses.csv", "--target", "price", "--chunk-rows", "100",
                 "--out", "m.skn", *SMALL]) == 0
    capsys.readouterr()
    assert main(["predict", "m.skn", "houses.csv", "--chunk-rows", "0", "--out", "p.csv"]) == 1
    assert "--chunk-rows must be at least 1" in capsys.readouterr().err
    pd.read_csv("houses.csv").drop(columns="city").to_csv("no_city.csv", index=False)
    assert main(["predict", "m.skn", "no_city.csv", "--chunk-rows", "50", "--out", "p.csv"]) == 1
    assert "lacks the column(s) ['city']" in capsys.readouterr().err
    assert not (tables / "p.csv").exists()  # written whole or not at all


def test_reading_parquet_in_chunks_holds_one_chunk_of_arrow_memory(tmp_path):
    """pyarrow's pre-buffering kept every row group read; a stream must not grow."""
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    from skneuron.cli import iter_table

    path = tmp_path / "wide.parquet"
    rng = np.random.default_rng(0)
    with pq.ParquetWriter(path, pa.schema([(f"x{i}", pa.float64()) for i in range(20)])) as out:
        for _ in range(20):  # 20 row groups of 5 000 rows: 16 MB of values in all
            out.write_table(pa.table({f"x{i}": rng.random(5_000) for i in range(20)}))
    held = []
    for frame in iter_table(str(path), 5_000):
        assert len(frame) == 5_000
        held.append(pa.total_allocated_bytes())
    # About 4 MB (a chunk is 0.8 MB); pre-buffered, the whole 16 MB file sat in memory.
    assert max(held) < 10 * 2**20


def test_a_column_that_turns_to_text_in_a_later_chunk_is_text_in_every_chunk(tables, capsys):
    """Codes 1, 2, 3 in the first chunks and 'none' later, in a feature and in class labels:
    pandas guesses numbers for some chunks and text for others; as a whole-file read, the
    streaming fit reads them as text throughout (before: 'y mixes text and numeric class
    labels', or text in a numeric column)."""
    rng = np.random.default_rng(1)
    n = 200
    codes = rng.integers(1, 4, size=n).astype(object)
    codes[150:] = "none"
    frame = pd.DataFrame({"area": rng.normal(size=n), "code": codes,
                          "grade": np.where(np.arange(n) < 150, rng.integers(1, 3, n), "other")})
    frame.to_csv("codes.csv", index=False)
    assert main(["fit", "codes.csv", "--target", "grade", "--chunk-rows", "50",
                 "--out", "codes.skn", *SMALL]) == 0
    model = load("codes.skn")
    assert model.classes_.tolist() == ["1", "2", "other"]
    assert model.is_categorical_.tolist() == [False, True]
    assert set(model.categories_[1]) <= {"1", "2", "3", "none"}
    capsys.readouterr()
    assert main(["predict", "codes.skn", "codes.csv", "--chunk-rows", "64"]) == 0
    predicted = capsys.readouterr().out.splitlines()
    assert predicted[0] == "grade" and len(predicted) == n + 1


def _masked(text: str) -> list:
    """Output lines with the numbers that vary between runs (timings, losses, scores) masked,
    the formula's text aside."""
    import re

    lines = []
    for line in text.splitlines():
        if line.startswith(("formula: ", "  terms: ")):
            line = line.split(":")[0] + ": …"
        lines.append(re.sub(r"\d[\d,]*(\.\d+)?(e[+-]?\d+)?", "N", line))
    return lines


@pytest.mark.parametrize("target, table, task", [("price", "houses.csv", "regression"),
                                                 ("size", "sizes.csv", "classification")])
def test_fit_and_streaming_fit_print_and_save_as_they_did(tables, capsys, target, table, task):
    """The two fits share their setup, warnings filter, report and save: their output and
    metadata, line for line."""
    assert main(["fit", table, "--target", target, "--cv", "2", "--out", "whole.skn",
                 *SMALL]) == 0
    assert _masked(capsys.readouterr().out) == [
        f"{table}: N rows, N columns (N categorical)",
        f"task: regression of {target!r}" if task == "regression"
        else f"task: classification of {target!r} (N classes)",
        f"cross-validated {'R²' if task == 'regression' else 'accuracy'}: N ± N (N folds)",
        "formula: …", "  terms: …", "fitted in N s (N epochs)", "saved whole.skn"]
    assert main(["fit", table, "--target", target, "--chunk-rows", "100", "--epochs", "2",
                 "--out", "streamed.skn", *SMALL]) == 0
    assert _masked(capsys.readouterr().out) == [
        f"task: regression of {target!r}" if task == "regression"
        else f"task: classification of {target!r} (N classes)",
        f"streaming {table} in chunks of N rows, N epoch(s)",
        "epoch N/N: loss N (N rows)", "epoch N/N: loss N (N rows)",
        "formula: …", "  terms: …", "fitted in N s (N rows/s, N partial_fit calls)",
        "saved streamed.skn"]
    whole, streamed = (read_manifest(f"{name}.skn")["metadata"] for name in ("whole", "streamed"))
    n_rows = 299 if task == "regression" else 300
    metric = "R²" if task == "regression" else "accuracy"
    assert list(whole) == ["target", "task", "data", "n_rows", "metric", "cv_scores", "cv_score",
                           "dates"]
    assert {k: v for k, v in whole.items() if not k.startswith("cv_")} == {
        "target": target, "task": task, "data": table, "n_rows": n_rows, "metric": metric,
        "dates": {}}
    assert len(whole["cv_scores"]) == 2 and whole["cv_score"] == np.mean(whole["cv_scores"])
    assert streamed == {"target": target, "task": task, "data": table, "n_rows": n_rows,
                        "metric": metric, "cv_scores": [], "cv_score": None, "chunk_rows": 100,
                        "epochs": 2, "dates": {}}
    assert list(streamed) == ["target", "task", "data", "n_rows", "metric", "cv_scores",
                              "cv_score", "chunk_rows", "epochs", "dates"]
