"""Reliability, part 1: what every kind of input and parameter gets.

Each bad input gets a ``ValueError``/``TypeError`` whose message says what to
fix, raised before any training; every odd-but-valid input trains and gives
correct, finite predictions. Runtime faults (numerical trouble, interruption,
memory, determinism) are in ``test_reliability_runtime.py``.
"""

import inspect
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.base import is_regressor
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

from skneuron import FormulaSyntaxError, NeuronFormula, TaskNeuronClassifier, TaskNeuronRegressor

# Small, fast networks; a given formula skips discovery where it is not under test.
FAST = {"hidden_layer_sizes": (8,), "max_iter": 5, "batch_size": 32, "random_state": 0}
QUICK = {**FAST, "formula": "x + x**2"}
PROPERTY = settings(max_examples=15, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


# Short test fits stop at max_iter on purpose.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def data(n=100, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    return X, X[:, 0] + 0.5 * X[:, 1 % d] ** 2


def with_value(X, value, where=(3, 1)):
    X = X.astype(object if isinstance(value, str) else X.dtype, copy=True)
    X[where] = value
    return X


# --------------------------------------------------------------- bad input to fit
X0, y0 = data()
BAD_FIT_INPUTS = {
    "inf in X": (with_value(X0, np.inf), y0, ValueError, "Input X contains infinity"),
    "-inf in X": (with_value(X0, -np.inf), y0, ValueError, "Input X contains infinity"),
    "NaN in y": (X0, np.r_[np.nan, y0[1:]], ValueError, "Input y contains NaN"),
    "inf in y": (X0, np.r_[np.inf, y0[1:]], ValueError, "Input y contains infinity"),
    "no rows": (np.empty((0, 3)), np.empty(0), ValueError, "0 sample.*minimum of 1"),
    "no columns": (np.empty((10, 0)), np.zeros(10), ValueError, "0 feature.*minimum of 1"),
    "1-D X": (X0[:, 0], y0, ValueError, "(?s)Expected 2D array.*Reshape your data"),
    "3-D X": (X0[:, :, None], y0, ValueError, "dim 3"),
    "X and y lengths differ": (X0, y0[:50], ValueError, "inconsistent numbers of samples"),
    "complex X": (X0.astype(complex), y0, ValueError, "Complex data not supported"),
    "complex y": (X0, y0.astype(complex), ValueError, "Complex data not supported"),
    "dict in X": (with_value(X0.astype(object), {"a": 1}), y0, ValueError,
                  "holds values that can be neither numbers nor categories"),
    "text target": (X0, np.array(["low", "high"] * 50), ValueError,
                    "numeric target.*'low'.*TaskNeuronClassifier"),
    "text mixed in object target": (X0, np.append(y0[:99].astype(object), "a"), ValueError,
                                    "numeric target.*'a'"),
    "huge range in X": (np.c_[X0[:, :2], np.r_[1.7e308, np.full(99, -1.7e308)]], y0,
                        ValueError, "too wide a range.*rescale"),
    "inf in sparse X": (sp.csr_matrix(with_value(X0, np.inf)), y0, ValueError,
                        "Input X contains infinity"),
    "sparse X with categorical columns": (sp.csr_matrix(X0), y0, ValueError,
                                          r"X is sparse.*categorical_features names columns \[1\]"),
}


@pytest.mark.parametrize("case", BAD_FIT_INPUTS)
def test_bad_input_to_fit_is_refused_before_training(case):
    X, y, error, message = BAD_FIT_INPUTS[case]
    categorical = [1] if case == "sparse X with categorical columns" else "from_dtype"
    reg = TaskNeuronRegressor(categorical_features=categorical, **QUICK)
    with pytest.raises(error, match=message):
        reg.fit(X, y)
    assert not hasattr(reg, "network_")


BAD_LABELS = {
    "one class": (np.zeros(100), ValueError, "at least 2 classes; got 1 class"),
    "one class, text": (np.array(["a"] * 100), ValueError, r"at least 2 classes; got 1 class \('a'\)\."),
    "text and numbers": (np.array([1, "a"] * 50, dtype=object), ValueError,
                         r"mixes text and numeric class labels \(int, str\).*astype\(str\)"),
    "numbers and None": (np.array([1, None] * 50, dtype=object), ValueError,
                         r"missing class labels \(None, NaN or NA\); drop those rows"),
    "text and NaN": (np.array(["a", np.nan] * 50, dtype=object), ValueError,
                     r"missing class labels \(None, NaN or NA\)"),
    # scikit-learn's own check fails on pandas' NA with "boolean value of NA is ambiguous"
    "text and pandas' NA": (pd.Series(["a", None] * 50, dtype="string"), ValueError,
                            r"missing class labels \(None, NaN or NA\)"),
    # pandas 3 gives nullable integers with NA to numpy as floats with NaN, older pandas
    # as objects with NA
    "numbers and pandas' NA": (pd.Series([1, None] * 50, dtype="Int64"), ValueError,
                               r"missing class labels \(None, NaN or NA\)|y contains NaN"),
    "continuous": (y0, ValueError, "Unknown label type: continuous"),
    # a 0/1 indicator matrix is multilabel (tests/test_multilabel.py); other label matrices are not
    "multiclass-multioutput": (np.c_[y0 > 0, 2 * (y0 > 1)].astype(int), ValueError,
                               r"y should be a 1d array, got an array of shape \(100, 2\)"),
    "fractional numbers": (np.where(y0 > 0, 0.5, 1.5), ValueError,
                           "Unknown label type: continuous"),
}


@pytest.mark.parametrize("case", BAD_LABELS)
def test_bad_labels_are_refused(case):
    y, error, message = BAD_LABELS[case]
    clf = TaskNeuronClassifier(**QUICK)
    with pytest.raises(error, match=message):
        clf.fit(X0, y)
    assert not hasattr(clf, "network_")


def test_a_missing_label_among_partial_fit_classes_is_refused():
    clf = TaskNeuronClassifier(**QUICK)
    classes = np.array(["a", "b", None], dtype=object)
    with pytest.raises(ValueError, match=r"missing class labels \(None, NaN or NA\)"):
        clf.partial_fit(X0, np.where(y0 > 0, "a", "b"), classes=classes)
    assert not hasattr(clf, "network_")


def test_a_text_column_with_categorical_features_none_is_refused_by_name():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"a": X0[:, 0], "colour": np.where(X0[:, 2] > 0, "red", "blue")})
    with pytest.raises(ValueError, match="Column 'colour' is not categorical but holds values that are not numbers"):
        TaskNeuronRegressor(categorical_features=None, **QUICK).fit(frame, y0)


# ---------------------------------------------------------- bad input to predict
@pytest.fixture(scope="module")
def fitted():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return TaskNeuronRegressor(**QUICK).fit(X0, y0)


@pytest.mark.parametrize(
    ("X", "error", "message"),
    [
        (np.hstack([X0, X0]), ValueError, "X has 6 features, but .* is expecting 3"),
        (X0[:, :2], ValueError, "X has 2 features, but .* is expecting 3"),
        (with_value(X0, np.inf), ValueError, "Input X contains infinity"),
        (np.empty((0, 3)), ValueError, "0 sample"),
        (with_value(X0, "abc"), ValueError, "Column at index 1 is not categorical but holds values that are not numbers"),
        (sp.csr_matrix(np.hstack([X0, X0])), ValueError, "X has 6 features, but .* is expecting 3"),
        (sp.csr_matrix(with_value(X0, np.inf)), ValueError, "Input X contains infinity"),
    ],
    ids=["more features", "fewer features", "inf", "no rows", "text", "sparse, more features",
         "sparse, inf"],
)
def test_bad_input_to_predict_is_refused(fitted, X, error, message):
    with pytest.raises(error, match=message):
        fitted.predict(X)


def test_predict_warns_when_inputs_far_outside_the_training_range_overflow():
    reg = TaskNeuronRegressor(**QUICK).fit(X0 / 100, y0)  # input scale ≈ 0.01
    X = X0.copy()
    X[0] = 1.7e308  # standardised: ≈ 1.7e310, beyond float64
    with pytest.warns(RuntimeWarning, match="NaN or infinite for 1 of 100 rows"):
        predictions = reg.predict(X)
    assert np.isfinite(predictions[1:]).all()


# ------------------------------------------------------ odd inputs that must fit
def assert_fits(est, X, y):
    est.fit(X, y)
    predictions = est.predict(X)
    assert len(predictions) == len(X)
    if is_regressor(est):
        assert np.isfinite(predictions).all()
    return predictions


def test_one_sample_and_two_samples_fit():
    X, y = data(n=2)
    for n in (1, 2):
        predictions = assert_fits(TaskNeuronRegressor(**FAST), X[:n], y[:n])
        if n == 1:  # a one-row target is constant: predicted exactly
            np.testing.assert_allclose(predictions, y[:1])


def test_one_feature_fits_with_discovery():
    X, _ = data(n=300, d=1)
    y = X[:, 0] ** 2
    reg = TaskNeuronRegressor(**{**FAST, "max_iter": 200}).fit(X, y)
    assert "x**2" in reg.formula_.terms
    assert reg.score(X, y) > 0.9


def test_constant_features_are_harmless():
    X, _ = data(n=300)
    X[:, 1] = 7.0
    y = X[:, 0] + 0.5 * X[:, 2] ** 2
    reg = TaskNeuronRegressor(**{**FAST, "max_iter": 100}).fit(X, y)
    assert reg.score(X, y) > 0.8
    X_all_constant = np.ones_like(X)
    with pytest.warns(UserWarning, match="no informative term"):
        predictions = assert_fits(TaskNeuronRegressor(**FAST), X_all_constant, y)
    assert np.ptp(predictions) < 1e-12  # one input → one prediction


@pytest.mark.parametrize("value", [3.0, -1e30, 1e-30, 0.0])
def test_constant_target_is_predicted_exactly(value):
    X, _ = data()
    y = np.full(len(X), value)
    with pytest.warns(UserWarning, match="target is constant"):
        reg = TaskNeuronRegressor(**FAST).fit(X, y)
    np.testing.assert_array_equal(reg.predict(data(seed=1)[0]), y)


def test_one_constant_column_of_a_multi_output_target():
    X, y = data()
    Y = np.c_[y, np.full(len(y), 2.5)]
    reg = TaskNeuronRegressor(**QUICK).fit(X, Y)
    predictions = reg.predict(X)
    np.testing.assert_array_equal(predictions[:, 1], 2.5)
    assert np.ptp(predictions[:, 0]) > 0


@pytest.mark.parametrize(
    ("convert", "exact"),
    [(lambda X: X.astype(object), True), (lambda X: X.astype(str), True),
     (lambda X: np.asfortranarray(X), True), (lambda X: X.astype(np.float32), False),
     (lambda X: (X * 100).astype(np.int64), False)],
    ids=["object numbers", "numeric text", "fortran", "float32", "int64"],
)
def test_other_numeric_dtypes_fit_like_float64(convert, exact):
    X, y = data()
    X = (X * 100).round() / 100  # exactly representable as text and as int/100
    reference = TaskNeuronRegressor(**QUICK).fit(X, y).predict(X)
    converted = convert(X)
    predictions = TaskNeuronRegressor(**QUICK).fit(converted, y).predict(converted)
    if exact:  # the same float64 values: the same fit (up to summation order)
        np.testing.assert_allclose(predictions, reference, rtol=1e-12)
    else:
        # Rounded (float32) or rescaled (int64 holds X·100) inputs: Adam's normalised
        # steps spread the rounding to ~1 % of the spread of the predictions.
        np.testing.assert_allclose(predictions, reference, rtol=0, atol=0.02 * np.ptp(reference))


def test_pandas_with_mixed_numeric_dtypes_fits_and_keeps_names():
    pd = pytest.importorskip("pandas")
    X, y = data()
    frame = pd.DataFrame({
        "f64": X[:, 0], "f32": X[:, 1].astype(np.float32), "flag": X[:, 2] > 0,
        "count": pd.array((X[:, 2] * 10).round().astype(int), dtype="Int64"),
        "level": pd.Categorical((X[:, 2] > 0).astype(int)),
    })
    reg = TaskNeuronRegressor(**QUICK).fit(frame, y)
    assert list(reg.feature_names_in_) == list(frame.columns)
    assert np.isfinite(reg.predict(frame)).all()
    with pytest.raises(ValueError, match="feature names"):
        reg.predict(frame[frame.columns[::-1]])


def test_duplicated_rows_fit():
    X, y = data(n=300)
    reg = TaskNeuronRegressor(**{**FAST, "max_iter": 50}).fit(np.vstack([X] * 3), np.tile(y, 3))
    assert reg.score(X, y) > 0.8


def test_classifier_labels_of_any_single_type():
    X, y = data(n=200)
    for labels in (np.where(y > 0.5, "yes", "no"), np.where(y > 0.5, 3.0, -1.0),
                   np.where(y > 0.5, True, False), (y > 0.5).astype(object)):
        clf = TaskNeuronClassifier(**QUICK).fit(X, labels)
        assert set(clf.predict(X)) <= set(labels)
        assert sorted(clf.classes_.tolist()) == sorted(set(labels.tolist()))


@pytest.mark.parametrize("sample_weight", [np.zeros(100), -np.ones(100), np.ones(99)],
                         ids=["all zero", "negative", "wrong length"])
def test_bad_sample_weight_is_refused(sample_weight):
    X, y = data()
    with pytest.raises(ValueError, match="sample_weight|Sample weights"):
        TaskNeuronRegressor(**QUICK).fit(X, y, sample_weight)


# ---------------------------------------------------- properties over many inputs
@PROPERTY
@given(
    exponent_x=st.integers(-30, 30),
    exponent_y=st.integers(-30, 30),
    shift=st.floats(-1e3, 1e3),
    seed=st.integers(0, 2**16),
)
def test_any_scale_of_inputs_and_target_gives_the_same_fit(exponent_x, exponent_y, shift, seed):
    """Standardisation makes the fit invariant to the units of X and y (1e±30)."""
    X, y = data(n=80, seed=seed)
    reference = TaskNeuronRegressor(**QUICK).fit(X, y).predict(X)
    sx, sy = 10.0**exponent_x, 10.0**exponent_y
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg = TaskNeuronRegressor(**QUICK).fit(X * sx + shift * sx, y * sy)
    scaled = reg.predict(X * sx + shift * sx) / sy
    assert np.isfinite(scaled).all()
    # Inputs that differ by rounding only; Adam's normalised steps spread that to
    # ~1 % of the spread of the predictions (a wrong scale would be off by 10^k).
    np.testing.assert_allclose(scaled, reference, atol=0.03 * np.ptp(reference))


finite_matrices = hnp.arrays(
    np.float64, hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=12),
    elements=st.floats(allow_nan=False, allow_infinity=False, width=64),
)


@PROPERTY
@given(X=finite_matrices, data_=st.data())
def test_any_finite_matrix_either_fits_to_finite_predictions_or_says_rescale(X, data_):
    """Duplicates, constant columns, one row, extreme values: never NaN out of predict."""
    y = data_.draw(hnp.arrays(np.float64, len(X), elements=st.floats(-1e6, 1e6)))
    reg = TaskNeuronRegressor(**{**QUICK, "max_iter": 2})
    try:
        reg.fit(X, y)
    except ValueError as exc:
        assert "too wide a range" in str(exc)
        assert np.ptp(X, axis=0).max() > 1e307  # only when (x − mean) overflows
        return
    predictions = reg.predict(X)
    assert np.isfinite(predictions).all()


@PROPERTY
@given(
    position=st.tuples(st.integers(0, 39), st.integers(0, 2)),
    value=st.sampled_from([np.inf, -np.inf]),
    classifier=st.booleans(),
)
def test_any_infinite_value_is_refused_before_training(position, value, classifier):
    X, y = data(n=40)
    X[position] = value
    est = TaskNeuronClassifier(**QUICK) if classifier else TaskNeuronRegressor(**QUICK)
    with pytest.raises(ValueError, match="Input X contains infinity"):
        est.fit(X, y > 0 if classifier else y)
    assert not hasattr(est, "network_")


@PROPERTY
@given(labels=st.lists(st.one_of(st.integers(-3, 3), st.sampled_from(["a", "b"]),
                                 st.sampled_from([0.5, 2.5])), min_size=40, max_size=40))
def test_any_list_of_labels_fits_or_is_refused_clearly(labels):
    X, _ = data(n=40)
    y = np.array(labels, dtype=object)
    clf = TaskNeuronClassifier(**{**QUICK, "max_iter": 1})
    has_text = {isinstance(v, str) for v in labels}
    fractional = any(isinstance(v, float) and not v.is_integer() for v in labels)
    try:
        clf.fit(X, y)
    except ValueError as exc:
        assert (len(has_text) == 2 and "mixes text and numeric" in str(exc)) or (
            has_text == {False} and fractional and "label type: continuous" in str(exc)) or (
            len(set(labels)) == 1 and "at least 2 classes" in str(exc))
        return
    assert len(has_text) == 1 and len(set(labels)) >= 2
    assert set(clf.predict(X)) <= set(labels)
    # score takes the y that fit took (scikit-learn's metrics refuse object numbers)
    assert clf.score(X, y) == np.mean(clf.predict(X) == np.array(labels))



@pytest.mark.parametrize("failure", ["device", "weights"])
def test_a_refit_that_raises_leaves_the_estimator_as_it_was(failure):
    """Not the new input's n_features_in_ over the old network (which would then predict
    5-column rows with a 3-column network), and an unfitted estimator stays unfitted."""
    X3, y = data(d=3)
    X5, _ = data(d=5)
    reg = TaskNeuronRegressor(**QUICK).fit(X3, y)
    before = reg.predict(X3)
    fresh = TaskNeuronRegressor(**QUICK)
    for est in (reg, fresh):
        if failure == "device":
            est.set_params(device="cuda:7")
        weights = np.zeros(len(X5)) if failure == "weights" else None
        with pytest.raises(ValueError):
            est.fit(X5, y, sample_weight=weights)
    assert reg.n_features_in_ == 3
    np.testing.assert_array_equal(reg.set_params(device="auto").predict(X3), before)
    with pytest.raises(NotFittedError):
        fresh.predict(X5)


@pytest.mark.parametrize("change", [{"hidden_layer_sizes": (6, 4)}, {"activation": "tanh"},
                                    {"n_members": 3}])
def test_warm_start_refuses_to_continue_a_network_the_parameters_no_longer_describe(change):
    X, y = data()
    reg = TaskNeuronRegressor(**{**QUICK, "warm_start": True, "n_members": 2}).fit(X, y)
    before = reg.predict(X)
    with pytest.raises(ValueError, match="continues training its fitted network"):
        reg.set_params(**change).fit(X, y)
    with pytest.raises(ValueError, match="continues training its fitted network"):
        reg.partial_fit(X, y)
    np.testing.assert_array_equal(reg.predict(X), before)  # the fitted model is kept
    reg.set_params(warm_start=False).fit(X, y)  # a new fit takes the new parameters
    reg.set_params(max_iter=2, warm_start=True).fit(X, y)  # and continues from there


def test_object_labels_of_numbers_fit_and_score():
    """A pandas object column of class numbers: fit reads it as numbers, and so does score
    (scikit-learn's metrics call such a y an "unknown" target)."""
    X, _ = data(n=40)
    y = np.array([0, 1, 2, 1] * 10, dtype=object)
    clf = TaskNeuronClassifier(**{**QUICK, "max_iter": 1}).fit(X, y)
    assert clf.classes_.tolist() == [0, 1, 2]
    assert clf.score(X, y) == np.mean(clf.predict(X) == y.astype(np.int64))


# ------------------------------------------------------------------ parameters
BAD_PARAMS = {
    "hidden_layer_sizes": [0, (0,), (8, -1), "wide", (1.5,)],
    "activation": ["swish", 1],
    "formula": [3, None],
    "categorical_features": ["all", 3],
    "discovery": ["pca"],
    "discovery_params": ["fast", {"bogus": 1}, {"max_order": 2}],
    "max_order": [0, 7, 2.5],
    "rank": [0, 1.5],
    "n_members": [0, 2.5],
    "periodic": [-1, 65, 1.5],
    "alpha": [-1.0, np.nan, np.inf],
    "batch_size": [0, "big", 1.5],
    "learning_rate_init": [0.0, -1.0, np.nan, np.inf],
    "max_iter": [0, 1.5],
    "tol": [-1.0, np.nan],
    "early_stopping": ["yes"],
    "validation_fraction": [0.0, 1.0],
    "n_iter_no_change": [0],
    "random_state": ["seed", -1],
    "verbose": ["loud"],
    "warm_start": ["yes"],
    "compile": ["yes", 1.0],
    "device": [3, "gpu-please", "tpu"],
}


def test_every_constructor_parameter_has_bad_values_under_test():
    names = set(inspect.signature(TaskNeuronRegressor).parameters)
    assert names == set(BAD_PARAMS) == set(TaskNeuronRegressor._parameter_constraints)


@pytest.mark.parametrize("Estimator", [TaskNeuronRegressor, TaskNeuronClassifier])
@pytest.mark.parametrize(("name", "value"),
                         [(name, value) for name, values in BAD_PARAMS.items() for value in values])
def test_bad_parameter_is_an_invalid_parameter_error_naming_it(Estimator, name, value):
    est = Estimator(**{**QUICK, name: value})
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter"):
        est.fit(X0, y0 > 0 if Estimator is TaskNeuronClassifier else y0)
    assert not hasattr(est, "network_")


def test_discovery_params_error_lists_the_accepted_keys():
    with pytest.raises(InvalidParameterError, match=r"\['bogus'\].*takes \[.*'tolerance'"):
        TaskNeuronRegressor(discovery_params={"bogus": 1}).fit(X0, y0)
    with pytest.raises(InvalidParameterError, match="set them there"):
        TaskNeuronRegressor(discovery_params={"rank": 2}).fit(X0, y0)
    with pytest.raises(InvalidParameterError, match="sets 'sample_weight'; pass the weights to fit"):
        TaskNeuronRegressor(discovery_params={"sample_weight": np.ones(len(X0))}).fit(X0, y0)
    with pytest.raises(InvalidParameterError) as refused:
        TaskNeuronRegressor(discovery_params={"bogus": 1}).fit(X0, y0)
    assert "'sample_weight'" not in str(refused.value)  # not a key to set there
    with pytest.raises(ValueError, match="'tolerance' parameter of discover_td"):  # by discovery
        TaskNeuronRegressor(discovery_params={"tolerance": -1}).fit(*data(n=100))


@pytest.mark.parametrize(
    ("formula", "bad_token", "message"),
    [("x + y", "y", "unknown name 'y'"),
     ("x + x**2 + foo(x)", "foo", "unknown name 'foo'"),
     ("x ++ x**2", "+", "empty term"),
     ("x + x * * 2", "* 2", "cannot read term 'x \\* \\* 2': invalid syntax"),
     ("x + sin(x $ 2)", "$", "invalid syntax"),
     ("x + x **", None, "cannot read term"),
     ("x + inter(2", None, "unbalanced")],
)
def test_formula_that_does_not_parse_points_at_the_bad_token(formula, bad_token, message):
    est = TaskNeuronRegressor(**{**FAST, "formula": formula})
    with pytest.raises(FormulaSyntaxError, match=message) as info:
        est.fit(X0, y0)
    text, caret = str(info.value).splitlines()[-2:]
    column = caret.index("^")
    assert text.strip() == formula
    if bad_token is None:  # the formula ends too early
        assert column == len(text)
    else:
        assert text[column:].startswith(bad_token)
    assert not hasattr(est, "network_")


def test_formula_value_object_is_accepted_as_given():
    formula = NeuronFormula((1, 2), (2,), rank=3)
    reg = TaskNeuronRegressor(**{**FAST, "formula": formula}).fit(X0, y0)
    assert reg.formula_ == formula and reg.discovery_ is None
