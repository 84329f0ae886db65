"""Command line: ``skneuron demo`` (also ``python -m skneuron demo``)."""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Sequence

__all__ = ["main"]


def _demo_tasks():
    """Bundled or generated data sets, so the demo needs no download."""
    from sklearn.datasets import load_breast_cancer, load_diabetes, make_friedman1

    X, y = make_friedman1(n_samples=2000, noise=0.5, random_state=0)
    yield "friedman1 (2000 × 10)", "regression", X, y
    yield "diabetes", "regression", *load_diabetes(return_X_y=True)
    yield "breast_cancer", "classification", *load_breast_cancer(return_X_y=True)


def run_demo(seed: int = 0, out=None) -> list[dict]:
    """Fit the default task-neuron estimator and sklearn's MLP on each demo task.

    Prints each discovered formula and a score/time table to ``out`` (standard
    output by default); returns the rows.
    """
    out = out or sys.stdout
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from skneuron import TaskNeuronClassifier, TaskNeuronRegressor

    rows = []
    for name, task, X, y in _demo_tasks():
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.25, random_state=seed,
            stratify=y if task == "classification" else None,
        )
        ours = (TaskNeuronRegressor if task == "regression" else TaskNeuronClassifier)(random_state=seed)
        mlp = (MLPRegressor if task == "regression" else MLPClassifier)(random_state=seed)
        print(f"\n{name}: {task}, {len(X_train)} training rows", file=out)
        for label, model in [("TaskNeuron", ours), ("sklearn MLP", make_pipeline(StandardScaler(), mlp))]:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                start = time.perf_counter()
                model.fit(X_train, y_train)
                seconds = time.perf_counter() - start
            score = model.score(X_test, y_test)
            rows.append({"data": name, "task": task, "model": label, "score": score, "fit_s": seconds})
        print(f"  discovered formula: {ours.formula_}", file=out)
        print(f"  (terms {', '.join(ours.formula_.terms)}; discovery "
              f"{ours.discovery_.fit_time:.2f} s)", file=out)

    metric = {"regression": "R²", "classification": "accuracy"}
    print("\n| data | model | test score | fit time (s) |\n|---|---|---|---|", file=out)
    for row in rows:
        print(f"| {row['data']} | {row['model']} | {metric[row['task']]} {row['score']:.3f} | "
              f"{row['fit_s']:.2f} |", file=out)
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``skneuron`` console script."""
    parser = argparse.ArgumentParser(
        prog="skneuron", description="Task-driven neurons for scikit-learn."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="discover formulas and compare with sklearn's MLP on bundled data"
    )
    demo.add_argument("--seed", type=int, default=0, help="random_state of every model")
    args = parser.parse_args(argv)
    if args.command == "demo":
        run_demo(seed=args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
