"""TD's choice of a subset of terms: the penalised objective and each term's evidence."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import expit

__all__ = ["SubsetSelection", "select_subset", "term_probabilities"]

# An interaction term is priced this many times a pure term: it has k·R·D
# weights to a pure term's D, so at (nearly) equal fit the pure term wins.
_INTERACTION_PREMIUM = 1.1


@dataclass(frozen=True)
class SubsetSelection:
    """The selected subset of terms and the numbers it was chosen by.

    Parameters
    ----------
    best : int
        Index of the selected subset (a row of the masks): the simplest of
        those whose ``J`` is within ``standard_error / 4`` of the lowest.
    objective : ndarray of shape (n_subsets,)
        ``J(S) = MSE(S) + τ·(#pure terms + 1.1·#interaction terms)``.
    price : float
        ``τ = max(tolerance, standard_error)``.
    standard_error : float
        Standard error of the lowest cross-validated MSE.
    temperature : float
        ``T = max(τ, 10⁻⁴) / 4`` of the term probabilities.
    probabilities : ndarray of shape (n_terms,)
        Every candidate term's evidence (see :func:`term_probabilities`).
    competing : ndarray of shape (n_subsets,)
        Which subsets competed: all of them, or those with ``x`` only.
    """

    best: int
    objective: np.ndarray
    price: float
    standard_error: float
    temperature: float
    probabilities: np.ndarray
    competing: np.ndarray

    @property
    def competing_objective(self) -> np.ndarray:
        """``J`` of the competing subsets, ``inf`` for the others."""
        return np.where(self.competing, self.objective, np.inf)


def select_subset(mse: np.ndarray, lowest_errors: np.ndarray, masks: np.ndarray,
                  max_order: int, tolerance: float, *,
                  keep_linear: bool = False) -> SubsetSelection:
    """Minimise ``J`` over the subsets, a term priced at one standard error at least.

    A difference of ``J`` below a quarter of the standard error is no
    evidence: of the subsets within ``SE/4`` of the lowest ``J``, the simplest
    is selected — fewest terms, then fewest interactions, then lowest orders.
    As ``SE/4`` is at most the temperature ``T = τ/4`` of the term
    probabilities, a term above ``σ(1) ≈ 0.73`` is still always selected and
    one below ``σ(−1) ≈ 0.27`` never.

    With ``keep_linear`` the minimum and the term probabilities are taken over
    the subsets that contain ``x`` (the first column of ``masks``) only; ``x``'s
    probability is then 1. ``objective`` still covers every subset.

    ``mse`` is each subset's cross-validated error, ``lowest_errors`` the
    per-row squared errors of the subset with the lowest one, one row per
    partition of the data into folds (or 1-D for one partition). Their spread
    over the rows gives the standard error of one partition's estimate; with
    several partitions it is their mean — repeating the partition averages
    out which rows share a fold, not the finite sample, so the price of a
    term does not fall with the number of repeats.
    """
    errors = np.atleast_2d(lowest_errors)
    standard_error = float(np.mean(errors.std(axis=1, ddof=1)) / math.sqrt(errors.shape[1]))
    price = max(tolerance, standard_error)
    temperature = max(price, 1e-4) / 4.0
    objective = mse + price * (masks[:, :max_order].sum(axis=1)
                               + _INTERACTION_PREMIUM * masks[:, max_order:].sum(axis=1))
    competing = masks[:, 0] if keep_linear else np.ones(len(masks), dtype=bool)
    competing_objective = np.where(competing, objective, np.inf)
    return SubsetSelection(
        best=_minimiser(competing_objective, masks, max_order, standard_error / 4.0),
        objective=objective,
        price=price,
        standard_error=standard_error,
        temperature=temperature,
        probabilities=term_probabilities(competing_objective, masks, temperature),
        competing=competing,
    )


def _minimiser(objective, masks, max_order, tie: float) -> int:
    """Index of the simplest subset whose J is within ``tie`` of the minimum.

    Simplest means fewest terms, then fewest interactions, then lowest orders;
    what is still tied goes to the lower ``J``.
    """
    orders = np.concatenate([np.arange(1, max_order + 1), np.arange(2, max_order + 1)])
    keys = (
        objective,
        (masks * orders).sum(axis=1),
        masks[:, max_order:].sum(axis=1),
        masks.sum(axis=1),
        objective > objective.min() + tie,
    )
    return int(np.lexsort(keys)[0])


def term_probabilities(objective, masks, temperature) -> np.ndarray:
    """``σ((min J over S∌t − min J over S∋t) / T)`` for every term t."""
    with_term = np.where(masks, objective[:, None], np.inf).min(axis=0)
    without_term = np.where(~masks, objective[:, None], np.inf).min(axis=0)
    return expit((without_term - with_term) / temperature)
