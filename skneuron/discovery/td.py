"""NeuronSeek-TD: discover a neuron formula by tensor (CP) polynomial regression.

The search fits the *dual-stream* polynomial model of order ``K`` to the data
and then asks which of its terms the data actually need::

    ŷ_c(x) = b_c + Σ_{k=1..K} w_{k,c}ᵀ x^{∘k} / √((2k−1)!!)               pure power stream
                 + Σ_{k=2..K} Σ_{r=1..R} v_{k,r,c} Π_{m=1..k} u_{k,m,r}ᵀ x    CP interaction stream

The ``2K − 1`` candidate terms are the pure powers ``x, x**2, …, x**K`` and
the interactions ``inter(2), …, inter(K)`` (an order-1 interaction would just
be the linear term). An interaction term is the contraction
``⟨W_{k,c}, x^{⊗k}⟩`` of an order-``k`` weight tensor held in CP form of rank
``R``; the ``D^k`` tensor is never formed. The factors ``u_{k,m,r}`` are
shared by all outputs ``c`` and only the mixing weights ``v_{k,r,c}`` are
output-specific — the form the network layer uses (``V_k · Π_m U_{k,m}x``,
:class:`skneuron.nn.TaskNeuronLayer`) — so a one-hot target with many classes
costs little more than a single output.

The paper selects terms with Hard-Concrete L0 gates; measured here, those
gates never close. Instead, every subset of terms is refitted by least squares
and scored by cross-validation, and the subset with the lowest penalised
error is kept — see :func:`discover_td` and ``docs/method.md`` §1 for the
algorithm, its defaults and what the returned numbers mean.
"""

from __future__ import annotations

import itertools
import math
import time
import warnings
from contextlib import contextmanager

import numpy as np
import tensorly
import torch
from scipy.linalg import cho_factor, cho_solve
from scipy.special import expit
from sklearn.utils import check_array, check_random_state
from tensorly.cp_tensor import CPTensor, cp_normalize
from threadpoolctl import threadpool_limits

from skneuron._adam import Adam
from skneuron.discovery._result import DiscoveryResult
from skneuron.formula import NeuronFormula

__all__ = ["discover_td", "MIN_SAMPLES", "MAX_ORDER"]

#: Below this many rows discovery does not search and returns the linear
#: formula: with 5 folds each model would learn from fewer than 48 rows.
MIN_SAMPLES = 60

#: Largest accepted ``max_order``; the exhaustive subset search scores
#: ``2^(2K-1)`` subsets, 2048 at ``K = 6``.
MAX_ORDER = 6

# Inputs of the non-linear terms are clamped to ±_CLIP (standardised units) so
# high powers and products cannot overflow float32 on outlying rows.
_CLIP = 5.0

# Initial scale of an interaction factor's projection uᵀx (standardised x).
_FACTOR_INIT_STD = 0.5

# Rank of head B's interactions (an interaction term scored without the pure
# term of its order must explain that order alone with a tensor of this rank).
_ALONE_RANK = 2

# An interaction term is priced this many times a pure term: it has k·R·D
# weights to a pure term's D, so at (nearly) equal fit the pure term wins.
_INTERACTION_PREMIUM = 1.1

# Initial mixing coefficient v_{k,r,c} of every rank-one product and output.
_MIX_INIT = 1.0

# On small data the number of epochs is raised to reach this many Adam steps.
_MIN_STEPS = 400

# Ridge of the least-squares refits: α·n_train on a pure column, α·Σ(column²) on a
# product column (see _SubsetScores).
_RIDGE = 1e-3

# How many of the best subsets details["subsets"] lists.
_N_SUBSETS_REPORTED = 10


def discover_td(
    X,
    Y,
    *,
    max_order: int = 3,
    rank: int = 8,
    random_state=None,
    tolerance: float = 0.005,
    max_samples: int = 3000,
    cv: int = 5,
    n_epochs: int = 40,
    batch_size: int = 256,
    learning_rate: float = 0.01,
) -> DiscoveryResult:
    """Discover which pure-power and CP-interaction terms a task neuron needs.

    1. ``X`` and ``Y`` are standardised column by column (a constant column is
       centred and left unscaled). At most ``max_samples`` rows are drawn at
       random and dealt into ``cv`` folds.
    2. For every fold, two ungated polynomial models are trained on the rows
       outside it, all in one training loop (Adam, mean squared error):
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
       averaged over the outputs.
    4. The selected subset minimises
       ``J(S) = MSE(S) + τ·(#pure terms in S + 1.1·#interaction terms in S)``.
       The price of a term is ``τ = max(tolerance, SE)``, with ``SE`` the
       standard error of the lowest cross-validated MSE (a
       one-standard-error rule: on small or noisy data a term must earn more
       than the noise of the comparison); the 10 % premium lets a pure term
       win a near-tie with an interaction term, which has ``k·rank`` times
       more weights.

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
    n_epochs : int, default=40
        Passes over the used rows (each fold's models learn from the rows of
        a batch outside the fold); raised on small data so that training
        takes at least 400 optimiser steps.
    batch_size : int, default=256
        Mini-batch size of the training.
    learning_rate : float, default=0.01
        Adam's learning rate.

    Returns
    -------
    DiscoveryResult
        ``method="td"``. ``term_probabilities`` maps every candidate term ``t``
        to ``σ((J₋ − J₊) / T)``, where ``J₊`` and ``J₋`` are the lowest ``J``
        over the subsets with and without ``t`` and ``T = τ / 4``: a term is
        above 0.5 exactly when it is selected, ≈ 0.98 when it is worth twice
        its price and ≈ 0.02 when it is worth nothing. ``validation_score`` is
        the cross-validated R² of the selected subset's refits, averaged over
        the outputs. ``details`` holds:

        - ``"subsets"``: the best subsets by ``J``, each a dict with
          ``terms``, ``mse`` and ``J``;
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
          It comes from the first fold's head that the selected subset scores
          that order with (A if ``x**k`` is selected, else B);
        - ``"n_samples"`` (rows used), ``"cv"``, ``"n_steps"`` and
          ``"train_mse"`` (per head, averaged over folds);
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

    Cost: ``max(n_epochs·⌈n/batch_size⌉, 400)`` Adam steps that train all
    ``2·cv`` models at once (``n ≤ max_samples``), then ``cv·2^(2K−1)`` small
    least-squares refits from Gram matrices. The interaction weights number
    ``cv·(K−1)·(R+2)·((K+2)·D/2 + C)`` — the factors do not grow with the
    number of outputs ``C``, only the mixing weights do — and the pure
    weights ``cv·(K+1)·D·C``. Measured on 2 cores at the defaults:
    0.15 s on 2500 × 10, 0.31 s on 10 000 × 50 and 0.4 s on a 10-class
    one-hot target of 1347 × 64 (``load_digits``); 1.3 s with 100 classes;
    ``max_order=6`` takes seconds. Memory is
    ``O(n·K·D + cv·K²·R·D + cv·K·(D + R)·C)``; no ``D^k`` tensor is formed. The
    refits solve ``(1 + K·D)``-square Gram systems when there are fewer pure
    columns than training rows, and ``n_train``-square kernel systems otherwise
    (the same fits in dual form), so their memory stays below that of the design
    (``2000`` features: 4 s, tens of MB, instead of 46 s and 0.7 GB).

    Torch and BLAS run single-threaded during the search and the previous
    settings are restored: the matrices are small, and on a busy machine
    torch's two-thread kernels were measured 10–50× slower than one thread.
    Results therefore do not depend on the machine's thread count.

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
    _check_options(max_order, rank, tolerance, max_samples, cv, n_epochs, batch_size,
                   learning_rate)
    X = check_array(X, dtype=np.float64, input_name="X")
    Y = check_array(Y, dtype=np.float64, ensure_2d=False, input_name="Y")
    if Y.ndim not in (1, 2):
        raise ValueError(f"Y must be 1- or 2-dimensional; got shape {Y.shape}.")
    Y = Y.reshape(len(Y), -1)
    if len(Y) != len(X):
        raise ValueError(f"X and Y have different numbers of rows: {len(X)} and {len(Y)}.")

    if len(X) < MIN_SAMPLES:
        return _linear_result(
            start, f"only {len(X)} samples; the cross-validated search needs at least "
            f"{MIN_SAMPLES}")
    X, Y = _standardise(X), _standardise(Y)
    if not np.any(Y):
        return _linear_result(start, "the target is constant", warn=True)

    rng = np.random.default_rng(check_random_state(random_state).randint(2**31 - 1))
    rows = rng.permutation(len(X))[:max_samples]
    X, Y = X[rows], Y[rows]
    fold_of_row = np.arange(len(rows)) % cv  # rows are already in random order
    generator = torch.Generator().manual_seed(int(rng.integers(2**62)))
    n_steps = max(n_epochs * math.ceil(len(rows) / batch_size), _MIN_STEPS)
    masks = _subsets(max_order)
    with _single_threaded():
        model = _DualStreamPolynomial(X.shape[1], Y.shape[1], max_order, rank, cv, generator)
        train_mse = _train(model, X, Y, fold_of_row, n_steps=n_steps, batch_size=batch_size,
                           learning_rate=learning_rate, generator=generator)
        pure, products = _design(model, X)
        groups = model.product_groups()
        # Wide data (more pure columns than training rows): the dual form keeps
        # memory at O(n²) instead of O((K·D)²) — see _KernelSubsetScores.
        wide = pure.shape[1] > np.sum(fold_of_row != 0)
        # Otherwise each fold's training Gram matrix of the pure columns is the
        # whole one less its held-out rows' — one product over all rows, not cv.
        pure_gram = None if wide else pure.T @ pure
        folds = []
        for fold in range(cv):
            train, val = fold_of_row != fold, fold_of_row == fold
            train_data, val_data = (pure[train], products[train, fold]), (pure[val], products[val, fold])
            scores = (_KernelSubsetScores(train_data, val_data, Y[train], Y[val], masks, groups)
                      if wide else
                      _SubsetScores(train_data, val_data, Y[train], Y[val], masks, groups,
                                    pure_gram=pure_gram))
            folds.append((val, scores))
        # Cross-validated MSE per subset and output: every row scored once, by
        # the refit of the fold that did not train on it.
        mse_per_output = sum(val.sum() * scores.mse for val, scores in folds) / len(rows)
        mse = mse_per_output.mean(axis=1)
        lowest = int(np.argmin(mse))
        errors = np.concatenate(
            [scores.squared_errors(lowest) for _, scores in folds]).mean(axis=1)
    standard_error = float(errors.std(ddof=1) / math.sqrt(len(errors)))
    price = max(tolerance, standard_error)
    temperature = max(price, 1e-4) / 4.0
    sizes = masks.sum(axis=1)
    objective = mse + price * (masks[:, :max_order].sum(axis=1)
                               + _INTERACTION_PREMIUM * masks[:, max_order:].sum(axis=1))
    best = _select(objective, masks, max_order)
    selected = masks[best]
    names = _term_names(max_order, rank)
    probabilities = _term_probabilities(objective, masks, temperature)

    variance = Y.var(axis=0)
    informative = variance > 0
    r2 = 1.0 - mse_per_output[best, informative] / variance[informative]
    heads = {k: 0 if selected[k - 1] else 1 for k in range(2, max_order + 1)}
    details = {
        "subsets": [
            {"terms": tuple(n for n, keep in zip(names, masks[i]) if keep),
             "mse": float(mse[i]), "J": float(objective[i])}
            for i in np.lexsort((sizes, objective))[:_N_SUBSETS_REPORTED]
        ],
        "full_mse": float(mse[-1]),
        "price": price,
        "standard_error": standard_error,
        "temperature": temperature,
        "tolerance": tolerance,
        "interaction_factors": model.interaction_cp_tensors(heads, fold=0, output=0),
        "n_samples": len(rows),
        "cv": cv,
        "n_steps": n_steps,
        "train_mse": {"A": train_mse[0], "B": train_mse[1]},
    }
    if selected.any():
        formula = NeuronFormula(
            pure_orders=tuple(k for k in range(1, max_order + 1) if selected[k - 1]),
            interaction_orders=tuple(
                k for k in range(2, max_order + 1) if selected[max_order + k - 2]),
            rank=rank,
        )
    else:
        reason = f"no term lowers the cross-validated error by more than its price {price:.3g}"
        warnings.warn(
            f"TD discovery found no informative term ({reason}); the linear neuron is used.",
            UserWarning, stacklevel=2,
        )
        formula, details["reason"] = NeuronFormula(), reason
    return DiscoveryResult(
        formula=formula,
        method="td",
        term_probabilities={name: float(p) for name, p in zip(names, probabilities)},
        validation_score=float(np.mean(r2)) if r2.size else float("nan"),
        fit_time=time.perf_counter() - start,
        details=details,
    )


def _linear_result(start: float, reason: str, *, warn: bool = False) -> DiscoveryResult:
    """The linear formula, returned without a search."""
    if warn:
        warnings.warn(
            f"TD discovery found no informative term ({reason}); the linear neuron is used.",
            UserWarning, stacklevel=3,
        )
    return DiscoveryResult(
        formula=NeuronFormula(),
        method="td",
        term_probabilities={},
        validation_score=float("nan"),
        fit_time=time.perf_counter() - start,
        details={"reason": reason},
    )


# ---------------------------------------------------------------------- helpers
@contextmanager
def _single_threaded():
    """Run torch and BLAS on one thread, restoring the previous settings after.

    The matrices here are tiny (a batch of 256 rows): threads buy nothing, and
    on a loaded machine torch's two-thread kernels were measured 10–50× slower
    than one thread.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1):
            yield
    finally:
        torch.set_num_threads(previous)


def _check_options(max_order, rank, tolerance, max_samples, cv, n_epochs, batch_size,
                   learning_rate) -> None:
    def integer(name, value, low, high=None):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low \
                or (high is not None and value > high):
            bound = f"between {low} and {high}" if high is not None else f">= {low}"
            raise ValueError(f"{name} must be an integer {bound}; got {value!r}.")

    def real(name, value, low, high, *, open_low):
        ok = isinstance(value, (int, float, np.integer, np.floating))
        ok = ok and not isinstance(value, bool)
        ok = ok and math.isfinite(value) and (value > low if open_low else value >= low)
        if not ok or (high is not None and value >= high):
            bound = f"in ({low}, {high})" if high is not None else (
                f"> {low}" if open_low else f">= {low}")
            raise ValueError(f"{name} must be a number {bound}; got {value!r}.")

    integer("max_order", max_order, 1, MAX_ORDER)
    integer("rank", rank, 1)
    integer("max_samples", max_samples, MIN_SAMPLES)
    integer("cv", cv, 2, 10)
    integer("n_epochs", n_epochs, 1)
    integer("batch_size", batch_size, 1)
    real("tolerance", tolerance, 0.0, None, open_low=False)
    real("learning_rate", learning_rate, 0.0, None, open_low=True)


def _term_names(max_order: int, rank: int) -> list[str]:
    """Candidate terms: pure orders 1..K, then interaction orders 2..K."""
    pure = ["x" if k == 1 else f"x**{k}" for k in range(1, max_order + 1)]
    return pure + [f"inter({k}, rank={rank})" for k in range(2, max_order + 1)]


def _standardise(A: np.ndarray) -> np.ndarray:
    scale = A.std(axis=0)
    scale[scale <= 1e-12 * np.maximum(np.abs(A).max(axis=0), 1.0)] = 1.0
    return (A - A.mean(axis=0)) / scale


class _DualStreamPolynomial(torch.nn.Module):
    """``n_folds`` × two ungated polynomial models, trained in one loop.

    For each cross-fitting fold there is a head A, the full dual-stream model
    (pure orders 1..K, interaction orders 2..K of rank R), and a head B with
    the linear term and rank-:data:`_ALONE_RANK` interactions only. The
    interaction factors ``u_{k,m,r}`` of a head are shared by all outputs;
    only the mixing coefficients ``v_{k,r,c}`` are output-specific, so the
    interaction stream costs about the same for one output as for many.

    Layout. The model reads its batches transposed, one column per row of
    data: ``[clamp(x); x^{∘1}; …; x^{∘K}]`` (scaled powers) of shape
    ``(D + K·D, n)``; its predictions have one row per fold, head and output,
    ``(F·2·C, n)`` in that order. With the batch as the wide
    dimension every matrix product has a wide output; on these small
    batches MKL takes 3–4 times longer for the narrow products of the
    row-major layout (measured: 24 against 6 µs for the pure stream).

    Per fold, the ``J = (K − 1)·(R_A + R_B)`` rank-one products are ordered
    by interaction order, highest first, and within an order head A's
    ``R_A`` before head B's ``R_B``. Factor ``m`` (0-based) of every product
    comes from one projection block; as only the orders ``k > m`` have a
    factor ``m ≥ 2``, block ``m`` covers a prefix of the ``J`` products (the
    rest has no factor ``m``). :attr:`factors` holds block after block, each
    fold after fold. Both heads' pure weights are one matrix in which
    :attr:`pure_mask` zeroes head B's powers ≥ 2; the mixing is one product
    batched over the folds, in which :attr:`mixing_mask` feeds a head's
    products to that head's outputs only.
    """

    def __init__(self, n_features, n_outputs, max_order, rank, n_folds, generator):
        super().__init__()
        D, C, F, K = n_features, n_outputs, n_folds, max_order
        self.n_features, self.n_outputs, self.max_order, self.n_folds = D, C, K, F
        self.ranks = (rank, min(rank, _ALONE_RANK))  # heads A and B
        r_both = sum(self.ranks)
        self.n_products = J = (K - 1) * r_both
        # Width of projection block m: the orders k > m (k ≥ 2), R_A + R_B columns each.
        self.widths = [(K - max(m + 1, 2) + 1) * r_both for m in range(K)] if K > 1 else []
        self.bias = torch.nn.Parameter(torch.zeros(F * 2 * C, 1))
        self.pure = torch.nn.Parameter(torch.zeros(F * 2 * C, K * D))
        pure_mask = torch.ones(F, 2, C, K * D)
        pure_mask[:, 1, :, D:] = 0.0
        self.register_buffer("pure_mask", pure_mask.view(F * 2 * C, K * D), persistent=False)
        std = _FACTOR_INIT_STD / math.sqrt(D)
        # Drawn fold by fold, then stored block by block.
        factors = torch.randn(D, F, sum(self.widths), generator=generator) * std
        blocks = [block.reshape(D, -1) for block in factors.split(self.widths, dim=2)]
        self.factors = torch.nn.Parameter(torch.cat(blocks, dim=1) if blocks else factors.view(D, 0))
        head_of_product = torch.arange(J) % r_both >= self.ranks[0]  # True: B
        mixing_mask = torch.zeros(2, C, J)
        mixing_mask[0, :, ~head_of_product] = 1.0
        mixing_mask[1, :, head_of_product] = 1.0
        self.register_buffer("mixing_mask", mixing_mask.view(2 * C, J), persistent=False)
        self.mixing = torch.nn.Parameter(_MIX_INIT * self.mixing_mask.expand(F, -1, -1).clone())

    def _factor_blocks(self, clipped_t: torch.Tensor) -> list[torch.Tensor]:
        """Factor ``m`` of the products it belongs to, ``u_{k,m,r}ᵀx``; each (F, width_m, n)."""
        F, n = self.n_folds, clipped_t.shape[1]
        projections = (self.factors.t() @ clipped_t).split([F * w for w in self.widths])
        return [block.view(F, w, n) for block, w in zip(projections, self.widths)]

    def _products(self, blocks: list[torch.Tensor]) -> torch.Tensor:
        """Rank-one products ``Π_m u_{k,m,r}ᵀx`` from the factor blocks, (F, J, n)."""
        products = blocks[0] * blocks[1]
        for block, width in zip(blocks[2:], self.widths[2:]):
            products[:, :width] *= block
        return products

    def products(self, clipped: torch.Tensor) -> torch.Tensor:
        """Rank-one products of every fold for row-major inputs, shape (n, F, J)."""
        if not self.widths:
            return clipped.new_zeros(clipped.shape[0], self.n_folds, 0)
        return self._products(self._factor_blocks(clipped.t())).permute(2, 0, 1)

    def product_groups(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """For each order k = 2..K, the columns of :meth:`products` of heads A and B."""
        K, (rank_a, rank_b) = self.max_order, self.ranks
        first = [(K - k) * (rank_a + rank_b) for k in range(2, K + 1)]
        return [(np.arange(f, f + rank_a), np.arange(f + rank_a, f + rank_a + rank_b))
                for f in first]

    def _forward(self, batch_t: torch.Tensor):
        """Predictions (F·2·C, n) and the intermediate values the gradients need."""
        D = self.n_features
        clipped_t, powers_t = batch_t[:D], batch_t[D:]
        out = torch.addmm(self.bias, self.pure * self.pure_mask, powers_t)
        if not self.widths:
            return out, None
        blocks = self._factor_blocks(clipped_t)
        products = self._products(blocks)
        mixing = self.mixing * self.mixing_mask
        out.view(self.n_folds, -1, out.shape[1]).baddbmm_(mixing, products)
        return out, (blocks, products, mixing)

    def predictions(self, batch: torch.Tensor) -> torch.Tensor:
        """Predictions of heads A and B per fold for row-major inputs, (n, F, 2, C)."""
        out = self._forward(batch.t())[0]
        return out.t().reshape(-1, self.n_folds, 2, self.n_outputs)

    def set_gradients(self, batch_t: torch.Tensor, y_t: torch.Tensor,
                      weight_t: torch.Tensor) -> None:
        """Set ``.grad`` of every parameter to the gradient of ``Σ weight·(ŷ − y)²``.

        The inputs are transposed: ``batch_t`` (D + K·D, n), ``y_t`` (C, n)
        and ``weight_t`` (F, n), the weight of each row in each fold's loss
        (the same for both heads and all outputs). The gradient is written out
        by hand — the model is a few matmuls and products — which makes a
        training step about a quarter cheaper than autograd on these small
        batches; ``tests/discovery/test_td.py`` checks it against autograd.
        """
        D, F, C, J = self.n_features, self.n_folds, self.n_outputs, self.n_products
        n = batch_t.shape[1]
        clipped_t, powers_t = batch_t[:D], batch_t[D:]
        out, cache = self._forward(batch_t)
        grad = (out.view(F, 2, C, n) - y_t).mul_((2.0 * weight_t).view(F, 1, 1, n))
        grad = grad.view(F * 2 * C, n)
        self.bias.grad = grad.sum(dim=1, keepdim=True)
        self.pure.grad = (grad @ powers_t.t()).mul_(self.pure_mask)
        if cache is None:
            return
        blocks, products, mixing = cache
        grad = grad.view(F, 2 * C, n)
        self.mixing.grad = torch.bmm(grad, products.transpose(1, 2)).mul_(self.mixing_mask)
        grad_products = torch.bmm(mixing.transpose(1, 2), grad)  # (F, J, n)
        # Product rule: the gradient of factor m is the product of all the others,
        # each on the part of block m's products it belongs to.
        grad_projections = batch_t.new_empty(sum(self.widths) * F, n)
        grad_blocks = grad_projections.split([F * w for w in self.widths])
        for m, (grad_block, width) in enumerate(zip(grad_blocks, self.widths)):
            grad_block = grad_block.view(F, width, n)
            others = [i for i in range(len(blocks)) if i != m]
            torch.mul(grad_products[:, :width], blocks[others[0]][:, :width], out=grad_block)
            for i in others[1:]:
                shared = min(width, self.widths[i])
                grad_block[:, :shared] *= blocks[i][:, :shared]
        self.factors.grad = clipped_t @ grad_projections.t()

    @torch.no_grad()
    def interaction_cp_tensors(self, heads: dict[int, int], fold: int = 0, output: int = 0):
        """Order ``k`` → :class:`CPTensor` of head ``heads[k]`` (0 = A, 1 = B)."""
        K, C, F = self.max_order, self.n_outputs, self.n_folds
        r_both = sum(self.ranks)
        factors = self.factors.detach().double().numpy()
        starts = F * np.concatenate([[0], np.cumsum(self.widths)[:-1]])
        blocks = [factors[:, start + fold * w: start + (fold + 1) * w]
                  for start, w in zip(starts, self.widths)]
        mixing = self.mixing.detach().double().numpy()[fold]  # (2C, J)
        tensors = {}
        for k, head in sorted(heads.items()):
            first = (K - k) * r_both + (0 if head == 0 else self.ranks[0])
            columns = slice(first, first + self.ranks[head])
            factors_k = [np.ascontiguousarray(blocks[m][:, columns]) for m in range(k)]
            weights = np.ascontiguousarray(mixing[head * C + output, columns])
            with tensorly.backend_context("numpy", local_threadsafe=True):
                tensors[k] = cp_normalize(CPTensor((weights, factors_k)))
        return tensors


def _power_scales(max_order: int) -> torch.Tensor:
    """``1 / √((2k−1)!!)``: unit second moment of ``x^k`` for standard normal ``x``."""
    return torch.tensor(
        [1.0 / math.sqrt(math.prod(range(2 * k - 1, 0, -2))) for k in range(1, max_order + 1)]
    )


def _inputs(X: np.ndarray, max_order: int) -> torch.Tensor:
    """Float32 rows ``[clamp(x), x, x^{∘2}/√3, …, x^{∘K}/√((2K−1)!!)]`` (powers ≥ 2 clamped)."""
    x = torch.as_tensor(X, dtype=torch.float32)
    clipped = x.clamp(-_CLIP, _CLIP)
    powers = torch.stack([x] + [clipped.pow(k) for k in range(2, max_order + 1)], dim=1)
    powers = powers * _power_scales(max_order)[:, None]
    return torch.cat([clipped, powers.flatten(1)], dim=1)


def _train(model, X, Y, fold_of_row, *, n_steps, batch_size, learning_rate, generator):
    """Adam on Σ_folds Σ_heads (MSE on the rows outside the fold); final MSE per head."""
    # Transposed, one column per row (see _DualStreamPolynomial).
    data = _inputs(X, model.max_order).t().contiguous()
    y = torch.as_tensor(Y.T, dtype=torch.float32).contiguous()
    in_training = torch.as_tensor(
        np.arange(model.n_folds)[:, None] != fold_of_row[None], dtype=torch.float32)
    optimiser = Adam(model.parameters(), lr=learning_rate)
    n, step, C = data.shape[1], 0, Y.shape[1]
    with torch.no_grad():  # the gradients are written by model.set_gradients
        while step < n_steps:
            # One gather per epoch; the batches are then column slices.
            permutation = torch.randperm(n, generator=generator)
            data_e, y_e, weight_e = (t.index_select(1, permutation) for t in (data, y, in_training))
            for begin in range(0, n, batch_size):
                end = begin + batch_size
                # Each fold's loss is the mean over its training rows and the outputs.
                weight = weight_e[:, begin:end]
                weight = weight / (weight.sum(dim=1, keepdim=True).clamp(min=1.0) * C)
                model.set_gradients(data_e[:, begin:end], y_e[:, begin:end], weight)
                optimiser.step([parameter.grad for parameter in optimiser.params])
                step += 1
                if step >= n_steps:
                    break
        out = model._forward(data)[0].view(model.n_folds, 2, C, n)
        error = (out - y).square().mean(dim=2)  # (F, 2, n)
        per_fold = torch.einsum("fn,fhn->fh", in_training, error) / in_training.sum(dim=1)[:, None]
        return per_fold.mean(dim=0).tolist()


def _design(model, X: np.ndarray):
    """Pure design ``[1, x^{∘1}, …, x^{∘K}]`` (n, 1 + K·D) and rank-one products (n, F, J)."""
    with torch.no_grad():
        data = _inputs(X, model.max_order)
        products = model.products(data[:, :model.n_features]).double().numpy()
    pure = data[:, model.n_features:].double().numpy()
    return np.concatenate([np.ones((len(X), 1)), pure], axis=1), products


def _subsets(max_order: int):
    """Every subset of the 2K − 1 terms as a boolean mask (pure orders, then interactions)."""
    return np.array(list(itertools.product((0, 1), repeat=2 * max_order - 1)), dtype=bool)[:, ::-1]


class _SubsetScores:
    """Least-squares refits of every subset of terms, scored on held-out rows.

    ``train`` and ``val`` are ``(F, Q)`` from :func:`_design` restricted to
    one fold's rows and products; ``pure_gram``, when given, is ``FᵀF`` over
    the training and held-out rows together. In subset ``S`` a pure order ``k``
    contributes its ``D`` columns of ``F``; an interaction order ``k``
    contributes the columns ``groups[k − 2][0]`` of ``Q`` (head A's ``R_A``
    rank-one products) if ``x**k`` is in ``S`` too, else ``groups[k − 2][1]``
    (head B's). The design is the same for every output; each output gets its
    own coefficients. The refit uses the training Gram matrices — the pure
    block is eliminated first, by one Cholesky solve of just its columns per
    set of pure orders, then the small interaction system of every subset
    with that set is solved (Schur complement) — and the held-out error
    comes from the validation Gram matrix, so no prediction vector is formed
    per subset.

    Attributes
    ----------
    mse : ndarray of shape (n_subsets, n_outputs)
        Held-out mean squared error of every subset's refit.
    """

    def __init__(self, train, val, Y_train, Y_val, masks, groups, pure_gram=None):
        (F, Q), (F_val, Q_val) = train, val
        K = len(groups) + 1
        self._train, self._val, self._Y_val = (F, Q, Y_train), (F_val, Q_val), Y_val
        self._masks, self._groups = masks, groups
        C, p = Y_train.shape[1], F.shape[1]
        D = (p - 1) // K
        bank = np.concatenate([F_val, Q_val], axis=1)
        H = bank.T @ bank
        # The training rows' Gram matrix of F: the whole data's less the held-out rows'.
        G_FF = F.T @ F if pure_gram is None else pure_gram - H[:p, :p]
        H /= len(Y_val)
        G_FQ, G_QQ = F.T @ Q, Q.T @ Q
        g_F, g_Q = F.T @ Y_train, Q.T @ Y_train
        h = bank.T @ Y_val / len(Y_val)  # (P, C)
        yy = (Y_val**2).mean(axis=0)
        # Ridge: α·n on a pure column (they have about unit scale, and a column
        # that is almost constant on these rows must not get a huge weight),
        # α·(its sum of squares) on a product column (their scale is learned).
        self._ridge = np.full(p, _RIDGE * len(F))
        self._ridge[0] = 1e-10 * len(F)  # the intercept
        self._ridge_Q = _RIDGE * np.diag(G_QQ) + 1e-10 * len(F)

        self.mse = np.empty((len(masks), C))
        pure_sets, pure_index = np.unique(masks[:, :K], axis=0, return_inverse=True)
        for u, pure_set in enumerate(pure_sets):
            subsets = np.flatnonzero(pure_index.reshape(-1) == u)
            # The pure block of the set, with the intercept; columns outside it get 0.
            on = np.flatnonzero(np.concatenate([[True], np.repeat(pure_set, D)]))
            Z = np.zeros((p, C + Q.shape[1]))
            system = G_FF[np.ix_(on, on)]
            system[np.diag_indices_from(system)] += self._ridge[on]
            Z[on] = _solve_positive_definite(system, np.concatenate([g_F[on], G_FQ[on]], axis=1))
            Z_g, Z_Q = Z[:, :C], Z[:, C:]
            theta = np.zeros((len(subsets), p + Q.shape[1], C))
            theta[:, :p] = Z_g
            if groups:
                q, order = self._columns(pure_set)
                m = masks[subsets][:, K:][:, order].astype(float)  # (s, |q|)
                cross = G_FQ[:, q]
                schur = G_QQ[np.ix_(q, q)] + np.diag(self._ridge_Q[q]) - cross.T @ Z_Q[:, q]
                reduced = g_Q[q] - cross.T @ Z_g  # (|q|, C)
                schur = (schur[None] * m[:, :, None] * m[:, None, :]
                         + np.eye(len(q)) * (1.0 - m)[:, None, :])
                gamma = np.linalg.solve(schur, reduced[None] * m[:, :, None])  # (s, |q|, C)
                theta[:, :p] = Z_g[None] - Z_Q[:, q] @ gamma
                theta[:, p + q] = gamma
            quadratic = np.einsum("spc,pr,src->sc", theta, H, theta, optimize=True)
            linear = np.einsum("spc,pc->sc", theta, h)
            self.mse[subsets] = np.maximum(yy[None] - 2.0 * linear + quadratic, 0.0)

    def _columns(self, pure_set):
        return _product_columns(self._groups, pure_set)

    def squared_errors(self, subset: int) -> np.ndarray:
        """Held-out squared residuals of one subset's refit, shape (n_val, C)."""
        F, Q, Y = self._train
        mask, K = self._masks[subset], len(self._groups) + 1
        D = (F.shape[1] - 1) // K
        pure_columns = np.concatenate([[True], np.repeat(mask[:K], D)])
        q = np.zeros(0, dtype=int)
        if self._groups:
            q, order = self._columns(mask[:K])
            q = q[mask[K:][order]]
        ridge = np.concatenate([self._ridge[pure_columns], self._ridge_Q[q]])

        def design(F_, Q_):
            return np.concatenate([F_[:, pure_columns], Q_[:, q]], axis=1)

        A = design(F, Q)
        coefficients = _solve_positive_definite(A.T @ A + np.diag(ridge), A.T @ Y)
        return (self._Y_val - design(*self._val) @ coefficients) ** 2


def _solve_positive_definite(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """``A⁻¹B`` for a symmetric positive definite ``A`` (a ridge system), by Cholesky."""
    return cho_solve(cho_factor(A, check_finite=False), B, check_finite=False)


def _product_columns(groups, pure_set):
    """Product columns usable with a set of pure orders, and the order index of each."""
    columns, orders = [], []
    for i, (head_a, head_b) in enumerate(groups):
        chosen = head_a if pure_set[i + 1] else head_b
        columns.append(chosen)
        orders.append(np.full(len(chosen), i))
    return np.concatenate(columns), np.concatenate(orders)


class _KernelSubsetScores:
    """:class:`_SubsetScores` in dual (kernel) form, for wide data.

    Same refits and the same interface, but no ``(1 + K·D)``-square Gram
    matrix is formed: with more pure columns than training rows, those
    matrices are the largest objects of the search (``(K·D)²`` floats, 288 MB
    per copy at ``D = 2000, K = 3``) and solving them dominates the time.

    The intercept is left unpenalised by centring every column and the
    target on the training rows (the primal form gives it a ridge of
    ``10⁻¹⁰·n``, the same fit to that precision). For a set ``P`` of pure
    orders with ridge ``Λ = α·n·I`` the kernel is
    ``K_P = Σ_{k∈P} F_k F_kᵀ / (α·n)`` (``n_train × n_train``). By the
    Woodbury identity, residualising on the pure block is ``(K_P + I)⁻¹``, so
    the interaction system of every subset is
    ``(Qᵀ(K_P + I)⁻¹Q + Λ_Q) γ = Qᵀ(K_P + I)⁻¹y`` — the Schur complement of the
    primal form — and the held-out prediction is
    ``ȳ + K_P(val, train)·(K_P + I)⁻¹(y − Qγ) + Q_val γ``.
    Memory is ``O(K·n²)``, below the ``O(n·K·D)`` of the design itself.
    """

    def __init__(self, train, val, Y_train, Y_val, masks, groups):
        (F, Q), (F_val, Q_val) = train, val
        K = len(groups) + 1
        n = len(F)
        D = (F.shape[1] - 1) // K
        self._masks, self._groups, self._K = masks, groups, K
        self._Y_val = Y_val
        # Centre on the training rows: the intercept is then free (column 0 drops out).
        F_mean, Q_mean = F[:, 1:].mean(axis=0), Q.mean(axis=0)
        self._y_mean = Y_train.mean(axis=0)
        self._y = Y_train - self._y_mean
        self._Q, self._Q_val = Q - Q_mean, Q_val - Q_mean
        ridge = _RIDGE * n
        self._kernels, self._val_kernels = [], []
        for k in range(K):
            columns = slice(1 + k * D, 1 + (k + 1) * D)
            block = F[:, columns] - F_mean[k * D:(k + 1) * D]
            self._kernels.append(block @ block.T / ridge)
            self._val_kernels.append((F_val[:, columns] - F_mean[k * D:(k + 1) * D]) @ block.T
                                     / ridge)
        # The product ridge of the primal form (from the uncentred columns).
        self._ridge_Q = _RIDGE * (Q**2).sum(axis=0) + 1e-10 * n

        self.mse = np.empty((len(masks), Y_train.shape[1]))
        pure_sets, pure_index = np.unique(masks[:, :K], axis=0, return_inverse=True)
        for u, pure_set in enumerate(pure_sets):
            subsets = np.flatnonzero(pure_index.reshape(-1) == u)
            residuals = (Y_val[None] - self._predict(pure_set, masks[subsets])) ** 2
            self.mse[subsets] = residuals.mean(axis=1)

    def _predict(self, pure_set, subset_masks) -> np.ndarray:
        """Held-out predictions of the subsets sharing ``pure_set``, shape (s, n_val, C)."""
        n, K = len(self._y), self._K
        system = np.eye(n)
        val_kernel = np.zeros((len(self._Q_val), n))
        for k in np.flatnonzero(pure_set):
            system += self._kernels[k]
            val_kernel += self._val_kernels[k]
        q = np.zeros(0, dtype=int)
        if self._groups:
            q, order = _product_columns(self._groups, pure_set)
        Q, Q_val = self._Q[:, q], self._Q_val[:, q]
        # (K_P + I)⁻¹ [y, Q]: the ridge residuals of y and of every product on the pure block.
        resolved = _solve_positive_definite(system, np.concatenate([self._y, Q], axis=1))
        r_y, r_Q = resolved[:, :self._y.shape[1]], resolved[:, self._y.shape[1]:]
        s, C = len(subset_masks), self._y.shape[1]
        gamma = np.zeros((s, len(q), C))
        if len(q):
            m = subset_masks[:, K:][:, order].astype(float)  # (s, |q|)
            schur = Q.T @ r_Q + np.diag(self._ridge_Q[q])
            reduced = Q.T @ r_y
            schur = (schur[None] * m[:, :, None] * m[:, None, :]
                     + np.eye(len(q)) * (1.0 - m)[:, None, :])
            gamma = np.linalg.solve(schur, reduced[None] * m[:, :, None])  # (s, |q|, C)
        pure_part = val_kernel @ (r_y[None] - r_Q[None] @ gamma)  # (s, n_val, C)
        return self._y_mean + pure_part + Q_val[None] @ gamma

    def squared_errors(self, subset: int) -> np.ndarray:
        """Held-out squared residuals of one subset's refit, shape (n_val, C)."""
        mask = self._masks[subset]
        return (self._Y_val - self._predict(mask[:self._K], mask[None])[0]) ** 2


def _select(objective, masks, max_order) -> int:
    """Index of the minimiser of J; ties go to fewer terms, fewer interactions, lower orders."""
    n_pure = max_order
    orders = np.concatenate([np.arange(1, max_order + 1), np.arange(2, max_order + 1)])
    keys = (
        (masks * orders).sum(axis=1),
        masks[:, n_pure:].sum(axis=1),
        masks.sum(axis=1),
        objective,
    )
    return int(np.lexsort(keys)[0])


def _term_probabilities(objective, masks, temperature) -> np.ndarray:
    """``σ((min J over S∌t − min J over S∋t) / T)`` for every term t."""
    big = np.inf
    with_term = np.where(masks, objective[:, None], big).min(axis=0)
    without_term = np.where(~masks, objective[:, None], big).min(axis=0)
    return expit((without_term - with_term) / temperature)
