"""Planted data generators (skneuron.datasets)."""

import numpy as np
import pytest

from skneuron.datasets import (
    PLANTED_POLYNOMIAL_TERMS,
    make_planted_polynomial,
    make_planted_vectorized,
)


def _reference_polynomial(kind, seed, n=2500, d=10, noise=0.01):
    """The generator the recovery numbers were measured with, written out."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    if kind == "pure":
        w1, w3 = rng.standard_normal((2, d))
        f = X @ w1 + X**3 @ w3
    elif kind == "interaction":
        a, b, c = rng.standard_normal((3, d))
        f = (X @ a) * (X @ b) * (X @ c)
    else:
        w2, a, b = rng.standard_normal((3, d))
        f = X**2 @ w2 + (X @ a) * (X @ b)
    f = (f - f.mean()) / f.std()
    return X, f + noise * rng.standard_normal(n)


@pytest.mark.parametrize("kind", sorted(PLANTED_POLYNOMIAL_TERMS))
def test_planted_polynomial_is_the_measured_data_bit_for_bit(kind):
    for seed in (0, 3):
        X, y = make_planted_polynomial(kind, random_state=seed)
        X_ref, y_ref = _reference_polynomial(kind, seed)
        np.testing.assert_array_equal(X, X_ref)
        np.testing.assert_array_equal(y, y_ref)


def test_planted_polynomial_shapes_noise_and_seeding():
    X, y = make_planted_polynomial("pure", n_samples=300, n_features=4, noise=0.0, random_state=1)
    assert X.shape == (300, 4) and y.shape == (300,)
    assert abs(y.mean()) < 1e-12 and abs(y.std() - 1) < 1e-12
    _, y2 = make_planted_polynomial("pure", n_samples=300, n_features=4, noise=0.0,
                                    random_state=1)
    np.testing.assert_array_equal(y, y2)
    X3, _ = make_planted_polynomial("pure", n_samples=300, n_features=4,
                                    random_state=np.random.RandomState(1))
    assert X3.shape == (300, 4)


def test_planted_polynomial_rejects_unknown_kind():
    with pytest.raises(ValueError, match="kind"):
        make_planted_polynomial("cubic")


def test_planted_vectorized_matches_the_sr_protocol():
    X, y = make_planted_vectorized(lambda x: np.sin(x) + 0.5 * x**2, random_state=2)
    rng = np.random.default_rng(2)
    X_ref = rng.uniform(-2.0, 2.0, size=(2000, 8))
    y_ref = np.sin(X_ref).sum(1) + 0.5 * (X_ref**2).sum(1) + 0.01 * rng.standard_normal(2000)
    np.testing.assert_array_equal(X, X_ref)
    np.testing.assert_allclose(y, y_ref, rtol=0, atol=1e-12)  # summation order only


def test_planted_vectorized_string_and_callable_agree():
    from_string = make_planted_vectorized("tanh(x) + 0.3*x**2", 200, 3, random_state=0)
    from_callable = make_planted_vectorized(lambda x: np.tanh(x) + 0.3 * x**2, 200, 3,
                                            random_state=0)
    np.testing.assert_allclose(from_string[1], from_callable[1], rtol=1e-12)
    X, _ = make_planted_vectorized("1", 50, 2, low=0.0, high=1.0, random_state=0)
    assert X.min() >= 0.0 and X.max() < 1.0


@pytest.mark.parametrize("g", ["sin(x) + y", "x +* 2"])
def test_planted_vectorized_rejects_bad_expressions(g):
    with pytest.raises(ValueError, match="g="):
        make_planted_vectorized(g, 10, 2)
