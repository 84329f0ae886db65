"""Redraw the static pictures of the README and the docs from the examples.

Run from the repository root: ``python docs/make_figures.py``. Each example in
``FIGURES`` is executed as a script (matplotlib's Agg backend, no window) and
its last figure is written to ``docs/_static/``.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

#: Example script → picture it draws.
FIGURES = {
    "examples/regression_formula.py": "docs/_static/regression_formula.png",
    "examples/classification_proba.py": "docs/_static/classification_proba.png",
}


def main(names: list[str]) -> None:
    for script, picture in FIGURES.items():
        if names and Path(script).stem not in names:
            continue
        plt.close("all")
        runpy.run_path(str(ROOT / script), run_name="__main__")
        plt.gcf().savefig(ROOT / picture, dpi=110)
        print(f"{script} -> {picture}")


if __name__ == "__main__":
    main(sys.argv[1:])
