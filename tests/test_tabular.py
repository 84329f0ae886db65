"""Native tabular input: data frames with text, categorical and boolean columns, missing values."""

import json
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

import skneuron
from skneuron import TaskNeuronClassifier, TaskNeuronRegressor
from skneuron._tabular import categorical_mask, code_matrix, input_encoding, learn_categories

QUICK = {"hidden_layer_sizes": (16,), "max_iter": 40, "batch_size": 32, "random_state": 0}
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def frame(n=300, seed=0):
    """A table as users have them: numbers with gaps, text, a category, a flag."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "size": rng.normal(50, 10, n),
        "city": rng.choice(["Oslo", "Rome", "Lima", None], size=n, p=[0.4, 0.3, 0.2, 0.1]),
        "grade": pd.Categorical(rng.choice(["a", "b"], size=n)),
        "new": rng.random(n) > 0.5,
    })
    df.loc[::9, "size"] = np.nan
    effect = df["city"].map({"Oslo": 2.0, "Rome": -1.0, "Lima": 0.5}).fillna(0.0)
    y = (np.nan_to_num(df["size"].to_numpy() - 50) / 10 + effect.to_numpy()
         + 1.5 * (df["grade"] == "b") + 0.5 * df["new"] + 0.1 * rng.standard_normal(n))
    return df, np.asarray(y, dtype=float)


@pytest.fixture(scope="module")
def fitted_regressor():
    X, y = frame()
    return TaskNeuronRegressor(**QUICK).fit(X, y), X, y


def test_a_data_frame_with_text_categories_flags_and_gaps_fits_and_predicts(fitted_regressor):
    reg, X, y = fitted_regressor
    assert reg.is_categorical_.tolist() == [False, True, True, False]
    assert reg.categories_[1].tolist() == ["Lima", "Oslo", "Rome"]
    assert reg.categories_[0] is None and reg.categories_[3] is None
    assert list(reg.feature_names_in_) == ["size", "city", "grade", "new"]
    assert reg.score(X, y) > 0.9  # the effects of the text column are learned
    names = reg._input_encoding["names"]
    assert names == ["size", "new", "size is missing", "city=Lima", "city=Oslo", "city=Rome",
                     "city=missing", "grade=b"]


def test_unseen_categories_and_missing_values_at_predict_are_not_errors(fitted_regressor):
    reg, X, _ = fitted_regressor
    new = X.head(4).copy()
    new["city"] = ["Paris", None, "Oslo", "Oslo"]
    new["grade"] = pd.Categorical(["c", "a", "a", "b"])
    new.loc[2, "size"] = np.nan
    predictions = reg.predict(new)
    assert np.isfinite(predictions).all()
    # An unseen category is encoded as none of the known ones: it is not silently "Oslo".
    codes = reg._validate_input(new, reset=False)
    assert np.isnan(codes[0, 1]) and codes[2, 1] == 1.0
    assert np.isnan(codes[0, 2])


def test_predictions_do_not_depend_on_column_order_of_a_frame(fitted_regressor):
    reg, X, _ = fitted_regressor
    with pytest.raises(ValueError, match="feature names"):
        reg.predict(X[["city", "size", "grade", "new"]])


@pytest.mark.parametrize("categorical_features", [[1, 2], ["city", "grade"],
                                                  [False, True, True, False]])
def test_categorical_features_by_index_name_or_mask(categorical_features):
    X, y = frame(n=120)
    reg = TaskNeuronRegressor(categorical_features=categorical_features, **QUICK).fit(X, y)
    assert reg.is_categorical_.tolist() == [False, True, True, False]


def test_a_numeric_column_can_be_declared_categorical():
    rng = np.random.default_rng(0)
    X = np.c_[rng.normal(size=200), rng.integers(0, 3, 200)]
    y = X[:, 0] + np.array([0.0, 3.0, -3.0])[X[:, 1].astype(int)]
    reg = TaskNeuronRegressor(categorical_features=[1], **QUICK).fit(X, y)
    assert reg.categories_[1].tolist() == [0.0, 1.0, 2.0]
    assert reg.score(X, y) > 0.9


def test_an_object_array_with_text_is_read_as_a_table():
    X, y = frame(n=120)
    reg = TaskNeuronRegressor(**QUICK).fit(X.to_numpy(dtype=object), y)
    assert reg.is_categorical_.tolist() == [False, True, True, False]
    assert not hasattr(reg, "feature_names_in_")
    # and the tags say so, as scikit-learn's meta-estimators read them
    assert reg.__sklearn_tags__().input_tags.string
    assert TaskNeuronClassifier().__sklearn_tags__().input_tags.string


def test_arrow_tables_are_read_like_pandas_frames():
    pa = pytest.importorskip("pyarrow")
    X, y = frame(n=150)
    from_pandas = TaskNeuronRegressor(**QUICK).fit(X, y)
    from_arrow = TaskNeuronRegressor(**QUICK).fit(pa.Table.from_pandas(X), y)
    np.testing.assert_array_equal(from_arrow.predict(pa.Table.from_pandas(X)),
                                  from_pandas.predict(X))


def test_classifier_reads_tables_too():
    X, y = frame(n=200)
    labels = np.where(y > np.median(y), "high", "low")
    clf = TaskNeuronClassifier(**QUICK).fit(X, labels)
    assert clf.score(X, labels) > 0.85
    assert clf.predict_proba(X.head(3)).shape == (3, 2)


def test_missing_values_are_imputed_and_flagged():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 2))
    missing = rng.random(400) < 0.3
    y = np.where(missing, 5.0, X[:, 0])  # the gap itself carries the signal
    X[missing, 0] = np.nan
    reg = TaskNeuronRegressor(**{**QUICK, "max_iter": 100}).fit(X, y)
    assert reg._input_encoding["missing"] == [0]
    assert reg.score(X, y) > 0.95


def test_table_models_survive_pickle_clone_and_save(fitted_regressor, tmp_path):
    reg, X, _ = fitted_regressor
    restored = pickle.loads(pickle.dumps(reg))
    np.testing.assert_array_equal(restored.predict(X), reg.predict(X))
    path = tmp_path / "table.skn"
    reg.save(path)
    loaded = skneuron.load(path)
    np.testing.assert_array_equal(loaded.predict(X), reg.predict(X))
    assert loaded.categories_[1].tolist() == reg.categories_[1].tolist()
    assert clone(reg).get_params()["categorical_features"] == "from_dtype"


def test_exported_graph_reads_coded_rows(fitted_regressor, tmp_path):
    reg, X, _ = fitted_regressor
    path = tmp_path / "table.pt"
    reg.export_torchscript(path, dtype="float64")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        module = torch.jit.load(str(path))
    codes = reg._validate_input(X, reset=False)
    exported = module(torch.as_tensor(codes)).numpy().ravel()
    np.testing.assert_allclose(exported, reg.predict(X), rtol=1e-6, atol=1e-6)
    # The file's metadata is enough to code a row without skneuron.
    extra = {"skneuron.json": ""}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.load(str(path), _extra_files=extra)
    categories = json.loads(extra["skneuron.json"])["categories"]
    assert categories == [None, ["Lima", "Oslo", "Rome"], ["a", "b"], None]
    by_hand = np.column_stack([
        X[name].map({v: float(i) for i, v in enumerate(values)}).astype(float) if values
        else X[name].astype(float) for name, values in zip(X.columns, categories)])
    np.testing.assert_array_equal(by_hand, codes)


# ------------------------------------------------------------ the pieces on their own
def test_from_dtype_reads_bool_as_numbers_and_text_as_categories():
    X, _ = frame(n=10)
    assert categorical_mask(X, "from_dtype").tolist() == [False, True, True, False]
    assert categorical_mask(X, None).tolist() == [False] * 4
    assert categorical_mask(X[["size"]].to_numpy(), "from_dtype").tolist() == [False]


def test_dates_and_durations_are_numbers_in_seconds_not_categories():
    table = pd.DataFrame({
        "day": pd.to_datetime(["1970-01-01", "1970-01-02", None]),
        "oslo": pd.to_datetime(["1970-01-01 01:00"] * 3).tz_localize("Europe/Oslo"),  # UTC 00:00
        "wait": pd.to_timedelta(["1h", None, "90s"]),
        "second": pd.Series(np.array(["1970-01-01T00:01", "NaT", "1970-01-01"],
                                     dtype="datetime64[s]")),
    })
    mask = categorical_mask(table, "from_dtype")
    assert mask.tolist() == [False] * 4
    codes = code_matrix(table, mask, [None] * 4)
    np.testing.assert_array_equal(codes, [[0.0, 0.0, 3600.0, 60.0],
                                          [86400.0, 0.0, np.nan, np.nan],
                                          [np.nan, 0.0, 90.0, 0.0]])


def test_pyarrow_backed_dates_and_durations_are_numbers_too():
    pa = pytest.importorskip("pyarrow")
    table = pd.DataFrame({
        "day": pd.Series(pd.to_datetime(["1970-01-02", None])).astype("timestamp[ns][pyarrow]"),
        "oslo": pd.Series(pd.to_datetime(["1970-01-01 01:00"] * 2).tz_localize("Europe/Oslo"))
        .astype(pd.ArrowDtype(pa.timestamp("ns", tz="Europe/Oslo"))),
        "wait": pd.Series(pd.to_timedelta(["2s", None])).astype("duration[ns][pyarrow]"),
    })
    mask = categorical_mask(table, "from_dtype")
    assert mask.tolist() == [False] * 3
    np.testing.assert_array_equal(code_matrix(table, mask, [None] * 3),
                                  [[86400.0, 0.0, 2.0], [np.nan, 0.0, np.nan]])


def test_arrow_dates_and_python_objects_of_numbers_or_dates_are_numbers():
    """Arrow ``date32`` (``read_csv(dtype_backend="pyarrow")``), ``Decimal`` (what SQL
    drivers return), ``datetime.date`` objects and time stamps of mixed zones."""
    import datetime
    from decimal import Decimal

    pa = pytest.importorskip("pyarrow")
    table = pd.DataFrame({
        "date32": pd.Series([datetime.date(1970, 1, 2), None], dtype=pd.ArrowDtype(pa.date32())),
        "decimal": pd.Series([Decimal("1.5"), None], dtype=object),
        "date": pd.Series([datetime.date(1970, 1, 3), None], dtype=object),
        "zones": pd.Series([pd.Timestamp("1970-01-01 09:00", tz="Asia/Tokyo"),
                            pd.Timestamp("1970-01-01 00:01", tz="UTC")], dtype=object),
        "wait": pd.Series([datetime.timedelta(minutes=1), None], dtype=object),
    })
    mask = categorical_mask(table, "from_dtype")
    assert mask.tolist() == [False] * 5
    np.testing.assert_array_equal(code_matrix(table, mask, [None] * 5),
                                  [[86400.0, 1.5, 172800.0, 0.0, 60.0],
                                   [np.nan, np.nan, np.nan, 60.0, np.nan]])


@pytest.mark.parametrize(("column", "message"), [
    (pd.Series([1 + 1j, 2]), "complex data not supported"),
    (pd.Series(["x", "y"]), "'c' is not categorical but holds values that are not numbers"),
    # the advice fits a list of categorical_features, which leaves out a text column
    (pd.Series(["x", "y"]), r"To treat it as categorical, name it in categorical_features \(with "
                            r"categorical_features='from_dtype', the default, a column of the "
                            r"'category' or a text dtype is categorical\)\."),
])
def test_a_numeric_column_of_complex_numbers_or_text_is_refused_in_one_line(column, message):
    with pytest.raises(ValueError, match=message):
        code_matrix(pd.DataFrame({"c": column}), np.array([False]), [None], ["c"])


def test_values_that_are_neither_numbers_nor_categories_are_named():
    X = pd.DataFrame({"record": [{"k": 1}, {"k": 2}] * 30, "x": np.arange(60.0)})
    with pytest.raises(ValueError, match="'record' holds values that can be neither numbers nor"):
        TaskNeuronRegressor(**QUICK).fit(X, np.arange(60.0))


def test_an_empty_frame_is_refused_as_an_empty_array_is(fitted_regressor):
    reg, X, _ = fitted_regressor
    with pytest.raises(ValueError, match=r"Found array with 0 sample\(s\) \(shape=\(0, 4\)\)"):
        reg.predict(X.iloc[:0])


def test_a_category_seen_only_in_rows_of_weight_zero_goes_with_them():
    X, y = frame(n=120)
    X["city"] = X["city"].astype(object)
    X.loc[:4, "city"] = "Nome"  # only in the rows of weight zero
    weights = np.r_[np.zeros(5), np.ones(len(X) - 5)]
    weighted = TaskNeuronRegressor(**QUICK).fit(X, y, sample_weight=weights)
    dropped = TaskNeuronRegressor(**QUICK).fit(X.iloc[5:], y[5:])
    assert "Nome" not in weighted.categories_[1].tolist()
    np.testing.assert_array_equal(weighted.predict(X), dropped.predict(X))


def test_codes_read_as_numbers_find_the_categories_fit_read_as_text():
    """A CSV column of codes reads as text from a file with a ``none`` and as numbers
    from one (or a chunk) without: the same rows must predict the same."""
    rng = np.random.default_rng(0)
    garage = rng.choice(["1", "2", "3", "none"], 200)
    X = pd.DataFrame({"x": rng.normal(size=200), "garage": garage})
    y = X["x"] + pd.Series(garage).map({"1": 1.0, "2": 2.0, "3": 3.0, "none": 0.0})
    reg = TaskNeuronRegressor(**QUICK).fit(X, y)
    as_text = reg.predict(pd.DataFrame({"x": [0.0] * 3, "garage": ["1", "2", "3"]}))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # found: nothing to warn about
        as_numbers = reg.predict(pd.DataFrame({"x": [0.0] * 3, "garage": [1, 2, 3]}))
        as_floats = reg.predict(pd.DataFrame({"x": [0.0] * 3, "garage": [1.0, 2.0, 3.0]}))
    np.testing.assert_array_equal(as_numbers, as_text)
    np.testing.assert_array_equal(as_floats, as_text)
    assert len(np.unique(as_text)) == 3
    numbers_fit = TaskNeuronRegressor(**QUICK, categorical_features=["garage"]).fit(
        X.assign(garage=X["garage"].replace("none", "0").astype(int)), y)
    np.testing.assert_array_equal(  # and text finds categories fit read as numbers
        numbers_fit.predict(pd.DataFrame({"x": [0.0] * 3, "garage": ["1", "2", "3"]})),
        numbers_fit.predict(pd.DataFrame({"x": [0.0] * 3, "garage": [1, 2, 3]})))


def test_values_of_another_kind_than_every_category_are_flagged():
    X, y = frame(n=120)
    reg = TaskNeuronRegressor(**QUICK).fit(X, y)
    with pytest.warns(UserWarning, match="Column 'city' holds no category seen in fit: its "
                                         "values are numbers such as 1, fit's categories text"):
        reg.predict(X.iloc[:2].assign(city=[1, 0]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # new text categories are unseen, as documented
        reg.predict(X.iloc[:2].assign(city=["Paris", "Nome"]))


def test_a_date_column_is_a_trend_that_reaches_dates_not_seen_in_fit():
    rng = np.random.default_rng(0)
    n = 240
    X = pd.DataFrame({"x": rng.normal(size=n),
                      "day": pd.date_range("2021-01-01", periods=n, freq="D")})
    y = X["x"] + np.arange(n) / 60  # a trend in time
    held_out = rng.permutation(n)[:60]
    fitted = np.setdiff1d(np.arange(n), held_out)
    reg = TaskNeuronRegressor(**QUICK).fit(X.iloc[fitted], y[fitted])
    assert not reg.is_categorical_.any()
    # As categories, every held-out date would be unseen: one prediction for them all.
    unseen_days = X.iloc[np.sort(held_out)].assign(x=0.0)
    trend = reg.predict(unseen_days)
    assert np.corrcoef(trend, np.sort(held_out))[0, 1] > 0.9
    restored = pickle.loads(pickle.dumps(reg))
    np.testing.assert_array_equal(restored.predict(unseen_days), trend)


@pytest.mark.parametrize(("given", "message"), [
    ([5], "indices outside"), (["town"], r"names columns \['town'\] that X does not have"),
    ([True, False], "one entry per feature"),
    ([1.5], "bool, int or str"),
])
def test_bad_categorical_features_are_named(given, message):
    X, _ = frame(n=10)
    with pytest.raises(ValueError, match=message):
        categorical_mask(X, given, feature_names=X.columns.to_numpy())


def test_categories_of_mixed_types_sort_and_code_consistently():
    table = pd.DataFrame({"c": pd.array([2, "b", 1, "a", None], dtype=object)})
    categories = learn_categories(table, np.array([True]))
    assert categories[0].tolist() == [1, 2, "a", "b"]
    codes = code_matrix(table, np.array([True]), categories)
    assert codes[:, 0].tolist()[:4] == [1.0, 3.0, 0.0, 2.0] and np.isnan(codes[4, 0])


def test_many_categories_keep_the_most_frequent_and_group_the_rest():
    kept = skneuron._tabular.MAX_ONEHOT_CATEGORIES
    k = kept + 14
    codes = np.repeat(np.arange(float(k)), np.arange(k, 0, -1))[:, None]  # 0 most frequent
    spec = input_encoding(codes, np.array([True]), [np.arange(k)], feature_names=["c"])
    table = spec["tables"][0]
    assert table.shape == (k + 1, kept + 1)  # kept + "other"; the last row is "unknown"
    assert spec["names"][-1] == "c=other" and spec["names"][0] == "c=0"
    assert table[k - 1, kept] == 1.0 and table[k].sum() == 0.0
    assert table[kept - 1, kept - 1] == 1.0  # the least frequent kept category


def test_robust_scaling_smoothly_clips_outliers():
    codes = np.r_[np.linspace(-1, 1, 99), 1e6][:, None]
    spec = input_encoding(codes, np.array([False]), [None], scaling="robust")
    module = skneuron.nn.TabularInput(**{k: v for k, v in spec.items() if k != "names"})
    features = module(torch.as_tensor(codes)).numpy()
    assert np.abs(features).max() < 3.0 and np.ptp(features[:99]) > 1.0


def test_the_input_stage_refuses_rows_of_another_width_and_runs_on_meta():
    """network_ (and its TorchScript export) read the coded columns by position: an extra id
    column in front would shift every feature, so rows of another width are refused; the
    categorical columns are indexed by plain ints (no host sync, and the meta device works)."""
    X, y = frame(n=120)
    reg = TaskNeuronRegressor(**QUICK).fit(X, y)
    stage = reg.network_.inputs
    with pytest.raises(ValueError, match="expects rows of 4 coded columns; got shape"):
        stage(torch.zeros(3, 5, dtype=torch.float64))
    assert stage.to("meta")(torch.empty(3, 4, device="meta")).shape == (3, stage.n_features)


def test_the_input_stage_refuses_a_state_of_another_column_layout():
    """forward reads the layout the stage was built with; another stage's state (its
    numeric and categorical columns swapped) used to load and mix the two layouts."""
    table = [[0.0], [1.0], [0.0]]
    first = skneuron.nn.TabularInput(2, [0], [0.0], [1.0], categorical=[1], tables=[table])
    second = skneuron.nn.TabularInput(2, [1], [0.0], [1.0], categorical=[0], tables=[table])
    rows = torch.tensor([[5.0, 1.0], [7.0, 0.0]], dtype=torch.float64)
    before = first(rows)
    with pytest.raises(RuntimeError, match=r"numeric: the state's column layout \[1\] is not "
                                           r"this stage's \[0\]"):
        first.load_state_dict(second.state_dict())
    torch.testing.assert_close(first(rows), before, rtol=0, atol=0)  # nothing was copied
    twin = skneuron.nn.TabularInput(2, [0], [3.0], [2.0], categorical=[1], tables=[table])
    twin.load_state_dict(first.state_dict())  # the same layout: its values load
    torch.testing.assert_close(twin(rows), before, rtol=0, atol=0)


def test_a_huge_string_cell_costs_no_fixed_width_array():
    X, y = frame(n=100)
    X["city"] = X["city"].astype(object)
    X.loc[0, "city"] = "z" * 2_000_000
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg = TaskNeuronRegressor(**{**QUICK, "max_iter": 2}).fit(X, y)
    # Text that long is no category: it encodes as unseen, and the model file stays small.
    assert len(reg.categories_[1]) == 3 and reg.categories_[1].dtype == object


@pytest.mark.parametrize("dtype", [object, "str", "string", "category"])
def test_category_codes_are_indices_in_the_fitted_categories_whatever_the_dtype(dtype):
    column = pd.Series(["b", None, "z", "a", "b", "c"], dtype=dtype)
    if dtype == "category":  # with a category no row holds, and one unseen in fit
        column = column.cat.set_categories(["c", "b", "a", "z", "unused"])
    categories = [None, np.array(["a", "b", "c", "unused"], dtype=object)]
    codes = code_matrix(pd.DataFrame({"n": np.arange(6.0), "c": column}),
                        np.array([False, True]), categories)
    np.testing.assert_array_equal(codes[:, 0], np.arange(6.0))
    np.testing.assert_array_equal(codes[:, 1], [1, np.nan, np.nan, 0, 1, 2])  # missing, unseen


def test_rows_given_as_a_list_keep_their_numbers_numeric():
    """numpy turns a list of rows of numbers and text into text throughout: the numeric
    column became 120 categories, and predictions ignored it."""
    X, y = frame(n=120)
    rows = X[["size", "city"]].astype(object).values.tolist()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg = TaskNeuronRegressor(**QUICK).fit(rows, y)
    assert reg.is_categorical_.tolist() == [False, True]
    low, high = reg.predict([[X["size"].min(), "a"], [X["size"].max(), "a"]])
    assert low != high


def test_an_object_array_holding_pandas_na_reads_as_a_table():
    """X.to_numpy() of a frame with nullable columns holds pd.NA, which float() refuses
    with a TypeError: it used to escape from scikit-learn's conversion."""
    X = pd.DataFrame({"n": pd.array([1, None, 3, 4] * 30, dtype="Int64"),
                      "c": ["a", "b", None, "a"] * 30})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg = TaskNeuronRegressor(**{**QUICK, "max_iter": 2}).fit(X.to_numpy(), np.arange(120.0))
    assert reg.is_categorical_.tolist() == [False, True]
    assert np.isfinite(reg.predict(X.to_numpy())).all()


@pytest.mark.parametrize("values", [
    ["a", pd.Timestamp("2020-01-01"), pd.Timestamp("2020-01-01", tz="UTC")],
    ["a", 1 + 2j, 3 + 0j],
])
def test_categories_that_cannot_be_sorted_are_refused_in_one_line(values):
    column = pd.Series(values * 10, dtype=object)
    with pytest.raises(ValueError, match="Column 'k' holds values that can be neither numbers"):
        learn_categories(pd.DataFrame({"k": column}), np.array([True]))


@pytest.mark.parametrize("fitted_as", [np.nan, 1.0])
def test_a_column_that_did_not_vary_at_fit_is_ignored_at_predict(fitted_as):
    """A column missing everywhere, or constant, at fit: its weights never trained, so a
    value at predict moved predictions by an arbitrary amount (by 200 for a target of std
    2.5); now it reads as its centre whatever comes, as a tree ignores it."""
    X, y = frame(n=200)
    X["flat"] = fitted_as
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg = TaskNeuronRegressor(**QUICK).fit(X, y)
    assert reg.network_.inputs.n_features == TaskNeuronRegressor(**QUICK).fit(
        X.drop(columns="flat"), y).network_.inputs.n_features + 1  # no indicator of 'flat'
    for value in (0.0, 1000.0, np.nan):
        np.testing.assert_array_equal(reg.predict(X.assign(flat=value)), reg.predict(X))


def test_a_numeric_column_of_another_kind_at_predict_is_refused():
    """Years fitted as numbers and given as date-times read as seconds since 1970, and
    predicted about -2e6 for a target near 1; durations for date-times the same."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"x": rng.normal(size=120), "year": 2000 + np.arange(120) % 20,
                      "t": pd.Timestamp("2020-01-01") + pd.to_timedelta(np.arange(120), "D")})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg = TaskNeuronRegressor(**{**QUICK, "max_iter": 3}).fit(X, X["x"])
    assert reg._numeric_kinds == ["number", "number", "date-time"]
    with pytest.raises(ValueError, match="'year' held numbers in fit but holds date-times"):
        reg.predict(X.assign(year=pd.to_datetime(X["year"].astype(str))))
    with pytest.raises(ValueError, match="'t' held date-times in fit but holds durations"):
        reg.predict(X.assign(t=X["t"] - X["t"].min()))
    with pytest.raises(ValueError, match="'t' held date-times in fit but holds text now"):
        reg.predict(X.assign(t=X["t"].astype(str)))
    # the same kind in another dtype, or no value at all, reads as before
    same = reg.predict(X)
    np.testing.assert_array_equal(reg.predict(X.assign(year=X["year"].astype(float))), same)
    np.testing.assert_array_equal(reg.predict(X.assign(t=X["t"].astype(object))), same)
    assert np.isfinite(reg.predict(X.assign(t=pd.NaT))).all()
    restored = pickle.loads(pickle.dumps(reg))
    with pytest.raises(ValueError, match="held numbers in fit"):
        restored.predict(X.assign(year=pd.to_datetime(X["year"].astype(str))))
