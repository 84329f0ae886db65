"""The documentation builds without warnings, and the estimators link to it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from skneuron import TaskNeuronClassifier, TaskNeuronRegressor
from skneuron._docs import API_PAGE_TEMPLATE, DOCS_URL

ROOT = Path(__file__).resolve().parent.parent
#: What the docs build reads, relative to the repository root.
DOC_SOURCES = ("docs", "examples", "benchmarks/results")


@pytest.mark.parametrize("estimator", [TaskNeuronRegressor(), TaskNeuronClassifier()])
def test_html_repr_links_to_the_estimators_api_page(estimator):
    name = type(estimator).__name__
    page = f"{DOCS_URL}/generated/skneuron.{name}.html"
    assert estimator._get_doc_link() == page
    links = re.findall(r'href="([^"#]+)', estimator._repr_html_())
    assert page in links


def test_api_page_template_names_the_pages_autosummary_writes():
    # The build test below checks that these files exist in the built site.
    assert API_PAGE_TEMPLATE.format(estimator_module="skneuron", estimator_name="X") == (
        f"{DOCS_URL}/generated/skneuron.X.html"
    )


@pytest.fixture(scope="module")
def built_site(tmp_path_factory) -> Path:
    """Build the site as CI does: warnings are errors, the examples are not executed
    (tests/test_examples.py runs them), sources copied so the tree stays clean."""
    work = tmp_path_factory.mktemp("docs")
    for source in DOC_SOURCES:
        shutil.copytree(ROOT / source, work / source,
                        ignore=shutil.ignore_patterns("_build", "generated", "auto_examples",
                                                      "sg_execution_times.rst", "__pycache__"))
    html = work / "html"
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
               "-D", "plot_gallery=0", str(work / "docs"), str(html)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False,
                            env={**os.environ, "MPLBACKEND": "Agg"})
    assert result.returncode == 0, f"sphinx-build failed:\n{result.stdout}\n{result.stderr}"
    return html


def test_docs_build_with_warnings_as_errors(built_site):
    for page in ["index", "getting_started", "api", "method", "benchmarks", "scaling", "errors",
                 "user_guide/discovery", "user_guide/formula", "user_guide/saving",
                 "auto_examples/index", "auto_examples/classification_proba",
                 "auto_examples/save_and_load"]:
        assert (built_site / f"{page}.html").is_file(), page


def test_every_public_object_has_an_api_page(built_site):
    import skneuron
    import skneuron.datasets
    import skneuron.export
    import skneuron.nn
    import skneuron.persistence
    import skneuron.preprocessing
    import skneuron.training

    names = [f"skneuron.{n}" for n in skneuron.__all__ if not n.startswith("__")]
    names.remove("skneuron.DiscoveryResult")  # listed as skneuron.DiscoveryResult below too
    names += ["skneuron.DiscoveryResult", "skneuron.discovery.discover_td",
              "skneuron.discovery.discover_sr"]
    names += [f"skneuron.nn.{n}" for n in skneuron.nn.__all__ if n != "ACTIVATIONS"]
    names += [f"skneuron.training.{n}" for n in skneuron.training.__all__]
    # skneuron.persistence.load is documented as skneuron.load (in the list above)
    names += [f"skneuron.persistence.{n}" for n in skneuron.persistence.__all__ if n != "load"]
    names += [f"skneuron.export.{n}" for n in skneuron.export.__all__]
    names += [f"skneuron.preprocessing.{n}" for n in skneuron.preprocessing.__all__]
    names += [f"skneuron.datasets.{n}" for n in skneuron.datasets.__all__
              if n != "PLANTED_POLYNOMIAL_TERMS"]  # a constant, described in the functions' pages
    missing = [n for n in names if not (built_site / "generated" / f"{n}.html").is_file()]
    assert not missing


def test_benchmark_page_holds_the_result_tables(built_site):
    text = (built_site / "benchmarks.html").read_text(encoding="utf-8")
    for results in sorted((ROOT / "benchmarks" / "results").glob("*.md")):
        first_row = next(line for line in results.read_text(encoding="utf-8").splitlines()
                         if line.startswith("| ") and "---" not in line)
        first_cell = first_row.split("|")[1].strip()
        assert first_cell in text, results.name


def test_estimator_pages_document_their_methods(built_site):
    shared = ["fit", "save", "export_torchscript", "export_onnx"]  # from the shared base
    for name, methods in [("TaskNeuronRegressor", [*shared, "predict"]),
                          ("TaskNeuronClassifier", [*shared, "predict", "predict_proba",
                                                    "predict_log_proba"])]:
        page = (built_site / "generated" / f"skneuron.{name}.html").read_text(encoding="utf-8")
        for method in methods:
            assert f'id="skneuron.{name}.{method}"' in page, (name, method)
        assert f'id="skneuron.{name}.get_params"' not in page  # documented by scikit-learn
