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
of tagged plain-data forms, formulas are read by the formula language's own
parser, and the network is rebuilt from the formula and then given the saved
weights.

Loading is also bounded, so a small hostile file cannot take much time or
memory: the zip's directory is bounded (:data:`MAX_MEMBERS`) before it is
read, member sizes are read from it and checked before
anything is decompressed (:data:`MAX_MANIFEST_BYTES`,
:data:`MAX_WEIGHTS_BYTES`, :data:`MAX_COMPRESSION_RATIO`), the manifest's
JSON nesting is checked before it is parsed (:data:`MAX_JSON_DEPTH`), the
weights are hashed as they are read and compared with the manifest's
checksum before torch reads them, every tensor must hold exactly the values
its file stores (no view repeating one stored value over a huge shape, see
:func:`owns_storage`), and the network's declared shapes are compared with
the saved tensors before it is built. A pipeline must be
:class:`~skneuron.preprocessing.TabularEncoder` steps, then one estimator,
each step fitted on as many columns as the one before outputs, and an
encoder may hold no more categories per column than its ``max_categories``,
so a file cannot widen what ``transform`` outputs. Whatever is wrong with a
file is a :class:`ModelFileError`. Pickle and joblib keep working for
everything this format cannot express (e.g. estimators inside arbitrary
pipelines, or class labels that are not numbers or strings).

:func:`save` writes a temporary file beside the target, flushes it to disk
and renames it over the target, so a save that fails or is interrupted
leaves the previous file as it was, and of two processes saving to one path
the last one's complete file wins.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import io
import json
import os
import platform
import re
import struct
import tempfile
import warnings
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable
from numbers import Integral, Real
from typing import IO, Any

import numpy as np
import torch

from skneuron._device import is_out_of_memory

__all__ = ["ModelFileError", "ModelVersionWarning", "load", "read_manifest", "save",
           "skops_trusted_types", "versions"]

#: Written in every manifest; files of a newer format version are refused.
FORMAT = "skneuron-model"
FORMAT_VERSION = 1
MANIFEST, WEIGHTS = "manifest.json", "weights.pt"

#: Most entries a model file's zip directory may list (the format has two members),
#: checked from its end record before zipfile reads the directory.
MAX_MEMBERS = 16
#: Largest manifest that is read, in bytes once decompressed.
MAX_MANIFEST_BYTES = 2 * 2**20
#: Largest weights member that is read, in bytes once decompressed.
MAX_WEIGHTS_BYTES = 2 * 2**30
#: Most the weights member may expand beyond its first MiB when decompressed:
#: tensors hardly compress (``save`` stores them uncompressed), a zip bomb does.
MAX_COMPRESSION_RATIO = 20
#: Deepest nesting of arrays and objects in a manifest's JSON.
MAX_JSON_DEPTH = 64
#: Most values (numbers, strings, arrays, objects ...) in a manifest's JSON.
MAX_JSON_VALUES = 200_000
#: Most bytes the text arrays of a manifest (class labels, names) take once decoded.
MAX_TEXT_ARRAY_BYTES = 16 * 2**20

_RATIO_FREE_BYTES = 2**20
#: Most bytes of zip directory per entry: a record's fixed part and the longer member name
#: (the two members' extra fields fit in the other entries' share).
_DIRECTORY_BYTES_PER_MEMBER = 46 + max(len(MANIFEST), len(WEIGHTS))
#: The zip records that locate the directory (APPNOTE.TXT 4.3.16, 4.3.15 and 4.3.14):
#: the end of central directory record, the zip64 locator and the zip64 end record.
_END, _ZIP64_LOCATOR, _ZIP64_END = (struct.Struct("<4s4H2LH"), struct.Struct("<4sLQL"),
                                    struct.Struct("<4sQ2H2L4Q"))
_CHUNK_BYTES = 2**20
#: Format versions above this are not a newer skneuron's but nonsense.
_MAX_PLAUSIBLE_VERSION = 10_000
_SHA256 = re.compile(r"[0-9a-f]{64}")
#: Devices a model file may name; where absent, loading falls back (``usable_device``).
_DEVICE = re.compile(r"cpu|cuda(?::[0-9]{1,2})?|mps")
#: Library versions a manifest may record: plain text, shown in warnings and by inspect.
_VERSION = re.compile(r"[0-9A-Za-z._+-]{1,64}")
#: dtypes of the inline arrays of text or objects (class labels, feature names).
_TEXT_DTYPE = re.compile(r"[<>|=]?(?:U[1-9][0-9]{0,8}|O)")
#: JSON scalars, which decode as themselves.
_SCALARS = frozenset({type(None), bool, str, int, float})
_TENSOR_DTYPES = frozenset({torch.bool, torch.uint8, torch.int8, torch.int16, torch.int32,
                            torch.int64, torch.float16, torch.bfloat16, torch.float32,
                            torch.float64})
#: What zipfile and zlib raise for a damaged or crafted archive.
_DAMAGED_ARCHIVE = (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError,
                    NotImplementedError, RuntimeError, OverflowError, IndexError, KeyError,
                    zlib.error, struct.error)


class ModelFileError(ValueError):
    """A model file that cannot be loaded: not one, damaged, tampered with or beyond a limit.

    :func:`load` and :func:`read_manifest` raise it for anything wrong with
    a file's content, with a message naming the file and the problem. A
    subclass of :class:`ValueError`, so ``except ValueError`` catches it too.

    Examples
    --------
    >>> import os, tempfile
    >>> from skneuron.persistence import ModelFileError, load
    >>> path = os.path.join(tempfile.mkdtemp(), "notes.skn")
    >>> with open(path, "w") as handle:
    ...     _ = handle.write("not a model")
    >>> try:
    ...     load(path)
    ... except ModelFileError as exc:
    ...     print(exc)
    '...notes.skn' is not a skneuron model file: it has no zip end record (not a zip
    archive, or a truncated one).
    """


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


def versions() -> dict[str, str]:
    """The versions of skneuron and the libraries it runs on, as :func:`save` records them.

    A model file's manifest holds them under ``"versions"``; :func:`load`
    compares those of skneuron, torch, scikit-learn and numpy with the running
    ones (:class:`ModelVersionWarning`), and ``skneuron inspect`` shows both.

    Returns
    -------
    dict of str to str
        The running versions of ``"skneuron"``, ``"torch"``, ``"scikit-learn"``,
        ``"numpy"`` and ``"python"``.

    Examples
    --------
    >>> from skneuron.persistence import versions
    >>> sorted(versions())
    ['numpy', 'python', 'scikit-learn', 'skneuron', 'torch']
    """
    import sklearn

    from skneuron._version import __version__

    return {
        "skneuron": __version__,
        "torch": torch.__version__,
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


#: Libraries whose version change can change a loaded model's behaviour.
_CHECKED_VERSIONS = ("skneuron", "torch", "scikit-learn", "numpy")

#: Classes registered with :func:`register_loadable`, by name.
_LOADABLE: dict[str, type] = {}


def register_loadable(cls: type) -> type:
    """Let model files hold instances of ``cls``; its module calls this when imported.

    The estimators register themselves, so this module never imports them.
    A registered class is rebuilt from its constructor parameters and fitted
    attributes; then its ``_restore_fitted(state_dicts)`` method, if it has
    one, checks them and rebuilds its torch modules from their saved state
    dicts (the estimators' hook), else its parameters are checked and it may
    hold no torch module.

    Parameters
    ----------
    cls : type
        A scikit-learn estimator class.

    Returns
    -------
    type
        ``cls``, so this also serves as a class decorator.

    Examples
    --------
    >>> from skneuron import TaskNeuronRegressor
    >>> from skneuron.persistence import register_loadable
    >>> register_loadable(TaskNeuronRegressor) is TaskNeuronRegressor
    True
    """
    _LOADABLE[cls.__name__] = cls
    return cls


def _loadable_classes() -> dict[str, type]:
    """The only classes a model file may name (``Pipeline`` at the top only)."""
    from sklearn.pipeline import Pipeline

    from skneuron.preprocessing import TabularEncoder

    return {**_LOADABLE, "TabularEncoder": TabularEncoder, "Pipeline": Pipeline}


def skops_trusted_types() -> list[str]:
    """The types to trust when :func:`skops.io.load` reads a skops file of a skneuron model.

    skops builds only the types it trusts itself (scikit-learn's, numpy's,
    builtins) and those passed as ``trusted``. Pass this fixed list, never
    what :func:`skops.io.get_untrusted_types` reads from the file: that
    lists whatever the file names — ``os.system`` included — so trusting it
    runs the file's code. skops refuses a file that needs any type beyond
    these and its own.

    Returns
    -------
    list of str
        skneuron's estimators and :class:`~skneuron.preprocessing.TabularEncoder`,
        and the types of their fitted state (the formula, the discovery
        result), as skops names them.

    Examples
    --------
    >>> from skneuron.persistence import skops_trusted_types
    >>> [name for name in skops_trusted_types() if "Regressor" in name]
    ['skneuron._estimators.TaskNeuronRegressor']
    """
    from skneuron.discovery import DiscoveryResult
    from skneuron.formula import NeuronFormula

    classes = [*_loadable_classes().values(), NeuronFormula, DiscoveryResult]
    return sorted(f"{cls.__module__}.{cls.__qualname__}" for cls in classes
                  if cls.__module__.partition(".")[0] == "skneuron")


# --------------------------------------------------------------------- saving
def save(model, path: str | os.PathLike, *, metadata: dict | None = None) -> None:
    """Write a fitted model to ``path`` in the safe format.

    The file is written whole or not at all: to a temporary file in the same
    directory, flushed to disk, then renamed over ``path``.

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
        If the model holds something the format cannot express, or more
        than :func:`load` reads (the message names it); save such a model
        with :mod:`joblib` instead. Nothing is written.
    sklearn.exceptions.NotFittedError
        If the model is not fitted.
    OSError
        If the file cannot be written (``path`` is a directory or not a
        regular file, the directory is not writable, the disk is full).
        A file already at ``path`` is left as it was.

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
        "versions": versions(),
        "model": encoder.model(model),
        "metadata": encoder.value(metadata or {}, "metadata", plain=True),
    }
    buffer = io.BytesIO()
    torch.save(encoder.tensors, buffer)
    weights = buffer.getvalue()
    manifest["weights_sha256"] = hashlib.sha256(weights).hexdigest()
    text = json.dumps(manifest, indent=1, ensure_ascii=False).encode("utf-8")
    _check_loadable_sizes(text, weights)
    write_atomically(path, lambda handle: _write_archive(handle, text, weights))


def _check_loadable_sizes(manifest: bytes, weights: bytes) -> None:
    """Refuse to write a file that :func:`load` would refuse for its size."""
    if len(manifest) > MAX_MANIFEST_BYTES:
        raise ValueError(
            f"the model's manifest would take {len(manifest):,} bytes, more than the "
            f"{MAX_MANIFEST_BYTES:,} a model file may hold (MAX_MANIFEST_BYTES); save this "
            "model with joblib instead, or pass less metadata.")
    problem = _json_problem(manifest)
    if problem:
        raise ValueError(f"the model's manifest {problem}, which load refuses; save this "
                         "model with joblib instead, or pass less metadata.")
    if len(weights) > MAX_WEIGHTS_BYTES:
        raise ValueError(
            f"the model's weights take {len(weights):,} bytes, more than the "
            f"{MAX_WEIGHTS_BYTES:,} a model file may hold (MAX_WEIGHTS_BYTES); save this "
            "model with joblib instead.")


def _write_archive(handle: IO[bytes], manifest: bytes, weights: bytes) -> None:
    with zipfile.ZipFile(handle, "w") as archive:
        archive.writestr(MANIFEST, manifest, compress_type=zipfile.ZIP_DEFLATED)
        # Tensors hardly compress; stored as they are, they load without inflating.
        archive.writestr(WEIGHTS, weights, compress_type=zipfile.ZIP_STORED)


def write_atomically(path: str | os.PathLike, write: Callable[[IO[bytes]], None]) -> None:
    """Write a file whole or not at all: to a temporary file beside it, then rename.

    ``write`` fills the temporary file (in the directory of ``path``, so the
    rename cannot cross file systems); it is flushed and synced to disk and
    renamed over ``path``, and the directory is synced where the system
    allows. If anything fails or is interrupted, the temporary file is
    removed and a file already at ``path`` is left as it was; of concurrent
    writers, the last to rename wins with its complete file.

    Parameters
    ----------
    path : str or path-like
        The file to write. It must not be a directory or a special file
        (a device such as ``/dev/full``, a pipe).
    write : callable
        Called with the open binary temporary file.

    Raises
    ------
    OSError
        If ``path`` is a directory or not a regular file, or writing fails.

    Examples
    --------
    >>> import os, tempfile
    >>> from skneuron.persistence import write_atomically
    >>> path = os.path.join(tempfile.mkdtemp(), "out.txt")
    >>> write_atomically(path, lambda handle: handle.write(b"complete"))
    >>> open(path, "rb").read()
    b'complete'
    """
    path = os.fspath(path)
    _check_writable_target(path)
    directory = os.path.dirname(os.path.abspath(path))
    descriptor, temporary = tempfile.mkstemp(
        prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, _file_mode(path))
        os.replace(temporary, path)
    except BaseException:  # also KeyboardInterrupt: never leave the temporary file
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _sync_directory(directory)


def _check_writable_target(path: str) -> None:
    """Refuse targets that a rename would wrongly replace: directories, devices, pipes."""
    if os.path.isdir(path):
        raise IsADirectoryError(21, "Is a directory", path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(2, "No such directory", directory)
    if os.path.exists(path) and not os.path.isfile(path):
        raise OSError(f"not a regular file: {path!r} (a device, pipe or socket)")


def _file_mode(path: str) -> int:
    """The mode of the file being replaced, or the default of a new file (umask applied)."""
    with contextlib.suppress(OSError):
        return os.stat(path).st_mode & 0o777
    return 0o666 & ~_umask()


def _umask() -> int:
    # /proc tells the umask without changing it, which os.umask cannot do.
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status") as status:
        for line in status:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    return 0o022


def _sync_directory(directory: str) -> None:
    """Make the rename durable; not every system can open or sync a directory."""
    with contextlib.suppress(OSError, AttributeError):
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


class _Encoder:
    """Turns estimators into tagged plain data, collecting numeric arrays as tensors.

    Every JSON object in the encoding is a tag with exactly one key, so the
    decoder can refuse anything it does not know.
    """

    def __init__(self):
        self.tensors: dict[str, Any] = {"arrays": {}, "networks": {}}
        self._storages: set[int] = set()  # of the network tensors kept so far

    def model(self, model) -> dict:
        from sklearn.pipeline import Pipeline
        from sklearn.utils.validation import check_is_fitted

        steps = model.steps if isinstance(model, Pipeline) else [(None, model)]
        for _, step in steps:
            check_is_fitted(step)
        if isinstance(model, Pipeline):
            problem = _pipeline_problem(model.steps)  # before any tensor is copied
            if problem:
                raise ValueError(f"this Pipeline cannot be saved in the safe format: {problem}; "
                                 "save it with joblib instead.")
            return {"pipeline": [[str(name), self._estimator(step, f"step {name!r}")]
                                 for name, step in model.steps]}
        return self._estimator(model, type(model).__name__)

    def _estimator(self, estimator, where: str) -> dict:
        name = type(estimator).__name__
        if _loadable_classes().get(name) is not type(estimator) or name == "Pipeline":
            raise ValueError(
                f"{where}: a {name} cannot be saved in the safe format, which holds "
                "skneuron's estimators and TabularEncoder only; save this model with joblib."
            )
        params = estimator.get_params(deep=False)
        if isinstance(params.get("random_state"), np.random.RandomState):
            params["random_state"] = None  # a generator's state is not a parameter to keep
        fitted = {}
        # Training state that is not part of the model (the optimiser's moments) stays out.
        transient = getattr(type(estimator), "_transient_attributes", ())
        for attribute, value in vars(estimator).items():
            if attribute in params or attribute in transient:
                continue
            if isinstance(value, torch.nn.Module):
                key = str(len(self.tensors["networks"]))
                self.tensors["networks"][key] = {
                    k: self._owned(t.detach().to("cpu")) for k, t in value.state_dict().items()
                }
                fitted[attribute] = {"network": key}
            else:
                fitted[attribute] = self.value(value, f"{where}.{attribute}")
        return {"class": name,
                "params": {k: self.value(v, f"{where} parameter {k}") for k, v in params.items()},
                "fitted": fitted}

    def _owned(self, tensor: torch.Tensor) -> torch.Tensor:
        """``tensor``, copied when it is a view or shares its storage: as load requires."""
        key = _storage_key(tensor)
        if not owns_storage(tensor) or (key is not None and key in self._storages):
            tensor = tensor.clone(memory_format=torch.contiguous_format)
            key = _storage_key(tensor)
        if key is not None:
            self._storages.add(key)
        return tensor

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
    reads, within the size limits of :func:`load`; does not read the
    weights, compare library versions or decode the model.

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
    OSError
        If the file cannot be read.
    ModelFileError
        If the file is not a model file of a format version this package
        reads (a :class:`ValueError`).

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
    can be named, formulas are read by the formula language's parser and the
    tensors with ``torch.load(weights_only=True)``. Nor can a small file
    take much time or memory: sizes are checked before anything is read
    (see :mod:`skneuron.persistence`).

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
    OSError
        If the file cannot be read.
    ModelFileError
        If the file is not a valid model file, was modified after saving,
        names anything but this package's estimators or exceeds a limit
        (a :class:`ValueError`).

    Warns
    -----
    ModelVersionWarning
        When the file was saved with other versions of skneuron, torch,
        scikit-learn or numpy than the ones running.
    UserWarning
        When the model was trained on a device that is not available here: it
        is loaded on the current CUDA device for a CUDA index this machine
        does not have, else on the CPU.

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
    model, _ = _load_with_manifest(path, stacklevel=4)  # the version warning: load's caller
    return model


def _load_with_manifest(path: str | os.PathLike, *, stacklevel: int = 3) -> tuple[Any, dict]:
    """The model :func:`load` returns and the manifest :func:`read_manifest` returns, from one
    read of the file: both are of the same file, checked once.

    ``stacklevel`` is the :class:`ModelVersionWarning`'s, counted from
    :func:`_check_versions`: 3 points at this function's caller.
    """
    manifest, tensors = _read(path, weights=True)
    _check_versions(manifest["versions"], path, stacklevel)
    try:
        with _gc_paused():
            return _Decoder(tensors).model(manifest["model"]), manifest
    except ModelFileError as exc:
        raise ModelFileError(f"{os.fspath(path)!r}: {exc}") from None
    except (MemoryError, RuntimeError) as exc:
        if not is_out_of_memory(exc):
            raise
        raise _memory_error(os.fspath(path), exc) from None
    except (KeyError, TypeError, AttributeError, IndexError, ValueError, ArithmeticError) as exc:
        raise ModelFileError(
            f"{os.fspath(path)!r} is damaged: malformed manifest ({_first_line(exc)})."
        ) from None


def _memory_error(path: str, exc: BaseException) -> ModelFileError:
    """The error for running out of memory while loading (``exc``, see
    :func:`~skneuron._device.is_out_of_memory`): the file's sizes are bounded, so this
    machine is short."""
    return ModelFileError(f"{path!r}: not enough memory to load it ({type(exc).__name__}); the "
                          "file is within the size limits, so this machine has too little "
                          "memory free.")


def _read(path, *, weights: bool) -> tuple[dict, dict | None]:
    path = os.fspath(path)
    if os.path.isdir(path):
        raise IsADirectoryError(21, "Is a directory, not a model file", path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No such model file: {path!r}")
    with open(path, "rb") as handle:
        try:
            return _read_archive(handle, path, weights=weights)
        except ModelFileError:
            raise
        except (MemoryError, *_DAMAGED_ARCHIVE) as exc:
            if is_out_of_memory(exc):  # torch's RuntimeError too: not a damaged archive
                raise _memory_error(path, exc) from None
            raise ModelFileError(
                f"{path!r} is not a skneuron model file ({_first_line(exc)})."
            ) from None


def _read_archive(handle: IO[bytes], path: str, *, weights: bool) -> tuple[dict, dict | None]:
    _check_directory_size(handle, path)
    with zipfile.ZipFile(handle) as archive:
        members = _checked_members(archive, path)
        data, _ = _read_member(archive, members[MANIFEST])
        manifest = _parse_manifest(data.getvalue(), path)
        if not weights:
            return manifest, None
        payload, digest = _read_member(archive, members[WEIGHTS])
    if digest != manifest["weights_sha256"]:
        raise ModelFileError(
            f"{path!r} was modified or damaged: its weights do not match the checksum in "
            "its manifest. Refusing to load it.")
    return manifest, _load_tensors(payload, path)


def _check_directory_size(handle: IO[bytes], path: str) -> None:
    """Refuse a zip directory of more than :data:`MAX_MEMBERS` entries before zipfile reads it.

    zipfile makes a ``ZipInfo`` of every record in the directory, and reads
    as many bytes of records as the end-of-central-directory record declares,
    whatever count it gives. That record (APPNOTE.TXT 4.3.16) is found here
    where zipfile finds it: at the file's end, else at the last signature
    before a comment of at most 65 535 bytes; a zip64 locator (4.3.15) before
    it means the zip64 end record (4.3.14) just before the locator holds the
    values, and the locator must point at it, so a reader that follows the
    locator reads the same one. Count and size are both bounded, so zipfile
    makes at most a few records, and the name and duplicate checks of
    :func:`_checked_members` refuse all but the two members.
    """
    not_ours = f"{path!r} is not a skneuron model file"
    tail_start = max(handle.seek(0, os.SEEK_END) - _ZIP64_LOCATOR.size - _ZIP64_END.size
                     - _END.size - 0xFFFF, 0)
    handle.seek(tail_start)
    tail = handle.read()
    end = len(tail) - _END.size
    if not (end >= 0 and tail.startswith(b"PK\x05\x06", end) and tail.endswith(b"\0\0")):
        end = tail.rfind(b"PK\x05\x06", max(end - 0xFFFF, 0))  # an end record, then a comment
    if end < 0 or end + _END.size > len(tail):
        raise ModelFileError(f"{not_ours}: it has no zip end record (not a zip archive, or a "
                             "truncated one).")
    _, _, _, on_disk, entries, size, offset, _ = _END.unpack_from(tail, end)
    locator = end - _ZIP64_LOCATOR.size
    zip64 = locator >= 0 and tail.startswith(b"PK\x06\x07", locator)
    # A zip64 locator must point at its record: so a zip64 file with bytes in front of it,
    # which zipfile would read, is refused (save writes zip64 only near MAX_WEIGHTS_BYTES).
    if zip64:  # without one, 0xFFFF entries are 65 535 and refused as such
        end = locator - _ZIP64_END.size
        if not (end >= 0 and tail.startswith(b"PK\x06\x06", end)
                and _ZIP64_LOCATOR.unpack_from(tail, locator)[2] == tail_start + end):
            raise ModelFileError(f"{not_ours}: its zip64 locator does not point at a zip64 "
                                 "end record just before it.")
        *_, on_disk, entries, size, offset = _ZIP64_END.unpack_from(tail, end)
    if entries > MAX_MEMBERS or size > MAX_MEMBERS * _DIRECTORY_BYTES_PER_MEMBER:
        raise ModelFileError(f"{not_ours}: its zip directory declares {entries:,} entries in "
                             f"{size:,} bytes, more than the {MAX_MEMBERS} read (MAX_MEMBERS).")
    if on_disk != entries:
        raise ModelFileError(f"{not_ours}: its zip directory declares {entries:,} entries, "
                             f"{on_disk:,} of them on this disk.")
    if offset + size > tail_start + end:
        raise ModelFileError(f"{not_ours}: its zip directory of {size:,} bytes at offset "
                             f"{offset:,} runs past its end record at {tail_start + end:,}.")


def _checked_members(archive: zipfile.ZipFile, path: str) -> dict[str, zipfile.ZipInfo]:
    """The two members, checked in the zip's directory before anything is decompressed."""
    names = archive.namelist()
    repeated = sorted(name for name, count in Counter(names).items() if count > 1)
    if repeated:
        raise ModelFileError(f"{path!r} is not a skneuron model file: it holds duplicate "
                             f"members ({repeated[:5]}).")
    if set(names) != {MANIFEST, WEIGHTS}:
        raise ModelFileError(
            f"{path!r} is not a skneuron model file: it holds {sorted(names)[:10]}, "
            f"expected exactly {MANIFEST!r} and {WEIGHTS!r}.")
    for info in archive.infolist():
        problem = _member_problem(info)
        if problem:
            raise ModelFileError(f"{path!r} is not a skneuron model file: its {info.filename} "
                                 f"{problem}.")
    return {info.filename: info for info in archive.infolist()}


def _member_problem(info: zipfile.ZipInfo) -> str | None:
    if info.flag_bits & 0x1:
        return "is encrypted"
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        return (f"is compressed with method {info.compress_type}; model files use stored or "
                "deflate members only")
    limit, name = ((MAX_MANIFEST_BYTES, "MAX_MANIFEST_BYTES") if info.filename == MANIFEST
                   else (MAX_WEIGHTS_BYTES, "MAX_WEIGHTS_BYTES"))
    if info.file_size > limit:
        return f"takes {info.file_size:,} bytes, more than the {limit:,} read ({name})"
    if info.filename == WEIGHTS and (
        info.file_size > _RATIO_FREE_BYTES + MAX_COMPRESSION_RATIO * info.compress_size
    ):
        return (f"expands from {info.compress_size:,} to {info.file_size:,} bytes, more than "
                f"{MAX_COMPRESSION_RATIO} times (MAX_COMPRESSION_RATIO): a zip bomb?")
    return None


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[io.BytesIO, str]:
    """A member's bytes and SHA-256, read in chunks (zipfile stops at the declared size)."""
    hasher, data = hashlib.sha256(), io.BytesIO()
    with archive.open(info) as stream:
        while chunk := stream.read(_CHUNK_BYTES):
            hasher.update(chunk)
            data.write(chunk)
    data.seek(0)
    return data, hasher.hexdigest()


def _parse_manifest(data: bytes, path: str) -> dict:
    problem = _json_problem(data)
    if problem:
        raise ModelFileError(f"{path!r} is not a skneuron model file: its manifest {problem}.")
    try:
        with _gc_paused():
            manifest = json.loads(data.decode("utf-8"))
    except ValueError as exc:  # also UnicodeDecodeError, and json's own errors
        raise ModelFileError(f"{path!r} is not a skneuron model file ({_first_line(exc)}).") \
            from None
    _check_manifest(manifest, path)
    try:
        with _gc_paused():
            manifest["metadata"] = _Decoder({}).value(manifest.get("metadata", {"dict": {}}),
                                                      plain=True)
    except ModelFileError as exc:
        raise ModelFileError(f"{path!r}: its metadata: {exc}") from None
    if not isinstance(manifest["metadata"], dict):
        raise ModelFileError(f"{path!r} is damaged: its metadata is a "
                             f"{type(manifest['metadata']).__name__}, not a mapping of names "
                             "to values.")
    return manifest


@contextlib.contextmanager
def _gc_paused():
    """Hold the cyclic garbage collector while a manifest's many small objects are made.

    They hold no cycles, and with a large heap (torch, scikit-learn) each
    collection the allocations trigger would scan it all again.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _json_problem(data: bytes) -> str | None:
    """Why JSON text is too deep or too big to parse, or None: counted before parsing.

    Brackets and commas count only outside string literals, whose quotes are
    those not escaped by an odd run of backslashes. Every value but the first
    of an array or object follows a comma, so commas and openings bound the
    number of values. Vectorised, as the text may be megabytes long.
    """
    codes = np.frombuffer(data, dtype=np.uint8)
    positions = np.arange(len(codes))
    backslash = codes == ord("\\")
    last_other = np.maximum.accumulate(np.where(backslash, -1, positions))  # before each char
    run_before = positions - 1 - np.concatenate(([-1], last_other[:-1]))
    quote = (codes == ord('"')) & (run_before % 2 == 0)
    outside = np.cumsum(quote, dtype=np.int32) % 2 == 0  # quotes themselves count as inside
    outside &= ~quote
    opens = outside & ((codes == ord("[")) | (codes == ord("{")))
    closes = outside & ((codes == ord("]")) | (codes == ord("}")))
    depth = np.cumsum(opens.view(np.int8) - closes.view(np.int8), dtype=np.int32)
    if int(depth.max(initial=0)) > MAX_JSON_DEPTH:
        return f"nests deeper than {MAX_JSON_DEPTH} levels (MAX_JSON_DEPTH)"
    n_values = int(np.count_nonzero(outside & (codes == ord(",")))) + int(np.count_nonzero(opens))
    if n_values > MAX_JSON_VALUES:
        return f"holds more than {MAX_JSON_VALUES:,} values (MAX_JSON_VALUES)"
    return None


def _check_manifest(manifest, path: str) -> None:
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ModelFileError(f"{path!r} is not a skneuron model file (no {FORMAT!r} manifest).")
    version = manifest.get("format_version")
    if type(version) is not int or not 1 <= version <= _MAX_PLAUSIBLE_VERSION:
        raise ModelFileError(f"{path!r} is damaged: its model format version {version!r:.40} "
                             "is not a format version.")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path!r} has model format version {version}; this skneuron reads versions up "
            f"to {FORMAT_VERSION}. Upgrade skneuron to load it.")
    for key in ("versions", "model", "weights_sha256"):
        if key not in manifest:
            raise ModelFileError(f"{path!r} is damaged: its manifest has no {key!r}.")
    versions = manifest["versions"]
    if not (isinstance(versions, dict) and all(isinstance(v, str) and _VERSION.fullmatch(v)
                                               for v in versions.values())):
        raise ModelFileError(f"{path!r} is damaged: its manifest's 'versions' is not a mapping "
                             "of names to version strings.")
    if not (isinstance(manifest["weights_sha256"], str)
            and _SHA256.fullmatch(manifest["weights_sha256"])):
        raise ModelFileError(f"{path!r} is damaged: its manifest's 'weights_sha256' is not a "
                             "SHA-256 digest.")


def _load_tensors(payload: io.BytesIO, path: str) -> dict:
    _check_torch_archive(payload, path)
    try:
        tensors = torch.load(payload, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - whatever torch raises, the file is not ours
        if is_out_of_memory(exc):  # ... unless it ran out of memory: _read says so
            raise
        raise ModelFileError(
            f"{path!r}: refusing to load its weights, which hold more than tensors "
            f"({_first_line(exc)}).") from None
    if not _is_weights_layout(tensors):
        raise ModelFileError(f"{path!r} is damaged: unexpected weights layout.")
    everything = [(f"array {key}", t) for key, t in tensors["arrays"].items()] + [
        (f"network {key}'s {name}", t)
        for key, state in tensors["networks"].items() for name, t in state.items()]
    problem = storage_problem(everything)
    if problem:
        raise ModelFileError(f"{path!r}: refusing to load its weights: {problem}.")
    return tensors


def _check_torch_archive(payload: io.BytesIO, path: str) -> None:
    """``weights.pt`` is itself a zip: its records must be stored, unique and within it.

    torch allocates each record at its declared size, so a compressed record
    could be a zip bomb inside the file.
    """
    with zipfile.ZipFile(payload) as inner:
        infos = inner.infolist()
    names = [info.filename for info in infos]
    if len(names) != len(set(names)) or sum(info.file_size for info in infos) > \
            len(payload.getbuffer()) or any(
                info.compress_type != zipfile.ZIP_STORED or info.flag_bits & 0x1
                for info in infos):
        raise ModelFileError(f"{path!r}: refusing to load its weights, whose records are "
                             "compressed, encrypted, repeated or larger than the file.")
    payload.seek(0)


def _is_weights_layout(tensors) -> bool:
    if not (isinstance(tensors, dict) and set(tensors) == {"arrays", "networks"}):
        return False
    arrays, networks = tensors["arrays"], tensors["networks"]
    return (isinstance(arrays, dict) and isinstance(networks, dict)
            and all(isinstance(k, str) and _is_plain_tensor(t) for k, t in arrays.items())
            and all(isinstance(k, str) and isinstance(state, dict)
                    and all(isinstance(n, str) and _is_plain_tensor(t) for n, t in state.items())
                    for k, state in networks.items()))


def _is_plain_tensor(value) -> bool:
    return (isinstance(value, torch.Tensor) and value.layout == torch.strided
            and value.device.type == "cpu" and value.dtype in _TENSOR_DTYPES)


def owns_storage(tensor: torch.Tensor) -> bool:
    """Whether ``tensor`` is contiguous and holds its whole storage, no more, no less.

    ``torch.save`` writes a view's storage, not the view: a one-value storage
    can come back as a view of ``2**34`` values (stride 0, ``expand``), which
    costs nothing until numpy or a matrix product makes it real. A tensor
    that owns its storage has as many values as the file stores for it, so
    the size limits on the file bound it. Checked on the metadata alone:
    nothing is allocated or copied.

    Parameters
    ----------
    tensor : torch.Tensor
        A strided tensor.

    Returns
    -------
    bool
        True when the tensor is contiguous, starts at the start of its storage
        and its storage's byte size is ``numel() * element_size()``.

    Examples
    --------
    >>> import torch
    >>> from skneuron.persistence import owns_storage
    >>> owns_storage(torch.zeros(3)), owns_storage(torch.zeros(1).expand(2**34))
    (True, False)
    >>> owns_storage(torch.zeros(6)[2:]), owns_storage(torch.zeros(2, 3).T)
    (False, False)
    """
    return (tensor.layout == torch.strided and tensor.is_contiguous()
            and tensor.storage_offset() == 0
            and tensor.untyped_storage().nbytes() == tensor.numel() * tensor.element_size())


def storage_problem(named_tensors) -> str | None:
    """Why tensors read from a file are not each the whole of a storage of its own, or None.

    Refuses views (see :func:`owns_storage`) and tensors sharing a storage,
    through which a file could repeat one stored block as many tensors.
    Only shapes, strides and storage sizes are read; nothing is allocated.

    Parameters
    ----------
    named_tensors : iterable of (str, torch.Tensor)
        Each tensor with the name a message gives it.

    Returns
    -------
    str or None
        The problem, naming the first tensor that has it.
    """
    seen: dict[int, str] = {}
    for name, tensor in named_tensors:
        if not owns_storage(tensor):
            return (f"its {name[:80]} is a view of shape {tuple(tensor.shape)} on "
                    f"{tensor.untyped_storage().nbytes():,} stored bytes, not a tensor of "
                    f"its own ({tensor.numel() * tensor.element_size():,} bytes)")
        key = _storage_key(tensor)
        if key in seen:
            return f"its {name[:80]} shares its stored values with its {seen[key][:80]}"
        if key is not None:
            seen[key] = name
    return None


def _storage_key(tensor: torch.Tensor) -> int | None:
    """Where a tensor's stored values are, the same for tensors sharing them; None for none."""
    storage = tensor.untyped_storage()
    return storage.data_ptr() if storage.nbytes() else None


def _check_versions(saved: dict, path, stacklevel: int) -> None:
    """Warn (:class:`ModelVersionWarning`, at ``stacklevel`` as :func:`warnings.warn` counts
    it) when the ``saved`` versions of a model file differ from the running ones."""
    running = versions()
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
            stacklevel=stacklevel,
        )


class _Decoder:
    """Inverse of :class:`_Encoder`; refuses every tag and class it does not know."""

    def __init__(self, tensors: dict):
        self.tensors = tensors
        self.text_bytes = 0  # decoded so far into text arrays, against MAX_TEXT_ARRAY_BYTES

    def model(self, encoded):
        if not _is_tag(encoded, "pipeline"):
            return self._estimator(encoded)
        from sklearn.pipeline import Pipeline

        steps = encoded["pipeline"]
        if not isinstance(steps, list) or not steps or not all(
            isinstance(s, list) and len(s) == 2 and isinstance(s[0], str) for s in steps
        ):
            raise ModelFileError("Invalid model file: malformed pipeline steps.")
        steps = [(name, self._estimator(step)) for name, step in steps]
        problem = _pipeline_problem(steps)
        if problem:
            raise ModelFileError(f"Invalid model file: its Pipeline {problem}.")
        return Pipeline(steps)

    def _estimator(self, encoded):
        if not (isinstance(encoded, dict) and set(encoded) == {"class", "params", "fitted"}):
            raise ModelFileError("Invalid model file: malformed estimator entry.")
        cls = _loadable_classes().get(encoded["class"]) if isinstance(encoded["class"], str) \
            else None
        if cls is None or encoded["class"] == "Pipeline":
            raise ModelFileError(
                f"Refusing to load: the model file names class {str(encoded['class'])[:80]!r}, "
                "which is not one of skneuron's estimators.")
        params, fitted = encoded["params"], encoded["fitted"]
        if not (isinstance(params, dict) and isinstance(fitted, dict)):
            raise ModelFileError("Invalid model file: malformed estimator entry.")
        known = set(cls().get_params(deep=False))
        if not set(params) <= known:
            raise ModelFileError(
                f"Invalid model file: {cls.__name__} has no parameter(s) "
                f"{sorted(set(params) - known)[:10]}; was it saved by a newer skneuron?")
        estimator = cls(**{k: self.value(v) for k, v in params.items()})
        networks = {}
        # save never writes training state (the optimiser's moments): a file that holds it
        # would hand partial_fit what it has not checked.
        transient = getattr(cls, "_transient_attributes", ())
        for attribute, value in fitted.items():
            if attribute in known or attribute.startswith("__") or hasattr(cls, attribute) \
                    or attribute in transient:
                raise ModelFileError(f"Invalid model file: unexpected attribute {attribute[:80]!r}.")
            if _is_tag(value, "network"):
                networks[attribute] = self._state_dict(value["network"], attribute)
            else:
                setattr(estimator, attribute, self.value(value))
        _restore(estimator, networks)
        return estimator

    def _state_dict(self, key, attribute: str) -> dict:
        state = self.tensors["networks"].get(key) if isinstance(key, str) else None
        if state is None:
            raise ModelFileError(f"Invalid model file: unexpected network {attribute[:80]!r}.")
        return state

    def value(self, encoded, *, plain: bool = False):
        if encoded is None or isinstance(encoded, (bool, str, int, float)):
            return encoded
        if isinstance(encoded, list):
            if all(type(v) in _SCALARS for v in encoded):  # e.g. a loss curve: as it is
                return list(encoded)
            return [self.value(v, plain=plain) for v in encoded]
        if _is_tag(encoded, "tuple") and isinstance(encoded["tuple"], list):
            return tuple(self.value(v, plain=plain) for v in encoded["tuple"])
        if _is_tag(encoded, "dict") and isinstance(encoded["dict"], dict):
            return {k: self.value(v, plain=plain) for k, v in encoded["dict"].items()}
        if not plain and isinstance(encoded, dict):
            if set(encoded) == {"items", "dtype"}:
                return self._text_array(encoded["items"], encoded["dtype"])
            tag = next(iter(encoded)) if len(encoded) == 1 else None
            if tag in self._TAGS:
                return getattr(self, self._TAGS[tag])(encoded[tag])
        raise ModelFileError(f"Invalid model file: unknown content {str(encoded)[:80]!r}.")

    _TAGS = {"array": "_array", "formula": "_formula", "device": "_device",
             "discovery": "_discovery"}

    def _array(self, key) -> np.ndarray:
        array = self.tensors["arrays"].get(key) if isinstance(key, str) else None
        if array is None:
            raise ModelFileError(f"Invalid model file: no array {str(key)[:80]!r}.")
        return array.numpy().copy()  # not a view: _load_tensors refused those

    def _text_array(self, items, dtype_text) -> np.ndarray:
        if not (isinstance(dtype_text, str) and _TEXT_DTYPE.fullmatch(dtype_text)
                and isinstance(items, list)
                and all(isinstance(i, (str, int, float, bool)) for i in items)):
            raise ModelFileError("Invalid model file: malformed label array.")
        dtype = np.dtype(dtype_text)
        self.text_bytes += len(items) * dtype.itemsize
        if self.text_bytes > MAX_TEXT_ARRAY_BYTES:  # checked before numpy allocates it
            raise ModelFileError(
                f"Invalid model file: its text arrays would take more than "
                f"{MAX_TEXT_ARRAY_BYTES:,} bytes (MAX_TEXT_ARRAY_BYTES; dtype {dtype_text}).")
        array = np.array(items, dtype=dtype)
        if array.tolist() != items:  # numpy cuts text to the dtype's length
            raise ModelFileError(f"Invalid model file: a label array's items do not fit its "
                                 f"dtype {dtype_text}.")
        return array

    @staticmethod
    def _formula(data):
        from skneuron.formula import NeuronFormula

        if not isinstance(data, dict) or not set(data) <= {
            "pure_orders", "interaction_orders", "rank", "functions", "periodic"
        }:
            raise ModelFileError("Invalid model file: malformed formula.")
        try:  # bounded, and read by the formula language's parser: never evaluated
            return NeuronFormula.from_dict(data, exact=True)  # saved weights are bound to terms
        except ValueError as exc:
            raise ModelFileError(f"Refusing to load: invalid formula term or value "
                                 f"({_first_line(exc)}).") from None

    @staticmethod
    def _device(text) -> torch.device:
        if not (isinstance(text, str) and _DEVICE.fullmatch(text)):
            raise ModelFileError(f"Invalid model file: unknown device {str(text)[:40]!r}; model "
                                 "files name 'cpu', 'cuda', 'cuda:<index>' or 'mps'.")
        return torch.device(text)

    def _discovery(self, data):
        from skneuron.discovery import DiscoveryResult

        if not (isinstance(data, dict) and isinstance(data.get("term_probabilities"), dict)):
            raise ModelFileError("Invalid model file: malformed discovery result.")
        return DiscoveryResult(
            formula=self._formula(data["formula"]),
            method=str(data["method"]),
            term_probabilities={str(k): float(v) for k, v in data["term_probabilities"].items()},
            validation_score=float(data["validation_score"]),
            fit_time=float(data["fit_time"]),
            details=self.value(data["details"]),
        )


def _pipeline_problem(steps: list) -> str | None:
    """Why ``(name, estimator)`` steps are not a pipeline a model file holds, or None.

    That is zero or more fitted :class:`~skneuron.preprocessing.TabularEncoder`
    steps, then one of skneuron's estimators, each step fitted on as many
    columns as the step before outputs, under distinct names without ``__``
    (as :class:`~sklearn.pipeline.Pipeline` requires).
    """
    from skneuron.preprocessing import TabularEncoder

    names, estimators = [name for name, _ in steps], [step for _, step in steps]
    if not (all(type(step) is TabularEncoder for step in estimators[:-1])
            and type(estimators[-1]) in _LOADABLE.values()):
        return (f"has steps {[type(step).__name__ for step in estimators][:10]}, not "
                "TabularEncoder steps followed by one skneuron estimator")
    if len(set(names)) != len(names) or not all(names) or any("__" in name for name in names):
        return (f"has step names {[str(name)[:40] for name in names][:10]}, not distinct "
                "non-empty names without '__'")
    for (name, before), after in zip(steps, estimators[1:]):
        width = len(before.get_feature_names_out())
        if after.n_features_in_ != width:
            return (f"step {str(name)[:40]!r} outputs {width:,} columns, but the next step was "
                    f"fitted on {after.n_features_in_:,}")
    return None


def _restore(estimator, networks: dict) -> None:
    """Check a decoded estimator and rebuild its networks: its own hook does both."""
    restore = getattr(estimator, "_restore_fitted", None)
    if restore is None and networks:
        raise ModelFileError(f"Invalid model file: unexpected network {sorted(networks)[0]!r}.")
    try:
        if restore is None:
            estimator._validate_params()
        else:
            restore(networks)
    except Exception as exc:  # noqa: BLE001 - building a model from the file's values failed
        if is_out_of_memory(exc):  # not the file's fault: load says so
            raise
        raise ModelFileError(f"Invalid model file: {_first_line(exc)}") from None


def _is_tag(value, tag: str) -> bool:
    return isinstance(value, dict) and set(value) == {tag}


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__
