"""Default quality: the default estimators against sklearn's MLP (issue 2's table).

Each data set is split 75/25 with ``random_state=0``; the competitor is
``make_pipeline(StandardScaler(), MLPRegressor/MLPClassifier(random_state=0))``
and ours is ``TaskNeuronRegressor/TaskNeuronClassifier(random_state=0)`` with no
other argument. Run ``python -m benchmarks.quality [--params key=value ...]``;
the table goes to stdout and ``benchmarks/results/quality.md``.
"""

from __future__ import annotations

import argparse
import ast
import time
import warnings
from pathlib import Path

from sklearn.datasets import (load_breast_cancer, load_diabetes, load_digits, load_wine,
                              make_friedman1)
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skneuron import TaskNeuronClassifier, TaskNeuronRegressor

RESULTS = Path(__file__).parent / "results"


def datasets():
    yield "diabetes", "regression", *load_diabetes(return_X_y=True)
    yield "friedman1 (n=2000)", "regression", *make_friedman1(n_samples=2000, random_state=0)
    yield "breast_cancer", "classification", *load_breast_cancer(return_X_y=True)
    yield "wine", "classification", *load_wine(return_X_y=True)
    yield "digits", "classification", *load_digits(return_X_y=True)


def timed_fit_score(model, X_train, X_test, y_train, y_test):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        model.fit(X_train, y_train)
        seconds = time.perf_counter() - start
    return model.score(X_test, y_test), seconds


def run(params: dict, seed: int = 0) -> str:
    lines = ["| data set | metric | TaskNeuron (default) | sklearn MLP | ours ≥ MLP | formula | "
             "fit s (ours / MLP) |", "|---|---|---|---|---|---|---|"]
    wins = 0
    for name, task, X, y in datasets():
        split = train_test_split(X, y, test_size=0.25, random_state=seed,
                                 stratify=y if task == "classification" else None)
        regression = task == "regression"
        ours = (TaskNeuronRegressor if regression else TaskNeuronClassifier)(random_state=seed, **params)
        mlp = make_pipeline(StandardScaler(),
                            (MLPRegressor if regression else MLPClassifier)(random_state=seed))
        our_score, our_time = timed_fit_score(ours, *split)
        mlp_score, mlp_time = timed_fit_score(mlp, *split)
        wins += our_score >= mlp_score
        lines.append(
            f"| {name} | {'R²' if regression else 'accuracy'} | {our_score:.4f} | {mlp_score:.4f} | "
            f"{'yes' if our_score >= mlp_score else '**no**'} | `{' + '.join(ours.formula_.terms)}` | "
            f"{our_time:.2f} / {mlp_time:.2f} |"
        )
        print(lines[-1], flush=True)
    lines.append(f"\nTaskNeuron ≥ MLP on {wins} of 5 data sets (params: {params or 'defaults'}).")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", nargs="*", default=[], help="key=value estimator params")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    params = {k: ast.literal_eval(v) for k, v in (p.split("=", 1) for p in args.params)}
    table = run(params, args.seed)
    print(table)
    if not params:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "quality.md").write_text(table + "\n")


if __name__ == "__main__":
    main()
