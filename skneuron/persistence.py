"""Safe model files: :func:`save` and :func:`load` without pickle.

A model file (``.skn`` by convention) is a zip archive of two members:

- ``manifest.json``: the estimator's class, its parameters, its fitted
  attributes as plain data, the library versions it was saved with, optional
  user metadata and the SHA-256 of the weights;
- ``weights.pt``: a dictionary of tensors — the network's ``state_dict`` and
  the numeric arrays among the fitted attributes — read back with
  ``torch.load(weights_only=True)``.

Loading never unpickles arbitrary objects: only the estimator classes of this
package (and a :class:`~sklearn.pipeline.Pipeline` of them, such as the one
the command line fits) can be named, every value is decoded from a small set
of tagged plain-data forms, and the network is rebuilt from the formula and
then given the saved weights. A file that names anything else, holds
unexpected members or whose weights do not match the manifest's checksum is
refused with a :class:`ValueError`. Pickle and joblib keep working for
everything this format cannot express (e.g. estimators inside arbitrary
pipelines, or class labels that are not numbers or strings).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import platform
import re
import warnings
import zipfile
from numbers import Integral, Real
from typing import Any

import numpy as np
import torch

__all__ = ["ModelVersionWarning", "load", "read_manifest", "save"]

#: Written in every manifest; files of a newer format version are refused.
FORMAT = "skneuron-model"
FORMAT_VERSION = 1
MANIFEST, WEIGHTS = "manifest.json", "weights.pt"


class ModelVersionWarning(UserWarning):
    """A model file was saved with other library versions than the ones running.

    :func:`load` issues it when the versions of skneuron, torch, scikit-learn
    or numpy recorded in the manifest differ from the running ones (the
    Python version is recorded but not compared). The model is loaded all
    the same.

    Parameters
    ----------
    message : str
        The warning's text: the differing versions and what to do.
    differences : dict of str to (str, str)
        For each library that differs, ``(saved version, running version)``.

    Attributes
    ----------
    differences : dict of str to (str, str)
        For each library that differs, ``(saved version, running version)``.

    Examples
    --------
    Refuse such files rather than load them:

    >>> import warnings
    >>> from skneuron.persistence import ModelVersionWarning
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("error", ModelVersionWarning)
    ...     try:
    ...         warnings.warn(ModelVersionWarning("saved with torch 2.0.0",
    ...                                           {"torch": ("2.0.0", "2.13.0")}))
    ...     except ModelVersionWarning as warning:
    ...         print(warning.differences)
    {'torch': ('2.0.0', '2.13.0')}
    """

    def __init__(self, message: str, differences: dict[str, tuple[str, str]]):
        super().__init__(message)
        self.differences = differences


def _versions() -> dict[str, str]:
    import sklearn

    import skneuron

    return {
        "skneuron": skneuron.__version__,
        "torch": torch.__version__,
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


#: Libraries whose version change can change a loaded model's behaviour.
_CHECKED_VERSIONS = ("skneuron", "torch", "scikit-learn", "numpy")


def _classes() -> dict[str, type]:
    """The only classes a model file may name."""
    from sklearn.pipeline import Pipeline

    from skneuron._estimators import TaskNeuronClassifier, TaskNeuronRegressor
    from skneuron.preprocessing import TabularEncoder

    return {cls.__name__: cls for cls in
            (TaskNeuronRegressor, TaskNeuronClassifier, TabularEncoder, Pipeline)}


# --------------------------------------------------------------------- saving
def save(model, path: str | os.PathLike, *, metadata: dict | None = None) -> None:
    """Write a fitted model to ``path`` in the safe format.

    Parameters
    ----------
    model : TaskNeuronRegressor, TaskNeuronClassifier or Pipeline
        A fitted estimator, or a :class:`~sklearn.pipeline.Pipeline` of
        :class:`~skneuron.preprocessing.TabularEncoder` and estimator steps.
    path : str or path-like
        Where to write (``.skn`` by convention); an existing file is replaced.
    metadata : dict, optional
        Plain data (JSON types) stored with the model, returned by
        :func:`read_manifest`; the command line records the target column
        and the cross-validated score there.

    Raises
    ------
    ValueError
        If the model holds something the format cannot express (the message
        names it); save such a model with :mod:`joblib` instead.
    sklearn.exceptions.NotFittedError
        If the model is not fitted.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn.datasets import load_iris
    >>> from skneuron import TaskNeuronClassifier, load
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = TaskNeuronClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0).fit(X, y)
    >>> path = os.path.join(tempfile.mkdtemp(), "iris.skn")
    >>> clf.save(path)
    >>> bool((load(path).predict(X) == clf.predict(X)).all())
    True
    """
    encoder = _Encoder()
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "versions": _versions(),
        "model": encoder.model(model),
        "metadata": encoder.value(metadata or {}, "metadata", plain=True),
    }
    buffer = io.BytesIO()
    torch.save(encoder.tensors, buffer)
    weights = buffer.getvalue()
    manifest["weights_sha256"] = hashlib.sha256(weights).hexdigest()
    text = json.dumps(manifest, indent=1, ensure_ascii=False)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST, text)
        archive.writestr(WEIGHTS, weights)


class _Encoder:
    """Turns estimators into tagged plain data, collecting numeric arrays as tensors.

    Every JSON object in the encoding is a tag with exactly one key, so the
    decoder can refuse anything it does not know.
    """

    def __init__(self):
        self.tensors: dict[str, Any] = {"arrays": {}, "networks": {}}

    def model(self, model) -> dict:
        from sklearn.pipeline import Pipeline
        from sklearn.utils.validation import check_is_fitted

        steps = model.steps if isinstance(model, Pipeline) else [(None, model)]
        for _, step in steps:
            check_is_fitted(step)
        if isinstance(model, Pipeline):
            return {"pipeline": [[str(name), self._estimator(step, f"step {name!r}")]
                                 for name, step in model.steps]}
        return self._estimator(model, type(model).__name__)

    def _estimator(self, estimator, where: str) -> dict:
        name = type(estimator).__name__
        if _classes().get(name) is not type(estimator) or name == "Pipeline":
            raise ValueError(
                f"{where}: a {name} cannot be saved in the safe format, which holds "
                "skneuron's estimators and TabularEncoder only; save this model with joblib."
            )
        params = estimator.get_params(deep=False)
        if isinstance(params.get("random_state"), np.random.RandomState):
            params["random_state"] = None  # a generator's state is not a parameter to keep
        fitted = {}
        for attribute, value in vars(estimator).items():
            if attribute in params:
                continue
            if isinstance(value, torch.nn.Module):
                key = str(len(self.tensors["networks"]))
                self.tensors["networks"][key] = {
                    k: t.detach().to("cpu") for k, t in value.state_dict().items()
                }
                fitted[attribute] = {"network": key}
            else:
                fitted[attribute] = self.value(value, f"{where}.{attribute}")
        return {"class": name,
                "params": {k: self.value(v, f"{where} parameter {k}") for k, v in params.items()},
                "fitted": fitted}

    def value(self, value, where: str, *, plain: bool = False):
        from skneuron.discovery import DiscoveryResult
        from skneuron.formula import NeuronFormula

        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, np.bool_):
            return bool(value)
        if isinstance(value, (Integral, np.integer)):
            return int(value)
        if isinstance(value, (Real, np.floating)):
            return float(value)
        if isinstance(value, list):
            return [self.value(v, where, plain=plain) for v in value]
        if isinstance(value, tuple) and type(value) is tuple:
            return {"tuple": [self.value(v, where, plain=plain) for v in value]}
        if isinstance(value, dict) and all(isinstance(k, str) for k in value):
            return {"dict": {k: self.value(v, f"{where}[{k!r}]", plain=plain)
                             for k, v in value.items()}}
        if not plain:
            if isinstance(value, np.ndarray):
                return self._array(value, where)
            if isinstance(value, NeuronFormula):
                return {"formula": value.to_dict()}
            if isinstance(value, torch.device):
                return {"device": str(value)}
            if isinstance(value, DiscoveryResult):
                return {"discovery": self._discovery(value, where)}
        raise ValueError(
            f"{where} is a {type(value).__name__}, which the safe model format cannot hold; "
            "save this model with joblib instead."
        )

    def _array(self, array: np.ndarray, where: str) -> dict:
        if array.dtype.kind in "biuf":
            key = str(len(self.tensors["arrays"]))
            self.tensors["arrays"][key] = torch.from_numpy(np.array(array, copy=True, order="C"))
            return {"array": key}
        if array.dtype.kind in "UO" and array.ndim == 1:
            items = []
            for item in array.tolist():
                if isinstance(item, (np.generic,)):
                    item = item.item()
                if not isinstance(item, (str, int, float, bool)):
                    raise ValueError(
                        f"{where} holds a {type(item).__name__} ({item!r}); the safe model "
                        "format holds numbers and strings only (e.g. as class labels). "
                        "Save this model with joblib instead."
                    )
                items.append(item)
            return {"items": items, "dtype": array.dtype.str}
        raise ValueError(
            f"{where} is an array of dtype {array.dtype}, which the safe model format cannot "
            "hold; save this model with joblib instead."
        )

    def _discovery(self, result, where: str) -> dict:
        details = {}
        for key, value in result.details.items():  # diagnostics: keep what is plain data
            try:
                details[key] = self.value(value, f"{where}.details[{key!r}]")
            except ValueError:
                continue
        return {
            "formula": result.formula.to_dict(),
            "method": result.method,
            "term_probabilities": {k: float(v) for k, v in result.term_probabilities.items()},
            "validation_score": float(result.validation_score),
            "fit_time": float(result.fit_time),
            "details": {"dict": details},
        }


# -------------------------------------------------------------------- loading
def read_manifest(path: str | os.PathLike) -> dict:
    """The manifest of a model file, checked but without building the model.

    Checks that the file is a model file of a format version this package
    reads; does not read the weights, compare library versions or decode the
    model.

    Parameters
    ----------
    path : str or path-like
        The model file.

    Returns
    -------
    dict
        With keys ``"format"``, ``"format_version"``, ``"versions"`` (library
        versions at save time), ``"model"`` (the encoded model),
        ``"metadata"`` (decoded, as given to :func:`save`) and
        ``"weights_sha256"`` (the checksum of the weights).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is not a model file of a format version this package reads.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn.datasets import make_regression
    >>> from skneuron import TaskNeuronRegressor
    >>> from skneuron.persistence import read_manifest, save
    >>> X, y = make_regression(100, 3, random_state=0)
    >>> reg = TaskNeuronRegressor(max_iter=5, random_state=0).fit(X, y)
    >>> path = os.path.join(tempfile.mkdtemp(), "reg.skn")
    >>> save(reg, path, metadata={"target": "price", "cv_scores": [0.81, 0.79]})
    >>> manifest = read_manifest(path)
    >>> manifest["metadata"]
    {'target': 'price', 'cv_scores': [0.81, 0.79]}
    >>> manifest["model"]["class"], sorted(manifest["versions"])
    ('TaskNeuronRegressor', ['numpy', 'python', 'scikit-learn', 'skneuron', 'torch'])
    """
    manifest, _ = _read(path, weights=False)
    return manifest


def load(path: str | os.PathLike):
    """Load a model written by :func:`save` (or an estimator's ``save``).

    Nothing in the file can run code: only this package's estimator classes
    can be named and the tensors are read with ``torch.load(weights_only=True)``.

    Parameters
    ----------
    path : str or path-like
        The model file.

    Returns
    -------
    estimator or Pipeline
        The fitted model, predicting exactly as the saved one.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is not a valid model file, was modified after saving, or
        names anything but this package's estimators.

    Warns
    -----
    ModelVersionWarning
        When the file was saved with other versions of skneuron, torch,
        scikit-learn or numpy than the ones running.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn.datasets import make_regression
    >>> import skneuron
    >>> X, y = make_regression(100, 3, random_state=0)
    >>> reg = skneuron.TaskNeuronRegressor(formula="x + x**2", max_iter=5, random_state=0)
    >>> path = os.path.join(tempfile.mkdtemp(), "reg.skn")
    >>> reg.fit(X, y).save(path)
    >>> restored = skneuron.load(path)
    >>> restored.formula_ == reg.formula_, bool((restored.predict(X) == reg.predict(X)).all())
    (True, True)
    """
    manifest, tensors = _read(path, weights=True)
    _check_versions(manifest["versions"], path)
    try:
        return _Decoder(tensors).model(manifest["model"])
    except (KeyError, TypeError, AttributeError, IndexError) as exc:
        raise ValueError(f"{os.fspath(path)!r} is damaged: malformed manifest ({exc!r}).") from None


def _read(path, *, weights: bool):
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No such model file: {path!r}")
    try:
        with zipfile.ZipFile(path) as archive:
            members = set(archive.namelist())
            if members != {MANIFEST, WEIGHTS}:
                raise ValueError(
                    f"{path!r} is not a skneuron model file: it holds {sorted(members)}, "
                    f"expected exactly {MANIFEST!r} and {WEIGHTS!r}."
                )
            manifest = json.loads(archive.read(MANIFEST).decode("utf-8"))
            payload = archive.read(WEIGHTS) if weights else None
    except (zipfile.BadZipFile, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path!r} is not a skneuron model file ({exc}).") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ValueError(f"{path!r} is not a skneuron model file (no {FORMAT!r} manifest).")
    version = manifest.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ValueError(
            f"{path!r} has model format version {version!r}; this skneuron reads versions up "
            f"to {FORMAT_VERSION}. Upgrade skneuron to load it."
        )
    for key in ("versions", "model", "weights_sha256"):
        if key not in manifest:
            raise ValueError(f"{path!r} is damaged: its manifest has no {key!r}.")
    if not isinstance(manifest["versions"], dict):
        raise ValueError(f"{path!r} is damaged: its manifest's 'versions' is not a mapping.")
    manifest["metadata"] = _Decoder({}).value(manifest.get("metadata", {"dict": {}}), plain=True)
    if not weights:
        return manifest, None
    if hashlib.sha256(payload).hexdigest() != manifest["weights_sha256"]:
        raise ValueError(
            f"{path!r} was modified or damaged: its weights do not match the checksum in "
            "its manifest. Refusing to load it."
        )
    try:
        tensors = torch.load(io.BytesIO(payload), map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(
            f"{path!r}: refusing to load its weights, which hold more than tensors "
            f"({first_line})."
        ) from None
    if not (isinstance(tensors, dict) and set(tensors) == {"arrays", "networks"}):
        raise ValueError(f"{path!r} is damaged: unexpected weights layout.")
    return manifest, tensors


def _check_versions(saved: dict, path) -> None:
    running = _versions()
    differences = {name: (str(saved.get(name)), running[name]) for name in _CHECKED_VERSIONS
                   if str(saved.get(name)) != running[name]}
    if differences:
        listed = ", ".join(f"{name} {old} (running {new})" for name, (old, new) in differences.items())
        warnings.warn(
            ModelVersionWarning(
                f"{os.fspath(path)!r} was saved with {listed}; predictions may differ. "
                "Refit the model, or load it with the versions it was saved with.",
                differences,
            ),
            stacklevel=3,
        )


class _Decoder:
    """Inverse of :class:`_Encoder`; refuses every tag and class it does not know."""

    def __init__(self, tensors: dict):
        self.tensors = tensors

    def model(self, encoded):
        if _is_tag(encoded, "pipeline"):
            from sklearn.pipeline import Pipeline

            steps = encoded["pipeline"]
            if not isinstance(steps, list) or not steps or not all(
                isinstance(s, list) and len(s) == 2 and isinstance(s[0], str) for s in steps
            ):
                raise ValueError("Invalid model file: malformed pipeline steps.")
            return Pipeline([(name, self._estimator(step)) for name, step in steps])
        return self._estimator(encoded)

    def _estimator(self, encoded):
        if not (isinstance(encoded, dict) and set(encoded) == {"class", "params", "fitted"}):
            raise ValueError("Invalid model file: malformed estimator entry.")
        cls = _classes().get(encoded["class"])
        if cls is None or encoded["class"] == "Pipeline":
            raise ValueError(
                f"Refusing to load: the model file names class {encoded['class']!r}, which is "
                f"not one of skneuron's estimators."
            )
        params, fitted = encoded["params"], encoded["fitted"]
        if not (isinstance(params, dict) and isinstance(fitted, dict)):
            raise ValueError("Invalid model file: malformed estimator entry.")
        known = set(cls().get_params(deep=False))
        if not set(params) <= known:
            raise ValueError(
                f"Invalid model file: {cls.__name__} has no parameter(s) "
                f"{sorted(set(params) - known)}; was it saved by a newer skneuron?"
            )
        estimator = cls(**{k: self.value(v) for k, v in params.items()})
        networks = {}
        for attribute, value in fitted.items():
            if attribute in known or attribute.startswith("__") or hasattr(cls, attribute):
                raise ValueError(f"Invalid model file: unexpected attribute {attribute!r}.")
            if _is_tag(value, "network"):
                networks[attribute] = value["network"]
            else:
                setattr(estimator, attribute, self.value(value))
        for attribute, key in networks.items():
            setattr(estimator, attribute, self._network(estimator, attribute, key))
        return estimator

    def _network(self, estimator, attribute: str, key):
        from skneuron._estimators import BaseTaskNeuron

        state = self.tensors["networks"].get(key) if isinstance(key, str) else None
        if attribute != "network_" or not isinstance(estimator, BaseTaskNeuron) or state is None:
            raise ValueError(f"Invalid model file: unexpected network {attribute!r}.")
        device = _available_device(estimator.device_)
        estimator.device_ = device
        try:
            network = estimator._build_network(estimator.n_features_in_, 0)
            network.load_state_dict(state, strict=True, assign=True)
        except (RuntimeError, AttributeError, TypeError, ValueError) as exc:
            raise ValueError(
                f"Invalid model file: the saved weights do not fit the network its "
                f"manifest describes ({str(exc).strip().splitlines()[0]})."
            ) from None
        return network.to(device=device).eval()

    def value(self, encoded, *, plain: bool = False):
        from skneuron.discovery import DiscoveryResult
        from skneuron.formula import NeuronFormula

        if encoded is None or isinstance(encoded, (bool, str, int, float)):
            return encoded
        if isinstance(encoded, list):
            return [self.value(v, plain=plain) for v in encoded]
        if _is_tag(encoded, "tuple") and isinstance(encoded["tuple"], list):
            return tuple(self.value(v, plain=plain) for v in encoded["tuple"])
        if _is_tag(encoded, "dict") and isinstance(encoded["dict"], dict):
            return {k: self.value(v, plain=plain) for k, v in encoded["dict"].items()}
        if not plain:
            if _is_tag(encoded, "array"):
                array = self.tensors["arrays"].get(encoded["array"])
                if not isinstance(array, torch.Tensor):
                    raise ValueError(f"Invalid model file: no array {encoded['array']!r}.")
                return array.numpy().copy()
            if isinstance(encoded, dict) and set(encoded) == {"items", "dtype"}:
                dtype = np.dtype(str(encoded["dtype"]))
                if dtype.kind not in "UO" or not isinstance(encoded["items"], list):
                    raise ValueError("Invalid model file: malformed label array.")
                return np.array(encoded["items"], dtype=dtype)
            if _is_tag(encoded, "formula"):
                return _formula(encoded["formula"])
            if _is_tag(encoded, "device"):
                return torch.device(str(encoded["device"]))
            if _is_tag(encoded, "discovery"):
                data = encoded["discovery"]
                return DiscoveryResult(
                    formula=_formula(data["formula"]),
                    method=str(data["method"]),
                    term_probabilities={str(k): float(v)
                                        for k, v in data["term_probabilities"].items()},
                    validation_score=float(data["validation_score"]),
                    fit_time=float(data["fit_time"]),
                    details=self.value(data["details"]),
                )
        raise ValueError(f"Invalid model file: unknown content {str(encoded)[:80]!r}.")


#: Characters an element-wise term of a loaded formula may use.
_FUNCTION_TEXT = re.compile(r"^[A-Za-z0-9_ +\-*/().^]{1,200}$")


def _formula(data):
    """``NeuronFormula.from_dict`` for untrusted data.

    Element-wise terms are read by sympy, which evaluates text; like
    :meth:`NeuronFormula.parse`, only ``x`` and the known function names may
    appear, so a tampered file cannot reach any Python object.
    """
    from skneuron.formula import _SYMPY_FUNCTIONS, NeuronFormula

    if not isinstance(data, dict) or not set(data) <= {
        "pure_orders", "interaction_orders", "rank", "functions"
    }:
        raise ValueError("Invalid model file: malformed formula.")
    functions = data.get("functions", [])
    for text in functions if isinstance(functions, list) else [None]:
        names = set(re.findall(r"[A-Za-z_]\w*", text)) if isinstance(text, str) else {None}
        if not (isinstance(text, str) and _FUNCTION_TEXT.match(text)) or (
            names - {"x"} - set(_SYMPY_FUNCTIONS)
        ):
            raise ValueError(f"Refusing to load: invalid formula term {str(text)[:80]!r}.")
    for key in ("pure_orders", "interaction_orders"):
        orders = data.get(key, [])
        if not (isinstance(orders, list) and all(type(k) is int and 0 < k <= 16 for k in orders)):
            raise ValueError(f"Invalid model file: malformed formula {key}.")
    return NeuronFormula.from_dict(data)


def _is_tag(value, tag: str) -> bool:
    return isinstance(value, dict) and set(value) == {tag}


def _available_device(device: torch.device) -> torch.device:
    if device.type == "cuda" and not torch.cuda.is_available():
        warnings.warn("This model was trained on CUDA, which is not available here; it was "
                      "loaded on the CPU.", UserWarning, stacklevel=4)
        return torch.device("cpu")
    if device.type not in ("cpu", "cuda"):
        return torch.device("cpu")
    return device
