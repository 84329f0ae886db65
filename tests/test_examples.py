"""Smoke tests: every script in examples/ runs to the end and prints what it promises.

The docs build does not execute the examples (``plot_gallery=0``); this is where they run,
in this process as ``python script.py`` would run them (``runpy``, as ``__main__``, in a
temporary directory), which spares each the interpreter's start-up and imports; what a
script changes globally (warning filters, torch threads, figures) is undone after it.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import runpy
import warnings
from pathlib import Path

import pytest
import torch

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
#: save_and_load.py runs its ONNX part only where onnxruntime is installed (skneuron[onnx]).
HAS_ONNXRUNTIME = importlib.util.find_spec("onnxruntime") is not None

#: Text each example must print: evidence that it did what its title says.
EXPECTED_OUTPUT = {
    "classification_proba.py": ["Discovered neuron: σ(", "P(class) of the first test rows",
                                "linear neuron: test accuracy"],
    "compare_discovery.py": ["TD: σ(", "SR: σ(", "discovery='sr'"],
    "pipeline_search.py": ["best parameters:", "pickle round trip: identical predictions"],
    "real_table.py": ["Discovered neuron: σ(", "categorical columns: [", "test R²: task neurons",
                      "test R²: fair MLP", "test R²: HistGradientBoosting"],
    "regression_formula.py": ["Discovered neuron: σ(", "held-out R²", "LaTeX:",
                              "test R²: task neurons"],
    "save_and_load.py": ["saved and loaded wine.skn: identical probabilities",
                         "manifest: TaskNeuronClassifier", "TorchScript probabilities match",
                         *(["onnxruntime predicts the same labels"] if HAS_ONNXRUNTIME else [])],
    "torch_layer.py": ["final MSE", "linear neurons: final MSE", "weight block"],
}


def test_every_example_is_smoke_tested():
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(EXPECTED_OUTPUT)


@pytest.fixture
def example_warnings(monkeypatch, tmp_path):
    """The warnings an example raises, recorded in its own working directory; the global
    state it may change (warning filters, torch threads, figures) is restored after it."""
    plt = pytest.importorskip("matplotlib.pyplot")
    plt.switch_backend("Agg")
    monkeypatch.chdir(tmp_path)
    threads = torch.get_num_threads()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # the script's own filters come first
        yield caught
    torch.set_num_threads(threads)
    plt.close("all")


@pytest.mark.parametrize("script", sorted(EXPECTED_OUTPUT))
def test_example_runs_and_warns_nothing(script, example_warnings):
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        runpy.run_path(str(EXAMPLES / script), run_name="__main__")
    for text in EXPECTED_OUTPUT[script]:
        assert text in printed.getvalue(), f"{script} did not print {text!r}:\n{printed.getvalue()}"
    # what its user would see on stderr (deprecations inside libraries are hidden from them)
    shown = [f"{w.category.__name__}: {w.message}" for w in example_warnings
             if not issubclass(w.category, (DeprecationWarning, PendingDeprecationWarning))]
    assert shown == [], f"{script} warns:\n" + "\n".join(shown)
