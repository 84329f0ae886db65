"""Fit-time comparison with sklearn's MLP (issue 2's speed measurement).

friedman1, 20 000 × 20, hidden (64, 64), batch 200, 30 epochs for both
(``tol=0`` and a patience longer than the run, so neither stops early), on
whatever cores the machine has. Ours is timed three ways: the whole default
fit (discovery included), training alone with the discovered formula given
by hand, and training the plain linear neuron ``x``. Discovery alone is also
timed on 10 000 × 50. Run ``python -m benchmarks.speed``.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.datasets import make_friedman1
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor

from skneuron import TaskNeuronRegressor, discover_formula

RESULTS = Path(__file__).parent / "results"
SAME_RUN = {"hidden_layer_sizes": (64, 64), "batch_size": 200, "max_iter": 30, "tol": 0.0,
            "n_iter_no_change": 1000, "random_state": 0}


def best_of(repeats, fit):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model = fit()
        times.append(time.perf_counter() - start)
    return min(times), model


def main(repeats: int = 3) -> str:
    warnings.simplefilter("ignore", ConvergenceWarning)
    X, y = make_friedman1(n_samples=20_000, n_features=20, random_state=0)
    mlp_s, _ = best_of(repeats, lambda: MLPRegressor(**SAME_RUN).fit(X, y))
    full_s, ours = best_of(repeats, lambda: TaskNeuronRegressor(**SAME_RUN).fit(X, y))
    formula = ours.formula_
    train_s, _ = best_of(repeats, lambda: TaskNeuronRegressor(formula=formula, **SAME_RUN).fit(X, y))
    linear_s, _ = best_of(repeats, lambda: TaskNeuronRegressor(formula="x", **SAME_RUN).fit(X, y))

    rng = np.random.default_rng(0)
    X50 = rng.standard_normal((10_000, 50))
    y50 = X50[:, 0] + X50[:, 1] * X50[:, 2] + 0.1 * rng.standard_normal(10_000)
    discovery_s, result = best_of(repeats, lambda: discover_formula(X50, y50, random_state=0))

    lines = [
        f"friedman1 20 000 × 20, hidden (64, 64), batch 200, 30 epochs; best of {repeats}",
        "",
        "| what | seconds | × sklearn MLP |",
        "|---|---|---|",
        f"| sklearn MLPRegressor | {mlp_s:.2f} | 1.00 |",
        f"| TaskNeuronRegressor, default fit (discovery + training), formula `{' + '.join(formula.terms)}` "
        f"| {full_s:.2f} | {full_s / mlp_s:.2f} |",
        f"| TaskNeuronRegressor, same formula given (training only) | {train_s:.2f} | {train_s / mlp_s:.2f} |",
        f"| TaskNeuronRegressor, linear neuron `x` | {linear_s:.2f} | {linear_s / mlp_s:.2f} |",
        "",
        f"TD discovery on 10 000 × 50: {discovery_s:.2f} s (formula `{' + '.join(result.formula.terms)}`)",
    ]
    table = "\n".join(lines)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "speed.md").write_text(table + "\n")
    return table


if __name__ == "__main__":
    print(main())
