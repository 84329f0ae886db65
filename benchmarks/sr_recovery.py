"""Planted-formula recovery and discovery time of NeuronSeek-SR (``discovery="sr"``).

The issue's protocol: n = 2000 rows, D = 8 features x ~ U(−2, 2), target
``Σ_i g(x_i)`` plus noise 0.01·N(0, 1), one search per seed with the default
settings of :func:`skneuron.discovery.discover_sr`. A seed counts as a match
when the discovered terms equal the true terms up to sympy equivalence.

Then the discovery time at 10 000 × 20 with the defaults (best and median of
``--repeats`` runs after one warm-up), for ``n_jobs=1`` and ``n_jobs=2``.

Run ``python -m benchmarks.sr_recovery [--seeds 10] [--repeats 5] [--out FILE]``;
the table is printed and written to ``FILE`` (``benchmarks/results/sr_recovery.md``).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import Counter
from pathlib import Path

import numpy as np
import sympy
from sklearn.datasets import make_friedman1

from benchmarks.output import add_out_argument, write_table
from skneuron.datasets import make_planted_vectorized
from skneuron.discovery import discover_sr

#: name -> (g written in x, g as a vectorised function, the true terms)
PLANTED = {
    "sin + square": ("sin(x) + 0.5 x²", lambda x: np.sin(x) + 0.5 * x**2, ("sin(x)", "x**2")),
    "cube − linear": ("x³ − x", lambda x: x**3 - x, ("x", "x**3")),
    "gaussian bump": ("exp(−x²)", lambda x: np.exp(-(x**2)), ("exp(-x**2)",)),
    "x · gaussian": ("x·exp(−x²)", lambda x: x * np.exp(-(x**2)), ("x*exp(-x**2)",)),
    "tanh + square": ("tanh(x) + 0.3 x²", lambda x: np.tanh(x) + 0.3 * x**2,
                      ("tanh(x)", "x**2")),
    "x cos x": ("x·cos(x)", lambda x: x * np.cos(x), ("x*cos(x)",)),
}

RESULTS = Path(__file__).parent / "results" / "sr_recovery.md"


def planted(name: str, seed: int):
    """Rows and target of one planted SR problem (n = 2000, D = 8, noise 0.01)."""
    return make_planted_vectorized(PLANTED[name][1], random_state=seed)


def matches(formula, truth) -> bool:
    """Whether the formula's terms are the true terms, up to sympy equivalence."""
    found = [sympy.sympify(t) for t in formula.terms]
    expected = [sympy.sympify(t) for t in truth]
    return len(found) == len(expected) and all(
        any(sympy.simplify(f - e) == 0 for f in found) for e in expected
    )


def recovery_table(seeds: int) -> list[str]:
    lines = [
        f"Planted recovery, n = 2000, D = 8, x ~ U(−2, 2), noise 0.01, default settings, "
        f"seeds 0..{seeds - 1}",
        "",
        "| planted g | true terms | matched | formulas found (count) | mean time |",
        "|---|---|---|---|---|",
    ]
    for name, (label, _, truth) in PLANTED.items():
        found, times, hits = Counter(), [], 0
        for seed in range(seeds):
            X, y = planted(name, seed)
            start = time.perf_counter()
            result = discover_sr(X, y, random_state=seed)
            times.append(time.perf_counter() - start)
            hits += matches(result.formula, truth)
            found[" + ".join(result.formula.terms)] += 1
        summary = ", ".join(f"`{f}` ({c})" for f, c in found.most_common())
        lines.append(f"| {label} | `{' + '.join(truth)}` | {hits}/{seeds} | {summary} | "
                     f"{statistics.mean(times):.2f} s |")
        print(lines[-1], flush=True)
    return lines


def timing_table(repeats: int) -> list[str]:
    X_sin, y_sin = make_planted_vectorized(PLANTED["sin + square"][1], 10_000, 20,
                                           random_state=0)
    X_f, y_f = make_friedman1(10_000, 20, noise=1.0, random_state=0)
    X_f = (X_f - X_f.mean(0)) / X_f.std(0)
    lines = [
        "",
        f"Discovery time at 10 000 × 20, default settings (best / median of {repeats} "
        "runs after a warm-up; seeds 0..repeats−1)",
        "",
        "| data | n_jobs | best | median | formula (seed 0) |",
        "|---|---|---|---|---|",
    ]
    for name, (X, y) in {"planted sin + square": (X_sin, y_sin),
                         "friedman1 (standardised)": (X_f, y_f)}.items():
        for n_jobs in (1, 2):
            discover_sr(X, y, random_state=0, n_jobs=n_jobs)
            times, formula = [], None
            for seed in range(repeats):
                start = time.perf_counter()
                result = discover_sr(X, y, random_state=seed, n_jobs=n_jobs)
                times.append(time.perf_counter() - start)
                formula = formula or " + ".join(result.formula.terms)
            lines.append(f"| {name} | {n_jobs} | {min(times):.2f} s | "
                         f"{statistics.median(times):.2f} s | `{formula}` |")
            print(lines[-1], flush=True)
    return lines


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    add_out_argument(parser, RESULTS)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    lines = ["# NeuronSeek-SR: planted recovery and discovery time", ""]
    lines += recovery_table(args.seeds)
    lines += timing_table(args.repeats)
    write_table(args.out, "\n".join(lines))


if __name__ == "__main__":
    main()
