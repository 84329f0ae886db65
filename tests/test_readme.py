"""The README's ten-line example prints exactly the output the README shows."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def _example_and_output() -> tuple[str, str]:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Ten lines"):]
    code, output = re.search(r"```python\n(.*?)```\s*prints\s*```\n(.*?)```", section, re.S).groups()
    return code, output


def test_readme_example_prints_what_the_readme_says(tmp_path, monkeypatch):
    code, expected = _example_and_output()
    assert len(code.strip().splitlines()) <= 11
    monkeypatch.chdir(tmp_path)  # in-process, as a new script: no interpreter start-up to pay
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        exec(compile(code, str(README), "exec"), {"__name__": "__main__"})
    assert printed.getvalue() == expected


def test_getting_started_shows_the_same_example_and_output():
    code, output = _example_and_output()
    page = (README.parent / "docs" / "getting_started.md").read_text(encoding="utf-8")
    assert code in page
    assert output in page
