"""Training on one torch thread against two, on the real suite's data sets.

``fit`` trains a network on one torch thread when its minibatch work (rows ×
widest layer input × members) is below ``SINGLE_THREAD_WORK``, else on every
thread it may use. This measures what that cut-off decides on the real
suite: for each data set (split seed 0, the default ``TaskNeuron*`` with
``random_state=0``), the training time of a fit — the fit less its discovery
— with the cut-off above every network (one thread) and at zero (two
threads), the median of ``--repeats`` fits each, taken in turn; and whether
the two fits predict the test rows bit for bit alike.

Run ``python -m benchmarks.training_threads [--repeats 3]`` on a quiet
two-core machine; the table is printed and written to
``benchmarks/results/training_threads.md``. With ``--busy`` one CPU-bound
process (another program on the machine) runs beside every fit, and the
table goes to ``training_threads_busy.md``; ``--only`` names data sets.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import time
from contextlib import contextmanager, nullcontext
from pathlib import Path

import numpy as np

import skneuron._estimators as estimators
from benchmarks.measure import thread_limits, timed
from benchmarks.real_datasets import REAL_DATASETS
from benchmarks.run import split
from skneuron import TaskNeuronClassifier, TaskNeuronRegressor

RESULTS = Path(__file__).parent / "results" / "training_threads.md"
BUSY_RESULTS = RESULTS.with_name("training_threads_busy.md")

#: The cut-off's two settings: one thread for every network, or two for every one.
SETTINGS = {"one thread": 1 << 62, "two threads": 0}


def training_seconds_and_predictions(dataset, cutoff: int):
    """One default fit's training seconds (fit less discovery) and test predictions."""
    X_train, X_test, y_train, _ = split(dataset, seed=0, test_size=0.25)
    estimator = TaskNeuronRegressor if dataset.task == "regression" else TaskNeuronClassifier
    estimators.SINGLE_THREAD_WORK = cutoff
    model, seconds = timed(estimator(random_state=0).fit, X_train, y_train)
    predicted = model.predict(X_test) if dataset.task == "regression" \
        else model.predict_proba(X_test)
    return seconds - model.discovery_.fit_time, predicted


def _spin() -> None:
    while True:
        pass


@contextmanager
def busy_core():
    """One CPU-bound process beside the block, as another program busy on the machine."""
    process = multiprocessing.get_context("spawn").Process(target=_spin, daemon=True)
    process.start()
    try:
        yield process
    finally:
        process.terminate()
        process.join()


def measure(repeats: int, datasets=REAL_DATASETS) -> list[str]:
    default = estimators.SINGLE_THREAD_WORK
    lines = ["| data set | one thread: training s | two threads: training s | ratio | "
             "same predictions |", "|---|---|---|---|---|"]
    ratios = []
    try:
        for dataset in datasets:
            times = {name: [] for name in SETTINGS}
            predictions = {}
            for _ in range(repeats):
                for name, cutoff in SETTINGS.items():
                    seconds, predictions[name] = training_seconds_and_predictions(dataset, cutoff)
                    times[name].append(seconds)
            one, two = (statistics.median(times[name]) for name in SETTINGS)
            ratios.append(two / one)
            same = np.array_equal(*predictions.values())
            lines.append(f"| {dataset.name} | {one:.3f} | {two:.3f} | {two / one:.2f} | "
                         f"{'yes' if same else 'no'} |")
            print(lines[-1], flush=True)
    finally:
        estimators.SINGLE_THREAD_WORK = default
    lines.append(f"| median ratio | | | {statistics.median(ratios):.2f} | |")
    return lines


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--busy", action="store_true",
                        help="run one CPU-bound process beside every fit")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="data set names")
    args = parser.parse_args(argv)
    datasets = [d for d in REAL_DATASETS if not args.only or d.name in args.only]
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    with thread_limits(2), busy_core() if args.busy else nullcontext():
        table = measure(args.repeats, datasets)
    command = "python -m benchmarks.training_threads " + " ".join(
        sys.argv[1:] if argv is None else argv)
    beside = " One CPU-bound process (`--busy`) ran beside every fit, as another program " \
        "busy on the machine would." if args.busy else ""
    lines = ["# Training threads: one against two" + (" on a busy machine" if args.busy else ""),
             "", f"Produced by `{command.strip()}` on {started}: the real suite's data sets, "
             "split seed 0, the default estimators with `random_state=0`; training seconds = fit "
             "less discovery (discovery always runs on one thread), the median of the repeats; "
             f"ratio = two threads ÷ one.{beside}", "", *table]
    path = BUSY_RESULTS if args.busy else RESULTS
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
