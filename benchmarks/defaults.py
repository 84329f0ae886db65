"""Out of the box: the default estimators against sklearn's default MLP pipeline.

The protocol of the core issue, simpler than the suite's: each data set is
split 75/25 with ``random_state=seed``; the competitor is
``make_pipeline(StandardScaler(), MLPRegressor/MLPClassifier(random_state=seed))``
(sklearn's defaults, raw targets) and ours is
``TaskNeuronRegressor/TaskNeuronClassifier(random_state=seed)`` with no other
argument. Seed 0 is the headline table; ``--seeds N`` adds the mean over seeds
0..N-1, since one 25 % split of a small data set moves by a sample or two.
Run ``python -m benchmarks.defaults [--seeds 5] [--params key=value ...]``;
the tables go to stdout and ``benchmarks/results/defaults.md``.
"""

from __future__ import annotations

import argparse
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

from benchmarks.run import parse_params
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


def run(params: dict, seed: int = 0) -> tuple[str, dict[str, tuple[float, float]]]:
    lines = ["| data set | metric | TaskNeuron (default) | sklearn MLP | ours ≥ MLP | formula | "
             "fit s (ours / MLP) |", "|---|---|---|---|---|---|---|"]
    wins, scores = 0, {}
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
        scores[name] = our_score, mlp_score
        lines.append(
            f"| {name} | {'R²' if regression else 'accuracy'} | {our_score:.4f} | {mlp_score:.4f} | "
            f"{'yes' if our_score >= mlp_score else '**no**'} | `{' + '.join(ours.formula_.terms)}` | "
            f"{our_time:.2f} / {mlp_time:.2f} |"
        )
        print(lines[-1], flush=True)
    lines.append(f"\nTaskNeuron ≥ MLP on {wins} of 5 data sets (seed {seed}; "
                 f"params: {params or 'defaults'}).")
    return "\n".join(lines), scores


def mean_over_seeds(params: dict, n_seeds: int) -> str:
    """The mean test score of each side over seeds ``0..n_seeds-1``."""
    per_seed = [run(params, seed)[1] for seed in range(n_seeds)]
    lines = [f"Mean over seeds 0..{n_seeds - 1}:", "",
             "| data set | TaskNeuron (default) | sklearn MLP | ours ≥ MLP |", "|---|---|---|---|"]
    for name in per_seed[0]:
        ours, mlp = (sum(s[name][i] for s in per_seed) / n_seeds for i in (0, 1))
        lines.append(f"| {name} | {ours:.4f} | {mlp:.4f} | {'yes' if ours >= mlp else '**no**'} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", nargs="*", default=[], help="key=value estimator params")
    parser.add_argument("--seeds", type=int, default=1, help="also average seeds 0..N-1")
    args = parser.parse_args()
    params = parse_params(args.params)
    table = "# Out of the box: default estimators against sklearn's default MLP\n\n" + run(params)[0]
    if args.seeds > 1:
        table += "\n\n" + mean_over_seeds(params, args.seeds)
    table += "\n\nCommand: `python -m benchmarks.defaults" + (
        f" --seeds {args.seeds}" if args.seeds > 1 else "") + "`."
    print(table)
    if not params:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "defaults.md").write_text(table + "\n")


if __name__ == "__main__":
    main()
