"""NeuronSeek-SR: discover a neuron formula by vectorized symbolic regression.

Every input variable shares one scalar formula ``g``, so the model searched is::

    ŷ_c(x) = c_{0,c} + Σ_j c_{j,c} · Σ_i φ_j(x_i)

where ``g = Σ_j c_j φ_j`` is a sum of small expression trees ``φ_j`` over one
scalar variable. Each additive term ``φ_j`` becomes a term of the neuron: a pure
power ``x**k`` becomes a pure power term ``W_k x^{∘k}``, anything else (``sin(x)``,
``x*exp(-x**2)``, …) an element-wise term ``W_φ · φ(x)``.

Compared with the genetic programming of the paper, the coefficients ``c_j``
of every candidate are fitted by least squares (not drawn as random
constants), candidates pay a relative parsimony price per operation, terms
and whole candidates are deduplicated (sympy canonical form, then numerically
up to the affine maps least squares cannot tell apart), the terms new to a
generation are evaluated in one batched pass and all candidates of a
generation are fitted at once, each generation ends with a greedy local search
(add / drop / swap one term) around the best candidate, and near-ties are
settled by a one-standard-error rule in favour of the simplest candidate. The algorithm,
its defaults and what the returned numbers mean are described in
``docs/method.md`` §2 and in :func:`discover_sr`.
"""

from __future__ import annotations

import functools
import math
import re
import time
import warnings
from typing import NamedTuple

import numpy as np
import sympy
from scipy.special import expit
from joblib import Parallel, delayed
from sklearn.utils import check_array, check_random_state

from skneuron.discovery._result import DiscoveryResult
from skneuron.formula import VARIABLE, NeuronFormula
from skneuron._elementwise import EXP_CAP, LOG_EPS, compile_elementwise

__all__ = ["discover_sr", "DEFAULT_FUNCTION_SET", "FUNCTIONS", "MIN_SAMPLES"]

#: Every base function the search can use, by the name ``function_set`` takes.
#: ``"sub"`` also gives unary negation (needed for e.g. ``exp(-x**2)``);
#: ``"log"`` is the protected ``log(|·| + 1e-6)`` and ``"exp"`` is evaluated
#: at ``min(·, 20)``, exactly as the network evaluates them.
FUNCTIONS = ("add", "sub", "mul", "square", "cube", "sin", "cos", "exp", "log", "tanh")

#: The default ``function_set``: all of :data:`FUNCTIONS`.
DEFAULT_FUNCTION_SET = FUNCTIONS

#: Below this many rows the 10-fold cross-validation has too few held-out rows:
#: discovery returns the linear formula without a search.
MIN_SAMPLES = 60

_ALIASES = {"+": "add", "-": "sub", "*": "mul", "×": "mul", "−": "sub", "neg": "sub"}
_BINARY = ("add", "sub", "mul")

# Non-linear terms see the input clamped to ±_CLIP, as the network's layers do.
_CLIP = 5.0
# Largest magnitude a term may reach on [-_CLIP, _CLIP]: exp(x) (148) and x**3
# (125) pass, exp(2*x), x**3*exp(x) or exp(exp(x)) do not.
_MAX_MAGNITUDE = 1e3
# Cross-validated MSEs (of the standardised target) below this count as equal.
_MSE_FLOOR = 1e-12
# Cross-validation folds used to score every candidate.
_N_FOLDS = 10
# Depth limits of the expression trees: new random trees, and any tree.
_INIT_DEPTH, _MAX_DEPTH = 3, 5
# How many of the best candidates details["hall_of_fame"] lists.
_N_REPORTED = 10
# Terms tried by a local search step: half the most used in the population,
# half those best correlated with the current residual.
_LOCAL_LIBRARY = 40
# Rough cap on memory of one batched term evaluation (float64 values).
_EVAL_BYTES = 2**27

# Probabilities of the variation operators (in this order).
_OPERATORS = ("crossover", "subtree_crossover", "subtree_mutation", "point_mutation", "wrap",
              "product", "add_term", "delete_term", "replace_term")
_OPERATOR_P = np.array([0.20, 0.10, 0.15, 0.10, 0.10, 0.10, 0.10, 0.08, 0.07])

_X = sympy.Symbol("x", real=True)  # real: log|exp(x)| = x, |x|**2 = x**2
_LEAF = ("x",)
_PURE_POWER = re.compile(r"^x(?:\*\*(\d+))?$")


def discover_sr(
    X,
    Y,
    *,
    function_set=DEFAULT_FUNCTION_SET,
    population_size: int = 200,
    generations: int = 30,
    n_iter_no_change: int = 8,
    tournament_size: int = 7,
    parsimony_coefficient: float = 0.03,
    max_terms: int = 4,
    max_complexity: int = 6,
    max_order: int = 3,
    rank: int = 8,
    standardize="auto",
    max_samples: int = 2000,
    random_state=None,
    n_jobs=None,
) -> DiscoveryResult:
    """Discover a neuron formula by vectorized symbolic regression (NeuronSeek-SR).

    The search looks for a scalar formula ``g(x) = Σ_j c_j φ_j(x)`` such that
    ``Y ≈ c_0 + Σ_j c_j Σ_i φ_j(x_i)`` (one set of ``c`` per output column),
    by genetic programming over the terms ``φ_j``:

    1. ``Y`` is standardised column by column; ``X`` is standardised too unless
       it already is on a unit scale (see ``standardize``). At most
       ``max_samples`` rows are used, split into 10 cross-validation folds.
    2. A candidate is a set of at most ``max_terms`` terms. A term is an
       expression tree over ``x`` built from ``function_set``, brought to
       sympy canonical form, expanded, split at its top-level ``+`` into
       monomials and stripped of numeric factors (least squares fits those).
       Terms equal up to an affine map on the data (which least squares cannot
       tell apart, e.g. ``sin(x)**2`` and ``cos(x)**2``) are merged under the
       simplest form. A term is dropped if it is constant on the data, uses a
       power above ``max_order``, has complexity above ``max_complexity`` or
       exceeds 10³ in magnitude on ``[-5, 5]`` (``exp(exp(x))``, ``exp(2*x)``).
    3. A term's feature is ``S_φ = Σ_i φ(x_i)``, evaluated as the network
       does: non-linear terms see ``x`` clamped to ±5, ``exp`` is evaluated
       at ``min(·, 20)`` and ``log`` is ``log(|·| + 1e-6)``. The terms new to
       a generation are evaluated in one batched pass (shared subexpressions
       once) and cached for the rest of the search.
    4. Every candidate's coefficients are fitted by least squares with an
       intercept. ``mse`` is the 10-fold cross-validated mean squared error
       on the standardised ``Y``, averaged over the columns, and the fitness
       is ``J = log(mse) + parsimony_coefficient · complexity``. A term's
       complexity is ``1 +`` its number of sympy operations, negation and the
       ``|·|`` of ``log|·|`` being free (``x``: 1; ``x**2``, ``sin(x)``: 2;
       ``exp(-x**2)``, ``x*cos(x)``: 3); a candidate's is the sum over its
       terms. All new candidates of a generation are fitted together, from
       per-fold Gram matrices, in batched normal equations.
    5. The first population holds every term of up to three levels (and
       ``x`` times each unary one) alone, plus random pairs and triples of
       the best of them. Each generation keeps the best 5 % and breeds the
       rest from tournament winners by term crossover, subtree crossover,
       subtree mutation, point mutation, wrapping a subtree in a new node,
       the product of two terms, and adding, deleting or replacing a term;
       duplicate candidates are discarded. Then a greedy local search (drop,
       add or swap one term, among the most used terms and those best
       correlated with the residual) improves the best candidate. The search
       stops after ``generations``, or when the best ``J`` has not improved
       for ``n_iter_no_change`` generations; a last, wider local search
       follows.
    6. Selection: the simplest candidate (lowest complexity, then fewest
       terms, then lowest ``J``) whose ``J`` is within one paired standard
       error (over the folds) of the lowest ``J`` — so that near-ties, common
       on real data, are settled by simplicity rather than by the fold
       split. It is then
       pruned and grown: a term whose removal does not raise ``J`` is
       dropped, a term whose addition lowers ``J`` by more than the standard
       error of the difference is added, until neither applies. The
       intercept-only model competes too.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Inputs. The estimators pass standardised inputs, the units in which
        the network evaluates the formula.
    Y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Targets. For classification pass the class indicator (one-hot)
        matrix: the fitness is then the mean, over classes, of the
        cross-validated error of the least-squares one-vs-rest fit to the
        standardised indicators (a linear-probability score, cheap to solve
        in closed form); the terms are shared by all classes, the
        coefficients are per class.
    function_set : sequence of str, default=DEFAULT_FUNCTION_SET
        Base functions, from ``"add" "sub" "mul" "square" "cube" "sin" "cos"
        "exp" "log" "tanh"`` (``"+" "-" "*"`` are accepted for the first
        three). ``"sub"`` also gives unary negation; without ``"mul"``,
        ``"square"`` and ``"cube"`` only ``x`` and unary functions of it remain.
    population_size : int, default=200
        Candidates per generation.
    generations : int, default=30
        Most generations of the genetic programming.
    n_iter_no_change : int, default=8
        Stop when the best fitness has not improved for this many generations.
    tournament_size : int, default=7
        Candidates per selection tournament.
    parsimony_coefficient : float, default=0.03
        Price of one complexity unit in ``J = log(mse) + p · complexity``: a
        term of complexity ``k`` pays its way only if it lowers the
        cross-validated error by a factor ``exp(−k·p)`` (about ``k·p·100 %``;
        6 % for ``sin(x)`` at the default). The price is relative, so a
        planted formula with little noise is recovered exactly while noisy
        real data get small formulas. Also the temperature of
        :attr:`DiscoveryResult.term_probabilities`.
    max_terms : int, default=4
        Most terms of a candidate.
    max_complexity : int, default=6
        Most complexity of one term.
    max_order : int, default=3
        Highest integer power allowed anywhere in a term (``x**k`` as a pure
        term, ``sin(x)**k``, ``exp(x**k)`` …), as ``max_order`` caps the
        pure powers in TD discovery.
    rank : int, default=8
        Unused: SR finds no interaction terms. Accepted so that the
        estimators can pass the same keywords to every discovery method.
    standardize : {"auto", True, False}, default="auto"
        Whether to centre and scale each column of ``X`` before the search.
        Element-wise terms are not scale-invariant (``sin(x)`` of the raw
        input is ``sin(s·x)`` of the standardised one), so the search should
        run in the units the network applies the formula in. ``"auto"``
        standardises unless every column already has ``|mean| ≤ 0.5`` and a
        standard deviation in ``[0.5, 2]`` — true of the estimators'
        standardised inputs and of inputs on a natural unit scale, whose
        units are kept.
    max_samples : int, default=2000
        Rows used by the search; larger inputs are subsampled at random.
    random_state : int, RandomState instance or None, default=None
        Seeds the row sampling, the folds and the genetic programming. Only a
        local generator is used; the same integer gives the same result,
        whatever ``n_jobs``.
    n_jobs : int or None, default=None
        Threads (through joblib) evaluating the new terms of a generation
        when that batch is large; ``None`` means 1 unless in a
        :func:`joblib.parallel_config` context. The result does not depend on
        it.

    Returns
    -------
    DiscoveryResult
        ``method="sr"``. ``term_probabilities`` maps each selected term ``t``
        of the selection ``S`` to ``σ((J(S∖t) − J(S)) / T)`` and the
        (at most 10) best other terms to ``σ(min(0, J(S) − J(S∪t) − se) / T)``,
        ``se`` the paired standard error of the difference and
        ``T = parsimony_coefficient``: a term is above 0.5 exactly when it is
        selected. ``validation_score`` is the cross-validated R² of the
        selected formula, ``1 − mse``.
        ``details`` holds:

        - ``"coefficients"``: for each selected term, the fitted ``c_j`` per
          output in the units of ``Y`` (and of ``X`` as searched), and
          ``"intercept"``: ``c_0`` per output;
        - ``"expression"``: the fitted ``g`` for the first output as text;
        - ``"mse"``, ``"complexity"``, ``"J"`` of the selection;
        - ``"hall_of_fame"``: the best distinct candidates by ``J``, each a
          dict with ``terms``, ``mse``, ``complexity`` and ``J``;
        - ``"history"``: the best ``J`` of the first population and after
          each generation;
        - ``"n_generations"``, ``"n_terms_evaluated"``,
          ``"n_candidates_evaluated"``, ``"n_samples"``, ``"standardized"``,
          ``"function_set"``, ``"parsimony_coefficient"``;
        - ``"reason"``, when the search was skipped.

    Warns
    -----
    UserWarning
        When no candidate beats the intercept-only model by its parsimony
        price (constant or unpredictable target, or one that no formula
        shared by all inputs explains); the linear formula is returned.

    Notes
    -----
    With fewer than :data:`MIN_SAMPLES` (60) rows the linear formula is
    returned without a search, ``details["reason"]`` says why and
    ``validation_score`` is NaN.

    The cost is about ``population_size · generations`` small least-squares
    fits over ``max_samples`` rows plus one evaluation of every distinct term
    on ``max_samples × n_features`` values; sympy canonicalisation of trees
    is cached across calls. At the defaults a search takes well under a
    second on 2000 × 8 and on 10 000 × 20 inputs (2 cores), see
    ``benchmarks/sr_recovery.py``.

    Since every input shares ``g``, SR describes targets that are sums of one
    function of each input well, and anything else only through the best
    such sum; its terms are meaningful in the units of ``X`` as searched.

    Examples
    --------
    >>> import numpy as np
    >>> from skneuron.discovery import discover_sr
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-2, 2, size=(2000, 8))
    >>> y = np.sin(X).sum(axis=1) + 0.5 * (X ** 2).sum(axis=1)
    >>> result = discover_sr(X, y, random_state=0)
    >>> result.formula.terms
    ('x**2', 'sin(x)')
    >>> print(result.formula)
    σ(w₂ᵀx∘² + w_{sin(x)}ᵀsin(x) + b)
    >>> round(float(result.details["coefficients"]["x**2"][0]), 2)
    0.5
    """
    start = time.perf_counter()
    functions = _check_options(
        function_set, population_size, generations, n_iter_no_change, tournament_size,
        parsimony_coefficient, max_terms, max_complexity, max_order, rank, standardize,
        max_samples,
    )
    X = check_array(X, dtype=np.float64, input_name="X")
    Y = check_array(Y, dtype=np.float64, ensure_2d=False, input_name="Y")
    if Y.ndim not in (1, 2):
        raise ValueError(f"Y must be 1- or 2-dimensional; got shape {Y.shape}.")
    Y = Y.reshape(len(Y), -1)
    if len(Y) != len(X):
        raise ValueError(f"X and Y have different numbers of rows: {len(X)} and {len(Y)}.")
    base_details = {"function_set": functions, "parsimony_coefficient": parsimony_coefficient}

    def linear(reason: str, *, warn: bool, details=None) -> DiscoveryResult:
        if warn:
            warnings.warn(
                f"SR discovery found no informative term ({reason}); the linear neuron is used.",
                UserWarning,
                stacklevel=3,
            )
        details = dict(details or {})
        probabilities = details.pop("_probabilities", {})
        score = details.pop("_score", float("nan"))
        return DiscoveryResult(
            formula=NeuronFormula(),
            method="sr",
            term_probabilities=probabilities,
            validation_score=score,
            fit_time=time.perf_counter() - start,
            details={**base_details, **details, "reason": reason},
        )

    n_samples = len(X)
    if n_samples < MIN_SAMPLES:
        return linear(f"only {n_samples} samples; the search needs at least {MIN_SAMPLES}",
                      warn=False)

    rng = np.random.default_rng(check_random_state(random_state).randint(2**31 - 1))
    rows = rng.permutation(n_samples)[: min(n_samples, max_samples)]
    X, Y = X[rows], Y[rows]
    standardized = _needs_standardizing(X) if standardize == "auto" else bool(standardize)
    if standardized:
        X = _standardise(X)
    y_mean, y_scale = Y.mean(axis=0), Y.std(axis=0)
    informative = y_scale > 1e-12 * np.maximum(np.abs(Y).max(axis=0), 1.0)
    if not informative.any():
        return linear("the target is constant", warn=True)
    Ys = (Y[:, informative] - y_mean[informative]) / y_scale[informative]

    search = _Search(
        X, Ys, functions=functions, max_terms=max_terms, max_complexity=max_complexity,
        max_order=max_order, parsimony=parsimony_coefficient, rng=rng, n_jobs=n_jobs,
    )
    history = search.run(population_size, generations, n_iter_no_change, tournament_size)
    search.refine()
    best, term_evidence = search.select(max(parsimony_coefficient, 1e-4))

    details = {
        **base_details,
        "hall_of_fame": search.hall_of_fame(_N_REPORTED),
        "history": history,
        "n_generations": len(history) - 1,
        "n_terms_evaluated": search.n_terms_evaluated,
        "n_candidates_evaluated": len(search.scores),
        "n_samples": len(X),
        "standardized": standardized,
    }
    mse, complexity, J = search.scores[best]
    details.update(mse=mse, complexity=complexity, J=J)
    probabilities = {search.names[t]: p for t, p in term_evidence.items()}
    if not best:
        return linear(
            "no candidate lowers the cross-validated error by more than its parsimony price",
            warn=True, details={**details, "_probabilities": probabilities, "_score": 1.0 - mse},
        )

    names = [search.names[t] for t in best]
    pure = tuple(int(m.group(1) or 1) for m in map(_PURE_POWER.match, names) if m)
    others = [name for name in names if not _PURE_POWER.match(name)]
    formula = NeuronFormula(pure_orders=pure, functions=tuple(others))
    # Report each selected term under the formula's own (sympy-simplified) name.
    renamed = {name: name for name in names if _PURE_POWER.match(name)}
    for name in others:
        renamed[name] = NeuronFormula(pure_orders=(), functions=(name,)).terms[0]
    probabilities = {renamed.get(name, name): p for name, p in probabilities.items()}

    coef, intercept = search.coefficients(best)  # standardised units, (m, C') and (C',)
    full_coef = np.zeros((len(best), Y.shape[1]))
    full_intercept = y_mean.copy()
    mu, sd = search.feature_mean[list(best)], search.feature_scale[list(best)]
    scale = y_scale[informative]
    full_coef[:, informative] = coef * scale / sd[:, None]
    full_intercept[informative] += scale * (intercept - (coef * (mu / sd)[:, None]).sum(axis=0))
    details["coefficients"] = {renamed[n]: full_coef[j] for j, n in enumerate(names)}
    details["intercept"] = full_intercept
    indexed = [re.sub(r"\bx\b", "xᵢ", renamed[n]) for n in names]
    details["expression"] = " + ".join(
        [f"{full_intercept[0]:.4g}"]
        + [f"{full_coef[j, 0]:.4g}·Σᵢ {phi}" for j, phi in enumerate(indexed)]
    )
    return DiscoveryResult(
        formula=formula,
        method="sr",
        term_probabilities=probabilities,
        validation_score=float(1.0 - mse),
        fit_time=time.perf_counter() - start,
        details=details,
    )


# ---------------------------------------------------------------------- options
def _check_options(function_set, population_size, generations, n_iter_no_change,
                   tournament_size, parsimony_coefficient, max_terms, max_complexity,
                   max_order, rank, standardize, max_samples) -> tuple[str, ...]:
    def integer(name, value, low):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}; got {value!r}.")

    integer("population_size", population_size, 2)
    integer("generations", generations, 0)
    integer("n_iter_no_change", n_iter_no_change, 1)
    integer("tournament_size", tournament_size, 1)
    integer("max_terms", max_terms, 1)
    integer("max_complexity", max_complexity, 1)
    integer("max_order", max_order, 1)
    integer("rank", rank, 1)
    integer("max_samples", max_samples, MIN_SAMPLES)
    p = parsimony_coefficient
    if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)) \
            or not math.isfinite(p) or p < 0:
        raise ValueError(f"parsimony_coefficient must be a number >= 0; got {p!r}.")
    if not (standardize == "auto" or isinstance(standardize, (bool, np.bool_))):
        raise ValueError(f"standardize must be 'auto', True or False; got {standardize!r}.")
    if isinstance(function_set, str):
        function_set = (function_set,)
    try:
        requested = [_ALIASES.get(f, f) for f in function_set]
    except TypeError:
        raise ValueError(f"function_set must be a sequence of names; got {function_set!r}.")
    unknown = [f for f in requested if f not in FUNCTIONS]
    if unknown:
        raise ValueError(f"unknown function(s) {unknown} in function_set; "
                         f"choose from {list(FUNCTIONS)}.")
    functions = tuple(f for f in FUNCTIONS if f in requested)
    return functions


def _needs_standardizing(X: np.ndarray) -> bool:
    mean, scale = X.mean(axis=0), X.std(axis=0)
    return not (np.all(np.abs(mean) <= 0.5) and np.all((scale >= 0.5) & (scale <= 2.0)))


def _standardise(A: np.ndarray) -> np.ndarray:
    scale = A.std(axis=0)
    scale[scale <= 1e-12 * np.maximum(np.abs(A).max(axis=0), 1.0)] = 1.0
    return (A - A.mean(axis=0)) / scale


# ---------------------------------------------------------------------- trees
# A tree is a nested tuple: ("x",), (unary, child) or (binary, left, right).
def _depth(tree) -> int:
    return 1 + max((_depth(c) for c in tree[1:]), default=0)


def _paths(tree, prefix=()):
    yield prefix
    for i, child in enumerate(tree[1:], start=1):
        yield from _paths(child, prefix + (i,))


def _get(tree, path):
    for i in path:
        tree = tree[i]
    return tree


def _replace(tree, path, new):
    if not path:
        return new
    i = path[0]
    return tree[:i] + (_replace(tree[i], path[1:], new),) + tree[i + 1:]


def _to_sympy(tree) -> sympy.Expr:
    op = tree[0]
    if op == "x":
        return _X
    args = [_to_sympy(c) for c in tree[1:]]
    if op == "add":
        return args[0] + args[1]
    if op == "sub":
        return args[0] - args[1] if len(args) == 2 else -args[0]
    if op == "mul":
        return args[0] * args[1]
    if op == "square":
        return args[0] ** 2
    if op == "cube":
        return args[0] ** 3
    if op == "log":  # log|u**k| = k·log|u|: one form for both
        arg = args[0]
        if arg.is_Pow and arg.args[1].is_Integer:
            return arg.args[1] * sympy.log(sympy.Abs(arg.args[0]))
        return sympy.log(sympy.Abs(arg))
    return getattr(sympy, op)(args[0])


def _from_sympy(expr, functions) -> tuple | None:
    """A tree over ``functions`` for a canonical term, or None if there is none."""
    if expr == _X:
        return _LEAF
    if expr.is_Pow:
        base, k = expr.args
        tree = _from_sympy(base, functions)
        if tree is None or not (k.is_Integer and k >= 1):
            return None
        k = int(k)
        if k == 2 and "square" in functions:
            return ("square", tree)
        if k == 3 and "cube" in functions:
            return ("cube", tree)
        if "mul" not in functions:
            return None
        result = tree
        for _ in range(k - 1):
            result = ("mul", result, tree)
        return result
    if expr.is_Mul or expr.is_Add:
        op = "mul" if expr.is_Mul else "add"
        coeff, rest = expr.as_coeff_Mul() if expr.is_Mul else (sympy.Integer(1), expr)
        if expr.is_Mul and coeff != 1:
            tree = _from_sympy(rest, functions)
            return ("sub", tree) if coeff == -1 and tree and "sub" in functions else None
        if op not in functions:
            return None
        trees = []
        for arg in expr.args:
            sign = 1
            if expr.is_Add:
                c, arg = arg.as_coeff_Mul()
                if c not in (1, -1) or ("sub" not in functions and c == -1):
                    return None
                sign = int(c)
            tree = _from_sympy(arg, functions)
            if tree is None:
                return None
            trees.append((sign, tree))
        trees.sort(key=lambda st: -st[0])  # a leading positive term if there is one
        result = trees[0][1] if trees[0][0] > 0 else ("sub", trees[0][1])
        for sign, tree in trees[1:]:
            result = (op if sign > 0 else "sub", result, tree)
        return result
    if isinstance(expr, sympy.log):
        arg = expr.args[0]
        arg = arg.args[0] if isinstance(arg, sympy.Abs) else arg
        tree = _from_sympy(arg, functions)
        return ("log", tree) if tree is not None and "log" in functions else None
    for name in ("sin", "cos", "exp", "tanh"):
        if isinstance(expr, getattr(sympy, name)):
            tree = _from_sympy(expr.args[0], functions)
            return (name, tree) if tree is not None and name in functions else None
    return None


class _Term(NamedTuple):
    """A canonical monomial of a tree and what the limits are checked on."""

    text: str
    expr: sympy.Expr
    complexity: int
    max_power: float  # largest exponent; inf for a negative or fractional one
    max_number: float  # largest |number| inside; inf for a non-rational one


@functools.lru_cache(maxsize=2**16)
def _canonical_terms(tree) -> tuple[_Term, ...]:
    """The canonical monomials of a tree: expanded, split at ``+``, numeric factors dropped.

    Cached across calls (trees are hashable tuples); the search's limits are
    checked by the caller.
    """
    expr = sympy.expand(_to_sympy(tree), deep=False, power_exp=False, power_base=False,
                        log=False)
    result = {}
    for arg in sympy.Add.make_args(expr):
        _, term = arg.as_coeff_Mul()
        if _X not in term.free_symbols:
            continue
        max_power, max_number = 0.0, 0.0
        for node in sympy.preorder_traversal(term):
            if node.is_Pow:
                k = node.args[1]
                max_power = max(max_power, float(k) if k.is_Integer and k >= 1 else math.inf)
            elif node.is_Number:
                max_number = max(max_number, float(abs(node)) if node.is_Rational else math.inf)
        if term.has(sympy.zoo, sympy.oo, sympy.nan, sympy.I):
            max_number = math.inf
        text = sympy.sstr(term)
        result[text] = _Term(text, term, _complexity(term), max_power, max_number)
    return tuple(result.values())


@functools.lru_cache(maxsize=2**16)
def _program(expr) -> tuple:
    return compile_elementwise(expr.xreplace({_X: VARIABLE}))


@functools.lru_cache(maxsize=2**16)
def _magnitude(expr) -> float:
    """Largest ``|φ(t)|`` over the network's input range ``t ∈ [-5, 5]``."""
    grid = np.linspace(-_CLIP, _CLIP, 1001)[:, None]
    with np.errstate(all="ignore"):
        value = _evaluate(_program(expr), {("x",): grid})
    value = np.abs(value)
    return float(value.max()) if np.all(np.isfinite(value)) else math.inf


def _enumerate_trees(unary, binary, depth) -> list:
    """Every tree of at most ``depth`` levels (commutative operands in one order only)."""
    every = [_LEAF]
    for _ in range(depth - 1):
        new = [(op, child) for op in unary for child in every if not (op == "sub" and
                                                                     child[0] == "sub")]
        if "sub" in unary and "exp" in unary:  # the one sign-sensitive unary: exp(-u)
            new += [("exp", ("sub", child)) for child in every if child[0] != "sub"]
        for op in binary:
            for i, a in enumerate(every):
                for b in every[i:] if op != "sub" else every:
                    new.append((op, a, b))
        known = set(every)
        every = every + [t for t in new if t not in known]
    return every


def _complexity(term) -> int:
    """``1 +`` the operations of a term; negation and the ``|·|`` of ``log|·|`` are free."""
    ops = sympy.count_ops(term, visual=True)
    if ops == 0:
        return 1
    count = int(ops.subs({s: 0 if s.name == "NEG" else 1 for s in ops.free_symbols}))
    protected_logs = sum(1 for node in sympy.preorder_traversal(term)
                         if isinstance(node, sympy.log) and isinstance(node.args[0], sympy.Abs))
    return 1 + count - protected_logs


# ---------------------------------------------------------------------- evaluation
def _evaluate_programs(programs, x: np.ndarray, clipped: np.ndarray, shared: dict) -> np.ndarray:
    """``Σ_i φ(x_i)`` for every compiled program; shape ``(len(programs), n)``.

    Programs come from :func:`~skneuron._elementwise.compile_elementwise`
    and are evaluated with the same guards as
    :func:`~skneuron._elementwise.evaluate_elementwise`. Sub-programs shared
    by several terms are evaluated once (``memo``); ``shared`` holds values
    kept across batches (the input and its low powers).
    """
    memo = dict(shared)
    out = np.empty((len(programs), x.shape[0]))
    for j, program in enumerate(programs):
        if program == ("x",):  # the linear term sees the unclamped input, as in the layer
            out[j] = x.sum(axis=1)
            continue
        with np.errstate(all="ignore"):
            out[j] = _evaluate(program, memo).sum(axis=1)
    return out


def _evaluate(program, memo) -> np.ndarray:
    value = memo.get(program)
    if value is not None:
        return value
    op = program[0]
    if op == "const":
        value = np.full_like(memo[("x",)], program[1])
    elif op in ("add", "mul"):
        args = [_evaluate(arg, memo) for arg in program[1]]
        value = args[0].copy()
        for arg in args[1:]:
            if op == "add":
                value += arg
            else:
                value *= arg
    elif op == "pow":
        base, exponent = _evaluate(program[1], memo), program[2]
        if exponent < 0:
            base = np.where(base >= 0, np.maximum(base, LOG_EPS), np.minimum(base, -LOG_EPS))
        value = np.abs(base) ** exponent if exponent != int(exponent) else base ** int(exponent)
    else:
        arg = _evaluate(program[1], memo)
        if op == "sin":
            value = np.sin(arg)
        elif op == "cos":
            value = np.cos(arg)
        elif op == "tanh":
            value = np.tanh(arg)
        elif op == "exp":
            value = np.exp(np.minimum(arg, EXP_CAP))
        elif op == "log":
            value = np.log(np.abs(arg) + LOG_EPS)
        elif op == "Abs":
            value = np.abs(arg)
        elif op == "sqrt":
            value = np.sqrt(np.abs(arg))
        elif op == "tan":
            value = np.tan(np.clip(arg, -1.5, 1.5))
        else:  # pragma: no cover - compile_elementwise only emits the ops above
            raise ValueError(f"unsupported operation {op!r}")
    memo[program] = value
    return value


# ---------------------------------------------------------------------- the search
class _Search:
    """State of one SR run: term classes, their features, scored candidates.

    A *term class* is a set of canonical terms whose features are equal up to
    an affine map on the used rows; ``names[t]``, ``complexity[t]`` and
    ``trees[t]`` describe its simplest member. A candidate is a sorted tuple
    of term-class ids.
    """

    def __init__(self, X, Y, *, functions, max_terms, max_complexity, max_order, parsimony,
                 rng, n_jobs):
        self.functions = functions
        # "sub" with one operand is negation.
        self.unary = tuple(f for f in functions if f not in _BINARY) + (
            ("sub",) if "sub" in functions else ())
        self.binary = tuple(f for f in functions if f in _BINARY)
        self.max_terms, self.max_complexity, self.max_order = max_terms, max_complexity, max_order
        self.parsimony, self.rng, self.n_jobs = parsimony, rng, n_jobs
        self.x = X
        self.clipped = np.clip(X, -_CLIP, _CLIP)
        self.shared = {("x",): self.clipped}
        for k in range(2, max_order + 1):
            self.shared[("pow", ("x",), float(k))] = self.clipped ** k
        n = len(X)
        self.folds = np.array_split(rng.permutation(n), _N_FOLDS)
        # Rows reordered so that every fold is one contiguous slice.
        order = np.concatenate(self.folds)
        self.order = order
        bounds = np.cumsum([0] + [len(f) for f in self.folds])
        self.slices = [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]
        self.Yo = Y[order]

        self.tree_terms: dict = {}  # tree -> tuple of class ids (its canonical monomials)
        self.term_class: dict[str, int] = {}  # canonical term text -> class id (or -1: invalid)
        self.fingerprints: dict[bytes, int] = {}
        self.names: list[str] = []
        self.complexity: list[int] = []
        self.trees: list = []
        self.features = np.empty((64, n))  # standardised features, rows reordered by fold
        self.feature_mean: np.ndarray = np.empty(64)
        self.feature_scale: np.ndarray = np.empty(64)
        self.n_terms_evaluated = 0
        self.scores: dict[tuple, tuple[float, int, float]] = {}
        self.fold_loss: dict[tuple, np.ndarray] = {}  # log of each fold's MSE

    # ------------------------------------------------------------ terms
    def _random_tree(self, depth: int, p_leaf: float = 0.3):
        rng = self.rng
        if depth <= 1 or rng.random() < p_leaf:
            return _LEAF
        if self.binary and rng.random() < 0.3:
            op = self.binary[rng.integers(len(self.binary))]
            return (op, self._random_tree(depth - 1, p_leaf), self._random_tree(depth - 1, p_leaf))
        if not self.unary:
            return _LEAF
        op = self.unary[rng.integers(len(self.unary))]
        return (op, self._random_tree(depth - 1, p_leaf))

    def _valid(self, term: _Term) -> bool:
        return (term.max_power <= self.max_order and term.max_number <= 2 * self.max_order
                and term.complexity <= self.max_complexity)

    def resolve(self, trees) -> list[tuple[int, ...] | None]:
        """Class ids of each tree's terms, creating and evaluating new classes."""
        new_trees = [t for t in dict.fromkeys(trees) if t not in self.tree_terms]
        canonical = {t: [term for term in _canonical_terms(t) if self._valid(term)]
                     for t in new_trees}
        pending: dict[str, tuple] = {}  # new canonical text -> (term, tree)
        for tree in new_trees:
            terms = canonical[tree]
            for term in terms:
                if term.text not in self.term_class and term.text not in pending:
                    pending[term.text] = (term, tree if len(terms) == 1 else None)
        if pending:
            self._add_classes(pending)
        for tree in new_trees:
            ids = [self.term_class[term.text] for term in canonical[tree]]
            self.tree_terms[tree] = tuple(sorted({i for i in ids if i >= 0}))
        return [self.tree_terms[t] for t in trees]

    def _add_classes(self, pending: dict) -> None:
        texts = []
        for text in pending:
            try:
                magnitude = _magnitude(pending[text][0].expr)
            except ValueError:  # an operation the network cannot evaluate
                magnitude = math.inf
            if magnitude <= _MAX_MAGNITUDE:
                texts.append(text)
            else:  # e.g. exp(exp(x)): no use to a network, and a numerical hazard
                self.term_class[text] = -1
        if not texts:
            return
        programs = [_program(pending[t][0].expr) for t in texts]
        values = self._evaluate_batch(programs)
        self.n_terms_evaluated += len(texts)
        for text, value in zip(texts, values):
            term, tree = pending[text]
            mean, scale = value.mean(), value.std()
            if not (np.isfinite(scale) and scale > 1e-9 * max(np.abs(mean), 1.0)):
                self.term_class[text] = -1  # constant or non-finite on the data
                continue
            z = (value - mean) / scale
            key = np.round(z[:512] * (1.0 if z[0] >= 0 else -1.0), 6).tobytes()
            complexity = term.complexity
            if tree is None:
                tree = _from_sympy(term.expr, self.functions)
            cid = self.fingerprints.get(key)
            if cid is None:
                cid = len(self.names)
                self.fingerprints[key] = cid
                self.names.append(text)
                self.complexity.append(complexity)
                self.trees.append(tree)
                self._store(cid, z[self.order], mean, scale)
            elif (complexity, len(text), text) < (self.complexity[cid], len(self.names[cid]),
                                                  self.names[cid]):
                # A simpler form of a known term: it becomes the class's name.
                self.names[cid], self.complexity[cid] = text, complexity
                self.trees[cid] = tree if tree is not None else self.trees[cid]
                self.scores = {k: self._rescore(k, v[0]) for k, v in self.scores.items()}
            self.term_class[text] = cid

    def _rescore(self, key, mse: float):
        complexity = sum(self.complexity[t] for t in key)
        return mse, complexity, math.log(max(mse, _MSE_FLOOR)) + self.parsimony * complexity

    def _store(self, cid, z, mean, scale):
        if cid >= len(self.features):
            grow = len(self.features)
            self.features = np.concatenate([self.features, np.empty((grow, z.size))])
            self.feature_mean = np.concatenate([self.feature_mean, np.empty(grow)])
            self.feature_scale = np.concatenate([self.feature_scale, np.empty(grow)])
        self.features[cid] = z
        self.feature_mean[cid], self.feature_scale[cid] = mean, scale

    def _evaluate_batch(self, programs) -> np.ndarray:
        per_program = self.x.size * 8 * 4  # a few intermediate arrays per program
        chunk = max(1, min(len(programs), _EVAL_BYTES // per_program))
        chunks = [programs[i:i + chunk] for i in range(0, len(programs), chunk)]
        n_jobs = self.n_jobs
        if len(chunks) == 1 and (n_jobs not in (None, 1)) and len(programs) * self.x.size > 4e6:
            size = math.ceil(len(programs) / 4)
            chunks = [programs[i:i + size] for i in range(0, len(programs), size)]
        if len(chunks) > 1 and n_jobs not in (None, 1):
            parts = Parallel(n_jobs=n_jobs, prefer="threads")(
                delayed(_evaluate_programs)(c, self.x, self.clipped, self.shared) for c in chunks)
        else:
            parts = [_evaluate_programs(c, self.x, self.clipped, self.shared) for c in chunks]
        return np.concatenate(parts, axis=0)

    # ------------------------------------------------------------ scoring
    def score(self, candidates) -> None:
        """Cross-validated MSE and fitness of every candidate not yet scored."""
        todo = [c for c in dict.fromkeys(candidates) if c not in self.scores]
        by_size: dict[int, list] = {}
        for c in todo:
            by_size.setdefault(len(c), []).append(c)
        for m, group in by_size.items():
            for begin in range(0, len(group), 512):
                part = group[begin:begin + 512]
                fold_mse = self._cv_mse(np.array(part, dtype=np.intp).reshape(len(part), m))
                for c, e in zip(part, fold_mse):
                    self.scores[c] = self._rescore(c, float(e.mean()))
                    self.fold_loss[c] = np.log(np.maximum(e, _MSE_FLOOR))

    def _design(self, index):
        P, m = index.shape
        A = np.empty((P, m + 1, self.features.shape[1]))
        A[:, 0] = 1.0
        A[:, 1:] = self.features[index]
        return A

    def _fold_statistics(self, A):
        G, B = [], []
        for s in self.slices:
            a = A[:, :, s]
            G.append(a @ a.transpose(0, 2, 1))
            B.append(a @ self.Yo[s])
        return np.stack(G), np.stack(B)  # (K, P, m+1, m+1), (K, P, m+1, C)

    def _solve(self, G, B):
        m1 = G.shape[-1]
        ridge = np.full(m1, 1e-8 * len(self.Yo))
        ridge[0] = 1e-12
        return np.linalg.solve(G + np.diag(ridge), B)

    def _cv_mse(self, index) -> np.ndarray:
        G_k, B_k = self._fold_statistics(self._design(index))
        G, B = G_k.sum(axis=0), B_k.sum(axis=0)
        beta = self._solve(G[None] - G_k, B[None] - B_k)  # (K, P, m+1, C)
        yy = np.stack([(self.Yo[s] ** 2).sum(axis=0) for s in self.slices])  # (K, C)
        sse = (yy[:, None, :] - 2.0 * np.einsum("kpic,kpic->kpc", beta, B_k)
               + np.einsum("kpic,kpij,kpjc->kpc", beta, G_k, beta))
        # Per fold, as a share of all rows: the mean over folds is the CV MSE.
        return np.maximum(sse, 0.0).sum(axis=2).T * (_N_FOLDS / self.Yo.size)

    def coefficients(self, candidate):
        """Least-squares coefficients on all used rows (standardised units)."""
        index = np.array([candidate], dtype=np.intp)
        G_k, B_k = self._fold_statistics(self._design(index))
        beta = self._solve(G_k.sum(axis=0), B_k.sum(axis=0))[0]
        return beta[1:], beta[0]

    def J(self, candidate) -> float:
        return self.scores[candidate][2]

    def _rank_key(self, candidate):
        mse, complexity, J = self.scores[candidate]
        return (J, complexity, len(candidate), candidate)

    # ------------------------------------------------------------ variation
    def _tournament(self, population, k):
        picks = self.rng.integers(len(population), size=k)
        return min((population[i] for i in picks), key=self._rank_key)

    def _pick_tree(self, candidate):
        with_trees = [t for t in candidate if self.trees[t] is not None]
        if not with_trees:
            return None, None
        t = with_trees[self.rng.integers(len(with_trees))]
        return t, self.trees[t]

    def _vary(self, population, tournament_size):
        """One offspring: a list of term sources (class ids, or new trees)."""
        rng = self.rng
        parent = self._tournament(population, tournament_size)
        op = _OPERATORS[rng.choice(len(_OPERATORS), p=_OPERATOR_P)]
        terms = list(parent)
        if op == "crossover":  # a random half of the two parents' terms
            other = self._tournament(population, tournament_size)
            pool = list(dict.fromkeys(terms + list(other)))
            keep = [t for t in pool if rng.random() < 0.5]
            return keep or [pool[rng.integers(len(pool))]]
        if op == "product" and "mul" not in self.functions:
            op = "wrap"
        if op in ("subtree_crossover", "subtree_mutation", "point_mutation", "wrap", "product"):
            t, tree = self._pick_tree(terms)
            if tree is None:
                op = "replace_term"
            else:
                child = self._vary_tree(tree, op, population, tournament_size, parent)
                if _depth(child) > _MAX_DEPTH:
                    child = self._random_tree(_INIT_DEPTH)
                if op != "product" or rng.random() < 0.5 or len(terms) >= self.max_terms:
                    terms.remove(t)
                return terms + [child]
        if op == "add_term" and len(terms) < self.max_terms:
            if rng.random() < 0.5:  # a term of another candidate
                donor = population[rng.integers(len(population))]
                return terms + [donor[rng.integers(len(donor))]] if donor else terms
            return terms + [self._random_tree(rng.integers(1, _INIT_DEPTH + 1))]
        if op == "delete_term" and len(terms) > 1:
            terms.pop(rng.integers(len(terms)))
            return terms
        if terms:  # replace a term by a random one
            terms.pop(rng.integers(len(terms)))
        return terms + [self._random_tree(rng.integers(2, _INIT_DEPTH + 1))]

    def _vary_tree(self, tree, op, population, tournament_size, parent):
        """A variation of one term's tree by a tree-level operator."""
        rng = self.rng
        if op == "product":  # the term times a term of the parent or of another good candidate
            donor = parent if rng.random() < 0.5 else self._tournament(population, tournament_size)
            _, other = self._pick_tree(donor)
            return ("mul", tree, other if other is not None else self._random_tree(2))
        paths = list(_paths(tree))
        path = paths[rng.integers(len(paths))]
        node = _get(tree, path)
        if op == "subtree_crossover":
            _, donor = self._pick_tree(self._tournament(population, tournament_size))
            if donor is None:
                donor = self._random_tree(2)
            donor_paths = list(_paths(donor))
            new = _get(donor, donor_paths[rng.integers(len(donor_paths))])
        elif op == "subtree_mutation":
            new = self._random_tree(rng.integers(1, _INIT_DEPTH + 1))
        elif op == "wrap":  # a new node above the subtree
            if self.binary and rng.random() < 0.5:
                other = self._random_tree(rng.integers(1, 3))
                binary = self.binary[rng.integers(len(self.binary))]
                new = (binary, node, other) if rng.random() < 0.5 else (binary, other, node)
            else:
                new = (self.unary[rng.integers(len(self.unary))], node) if self.unary else node
        else:
            new = self._point_mutation(node)
        return _replace(tree, path, new)

    def _point_mutation(self, node):
        rng = self.rng
        if node[0] == "x":
            return self._random_tree(2)
        if len(node) == 3:
            ops = self.binary
            return (ops[rng.integers(len(ops))],) + node[1:]
        return (self.unary[rng.integers(len(self.unary))],) + node[1:]

    def _candidates(self, offspring) -> list[tuple]:
        """Resolve the term sources of every offspring to candidates (class-id tuples)."""
        trees = [s for sources in offspring for s in sources if isinstance(s, tuple)]
        resolved = dict(zip(trees, self.resolve(trees)))
        result = []
        for sources in offspring:
            ids = []
            for s in sources:
                ids.extend(resolved[s] if isinstance(s, tuple) else (s,))
            ids = list(dict.fromkeys(ids))
            if len(ids) > self.max_terms:
                keep = np.sort(self.rng.choice(len(ids), self.max_terms, replace=False))
                ids = [ids[i] for i in keep]
            result.append(tuple(sorted(ids)))
        return result

    # ------------------------------------------------------------ the loop
    def _initial(self, population_size):
        """Every term of up to three levels (and ``x`` times it) alone, the best of them, and
        random pairs and triples of the best."""
        rng = self.rng
        trees = _enumerate_trees(self.unary, self.binary, _INIT_DEPTH)
        if "mul" in self.functions:  # x times every such term: x*cos(x), x*exp(-x**2), ...
            trees += [("mul", _LEAF, t) for t in trees if t[0] not in _BINARY]
        classes = sorted({t for ids in self.resolve(trees) for t in ids})
        singles = [(t,) for t in classes]
        self.score(singles)
        ranked = sorted(singles, key=self._rank_key)
        population = ranked[: max(1, population_size // 2)]
        top = [c[0] for c in ranked[: max(8, population_size // 4)]]
        seen = set(population)
        for _ in range(4 * population_size):
            if len(population) >= population_size or self.max_terms < 2 or len(top) < 2:
                break
            size = int(rng.integers(2, min(3, self.max_terms, len(top)) + 1))
            child = tuple(sorted(top[i] for i in rng.choice(len(top), size, replace=False)))
            if child not in seen:
                seen.add(child)
                population.append(child)
        self.score(population)
        return population

    def run(self, population_size, generations, n_iter_no_change, tournament_size):
        self.score([()])
        population = self._initial(population_size)
        population.sort(key=self._rank_key)
        population[0] = self.local_search(population[0], population)
        history = [self.J(population[0])]
        n_elite = max(1, population_size // 20)
        stale = 0
        for _ in range(generations):
            seen = set(population[:n_elite])
            offspring = [self._vary(population, tournament_size)
                         for _ in range(population_size - n_elite)]
            children = []
            for child in self._candidates(offspring):
                if child and child not in seen:
                    seen.add(child)
                    children.append(child)
            self.score(children)
            population = sorted(population[:n_elite] + children, key=self._rank_key)
            population[0] = self.local_search(population[0], population)
            best = self.J(population[0])
            stale = stale + 1 if best >= history[-1] - 1e-12 else 0
            history.append(best)
            if stale >= n_iter_no_change:
                break
        self.population = population
        return history

    def _library(self, population, size):
        counts: dict[int, int] = {}
        for c in population:
            for t in c:
                counts[t] = counts.get(t, 0) + 1
        ranked = sorted(counts, key=lambda t: (-counts[t], t))
        return ranked[:size]

    def _screen(self, candidate, size):
        """The ``size`` terms best correlated with the candidate's residual."""
        n_classes = len(self.names)
        if n_classes <= size:
            return list(range(n_classes))
        coef, intercept = self.coefficients(candidate)
        residual = self.Yo - intercept - self.features[list(candidate)].T @ coef
        score = np.abs(self.features[:n_classes] @ residual).sum(axis=1)
        score[list(candidate)] = -1.0
        return [int(t) for t in np.argsort(-score, kind="stable")[:size]]

    def local_search(self, candidate, population, library_size=_LOCAL_LIBRARY):
        """Greedy descent of J over drop / add / swap one term.

        The terms tried are the most used ones in ``population`` and those
        best correlated with the current residual.
        """
        used = self._library(population, library_size // 2)
        while True:
            library = list(dict.fromkeys(used + self._screen(candidate, library_size // 2)))
            neighbours = []
            current = set(candidate)
            if len(candidate) > 1:
                neighbours += [tuple(t for t in candidate if t != drop) for drop in candidate]
            outside = [t for t in library if t not in current]
            if len(candidate) < self.max_terms:
                neighbours += [tuple(sorted(candidate + (t,))) for t in outside]
            for drop in candidate:
                rest = tuple(t for t in candidate if t != drop)
                neighbours += [tuple(sorted(rest + (t,))) for t in outside]
            self.score(neighbours)
            best = min(neighbours + [candidate], key=self._rank_key)
            if best == candidate:
                return candidate
            candidate = best

    def ranked(self, size):
        return sorted(self.scores, key=self._rank_key)[:size]

    def refine(self):
        """Make the lowest J ever seen a local minimum, with a wider term library."""
        pool = self.population + sorted(self.scores, key=self._rank_key)[:50]
        best = min(self.scores, key=self._rank_key)
        while True:  # until the best ever seen is a local minimum of J
            self.local_search(best, pool, library_size=4 * _LOCAL_LIBRARY)
            refined = min(self.scores, key=self._rank_key)
            if refined == best:
                break
            best = refined
        return best

    def select(self, temperature):
        """The selected candidate and the evidence for each term.

        Start from the simplest candidate whose J is within one paired
        standard error of the lowest J; then alternately drop every term whose
        removal does not raise J and add the term whose addition lowers J by
        more than the paired standard error of the difference, until neither
        applies. The evidence for a selected term ``t`` is
        ``σ((J(S∖t) − J(S)) / T)``, for another term ``σ((J(S) − J(S∪t) − se) / T)``:
        above 0.5 exactly for the selected terms.
        """
        keys = list(self.scores)
        fold_loss = np.stack([self.fold_loss[c] for c in keys])  # (N, K)
        J = np.array([self.scores[c][2] for c in keys])
        simplicity = np.empty(len(keys), dtype=np.intp)  # rank in the tie-break order
        simplicity[sorted(range(len(keys)), key=lambda i: self._simplicity_key(keys[i]))] = \
            np.arange(len(keys))
        S = keys[self._one_se(J, fold_loss, simplicity)]
        pool = self.population + self.ranked(_N_REPORTED)
        for _ in range(4 * self.max_terms + 4):
            changed = False
            while S:
                drops = [tuple(u for u in S if u != t) for t in S]
                self.score(drops)
                drop = min(drops, key=self._rank_key)
                if self.J(drop) > self.J(S):
                    break
                S, changed = drop, True
            gains = self._add_gains(S, pool) if len(S) < self.max_terms else {}
            if gains and max(gains.values()) > 0:
                t = max(gains, key=gains.get)
                S, changed = tuple(sorted(S + (t,))), True
            if not changed:
                break
        evidence = {}
        for t in S:
            drop = tuple(u for u in S if u != t)
            self.score([drop])
            evidence[t] = self.J(drop) - self.J(S)
        others = {t: min(gain, 0.0) for t, gain in self._add_gains(S, pool).items()}
        for t in sorted(others, key=lambda t: -others[t])[:_N_REPORTED]:
            evidence.setdefault(t, others[t])
        probabilities = {
            t: float(expit(e / temperature))
            for t, e in evidence.items()
        }
        return S, probabilities

    def _add_gains(self, S, pool):
        """``J(S) − J(S∪t) − se`` for the library terms ``t`` (most used, best screened)."""
        library = list(dict.fromkeys(self._library(pool, _LOCAL_LIBRARY // 2)
                                     + self._screen(S, _LOCAL_LIBRARY // 2)))
        library = [t for t in library if t not in S]
        added = [tuple(sorted(S + (t,))) for t in library]
        self.score(added)
        K = len(self.fold_loss[S])
        gains = {}
        for t, c in zip(library, added):
            se = (self.fold_loss[c] - self.fold_loss[S]).std(ddof=1) / math.sqrt(K)
            gains[t] = self.J(S) - self.J(c) - se
        return gains

    def _one_se(self, J, fold_loss, simplicity) -> int:
        """Simplest candidate whose J is within one paired standard error of the lowest J."""
        best = int(np.lexsort((simplicity, J))[0])
        gap = fold_loss - fold_loss[best]
        se = gap.std(axis=1, ddof=1) / math.sqrt(fold_loss.shape[1])
        band = np.flatnonzero(J - J[best] <= se)
        return int(band[np.argmin(simplicity[band])])

    def _simplicity_key(self, candidate):
        mse, complexity, J = self.scores[candidate]
        return complexity, len(candidate), J, candidate

    def hall_of_fame(self, size):
        ranked = self.ranked(size)
        return [{"terms": tuple(self.names[t] for t in c), "mse": self.scores[c][0],
                 "complexity": self.scores[c][1], "J": self.scores[c][2]} for c in ranked]
