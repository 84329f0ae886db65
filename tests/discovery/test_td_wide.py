"""NeuronSeek-TD on wide data: the dual (kernel) form of the subset refits."""

import numpy as np
import pytest
import torch

from skneuron.discovery import discover_td
from skneuron.discovery.td import _refits
from skneuron.discovery.td._polynomial import DualStreamPolynomial, design


@pytest.mark.parametrize(
    ("max_order", "n_features", "n_rows", "n_outputs"),
    [(3, 4, 120, 1), (2, 30, 50, 2), (1, 5, 80, 1), (3, 40, 60, 3)],
)
def test_kernel_form_scores_every_subset_like_the_primal_form(max_order, n_features, n_rows,
                                                              n_outputs):
    rng = np.random.default_rng(max_order + n_features)
    X = rng.standard_normal((n_rows, n_features))
    Y = X[:, :1] * X[:, 1:2] + X[:, :1] ** 2 + 0.1 * rng.standard_normal((n_rows, n_outputs))
    model = DualStreamPolynomial(n_features, n_outputs, max_order, 3, 2,
                                 torch.Generator().manual_seed(0))
    with torch.no_grad():  # products with some spread, as after training
        model.factors.normal_(generator=torch.Generator().manual_seed(1))
    pure, products = design(model, X)
    masks, groups = _refits.subset_masks(max_order), model.product_groups()
    train = np.arange(n_rows) % 4 != 0
    args = ((pure[train], products[train, 0]), (pure[~train], products[~train, 0]),
            Y[train], Y[~train], masks, groups)
    primal, dual = _refits.SubsetScores(*args), _refits.KernelSubsetScores(*args)
    np.testing.assert_allclose(dual.mse, primal.mse, rtol=1e-6, atol=1e-9)
    for subset in (0, len(masks) // 2, len(masks) - 1):
        np.testing.assert_allclose(dual.squared_errors(subset), primal.squared_errors(subset),
                                   rtol=1e-5, atol=1e-8)


def test_wide_data_uses_the_kernel_form_and_still_finds_the_terms(monkeypatch):
    used = []
    for name in ("SubsetScores", "KernelSubsetScores"):
        original = getattr(_refits, name)

        def spy(*args, _original=original, _name=name):
            used.append(_name)
            return _original(*args)

        monkeypatch.setattr(_refits, name, spy)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 150))  # 1 + 2·150 pure columns > 240 training rows
    y = X[:, 0] + X[:, 1] ** 2
    result = discover_td(X, y, max_order=2, random_state=0)
    assert set(used) == {"KernelSubsetScores"}
    assert result.formula.pure_orders == (1, 2)
