"""Every public class, function and method has a complete numpydoc docstring.

"Public" is everything in the ``__all__`` of ``skneuron``, ``skneuron.nn``,
``skneuron.discovery``, ``skneuron.training``, ``skneuron.persistence``,
``skneuron.export``, ``skneuron.preprocessing``, ``skneuron.datasets`` and
``skneuron.cli``, and the public methods and
properties those classes define (inherited ones from scikit-learn or torch
are theirs to document). The ``Examples`` sections run as doctests through
``--doctest-modules`` (see ``[tool.pytest.ini_options]``).
"""

from __future__ import annotations

import importlib
import inspect
import runpy
from pathlib import Path

import pytest

numpydoc_validate = pytest.importorskip("numpydoc.validate")

MODULES = ("skneuron", "skneuron.nn", "skneuron.discovery", "skneuron.training",
           "skneuron.persistence", "skneuron.export", "skneuron.preprocessing", "skneuron.datasets",
           "skneuron.cli")

#: The numpydoc checks every public object must pass: the docs build's own list
#: (``numpydoc_validation_checks`` in ``docs/conf.py``), so the two cannot drift apart.
CHECKS = runpy.run_path(str(Path(__file__).parents[1] / "docs" / "conf.py"))[
    "numpydoc_validation_checks"]
#: torch's ``forward`` is called through the module, as each class's example shows.
NO_EXAMPLE_NEEDED = {"forward"}
#: Hooks of other libraries, documented there.
SKIPPED = {"extra_repr"}


def _public_objects() -> list[str]:
    names, seen = [], set()
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            if not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue
            qualified = f"{obj.__module__}.{obj.__qualname__}"
            if qualified in seen:
                continue
            seen.add(qualified)
            names.append(qualified)
            if inspect.isclass(obj):
                names += [f"{qualified}.{member}" for member in _own_members(obj)]
    return names


def _own_members(cls) -> list[str]:
    """Public methods and properties defined by skneuron in ``cls`` or its bases."""
    members = {}
    for klass in reversed(cls.__mro__):
        if not klass.__module__.startswith("skneuron"):
            continue
        for name, value in vars(klass).items():
            if name.startswith("_") or name in SKIPPED:
                continue
            if callable(value) or isinstance(value, (property, classmethod, staticmethod)):
                members[name] = value
    return sorted(members)


PUBLIC = _public_objects()


def test_the_audit_sees_the_whole_api():
    assert "skneuron._estimators.TaskNeuronRegressor.fit" in PUBLIC
    assert "skneuron.formula.NeuronFormula.to_latex" in PUBLIC
    assert "skneuron.nn.layers.TaskNeuronLayer.term_weights" in PUBLIC
    assert "skneuron.training.fit_network" in PUBLIC
    # model files, export and preprocessing (the deploy branch)
    for method in ("save", "export_torchscript", "export_onnx"):
        assert f"skneuron._estimators.TaskNeuronClassifier.{method}" in PUBLIC
    assert "skneuron.persistence.load" in PUBLIC  # also skneuron.load
    assert "skneuron.persistence.read_manifest" in PUBLIC
    assert "skneuron.persistence.ModelVersionWarning" in PUBLIC
    assert "skneuron.export.export_onnx" in PUBLIC
    assert "skneuron.export.PredictionModule.forward" in PUBLIC
    assert "skneuron.preprocessing.TabularEncoder.get_feature_names_out" in PUBLIC
    assert "skneuron.cli.main" in PUBLIC
    assert len(PUBLIC) > 40


@pytest.mark.parametrize("name", PUBLIC)
def test_public_docstring_is_complete(name):
    result = numpydoc_validate.validate(name)
    checks = CHECKS - ({"EX01"} if name.rsplit(".", 1)[-1] in NO_EXAMPLE_NEEDED else set())
    if result["type"] == "property":
        checks = checks - {"RT01"}
    errors = [f"{code}: {message}" for code, message in result["errors"] if code in checks]
    assert not errors, f"{name}:\n" + "\n".join(errors)
