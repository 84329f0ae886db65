"""The outputs the guide pages show are what the code prints: pages drift otherwise when a
default changes (the README's example and the getting-started page, which repeats it, are
checked in ``test_readme.py``)."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import numpy as np

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _blocks(page: str, language: str) -> list[str]:
    text = (DOCS / page).read_text(encoding="utf-8")
    return re.findall(rf"```{language}\n(.*?)```", text, re.S)


def _seconds_removed(text: str) -> str:
    return re.sub(r"\(\d+\.\d+ ?s\)", "(…)", text)


def test_discovery_page_shows_the_verbose_output_of_its_setup():
    from sklearn.datasets import make_friedman1

    from skneuron import TaskNeuronRegressor

    shown = next(b for b in _blocks("user_guide/discovery.md", "text")
                 if b.startswith("TD discovery")).splitlines()
    X, y = make_friedman1(n_samples=1000, noise=0.5, random_state=0)
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        TaskNeuronRegressor(verbose=True, max_iter=3, random_state=0).fit(X, y)
    lines = printed.getvalue().splitlines()
    search = [line for line in shown if not line.startswith("Iteration")]
    assert [_seconds_removed(line) for line in lines[:len(search)]] == \
        [_seconds_removed(line) for line in search]
    # The training log: same epochs; losses and scores agree to float32 training's noise.
    log, shown_log = lines[len(search):], shown[len(search):]
    assert len(log) == len(shown_log) == 3

    def numbers(line):
        return [float(v) for v in re.findall(r"= (-?\d+\.\d+)", line)]

    for line, shown_line in zip(log, shown_log):
        np.testing.assert_allclose(numbers(line), numbers(shown_line), rtol=1e-3)
