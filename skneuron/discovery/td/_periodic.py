"""TD's periodic candidate: does ``periodic(J)`` add to the terms the subset search chose?

The periodic term ``Σ_j w_jᵀ sin(2π f_j ∘ x + φ_j)`` has frequencies that the
network learns, so it is not one more block of fixed columns for the
exhaustive subset search. It is judged after that search, on the chosen
subset ``S``: ``J`` random Fourier columns per continuous input — frequencies
drawn at the scales :data:`CANDIDATE_SCALES` in turn, which span the smooth
start of the network's frequencies and the sharper ones training reaches,
phases uniform — join the refit of ``S`` (ridge ``α·n`` like a pure term),
and the cross-validated error with them is compared to the error without
them, both refitted here the same way. When the caller keeps the term in
every formula (``discover_td(keep_periodic=J)``), such :class:`RandomWaves`
join every subset's refit in the search instead, and nothing is judged here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from skneuron.discovery._common import CLIP
from skneuron.formula import PERIODIC_INIT_SCALE
from skneuron.discovery.td._folds import fold_splits
from skneuron.discovery.td._refits import solve_positive_definite, subset_columns

__all__ = ["PeriodicVerdict", "RandomWaves", "judge_periodic"]

#: The periodic term is priced like an interaction term: at (nearly) equal fit the
#: terms with fewer weights win.
PERIODIC_PREMIUM = 1.1

#: Standard deviations of the candidate frequencies, used in turn: those the
#: network's periodic terms start from.
CANDIDATE_SCALES = PERIODIC_INIT_SCALE

# Ridge of the refits, as in the subset search: α·n on a column of fixed scale,
# α·Σ(column²) on a learned product column.
_RIDGE = 1e-3


@dataclass(frozen=True)
class PeriodicVerdict:
    """Whether the periodic term joins the formula, and the evidence.

    Parameters
    ----------
    keep : bool
        Whether it lowers the cross-validated error by more than its price.
    probability : float
        ``σ((MSE₋ − MSE₊ − 1.1·τ) / T)``: above 0.5 exactly when kept.
    mse_without, mse_with : ndarray of shape (n_outputs,)
        Cross-validated mean squared error of the chosen subset's refits
        without and with the periodic columns, per output.
    """

    keep: bool
    probability: float
    mse_without: np.ndarray
    mse_with: np.ndarray


@dataclass(frozen=True)
class RandomWaves:
    """``sin(2π f x + φ)`` with ``J`` random ``(f, φ)`` per input column.

    Frequency ``j`` of every input is drawn from ``N(0, s²)`` with ``s`` the
    ``j``-th of ``scales`` (cycled), ``φ ~ U(−π, π)``; :meth:`columns`
    clamps ``x`` to ``±CLIP`` as the network's non-linear terms see it.

    Examples
    --------
    >>> waves = RandomWaves.draw(2, 4, np.random.default_rng(0))
    >>> waves.columns(np.zeros((3, 2))).shape
    (3, 8)
    """

    frequencies: np.ndarray  # (n_features, J)
    phases: np.ndarray  # (n_features, J)

    @classmethod
    def draw(cls, n_features: int, n_frequencies: int, rng: np.random.Generator,
             scales=CANDIDATE_SCALES) -> RandomWaves:
        """``n_frequencies`` waves for each of ``n_features`` inputs, drawn from ``rng``."""
        scale = np.resize(np.asarray(scales, dtype=float), n_frequencies)
        frequencies = rng.standard_normal((n_features, n_frequencies)) * scale
        return cls(frequencies, rng.uniform(-math.pi, math.pi, (n_features, n_frequencies)))

    def columns(self, X: np.ndarray) -> np.ndarray:
        """The waves of the first ``n_features`` columns of ``X``, input-major: (n, D·J)."""
        clipped = np.clip(X[:, :len(self.frequencies)], -CLIP, CLIP)
        angles = clipped[:, :, None] * (2 * math.pi * self.frequencies) + self.phases
        return np.sin(angles).reshape(len(X), -1)


def judge_periodic(pure: np.ndarray, products: np.ndarray, Y: np.ndarray,
                   folds: np.ndarray, mask: np.ndarray, groups, max_order: int,
                   periodic: np.ndarray, price: float, temperature: float) -> PeriodicVerdict:
    """Cross-validated errors of subset ``mask`` without and with the ``periodic`` columns.

    ``pure`` and ``products`` are the subset search's design (the latter one
    block of learned products per fold model), ``folds`` its partitions (see
    :func:`~skneuron.discovery.td._folds.fold_splits`); each fold refits on
    the rows outside it with its own products and is scored on its rows, and
    the errors are averaged over the partitions.
    """
    errors = np.zeros((2, Y.shape[1]))
    pure_on, q = subset_columns(mask, max_order, groups, n_pure=pure.shape[1])
    for index, train, val in fold_splits(folds):
        base = np.concatenate([pure[:, pure_on], products[:, index][:, q]], axis=1)
        n_train = int(train.sum())
        ridge = np.concatenate([np.full(int(pure_on.sum()), _RIDGE * n_train),
                                _RIDGE * (products[train, index][:, q] ** 2).sum(axis=0)])
        ridge[0] = 1e-10 * n_train  # the intercept
        for with_periodic in (False, True):
            design = np.concatenate([base, periodic], axis=1) if with_periodic else base
            penalty = np.concatenate([ridge, np.full(periodic.shape[1], _RIDGE * n_train)]) \
                if with_periodic else ridge
            predicted = _ridge_predictions(design[train], design[val], Y[train], penalty)
            errors[int(with_periodic)] += ((Y[val] - predicted) ** 2).sum(axis=0)
    mse_without, mse_with = errors / np.size(folds)
    gain = mse_without.mean() - mse_with.mean() - PERIODIC_PREMIUM * price
    return PeriodicVerdict(keep=bool(gain > 0), probability=float(expit(gain / temperature)),
                           mse_without=mse_without, mse_with=mse_with)


def _ridge_predictions(A: np.ndarray, A_val: np.ndarray, Y: np.ndarray,
                       ridge: np.ndarray) -> np.ndarray:
    """Held-out predictions of the ridge fit ``min ‖Y − Aβ‖² + Σ ridge·β²``.

    Solved in the primal with fewer columns than rows, else in the dual
    (``β = Λ⁻¹Aᵀ(AΛ⁻¹Aᵀ + I)⁻¹Y``), so the cost stays below the design's size.
    """
    if A.shape[1] <= A.shape[0]:
        beta = solve_positive_definite(A.T @ A + np.diag(ridge), A.T @ Y)
        return A_val @ beta
    scaled = A / ridge  # A Λ⁻¹
    kernel = scaled @ A.T + np.eye(len(A))
    return (A_val / ridge) @ A.T @ solve_positive_definite(kernel, Y)
