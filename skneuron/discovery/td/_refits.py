"""Least-squares refits of every subset of TD's candidate terms, cross-validated.

For every fold, the columns the trained models provide (powers and learned
rank-one products) are refitted by ridge least squares on the fold's
training rows for every subset of terms at once, and scored on its held-out
rows: :class:`SubsetScores` from Gram matrices, :class:`KernelSubsetScores`
in the dual form when there are more pure columns than training rows.
:func:`cross_validate_subsets` runs them over the folds.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from scipy.linalg import cho_factor, cho_solve

from skneuron.discovery.td._folds import fold_splits
from skneuron.discovery.td._polynomial import DualStreamPolynomial, design

__all__ = ["CrossValidatedRefits", "KernelSubsetScores", "SubsetScores", "cross_validate_subsets",
           "pure_design_columns", "subset_columns", "subset_masks"]

# Ridge of the least-squares refits: α·n_train on a pure column, α·Σ(column²) on a
# product column (see SubsetScores).
_RIDGE = 1e-3


def subset_masks(max_order: int):
    """Every subset of the 2K − 1 terms as a boolean mask (pure orders, then interactions)."""
    return np.array(list(itertools.product((0, 1), repeat=2 * max_order - 1)), dtype=bool)[:, ::-1]


class SubsetScores:
    """Least-squares refits of every subset of terms, scored on held-out rows.

    ``train`` and ``val`` are ``(F, Q)`` from
    :func:`~skneuron.discovery.td._polynomial.design` restricted to one
    fold's rows and products, the last ``n_fixed`` columns of ``F`` being
    columns every subset refits with (the periodic candidate's, once it is
    in the formula); ``pure_gram``, when given, is ``FᵀF`` over
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

    def __init__(self, train, val, Y_train, Y_val, masks, groups, pure_gram=None, n_fixed=0):
        (F, Q), (F_val, Q_val) = train, val
        K = len(groups) + 1
        self._train, self._val, self._Y_val = (F, Q, Y_train), (F_val, Q_val), Y_val
        self._masks, self._groups, self._n_fixed = masks, groups, n_fixed
        C, p = Y_train.shape[1], F.shape[1]
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
            on = np.flatnonzero(pure_design_columns(pure_set, p, n_fixed))
            Z = np.zeros((p, C + Q.shape[1]))
            system = G_FF[np.ix_(on, on)]
            system[np.diag_indices_from(system)] += self._ridge[on]
            Z[on] = solve_positive_definite(system, np.concatenate([g_F[on], G_FQ[on]], axis=1))
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
        return product_columns(self._groups, pure_set)

    def squared_errors(self, subset: int) -> np.ndarray:
        """Held-out squared residuals of one subset's refit, shape (n_val, C)."""
        F, Q, Y = self._train
        pure_columns, q = subset_columns(self._masks[subset], len(self._groups) + 1,
                                         self._groups, n_pure=F.shape[1], n_fixed=self._n_fixed)
        ridge = np.concatenate([self._ridge[pure_columns], self._ridge_Q[q]])

        def design(F_, Q_):
            return np.concatenate([F_[:, pure_columns], Q_[:, q]], axis=1)

        A = design(F, Q)
        coefficients = solve_positive_definite(A.T @ A + np.diag(ridge), A.T @ Y)
        return (self._Y_val - design(*self._val) @ coefficients) ** 2


def solve_positive_definite(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """``A⁻¹B`` for a symmetric positive definite ``A`` (a ridge system), by Cholesky."""
    return cho_solve(cho_factor(A, check_finite=False), B, check_finite=False)


def subset_columns(mask: np.ndarray, max_order: int, groups, *, n_pure: int, n_fixed: int = 0):
    """The columns a subset refits with: a mask of the pure design's columns (the
    intercept, the powers of the subset's pure orders and the last ``n_fixed``
    columns) and the indices of its product columns (see :class:`SubsetScores`)."""
    pure_columns = pure_design_columns(mask[:max_order], n_pure, n_fixed)
    q = np.zeros(0, dtype=int)
    if groups:
        q, order = product_columns(groups, mask[:max_order])
        q = q[mask[max_order:][order]]
    return pure_columns, q


def pure_design_columns(pure_set: np.ndarray, n_pure: int, n_fixed: int = 0) -> np.ndarray:
    """Mask of the pure design's columns ``[1, x, …, x^{∘K}, fixed]`` that the set of
    pure orders ``pure_set`` refits with: the intercept and the fixed columns always."""
    D = (n_pure - 1 - n_fixed) // len(pure_set)
    return np.concatenate([[True], np.repeat(pure_set, D), np.ones(n_fixed, dtype=bool)])


def product_columns(groups, pure_set):
    """Product columns usable with a set of pure orders, and the order index of each."""
    columns, orders = [], []
    for i, (head_a, head_b) in enumerate(groups):
        chosen = head_a if pure_set[i + 1] else head_b
        columns.append(chosen)
        orders.append(np.full(len(chosen), i))
    return np.concatenate(columns), np.concatenate(orders)


class KernelSubsetScores:
    """:class:`SubsetScores` in dual (kernel) form, for wide data.

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

    def __init__(self, train, val, Y_train, Y_val, masks, groups, n_fixed=0):
        (F, Q), (F_val, Q_val) = train, val
        K = len(groups) + 1
        n = len(F)
        D = (F.shape[1] - 1 - n_fixed) // K
        self._masks, self._groups, self._K = masks, groups, K
        self._Y_val = Y_val
        # Centre on the training rows: the intercept is then free (column 0 drops out).
        F_mean, Q_mean = F[:, 1:].mean(axis=0), Q.mean(axis=0)
        self._y_mean = Y_train.mean(axis=0)
        self._y = Y_train - self._y_mean
        self._Q, self._Q_val = Q - Q_mean, Q_val - Q_mean
        ridge = _RIDGE * n
        self._kernels, self._val_kernels = [], []
        # One kernel per pure order, then the fixed columns' (in every subset's refit), if any.
        blocks = [(k * D, (k + 1) * D) for k in range(K)]
        for start, stop in blocks + ([(K * D, K * D + n_fixed)] if n_fixed else []):
            block = F[:, 1 + start:1 + stop] - F_mean[start:stop]
            self._kernels.append(block @ block.T / ridge)
            self._val_kernels.append((F_val[:, 1 + start:1 + stop] - F_mean[start:stop]) @ block.T
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
        system, val_kernel = np.eye(n), np.zeros((len(self._Y_val), n))
        # The fixed columns' kernel (the last, if any) first, then the set's pure orders.
        for k in [*range(K, len(self._kernels)), *np.flatnonzero(pure_set)]:
            system += self._kernels[k]
            val_kernel += self._val_kernels[k]
        q = np.zeros(0, dtype=int)
        if self._groups:
            q, order = product_columns(self._groups, pure_set)
        Q, Q_val = self._Q[:, q], self._Q_val[:, q]
        # (K_P + I)⁻¹ [y, Q]: the ridge residuals of y and of every product on the pure block.
        resolved = solve_positive_definite(system, np.concatenate([self._y, Q], axis=1))
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



@dataclass(frozen=True)
class CrossValidatedRefits:
    """Cross-validated errors of the refits of every subset of terms.

    Parameters
    ----------
    errors : ndarray of shape (n_partitions, n_subsets, n_outputs)
        Each partition's mean squared error of each subset's refits, every row
        scored once by the refit of the fold that did not train on it.
    lowest_errors : ndarray of shape (n_partitions, n_samples)
        Each row's squared error (averaged over outputs) in each partition,
        under the refits of the subset with the lowest mean squared error.
    """

    errors: np.ndarray
    lowest_errors: np.ndarray

    @property
    def mse_per_output(self) -> np.ndarray:
        """Cross-validated error of each subset and output, averaged over the partitions."""
        return self.errors.mean(axis=0)

    @property
    def partition_mse(self) -> np.ndarray:
        """Each partition's error of each subset, averaged over outputs: its spread between
        partitions is the noise of a comparison."""
        return self.errors.mean(axis=2)

    @property
    def mse(self) -> np.ndarray:
        """Cross-validated mean squared error of each subset, averaged over outputs."""
        return self.mse_per_output.mean(axis=1)

    @classmethod
    def pooled(cls, refits: list[CrossValidatedRefits]) -> CrossValidatedRefits:
        """The refits of several rounds (with as many rows each) as one.

        The partitions of all rounds are stacked; ``lowest_errors`` holds each
        round's rows under that round's own lowest subset (they serve the
        standard error of one partition's estimate).
        """
        if len(refits) == 1:
            return refits[0]
        return cls(np.concatenate([r.errors for r in refits]),
                   np.concatenate([r.lowest_errors for r in refits]))


def cross_validate_subsets(model: DualStreamPolynomial, X: np.ndarray, Y: np.ndarray,
                           folds: np.ndarray, masks: np.ndarray,
                           sample_weight: np.ndarray | None = None,
                           fixed: np.ndarray | None = None) -> CrossValidatedRefits:
    """Refit every subset on each fold's training rows and score it on the fold's rows.

    ``folds`` gives the fold of every row, one row per partition (see
    :func:`~skneuron.discovery.td._folds.repeated_folds`; a 1-D array is one partition). The refits of a
    fold use the products of that fold's trained models (model
    ``partition·cv + fold``); each row is scored once per partition, and the
    errors are averaged over the partitions. With ``sample_weight`` (of mean
    1) the refits are weighted least squares and the errors weighted means:
    each row of the design (intercept column included) and of ``Y`` is scaled
    by the square root of its weight. ``fixed`` columns (n, P), when given,
    join every subset's refit with the ridge of a pure column: the search then
    asks what each term adds to them.
    """
    folds = np.atleast_2d(folds)
    pure, products = design(model, X)
    n_fixed = 0 if fixed is None else fixed.shape[1]
    if n_fixed:
        pure = np.concatenate([pure, fixed], axis=1)
    groups = model.product_groups()
    if sample_weight is not None:
        root = np.sqrt(sample_weight)[:, None]
        pure, products, Y = pure * root, products * root[..., None], Y * root
    # Wide data (more pure columns than training rows): the dual form keeps
    # memory at O(n²) instead of O((K·D)²) — see KernelSubsetScores. It centres
    # on the training rows' plain means, which weighted rows have not, so
    # weighted refits are primal.
    wide = pure.shape[1] > np.sum(folds[0] != 0) and sample_weight is None
    # Otherwise each fold's training Gram matrix of the pure columns is the
    # whole one less its held-out rows' — one product over all rows, not cv.
    pure_gram = None if wide else pure.T @ pure
    scored = []
    for index, train, val in fold_splits(folds):
        train_data = (pure[train], products[train, index])
        val_data = (pure[val], products[val, index])
        scores = (KernelSubsetScores(train_data, val_data, Y[train], Y[val], masks, groups,
                                     n_fixed=n_fixed)
                  if wide else
                  SubsetScores(train_data, val_data, Y[train], Y[val], masks, groups,
                               pure_gram=pure_gram, n_fixed=n_fixed))
        scored.append((val, scores))
    # A partition scores each row once: its error is its folds' mean weighted by their rows.
    summed = np.stack([val.sum() * scores.mse for val, scores in scored])  # (fold models, S, C)
    per_partition = summed.reshape(len(folds), -1, *summed.shape[1:]).sum(axis=1) / len(X)
    lowest = int(np.argmin(per_partition.mean(axis=(0, 2))))
    errors = np.zeros((len(scored), len(X)))  # each fold model's held-out rows
    for index, (val, scores) in enumerate(scored):
        errors[index, val] = scores.squared_errors(lowest).mean(axis=1)
    # The folds of a partition cover its rows once: one row of errors per partition.
    return CrossValidatedRefits(per_partition, errors.reshape(len(folds), -1, len(X)).sum(axis=1))
