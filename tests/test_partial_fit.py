"""``partial_fit``: training in batches, as scikit-learn's MLP does it."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.datasets import make_friedman1

from skneuron import NeuronFormula, TaskNeuronClassifier, TaskNeuronRegressor, load

FAST = {"hidden_layer_sizes": (16,), "batch_size": 50, "n_members": 2, "device": "cpu",
        "random_state": 0}
#: For tests where discovery does not matter: a given formula skips it.
GIVEN = {**FAST, "formula": "x + x**2"}


@pytest.fixture(scope="module")
def friedman():
    X, y = make_friedman1(n_samples=1200, random_state=0)
    return X, y


def _batches(n, k):
    return np.array_split(np.arange(n), k)


def _weights(model):
    return [p.detach().clone() for p in model.network_.body.parameters()]


def test_each_call_is_one_epoch_continuing_the_optimisation(friedman):
    X, y = friedman
    reg = TaskNeuronRegressor(**FAST)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # one epoch by design: no ConvergenceWarning
        for epoch in range(8):
            for batch in _batches(len(X), 3):
                reg.partial_fit(X[batch], y[batch])
    assert reg.n_iter_ == len(reg.loss_curve_) == 24
    # Adam's step count runs on across calls: 400 rows per call in minibatches of 50
    assert reg._optimizer.steps_taken == 24 * 8
    assert np.mean(reg.loss_curve_[-3:]) < 0.5 * np.mean(reg.loss_curve_[:3])
    assert reg.score(X, y) > 0.8
    assert not reg.do_early_stopping_ and reg.validation_scores_ is None


def test_the_optimiser_state_matters(friedman):
    X, y = friedman
    continued = TaskNeuronRegressor(**FAST).partial_fit(X[:400], y[:400])
    restarted = pickle.loads(pickle.dumps(continued))
    restarted._optimizer = None  # as if Adam started afresh
    continued.partial_fit(X[400:800], y[400:800])
    restarted.partial_fit(X[400:800], y[400:800])
    assert continued._optimizer.steps_taken == 16
    assert restarted._optimizer.steps_taken == 8
    assert not np.allclose(continued.predict(X), restarted.predict(X))


def test_a_pickled_estimator_continues_exactly(friedman):
    X, y = friedman
    reg = TaskNeuronRegressor(**FAST).partial_fit(X[:400], y[:400])
    copy = pickle.loads(pickle.dumps(reg))
    for model in (reg, copy):
        model.partial_fit(X[400:], y[400:])
    assert copy._optimizer.steps_taken == reg._optimizer.steps_taken == 8 + 16
    for a, b in zip(_weights(reg), _weights(copy)):
        assert torch.equal(a, b)


def test_every_member_trains_on_every_batch(friedman):
    X, y = friedman
    reg = TaskNeuronRegressor(**{**FAST, "n_members": 3}).partial_fit(X[:300], y[:300])
    before = _weights(reg)
    reg.partial_fit(X[300:600], y[300:600])
    for old, new in zip(before, _weights(reg)):
        assert old.shape[0] == 3  # the member dimension
        for member in range(3):
            assert not torch.equal(old[member], new[member])


def test_statistics_and_formula_come_from_the_first_call():
    rng = np.random.default_rng(0)
    first = pd.DataFrame({"a": rng.uniform(0, 1, 300), "c": rng.choice(["x", "y"], 300)})
    y_first = first["a"] * 10 + 5
    reg = TaskNeuronRegressor(**FAST).partial_fit(first, y_first)
    encoding, formula = reg._input_encoding, reg.formula_
    target = reg._target_mean.copy(), reg._target_scale.copy()
    center = reg.network_.inputs.center.clone()
    # later batches: another scale, a new category, missing values — encoded the first way
    later = pd.DataFrame({"a": rng.uniform(100, 200, 300), "c": rng.choice(["x", "z"], 300)})
    later.loc[:10, "a"] = np.nan
    reg.partial_fit(later, later["a"].fillna(0) * 3 - 50)
    assert reg._input_encoding is encoding and reg.formula_ is formula
    assert reg.categories_[1].tolist() == ["x", "y"]
    assert np.array_equal(reg._target_mean, target[0])
    assert np.array_equal(reg._target_scale, target[1])
    assert torch.equal(reg.network_.inputs.center, center)
    assert np.isfinite(reg.predict(later)).all()


def test_a_first_batch_with_a_constant_target_does_not_fix_the_output():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((600, 3))
    y = 2 * X[:, 0]
    reg = TaskNeuronRegressor(**{**FAST, "formula": "x"}).partial_fit(X[:50], np.ones(50))
    for _ in range(30):
        reg.partial_fit(X[50:], y[50:])
    assert reg.score(X[50:], y[50:]) > 0.7  # with the first batch's constant: 0


def test_given_formula_is_used_without_discovery(friedman):
    X, y = friedman
    reg = TaskNeuronRegressor(**{**FAST, "formula": "x + x**2"}).partial_fit(X, y)
    assert reg.discovery_ is None
    assert reg.formula_ == NeuronFormula.coerce("x + x**2", rank=reg.rank)


def test_partial_fit_after_fit_continues_and_fit_after_partial_fit_starts_over(friedman):
    X, y = friedman
    reg = TaskNeuronRegressor(**FAST, max_iter=3, early_stopping=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reg.fit(X, y)
    formula, steps = reg.formula_, reg._optimizer.steps_taken
    assert steps == 3 * 24
    reg.partial_fit(X[:100], y[:100])
    assert reg.n_iter_ == 4 and reg.formula_ is formula
    assert reg._optimizer.steps_taken == steps + 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reg.fit(X, y)
    assert reg.n_iter_ == 3 and len(reg.loss_curve_) == 3
    assert reg._optimizer.steps_taken == 3 * 24  # a new Adam


def test_fit_after_partial_fit_forgets_the_first_batch_statistics(friedman):
    X, y = friedman
    reg = TaskNeuronRegressor(**FAST, max_iter=2).partial_fit(X[:100] + 50, y[:100])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reg.fit(X, y)
    np.testing.assert_allclose(reg.network_.inputs.center.numpy()[:10], X.mean(axis=0),
                               rtol=1e-6)


def test_sample_weight_applies(friedman):
    X, y = friedman
    plain = TaskNeuronRegressor(**GIVEN).partial_fit(X[:400], y[:400])
    weights = np.r_[np.ones(200), np.zeros(200)]
    weighted = TaskNeuronRegressor(**GIVEN).partial_fit(X[:400], y[:400], sample_weight=weights)
    first_half = TaskNeuronRegressor(**GIVEN).partial_fit(X[:200], y[:200])
    assert not np.allclose(plain.predict(X), weighted.predict(X))
    # A row of zero weight is a row removed, as in fit.
    np.testing.assert_allclose(weighted.predict(X), first_half.predict(X), rtol=1e-6)


def test_saved_model_continues_with_a_fresh_optimiser(friedman, tmp_path):
    X, y = friedman
    reg = TaskNeuronRegressor(**GIVEN).partial_fit(X[:400], y[:400])
    reg.save(tmp_path / "model.skn")
    loaded = load(tmp_path / "model.skn")
    assert not hasattr(loaded, "_optimizer")
    np.testing.assert_array_equal(loaded.predict(X), reg.predict(X))
    loaded.partial_fit(X[400:], y[400:])
    assert loaded.n_iter_ == 2 and loaded._optimizer.steps_taken == 16


# ---------------------------------------------------------------- classifier
def test_a_skops_round_trip_continues_exactly(friedman, tmp_path):
    sio = pytest.importorskip("skops.io")
    X, y = friedman
    reg = TaskNeuronRegressor(**FAST).partial_fit(X[:400], y[:400])
    path = tmp_path / "model.skops"
    sio.dump(reg, path)
    untrusted = sio.get_untrusted_types(file=path)
    assert all(name.startswith("skneuron.") for name in untrusted), untrusted
    copy = sio.load(path, trusted=untrusted)
    for model in (reg, copy):
        model.partial_fit(X[400:], y[400:])
    assert copy._optimizer.steps_taken == reg._optimizer.steps_taken == 8 + 16
    for a, b in zip(_weights(reg), _weights(copy)):
        assert torch.equal(a, b)


def test_multilabel_partial_fit_takes_the_column_indices_as_classes():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 3))
    Y = (X[:, :2] > 0).astype(int)
    clf = TaskNeuronClassifier(**FAST)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        clf.partial_fit(X, Y)
    with pytest.raises(ValueError, match=r"column indices \[0, 1\]; got classes=\['a', 'b'\]"):
        clf.partial_fit(X, Y, classes=["a", "b"])
    assert not hasattr(clf, "classes_")
    for _ in range(15):
        for batch in _batches(len(X), 3):
            clf.partial_fit(X[batch], Y[batch], classes=[0, 1])
    assert clf.classes_.tolist() == [0, 1]
    assert clf.predict(X).shape == (300, 2)
    assert clf.score(X, Y) > 0.8  # subset accuracy
    with pytest.raises(ValueError, match="indicator matrix"):
        clf.partial_fit(X, Y[:, 0])


def test_classifier_needs_classes_on_the_first_call():
    X, y = np.random.default_rng(0).standard_normal((40, 2)), np.arange(40) % 2
    clf = TaskNeuronClassifier(**FAST)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        clf.partial_fit(X, y)
    assert not hasattr(clf, "classes_")
    with pytest.raises(ValueError, match="at least 2 classes"):
        clf.partial_fit(X, np.zeros(40), classes=[0])


def test_classifier_classes_need_not_all_be_in_a_batch():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((600, 2))
    y = np.array(["a", "b", "c"])[(X[:, 0] > -0.4).astype(int) + (X[:, 0] > 0.4)]
    clf = TaskNeuronClassifier(**FAST)
    only_ab = y != "c"
    clf.partial_fit(X[only_ab][:100], y[only_ab][:100], classes=["c", "b", "a"])
    assert clf.classes_.tolist() == ["a", "b", "c"]
    assert clf.predict_proba(X).shape == (600, 3)
    for _ in range(20):
        for batch in _batches(len(X), 3):
            clf.partial_fit(X[batch], y[batch])  # classes may be omitted later
    assert clf.score(X, y) > 0.85
    assert set(clf.predict(X)) == {"a", "b", "c"}


def test_classifier_refuses_unknown_labels_and_other_classes():
    X, y = np.random.default_rng(0).standard_normal((40, 2)), np.arange(40) % 2
    clf = TaskNeuronClassifier(**FAST).partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match=r"labels \[2\] not among partial_fit's classes"):
        clf.partial_fit(X, np.arange(40) % 3)
    with pytest.raises(ValueError, match="not the same as on the first call"):
        clf.partial_fit(X, y, classes=[0, 1, 2])
    clf.partial_fit(X, y, classes=[1, 0])  # the same labels, in any order
    assert clf.n_iter_ == 2


def test_classifier_partial_fit_after_fit_needs_no_classes():
    X, y = np.random.default_rng(0).standard_normal((100, 2)), np.arange(100) % 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = TaskNeuronClassifier(**FAST, max_iter=2).fit(X, y)
    clf.partial_fit(X, y)
    assert clf.n_iter_ == 3


# ------------------------------------------------------------------ dask-ml
@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")
def test_dask_ml_incremental_on_a_local_cluster(friedman):
    da = pytest.importorskip("dask.array")
    distributed = pytest.importorskip("distributed")
    wrappers = pytest.importorskip("dask_ml.wrappers")
    X, y = friedman
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster):
        dX, dy = da.from_array(X, chunks=300), da.from_array(y, chunks=300)
        model = wrappers.Incremental(TaskNeuronRegressor(**FAST))
        for _ in range(5):
            model.partial_fit(dX, dy)
        fitted = model.estimator_
        predicted = model.predict(dX).compute()
    assert fitted.n_iter_ == 5 * 4  # one epoch per block, four blocks per pass
    np.testing.assert_allclose(predicted, fitted.predict(X), rtol=1e-6)
    assert fitted.score(X, y) > 0.5
