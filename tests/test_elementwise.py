"""One interpreter of element-wise programs (skneuron._elementwise).

The network's layers evaluate a formula's element-wise terms on torch
tensors and SR discovery scores them on numpy arrays; both run
``evaluate_elementwise``. These tests check that the two array types give the
same values on every term SR can build, and that what SR scores a term by
is what the layer computes for it.
"""

import functools
import math

import numpy as np
import pytest
import torch

from skneuron import NeuronFormula
from skneuron._elementwise import EXP_CAP, LOG_EPS, compile_elementwise, evaluate_elementwise
from skneuron.discovery._common import CLIP
from skneuron.discovery.sr._scoring import CandidateScores
from skneuron.discovery.sr._search import Search
from skneuron.discovery.sr._trees import (
    FUNCTIONS,
    LEAF,
    canonical_terms,
    enumerate_trees,
    operators,
    program,
)
from skneuron.nn import TaskNeuronLayer

# Zero, values near it (protected log and division), ordinary ones, both clip
# bounds, and values far outside them (capped exp, clamped tan).
INPUTS = np.concatenate([
    [0.0, -0.0, 1e-9, -1e-9, 1e-6, -1e-6, 0.5, -0.5, 1.0, -1.0, 1.4, -1.6, 2.0, -3.0],
    [CLIP, -CLIP, 7.0, -7.0, 30.0, -30.0, 1e3, -1e3],
    np.random.default_rng(0).normal(scale=2.0, size=40),
])


@functools.cache
def sr_programs():
    """The program of every canonical term of every SR tree of up to three levels."""
    unary, binary = operators(FUNCTIONS)
    programs = {}
    for tree in enumerate_trees(unary, binary, 3):
        for term in canonical_terms(tree):
            programs.setdefault(term.text, program(term.expr))
    return programs


UNARY = ("sin", "cos", "tan", "tanh", "exp", "log", "Abs", "sqrt")
EXPONENTS = (2.0, 3.0, 4.0, -1.0, -2.0, 0.5, 1.5, -0.5)


def random_program(rng, depth, *, root=True):
    """A random program of at most ``depth`` levels, using every kind of node."""
    kind = rng.integers(2) if depth <= 1 else rng.integers(2 if root else 0, 6)
    if kind == 0:
        return ("x",)
    if kind == 1:
        return ("const", float(rng.choice([-2.0, -1.0, 0.5, 3.0])))
    if kind in (2, 3):
        args = tuple(random_program(rng, depth - 1, root=False) for _ in range(rng.integers(2, 4)))
        return ("add" if kind == 2 else "mul", args)
    if kind == 4:
        return ("pow", random_program(rng, depth - 1, root=False), float(rng.choice(EXPONENTS)))
    return (str(rng.choice(UNARY)), random_program(rng, depth - 1, root=False))


RANDOM_PROGRAMS = [random_program(np.random.default_rng(seed), 5) for seed in range(1000)]


def test_many_programs_are_checked():
    assert len(sr_programs()) > 100 and len(set(RANDOM_PROGRAMS)) > 800
    every = [*sr_programs().values(), *RANDOM_PROGRAMS]
    ops = {node[0] for term_program in every for node in _nodes(term_program)}
    assert ops == {"x", "const", "add", "mul", "pow", *UNARY}


def _nodes(term_program):
    """Every node of a program, root first."""
    yield term_program
    if term_program[0] in ("add", "mul"):
        for arg in term_program[1]:
            yield from _nodes(arg)
    elif term_program[0] not in ("x", "const"):
        yield from _nodes(term_program[1])


def assert_same_on_numpy_and_torch(term_program, name, *, where=None) -> np.ndarray:
    """Evaluate on both array types, compare (``where`` selects the inputs); the numpy values."""
    memo = {}
    with np.errstate(all="ignore"):
        on_numpy = evaluate_elementwise(term_program, INPUTS, memo=memo)
    on_torch = evaluate_elementwise(term_program, torch.as_tensor(INPUTS, dtype=torch.float64))
    assert isinstance(on_numpy, np.ndarray) and on_torch.dtype == torch.float64
    compared = np.ones(len(INPUTS), dtype=bool) if where is None else where(term_program, memo)
    np.testing.assert_allclose(on_numpy[compared], on_torch.numpy()[compared], rtol=1e-9,
                               atol=1e-12, err_msg=name)
    return compared


def moderate_trig_arguments(term_program, memo) -> np.ndarray:
    """Where every ``sin``/``cos`` argument is at most 10⁶ in magnitude.

    Beyond that numpy's and torch's argument reductions differ (``sin(10¹²)``
    agrees to 4 digits only); such arguments come from nesting, e.g. the
    protected ``sin(1/x²)`` at ``x = 0``.
    """
    moderate = np.ones(len(INPUTS), dtype=bool)
    for node in _nodes(term_program):
        if node[0] in ("sin", "cos"):
            moderate &= np.abs(memo[node[1]]) <= 1e6
    return moderate


def test_numpy_and_torch_agree_on_random_programs():
    compared = sum(
        assert_same_on_numpy_and_torch(p, str(p), where=moderate_trig_arguments).sum()
        for p in RANDOM_PROGRAMS)
    assert compared > 0.95 * len(RANDOM_PROGRAMS) * len(INPUTS)


def test_numpy_and_torch_agree_on_every_sr_term():
    for text, term_program in sr_programs().items():
        assert assert_same_on_numpy_and_torch(term_program, text).all()


@pytest.mark.parametrize("expression", [
    "tan(x)", "sqrt(x)", "1/x", "x**(-2)", "Abs(x)**1.5", "exp(x**3)", "log(x**2)",
    "x*exp(-x**2)", "tanh(x)**2 + cos(2*x)", "3*x**3 - 2*x + 1", "exp(exp(x))",
    "sin(x)/(x**2 + 1)", "log(Abs(sin(x)))",
])
def test_numpy_and_torch_agree_on_formula_terms(expression):
    term_program = compile_elementwise(expression)
    assert_same_on_numpy_and_torch(term_program, expression)
    with np.errstate(all="ignore"):  # the guards keep every term finite on any input
        assert np.isfinite(evaluate_elementwise(term_program, INPUTS)).all()


def test_the_guards_are_the_same_on_both():
    for array in (np.array([0.0, 100.0]), torch.tensor([0.0, 100.0], dtype=torch.float64)):
        exp, log, inverse, tan = (evaluate_elementwise(compile_elementwise(e), array)
                                  for e in ("exp(x)", "log(x)", "1/x", "tan(x)"))
        assert float(exp[1]) == math.exp(EXP_CAP)
        assert float(log[0]) == math.log(LOG_EPS)
        assert float(inverse[0]) == 1.0 / LOG_EPS
        assert float(tan[1]) == math.tan(1.5)


def test_memo_shares_sub_programs_and_gives_the_same_values():
    x = np.linspace(-3, 3, 7)
    memo = {}
    first = evaluate_elementwise(compile_elementwise("sin(x)**2 + exp(sin(x))"), x, memo=memo)
    assert memo[("sin", ("x",))] is not None
    again = evaluate_elementwise(compile_elementwise("sin(x)**2 + exp(sin(x))"), x, memo=memo)
    assert again is first
    np.testing.assert_array_equal(
        first, evaluate_elementwise(compile_elementwise("sin(x)**2 + exp(sin(x))"), x))


def test_torch_evaluation_is_differentiable():
    x = torch.tensor([0.3, -1.2], dtype=torch.float64, requires_grad=True)
    evaluate_elementwise(compile_elementwise("x*exp(-x**2)"), x).sum().backward()
    expected = (1 - 2 * x.detach() ** 2) * torch.exp(-x.detach() ** 2)
    torch.testing.assert_close(x.grad, expected)


def test_unknown_operation_is_refused():
    with pytest.raises(ValueError, match="unsupported element-wise operation 'erf'"):
        evaluate_elementwise(("erf", ("x",)), np.zeros(2))


# ----------------------------------------------------------- SR scores what the layer computes
def layer_sums(text: str, X: np.ndarray) -> np.ndarray:
    """``Σ_i φ(x_i)`` as a one-neuron layer with unit weights computes it."""
    formula = NeuronFormula(pure_orders=(), functions=(text,))
    layer = TaskNeuronLayer(X.shape[1], 1, formula, dtype=torch.float64)
    with torch.no_grad():
        layer.weight.fill_(1.0)
        layer.bias.zero_()
        return layer(torch.as_tensor(X)).numpy()[:, 0]


TREES = {
    "sin(x)": ("sin", LEAF),
    "exp(-x**2)": ("exp", ("sub", ("square", LEAF))),
    "x*cos(x)": ("mul", LEAF, ("cos", LEAF)),
    "log(Abs(x))": ("log", LEAF),
    "tanh(x**2)": ("tanh", ("square", LEAF)),
    "exp(x)": ("exp", LEAF),
}


def test_sr_scores_each_term_by_the_values_the_layer_computes():
    rng = np.random.default_rng(0)
    X = rng.normal(scale=2.5, size=(300, 4))  # some rows beyond the clip bound
    X[:3, 0] = [0.0, 8.0, -9.0]
    y = np.sin(X).sum(axis=1) + 0.5 * np.exp(-X**2).sum(axis=1) + 0.1 * rng.standard_normal(300)
    Y = ((y - y.mean()) / y.std())[:, None]
    search = Search(X, Y, functions=FUNCTIONS, max_terms=2, max_complexity=6, max_order=3,
                    max_nesting=1, parsimony=0.03, rng=np.random.default_rng(1), n_jobs=None)
    library = search.library
    for text, tree in TREES.items():
        (cid,) = search.library.resolve([tree])[0]
        assert library.names[cid] == text
        on_layer = layer_sums(text, X)
        stored = library.features[cid] * library.feature_scale[cid] + library.feature_mean[cid]
        np.testing.assert_allclose(stored, on_layer[library.row_order], rtol=1e-9, atol=1e-9)

        # The cross-validated score from the layer's values is SR's score.
        search.scores.score([(cid,)])
        sr_mse = search.scores.scores[(cid,)][0]
        saved = library.features[cid].copy()
        library.features[cid] = ((on_layer - on_layer.mean()) / on_layer.std())[library.row_order]
        from_layer = CandidateScores(library, search.scores.Y, search.scores.slices, 0.03)
        from_layer.score([(cid,)])
        library.features[cid] = saved
        assert from_layer.scores[(cid,)][0] == pytest.approx(sr_mse, rel=1e-9, abs=1e-12)
