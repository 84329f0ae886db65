"""
Save, load and export a model
=============================

A fitted estimator is written to a safe model file with ``save`` and read back
with :func:`skneuron.load` — no pickle, so loading a file cannot run code —
and its prediction path is exported for serving without skneuron: TorchScript
with :meth:`~skneuron.TaskNeuronClassifier.export_torchscript`, ONNX with
:meth:`~skneuron.TaskNeuronClassifier.export_onnx`. The file format is
described in :doc:`/user_guide/saving`.

Run: ``python examples/save_and_load.py`` (the ONNX part needs
``pip install "skneuron[onnx]"`` and is skipped without it).
"""

# %%
# Fit
# ---
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

import skneuron
from skneuron import TaskNeuronClassifier
from skneuron.persistence import read_manifest, save

# The fit runs all 200 epochs (max_iter=200): the held-out loss is still improving at the
# end, so early stopping never ends it and fit warns that it has not converged. Fine for
# this example.
warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, y = load_wine(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
clf = TaskNeuronClassifier(hidden_layer_sizes=(32,), max_iter=200, random_state=0)
clf.fit(X_train, y_train)
print("formula:", clf.formula_)
print(f"test accuracy {clf.score(X_test, y_test):.3f}")

folder = Path(tempfile.mkdtemp())

# %%
# A safe model file
# -----------------
# ``clf.save(path)`` writes a zip archive of a JSON manifest (class,
# parameters, fitted attributes, library versions) and the tensors, read back
# with ``torch.load(weights_only=True)``. The loaded model predicts exactly as
# the saved one.
clf.save(folder / "wine.skn")
restored = skneuron.load(folder / "wine.skn")
assert (restored.predict_proba(X_test) == clf.predict_proba(X_test)).all()
print("saved and loaded wine.skn: identical probabilities")

# %%
# The function :func:`skneuron.persistence.save` also stores metadata of your
# own (plain JSON data), which :func:`~skneuron.persistence.read_manifest`
# returns without building the model.
accuracy = round(float(clf.score(X_test, y_test)), 3)
save(clf, folder / "wine.skn", metadata={"data": "load_wine", "test_accuracy": accuracy})
manifest = read_manifest(folder / "wine.skn")
print("manifest:", manifest["model"]["class"], manifest["metadata"])
print("saved with torch", manifest["versions"]["torch"])

# %%
# TorchScript
# -----------
# The exported module is the whole prediction path: input standardisation, the
# network and the softmax. It reads raw rows and returns class probabilities
# in the order of ``classes_``; ``dtype="float64"`` reproduces
# ``predict_proba`` on the CPU.
clf.export_torchscript(folder / "wine.pt", dtype="float64")
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit is deprecated upstream
    module = torch.jit.load(folder / "wine.pt")
proba = module(torch.as_tensor(X_test)).numpy()
assert np.allclose(proba, clf.predict_proba(X_test))
print("TorchScript probabilities match predict_proba")

# %%
# ONNX
# ----
# The ONNX graph has one input ``"X"`` (float32 by default) and one output,
# ``"probabilities"`` for a classifier; onnxruntime runs it.
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
