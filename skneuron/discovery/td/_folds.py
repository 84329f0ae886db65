"""TD discovery's cross-validation folds, repeated over random partitions of the rows.

Every (partition, fold) pair has its own pair of dual-stream models (a *fold
model*), numbered partition by partition: :func:`fold_splits` gives each its
training and held-out rows, for the training loop and the refits alike.
"""

from __future__ import annotations

import numpy as np

__all__ = ["fold_splits", "repeated_folds"]


def repeated_folds(n_rows: int, cv: int, n_repeats: int, rng: np.random.Generator) -> np.ndarray:
    """The fold of every row in each of ``n_repeats`` partitions, shape (n_repeats, n_rows).

    The rows are expected in random order already: the first partition deals
    them into the ``cv`` folds in turn, each further one deals a new random
    permutation of them (no draw from ``rng`` with one repeat).

    Examples
    --------
    >>> repeated_folds(5, 2, 2, np.random.default_rng(0)).shape
    (2, 5)
    >>> repeated_folds(5, 2, 1, np.random.default_rng(0))
    array([[0, 1, 0, 1, 0]])
    """
    folds = np.empty((n_repeats, n_rows), dtype=np.int64)
    folds[0] = np.arange(n_rows) % cv
    for repeat in range(1, n_repeats):
        folds[repeat, rng.permutation(n_rows)] = folds[0]
    return folds


def fold_splits(folds: np.ndarray):
    """``(model, train, val)`` for every fold of every partition in ``folds``.

    ``folds`` is the fold of every row, one row per partition (a 1-D array
    is one partition); ``model`` numbers the (partition, fold) pairs in
    order — the :class:`~skneuron.discovery.td._polynomial.DualStreamPolynomial`
    fold models — and ``train``/``val`` are boolean row masks.
    """
    folds = np.atleast_2d(folds)
    cv = int(folds.max()) + 1
    for repeat, partition in enumerate(folds):
        for fold in range(cv):
            val = partition == fold
            yield repeat * cv + fold, ~val, val
