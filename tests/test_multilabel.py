"""Multilabel classification: an indicator ``y`` gets one independent logistic output per label."""

import pickle
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.datasets import make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skneuron
import skneuron._estimators as estimators
from skneuron import TaskNeuronClassifier
from skneuron.export import prediction_module

FAST = {"hidden_layer_sizes": (16,), "max_iter": 20, "batch_size": 32, "random_state": 0}

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def data():
    X, Y = make_multilabel_classification(300, 6, n_classes=4, random_state=0)
    return X, Y


@pytest.fixture(scope="module")
def fitted(data):
    X, Y = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return TaskNeuronClassifier(**FAST).fit(X, Y)


def test_predict_and_predict_proba_shapes_and_consistency(fitted, data):
    X, Y = data
    np.testing.assert_array_equal(fitted.classes_, np.arange(4))
    assert fitted.network_.body(torch.zeros(1, 6)).shape[-1] == 4
    proba = fitted.predict_proba(X)
    predicted = fitted.predict(X)
    assert proba.shape == Y.shape and predicted.shape == Y.shape
    assert predicted.dtype == np.int64 and set(np.unique(predicted)) <= {0, 1}
    assert ((proba > 0) & (proba < 1)).all()
    assert not np.allclose(proba.sum(axis=1), 1)  # independent labels, not a softmax
    np.testing.assert_array_equal(predicted, (proba > 0.5).astype(int))
    np.testing.assert_allclose(np.exp(fitted.predict_log_proba(X)), proba, rtol=1e-12)


def test_the_members_average_each_labels_probability(fitted, data):
    X, _ = data
    assert fitted.n_members == 4
    network = fitted.network_
    with torch.inference_mode():
        features = network.inputs(torch.as_tensor(X))
        logits = network.body(features.to(torch.float32)).to(torch.float64)
    assert logits.shape == (4, len(X), 4)
    expected = torch.sigmoid(logits).mean(dim=0).numpy()
    np.testing.assert_allclose(fitted.predict_proba(X), expected, rtol=1e-5, atol=1e-7)


def test_score_is_comparable_with_mlp_classifier():
    X, Y = make_multilabel_classification(600, 10, n_classes=4, random_state=0)
    train, test = slice(0, 450), slice(450, None)
    ours = TaskNeuronClassifier(random_state=0, max_iter=100).fit(X[train], Y[train])
    mlp = make_pipeline(StandardScaler(), MLPClassifier(random_state=0, max_iter=300))
    mlp.fit(X[train], Y[train])
    # subset accuracy, as ClassifierMixin.score gives it for multilabel targets
    assert ours.score(X[test], Y[test]) >= mlp.score(X[test], Y[test]) - 0.05
    np.testing.assert_array_equal(ours.classes_, mlp[-1].classes_)


def test_discovery_reads_the_indicator_columns_as_targets(data, monkeypatch):
    X, Y = data
    seen = {}
    real = estimators.discover_formula

    def spy(X_std, targets, **options):
        seen["targets"] = targets
        return real(X_std, targets, **options)

    monkeypatch.setattr(estimators, "discover_formula", spy)
    TaskNeuronClassifier(**{**FAST, "max_iter": 1}, early_stopping=False).fit(X, Y)
    np.testing.assert_array_equal(seen["targets"], Y.astype(float))


def test_loss_is_the_sum_of_the_labels_log_losses_with_autograds_gradient():
    clf = TaskNeuronClassifier()
    clf._multilabel, clf.classes_ = True, np.arange(3)
    outputs = (3.0 * torch.randn(2, 7, 3, dtype=torch.float64)).requires_grad_()  # 2 members
    targets = torch.randint(0, 2, (7, 3)).to(torch.float64)
    losses, gradients = clf._loss_and_gradient(outputs.detach(), targets)
    expected = F.binary_cross_entropy_with_logits(
        outputs, targets.expand_as(outputs), reduction="none").sum(-1)
    (expected_gradients,) = torch.autograd.grad(expected.sum(), outputs)
    torch.testing.assert_close(losses, expected.detach(), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(gradients, expected_gradients, rtol=1e-12, atol=1e-12)
    # early stopping monitors the mean log-likelihood of the label sets (higher is better)
    score = clf._validation_score(outputs.detach()[0], targets)
    torch.testing.assert_close(score, -expected.detach()[0].mean())
    weights = torch.rand(2, 7, dtype=torch.float64)
    per_member = clf._validation_score(outputs.detach(), targets, weights)
    torch.testing.assert_close(per_member, -(expected.detach() * weights).sum(-1) / weights.sum(-1))


def test_early_stopping_with_one_member_monitors_the_log_likelihood(data):
    X, Y = data
    clf = TaskNeuronClassifier(**FAST, n_members=1, early_stopping=True).fit(X, Y)
    assert clf.do_early_stopping_ and len(clf.validation_scores_) == clf.n_iter_
    assert all(score < 0 for score in clf.validation_scores_)
    assert clf.best_validation_score_ == max(clf.validation_scores_)


@pytest.mark.parametrize("representation", [list, lambda Y: [list(row) for row in Y],
                                            lambda Y: Y.astype(bool), lambda Y: Y.astype(float)],
                         ids=["list-of-arrays", "list-of-lists", "bool", "float"])
def test_every_representation_of_the_indicator_fits_the_same(fitted, data, representation):
    X, Y = data
    other = TaskNeuronClassifier(**FAST).fit(X, representation(Y))
    np.testing.assert_array_equal(other.predict_proba(X), fitted.predict_proba(X))


def test_round_trips_predict_the_same(fitted, data, tmp_path):
    X, _ = data
    expected = fitted.predict_proba(X)
    unpickled = pickle.loads(pickle.dumps(fitted))
    fitted.save(tmp_path / "model.skn")
    loaded = skneuron.load(tmp_path / "model.skn")
    for restored in (unpickled, loaded):
        np.testing.assert_array_equal(restored.predict_proba(X), expected)
        np.testing.assert_array_equal(restored.predict(X), fitted.predict(X))


def test_the_exported_module_returns_each_labels_probability(fitted, data):
    X, _ = data
    module = prediction_module(fitted, dtype="float64")
    with torch.inference_mode():
        proba = module(torch.as_tensor(X)).numpy()
    np.testing.assert_allclose(proba, fitted.predict_proba(X), rtol=1e-5, atol=1e-7)


def test_the_onnx_export_returns_each_labels_probability(fitted, data, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    X, _ = data
    path = tmp_path / "model.onnx"
    fitted.export_onnx(path, dtype="float64")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (proba,) = session.run(None, {"X": X.astype(np.float64)})
    np.testing.assert_allclose(proba, fitted.predict_proba(X), rtol=1e-5, atol=1e-7)


def test_warm_start_keeps_the_kind_of_target(data):
    X, Y = data
    clf = TaskNeuronClassifier(**{**FAST, "max_iter": 2}, warm_start=True).fit(X, Y)
    clf.fit(X, Y)
    assert clf.n_iter_ == 4
    with pytest.raises(ValueError, match="indicator matrix of 4 columns"):
        clf.fit(X, Y[:, 0])
    with pytest.raises(ValueError, match="warm_start keeps"):
        clf.fit(X, Y[:, :3])
    single = TaskNeuronClassifier(**{**FAST, "max_iter": 2}, warm_start=True).fit(X, Y[:, 0])
    with pytest.raises(ValueError, match="warm_start keeps the targets of the first fit"):
        single.fit(X, Y)


def test_the_estimator_declares_multilabel_support():
    assert TaskNeuronClassifier().__sklearn_tags__().classifier_tags.multi_label
