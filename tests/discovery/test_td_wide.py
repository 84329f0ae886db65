"""NeuronSeek-TD on wide data: the dual (kernel) form of the subset refits."""

import numpy as np
import pytest
import torch

from skneuron.discovery import discover_td
from skneuron.discovery.td import _refits
from skneuron.discovery.td._polynomial import DualStreamPolynomial, design


def _one_fold(max_order, n_features, n_rows, n_outputs, n_fixed=0):
    """A design and targets split into a fold's training and held-out rows, with
    ``n_fixed`` columns (random waves) after the pure ones."""
    rng = np.random.default_rng(max_order + n_features)
    X = rng.standard_normal((n_rows, n_features))
    Y = X[:, :1] * X[:, 1:2] + X[:, :1] ** 2 + 0.1 * rng.standard_normal((n_rows, n_outputs))
    model = DualStreamPolynomial(n_features, n_outputs, max_order, 3, 2,
                                 torch.Generator().manual_seed(0))
    with torch.no_grad():  # products with some spread, as after training
        model.factors.normal_(generator=torch.Generator().manual_seed(1))
    pure, products = design(model, X)
    pure = np.concatenate([pure, np.sin(X @ rng.standard_normal((n_features, n_fixed)))], axis=1)
    masks, groups = _refits.subset_masks(max_order), model.product_groups()
    train = np.arange(n_rows) % 4 != 0
    return ((pure[train], products[train, 0]), (pure[~train], products[~train, 0]),
            Y[train], Y[~train], masks, groups)


@pytest.mark.parametrize(
    ("max_order", "n_features", "n_rows", "n_outputs", "n_fixed"),
    [(3, 4, 120, 1, 0), (2, 30, 50, 2, 0), (1, 5, 80, 1, 0), (3, 40, 60, 3, 0),
     (3, 4, 120, 1, 8), (2, 30, 50, 2, 24)],
)
def test_kernel_form_scores_every_subset_like_the_primal_form(max_order, n_features, n_rows,
                                                              n_outputs, n_fixed):
    *args, masks, groups = _one_fold(max_order, n_features, n_rows, n_outputs, n_fixed)
    primal = _refits.SubsetScores(*args, masks, groups, n_fixed=n_fixed)
    dual = _refits.KernelSubsetScores(*args, masks, groups, n_fixed=n_fixed)
    np.testing.assert_allclose(dual.mse, primal.mse, rtol=1e-6, atol=1e-9)
    for subset in (0, len(masks) // 2, len(masks) - 1):
        np.testing.assert_allclose(dual.squared_errors(subset), primal.squared_errors(subset),
                                   rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("n_fixed", [0, 6])
def test_a_subsets_score_is_its_ridge_refit_with_the_fixed_columns(n_fixed):
    (train, val, Y_train, Y_val, masks, groups) = _one_fold(2, 3, 90, 1, n_fixed)
    scores = _refits.SubsetScores(train, val, Y_train, Y_val, masks, groups, n_fixed=n_fixed)
    n_pure = train[0].shape[1]
    for subset in range(len(masks)):
        pure_on, q = _refits.subset_columns(masks[subset], 2, groups, n_pure=n_pure,
                                            n_fixed=n_fixed)
        # The intercept and the fixed columns are in every subset's refit.
        assert pure_on[0] and pure_on[n_pure - n_fixed:].all()

        def columns(part):
            return np.concatenate([part[0][:, pure_on], part[1][:, q]], axis=1)

        A, n = columns(train), len(Y_train)
        ridge = np.concatenate([np.full(pure_on.sum(), 1e-3 * n),
                                1e-3 * (train[1][:, q] ** 2).sum(axis=0) + 1e-10 * n])
        ridge[0] = 1e-10 * n  # the intercept
        beta = np.linalg.solve(A.T @ A + np.diag(ridge), A.T @ Y_train)
        expected = ((Y_val - columns(val) @ beta) ** 2).mean(axis=0)
        np.testing.assert_allclose(scores.mse[subset], expected, rtol=1e-6)


def test_wide_data_uses_the_kernel_form_and_still_finds_the_terms(monkeypatch):
    used = []
    for name in ("SubsetScores", "KernelSubsetScores"):
        original = getattr(_refits, name)

        def spy(*args, _original=original, _name=name, **kwargs):
            used.append(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(_refits, name, spy)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 150))  # 1 + 2·150 pure columns > 240 training rows
    y = X[:, 0] + X[:, 1] ** 2
    result = discover_td(X, y, max_order=2, random_state=0)
    assert set(used) == {"KernelSubsetScores"}
    assert result.formula.pure_orders == (1, 2)
