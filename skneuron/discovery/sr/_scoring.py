"""Cross-validated scoring of SR candidates.

A candidate is a sorted tuple of term-class ids of a
:class:`~skneuron.discovery.sr._library.TermLibrary`. Its coefficients are
fitted by least squares with an intercept, on each fold's complement, from
per-fold Gram matrices — all candidates of a batch at once, in batched
normal equations — and its score is the 10-fold cross-validated mean
squared error and the fitness ``J = log(mse) + parsimony · complexity``.
"""

from __future__ import annotations

import math

import numpy as np

from skneuron.discovery.sr._library import TermLibrary

__all__ = ["N_FOLDS", "CandidateScores", "fold_rows"]

#: Cross-validation folds used to score every candidate.
N_FOLDS = 10
# Cross-validated MSEs (of the standardised target) below this count as equal.
_MSE_FLOOR = 1e-12
# Candidates fitted in one batch of normal equations.
_BATCH = 512


def fold_rows(n_samples: int, rng: np.random.Generator) -> tuple[np.ndarray, list[slice]]:
    """Rows dealt at random into :data:`N_FOLDS` folds.

    Returns the rows reordered fold after fold, and each fold's slice of
    that order (so that every fold is one contiguous slice).
    """
    folds = np.array_split(rng.permutation(n_samples), N_FOLDS)
    bounds = np.cumsum([0] + [len(f) for f in folds])
    return np.concatenate(folds), [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]


class CandidateScores:
    """Scores of every candidate a search has met, computed once each.

    Parameters
    ----------
    library : TermLibrary
        The term classes; its features are stored in fold order.
    Y : ndarray of shape (n_samples, n_outputs)
        The standardised targets, rows in the same fold order.
    slices : list of slice
        Each fold's rows.
    parsimony : float
        Price of one complexity unit in ``J``.

    Attributes
    ----------
    scores : dict
        Candidate → ``(mse, complexity, J)``.
    fold_loss : dict
        Candidate → log of each fold's share of the squared error, shape (n_folds,).
    """

    def __init__(self, library: TermLibrary, Y: np.ndarray, slices: list[slice], parsimony: float):
        self.library, self.Y, self.slices, self.parsimony = library, Y, slices, parsimony
        self.scores: dict[tuple, tuple[float, int, float]] = {}
        self.fold_loss: dict[tuple, np.ndarray] = {}

    def score(self, candidates) -> None:
        """Cross-validated MSE and fitness of every candidate not yet scored."""
        todo = [c for c in dict.fromkeys(candidates) if c not in self.scores]
        by_size: dict[int, list] = {}
        for c in todo:
            by_size.setdefault(len(c), []).append(c)
        for m, group in by_size.items():
            for begin in range(0, len(group), _BATCH):
                part = group[begin:begin + _BATCH]
                fold_mse = self._cv_mse(np.array(part, dtype=np.intp).reshape(len(part), m))
                for c, e in zip(part, fold_mse):
                    self.scores[c] = self._fitness(c, float(e.mean()))
                    self.fold_loss[c] = np.log(np.maximum(e, _MSE_FLOOR))

    def refresh(self) -> None:
        """Recompute every complexity and ``J`` (a term class got a simpler name)."""
        self.scores = {c: self._fitness(c, score[0]) for c, score in self.scores.items()}

    def _fitness(self, candidate, mse: float) -> tuple[float, int, float]:
        complexity = sum(self.library.complexity[t] for t in candidate)
        return mse, complexity, math.log(max(mse, _MSE_FLOOR)) + self.parsimony * complexity

    def J(self, candidate) -> float:
        """The fitness ``J`` of a scored candidate (lower is better)."""
        return self.scores[candidate][2]

    def rank_key(self, candidate):
        """Sort key: lowest ``J`` first, then the simpler candidate."""
        mse, complexity, J = self.scores[candidate]
        return (J, complexity, len(candidate), candidate)

    def simplicity_key(self, candidate):
        """Sort key: lowest complexity first, then fewer terms, then lowest ``J``."""
        mse, complexity, J = self.scores[candidate]
        return complexity, len(candidate), J, candidate

    def ranked(self, size: int) -> list[tuple]:
        """The ``size`` best candidates scored so far."""
        return sorted(self.scores, key=self.rank_key)[:size]

    def hall_of_fame(self, size: int) -> list[dict]:
        """The ``size`` best candidates, each a dict of terms, mse, complexity and J."""
        return [{"terms": tuple(self.library.names[t] for t in c), "mse": self.scores[c][0],
                 "complexity": self.scores[c][1], "J": self.scores[c][2]}
                for c in self.ranked(size)]

    def coefficients(self, candidate):
        """Least-squares coefficients on all used rows (standardised units)."""
        index = np.array([candidate], dtype=np.intp)
        G_k, B_k = self._fold_statistics(self._design(index))
        beta = self._solve(G_k.sum(axis=0), B_k.sum(axis=0))[0]
        return beta[1:], beta[0]

    def _design(self, index):
        P, m = index.shape
        features = self.library.features
        A = np.empty((P, m + 1, features.shape[1]))
        A[:, 0] = 1.0
        A[:, 1:] = features[index]
        return A

    def _fold_statistics(self, A):
        G, B = [], []
        for s in self.slices:
            a = A[:, :, s]
            G.append(a @ a.transpose(0, 2, 1))
            B.append(a @ self.Y[s])
        return np.stack(G), np.stack(B)  # (K, P, m+1, m+1), (K, P, m+1, C)

    def _solve(self, G, B):
        m1 = G.shape[-1]
        ridge = np.full(m1, 1e-8 * len(self.Y))
        ridge[0] = 1e-12
        return np.linalg.solve(G + np.diag(ridge), B)

    def _cv_mse(self, index) -> np.ndarray:
        G_k, B_k = self._fold_statistics(self._design(index))
        G, B = G_k.sum(axis=0), B_k.sum(axis=0)
        beta = self._solve(G[None] - G_k, B[None] - B_k)  # (K, P, m+1, C)
        yy = np.stack([(self.Y[s] ** 2).sum(axis=0) for s in self.slices])  # (K, C)
        sse = (yy[:, None, :] - 2.0 * np.einsum("kpic,kpic->kpc", beta, B_k)
               + np.einsum("kpic,kpij,kpjc->kpc", beta, G_k, beta))
        # Per fold, as a share of all rows: the mean over folds is the CV MSE.
        return np.maximum(sse, 0.0).sum(axis=2).T * (N_FOLDS / self.Y.size)
