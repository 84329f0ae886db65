"""What every discovery method shares: input checks, standardisation, the linear fallback.

A discovery method is a plain function ``discover_<name>(X, Y, **options)``
returning a :class:`~skneuron.discovery.DiscoveryResult`. This module holds
the steps they all take, so that every method checks its inputs and options
the same way, with the same messages, and falls back to the linear neuron
for the same reasons.
"""

from __future__ import annotations

import functools
import inspect
import os
import sys
import time
import warnings

import numpy as np
from sklearn.utils import check_array, check_random_state
from sklearn.utils._param_validation import validate_parameter_constraints

from skneuron.discovery._result import DiscoveryResult
from skneuron.formula import INPUT_CLIP, NeuronFormula

__all__ = [
    "CLIP",
    "MIN_SAMPLES",
    "check_data",
    "column_moments",
    "linear_result",
    "seeded_generator",
    "too_few_samples",
    "standardise",
    "validate_options",
    "varying_columns",
    "warn_no_informative_term",
]

#: Below this many rows discovery does not search and returns the linear
#: formula: with 5 folds each model would learn from fewer than 48 rows, and
#: 10 folds would hold out fewer than 6 rows each.
MIN_SAMPLES = 60

#: Inputs of the non-linear terms are clamped to ±CLIP, as the network's layers clamp them.
CLIP = INPUT_CLIP

_PACKAGE_DIRECTORY = os.path.dirname(os.path.abspath(__file__)) + os.sep


def validate_options(constraints: dict):
    """Decorate a discovery function so that every call checks its options.

    The constraints are scikit-learn's (:mod:`sklearn.utils._param_validation`),
    so an invalid option raises the same
    :class:`~sklearn.utils._param_validation.InvalidParameterError` (a
    ``ValueError``) naming the parameter as an invalid estimator parameter
    does. Unlike :func:`sklearn.utils._param_validation.validate_params`, the
    check also runs inside an estimator's ``fit``, where scikit-learn skips
    nested validation: the estimators pass their ``discovery_params`` through
    unchecked, so this is the only check those values get.

    Parameters
    ----------
    constraints : dict
        Parameter name → list of constraints, as in ``_parameter_constraints``.

    Returns
    -------
    callable
        The decorator.
    """

    def decorate(function):
        signature = inspect.signature(function)

        @functools.wraps(function)
        def checked(*args, **kwargs):
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            options = {name: bound.arguments[name] for name in constraints}
            validate_parameter_constraints(constraints, options, caller_name=function.__name__)
            return function(*args, **kwargs)

        return checked

    return decorate


def check_data(X, Y, sample_weight=None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """``X`` as a finite float64 matrix, ``Y`` as one with a column per output, and the
    weights as :func:`check_weights` gives them; rows of weight zero are left out (a
    row of weight zero is no row).

    Raises ``ValueError`` for missing or infinite values, a ``Y`` of more than
    two dimensions, different numbers of rows, or invalid weights.
    """
    X = check_array(X, dtype=np.float64, input_name="X")
    Y = check_array(Y, dtype=np.float64, ensure_2d=False, input_name="Y")
    if Y.ndim not in (1, 2):
        raise ValueError(f"Y must be 1- or 2-dimensional; got shape {Y.shape}.")
    Y = Y.reshape(len(Y), -1)
    if len(Y) != len(X):
        raise ValueError(f"X and Y have different numbers of rows: {len(X)} and {len(Y)}.")
    weights = check_weights(sample_weight, len(X))
    if weights is not None:
        kept = weights > 0
        X, Y, weights = X[kept], Y[kept], weights[kept]
    return X, Y, weights


def too_few_samples(n_samples: int) -> str | None:
    """Why a search on ``n_samples`` rows is not meaningful, or None if it is."""
    if n_samples >= MIN_SAMPLES:
        return None
    return f"only {n_samples} samples; the cross-validated search needs at least {MIN_SAMPLES}"


def seeded_generator(random_state) -> np.random.Generator:
    """A local numpy Generator drawn from ``random_state`` (the global state is left alone)."""
    return np.random.default_rng(check_random_state(random_state).randint(2**31 - 1))


def varying_columns(A: np.ndarray, scale: np.ndarray | None = None) -> np.ndarray:
    """Mask of the columns whose standard deviation ``scale`` is not negligible.

    Negligible means at most ``1e-12`` of the column's largest magnitude (or
    of 1): such a column is constant up to rounding.
    """
    scale = A.std(axis=0) if scale is None else scale
    return scale > 1e-12 * np.maximum(np.abs(A).max(axis=0), 1.0)


def standardise(A: np.ndarray, sample_weight: np.ndarray | None = None) -> np.ndarray:
    """Each column centred and scaled to unit variance; a constant column only centred.

    With ``sample_weight`` the mean and variance are the rows' weighted ones.
    """
    mean, scale = column_moments(A, sample_weight)
    scale[~varying_columns(A, scale)] = 1.0
    return (A - mean) / scale


def column_moments(A: np.ndarray, sample_weight: np.ndarray | None = None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Each column's (weighted) mean and standard deviation, finite for any finite ``A``.

    A column whose squares or sum overflow float64 (values of 1e154 and more) is
    divided by its largest magnitude first, and its moments scaled back.
    """
    mean, scale = _moments(A, sample_weight)
    huge = ~(np.isfinite(mean) & np.isfinite(scale))
    if huge.any():
        peak = np.abs(A[:, huge]).max(axis=0)
        mean[huge], scale[huge] = (m * peak for m in _moments(A[:, huge] / peak, sample_weight))
    return mean, scale


def _moments(A, sample_weight):
    with np.errstate(over="ignore", invalid="ignore"):
        if sample_weight is None:
            return A.mean(axis=0), A.std(axis=0)
        mean = np.average(A, axis=0, weights=sample_weight)
        return mean, np.sqrt(np.average((A - mean) ** 2, axis=0, weights=sample_weight))


def check_weights(sample_weight, n_samples: int) -> np.ndarray | None:
    """Non-negative float64 weights of ``n_samples`` rows, or None when they are all equal.

    Equal weights weigh nothing: the unweighted computation runs, bit for bit.
    """
    if sample_weight is None:
        return None
    weights = check_array(sample_weight, dtype=np.float64, ensure_2d=False,
                          input_name="sample_weight")
    if weights.shape != (n_samples,) or (weights < 0).any() or not weights.any():
        raise ValueError(f"sample_weight must hold {n_samples} non-negative weights, not all "
                         "zero.")
    return None if np.all(weights == weights[0]) else weights


def warn_no_informative_term(method: str, reason: str) -> None:
    """Warn that ``method`` falls back to the linear neuron, at the caller's line.

    The warning points at the first frame outside :mod:`skneuron.discovery`
    (the user's call, or the estimator's ``fit``), however deep inside the
    package it is raised.
    """
    warnings.warn(
        f"{method.upper()} discovery found no informative term ({reason}); "
        "the linear neuron is used.",
        UserWarning,
        stacklevel=_stacklevel_outside_package(),
    )


def _stacklevel_outside_package() -> int:
    """``stacklevel`` for a ``warnings.warn`` in the caller reaching outside this package."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIRECTORY):
        frame, level = frame.f_back, level + 1
    return level


def linear_result(
    method: str,
    start: float,
    reason: str,
    *,
    warn: bool = False,
    term_probabilities: dict[str, float] | None = None,
    validation_score: float = float("nan"),
    details: dict | None = None,
) -> DiscoveryResult:
    """The linear formula ``NeuronFormula()`` as the result of ``method``.

    Parameters
    ----------
    method : str
        The discovery method's name (``DiscoveryResult.method``).
    start : float
        :func:`time.perf_counter` when the method was called.
    reason : str
        Why the linear formula is returned; stored as ``details["reason"]``.
    warn : bool, default=False
        Whether to warn that no informative term was found (a search ran, or
        the target is constant); a search skipped for lack of rows is silent.
    term_probabilities : dict, optional
        The search's evidence for each term, when a search ran.
    validation_score : float, default=nan
        The held-out score of the linear formula, when a search ran.
    details : dict, optional
        The method's diagnostics, to which ``"reason"`` is added.

    Returns
    -------
    DiscoveryResult
    """
    if warn:
        warn_no_informative_term(method, reason)
    return DiscoveryResult(
        formula=NeuronFormula(),
        method=method,
        term_probabilities=dict(term_probabilities or {}),
        validation_score=validation_score,
        fit_time=time.perf_counter() - start,
        details={**(details or {}), "reason": reason},
    )
