"""Stability of discovery across seeds: NeuronSeek-TD vs NeuronSeek-SR.

The paper's claim for TD over SR is stability — the same formula whatever the
seed. For every data set below, each method runs once per seed (0..9) with its
default settings, exactly as the estimators call it
(``discover_formula(X, Y, method=..., max_order=3, rank=8, random_state=seed)``);
reported are the modal formula, the fraction of seeds that give it, and the
mean discovery time.

Data sets:

- the SR planted sets of ``benchmarks/sr_recovery.py`` (n = 2000, D = 8,
  x ~ U(−2, 2), noise 0.01);
- TD's planted families of ``benchmarks/planted_recovery.py`` (n = 2500,
  D = 10, x ~ N(0, I), target standardised, noise 0.01): pure
  ``w₁ᵀx + w₃ᵀx^{∘3}``, interaction ``(aᵀx)(bᵀx)(cᵀx)``, hybrid
  ``w₂ᵀx^{∘2} + (aᵀx)(bᵀx)``; one fixed problem each (seed 0), so only the
  method's own randomness varies;
- scikit-learn's bundled data sets, inputs standardised and classification
  targets one-hot (one indicator column for two classes), as the estimators
  pass them.

Run ``python -m benchmarks.stability [--seeds 10] [--out FILE]``; the table is
printed and written to ``FILE`` (``benchmarks/results/stability.md``).
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

from benchmarks.output import add_out_argument, load_average, produced_by, write_table
from benchmarks.planted_recovery import planted as td_planted
from benchmarks.sr_recovery import PLANTED as SR_PLANTED
from benchmarks.sr_recovery import planted as sr_planted
from skneuron.discovery import discover_formula

RESULTS = Path(__file__).parent / "results" / "stability.md"
METHODS = ("td", "sr")


def problems():
    """``(name, X, Y)`` of every data set, in table order."""
    for name in SR_PLANTED:
        X, y = sr_planted(name, 0)
        yield f"SR planted: {SR_PLANTED[name][0]}", X, y
    for family in ("pure", "interaction", "hybrid"):
        X, y = td_planted(family, 0)
        yield f"TD planted: {family}", X, y
    for loader in ("diabetes", "breast_cancer", "wine", "digits", "iris"):
        data = getattr(datasets, f"load_{loader}")()
        X = data.data.astype(float)
        scale = X.std(axis=0)
        X = (X - X.mean(axis=0)) / np.where(scale > 0, scale, 1.0)
        y = data.target
        if loader == "diabetes":
            Y = y.astype(float)
        else:  # as the classifiers pass it: one indicator column for two classes
            Y = np.eye(y.max() + 1)[y]
            Y = Y[:, 1:] if Y.shape[1] == 2 else Y
        yield loader, X, Y


def run(method, X, Y, seeds):
    formulas, times = Counter(), []
    for seed in range(seeds):
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            result = discover_formula(X, Y, method=method, max_order=3, rank=8,
                                      random_state=seed)
        times.append(time.perf_counter() - start)
        formulas[" + ".join(result.formula.terms).replace(", rank=8", "")] += 1
    return formulas, statistics.mean(times)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    add_out_argument(parser, RESULTS)
    args = parser.parse_args(argv)
    started, load_before = time.time(), load_average()
    lines = [
        "# Stability of discovery across seeds: TD vs SR",
        "",
        f"Seeds 0..{args.seeds - 1}, default settings of each method, max_order = 3, rank = 8. "
        "For each method: the modal formula, the fraction of seeds giving it, the mean "
        "discovery time (2 CPU cores, shared).",
        "",
        "| data set | TD modal formula | TD share | TD time | SR modal formula | SR share "
        "| SR time |",
        "|---|---|---|---|---|---|---|",
    ]
    shares = {m: [] for m in METHODS}
    for name, X, Y in problems():
        cells = [name]
        for method in METHODS:
            formulas, seconds = run(method, X, Y, args.seeds)
            modal, count = formulas.most_common(1)[0]
            shares[method].append(count / args.seeds)
            cells += [f"`{modal}`", f"{count}/{args.seeds}", f"{seconds:.2f} s"]
        lines.append("| " + " | ".join(cells) + " |")
        print(lines[-1], flush=True)
    lines += [
        "",
        "Mean share of the modal formula over the data sets: "
        + ", ".join(f"{m.upper()} {statistics.mean(shares[m]):.2f}" for m in METHODS) + ".",
    ]
    lines[1:1] = ["", produced_by(f"python -m benchmarks.stability --seeds {args.seeds}",
                                  started, load_before)]
    write_table(args.out, "\n".join(lines))


if __name__ == "__main__":
    main()
