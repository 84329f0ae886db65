"""Sphinx configuration of the skneuron documentation.

Build the full site (executes the examples for the gallery, ~1 minute)::

    pip install -e ".[docs]"
    sphinx-build -W --keep-going -b html docs docs/_build/html

Build without running the examples (what the test suite does; the examples
are smoke-tested separately by ``tests/test_examples.py``)::

    sphinx-build -W --keep-going -b html -D plot_gallery=0 docs docs/_build/html

Nothing is fetched from the network at build time: no intersphinx, and the
theme ships its own assets.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))  # the package and the benchmarks, without installing

import skneuron  # noqa: E402
from skneuron._docs import DOCS_URL  # noqa: E402

project = "skneuron"
author = "skneuron developers"
copyright = "skneuron developers"
version = release = skneuron.__version__
html_baseurl = DOCS_URL + "/"

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # MathJax served from _static: pages render math offline
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "**/GALLERY_HEADER.rst", "auto_examples/*.ipynb",
                    "auto_examples/*.py", "auto_examples/*.zip"]
templates_path = ["_templates"]

# -- API reference ----------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"members": True}
autodoc_typehints = "none"  # the numpydoc sections carry the types
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
# Every documented object must pass these numpydoc checks, or the -W build fails;
# tests/test_docstrings.py reads this list and applies it to every public object.
numpydoc_validation_checks = {
    "GL06",  # unknown section
    "GL07",  # sections in the wrong order
    "GL08",  # no docstring
    "PR01",  # a parameter is not documented
    "PR02",  # a documented parameter does not exist
    "RT01",  # no Returns section
    "SS01",  # no summary
    "EX01",  # no Examples section
}
# torch's forward is called through the module, as each class's example shows;
# extra_repr is a torch hook.
numpydoc_validation_exclude = {r"\.forward$", r"\.extra_repr$"}


def _skip_member(app, what, name, obj, skip, options):
    """Document only members that skneuron defines.

    The estimators' pages list inherited members (``fit`` lives in the shared
    base class); what scikit-learn or torch define (``score``, ``get_params``,
    the metadata-routing setters, ``nn.Module`` methods) is documented there.
    """
    if name == "extra_repr":  # a torch hook
        return True
    if what == "class":
        defined_in = getattr(getattr(obj, "fget", obj), "__module__", None) or ""
        if not defined_in.startswith("skneuron"):
            return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_member)


# -- Markdown pages (MyST) --------------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

# -- Example gallery --------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r".*\.py$",  # run every example, not only plot_*.py
    "ignore_pattern": r"__init__\.py",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "matplotlib_animations": False,
    "show_memory": False,
    "min_reported_time": 1,
}
os.environ.setdefault("MPLBACKEND", "Agg")

# -- HTML -------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skneuron {release}"
html_static_path = ["_static"]
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_show_sourcelink = False
# Single pages have no section navigation: give their tables the full width.
html_sidebars = {page: [] for page in ["index", "getting_started", "scaling", "api", "errors",
                                        "method", "benchmarks"]}
