"""Save a fitted model safely, load it back, and export it for serving.

Run: ``python examples/save_and_load.py`` (a few seconds; the ONNX part needs
``pip install "skneuron[onnx]"`` and is skipped without it).
"""

import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_wine
from sklearn.model_selection import train_test_split

import skneuron
from skneuron import TaskNeuronClassifier

X, y = load_wine(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
clf = TaskNeuronClassifier(hidden_layer_sizes=(32,), max_iter=200, random_state=0)
clf.fit(X_train, y_train)
print("formula:", clf.formula_)
print(f"test accuracy {clf.score(X_test, y_test):.3f}")

folder = Path(tempfile.mkdtemp())

# A safe model file: JSON manifest + tensors, no pickle; loading cannot run code.
clf.save(folder / "wine.skn")
restored = skneuron.load(folder / "wine.skn")
assert (restored.predict_proba(X_test) == clf.predict_proba(X_test)).all()
print(f"saved and loaded {folder / 'wine.skn'}: identical probabilities")

# TorchScript: the prediction path (standardisation, network, softmax) for torch.jit.load.
clf.export_torchscript(folder / "wine.pt", dtype="float64")
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit is deprecated upstream
    module = torch.jit.load(folder / "wine.pt")
proba = module(torch.as_tensor(X_test)).numpy()
assert np.allclose(proba, clf.predict_proba(X_test))
print("TorchScript probabilities match predict_proba")

# ONNX, run by onnxruntime.
try:
    import onnxruntime
except ImportError:
    print('ONNX skipped: pip install "skneuron[onnx]"')
else:
    clf.export_onnx(folder / "wine.onnx")
    session = onnxruntime.InferenceSession(folder / "wine.onnx",
                                           providers=["CPUExecutionProvider"])
    proba = session.run(None, {"X": X_test.astype(np.float32)})[0]
    labels = clf.classes_[proba.argmax(axis=1)]
    assert (labels == clf.predict(X_test)).all()
    print("onnxruntime predicts the same labels as predict")
