"""Smoke tests: every script in examples/ runs to the end and prints what it promises.

The docs build does not execute the examples (``plot_gallery=0``); this is where they run.
Each must finish well within a minute on two cores; the time limit here only catches hangs.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

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


@pytest.mark.parametrize("script", sorted(EXPECTED_OUTPUT))
def test_example_runs(script, tmp_path):
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / script)], cwd=tmp_path, capture_output=True, text=True,
        timeout=300, check=False, env={**os.environ, "MPLBACKEND": "Agg"},
    )
    seconds = time.perf_counter() - start
    assert result.returncode == 0, result.stderr[-3000:]
    for text in EXPECTED_OUTPUT[script]:
        assert text in result.stdout, f"{script} did not print {text!r}:\n{result.stdout}"
    print(f"{script}: {seconds:.1f} s")
