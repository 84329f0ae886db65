"""Formula text never runs code and cannot exhaust time or memory (issue 19, items 1, 2, 6)."""

from __future__ import annotations

import re
import sys
import time

import numpy as np
import pytest
import sympy
from sklearn.utils._param_validation import InvalidParameterError

from benchmarks.fuzz import PAYLOAD_RUNS, CodeWatch
from skneuron import FormulaSyntaxError, NeuronFormula, TaskNeuronRegressor
from skneuron import formula as formula_module
from skneuron._elementwise import compile_elementwise
from skneuron.formula import parse_expression

#: The issue's attacks: full-width letters NFKC-normalise to ``subs``, and an
#: octal-escaped string literal holds no ASCII name for a name check to see.
ATTACKS = [
    "x.\uff53\uff55\uff42\uff53(x, '\\137\\137import\\137\\137(\"benchmarks.fuzz\").payload()')",
    "\uff53\uff55\uff42\uff53(x)",
    "x + '\\137\\137import\\137\\137'",
    "__import__('benchmarks.fuzz').payload()",
    "x.__class__.__mro__",
    "sin(x).func",
    "lambda: 0",
    "x; import os",
    "Symbol('y')",
    "x if x else x",
    "[x for x in ()]",
]


@pytest.fixture(scope="module")
def watch():
    NeuronFormula.parse("x + sin(x) + inter(2)")  # lazy imports are not code execution
    return CodeWatch.get()


@pytest.mark.parametrize("text", ATTACKS)
def test_formula_text_never_runs_code(watch, text):
    runs, events = len(PAYLOAD_RUNS), len(watch.events)
    with watch.watching(), pytest.raises(FormulaSyntaxError):
        NeuronFormula.parse(text)
    with watch.watching(), pytest.raises(FormulaSyntaxError):
        parse_expression(text)
    assert PAYLOAD_RUNS[runs:] == [] and watch.events[events:] == []


def test_the_watch_sees_what_sympify_does(watch):
    """The detector works: sympy's own parser compiles and evaluates text."""
    events = len(watch.events)
    with watch.watching():
        sympy.sympify("x + 1")
    assert {event for event, _ in watch.events[events:]} & {"compile", "exec"}


def test_parsing_and_compiling_never_call_sympify(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("sympify was called on formula text")

    monkeypatch.setattr(sympy, "sympify", refuse)
    monkeypatch.setattr(sys.modules["sympy.parsing.sympy_parser"], "parse_expr", refuse)
    formula = NeuronFormula.parse("x + x**2 + exp(-x**2/2) + inter(2, rank=3) + 2*log(abs(x))")
    assert formula.functions == ("exp(-x**2/2)", "log(Abs(x))")
    assert NeuronFormula.from_dict(formula.to_dict()) == formula
    assert compile_elementwise("x*tanh(x) + sqrt(x)")[0] == "add"
    assert formula.to_sympy(["a"]).has(sympy.exp)


def test_full_width_text_reads_as_ascii_after_normalisation():
    assert NeuronFormula.parse("\uff58 + \uff53\uff49\uff4e(\uff58)").terms == ("x", "sin(x)")


@pytest.mark.parametrize(("text", "limit"), [
    ("x*9**9**8", "MAX_POWER"),                      # sympy would compute 9**43046721
    ("sin(" * 20 + "x" + ")" * 20, "MAX_DEPTH"),     # sympy.simplify ran over 60 s
    ("x**99999", "MAX_POWER"),                       # OverflowError
    ("x**150", "MAX_POWER"),                         # fitted with every prediction NaN
    ("(x**16)**16", "MAX_POWER"),                    # a power built by sympy, not written
    ("inter(2000)", "MAX_INTERACTION_ORDER"),        # 16 s, then NaN
    ("inter(2, rank=1000000)", "MAX_RANK"),           # a 20 GB allocation
    ("-" * 50 + "x", "MAX_DEPTH"),
    ("(" * 500 + "x" + ")" * 500, "MAX_DEPTH"),      # no RecursionError either
    (" + ".join(["sin(x)"] * 40), "MAX_TERMS"),
    ("x" + "".join(f"*(x+{k})" for k in range(1, 40)), "MAX_TERM_SIZE"),
    ("x*" + "9" * 40, "MAX_NUMBER_LENGTH"),
    ("x*1e300", "MAX_CONSTANT"),
    ("x*1e-300", "MAX_CONSTANT"),
    ("x + " * 600 + "x", "MAX_FORMULA_LENGTH"),
])
def test_limits_are_checked_before_any_work_and_named(text, limit):
    start = time.perf_counter()
    with pytest.raises(FormulaSyntaxError, match=limit):
        NeuronFormula.parse(text)
    assert time.perf_counter() - start < 0.5


@pytest.mark.parametrize("limit", ["MAX_FORMULA_LENGTH", "MAX_TERMS", "MAX_POWER",
                                   "MAX_INTERACTION_ORDER", "MAX_RANK", "MAX_DEPTH",
                                   "MAX_TERM_SIZE", "MAX_CONSTANT", "MAX_NUMBER_LENGTH",
                                   "MAX_CANONICAL_ROUNDS"])
def test_limits_are_named_module_constants(limit):
    assert isinstance(getattr(formula_module, limit), int)


def test_the_largest_formulas_within_the_limits_parse_quickly():
    deep = "sin(" * 9 + "x" + ")" * 9
    text = " + ".join([f"x**{k}" for k in range(1, 17)] + [deep, "inter(16, rank=1024)"])
    start = time.perf_counter()
    formula = NeuronFormula.parse(text)
    assert time.perf_counter() - start < 0.5
    assert formula.pure_orders == tuple(range(1, 17)) and formula.rank == 1024


def test_the_constructor_holds_the_same_limits():
    for values in ({"pure_orders": (150,)}, {"interaction_orders": (2000,)},
                   {"interaction_orders": (2,), "rank": 10**6}, {"functions": ("x**99999",)},
                   {"functions": ("sin(x)",) * 40}, {"pure_orders": ("1",)},
                   {"functions": "sin(x)"}, {"rank": True, "interaction_orders": (2,)}):
        with pytest.raises(ValueError):
            NeuronFormula(**values)


def test_terms_that_are_not_finite_real_expressions_are_refused():
    for text in ("log(0*x)", "x/0", "sqrt(-1)*x + x", "exp(1) + x", "x*log(-1) + x", "x**x"):
        with pytest.raises(FormulaSyntaxError, match="cannot read term|exponent"):
            NeuronFormula.parse(text)


def test_a_sum_inside_a_term_survives_the_round_trip_through_its_terms():
    formula = NeuronFormula.parse("x - x**2 + (sin(x) + x**3) + 2*cos(x)")
    assert formula.terms == ("(-x**2 + x)", "cos(x)", "(x**3 + sin(x))")
    assert NeuronFormula.parse(" + ".join(formula.terms)) == formula


def test_rank_beyond_the_limit_is_a_parameter_error_before_any_allocation():
    X = np.random.default_rng(0).normal(size=(50, 3))
    start = time.perf_counter()
    with pytest.raises(InvalidParameterError, match="'rank' parameter .* \\[1, 1024\\]"):
        TaskNeuronRegressor(rank=10**6, max_iter=1).fit(X, X[:, 0])
    assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize("formula", ["x**150", "inter(2000)", "x*9**9**8"])
def test_a_hostile_formula_parameter_fails_fit_before_training(formula):
    X = np.random.default_rng(0).normal(size=(50, 3))
    estimator = TaskNeuronRegressor(formula=formula, max_iter=1)
    with pytest.raises(FormulaSyntaxError):
        estimator.fit(X, X[:, 0])
    assert not hasattr(estimator, "network_")


@pytest.mark.parametrize("method", ["td", "sr"])
def test_discovery_refuses_a_rank_above_the_formula_limit_before_allocating(method):
    from skneuron.discovery import METHODS
    from skneuron.formula import MAX_RANK

    X = np.random.default_rng(0).standard_normal((100, 3))
    with pytest.raises(ValueError, match=r"'rank' parameter .*\[1, 1024\]"):
        METHODS[method](X, X[:, 0], rank=MAX_RANK + 1)


# ------------------------------------------------------------------ number sizes (bug bash C1, C2)
@pytest.mark.parametrize(("text", "literal", "position", "problem"), [
    ("1e99999999999*x", "1e99999999999", 0, "at most 1e\\+12"),    # sympy: a 41 GB integer
    ("1e99999999*x", "1e99999999", 0, "at most 1e\\+12"),          # sympy: minutes
    ("x*1e-9999999", "1e-9999999", 2, "at least 1e-12"),            # sympy: for ever
    ("x*1e-320", "1e-320", 2, "at least 1e-12"),                    # float: 0.0, not 0
    ("x + sin(.00000000000001*x)", ".00000000000001", 8, "at least 1e-12"),
])
def test_a_number_literal_is_sized_before_sympy_reads_it(text, literal, position, problem):
    start = time.perf_counter()
    with pytest.raises(FormulaSyntaxError) as error:
        NeuronFormula.parse(text)
    assert time.perf_counter() - start < 0.5
    message = str(error.value)
    assert re.match(f"cannot read number '{re.escape(literal)}': numbers .*{problem} in size "
                    f"\\(MAX_CONSTANT\\) at position {position} of formula:", message), message


@pytest.mark.parametrize("text", [
    "abs(x-exp(x-1e12))",   # sympy pulls out exp(-1e12) = 5.6e-434294481904, then hung reading it
    "x*exp(-1e12) + sin(x)",
    "x*exp(1e12)",
    "x*(1e-7*1e-7)",
    "sin(x*1e-6/1e7)",
])
def test_a_number_sympy_makes_beyond_max_constant_is_refused_quickly(text):
    start = time.perf_counter()
    with pytest.raises(FormulaSyntaxError, match="MAX_CONSTANT"):
        NeuronFormula.parse(text)
    assert time.perf_counter() - start < 0.5


@pytest.mark.parametrize("text", [
    # A function of a large integer stays a symbol; printing it evaluated it, and hung.
    "x*(x + sin(exp(999999999999)))",
    "cos(exp(999999999999))-1",
    "x + exp(exp(38))*x",
    "exp((7-(tanh((exp(999999999999)+(1/3/7))))))*x",
    "x*exp(28)",
    "sin(x + exp(-999999999999))",  # underflows to 0 in floats: still too small
    "sin(x)*exp(-100000)",
    "sin(x*(1+exp(27))**10)",  # a sum and a power of numbers: 1e114
    "sin(x*(((1+exp(27))**16+1)**16+1)**16)",  # inf in floats: NaN on every row
])
def test_a_function_of_a_number_beyond_max_constant_is_refused_quickly(text):
    start = time.perf_counter()
    with pytest.raises(FormulaSyntaxError, match="MAX_CONSTANT"):
        NeuronFormula.parse(text)
    formula = NeuronFormula.__new__(NeuronFormula)  # as pickle and skops.io.load make it
    with pytest.raises(FormulaSyntaxError, match="MAX_CONSTANT"):
        formula.__setstate__({"pure_orders": (1,), "functions": (text,)})
    assert time.perf_counter() - start < 0.5


def test_a_function_of_a_number_within_the_bounds_is_a_constant_factor():
    assert NeuronFormula.parse("x*exp(27) + sin(x)*exp(-27)").terms == ("x", "sin(x)")
    assert NeuronFormula.parse("sin(x*tan(1e11))").terms == ("sin(2.50424481449822*x)",)
    with pytest.raises(FormulaSyntaxError, match="not evaluate to a finite real number"):
        NeuronFormula.parse("x + sin(x)*log(-exp(2))")  # log of a negative number
    with pytest.raises(FormulaSyntaxError, match="not evaluate to a finite real number"):
        NeuronFormula.parse("sin(x*(-8)**(1/3))")  # a complex cube root


@pytest.mark.parametrize(("mpf", "problem"), [
    ((0, 1, -10**12, 1), "at least 1e-12"), ((0, 1, 10**12, 1), "at most 1e\\+12"),
    ((1, 3, -42, 2), "at least 1e-12"), ((0, 1, 40, 1), "at most 1e\\+12"),
])
def test_a_float_of_any_exponent_is_sized_from_its_exponent(mpf, problem):
    start = time.perf_counter()
    number = sympy.Float._new(mpf, 53)
    assert re.search(problem, formula_module._check_tree(number * sympy.Symbol("x")))
    assert time.perf_counter() - start < 0.1


def test_numbers_at_the_bounds_and_zero_are_accepted():
    for text in ("1e12*x + 1e-12*sin(x)", "x + sin(0.000000000001*x)", "x + sin(x + 0e99999999)",
                 "x + exp(-1e-12*x)", "x + sin(1000000000000*x)"):
        NeuronFormula.parse(text)


def test_a_saved_or_pickled_formula_with_a_hostile_number_is_refused_quickly():
    for text in ("abs(x-exp(x-1e12))", "x*1e-9999999", "1e99999999999*x"):
        start = time.perf_counter()
        with pytest.raises(FormulaSyntaxError, match="MAX_CONSTANT"):
            NeuronFormula.from_dict({"functions": [text]})
        formula = NeuronFormula.__new__(NeuronFormula)  # as pickle and skops.io.load make it
        with pytest.raises(FormulaSyntaxError, match="MAX_CONSTANT"):
            formula.__setstate__({"pure_orders": (1,), "functions": (text,)})
        assert time.perf_counter() - start < 0.5
