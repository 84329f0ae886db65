"""Discovery: from data to a :class:`~skneuron.NeuronFormula`.

Plain functions over arrays; no estimator machinery. :func:`discover_formula`
dispatches to a method by name. Each method is a subpackage whose entry
point takes ``(X, Y, **options)`` and returns a :class:`DiscoveryResult`:
:func:`discover_td` (``td/``) and :func:`discover_sr` (``sr/``). What they
share — input checks, standardisation, the linear fallback, option
validation — is in ``_common``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from skneuron.discovery._common import MIN_SAMPLES
from skneuron.discovery._result import DiscoveryResult
from skneuron.discovery.sr import discover_sr
from skneuron.discovery.td import MAX_ORDER, discover_td

__all__ = ["DiscoveryResult", "discover_formula", "discover_sr", "discover_td", "METHODS",
           "MIN_SAMPLES", "MAX_ORDER"]

#: Discovery methods by the name the estimators' ``discovery`` parameter takes.
METHODS = {"td": discover_td, "sr": discover_sr}


def discover_formula(X: ArrayLike, Y: ArrayLike, *, method: str = "td",
                     **options) -> DiscoveryResult:
    """Discover a neuron formula for predicting ``Y`` from ``X``.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Inputs; standardised internally.
    Y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Targets, standardised internally. For classification pass the class
        indicator (one-hot) matrix: each column gets its own weights while the
        term selection is shared.
    method : {"td", "sr"}, default="td"
        The discovery method: NeuronSeek-TD (:func:`discover_td`) or
        vectorized symbolic regression (:func:`discover_sr`).
    **options
        Passed to the method's function (e.g. ``max_order``, ``rank``,
        ``random_state`` for :func:`discover_td`).

    Returns
    -------
    DiscoveryResult

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((1000, 4))
    >>> y = X[:, 0] + X[:, 1] ** 2
    >>> discover_formula(X, y, random_state=0).formula.terms
    ('x', 'x**2')
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {sorted(METHODS)}; got {method!r}.")
    return METHODS[method](np.asarray(X), np.asarray(Y), **options)
