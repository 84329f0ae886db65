"""A brief fuzz of the formula parser and the loader under hypothesis (``benchmarks/fuzz.py`` runs the long one).

Each input must be accepted or refused with the documented error, run no
code (audit events, planted payload) and finish in well under two seconds.
"""

from __future__ import annotations

import json
import random
import time

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from benchmarks.fuzz import (  # noqa: E402
    HOSTILE_FRAGMENTS, PAYLOAD_RUNS, CodeWatch, base_models, mutate_model_file,
    random_formula, read_formula, read_model_file)
from skneuron import FormulaSyntaxError, NeuronFormula  # noqa: E402
from skneuron.persistence import MAX_JSON_DEPTH, ModelFileError, _json_problem  # noqa: E402

SETTINGS = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])
LANGUAGE = ["x", "sin(", "exp(", "log(", "abs(", "(", ")", "+", "-", "*", "/", "**", "^", "2",
            "16", "0.5", "inter(2)", "inter(3, rank=4)", ","]
formula_texts = st.one_of(
    st.text(max_size=60),
    st.lists(st.sampled_from(LANGUAGE + list(HOSTILE_FRAGMENTS)), max_size=25).map("".join),
    st.randoms(use_true_random=False).map(random_formula),
)


def _checked(function, documented, watch) -> str:
    runs, events = len(PAYLOAD_RUNS), len(watch.events)
    start = time.perf_counter()
    try:
        with watch.watching():
            outcome = function()
    except documented:
        outcome = "refused"
    assert time.perf_counter() - start < 2.0
    assert PAYLOAD_RUNS[runs:] == [] and watch.events[events:] == []
    return outcome


@pytest.fixture(scope="module")
def watch():
    read_formula("x + sin(x) + inter(2)")  # lazy imports are not code execution
    return CodeWatch.get()


@SETTINGS
@given(text=formula_texts)
def test_formula_strings_parse_or_are_refused_and_run_no_code(watch, text):
    _checked(lambda: read_formula(text), FormulaSyntaxError, watch)


@SETTINGS
@given(text=formula_texts)
def test_accepted_formulas_print_back_to_themselves(text):
    try:
        formula = NeuronFormula.parse(text)
    except FormulaSyntaxError:
        return
    assert NeuronFormula.parse(" + ".join(formula.terms)) == formula
    assert NeuronFormula.from_dict(json.loads(json.dumps(formula.to_dict()))) == formula


@pytest.fixture(scope="module")
def model_files(watch, tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz")
    files = base_models()
    for name, data, rows in files:  # warm: every module the loader uses is imported
        (folder / "warm.skn").write_bytes(data)
        read_model_file(str(folder / "warm.skn"), rows)
    return folder, files


@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(rng=st.randoms(use_true_random=False))
def test_mutated_model_files_load_or_are_refused_and_run_no_code(watch, model_files, rng):
    folder, files = model_files
    _, data, rows = rng.choice(files)
    path = folder / "fuzzed.skn"
    path.write_bytes(mutate_model_file(data, rng))
    _checked(lambda: read_model_file(str(path), rows), ModelFileError, watch)


@SETTINGS
@given(value=st.recursive(st.none() | st.integers() | st.text(alphabet='[]{},"\\ab'),
                          lambda inner: st.lists(inner, max_size=3)
                          | st.dictionaries(st.text(alphabet='[]{}"\\', max_size=3), inner,
                                            max_size=3), max_leaves=40))
def test_json_depth_is_counted_exactly_before_parsing(value):
    def depth(item):
        if isinstance(item, (list, dict)):
            children = item.values() if isinstance(item, dict) else item
            return 1 + max((depth(child) for child in children), default=0)
        return 0

    nested = value
    for _ in range(random.Random(repr(value)).randint(0, 70)):
        nested = [nested]
    problem = _json_problem(json.dumps(nested).encode())
    assert (problem is not None) == (depth(nested) > MAX_JSON_DEPTH)
