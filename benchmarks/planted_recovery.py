"""Planted-structure recovery and discovery time of NeuronSeek-TD.

The protocol of the NeuronSeek authors' own check: n = 2500 rows, D = 10
standard-normal features, the clean target standardised, noise 0.01·N(0, 1);
three families of truth

- pure: ``y = w₁ᵀx + w₃ᵀx^{∘3}``                   → formula ``x + x**3``
- interaction: ``y = (aᵀx)(bᵀx)(cᵀx)``             → formula ``inter(3)``
- hybrid: ``y = w₂ᵀx^{∘2} + (aᵀx)(bᵀx)``           → formula ``x**2 + inter(2)``

with the weights drawn from a numpy Generator seeded by the seed. Each
discovered formula is classified

- EXACT: exactly the true terms;
- CORRECT: the true terms and nothing of an order the truth lacks;
- NOISY: the true terms plus a term of an order the truth lacks;
- MISSING: a true term is missing.

Then the discovery time on 2500 × 10, 10 000 × 50 and a digits-sized
classification (1347 × 64, 10 one-hot outputs: 75 % of ``load_digits``) — best
and median of ``--repeats`` runs after one warm-up run, wall-clock and process
CPU time (the machine is usually shared, so both are reported) — and the
formulas on small real data sets. Run
``python -m benchmarks.planted_recovery [--seeds 10] [--max-order 3] [--repeats 3] [--out FILE]``;
the tables are printed and written to ``FILE``
(``benchmarks/results/planted_recovery.md``).
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
from sklearn import datasets
from sklearn.model_selection import train_test_split

from benchmarks.output import add_out_argument, load_average, produced_by, write_table
from skneuron.datasets import PLANTED_POLYNOMIAL_TERMS, make_planted_polynomial
from skneuron.discovery import discover_td

RESULTS = Path(__file__).parent / "results" / "planted_recovery.md"

FAMILIES = {
    "pure": {("pure", 1), ("pure", 3)},
    "interaction": {("inter", 3)},
    "hybrid": {("pure", 2), ("inter", 2)},
}


def planted(family: str, seed: int):
    """Rows and target of one planted problem (n = 2500, D = 10, noise 0.01)."""
    return make_planted_polynomial(family, random_state=seed)


def classify(formula, truth) -> str:
    found = {("pure", k) for k in formula.pure_orders}
    found |= {("inter", k) for k in formula.interaction_orders}
    found |= {("periodic", formula.periodic)} if formula.periodic else set()
    if not truth <= found:
        return "MISSING"
    if found == truth:
        return "EXACT"
    return "CORRECT" if {k for _, k in found} <= {k for _, k in truth} else "NOISY"


def short(formula) -> str:
    return " + ".join(formula.terms).replace(f", rank={formula.rank}", "")


def recovery_table(seeds: int, max_order: int) -> list[str]:
    lines = [
        f"Planted recovery, n = 2500, D = 10, noise 0.01, max_order = {max_order}, "
        f"rank = 8, seeds 0..{seeds - 1}",
        "",
        "| family | truth | EXACT | CORRECT | NOISY | MISSING | formulas found (count) "
        "| mean s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for family, truth in FAMILIES.items():
        counts, formulas, times = Counter(), Counter(), []
        for seed in range(seeds):
            X, y = planted(family, seed)
            result = discover_td(X, y, random_state=seed, max_order=max_order)
            counts[classify(result.formula, truth)] += 1
            formulas[short(result.formula)] += 1
            times.append(result.fit_time)
        found = ", ".join(f"`{f}` ({c})" for f, c in formulas.most_common())
        true_formula = " + ".join(PLANTED_POLYNOMIAL_TERMS[family])
        lines.append(
            f"| {family} | `{true_formula}` | {counts['EXACT']} | {counts['CORRECT']} "
            f"| {counts['NOISY']} | {counts['MISSING']} | {found} | {np.mean(times):.2f} |"
        )
        print(lines[-1], flush=True)
    return lines


def timing_table(repeats: int) -> list[str]:
    rng = np.random.default_rng(0)
    problems = {"2500 × 10 (hybrid, seed 0)": planted("hybrid", 0)}
    X = rng.standard_normal((10_000, 50))
    a, b, w = rng.standard_normal((3, 50))
    problems["10 000 × 50 (`(aᵀx)(bᵀx) + wᵀx`)"] = (
        X, (X @ a) * (X @ b) + X @ w + 0.1 * rng.standard_normal(10_000))
    X, _, y, _ = train_test_split(*datasets.load_digits(return_X_y=True), test_size=0.25,
                                  random_state=0)
    problems["1347 × 64, 10 one-hot outputs (digits)"] = (X, _one_hot(y))
    lines = [
        f"Discovery time (default options; one warm-up, then {repeats} runs with seeds "
        f"0..{repeats - 1}; wall-clock and process CPU seconds)",
        "",
        "| data | formula (last seed) | best s | median s | best CPU s | median CPU s |",
        "|---|---|---|---|---|---|",
    ]
    for name, (X, y) in problems.items():
        discover_td(X, y, random_state=0)
        times, cpu_times = [], []
        for seed in range(repeats):
            start, cpu_start = time.perf_counter(), time.process_time()
            result = discover_td(X, y, random_state=seed)
            times.append(time.perf_counter() - start)
            cpu_times.append(time.process_time() - cpu_start)
        lines.append(f"| {name} | `{short(result.formula)}` | {min(times):.2f} "
                     f"| {statistics.median(times):.2f} | {min(cpu_times):.2f} "
                     f"| {statistics.median(cpu_times):.2f} |")
        print(lines[-1], flush=True)
    return lines


def _one_hot(y):
    classes = np.unique(y)
    indicator = (y[:, None] == classes[None]).astype(float)
    return indicator[:, 1:] if len(classes) == 2 else indicator


def real_data_table(seeds: int) -> list[str]:
    data = {
        "diabetes": datasets.load_diabetes(return_X_y=True),
        "breast_cancer (one-hot)": datasets.load_breast_cancer(return_X_y=True),
        "wine (one-hot)": datasets.load_wine(return_X_y=True),
        "digits (one-hot)": datasets.load_digits(return_X_y=True),
        "iris (one-hot)": datasets.load_iris(return_X_y=True),
        "friedman1 (n = 2000)": datasets.make_friedman1(n_samples=2000, random_state=0),
    }
    lines = [
        f"Real data, formulas over seeds 0..{seeds - 1} (count); cross-validated R² of seed 0",
        "",
        "| data | n × D | formulas (count) | R², seed 0 |",
        "|---|---|---|---|",
    ]
    for name, (X, y) in data.items():
        Y = _one_hot(y) if "one-hot" in name else y
        formulas, scores = Counter(), []
        for seed in range(seeds):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                result = discover_td(X, Y, random_state=seed)
            formulas[short(result.formula)] += 1
            scores.append(result.validation_score)
        found = ", ".join(f"`{f}` ({c})" for f, c in formulas.most_common())
        lines.append(f"| {name} | {X.shape[0]} × {X.shape[1]} | {found} | {scores[0]:.3f} |")
        print(lines[-1], flush=True)
    return lines


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--max-order", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    add_out_argument(parser, RESULTS)
    args = parser.parse_args(argv)
    started, load_before = time.time(), load_average()
    sections = [
        recovery_table(args.seeds, args.max_order),
        timing_table(args.repeats),
        real_data_table(args.seeds),
    ]
    header = [
        "# NeuronSeek-TD: planted recovery and discovery time",
        "",
        produced_by(f"python -m benchmarks.planted_recovery --seeds {args.seeds} --max-order "
                    f"{args.max_order} --repeats {args.repeats}", started, load_before),
    ]
    report = "\n\n".join("\n".join(section) for section in [header, *sections])
    write_table(args.out, report)
    return report


if __name__ == "__main__":
    main()
