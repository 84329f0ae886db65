"""The entry point of TD discovery: :func:`discover_td`."""

from __future__ import annotations

import math
import time
from contextlib import contextmanager
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
import torch
from numpy.typing import ArrayLike
from scipy.stats import t as student_t
from sklearn.utils._param_validation import Interval
from threadpoolctl import threadpool_limits

from skneuron.discovery._common import (MIN_SAMPLES, check_data, linear_result,
                                        seeded_generator, standardise, too_few_samples,
                                        validate_options)
from skneuron.discovery._result import DiscoveryResult
from skneuron.discovery.td._polynomial import DualStreamPolynomial, train
from skneuron.discovery.td._folds import repeated_folds
from skneuron.discovery.td._refits import CrossValidatedRefits, cross_validate_subsets, subset_masks
from skneuron.discovery.td._selection import SubsetSelection, select_subset
from skneuron.discovery.td._periodic import PeriodicVerdict, RandomWaves, judge_periodic
from skneuron.discovery.td._polynomial import design
from skneuron.formula import MAX_FREQUENCIES, MAX_RANK, NeuronFormula

__all__ = ["MAX_ORDER", "discover_td"]

#: Largest accepted ``max_order``; the exhaustive subset search scores
#: ``2^(2K-1)`` subsets, 2048 at ``K = 6``.
MAX_ORDER = 6

# On small data the number of epochs is raised to reach this many Adam steps.
_MIN_STEPS = 400

# A term whose probability lies strictly between this and 1 minus this is undecided:
# selecting it or not changes J by less than ln(4)·T ≈ 0.35·τ. While one is,
# further partitions join the search (up to max_repeats).
_UNDECIDED = 0.2

# How many of the best subsets details["subsets"] lists.
_N_SUBSETS_REPORTED = 10


@validate_options(
    {
        "max_order": [Interval(Integral, 1, MAX_ORDER, closed="both")],
        "rank": [Interval(Integral, 1, MAX_RANK, closed="both")],
        "random_state": ["random_state"],
        "tolerance": [Interval(Real, 0, None, closed="left")],
        "max_samples": [Interval(Integral, MIN_SAMPLES, None, closed="left")],
        "cv": [Interval(Integral, 2, 10, closed="both")],
        "n_repeats": [Interval(Integral, 1, 20, closed="both")],
        "max_repeats": [Interval(Integral, 1, 40, closed="both")],
        "n_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "periodic": [Interval(Integral, 0, MAX_FREQUENCIES, closed="both")],
        "periodic_inputs": [Interval(Integral, 0, None, closed="left"), None],
        "keep_linear": ["boolean"],
        "keep_periodic": [Interval(Integral, 0, MAX_FREQUENCIES, closed="both")],
    }
)
def discover_td(
    X: ArrayLike,
    Y: ArrayLike,
    *,
    max_order: int = 3,
    rank: int = 8,
    random_state: int | np.random.RandomState | None = None,
    tolerance: float = 0.005,
    max_samples: int = 3000,
    cv: int = 5,
    n_repeats: int = 2,
    max_repeats: int = 8,
    # The training of the dual-stream models:
    n_epochs: int = 40, batch_size: int = 256, learning_rate: float = 0.01,
    periodic: int = 8, periodic_inputs: int | None = None,
    keep_linear: bool = False,
    keep_periodic: int = 0,
    sample_weight: ArrayLike | None = None,
) -> DiscoveryResult:
    """Discover which pure-power and CP-interaction terms a task neuron needs.

    1. ``X`` and ``Y`` are standardised column by column (a constant column is
       centred and left unscaled). At most ``max_samples`` rows are drawn at
       random and dealt into ``cv`` folds, ``n_repeats`` times over (a new
       random partition each time).
    2. For every fold of every partition, two ungated polynomial models are
       trained on the rows outside it, all in one training loop (Adam, mean
       squared error):
       head A, the full dual-stream model of order ``K = max_order`` with
       rank-``rank`` interactions, and head B, the linear term plus rank-2
       interactions only. In both heads the interaction factors are shared by
       all outputs; pure weights, mixing weights and biases are per output.
    3. For every subset ``S`` of the ``2K − 1`` candidate terms and every fold,
       a linear least-squares refit is made on the fold's training rows — a
       pure term ``x**k`` brings its ``n_features`` columns ``x^{∘k}``; an
       interaction term ``inter(k)`` brings the learned rank-one products
       ``Π_m u_{k,m,r}ᵀx`` as columns (``rank`` of head A if ``x**k`` is also
       in ``S``, 2 of head B otherwise) — and evaluated on the fold's rows.
       The ridge is ``10⁻³·n_train`` on each pure column and ``10⁻³`` of its
       sum of squares on each product column; the intercept is free. The
       columns are the same for every output; each output gets its own
       coefficients. ``MSE(S)`` is the cross-validated mean squared error,
       averaged over the outputs and the partitions.
    4. The selected subset minimises
       ``J(S) = MSE(S) + τ·(#pure terms in S + 1.1·#interaction terms in S)``.
       The price of a term is ``τ = max(tolerance, SE)``, with ``SE`` the
       standard error of the lowest cross-validated MSE of one partition
       (averaged over the partitions; a one-standard-error rule: on small or
       noisy data a term must earn more than the noise of the comparison);
       the 10 % premium lets a pure term
       win a near-tie with an interaction term, which has ``k·rank`` times
       more weights. A subset whose ``J`` is within a quarter of ``SE`` of
       the lowest ties with it, and the simplest of the tied subsets is
       selected. With ``keep_linear`` only the subsets that contain ``x``
       compete: the formula will have the linear term whatever the search
       says, so every candidate is priced by what it adds to it.
    5. While a term's evidence is undecided (see ``max_repeats``), steps 1–4
       run again on new partitions — of a new draw of rows when the data
       have more than ``max_samples`` — and the cross-validated errors are
       averaged over all the partitions so far, until no term is undecided
       or ``max_repeats`` partitions are used. Most data sets decide in the
       first round; a near-tie gets more evidence instead of a coin flip.

    Head B exists because a joint fit is ambiguous: the diagonal of an
    order-``k`` interaction can be carried by ``x**k`` as well, so head A's
    ``inter(k)`` alone may miss part of a pure interaction; head B's
    ``inter(k)`` has to carry it all. Its rank is small so that it cannot
    mimic a full diagonal (``x**k`` with weights on many features).

    The ridge keeps the refit well posed when a column is (nearly) constant
    on a fold's training rows — a feature that is non-zero in a handful of
    rows, such as a rarely inked pixel: its powers are then collinear with
    the intercept, and an almost unpenalised least-squares fit gave them
    huge coefficients that blew up on the held-out rows where the feature is
    non-zero, which priced the (unclipped) linear term out of the formula.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Numeric inputs without missing values.
    Y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Regression target(s). For classification pass the class indicator
        matrix (one-hot; a single indicator column for two classes): the
        search is then a multi-output regression on the standardised
        indicators, with interaction factors shared by all classes,
        class-specific pure and mixing weights, and one term selection
        shared by all classes.
    max_order : int, default=3
        Highest order ``K`` of the candidate terms, between 1 and
        :data:`MAX_ORDER` (6). The candidates are ``x, …, x**K`` and
        ``inter(2), …, inter(K)``.
    rank : int, default=8
        CP rank ``R`` of the interaction terms of the full model and of the
        returned formula.
    random_state : int, RandomState instance or None, default=None
        Seeds the row sampling and folds, the initial interaction factors and
        the mini-batch order. Only local generators are used; the global
        numpy and torch random states are left untouched. The same integer
        gives the same result.
    tolerance : float, default=0.005
        Smallest price of one term, in units of the standardised target's
        variance: a term is kept only if it lowers the cross-validated mean
        squared error by more than ``τ = max(tolerance, SE)`` (given the other
        kept terms; 1.1·τ for an interaction term).
    max_samples : int, default=3000
        Rows used by the search; larger inputs are subsampled at random.
    cv : int, default=5
        Number of cross-fitting folds, between 2 and 10.
    n_repeats : int, default=2
        Number of random partitions into ``cv`` folds of one round of the
        search, between 1 and 20. Which rows share a fold moves a subset's
        cross-validated error by more than a marginal term is worth on a few
        hundred rows; averaging the errors over the partitions steadies the
        choice across ``random_state`` values, at the cost of ``n_repeats·cv``
        models to train per round.
    max_repeats : int, default=8
        Most partitions in all, between 1 and 40. While a term is undecided —
        its probability (see Returns) between 0.2 and 0.8, i.e. selecting it
        or not changes ``J`` by less than ``0.35·τ``, and that margin not
        clear of zero by the 90 % Student-t interval of its spread over the
        partitions — a further round of ``n_repeats`` partitions joins the
        average, on a fresh draw of ``max_samples`` rows when there are more.
        A further round never takes the search past ``max_repeats``
        partitions: at ``n_repeats`` or below, the search is one round.
    n_epochs : int, default=40
        Passes over the used rows (each fold's models learn from the rows of
        a batch outside the fold); raised on small data so that training
        takes at least 400 optimiser steps.
    batch_size : int, default=256
        Mini-batch size of the training.
    learning_rate : float, default=0.01
        Adam's learning rate.
    periodic : int, default=8
        Number ``J`` of frequencies of the periodic candidate ``periodic(J)``;
        0 leaves it out. It is judged after the subset search, on the
        selected subset and the first round's partitions (see
        :mod:`skneuron.discovery.td._periodic`): ``J``
        random Fourier columns ``sin(2π f x + φ)`` per input join the
        refits, and the term is kept when they lower the cross-validated
        MSE by more than ``1.1·τ``.
    periodic_inputs : int, optional
        The periodic candidate and ``keep_periodic``'s waves read the first
        ``periodic_inputs`` columns of ``X`` only (all by default); the
        estimators pass their continuous inputs, which their input stage puts
        first.
    keep_linear : bool, default=False
        Search only the subsets that contain ``x``, for a caller that keeps
        the linear term in every formula (the estimators do). Without it, a
        subset such as ``{x**3}`` can win a near-tie with ``{x}`` — on binary
        columns an odd power is the column itself — and the caller's formula
        ``x + x**3`` is then one that no refit scored. The formula returned
        always has ``x``; the fallback warning is given when ``{x}`` is worth
        no more than its price over the intercept alone.
    keep_periodic : int, default=0
        The number ``J`` of frequencies of a periodic term the caller puts in
        every formula (the estimators do, with their ``periodic``), 0 for
        none. Every subset's refit in step 3 then also has ``J`` random
        Fourier columns per input of the periodic candidate (drawn once, as
        for ``periodic``), so each term is priced by what it adds to the
        waves: a curvature they carry already earns ``x**k`` nothing. The
        ``periodic`` candidate is not judged then.
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative row weights. Rows of weight zero are left out; the
        standardisation, the dual-stream models' training loss, the subset
        refits (weighted least squares) and the cross-validated errors of the
        subsets and of the periodic candidate are weighted. Equal weights
        give the unweighted result, bit for bit.

    Returns
    -------
    DiscoveryResult
        ``method="td"``. ``term_probabilities`` maps every candidate term ``t``
        to ``σ((J₋ − J₊) / T)``, where ``J₊`` and ``J₋`` are the lowest ``J``
        over the subsets with and without ``t`` and ``T = τ / 4``: a term
        above 0.73 is selected, one below 0.27 is not (in between, the
        simplest tied subset decides); ≈ 0.98 when it is worth twice its
        price and ≈ 0.02 when it is worth nothing. ``validation_score`` is
        the cross-validated R² of the selected subset's refits, averaged over
        the outputs. ``details`` holds:

        - ``"subsets"``: the best subsets by ``J`` (of those searched: with
          ``keep_linear``, those with ``x``), each a dict with
          ``terms``, ``mse`` and ``J``; the selected one is the simplest
          within ``standard_error / 4`` of the first's ``J``, so it need
          not come first;
        - ``"full_mse"``: the cross-validated MSE with every term;
        - ``"price"`` (``τ``), ``"standard_error"`` (``SE``),
          ``"temperature"`` (``T``) and ``"tolerance"``;
        - ``"interaction_factors"``: for each interaction order ``k``, the
          learned order-``k`` weight tensor ``W_{k,1} = Σ_r v_{k,r,1}
          u_{k,1,r} ⊗ … ⊗ u_{k,k,r}`` of the first output as a normalised
          :class:`tensorly.cp_tensor.CPTensor` (factors of shape
          ``(n_features, r)``, unit columns; the factors are the same for
          every output, the weights are the first output's ``v``): the term's
          value is ``⟨W_k, x^{⊗k}⟩`` on the standardised input clamped to ±5.
          It comes from the first round's first fold's head that the selected
          subset scores that order with (A if ``x**k`` is selected, else B);
        - ``"n_samples"`` (rows per round), ``"cv"``, ``"n_repeats"`` (the
          partitions used, over all rounds), ``"n_steps"`` and ``"train_mse"``
          (per head, averaged over the first round's fold models);
        - ``"reason"``, when the linear formula is returned as a fallback.

    Warns
    -----
    UserWarning
        When no term is worth its price (constant or unpredictable target);
        the linear formula is returned.

    Notes
    -----
    With fewer than :data:`MIN_SAMPLES` (60) rows the search is not
    meaningful (each fold's models would learn from fewer than 48 rows): the
    linear formula ``NeuronFormula()`` is returned without a search and
    without a warning, ``details["reason"]`` says why, ``term_probabilities``
    is empty and ``validation_score`` is NaN. A constant target is handled
    the same way, with the warning.

    Cost per round: ``max(n_epochs·⌈n/batch_size⌉, 400)`` Adam steps that
    train all ``2·cv·n_repeats`` models at once (``n ≤ max_samples``), then
    ``cv·n_repeats·2^(2K−1)`` small least-squares refits from Gram matrices;
    at most ``⌊max_repeats/n_repeats⌋`` rounds.
    With ``F = cv·n_repeats`` fold models, the interaction weights number
    ``F·(K−1)·(R+2)·((K+2)·D/2 + C)`` — the factors do not grow with the
    number of outputs ``C``, only the mixing weights do — and the pure
    weights ``F·(K+1)·D·C``. Memory is
    ``O(n·K·D + F·K²·R·D + F·K·(D + R)·C)``; no ``D^k`` tensor is formed.
    The refits solve ``(1 + K·D)``-square Gram systems when there are fewer
    pure columns than training rows, and ``n_train``-square kernel systems
    otherwise (the same fits in dual form), so their memory stays below that
    of the design. Discovery times on the benchmark data sets are in
    ``benchmarks/results/`` (``stability.md``, the suites' tables) and
    ``docs/benchmarks.md``.

    Torch and BLAS run single-threaded during the search and the previous
    settings are restored: the matrices are small, so more threads add
    synchronisation rather than speed, and contend for the cores with the
    caller's other work. Results therefore do not depend on the machine's
    thread count.

    Examples
    --------
    >>> import numpy as np
    >>> from skneuron.discovery import discover_td
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((2000, 5))
    >>> y = X[:, 0] * X[:, 1] + (X**2).sum(axis=1)
    >>> result = discover_td(X, y, random_state=0)
    >>> result.formula.terms
    ('x**2', 'inter(2, rank=8)')
    >>> result.term_probabilities["x**2"] > 0.5 > result.term_probabilities["x**3"]
    True
    >>> round(result.validation_score, 2)
    1.0
    """
    start = time.perf_counter()
    X, Y, weights = check_data(X, Y, sample_weight)
    reason = too_few_samples(len(X))
    if reason:
        return linear_result("td", start, reason)
    X, Y = standardise(X, weights), standardise(Y, weights)
    if not np.any(Y):
        return linear_result("td", start, "the target is constant", warn=True)

    rng = seeded_generator(random_state)
    masks = subset_masks(max_order)
    n_inputs = X.shape[1] if periodic_inputs is None else min(periodic_inputs, X.shape[1])
    # The periodic term every formula will have: each subset is refitted with its waves.
    kept_waves = RandomWaves.draw(n_inputs, keep_periodic, rng) \
        if keep_periodic and n_inputs else None
    round_options = {"max_samples": max_samples, "cv": cv, "n_repeats": n_repeats,
                     "rank": rank, "max_order": max_order, "n_epochs": n_epochs,
                     "batch_size": batch_size, "learning_rate": learning_rate, "masks": masks,
                     "waves": kept_waves}
    with _single_threaded():
        rounds = [_cross_validated_round(X, Y, weights, rng, **round_options)]
        while True:
            refits = CrossValidatedRefits.pooled([r.refits for r in rounds])
            selection = select_subset(refits.mse, refits.lowest_errors, masks, max_order,
                                      tolerance, keep_linear=keep_linear)
            room = (len(rounds) + 1) * n_repeats <= max_repeats
            if not (room and _undecided(selection, masks, refits.partition_mse)):
                break
            rounds.append(_cross_validated_round(X, Y, weights, rng, **round_options))
        first = rounds[0]  # the periodic verdict and the reported factors come from it
        candidate = periodic and n_inputs and not keep_periodic
        verdict = _periodic_verdict(
            first.model, first.X, first.Y, first.folds, masks[selection.best], selection,
            RandomWaves.draw(n_inputs, periodic, rng), first.weights) if candidate else None

    selected = masks[selection.best]
    names = _term_names(max_order, rank)
    details = {
        **_selection_details(refits, selection, masks, names, tolerance),
        # The heads each interaction order is scored with: A if x**k is selected, else B.
        "interaction_factors": first.model.interaction_cp_tensors(
            {k: 0 if selected[k - 1] else 1 for k in range(2, max_order + 1)}, fold=0, output=0),
        "n_samples": len(first.X),
        "cv": cv,
        "n_repeats": len(rounds) * n_repeats,
        "n_steps": first.n_steps,
        "train_mse": {"A": first.train_mse[0], "B": first.train_mse[1]},
    }
    probabilities = {name: float(p) for name, p in zip(names, selection.probabilities)}
    score = _validation_score(refits.mse_per_output[selection.best], first.Y, first.weights)
    if verdict is not None:
        probabilities[f"periodic({periodic})"] = verdict.probability
        details["periodic_mse"] = {"without": float(verdict.mse_without.mean()),
                                   "with": float(verdict.mse_with.mean())}
        if verdict.keep:
            score = _validation_score(verdict.mse_with, first.Y, first.weights)
    periodic_kept = verdict is not None and verdict.keep
    # With keep_linear, {x} wins among the subsets searched; it is a fallback only
    # when it is no better than the intercept alone (the empty subset, masks[0]).
    added = selected[1:] if keep_linear else selected
    uninformative = selection.objective[0] <= selection.objective[selection.best]
    if not (added.any() or periodic_kept) and uninformative:
        reason = ("no term lowers the cross-validated error by more than its price "
                  f"{selection.price:.3g}")
        # Beside the caller's waves nothing is worth its price; that is news only if the
        # waves themselves are worth nothing over the intercept alone.
        with _single_threaded():
            waves_informative = kept_waves is not None and _periodic_verdict(
                first.model, first.X, first.Y, first.folds, masks[0], selection, kept_waves,
                first.weights).keep
        return linear_result("td", start, reason, warn=not waves_informative,
                             term_probabilities=probabilities, validation_score=score,
                             details=details)
    return DiscoveryResult(
        formula=NeuronFormula(
            pure_orders=tuple(k for k in range(1, max_order + 1) if selected[k - 1]),
            interaction_orders=tuple(
                k for k in range(2, max_order + 1) if selected[max_order + k - 2]),
            rank=rank,
            periodic=periodic if periodic_kept else 0,
        ),
        method="td",
        term_probabilities=probabilities,
        validation_score=score,
        fit_time=time.perf_counter() - start,
        details=details,
    )


@dataclass(frozen=True)
class _Round:
    """One round of the search: its rows, partitions, trained fold models and refits."""

    X: np.ndarray
    Y: np.ndarray
    weights: np.ndarray | None
    folds: np.ndarray
    model: DualStreamPolynomial
    n_steps: int
    train_mse: list[float]
    refits: CrossValidatedRefits


def _cross_validated_round(X, Y, weights, rng, *, max_samples, cv, n_repeats, max_order, rank,
                           n_epochs, batch_size, learning_rate, masks, waves) -> _Round:
    """Draw the rows, deal ``n_repeats`` partitions, train their fold models, refit every
    subset (with the ``waves`` of a periodic term every formula keeps, when not None)."""
    rows = rng.permutation(len(X))[:max_samples]
    X, Y = X[rows], Y[rows]
    if weights is not None:  # of mean 1, so that sums of weights count rows
        weights = weights[rows] / weights[rows].mean()
    generator = torch.Generator().manual_seed(int(rng.integers(2**62)))
    folds = repeated_folds(len(rows), cv, n_repeats, rng)  # rows are already in random order
    n_steps = max(n_epochs * math.ceil(len(rows) / batch_size), _MIN_STEPS)
    # One pair of heads per fold of every partition, all trained in one loop.
    model = DualStreamPolynomial(X.shape[1], Y.shape[1], max_order, rank, n_repeats * cv,
                                 generator)
    train_mse = train(model, X, Y, folds, n_steps=n_steps, batch_size=batch_size,
                      learning_rate=learning_rate, generator=generator, sample_weight=weights)
    refits = cross_validate_subsets(model, X, Y, folds, masks, sample_weight=weights,
                                    fixed=None if waves is None else waves.columns(X))
    return _Round(X, Y, weights, folds, model, n_steps, train_mse, refits)


def _undecided(selection: SubsetSelection, masks: np.ndarray, partition_mse: np.ndarray) -> bool:
    """Whether more evidence could change a competing term's verdict.

    A term is undecided when its probability lies strictly between
    :data:`_UNDECIDED` and its complement (taking it or leaving it moves
    ``J`` by less than ``ln 4·T ≈ 0.35·τ``) *and* the two-sided 90 %
    Student-t interval of that margin, from its spread over the partitions,
    contains zero. The second condition ends the search of a term whose
    margin is small but alike in every partition: more rounds would not
    change its verdict.
    """
    p = selection.probabilities
    near_ties = np.flatnonzero((p > _UNDECIDED) & (p < 1.0 - _UNDECIDED))
    n_partitions = len(partition_mse)
    if near_ties.size == 0 or n_partitions < 2:  # one partition has no spread to judge by
        return near_ties.size > 0
    critical = student_t.ppf(0.95, n_partitions - 1)
    objective = selection.competing_objective
    for term in near_ties:
        with_term = np.argmin(np.where(masks[:, term], objective, np.inf))
        without_term = np.argmin(np.where(masks[:, term], np.inf, objective))
        margins = partition_mse[:, without_term] - partition_mse[:, with_term]
        spread = margins.std(ddof=1) / math.sqrt(n_partitions)
        if abs(objective[without_term] - objective[with_term]) < critical * spread:
            return True
    return False


@contextmanager
def _single_threaded():
    """Run torch and BLAS on one thread, restoring the previous settings after.

    The matrices here are tiny (a batch of 256 rows): threads buy nothing,
    and on a loaded machine torch's multi-threaded kernels slow down sharply.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1):
            yield
    finally:
        torch.set_num_threads(previous)


def _term_names(max_order: int, rank: int) -> list[str]:
    """Candidate terms: pure orders 1..K, then interaction orders 2..K."""
    pure = ["x" if k == 1 else f"x**{k}" for k in range(1, max_order + 1)]
    return pure + [f"inter({k}, rank={rank})" for k in range(2, max_order + 1)]


def _selection_details(refits: CrossValidatedRefits, selection: SubsetSelection,
                       masks: np.ndarray, names: list[str], tolerance: float) -> dict:
    """The ``details`` entries that describe the subset selection."""
    mse, objective = refits.mse, selection.objective
    ranked = np.lexsort((masks.sum(axis=1), objective))
    best_first = ranked[selection.competing[ranked]][:_N_SUBSETS_REPORTED]
    return {
        "subsets": [
            {"terms": tuple(n for n, keep in zip(names, masks[i]) if keep),
             "mse": float(mse[i]), "J": float(objective[i])}
            for i in best_first
        ],
        "full_mse": float(mse[-1]),
        "price": selection.price,
        "standard_error": selection.standard_error,
        "temperature": selection.temperature,
        "tolerance": tolerance,
    }


def _validation_score(mse_per_output: np.ndarray, Y: np.ndarray, weights=None) -> float:
    """Cross-validated R² from per-output errors, averaged over the non-constant outputs."""
    mean = np.average(Y, axis=0, weights=weights)
    variance = np.average((Y - mean) ** 2, axis=0, weights=weights)
    informative = variance > 0
    r2 = 1.0 - mse_per_output[informative] / variance[informative]
    return float(np.mean(r2)) if r2.size else float("nan")


def _periodic_verdict(model, X, Y, folds, mask, selection: SubsetSelection,
                      waves: RandomWaves, weights=None) -> PeriodicVerdict:
    """Whether the periodic candidate, as the random ``waves``, joins the selected subset.

    With ``weights`` (of mean 1) the refits are weighted least squares and
    the errors weighted means: every row of the design and of ``Y`` is
    scaled by the square root of its weight.
    """
    pure, products = design(model, X)
    columns = waves.columns(X)
    if weights is not None:
        root = np.sqrt(weights)[:, None]
        pure, products, columns, Y = pure * root, products * root[..., None], columns * root, \
            Y * root
    return judge_periodic(pure, products, Y, folds, mask, model.product_groups(),
                          model.max_order, columns, selection.price, selection.temperature)
