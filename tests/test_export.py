"""Exported networks predict what the estimators predict."""

import json
import warnings

import numpy as np
import pytest
import torch
from sklearn.datasets import load_iris, make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning

from skneuron import TaskNeuronClassifier, TaskNeuronRegressor

FAST = {"hidden_layer_sizes": (8,), "max_iter": 10, "batch_size": 32, "random_state": 0}


def _fit(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


@pytest.fixture(scope="module")
def models():
    X, y = make_regression(120, 4, random_state=0)
    y = 1000 + 50 * y  # far from standard scale: the export must de-standardise
    reg = _fit(TaskNeuronRegressor(**FAST, formula="x + x**2 + inter(2, rank=2) + sin(x)"), X, y)
    Xb, yb = make_classification(120, 4, n_informative=3, n_redundant=0, random_state=0)
    binary = _fit(TaskNeuronClassifier(**FAST), Xb, np.array(["no", "yes"])[yb])
    Xm, ym = load_iris(return_X_y=True)
    multi = _fit(TaskNeuronClassifier(**FAST), Xm, ym)
    return {"regressor": (reg, X), "binary": (binary, Xb), "multiclass": (multi, Xm)}


def _load_torchscript(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        files = {"skneuron.json": ""}
        return torch.jit.load(str(path), _extra_files=files), json.loads(files["skneuron.json"])


def _expected(estimator, X):
    if hasattr(estimator, "classes_"):
        return estimator.predict_proba(X)
    return estimator.predict(X).reshape(len(X), -1)


def _predicted_labels(classifier, probabilities):
    return classifier.classes_[probabilities.argmax(axis=1)]


def _assert_close_to_float32_rounding(outputs, expected):
    """``predict`` runs the trained float32 network; an export may run it in float64."""
    np.testing.assert_allclose(outputs, expected, rtol=1e-5, atol=1e-6 * np.abs(expected).max())


@pytest.mark.parametrize("name", ["regressor", "binary", "multiclass"])
def test_torchscript_in_float64_reproduces_predict(models, tmp_path, name):
    estimator, X = models[name]
    estimator.export_torchscript(tmp_path / "m.pt", dtype="float64")
    module, metadata = _load_torchscript(tmp_path / "m.pt")
    outputs = module(torch.as_tensor(X)).numpy()
    _assert_close_to_float32_rounding(outputs, _expected(estimator, X))
    if name != "regressor":
        np.testing.assert_array_equal(_predicted_labels(estimator, outputs), estimator.predict(X))
    assert metadata["estimator"] == type(estimator).__name__
    assert metadata["formula"] == " + ".join(estimator.formula_.terms)
    if name == "binary":
        assert metadata["classes"] == ["no", "yes"]


def test_torchscript_in_float32_is_close(models, tmp_path):
    reg, X = models["regressor"]
    reg.export_torchscript(tmp_path / "m.pt")
    module, _ = _load_torchscript(tmp_path / "m.pt")
    outputs = module(torch.as_tensor(X, dtype=torch.float32)).numpy()
    np.testing.assert_allclose(outputs[:, 0], reg.predict(X), rtol=1e-4, atol=1e-2)


def test_torchscript_refuses_rows_of_another_width(models, tmp_path):
    """A trace keeps no Python check: an extra id column in front was read as shifted features."""
    reg, X = models["regressor"]
    reg.export_torchscript(tmp_path / "m.pt", dtype="float64")
    module, _ = _load_torchscript(tmp_path / "m.pt")
    wider = torch.as_tensor(np.c_[np.arange(len(X)), X])
    with pytest.raises(Exception, match=f"expected rows of {X.shape[1]} columns"):
        module(wider)
    with pytest.raises(Exception, match="expected rows"):
        module(torch.as_tensor(X[0]))  # one row must be 2-D too


@pytest.mark.parametrize("name", ["regressor", "multiclass", "binary"])
def test_onnxruntime_reproduces_predict(models, tmp_path, name):
    pytest.importorskip("onnxscript")
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    estimator, X = models[name]
    path = tmp_path / "m.onnx"
    dtype = "float64" if name == "regressor" else "float32"
    estimator.export_onnx(path, dtype=dtype)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["X"]
    rows = X.astype(np.float64 if dtype == "float64" else np.float32)
    outputs = session.run(None, {"X": rows})[0]
    _assert_close_to_float32_rounding(outputs, _expected(estimator, X))
    if name != "regressor":
        np.testing.assert_array_equal(_predicted_labels(estimator, outputs), estimator.predict(X))
    assert session.run(None, {"X": rows[:1]})[0].shape[0] == 1  # the batch size is dynamic
    props = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert json.loads(props["skneuron"])["n_features_in"] == X.shape[1]


def test_export_needs_a_fitted_estimator_and_a_known_dtype(models, tmp_path):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        TaskNeuronRegressor().export_torchscript(tmp_path / "m.pt")
    with pytest.raises(ValueError, match="dtype"):
        models["regressor"][0].export_torchscript(tmp_path / "m.pt", dtype="float16")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_exports_ignore_a_column_that_did_not_vary_at_fit(tmp_path, dtype):
    """Its infinite scale survives both exports: the column reads as 0 there too."""
    X, y = make_regression(120, 3, random_state=0)
    X[:, 1] = 7.0
    reg = _fit(TaskNeuronRegressor(**FAST), X, y)
    reg.export_torchscript(tmp_path / "m.pt", dtype=dtype)
    module, _ = _load_torchscript(tmp_path / "m.pt")
    varied = X.copy()
    varied[:, 1] = np.linspace(-1e3, 1e3, len(X))
    torch_dtype = getattr(torch, dtype)
    outputs = module(torch.as_tensor(varied, dtype=torch_dtype)).numpy()[:, 0]
    np.testing.assert_allclose(outputs, reg.predict(X), rtol=1e-4, atol=1e-3 * np.abs(y).max())
    pytest.importorskip("onnxscript")
    ort = pytest.importorskip("onnxruntime")
    reg.export_onnx(tmp_path / "m.onnx", dtype=dtype)
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    outputs = session.run(None, {"X": varied.astype(dtype)})[0][:, 0]
    np.testing.assert_allclose(outputs, reg.predict(X), rtol=1e-4, atol=1e-3 * np.abs(y).max())
