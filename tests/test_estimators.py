"""The estimators as a scikit-learn user meets them."""

import copy
import io
import os
import pickle
import shutil
import warnings

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_iris, make_classification, make_regression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skneuron
from skneuron import NeuronFormula, TaskNeuronClassifier, TaskNeuronRegressor
from skneuron._estimators import FLOAT64_TRAINING_ROWS
from skneuron.discovery import DiscoveryResult
from skneuron.nn import Standardized, TaskNeuronNetwork
from skneuron.training import resolve_device

FAST = {"hidden_layer_sizes": (16,), "max_iter": 30, "batch_size": 32}
#: For tests of what only the CPU promises: an int random_state gives the same bits in
#: every fit and however rows are batched (CUDA kernels may sum in another order).
CPU = {"device": "cpu"}


# Short test fits stop at max_iter on purpose.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def regression_data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 5))
    y = X[:, 0] + 0.5 * X[:, 1] ** 2 + 0.05 * rng.standard_normal(300)
    return X, 100 + 50 * y  # far from standard scale: the regressor standardises it


@pytest.fixture(scope="module")
def classification_data():
    X, y = make_classification(300, 6, n_informative=4, random_state=0)
    return X, np.array(["no", "yes"])[y]


def test_regressor_fits_discovers_and_predicts(regression_data):
    X, y = regression_data
    reg = TaskNeuronRegressor(max_iter=100, random_state=0).fit(X, y)
    assert isinstance(reg.formula_, NeuronFormula)
    assert isinstance(reg.discovery_, DiscoveryResult)
    # Every discovered formula keeps x and, by default, the periodic term.
    assert reg.formula_ == reg.discovery_.formula | NeuronFormula(periodic=8)
    assert reg.formula_.pure_orders[0] == 1
    # The search priced each term by what it adds to x, which every formula keeps.
    assert all("x" in subset["terms"] for subset in reg.discovery_.details["subsets"])
    assert reg.predict(X).shape == (300,)
    assert reg.score(X, y) > 0.9
    assert reg.n_features_in_ == 5 and reg.n_outputs_ == 1
    assert reg.n_iter_ == len(reg.loss_curve_) <= 100
    assert reg.loss_curve_[-1] < reg.loss_curve_[0]
    assert reg.device_ == resolve_device("auto")
    assert isinstance(reg.network_, Standardized)
    assert isinstance(reg.network_.body, TaskNeuronNetwork)
    assert reg.network_.body.members == 4 and reg.do_early_stopping_  # cross-fitted members
    assert len(reg.validation_scores_) == reg.n_iter_


def test_same_random_state_gives_identical_fits(regression_data):
    X, y = regression_data
    first = TaskNeuronRegressor(**FAST, **CPU, random_state=3).fit(X, y)
    second = TaskNeuronRegressor(**FAST, **CPU, random_state=3).fit(X, y)
    other = TaskNeuronRegressor(**FAST, **CPU, random_state=4).fit(X, y)
    assert first.formula_ == second.formula_
    np.testing.assert_array_equal(first.predict(X), second.predict(X))
    assert not np.array_equal(first.predict(X), other.predict(X))


def test_refit_of_the_same_instance_is_reproducible(regression_data):
    X, y = regression_data
    reg = TaskNeuronRegressor(**FAST, **CPU, random_state=0)
    before = reg.fit(X, y).predict(X)
    np.testing.assert_array_equal(reg.fit(X, y).predict(X), before)


def test_discovered_interaction_only_formula_keeps_the_linear_term(regression_data, monkeypatch):
    import skneuron._estimators as estimators

    found = DiscoveryResult(NeuronFormula.parse("inter(3, rank=4)"), "td", {}, 0.9, 0.1)
    monkeypatch.setattr(estimators, "discover_formula", lambda *args, **kwargs: found)
    reg = TaskNeuronRegressor(**FAST, random_state=0).fit(*regression_data)
    assert reg.discovery_ is found
    assert reg.formula_.terms == ("x", "inter(3, rank=4)", "periodic(8)")
    without = TaskNeuronRegressor(**FAST, periodic=0, random_state=0).fit(*regression_data)
    assert without.formula_.terms == ("x", "inter(3, rank=4)")


def test_discovery_prices_terms_beside_the_periodic_term_every_formula_keeps(regression_data,
                                                                             monkeypatch):
    import skneuron._estimators as estimators

    asked = []
    found = DiscoveryResult(NeuronFormula(), "td", {}, 0.9, 0.1)
    monkeypatch.setattr(estimators, "discover_formula",
                        lambda *args, **kwargs: asked.append(kwargs) or found)
    TaskNeuronRegressor(**FAST, random_state=0).fit(*regression_data)
    TaskNeuronRegressor(**FAST, periodic=0, random_state=0).fit(*regression_data)
    kept, candidate = asked
    assert (kept["keep_periodic"], kept["periodic"]) == (8, 0)
    assert (candidate["keep_periodic"], candidate["periodic"]) == \
        (0, estimators.DEFAULT_CANDIDATE_FREQUENCIES)


@pytest.mark.parametrize("formula", ["x + x**2 + inter(2, rank=3)", NeuronFormula((1, 3))])
def test_hand_given_formula_skips_discovery(regression_data, formula):
    X, y = regression_data
    reg = TaskNeuronRegressor(formula=formula, **FAST, random_state=0).fit(X, y)
    assert reg.discovery_ is None
    assert reg.formula_ == NeuronFormula.coerce(formula)
    assert reg.network_.body.task_layers[0].formula == reg.formula_


def test_rank_parameter_applies_to_hand_given_interactions(regression_data):
    X, y = regression_data
    reg = TaskNeuronRegressor(formula="x + inter(2)", rank=3, **FAST, random_state=0).fit(X, y)
    assert reg.formula_.rank == 3


def test_bad_formula_string_is_a_clear_error(regression_data):
    X, y = regression_data
    with pytest.raises(ValueError, match="unknown name 'y'"):
        TaskNeuronRegressor(formula="x + y").fit(X, y)


def test_multi_output_regression():
    X, Y = make_regression(200, 4, n_targets=3, random_state=0)
    reg = TaskNeuronRegressor(max_iter=100, random_state=0).fit(X, Y)
    assert reg.n_outputs_ == 3
    assert reg.predict(X).shape == (200, 3)
    assert reg.score(X, Y) > 0.9


def test_classifier_with_string_labels(classification_data):
    X, y = classification_data
    clf = TaskNeuronClassifier(max_iter=60, random_state=0).fit(X, y)
    assert list(clf.classes_) == ["no", "yes"]
    assert set(clf.predict(X)) <= {"no", "yes"}
    proba = clf.predict_proba(X)
    assert proba.shape == (300, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_allclose(clf.predict_log_proba(X), np.log(proba), atol=1e-10)
    assert clf.score(X, y) > 0.9
    assert (clf.classes_[proba.argmax(axis=1)] == clf.predict(X)).all()


def test_multiclass_probabilities_follow_classes():
    X, y = load_iris(return_X_y=True)
    labels = np.array(["setosa", "versicolor", "virginica"])[y]
    clf = TaskNeuronClassifier(max_iter=200, random_state=0).fit(X, labels)
    proba = clf.predict_proba(X)
    assert proba.shape == (150, 3)
    assert (clf.classes_[proba.argmax(axis=1)] == clf.predict(X)).all()
    assert clf.score(X, labels) > 0.95


def test_classifier_refuses_a_single_class():
    X = np.random.default_rng(0).standard_normal((20, 3))
    with pytest.raises(ValueError, match="at least 2 classes"):
        TaskNeuronClassifier().fit(X, np.zeros(20))


def test_sample_weight_changes_the_fit(regression_data):
    X, y = regression_data
    plain = TaskNeuronRegressor(formula="x", **FAST, **CPU, random_state=0).fit(X, y)
    ones = TaskNeuronRegressor(formula="x", **FAST, **CPU, random_state=0).fit(
        X, y, np.ones(len(y)))
    np.testing.assert_array_equal(plain.predict(X), ones.predict(X))

    # Two groups with opposite targets for the same inputs: weights decide which one wins.
    X2 = np.vstack([X, X])
    y2 = np.r_[X[:, 0], -X[:, 0]]
    weights = np.r_[np.ones(len(X)), np.full(len(X), 0.01)]
    weighted = TaskNeuronRegressor(formula="x", **FAST, random_state=0).fit(X2, y2, weights)
    unweighted = TaskNeuronRegressor(formula="x", **FAST, random_state=0).fit(X2, y2)
    assert np.corrcoef(weighted.predict(X), X[:, 0])[0, 1] > 0.9
    assert abs(np.corrcoef(unweighted.predict(X), X[:, 0])[0, 1]) < 0.5


def test_zero_weight_rows_are_ignored():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 2))
    y = (X[:, 0] > 0).astype(int)
    y_corrupted = y.copy()
    y_corrupted[:100] = 1 - y_corrupted[:100]
    weights = np.r_[np.zeros(100), np.ones(100)]
    clf = TaskNeuronClassifier(formula="x", **FAST, random_state=0)
    corrupted_score = clf.fit(X, y_corrupted).score(X[:100], y[:100])
    clf.fit(X, y_corrupted, sample_weight=weights)
    assert clf.score(X[:100], y[:100]) > max(0.85, corrupted_score + 0.15)


def test_warm_start_continues_training(regression_data):
    X, y = regression_data
    reg = TaskNeuronRegressor(**FAST, warm_start=True, random_state=0).fit(X, y)
    formula, first_curve = reg.formula_, list(reg.loss_curve_)
    weights = reg.network_.body.task_layers[0].weight.detach().clone()
    reg.fit(X, y)
    assert reg.formula_ is formula  # no second discovery
    assert reg.n_iter_ == len(reg.loss_curve_) > len(first_curve)
    assert reg.loss_curve_[: len(first_curve)] == first_curve
    assert reg.loss_curve_[len(first_curve)] < first_curve[0]  # started from the trained weights
    assert not torch.equal(weights, reg.network_.body.task_layers[0].weight)
    cold = TaskNeuronRegressor(**FAST, warm_start=False, random_state=0).fit(X, y)
    assert cold.n_iter_ == len(first_curve)


def test_early_stopping_restores_the_best_weights(classification_data):
    X, y = classification_data
    clf = TaskNeuronClassifier(**{**FAST, "max_iter": 200}, early_stopping=True,
                               n_iter_no_change=3, random_state=0).fit(X, y)
    assert len(clf.validation_scores_) == clf.n_iter_ < 200
    assert clf.best_validation_score_ == max(clf.validation_scores_)


@pytest.mark.parametrize(("n_members", "n_samples", "early_stopping", "expected"), [
    (1, 10_000, "auto", False), (1, 10_001, "auto", True), (1, 10_001, False, False),
    (1, 300, True, True), (4, 79, "auto", False), (4, 80, "auto", True), (4, 300, False, False)])
def test_auto_early_stopping(n_members, n_samples, early_stopping, expected):
    """One network holds out rows above 10 000 rows; members validate on their folds once
    each fold has 20 rows."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n_samples, 2))
    y = X[:, 0] - X[:, 1]
    reg = TaskNeuronRegressor(formula="x", hidden_layer_sizes=(4,), max_iter=2, batch_size=1000,
                              n_members=n_members, early_stopping=early_stopping,
                              random_state=0).fit(X, y)
    assert reg.do_early_stopping_ is expected
    if expected:
        assert len(reg.validation_scores_) == reg.n_iter_ == 2
    else:
        assert reg.validation_scores_ is None and not hasattr(reg, "best_validation_score_")


def test_warm_start_can_turn_early_stopping_on(regression_data):
    X, y = regression_data
    reg = TaskNeuronRegressor(**{**FAST, "max_iter": 3}, early_stopping=False, warm_start=True,
                              random_state=0).fit(X, y)
    assert reg.validation_scores_ is None
    reg.set_params(early_stopping=True).fit(X, y)
    assert len(reg.validation_scores_) <= 3 and reg.n_iter_ == 3 + len(reg.validation_scores_)


def test_pipeline_and_cross_val_score(regression_data):
    X, y = regression_data
    pipe = make_pipeline(StandardScaler(), TaskNeuronRegressor(**FAST, random_state=0))
    scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.shape == (3,) and scores.min() > 0.5


def test_clone_gives_an_unfitted_copy_with_the_same_params(regression_data):
    X, y = regression_data
    reg = TaskNeuronRegressor(formula="x + x**2", rank=4, **FAST).fit(X, y)
    copy = clone(reg)
    assert copy.get_params() == reg.get_params()
    assert not hasattr(copy, "network_")


@pytest.mark.parametrize("dump", ["pickle", "joblib"])
def test_round_trip_keeps_predictions(regression_data, classification_data, dump):
    for est, (X, y) in [(TaskNeuronRegressor(**FAST, random_state=0), regression_data),
                        (TaskNeuronClassifier(**FAST, random_state=0), classification_data)]:
        est.fit(X, y)
        if dump == "pickle":
            loaded = pickle.loads(pickle.dumps(est))
        else:
            buffer = io.BytesIO()
            joblib.dump(est, buffer)
            buffer.seek(0)
            loaded = joblib.load(buffer)
        np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
        assert loaded.formula_ == est.formula_


@pytest.mark.parametrize("rebuild", ["pickle", "deepcopy", "save"])
def test_parameters_set_after_fit_do_not_change_the_rebuilt_network(regression_data, tmp_path,
                                                                     rebuild):
    """As in scikit-learn, set_params reaches the model at the next fit only: a copy,
    a pickle or a model file rebuilds the network that was fitted."""
    X, y = regression_data
    reg = TaskNeuronRegressor(**FAST, random_state=0).fit(X, y)
    expected = reg.predict(X)
    reg.set_params(activation="tanh", hidden_layer_sizes=(3, 3), n_members=2)
    if rebuild == "pickle":
        rebuilt = pickle.loads(pickle.dumps(reg))
    elif rebuild == "deepcopy":
        rebuilt = copy.deepcopy(reg)
    else:
        reg.save(tmp_path / "m.skn")
        rebuilt = skneuron.load(tmp_path / "m.skn")
    np.testing.assert_array_equal(rebuilt.predict(X), expected)
    assert rebuilt.activation == "tanh"  # the parameters travel as set


def test_warm_start_and_partial_fit_refuse_another_number_of_outputs(regression_data):
    X, y = regression_data
    two = np.c_[y, 2 * y]
    reg = TaskNeuronRegressor(**FAST, warm_start=True, random_state=0).fit(X, two)
    expected = reg.predict(X)
    with pytest.raises(ValueError, match="y has 1 output.*predicts 2"):
        reg.fit(X, y)
    np.testing.assert_array_equal(reg.predict(X), expected)  # the fitted model is kept
    reg = TaskNeuronRegressor(**FAST, random_state=0).partial_fit(X, y)
    with pytest.raises(ValueError, match="y has 2 output.*predicts 1"):
        reg.partial_fit(X, two)


def test_pickled_network_state_is_on_the_cpu(regression_data):
    X, y = regression_data
    reg = TaskNeuronRegressor(**FAST, random_state=0).fit(X, y)
    state = reg.__getstate__()
    assert all(isinstance(a, np.ndarray) for a in state["network_"].values())


def test_a_cuda_pickle_loads_on_a_cpu_machine(regression_data, monkeypatch):
    """A model whose device_ says CUDA unpickles onto the CPU when CUDA is absent."""
    X, y = regression_data
    reg = TaskNeuronRegressor(**FAST, **CPU, random_state=0).fit(X, y)
    expected = reg.predict(X)
    reg.device_ = torch.device("cuda")  # as if trained on a GPU machine
    state = pickle.dumps(reg)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.warns(UserWarning, match="loaded on the CPU"):
        loaded = pickle.loads(state)
    assert loaded.device_ == torch.device("cpu")
    np.testing.assert_array_equal(loaded.predict(X), expected)


def test_device_parameter(regression_data, monkeypatch):
    X, y = regression_data
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert TaskNeuronRegressor(**FAST, device="auto").fit(X, y).device_ == torch.device("cpu")
    with pytest.raises(ValueError, match="CUDA is not available"):
        TaskNeuronRegressor(**FAST, device="cuda").fit(X, y)
    with pytest.raises(ValueError, match="not a device"):
        TaskNeuronRegressor(**FAST, device="gpu-please").fit(X, y)


@pytest.fixture(scope="module")
def fitted_pair(regression_data, classification_data):
    """A regressor with every kind of term and a classifier, each with its training rows."""
    X, y = regression_data
    reg = TaskNeuronRegressor(**FAST, **CPU, formula="x + x**2 + inter(2) + sin(x)",
                              random_state=0)
    Xc, yc = classification_data
    clf = TaskNeuronClassifier(**FAST, **CPU, random_state=0).fit(Xc, yc)
    return (reg.fit(X, y).predict, X), (clf.predict_proba, Xc)


@pytest.mark.parametrize("batch", [1, 3, 64, 97])
def test_predictions_do_not_depend_on_batching(fitted_pair, batch):
    for predict, rows in fitted_pair:
        whole = predict(rows)
        batched = np.concatenate([predict(rows[i : i + batch]) for i in range(0, len(rows), batch)])
        np.testing.assert_array_equal(whole, batched)  # float32 network, same bits
        order = np.random.default_rng(batch).permutation(len(rows))
        np.testing.assert_array_equal(whole[order], predict(rows[order]))


def test_feature_names_are_recorded():
    pd = pytest.importorskip("pandas")
    X, y = make_regression(100, 3, random_state=0)
    frame = pd.DataFrame(X, columns=["age", "bmi", "bp"])
    reg = TaskNeuronRegressor(**FAST, random_state=0).fit(frame, y)
    assert list(reg.feature_names_in_) == ["age", "bmi", "bp"]


def test_verbose_prints_discovery_and_epochs(regression_data, capsys):
    X, y = regression_data
    TaskNeuronRegressor(hidden_layer_sizes=(8,), max_iter=3, verbose=True, random_state=0).fit(X, y)
    out = capsys.readouterr().out
    assert "TD discovery" in out
    assert out.count("Iteration") == 3



@pytest.mark.parametrize("estimator, n_outputs, targets", [
    (TaskNeuronRegressor(), 3, torch.randn(7, 3, dtype=torch.float64)),
    (TaskNeuronClassifier(), 1, torch.tensor([[0.0], [1], [1], [0], [1], [0], [0]],
                                             dtype=torch.float64)),
    (TaskNeuronClassifier(), 4, torch.tensor([2, 0, 1, 3, 3, 0, 1])),
], ids=["regression", "binary", "multiclass"])
def test_written_out_loss_gradients_are_autograds(estimator, n_outputs, targets):
    outputs = (3.0 * torch.randn(7, n_outputs, dtype=torch.float64)).requires_grad_()
    losses, gradients = estimator._loss_and_gradient(outputs.detach(), targets)
    expected_losses = estimator._loss(outputs, targets)
    (expected_gradients,) = torch.autograd.grad(expected_losses.sum(), outputs)
    assert losses.shape == (7,) and gradients.shape == outputs.shape
    torch.testing.assert_close(losses, expected_losses.detach(), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(gradients, expected_gradients, rtol=1e-12, atol=1e-12)


@pytest.mark.skipif(shutil.which(os.environ.get("CXX", "g++")) is None,
                    reason="torch.compile needs a C++ compiler on the CPU")
def test_compile_trains_a_classifier_like_the_uncompiled_one():
    X, y = load_iris(return_X_y=True)
    params = {"hidden_layer_sizes": (8,), "formula": "x + x**2", "max_iter": 5,
              "batch_size": 32, "random_state": 0, **CPU}  # the CPU's compiler
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="torch.compile failed")
        eager = TaskNeuronClassifier(**params).fit(X, y)
        compiled = TaskNeuronClassifier(compile=True, **params).fit(X, y)
    assert compiled.get_params()["compile"] is True
    np.testing.assert_allclose(compiled.predict_proba(X), eager.predict_proba(X),
                               rtol=1e-4, atol=1e-5)
    restored = pickle.loads(pickle.dumps(compiled))
    np.testing.assert_array_equal(restored.predict_proba(X), compiled.predict_proba(X))


def _body_dtype(model):
    return {p.dtype for p in model.network_.body.parameters()}


def test_small_fits_train_in_float64_and_keep_it(classification_data, tmp_path):
    X, y = classification_data
    n, params = FLOAT64_TRAINING_ROWS, {**FAST, **CPU, "formula": "x + x**2", "max_iter": 3}
    small = TaskNeuronClassifier(**params, random_state=0).fit(X[:n], y[:n])
    assert _body_dtype(small) == {torch.float64}
    assert _body_dtype(TaskNeuronClassifier(**params).fit(X[:n + 1], y[:n + 1])) == {torch.float32}
    streamed = TaskNeuronClassifier(**params).partial_fit(X[:n], y[:n], classes=["no", "yes"])
    assert _body_dtype(streamed) == {torch.float32}  # later batches may be large
    small.save(tmp_path / "small.skn")
    for restored in (pickle.loads(pickle.dumps(small)), skneuron.load(tmp_path / "small.skn")):
        assert _body_dtype(restored) == {torch.float64}
        np.testing.assert_array_equal(restored.predict_proba(X), small.predict_proba(X))
    small.set_params(warm_start=True).fit(X, y)  # a continued fit keeps the network's precision
    assert _body_dtype(small) == {torch.float64}


def test_too_few_samples_for_the_members_folds_says_so_in_scikit_learns_words(regression_data):
    X, y = regression_data
    # check_fit2d_1sample looks for "1 sample" (with early_stopping=True it reaches the folds)
    with pytest.raises(ValueError, match="1 sample.* validation fold"):
        TaskNeuronRegressor(early_stopping=True).fit(X[:1], y[:1])
