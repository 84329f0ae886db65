"""Planted data sets: targets whose true neuron formula is known.

Two generators, one per discovery method's protocol:

- :func:`make_planted_polynomial` — NeuronSeek-TD's planted check: a
  polynomial target built from power and interaction terms of known orders.
- :func:`make_planted_vectorized` — NeuronSeek-SR's planted check: a target
  ``Σ_i g(x_i)`` where one scalar function ``g`` is shared by every feature.

The tests, the recovery benchmarks and the benchmark suite all draw their
planted data from here, so a recovery number always refers to the same data.
"""

from __future__ import annotations

from collections.abc import Callable
from numbers import Integral, Real

import numpy as np
import sympy
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from skneuron.formula import VARIABLE, parse_expression

__all__ = ["PLANTED_POLYNOMIAL_TERMS", "make_planted_polynomial", "make_planted_vectorized"]

#: The formula terms each kind of :func:`make_planted_polynomial` is built from.
PLANTED_POLYNOMIAL_TERMS = {
    "pure": ("x", "x**3"),
    "interaction": ("inter(3)",),
    "hybrid": ("x**2", "inter(2)"),
}


@validate_params(
    {
        "kind": [StrOptions(set(PLANTED_POLYNOMIAL_TERMS))],
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "n_features": [Interval(Integral, 1, None, closed="left")],
        "noise": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_planted_polynomial(kind="hybrid", n_samples=2500, n_features=10, noise=0.01,
                            random_state=None):
    """Generate a regression problem with a planted polynomial structure.

    Rows are ``x ~ N(0, I)``. The clean target is one of

    - ``"pure"``: ``w₁ᵀx + w₃ᵀx^{∘3}`` (formula ``x + x**3``);
    - ``"interaction"``: ``(aᵀx)(bᵀx)(cᵀx)`` (formula ``inter(3)``);
    - ``"hybrid"``: ``w₂ᵀx^{∘2} + (aᵀx)(bᵀx)`` (formula ``x**2 + inter(2)``),

    with standard-normal weight vectors. It is standardised (mean 0, standard
    deviation 1) before ``noise · N(0, 1)`` is added. This is the protocol of
    the NeuronSeek authors' structure-recovery check (n = 2500, D = 10,
    noise 0.01).

    Parameters
    ----------
    kind : {"pure", "interaction", "hybrid"}, default="hybrid"
        Which family of polynomial to plant.
    n_samples : int, default=2500
        Number of rows.
    n_features : int, default=10
        Number of features; every feature enters the target.
    noise : float, default=0.01
        Standard deviation of the Gaussian noise added to the standardised target.
    random_state : int, RandomState instance or None, default=None
        Seeds a :func:`numpy.random.default_rng` drawing rows, weights and noise
        (in that order), so an integer gives the same data on every machine.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        The rows.
    y : ndarray of shape (n_samples,)
        The target.

    See Also
    --------
    make_planted_vectorized : Targets ``Σ_i g(x_i)`` for symbolic-regression discovery.
    PLANTED_POLYNOMIAL_TERMS : The true formula terms of each kind.

    Examples
    --------
    >>> from skneuron.datasets import make_planted_polynomial
    >>> X, y = make_planted_polynomial("interaction", n_samples=500, random_state=0)
    >>> X.shape, y.shape
    ((500, 10), (500,))
    >>> round(float(y.std()), 2)
    1.0
    """
    rng = _generator(random_state)
    X = rng.standard_normal((n_samples, n_features))
    if kind == "pure":
        w1, w3 = rng.standard_normal((2, n_features))
        clean = X @ w1 + X**3 @ w3
    elif kind == "interaction":
        a, b, c = rng.standard_normal((3, n_features))
        clean = (X @ a) * (X @ b) * (X @ c)
    else:
        w2, a, b = rng.standard_normal((3, n_features))
        clean = X**2 @ w2 + (X @ a) * (X @ b)
    clean = (clean - clean.mean()) / clean.std()
    return X, clean + noise * rng.standard_normal(n_samples)


@validate_params(
    {
        "g": [str, callable],
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "n_features": [Interval(Integral, 1, None, closed="left")],
        "noise": [Interval(Real, 0, None, closed="left")],
        "low": [Real],
        "high": [Real],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_planted_vectorized(g, n_samples=2000, n_features=8, noise=0.01, *, low=-2.0, high=2.0,
                            random_state=None):
    """Generate a regression problem ``y = Σ_i g(x_i) + noise`` with one shared ``g``.

    This is the protocol of NeuronSeek-SR's planted check (n = 2000, D = 8,
    ``x ~ U(−2, 2)``, noise 0.01): every feature passes through the same scalar
    function, so the true neuron is ``g`` applied element-wise.

    Parameters
    ----------
    g : str or callable
        The shared function: an expression in ``x`` that sympy parses (such as
        ``"sin(x) + 0.5*x**2"``), or a vectorised callable mapping an array to
        an array of the same shape (such as ``lambda x: np.sin(x) + 0.5 * x**2``).
    n_samples : int, default=2000
        Number of rows.
    n_features : int, default=8
        Number of features.
    noise : float, default=0.01
        Standard deviation of the Gaussian noise added to the target (which is
        not standardised).
    low, high : float, default=-2.0, 2.0
        Rows are drawn uniformly from ``[low, high)^n_features``.
    random_state : int, RandomState instance or None, default=None
        Seeds a :func:`numpy.random.default_rng` drawing rows, then noise.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        The rows.
    y : ndarray of shape (n_samples,)
        The target.

    See Also
    --------
    make_planted_polynomial : Planted power and interaction terms for TD discovery.

    Examples
    --------
    >>> import numpy as np
    >>> from skneuron.datasets import make_planted_vectorized
    >>> X, y = make_planted_vectorized("x*cos(x)", n_samples=300, noise=0.0, random_state=0)
    >>> bool(np.allclose(y, (X * np.cos(X)).sum(axis=1)))
    True
    """
    function = _elementwise(g)
    rng = _generator(random_state)
    X = rng.uniform(low, high, size=(n_samples, n_features))
    values = np.broadcast_to(np.asarray(function(X), dtype=float), X.shape)
    return X, values.sum(axis=1) + noise * rng.standard_normal(n_samples)


def _generator(random_state) -> np.random.Generator:
    """A numpy Generator from an int, None, a RandomState or a Generator."""
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
    return np.random.default_rng(random_state)


def _elementwise(g) -> Callable[[np.ndarray], np.ndarray]:
    """``g`` as a numpy function of one array argument."""
    if callable(g):
        return g
    try:  # the formula language's parser: the text is read, never evaluated
        expression = parse_expression(g)
    except ValueError as error:
        raise ValueError(f"g={g!r} is not an expression in x: {error}") from None
    return sympy.lambdify(VARIABLE, expression, modules="numpy")
