"""
Comparing TD and SR discovery
=============================

The two discovery methods, NeuronSeek-TD (tensor decomposition) and
NeuronSeek-SR (vectorized symbolic regression), on one data set.

The data set is the SR paper's showcase: 2000 rows of 8 features
``x ~ U(−2, 2)`` and the target ``Σ_i sin(x_i) + 0.5 Σ_i x_i²`` plus noise
(standard deviation 0.1). For ``discovery="td"`` and ``discovery="sr"`` this
prints the formula each method discovers, how long the discovery took, and
the test R² of a ``TaskNeuronRegressor`` built on it::

    python examples/compare_discovery.py

What to expect: on the raw inputs SR finds the planted terms ``sin(x)`` and
``x**2`` with their coefficients, where TD — whose candidates are powers and
interactions — describes ``sin`` by a polynomial. Inside the estimator the
inputs are standardised first; in those units the planted term is
``sin(1.15·x)``, which SR approximates with its own terms (element-wise terms,
unlike powers, are not scale-invariant).
"""

import time
import warnings

import numpy as np
from sklearn.model_selection import train_test_split

from skneuron import TaskNeuronRegressor
from skneuron.discovery import discover_formula

rng = np.random.default_rng(0)
X = rng.uniform(-2.0, 2.0, size=(2000, 8))
y = np.sin(X).sum(axis=1) + 0.5 * (X**2).sum(axis=1) + 0.1 * rng.standard_normal(2000)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)

print("Discovery alone, on the raw inputs:")
for method in ("td", "sr"):
    start = time.perf_counter()
    result = discover_formula(X_train, y_train, method=method, random_state=0)
    print(f"  {method.upper()}: {result.formula}   {time.perf_counter() - start:.2f} s, "
          f"cross-validated R² {result.validation_score:.4f}")
    if method == "sr":
        print(f"      fitted g: y ≈ {result.details['expression']}")

print("\nThe estimator (discovery on standardised inputs, then a (100,) network):")
for method in ("td", "sr"):
    model = TaskNeuronRegressor(discovery=method, random_state=0)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. convergence warnings of the short training
        model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    print(f"  discovery={method!r}: {model.formula_}\n"
          f"      test R² {model.score(X_test, y_test):.4f}, fit {seconds:.1f} s")
