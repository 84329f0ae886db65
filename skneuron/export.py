"""Export a fitted estimator's network for serving without skneuron: TorchScript and ONNX.

The exported graph is the whole prediction path: the input standardisation
the estimator learned, the task-neuron network, and then the target
de-standardisation (regression) or the class probabilities (classification:
softmax, or the logistic function for two classes or per label of a
multilabel model). It reads raw rows of ``n_features_in_`` numbers:

- a regressor's graph returns ``(n_samples, n_outputs)`` predictions;
- a classifier's graph returns ``(n_samples, n_classes)`` probabilities in
  the order of ``classes_``; the predicted label is ``classes_[argmax]``
  (for a multilabel model, the labels' independent probabilities; a label is
  set where its probability exceeds one half).

A row of a table is those numbers as ``fit`` codes them: a numeric or
boolean column's value (``NaN`` where missing), a date-time's seconds since
1970-01-01 UTC, and for a categorical column the index of its value in the
column's list in ``categories`` (``NaN`` where missing or not seen in
``fit``).

The class labels, feature names, categories and formula travel with the
file: as the ``skneuron.json`` extra file of a TorchScript archive, as
``metadata_props`` of an ONNX model.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import os
import warnings

import torch
from torch import nn

__all__ = ["PredictionModule", "export_onnx", "export_torchscript", "prediction_module"]

_DTYPES = {"float32": torch.float32, "float64": torch.float64}


class PredictionModule(nn.Module):
    """A fitted network with its output turned into predictions or probabilities.

    Parameters
    ----------
    network : torch.nn.Module
        Raw inputs to raw outputs, standardisation included (the estimator's
        ``network_``, a :class:`~skneuron.nn.Standardized`).
    output : {"identity", "logistic", "softmax", "multilabel"}
        ``"logistic"`` maps one logit to the two columns ``[1 − p, p]``;
        ``"multilabel"`` maps every logit to its label's probability.

    See Also
    --------
    prediction_module : Build one from a fitted estimator.

    Examples
    --------
    >>> import torch
    >>> from skneuron.export import PredictionModule
    >>> module = PredictionModule(torch.nn.Linear(2, 1), "logistic")
    >>> module(torch.zeros(3, 2)).shape
    torch.Size([3, 2])
    """

    def __init__(self, network: nn.Module, output: str):
        super().__init__()
        if output not in ("identity", "logistic", "softmax", "multilabel"):
            raise ValueError("output must be 'identity', 'logistic', 'softmax' or 'multilabel'; "
                             f"got {output!r}.")
        self.network = network
        self.output = output

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Predictions (``"identity"``) or class probabilities for raw inputs ``x``.

        Parameters
        ----------
        x : torch.Tensor of shape (n_samples, n_inputs)
            Raw inputs.

        Returns
        -------
        torch.Tensor of shape (n_samples, n_outputs)
            For ``"logistic"``, two columns: ``[1 − p, p]``; for
            ``"multilabel"``, one probability per label.
        """
        out = self.network(x)
        if self.output == "softmax":
            return torch.softmax(out, dim=1)
        if self.output == "logistic":  # sigmoid(±z), accurate in both tails
            return torch.cat([torch.sigmoid(-out), torch.sigmoid(out)], dim=1)
        if self.output == "multilabel":
            return torch.sigmoid(out)
        return out


def prediction_module(estimator, *, dtype: str = "float32") -> PredictionModule:
    """A standalone copy of ``estimator``'s network on the CPU, in eval mode, without gradients.

    Parameters
    ----------
    estimator : TaskNeuronRegressor or TaskNeuronClassifier
        A fitted estimator.
    dtype : {"float32", "float64"}, default="float32"
        Precision of the weights and of the input the module expects.

    Returns
    -------
    PredictionModule
        Raw rows in, predictions (regressor) or class probabilities in the
        order of ``classes_`` (classifier) out; what :func:`export_torchscript`
        and :func:`export_onnx` write.

    Examples
    --------
    >>> import torch
    >>> from sklearn.datasets import load_iris
    >>> from skneuron import TaskNeuronClassifier
    >>> from skneuron.export import prediction_module
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = TaskNeuronClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0).fit(X, y)
    >>> module = prediction_module(clf, dtype="float64")
    >>> bool(torch.allclose(module(torch.as_tensor(X)), torch.as_tensor(clf.predict_proba(X))))
    True
    """
    from sklearn.base import is_classifier
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(estimator, "network_")
    if dtype not in _DTYPES:
        raise ValueError(f"dtype must be 'float32' or 'float64'; got {dtype!r}.")
    network = copy.deepcopy(estimator.network_).to(device="cpu", dtype=_DTYPES[dtype])
    if is_classifier(estimator) and estimator._is_multilabel():
        output = "multilabel"
    elif is_classifier(estimator):
        output = "logistic" if len(estimator.classes_) == 2 else "softmax"
    else:
        output = "identity"
    module = PredictionModule(network, output).eval()
    for parameter in module.parameters():
        parameter.requires_grad_(False)
    return module


def _metadata(estimator, dtype: str) -> dict:
    from skneuron._version import __version__

    classes = getattr(estimator, "classes_", None)
    names = getattr(estimator, "feature_names_in_", None)
    categories = getattr(estimator, "categories_", None) or [None] * estimator.n_features_in_
    return {
        "estimator": type(estimator).__name__,
        "skneuron_version": __version__,
        "formula": " + ".join(estimator.formula_.terms),
        "n_features_in": int(estimator.n_features_in_),
        "feature_names": None if names is None else [str(n) for n in names],
        "classes": None if classes is None else [_plain(c) for c in classes],
        "categories": [None if values is None else [_plain(v) for v in values]
                       for values in categories],
        "output": "probabilities" if classes is not None else "predictions",
        "dtype": dtype,
    }


def _plain(value):
    value = value.item() if hasattr(value, "item") else value
    return value if isinstance(value, (str, int, float, bool)) else str(value)


class _WidthChecked(nn.Module):
    """A traced module that refuses rows of another width than its own.

    A trace keeps no check written in Python: without this, an exported
    model read a row with an extra leading column (an id) as shifted features.
    """

    def __init__(self, traced: nn.Module, n_inputs: int):
        super().__init__()
        self.traced = traced
        self.n_inputs = n_inputs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 2 or x.size(1) != self.n_inputs:
            raise ValueError("expected rows of " + str(self.n_inputs) + " columns, got shape "
                             + str(list(x.shape)))
        return self.traced(x)


def _example(estimator, dtype: str) -> torch.Tensor:
    return torch.zeros(2, estimator.n_features_in_, dtype=_DTYPES[dtype])


def export_torchscript(estimator, path: str | os.PathLike, *, dtype: str = "float32") -> None:
    """Save ``estimator``'s prediction path as a TorchScript archive.

    Load it with ``torch.jit.load(path)`` (in Python or in C++ with
    libtorch); it maps an ``(n, n_features_in_)`` tensor of ``dtype`` to
    predictions or class probabilities (see :mod:`skneuron.export`). The
    ``skneuron.json`` extra file holds the classes, feature names and formula.

    Parameters
    ----------
    estimator : TaskNeuronRegressor or TaskNeuronClassifier
        A fitted estimator.
    path : str or path-like
        Output file, ``.pt`` by convention.
    dtype : {"float32", "float64"}, default="float32"
        Precision of the exported weights and expected input. ``predict``
        runs the trained float32 weights between float64 scalings; either
        export agrees with it to float32 rounding (about 1e-6 relative).

    Notes
    -----
    The module is traced (the network has no data-dependent control flow).
    Recent torch versions mark ``torch.jit`` as deprecated in favour of
    ``torch.export``; the deprecation warnings of the export itself are
    silenced here, and ONNX (:func:`export_onnx`) is the forward-looking format.

    Examples
    --------
    >>> import os, tempfile, warnings, torch
    >>> from sklearn.datasets import make_regression
    >>> from skneuron import TaskNeuronRegressor
    >>> X, y = make_regression(100, 3, random_state=0)
    >>> reg = TaskNeuronRegressor(hidden_layer_sizes=(8,), max_iter=5, random_state=0).fit(X, y)
    >>> path = os.path.join(tempfile.mkdtemp(), "reg.pt")
    >>> reg.export_torchscript(path, dtype="float64")
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", DeprecationWarning)
    ...     module = torch.jit.load(path)
    >>> exported = module(torch.as_tensor(X))[:, 0]  # float64 throughout; predict's body: float32
    >>> bool(torch.allclose(exported, torch.as_tensor(reg.predict(X)), rtol=1e-4, atol=1e-4))
    True
    """
    module = prediction_module(estimator, dtype=dtype)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"torch\.")
        # The shapes the forward pass reads (members, outputs) are the model's constants.
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        with torch.no_grad():  # the prediction path, as ``predict`` runs it
            traced = torch.jit.trace(module, _example(estimator, dtype))
        checked = torch.jit.script(_WidthChecked(traced, estimator.n_features_in_))
        torch.jit.save(checked, os.fspath(path),
                       _extra_files={"skneuron.json": json.dumps(_metadata(estimator, dtype))})


def export_onnx(estimator, path: str | os.PathLike, *, dtype: str = "float32") -> None:
    """Save ``estimator``'s prediction path as an ONNX model (needs ``skneuron[onnx]``).

    The graph has one input ``"X"`` of shape ``(batch, n_features_in_)`` and
    one output, ``"predictions"`` (regression) or ``"probabilities"``
    (classification); the batch size is dynamic. The model's
    ``metadata_props`` hold ``"skneuron"``: a JSON text with the classes,
    feature names and formula.

    Parameters
    ----------
    estimator : TaskNeuronRegressor or TaskNeuronClassifier
        A fitted estimator.
    path : str or path-like
        Output file, ``.onnx`` by convention.
    dtype : {"float32", "float64"}, default="float32"
        Precision of the exported weights and of the input ``"X"``.

    Raises
    ------
    ImportError
        If ``onnx`` or ``onnxscript`` is not installed.

    Notes
    -----
    Uses torch's ``torch.export``-based ONNX exporter (``dynamo=True``),
    which needs the ``onnx`` and ``onnxscript`` packages;
    ``pip install "skneuron[onnx]"`` installs them and ``onnxruntime``.

    Examples
    --------
    >>> import json, os, tempfile
    >>> import numpy as np, onnxruntime
    >>> from sklearn.datasets import load_iris
    >>> from skneuron import TaskNeuronClassifier
    >>> from skneuron.export import export_onnx
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = TaskNeuronClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0).fit(X, y)
    >>> path = os.path.join(tempfile.mkdtemp(), "iris.onnx")
    >>> export_onnx(clf, path)
    >>> session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    >>> proba = session.run(None, {"X": X.astype(np.float32)})[0]
    >>> proba.shape, bool(np.allclose(proba, clf.predict_proba(X), atol=1e-5))
    ((150, 3), True)
    >>> json.loads(session.get_modelmeta().custom_metadata_map["skneuron"])["classes"]
    [0, 1, 2]
    """
    try:
        import onnx
        import onnxscript  # noqa: F401  (torch's exporter needs it)
    except ImportError as exc:
        raise ImportError(
            f"export_onnx needs the onnx extra ({exc.name} is missing): "
            'pip install "skneuron[onnx]"'
        ) from None
    module = prediction_module(estimator, dtype=dtype)
    output = "probabilities" if hasattr(estimator, "classes_") else "predictions"
    with _quiet_exporter():
        program = torch.onnx.export(
            module, (_example(estimator, dtype),), dynamo=True, input_names=["X"],
            output_names=[output], dynamic_shapes={"x": {0: torch.export.Dim("batch")}},
            verbose=False,
        )
    model = program.model_proto
    onnx.helper.set_model_props(model, {"skneuron": json.dumps(_metadata(estimator, dtype))})
    onnx.save(model, os.fspath(path))


@contextlib.contextmanager
def _quiet_exporter():
    """Silence the exporter's log lines and deprecation chatter about torch internals."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", torch.jit.TracerWarning)  # as in the TorchScript export
            yield
    finally:
        logger.setLevel(level)
