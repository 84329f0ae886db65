"""The entry point of SR discovery: :func:`discover_sr`."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from numbers import Integral, Real

import numpy as np
from numpy.typing import ArrayLike
from sklearn.utils._param_validation import Interval, StrOptions

from skneuron.discovery._common import (MIN_SAMPLES, check_data, column_moments,
                                        linear_result, seeded_generator, standardise,
                                        too_few_samples, validate_options, varying_columns)
from skneuron.discovery._result import DiscoveryResult
from skneuron.discovery.sr._search import N_REPORTED, Search
from skneuron.discovery.sr._trees import FUNCTIONS
from skneuron.formula import MAX_RANK, NeuronFormula

__all__ = ["DEFAULT_FUNCTION_SET", "discover_sr"]

#: The default ``function_set``: all of :data:`FUNCTIONS`.
DEFAULT_FUNCTION_SET = FUNCTIONS

_ALIASES = {"+": "add", "-": "sub", "*": "mul", "×": "mul", "−": "sub", "neg": "sub"}
_PURE_POWER = re.compile(r"^x(?:\*\*(\d+))?$")


def _at_least(low: int) -> list:
    return [Interval(Integral, low, None, closed="left")]


@validate_options(
    {
        "function_set": [str, "array-like"],
        "population_size": _at_least(2),
        "generations": _at_least(0),
        "n_iter_no_change": _at_least(1),
        "tournament_size": _at_least(1),
        "parsimony_coefficient": [Interval(Real, 0, None, closed="left")],
        "max_terms": _at_least(1),
        "max_complexity": _at_least(1),
        "max_order": _at_least(1),
        "max_nesting": _at_least(0),
        "rank": [Interval(Integral, 1, MAX_RANK, closed="both")],
        "standardize": [StrOptions({"auto"}), "boolean"],
        "max_samples": _at_least(MIN_SAMPLES),
        "random_state": ["random_state"],
    }
)
def discover_sr(
    X: ArrayLike,
    Y: ArrayLike,
    *,
    function_set: str | Sequence[str] = DEFAULT_FUNCTION_SET,
    population_size: int = 200,
    generations: int = 30,
    n_iter_no_change: int = 8,
    tournament_size: int = 7,
    parsimony_coefficient: float = 0.03,
    max_terms: int = 4,
    max_complexity: int = 6,
    max_order: int = 3,
    max_nesting: int = 1,
    rank: int = 8,
    standardize: bool | str = "auto",
    max_samples: int = 2000,
    random_state: int | np.random.RandomState | None = None,
    n_jobs: int | None = None,
    sample_weight: ArrayLike | None = None,
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
       power above ``max_order``, has complexity above ``max_complexity``,
       nests more than ``max_nesting`` of ``sin cos exp log tanh`` (at the
       default, one may not take another as argument) or exceeds 10³ in
       magnitude on ``[-5, 5]`` (``exp(exp(x))``, ``exp(2*x)``).
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
    max_nesting : int, default=1
        Most of the functions ``sin cos exp log tanh`` on one path from the
        root of a term to ``x``: at the default a term may apply one of them
        to a polynomial (``sin(x)``, ``exp(-x**2)``, ``x*cos(x**2)``) or
        multiply such factors (``x*exp(-x**2)``, ``sin(x)*tanh(x)``), but not
        apply one to another — ``sin(exp(x**2))``, ``log|cos(x)|`` and
        ``tanh(exp(exp(-x)))`` are left out. Such compositions are what made
        formulas found on real data hard to read, and on the real suite they
        did not pay for themselves (``benchmarks/results/ablation_sr_nesting.md``).
        ``0`` allows polynomials only; PySR's ``nested_constraints`` play
        the same part.
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
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative row weights. Rows of weight zero are left out, and ``X``
        and ``Y`` are standardised with the weighted means and variances; the
        search's least-squares fits and cross-validated errors weigh the
        sampled rows equally. Equal weights give the unweighted result.

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
    is cached across calls. Discovery times at the defaults are in
    ``benchmarks/results/sr_recovery.md`` (``python -m benchmarks.sr_recovery``)
    and ``docs/benchmarks.md``.

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
    functions = _function_names(function_set)
    X, Y, weights = check_data(X, Y, sample_weight)
    details = {"function_set": functions, "parsimony_coefficient": parsimony_coefficient}
    reason = too_few_samples(len(X))
    if reason:
        return linear_result("sr", start, reason, details=details)

    rng = seeded_generator(random_state)
    rows = rng.permutation(len(X))[:max_samples]
    X, Y = X[rows], Y[rows]
    weights = None if weights is None else weights[rows]
    standardized = _needs_standardizing(X) if standardize == "auto" else bool(standardize)
    if standardized:
        X = standardise(X, weights)
    y_mean, y_scale = column_moments(Y, weights)
    informative = varying_columns(Y, y_scale)
    if not informative.any():
        return linear_result("sr", start, "the target is constant", warn=True, details=details)
    if not varying_columns(X).any():  # no term of x can vary either
        return linear_result("sr", start, "no input varies", warn=True, details=details)

    search = Search(
        X, (Y[:, informative] - y_mean[informative]) / y_scale[informative],
        functions=functions, max_terms=max_terms, max_complexity=max_complexity,
        max_order=max_order, max_nesting=max_nesting, parsimony=parsimony_coefficient,
        rng=rng, n_jobs=n_jobs,
    )
    history = search.run(population_size, generations, n_iter_no_change, tournament_size)
    search.refine()
    best, term_evidence = search.select(max(parsimony_coefficient, 1e-4))
    details.update(_search_details(search, history, best, standardized))
    probabilities = {search.library.names[t]: p for t, p in term_evidence.items()}
    if not best:
        reason = "no candidate lowers the cross-validated error by more than its parsimony price"
        return linear_result("sr", start, reason, warn=True, term_probabilities=probabilities,
                             validation_score=1.0 - details["mse"], details=details)

    names = [search.library.names[t] for t in best]
    formula, renamed = _formula(names)
    coefficients, intercept = _coefficients_in_data_units(search, best, y_mean, y_scale,
                                                          informative)
    details["coefficients"] = {renamed[n]: coefficients[j] for j, n in enumerate(names)}
    details["intercept"] = intercept
    details["expression"] = _expression([renamed[n] for n in names], coefficients, intercept)
    return DiscoveryResult(
        formula=formula,
        method="sr",
        term_probabilities={renamed.get(name, name): p for name, p in probabilities.items()},
        validation_score=float(1.0 - details["mse"]),
        fit_time=time.perf_counter() - start,
        details=details,
    )


def _function_names(function_set) -> tuple[str, ...]:
    """The base functions asked for, aliases resolved, in the order of :data:`FUNCTIONS`."""
    if isinstance(function_set, str):
        function_set = (function_set,)
    requested = [_ALIASES.get(f, f) for f in function_set]
    unknown = [f for f in requested if f not in FUNCTIONS]
    if unknown:
        raise ValueError(f"unknown function(s) {unknown} in function_set; "
                         f"choose from {list(FUNCTIONS)}.")
    return tuple(f for f in FUNCTIONS if f in requested)


def _needs_standardizing(X: np.ndarray) -> bool:
    mean, scale = column_moments(X)
    return not (np.all(np.abs(mean) <= 0.5) and np.all((scale >= 0.5) & (scale <= 2.0)))


def _search_details(search: Search, history: list, best: tuple, standardized: bool) -> dict:
    """The ``details`` entries that describe the search and its selection."""
    mse, complexity, J = search.scores.scores[best]
    return {
        "hall_of_fame": search.scores.hall_of_fame(N_REPORTED),
        "history": history,
        "n_generations": len(history) - 1,
        "n_terms_evaluated": search.library.n_terms_evaluated,
        "n_candidates_evaluated": len(search.scores.scores),
        "n_samples": len(search.library.x),
        "standardized": standardized,
        "mse": mse,
        "complexity": complexity,
        "J": J,
    }


def _formula(names: list[str]) -> tuple[NeuronFormula, dict[str, str]]:
    """The formula of the selected terms, and each term's name in the formula.

    A pure power becomes a pure power term; anything else an element-wise
    term, reported under the formula's own (sympy-simplified) name.
    """
    pure = tuple(int(m.group(1) or 1) for m in map(_PURE_POWER.match, names) if m)
    others = [name for name in names if not _PURE_POWER.match(name)]
    renamed = {name: name for name in names if _PURE_POWER.match(name)}
    for name in others:
        renamed[name] = NeuronFormula(pure_orders=(), functions=(name,)).terms[0]
    return NeuronFormula(pure_orders=pure, functions=tuple(others)), renamed


def _coefficients_in_data_units(search: Search, best: tuple, y_mean, y_scale, informative):
    """The selected candidate's least-squares fit in the units of ``Y`` and of the terms.

    Returns the coefficients ``c_j`` of shape (n_terms, n_outputs) and the
    intercept ``c_0`` of shape (n_outputs,); a constant output gets zero
    coefficients and its mean as intercept.
    """
    coef, intercept = search.scores.coefficients(best)  # standardised units, (m, C') and (C',)
    full_coef = np.zeros((len(best), len(y_mean)))
    full_intercept = y_mean.copy()
    library = search.library
    mu, sd = library.feature_mean[list(best)], library.feature_scale[list(best)]
    scale = y_scale[informative]
    full_coef[:, informative] = coef * scale / sd[:, None]
    full_intercept[informative] += scale * (intercept - (coef * (mu / sd)[:, None]).sum(axis=0))
    return full_coef, full_intercept


def _expression(terms: list[str], coefficients: np.ndarray, intercept: np.ndarray) -> str:
    """The fitted ``g`` for the first output, as text (``c₀ + c₁·Σᵢ φ₁(xᵢ) + …``)."""
    indexed = [re.sub(r"\bx\b", "xᵢ", term) for term in terms]
    return " + ".join(
        [f"{intercept[0]:.4g}"]
        + [f"{coefficients[j, 0]:.4g}·Σᵢ {phi}" for j, phi in enumerate(indexed)]
    )
