"""NeuronFormula: a value that parses, prints and compares."""

import pickle

import pytest
import sympy

from skneuron import FormulaSyntaxError, NeuronFormula


def test_defaults_to_the_linear_neuron():
    formula = NeuronFormula()
    assert formula.terms == ("x",)
    assert formula.is_linear
    assert str(formula) == "σ(w₁ᵀx + b)"


def test_plain_data_is_sorted_and_deduplicated():
    formula = NeuronFormula(pure_orders=(3, 1, 3), interaction_orders=(3, 2), rank=4)
    assert formula.pure_orders == (1, 3)
    assert formula.interaction_orders == (2, 3)
    assert formula.rank == 4
    assert formula.n_terms == 4


def test_rank_is_zero_without_interactions_so_equal_formulas_compare_equal():
    assert NeuronFormula((1, 2), rank=3) == NeuronFormula((1, 2), rank=8)
    assert NeuronFormula((1, 2), rank=3).rank == 0
    assert NeuronFormula(interaction_orders=(2,), rank=3) != NeuronFormula(interaction_orders=(2,))


@pytest.mark.parametrize(
    ("text", "pure", "interaction", "rank", "functions"),
    [
        ("x", (1,), (), 0, ()),
        ("x + x**2", (1, 2), (), 0, ()),
        ("x^3 + x", (1, 3), (), 0, ()),
        ("2*x + 0.5*x**2", (1, 2), (), 0, ()),
        ("inter(2)", (), (2,), 8, ()),
        ("x + inter(2, rank=3) + inter(3)", (1,), (2, 3), 3, ()),
        ("x + sin(x)", (1,), (), 0, ("sin(x)",)),
        ("exp(-x**2) + x**2", (2,), (), 0, ("exp(-x**2)",)),
    ],
)
def test_parse(text, pure, interaction, rank, functions):
    formula = NeuronFormula.parse(text)
    assert (formula.pure_orders, formula.interaction_orders, formula.rank, formula.functions) == (
        pure, interaction, rank, functions,
    )


def test_terms_round_trip_through_parse():
    formula = NeuronFormula((1, 2), (3,), rank=5, functions=("cos(x)",))
    assert NeuronFormula.parse(" + ".join(formula.terms)) == formula
    assert eval(repr(formula), {"NeuronFormula": NeuronFormula.parse}) == formula


def test_algebraically_equal_functions_are_one_term():
    formula = NeuronFormula(pure_orders=(), functions=("sin(x)", "sin(x)*1", "x**2"))
    assert formula.functions == ("sin(x)",)
    assert formula.pure_orders == (2,)  # x**2 given as a function is a pure power


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x + y", r"unknown name 'y'.*position 4"),
        ("x + (x", "unbalanced '\\('"),
        ("x ++ x**2", "empty term at position 3"),
        ("x + inter(1)", "interaction_orders must hold integers >= 2"),
        ("inter(2, rank=2) + inter(3, rank=4)", "share one rank"),
        ("", "non-empty"),
        ("x + 1", "must depend on x"),
    ],
)
def test_parse_errors_point_at_the_problem(text, message):
    with pytest.raises(FormulaSyntaxError, match=message):
        NeuronFormula.parse(text)


def test_a_printed_formula_pasted_back_says_what_to_pass_instead():
    formula = NeuronFormula.parse("x + x**2 + inter(3, rank=8)")
    with pytest.raises(FormulaSyntaxError, match=r"how a fitted formula prints.*formula_\.terms"):
        NeuronFormula.parse(str(formula))
    assert NeuronFormula.parse(" + ".join(formula.terms)) == formula  # the advice works


def test_formula_syntax_error_is_a_value_error():
    assert issubclass(FormulaSyntaxError, ValueError)


def test_hash_and_pickle():
    a, b = NeuronFormula.parse("x + inter(2)"), NeuronFormula((1,), (2,))
    assert len({a, b}) == 1
    assert pickle.loads(pickle.dumps(a)) == a


def test_is_immutable():
    with pytest.raises(AttributeError):
        NeuronFormula().rank = 3


def test_str_shows_every_kind_of_term():
    text = str(NeuronFormula.parse("x + x**3 + inter(2, rank=4) + sin(x)"))
    assert text == "σ(w₁ᵀx + w₃ᵀx∘³ + Σᵣ₌₁⁴ vᵣ(u₁ᵣᵀx)(u₂ᵣᵀx) + w_{sin(x)}ᵀsin(x) + b)"


def test_to_sympy_with_feature_names_expands_every_weight():
    expression = NeuronFormula.parse("x + inter(2, rank=1)").to_sympy(["a", "c"])
    a, c = sympy.symbols("a c")
    polynomial = sympy.Poly(expression, a, c)
    assert polynomial.total_degree() == 2
    assert len(polynomial.monoms()) == 6  # a², ac, c², a, c, 1


def test_to_sympy_indexed_form_and_latex():
    formula = NeuronFormula.parse("x**2 + sin(x)")
    expression = formula.to_sympy()
    assert expression.has(sympy.Sum)
    assert expression.has(sympy.sin)
    latex = formula.to_latex()
    assert "\\sum_{i=1}^{n}" in latex and "\\sin" in latex


def test_dict_round_trip():
    formula = NeuronFormula.parse("x + x**2 + inter(3, rank=2) + tanh(x)")
    assert NeuronFormula.from_dict(formula.to_dict()) == formula


# ------------------------------------------------------------------ periodic terms
def test_periodic_term_parses_prints_and_round_trips():
    f = NeuronFormula.parse("x + periodic(8) + inter(2, rank=4)")
    assert f.periodic == 8 and f.terms == ("x", "inter(2, rank=4)", "periodic(8)")
    assert "Σⱼ₌₁⁸ wⱼᵀsin(2πfⱼ∘x + φⱼ)" in str(f)
    assert NeuronFormula.parse(" + ".join(f.terms)) == f
    assert NeuronFormula.from_dict(f.to_dict()) == f
    assert "periodic" not in NeuronFormula.parse("x").to_dict()  # older files stay readable
    assert (NeuronFormula.parse("x") | "periodic(4)").periodic == 4
    assert NeuronFormula.parse("periodic(2)").to_sympy(["age"]).has(sympy.sin)


@pytest.mark.parametrize(("text", "message"), [
    ("periodic(0)", "1 to 64 frequencies"),
    ("periodic(65)", "MAX_FREQUENCIES"),
    ("x * periodic(2)", "a term of its own"),
    ("periodic(2) + periodic(3)", "one periodic term"),
    ("periodic(x)", "whole number of frequencies"),
])
def test_bad_periodic_terms_are_named(text, message):
    with pytest.raises(FormulaSyntaxError, match=message):
        NeuronFormula.parse(text)
