"""The README's ten-line example prints exactly the output the README shows, and the
getting-started page, which repeats it, shows what the fitted estimator holds."""

from __future__ import annotations

import contextlib
import doctest
import functools
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def _example_and_output() -> tuple[str, str]:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Ten lines"):]
    code, output = re.search(r"```python\n(.*?)```\s*prints\s*```\n(.*?)```", section, re.S).groups()
    return code, output


@functools.cache
def _run_example() -> tuple[dict, str]:
    """The example's namespace and printed output, run once per test process."""
    code, _ = _example_and_output()
    namespace: dict = {"__name__": "__main__"}  # in-process, as a new script
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        exec(compile(code, str(README), "exec"), namespace)
    return namespace, printed.getvalue()


def test_readme_example_prints_what_the_readme_says():
    code, expected = _example_and_output()
    assert len(code.strip().splitlines()) <= 11
    assert _run_example()[1] == expected


def test_getting_started_shows_the_same_example_and_output():
    code, output = _example_and_output()
    page = (README.parent / "docs" / "getting_started.md").read_text(encoding="utf-8")
    assert code in page
    assert output in page


def test_getting_started_session_shows_what_the_fitted_estimator_holds():
    text = (README.parent / "docs" / "getting_started.md").read_text(encoding="utf-8")
    session = re.search(r"```python\n(>>> reg\.formula_.*?)```", text, re.S).group(1)
    test = doctest.DocTestParser().get_doctest(session, dict(_run_example()[0]),
                                               "getting_started", None, 0)
    test.examples = [example for example in test.examples if example.want]  # shown outputs
    assert len(test.examples) >= 2
    report = io.StringIO()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test, out=report.write)
    assert runner.failures == 0, report.getvalue()
