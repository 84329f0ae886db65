"""Safe model files: save, load, and refusal of anything but plain data and tensors."""

import hashlib
import io
import json
import os
import pickle
import warnings
import zipfile

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning, NotFittedError

import skneuron
from skneuron import NeuronFormula, TaskNeuronClassifier, TaskNeuronRegressor
from skneuron.persistence import ModelVersionWarning, read_manifest, save

FAST = {"hidden_layer_sizes": (8,), "max_iter": 5, "batch_size": 32, "random_state": 0}


# Short test fits stop at max_iter on purpose.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def regressor():
    X, y = make_regression(120, 4, n_targets=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return TaskNeuronRegressor(**FAST, early_stopping=True).fit(X, y), X


@pytest.fixture(scope="module")
def classifier():
    pd = pytest.importorskip("pandas")
    X, y = make_classification(150, 5, n_informative=3, n_classes=3, random_state=0)
    X = pd.DataFrame(X, columns=[f"f{i}" for i in range(5)])
    labels = np.array(["low", "mid", "high"], dtype=object)[y]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return TaskNeuronClassifier(**FAST, formula="x + sin(x) + inter(2, rank=2)").fit(X, labels), X


def _raw_manifest(path):
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read("manifest.json"))


def _rewrite(path, manifest=None, weights=None, extra=None):
    """Replace members of a model file, as someone tampering with it would."""
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    if manifest is not None:
        members["manifest.json"] = json.dumps(manifest).encode()
    if weights is not None:
        members["weights.pt"] = weights
    members.update(extra or {})
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def test_regressor_round_trip_restores_the_fitted_estimator(regressor, tmp_path):
    reg, X = regressor
    path = tmp_path / "reg.skn"
    reg.save(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # same versions: no warning
        restored = skneuron.load(path)
    assert type(restored) is TaskNeuronRegressor
    np.testing.assert_array_equal(restored.predict(X), reg.predict(X))
    assert restored.get_params() == reg.get_params()
    assert restored.formula_ == reg.formula_
    assert restored.n_features_in_ == 4 and restored.n_outputs_ == 2
    assert restored.loss_curve_ == reg.loss_curve_ and restored.n_iter_ == reg.n_iter_
    assert restored.validation_scores_ == reg.validation_scores_
    assert restored.best_validation_score_ == reg.best_validation_score_
    assert restored.discovery_.term_probabilities == reg.discovery_.term_probabilities
    assert restored.discovery_.formula == reg.discovery_.formula
    assert restored.device_ == reg.device_
    assert {p.dtype for p in restored.network_.parameters()} == {torch.float32}  # as trained
    assert restored.network_.inputs.center.dtype == torch.float64


def test_classifier_round_trip_keeps_labels_and_feature_names(classifier, tmp_path):
    clf, X = classifier
    path = tmp_path / "clf.skn"
    clf.save(path)
    restored = skneuron.load(path)
    np.testing.assert_array_equal(restored.classes_, clf.classes_)
    assert restored.classes_.dtype == clf.classes_.dtype
    np.testing.assert_array_equal(restored.feature_names_in_, clf.feature_names_in_)
    np.testing.assert_array_equal(restored.predict(X), clf.predict(X))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    assert restored.formula_.functions == ("sin(x)",)
    with pytest.raises(ValueError, match="feature names"):  # names are checked like any fit
        restored.predict(X.rename(columns={"f0": "other"}))


def test_warm_start_continues_from_a_loaded_model(tmp_path):
    X, y = make_regression(100, 3, random_state=1)
    # Two fits continued alike give the same bits: a CPU promise.
    reg = TaskNeuronRegressor(**FAST, warm_start=True, device="cpu").fit(X, y)
    reg.save(tmp_path / "m.skn")
    restored = skneuron.load(tmp_path / "m.skn")
    reg.fit(X, y)
    restored.fit(X, y)
    np.testing.assert_array_equal(restored.predict(X), reg.predict(X))
    assert restored.n_iter_ == reg.n_iter_ == 10


def test_manifest_is_readable_json_with_versions_and_metadata(regressor, tmp_path):
    reg, _ = regressor
    save(reg, tmp_path / "m.skn", metadata={"target": "price", "cv": [0.5, 0.75]})
    manifest = read_manifest(tmp_path / "m.skn")
    assert manifest["versions"]["skneuron"] == skneuron.__version__
    assert manifest["versions"]["torch"] == torch.__version__
    assert manifest["metadata"] == {"target": "price", "cv": [0.5, 0.75]}
    assert manifest["model"]["class"] == "TaskNeuronRegressor"


def test_version_mismatch_warns(regressor, tmp_path):
    reg, X = regressor
    path = tmp_path / "m.skn"
    reg.save(path)
    manifest = _raw_manifest(path)
    manifest["versions"]["skneuron"] = "0.0.1"
    _rewrite(path, manifest=manifest)
    with pytest.warns(ModelVersionWarning, match=r"skneuron 0\.0\.1") as record:
        restored = skneuron.load(path)
    assert record[0].message.differences == {"skneuron": ("0.0.1", skneuron.__version__)}
    assert record[0].filename == __file__  # the warning points at load's caller
    np.testing.assert_array_equal(restored.predict(X), reg.predict(X))


class _Payload:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def test_a_pickle_planted_in_the_weights_is_refused(regressor, tmp_path):
    reg, _ = regressor
    path = tmp_path / "m.skn"
    reg.save(path)
    evil = io.BytesIO()
    torch.save({"arrays": {}, "networks": {}, "x": _Payload()}, evil)
    manifest = _raw_manifest(path)
    manifest["weights_sha256"] = hashlib.sha256(evil.getvalue()).hexdigest()
    _rewrite(path, manifest=manifest, weights=evil.getvalue())
    with pytest.raises(ValueError, match="refusing to load its weights"):
        skneuron.load(path)


def test_changed_weights_fail_the_checksum(regressor, tmp_path):
    reg, _ = regressor
    path = tmp_path / "m.skn"
    reg.save(path)
    with zipfile.ZipFile(path) as archive:
        weights = bytearray(archive.read("weights.pt"))
    weights[-30] ^= 0xFF
    _rewrite(path, weights=bytes(weights))
    with pytest.raises(ValueError, match="modified or damaged"):
        skneuron.load(path)


@pytest.mark.parametrize("tamper, message", [
    (lambda m: m["model"].update({"class": "Popen"}), "not one of skneuron's estimators"),
    (lambda m: m["model"]["fitted"].update({"formula_": {"formula": {
        "functions": ["__import__('os').system('echo pwned')"]}}}), "invalid formula term"),
    (lambda m: m["model"]["fitted"].update({"n_iter_": {"pickle": "gASV"}}), "unknown content"),
    (lambda m: m["model"]["params"].update({"surprise": 1}), "no parameter"),
    # a file from before the column kinds were recorded: the network's shape refuses it
    (lambda m: (m["model"]["fitted"].pop("_numeric_kinds"),
                m["model"]["fitted"].update({"n_features_in_": 7})), "do not fit the network"),
    (lambda m: m["model"]["fitted"].update({"n_features_in_": 7}),
     "_numeric_kinds holds 4 kinds for n_features_in_=7"),
    (lambda m: m["model"]["fitted"].update({"_numeric_kinds": ["number", "os.system"]}),
     "_numeric_kinds must be a list of column kinds"),
    (lambda m: m.update({"format_version": 99}), "Upgrade skneuron"),
    (lambda m: m["model"]["fitted"].update({"predict": 1}), "unexpected attribute 'predict'"),
    # training state save never writes, which partial_fit would read unchecked
    (lambda m: m["model"]["fitted"].update({"_optimizer": {"dict": {"foo": 1}}}),
     "unexpected attribute '_optimizer'"),
    (lambda m: m["model"]["fitted"].update({"_architecture": {"tuple": [
        {"tuple": [8]}, "gelu", 1]}}), "_architecture must be"),
    (lambda m: m["model"]["fitted"].update({"_architecture": [[8], "relu", 1]}),
     "_architecture must be"),
])
def test_tampered_manifests_are_refused(regressor, tmp_path, tamper, message):
    reg, _ = regressor
    path = tmp_path / "m.skn"
    reg.save(path)
    manifest = _raw_manifest(path)
    tamper(manifest)
    _rewrite(path, manifest=manifest)
    with pytest.raises(ValueError, match=message):
        skneuron.load(path)


def test_extra_members_and_non_model_files_are_refused(regressor, tmp_path):
    reg, _ = regressor
    path = tmp_path / "m.skn"
    reg.save(path)
    _rewrite(path, extra={"payload.pkl": pickle.dumps(1)})
    with pytest.raises(ValueError, match="expected exactly"):
        skneuron.load(path)
    (tmp_path / "text.skn").write_text("hello")
    with pytest.raises(ValueError, match="not a skneuron model file"):
        skneuron.load(tmp_path / "text.skn")
    with pytest.raises(FileNotFoundError):
        skneuron.load(tmp_path / "missing.skn")
    with pytest.raises(IsADirectoryError, match="Is a directory, not a model file"):
        skneuron.load(tmp_path)


def test_what_the_format_cannot_hold_is_a_clear_error_at_save(tmp_path):
    X, y = make_classification(80, 3, n_informative=2, n_redundant=0, random_state=0)
    labels = np.array(["2020-01-01", "2021-01-01"], dtype="datetime64[D]")[y]
    clf = TaskNeuronClassifier(**FAST).fit(X, labels)
    with pytest.raises(ValueError, match="classes_ is an array of dtype datetime64.*joblib"):
        clf.save(tmp_path / "m.skn")
    assert not (tmp_path / "m.skn").exists()
    with pytest.raises(NotFittedError):
        TaskNeuronRegressor().save(tmp_path / "m.skn")


def test_a_pipeline_of_encoder_and_estimator_round_trips(tmp_path):
    pd = pytest.importorskip("pandas")
    from sklearn.pipeline import make_pipeline

    from skneuron.preprocessing import TabularEncoder

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"size": rng.normal(size=90), "colour": rng.choice(["r", "g", "b"], 90)})
    y = frame["size"] + (frame["colour"] == "r")
    pipe = make_pipeline(TabularEncoder(), TaskNeuronRegressor(**FAST)).fit(frame, y)
    save(pipe, tmp_path / "p.skn")
    restored = skneuron.load(tmp_path / "p.skn")
    np.testing.assert_array_equal(restored.predict(frame), pipe.predict(frame))
    assert restored[0].categories_ == {"colour": ["b", "g", "r"]}


def test_function_terms_keep_their_weights_through_save_and_load(tmp_path):
    """A term whose first canonical text read back as another once reordered the terms on
    loading, so each weight was applied to the other term (bug bash H1)."""
    unstable = "exp((((x+((0.5+x)*(3/x)))*(x*(2.5+(x/x))))/(x)**2))"
    X = np.random.default_rng(0).uniform(1, 3, (60, 2))
    y = np.sin(1 / X[:, 0]) + X[:, 1]
    reg = TaskNeuronRegressor(hidden_layer_sizes=(4,), max_iter=3, random_state=0,
                              formula=f"x + {unstable} + exp((3.5*x + 2)/x)").fit(X, y)
    path = tmp_path / "model.skn"
    reg.save(path)
    restored = skneuron.load(path)
    assert restored.formula_ == reg.formula_
    assert restored.formula_.functions == reg.formula_.functions
    np.testing.assert_array_equal(restored.predict(X), reg.predict(X))
    copied = pickle.loads(pickle.dumps(reg))
    np.testing.assert_array_equal(copied.predict(X), reg.predict(X))


def test_function_terms_that_do_not_read_back_as_saved_are_refused(tmp_path):
    X = np.random.default_rng(0).normal(size=(40, 2))
    reg = TaskNeuronRegressor(hidden_layer_sizes=(4,), max_iter=2, random_state=0,
                              formula="x + sin(x) + cos(x)").fit(X, X[:, 0])
    path = tmp_path / "model.skn"
    reg.save(path)
    manifest = _raw_manifest(path)
    manifest["model"]["fitted"]["formula_"]["formula"]["functions"] = ["sin(x)", "cos(x)"]
    _rewrite(path, manifest=manifest)
    with pytest.raises(skneuron.persistence.ModelFileError,
                       match="read back as \\('cos\\(x\\)', 'sin\\(x\\)'\\).* wrong terms"):
        skneuron.load(path)
    state = reg.formula_.__getstate__() | {"functions": ("sin(x)", "cos(x)")}
    with pytest.raises(ValueError, match="wrong terms"):  # pickle and skops.io.load
        NeuronFormula.__new__(NeuronFormula).__setstate__(state)


@pytest.mark.parametrize("classes, message", [
    ({"items": ["high", "low", "mid"], "dtype": "<U1"}, "do not fit its dtype <U1"),  # cut to 'h'...
    ({"items": ["high", "high", "mid"], "dtype": "<U4"}, "distinct, sorted labels"),
    ({"items": ["mid", "low", "high"], "dtype": "<U4"}, "distinct, sorted labels"),
])
def test_labels_that_predict_would_misread_are_refused(classifier, tmp_path, classes, message):
    """predict indexes classes_ by position (and searchsorted): labels cut short, repeated
    or out of order would load and predict the wrong label for every row."""
    clf, _ = classifier
    path = tmp_path / "m.skn"
    clf.save(path)
    manifest = _raw_manifest(path)
    assert manifest["model"]["fitted"]["classes_"]["items"] == ["high", "low", "mid"]
    manifest["model"]["fitted"]["classes_"] = classes
    _rewrite(path, manifest=manifest)
    with pytest.raises(ValueError, match=message):
        skneuron.load(path)
