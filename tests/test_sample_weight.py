"""Sample weights: what they change, and that a zero weight removes a row."""

import warnings

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification, make_regression

from skneuron import TaskNeuronClassifier, TaskNeuronRegressor
from skneuron._tabular import input_encoding
from skneuron.discovery import discover_td

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

#: Enough rows for discovery (60) and for cross-fitted early stopping (4 members × 20).
SMALL = {"hidden_layer_sizes": (8,), "max_iter": 6, "device": "cpu", "random_state": 0}


def _data(kind, n=120):
    if kind == "regression":
        X, y = make_regression(n, 4, noise=5.0, random_state=0)
        return TaskNeuronRegressor, X, y
    X, y = make_classification(n, 4, n_classes=3, n_informative=3, n_redundant=0,
                               random_state=0)
    return TaskNeuronClassifier, X, y


def _outputs(model, X):
    return model.predict_proba(X) if hasattr(model, "predict_proba") else model.predict(X)


@pytest.mark.parametrize("kind", ["regression", "classification"])
def test_unit_weights_give_the_unweighted_fit_bit_for_bit(kind):
    Estimator, X, y = _data(kind)
    plain = Estimator(**SMALL).fit(X, y)
    ones = Estimator(**SMALL).fit(X, y, sample_weight=np.ones(len(y)))
    assert plain.discovery_ is not None and plain.do_early_stopping_  # both paths ran
    np.testing.assert_array_equal(_outputs(plain, X), _outputs(ones, X))


@pytest.mark.parametrize("kind", ["regression", "classification"])
def test_zero_weights_remove_rows(kind):
    Estimator, X, y = _data(kind)
    weights = np.random.default_rng(1).integers(0, 4, len(y)).astype(float)
    weighted = Estimator(**SMALL).fit(X, y, sample_weight=weights)
    kept = weights > 0
    removed = Estimator(**SMALL).fit(X[kept], y[kept], sample_weight=weights[kept])
    assert weighted.discovery_ is not None and weighted.do_early_stopping_
    np.testing.assert_array_equal(_outputs(weighted, X), _outputs(removed, X))


@pytest.mark.parametrize("kind", ["regression", "classification"])
@pytest.mark.parametrize("weighting", ["integers", "uniform"])
def test_integer_weights_act_as_copies_in_one_minibatch(kind, weighting):
    # 25 rows and their copies (about 50): one minibatch each and no held-out rows, so the fits
    # differ only where the weights enter: the L2 penalty is over the minibatch's weight
    # (scikit-learn's convention), also for equal weights, which otherwise weigh nothing.
    # Both fits are small enough to train in float64, where they agree to its rounding.
    Estimator, X, y = _data(kind, n=25)
    rng = np.random.default_rng(0)
    weights = rng.integers(1, 4, len(y)) if weighting == "integers" else np.full(len(y), 2)
    params = {**SMALL, "formula": "x + x**2", "alpha": 1.0, "max_iter": 30}
    weighted = Estimator(**params).fit(X, y, sample_weight=weights.astype(float))
    copies = Estimator(**params).fit(np.repeat(X, weights, axis=0), np.repeat(y, weights))
    assert not weighted.do_early_stopping_ and not copies.do_early_stopping_
    np.testing.assert_allclose(_outputs(weighted, X), _outputs(copies, X), rtol=1e-10, atol=1e-12)
    if weighting == "uniform":  # weight 2 everywhere: the unweighted fit with alpha / 2
        halved = Estimator(**{**params, "alpha": 0.5}).fit(X, y)
        np.testing.assert_array_equal(_outputs(weighted, X), _outputs(halved, X))


def test_weights_scale_the_inputs_and_the_target():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(100, 2)), rng.normal(size=100)
    weights = rng.uniform(0.1, 3.0, 100)
    model = TaskNeuronRegressor(formula="x", **SMALL).fit(X, y, sample_weight=weights)
    center = np.average(X, axis=0, weights=weights)
    scale = np.sqrt(np.average((X - center) ** 2, axis=0, weights=weights))
    np.testing.assert_allclose(model._input_encoding["center"], center)
    np.testing.assert_allclose(model._input_encoding["scale"], scale)
    np.testing.assert_allclose(model._target_mean, [np.average(y, weights=weights)])


def test_robust_scaling_takes_weighted_quartiles():
    values = np.array([[1.0], [2.0], [3.0], [10.0]])
    weights = np.array([1.0, 1.0, 1.0, 5.0])
    spec = input_encoding(values, np.array([False]), [None], scaling="robust",
                          sample_weight=weights)
    repeated = np.repeat(values[:, 0], weights.astype(int))
    assert spec["center"][0] == np.percentile(repeated, 50, method="inverted_cdf")


def test_td_discovery_follows_the_weights():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((600, 3))
    # Half the rows are quadratic in x0, half linear: the weights decide which half counts.
    y = np.r_[X[:300, 0] ** 2, X[300:, 0]]
    quadratic_half = np.r_[np.ones(300), np.zeros(300)]
    terms = discover_td(X, y, sample_weight=quadratic_half, random_state=0).formula.terms
    assert "x**2" in terms
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "no informative term"
        linear = discover_td(X, y, sample_weight=1.0 - quadratic_half, random_state=0)
    assert "x**2" not in linear.formula.terms
    # Equal weights are no weights.
    plain = discover_td(X, y, random_state=0)
    equal = discover_td(X, y, sample_weight=np.full(600, 3.0), random_state=0)
    assert plain.term_probabilities == equal.term_probabilities


@pytest.mark.parametrize("Estimator", [TaskNeuronRegressor, TaskNeuronClassifier])
def test_single_member_validation_score_is_weighted(Estimator):
    rng = np.random.default_rng(0)
    outputs = torch.as_tensor(rng.normal(size=(6, 1)), dtype=torch.float32)
    targets = torch.as_tensor((rng.normal(size=(6, 1)) > 0).astype(np.float32))
    weights = torch.tensor([1.0, 2.0, 0.0, 1.0, 3.0, 1.0])
    repeat = torch.tensor([1, 2, 0, 1, 3, 1])
    score = Estimator()._validation_score(outputs, targets, weights)
    repeated = Estimator()._validation_score(outputs.repeat_interleave(repeat, dim=0),
                                             targets.repeat_interleave(repeat, dim=0))
    assert score.ndim == 0
    torch.testing.assert_close(score, repeated)
