"""NeuronSeek-TD: discover a neuron formula by tensor (CP) polynomial regression.

The search fits the *dual-stream* polynomial model of order ``K`` to the data
and then asks which of its terms the data actually need::

    ŷ_c(x) = b_c + Σ_{k=1..K} w_{k,c}ᵀ x^{∘k} / √((2k−1)!!)           pure power stream
                 + Σ_{k=2..K} Σ_{r=1..R} Π_{m=1..k} u_{k,m,r,c}ᵀ x        CP interaction stream

The ``2K − 1`` candidate terms are the pure powers ``x, x**2, …, x**K`` and
the interactions ``inter(2), …, inter(K)`` (an order-1 interaction would just
be the linear term). An interaction term is the contraction
``⟨W_k, x^{⊗k}⟩`` of an order-``k`` weight tensor held in CP form of rank
``R``; the ``D^k`` tensor is never formed.

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
from sklearn.utils import check_array, check_random_state
from tensorly.cp_tensor import CPTensor, cp_normalize
from threadpoolctl import threadpool_limits

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

# On small data the number of epochs is raised to reach this many Adam steps.
_MIN_STEPS = 400

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
       interactions only.
    3. For every subset ``S`` of the ``2K − 1`` candidate terms and every fold,
       a linear least-squares refit is made on the fold's training rows — a
       pure term ``x**k`` brings its ``n_features`` columns ``x^{∘k}``; an
       interaction term ``inter(k)`` brings one column, the learned term of
       head A if ``x**k`` is also in ``S`` and of head B otherwise — and
       evaluated on the fold's rows. ``MSE(S)`` is the cross-validated mean
       squared error, averaged over the outputs.
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

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Numeric inputs without missing values.
    Y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Regression target(s). For classification pass the class indicator
        matrix (one-hot; a single indicator column for two classes): the
        search is then a multi-output regression on the standardised
        indicators, with class-specific term weights and one term selection
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
          learned order-``k`` weight tensor ``W_k`` of the first output as a
          normalised :class:`tensorly.cp_tensor.CPTensor` (factors of shape
          ``(n_features, r)``, unit columns): the term's value is
          ``⟨W_k, x^{⊗k}⟩`` on the standardised input clamped to ±5. It comes
          from the first fold's head that the selected subset scores that
          order with (A if ``x**k`` is selected, else B);
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
    least-squares refits from Gram matrices. Measured on 2 busy cores:
    0.4–0.8 s on 2500 × 10 and 0.8–1.4 s on 10 000 × 50 at the defaults; the interaction
    weights grow as ``cv·K²·R·D·C``, so ``max_order=6`` with many outputs
    takes seconds. Memory is ``O(n·K·D + cv·K²·R·D·C)``; no ``D^k`` tensor is
    formed.

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
        pure, inter = _design(model, X)
        folds = []
        for fold in range(cv):
            train, val = fold_of_row != fold, fold_of_row == fold
            folds.append((val, _SubsetScores((pure[train], inter[train, fold]),
                                             (pure[val], inter[val, fold]),
                                             Y[train], Y[val], masks, max_order)))
    # Cross-validated MSE per subset and output: every row scored once, by the
    # refit of the fold that did not train on it.
    mse_per_output = sum(val.sum() * scores.mse for val, scores in folds) / len(rows)
    mse = mse_per_output.mean(axis=1)
    lowest = int(np.argmin(mse))
    errors = np.concatenate([scores.squared_errors(lowest) for _, scores in folds]).mean(axis=1)
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
    the linear term and rank-:data:`_ALONE_RANK` interactions only. The input
    of a batch is one row block ``[clamp(x), x^{∘1}, …, x^{∘K}]`` (scaled
    powers); every weight of every fold is applied with three matmuls.
    """

    def __init__(self, n_features, n_outputs, max_order, rank, n_folds, generator):
        super().__init__()
        D, C, F = n_features, n_outputs, n_folds
        self.n_features, self.n_outputs, self.max_order, self.n_folds = D, C, max_order, F
        self.ranks = (rank, min(rank, _ALONE_RANK))  # heads A and B
        # Per fold, per order k: k factors of width (R_A + R_B)·C, heads side by side.
        self.widths = [k * sum(self.ranks) * C for k in range(2, max_order + 1)]
        self.bias = torch.nn.Parameter(torch.zeros(F, 2, C))
        self.pure = torch.nn.Parameter(torch.zeros(max_order * D, F * C))
        self.linear_b = torch.nn.Parameter(torch.zeros(D, F * C))
        std = _FACTOR_INIT_STD / math.sqrt(D)
        self.factors = torch.nn.Parameter(
            torch.randn(D, F * sum(self.widths), generator=generator) * std
        )

    def interaction_outputs(self, clipped: torch.Tensor) -> torch.Tensor:
        """Interaction terms, shape (n, folds, 2 heads, K − 1 orders, C)."""
        n, F, C = clipped.shape[0], self.n_folds, self.n_outputs
        if not self.widths:
            return clipped.new_zeros(n, F, 2, 0, C)
        projected = (clipped @ self.factors).view(n, F, -1)
        rank_a = self.ranks[0]
        outputs = []
        for k, block in zip(range(2, self.max_order + 1),
                            torch.split(projected, self.widths, dim=2)):
            block = block.unflatten(2, (k, -1))
            product = block[:, :, 0]
            for m in range(1, k):  # cheaper backward than Tensor.prod
                product = product * block[:, :, m]
            product = product.unflatten(2, (-1, C))
            outputs.append(torch.stack(
                [product[:, :, :rank_a].sum(dim=2), product[:, :, rank_a:].sum(dim=2)], dim=2))
        return torch.stack(outputs, dim=3)

    def predictions(self, batch: torch.Tensor) -> torch.Tensor:
        """Predictions of heads A and B per fold, shape (n, folds, 2, C)."""
        D, F, C = self.n_features, self.n_folds, self.n_outputs
        clipped, powers = batch[:, :D], batch[:, D:]
        n = batch.shape[0]
        inter = self.interaction_outputs(clipped).sum(dim=3)  # (n, F, 2, C)
        a = (powers @ self.pure).view(n, F, C)
        b = (powers[:, :D] @ self.linear_b).view(n, F, C)
        return torch.stack([a, b], dim=2) + inter + self.bias

    @torch.no_grad()
    def interaction_cp_tensors(self, heads: dict[int, int], fold: int = 0, output: int = 0):
        """Order ``k`` → :class:`CPTensor` of head ``heads[k]`` (0 = A, 1 = B)."""
        D, C = self.n_features, self.n_outputs
        per_fold = self.factors.detach().double().numpy().reshape(D, self.n_folds, -1)[:, fold]
        blocks = np.split(per_fold, np.cumsum(self.widths)[:-1], axis=1)
        tensors = {}
        for (k, head), block in zip(sorted(heads.items()), blocks):
            factors = block.reshape(D, k, sum(self.ranks), C)
            columns = slice(0, self.ranks[0]) if head == 0 else slice(self.ranks[0], None)
            factors = [np.ascontiguousarray(factors[:, m, columns, output]) for m in range(k)]
            with tensorly.backend_context("numpy", local_threadsafe=True):
                tensors[k] = cp_normalize(CPTensor((np.ones(self.ranks[head]), factors)))
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
    data = _inputs(X, model.max_order)
    y = torch.as_tensor(Y, dtype=torch.float32)
    in_training = torch.as_tensor(
        fold_of_row[:, None] != np.arange(model.n_folds)[None], dtype=torch.float32)
    optimiser = torch.optim.Adam(model.parameters(), lr=learning_rate, foreach=True)
    n, step = len(data), 0
    while step < n_steps:
        # One gather per epoch; the batches are then contiguous slices.
        permutation = torch.randperm(n, generator=generator)
        data_e, y_e, weight_e = data[permutation], y[permutation], in_training[permutation]
        for begin in range(0, n, batch_size):
            end = begin + batch_size
            error = model.predictions(data_e[begin:end]) - y_e[begin:end, None, None, :]
            weight = weight_e[begin:end]  # (batch, folds)
            per_fold = torch.einsum("nf,nfh->f", weight, error.square().mean(dim=3))
            loss = (per_fold / weight.sum(dim=0).clamp(min=1.0)).sum()
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            step += 1
            if step >= n_steps:
                break
    with torch.no_grad():
        error = (model.predictions(data) - y[:, None, None, :]).square().mean(dim=3)
        per_fold = torch.einsum("nf,nfh->fh", in_training, error) / in_training.sum(dim=0)[:, None]
        return per_fold.mean(dim=0).tolist()


def _design(model, X: np.ndarray):
    """Pure design ``[1, x^{∘1}, …, x^{∘K}]`` (n, 1 + K·D), interactions (n, F, 2(K−1), C)."""
    with torch.no_grad():
        data = _inputs(X, model.max_order)
        inter = model.interaction_outputs(data[:, :model.n_features])
    n, F, _, _, C = inter.shape
    inter = inter.reshape(n, F, -1, C).double().numpy()
    pure = data[:, model.n_features:].double().numpy()
    return np.concatenate([np.ones((len(X), 1)), pure], axis=1), inter


def _subsets(max_order: int):
    """Every subset of the 2K − 1 terms as a boolean mask (pure orders, then interactions)."""
    return np.array(list(itertools.product((0, 1), repeat=2 * max_order - 1)), dtype=bool)[:, ::-1]


class _SubsetScores:
    """Least-squares refits of every subset of terms, scored on held-out rows.

    ``train`` and ``val`` are ``(F, Q)`` from :func:`_design` restricted to
    one fold's rows. In subset ``S`` a pure order ``k`` contributes its ``D``
    columns of ``F`` (all refitted); an interaction order ``k`` contributes
    one column of ``Q``: head A's term if ``x**k`` is in ``S`` too, else head
    B's. The refit uses the training Gram matrices — the pure block is
    eliminated first, one solve per set of pure orders, then the small
    interaction system of every subset with that set is solved (Schur
    complement) — and the held-out error comes from the validation Gram
    matrices, so no prediction vector is formed per subset.

    Attributes
    ----------
    mse : ndarray of shape (n_subsets, n_outputs)
        Held-out mean squared error of every subset's refit.
    """

    def __init__(self, train, val, Y_train, Y_val, masks, max_order):
        (F, Q), (F_val, Q_val) = train, val
        self._val, self._Y_val, self._masks, self._K = (F_val, Q_val), Y_val, masks, max_order
        K, n_inter = max_order, max_order - 1
        C, p = Y_train.shape[1], F.shape[1]
        D = (p - 1) // K
        G_FF = F.T @ F
        G_FQ = (F.T @ Q.reshape(len(F), -1)).reshape(p, -1, C).transpose(2, 0, 1)  # (C, p, q)
        G_QQ = np.einsum("nic,njc->cij", Q, Q)  # (C, 2(K−1), 2(K−1))
        g_F = F.T @ Y_train  # (p, C)
        g_Q = np.einsum("nic,nc->ci", Q, Y_train)  # (C, 2(K−1))
        bank = _bank(F_val, Q_val)  # (C, n_val, p + 2(K−1))
        H = bank.transpose(0, 2, 1) @ bank / len(Y_val)
        h = (bank.transpose(0, 2, 1) @ Y_val.T[:, :, None])[..., 0] / len(Y_val)  # (C, P)
        yy = (Y_val**2).mean(axis=0)
        self._ridge = 1e-6 * np.diag(G_FF) + 1e-8 * len(F)
        self._train = (F, Q, Y_train)

        self.mse = np.empty((len(masks), C))
        pure_sets, pure_index = np.unique(masks[:, :K], axis=0, return_inverse=True)
        for u, pure_set in enumerate(pure_sets):
            subsets = np.flatnonzero(pure_index.reshape(-1) == u)
            # Pure block with the intercept; columns outside the set get identity rows.
            on = np.concatenate([[True], np.repeat(pure_set, D)]).astype(float)
            system = G_FF * np.outer(on, on) + np.diag(self._ridge * on + (1.0 - on))
            rhs = np.concatenate([g_F, G_FQ.transpose(1, 0, 2).reshape(p, -1)], axis=1)
            Z = np.linalg.solve(system, rhs * on[:, None])
            Z_g = Z[:, :C].T  # (C, p)
            Z_Q = Z[:, C:].reshape(p, C, 2 * n_inter).transpose(1, 0, 2)  # (C, p, 2(K−1))
            beta = np.broadcast_to(Z_g, (len(subsets), C, p))
            theta_Q = np.zeros((len(subsets), C, 2 * n_inter))
            if n_inter:
                # Bank column of order k: head A's (k − 2) if x**k is in S, else head B's.
                q = np.arange(n_inter) + n_inter * ~pure_set[1:].astype(bool)
                m = masks[subsets, K:].astype(float)[:, None, :]  # (s, 1, K−1)
                cross = G_FQ[:, :, q]
                schur = G_QQ[:, q][:, :, q] - np.einsum("cpi,cpj->cij", cross, Z_Q[:, :, q])
                reduced = g_Q[:, q] - np.einsum("cpi,cp->ci", cross, Z_g)
                scale = 1e-8 * np.abs(np.einsum("cii->ci", schur)) + 1e-10
                schur = (schur[None] * m[..., :, None] * m[..., None, :]
                         + np.eye(n_inter) * (scale[None] * m + (1.0 - m))[..., None, :])
                gamma = np.linalg.solve(schur, (reduced[None] * m)[..., None])[..., 0]
                beta = Z_g[None] - np.einsum("cpi,sci->scp", Z_Q[:, :, q], gamma)
                theta_Q[:, :, q] = gamma
            theta = np.concatenate([beta, theta_Q], axis=2)  # (s, C, p + 2(K−1))
            quadratic = ((theta.transpose(1, 0, 2) @ H).transpose(1, 0, 2) * theta).sum(axis=2)
            linear = (theta * h[None]).sum(axis=2)
            self.mse[subsets] = np.maximum(yy[None] - 2.0 * linear + quadratic, 0.0)

    def squared_errors(self, subset: int) -> np.ndarray:
        """Held-out squared residuals of one subset's refit, shape (n_val, C)."""
        F, Q, Y = self._train
        K, n_inter, mask = self._K, self._K - 1, self._masks[subset]
        D = (F.shape[1] - 1) // K
        pure_columns = np.concatenate([[True], np.repeat(mask[:K], D)])
        orders = np.flatnonzero(mask[K:])
        q = orders + n_inter * ~mask[1:K][orders].astype(bool) if n_inter else orders
        ridge = np.concatenate([self._ridge[pure_columns], np.zeros(len(q))])
        errors = []
        for c in range(Y.shape[1]):
            def design(F_, Q_):
                return np.concatenate([F_[:, pure_columns], Q_[:, q, c]], axis=1)
            A = design(F, Q)
            coefficients = np.linalg.solve(A.T @ A + np.diag(ridge), A.T @ Y[:, c])
            errors.append(self._Y_val[:, c] - design(*self._val) @ coefficients)
        return np.column_stack(errors) ** 2


def _bank(F, Q):
    """Per-output design ``[F, Q_c]``, shape (C, n, p + 2(K − 1))."""
    C = Q.shape[2]
    return np.concatenate([np.broadcast_to(F[None], (C,) + F.shape), Q.transpose(2, 0, 1)],
                          axis=2)


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
    return 1.0 / (1.0 + np.exp(-(without_term - with_term) / temperature))
