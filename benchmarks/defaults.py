"""Out of the box: the default estimators against sklearn's MLP, at its defaults and made fair.

The protocol of the core issue, simpler than the suite's: each data set is
split 75/25 with ``random_state=seed``; ours is
``TaskNeuronRegressor/TaskNeuronClassifier(random_state=seed)`` with no other
argument. Two MLPs face it: sklearn's defaults,
``make_pipeline(StandardScaler(), MLPRegressor/MLPClassifier(random_state=seed))``
with the raw target, and the fair MLP of ``skneuron demo`` (two hidden layers
of 64, early stopping and, for regression, a standardised target). "Ours ≥"
compares with the fair one. Seed 0 is the headline table; ``--seeds N`` adds
the mean over seeds 0..N-1, since one 25 % split of a small data set moves by
a sample or two.
Run ``python -m benchmarks.defaults [--seeds 5] [--params key=value ...]``;
the tables go to stdout and ``benchmarks/results/defaults.md``.
"""

from __future__ import annotations

import argparse
import time
import warnings
from datetime import datetime, timezone
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
from skneuron.cli import _demo_rivals

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


def run(params: dict, seed: int = 0) -> tuple[str, dict[str, tuple[float, float, float]]]:
    lines = ["| data set | metric | TaskNeuron (default) | sklearn MLP (default) | "
             "sklearn MLP (fair) | ours ≥ fair MLP | formula | fit s (ours / default / fair) |",
             "|---|---|---|---|---|---|---|---|"]
    wins, scores = 0, {}
    for name, task, X, y in datasets():
        split = train_test_split(X, y, test_size=0.25, random_state=seed,
                                 stratify=y if task == "classification" else None)
        regression = task == "regression"
        ours = (TaskNeuronRegressor if regression else TaskNeuronClassifier)(random_state=seed, **params)
        default_mlp = make_pipeline(StandardScaler(),
                                    (MLPRegressor if regression else MLPClassifier)(random_state=seed))
        fair_mlp = dict(_demo_rivals(task, seed))["sklearn MLP"]
        (our_score, our_time), (default_score, default_time), (fair_score, fair_time) = (
            timed_fit_score(model, *split) for model in (ours, default_mlp, fair_mlp))
        wins += our_score >= fair_score
        scores[name] = our_score, default_score, fair_score
        lines.append(
            f"| {name} | {'R²' if regression else 'accuracy'} | {our_score:.4f} | "
            f"{default_score:.4f} | {fair_score:.4f} | "
            f"{'yes' if our_score >= fair_score else '**no**'} | `{' + '.join(ours.formula_.terms)}` | "
            f"{our_time:.2f} / {default_time:.2f} / {fair_time:.2f} |"
        )
        print(lines[-1], flush=True)
    lines.append(f"\nTaskNeuron ≥ the fair MLP on {wins} of {len(scores)} data sets (seed {seed}; "
                 f"params: {params or 'defaults'}).")
    return "\n".join(lines), scores


def mean_over_seeds(params: dict, n_seeds: int, seed_0: dict) -> str:
    """The mean test score of each model over seeds ``0..n_seeds-1``, given seed 0's scores."""
    per_seed = [seed_0] + [run(params, seed)[1] for seed in range(1, n_seeds)]
    lines = [f"Mean over seeds 0..{n_seeds - 1}:", "",
             "| data set | TaskNeuron (default) | sklearn MLP (default) | sklearn MLP (fair) | "
             "ours ≥ fair MLP |", "|---|---|---|---|---|"]
    for name in per_seed[0]:
        ours, default_mlp, fair_mlp = (sum(s[name][i] for s in per_seed) / n_seeds
                                       for i in range(3))
        lines.append(f"| {name} | {ours:.4f} | {default_mlp:.4f} | {fair_mlp:.4f} | "
                     f"{'yes' if ours >= fair_mlp else '**no**'} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", nargs="*", default=[], help="key=value estimator params")
    parser.add_argument("--seeds", type=int, default=1, help="also average seeds 0..N-1")
    args = parser.parse_args()
    params = parse_params(args.params)
    started = datetime.now(timezone.utc)
    headline, seed_0 = run(params)
    table = "# Out of the box: default estimators against sklearn's MLP, default and fair\n\n" + headline
    if args.seeds > 1:
        table += "\n\n" + mean_over_seeds(params, args.seeds, seed_0)
    table += "\n\nCommand: `python -m benchmarks.defaults" + (
        f" --seeds {args.seeds}" if args.seeds > 1 else "") + "`, run on " + (
        f"{started:%Y-%m-%d %H:%M} UTC.")
    print(table)
    if not params:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "defaults.md").write_text(table + "\n")


if __name__ == "__main__":
    main()
