"""Ablation of the default estimator on the real-data suite: one default changed at a time.

``python -m benchmarks.ablation`` fits ``TaskNeuron-TD`` on the real suite's data sets and
split seeds once per variant in :data:`VARIANTS` — each the defaults with one setting
changed (an estimator parameter, or a module constant such as the input scaling) — and
writes ``results/ablation_real.csv`` and ``results/ablation_real.md``: per variant the mean
score change against the defaults, on how many data sets it is better or worse, and its
median fit time; per data set the mean scores. The defaults' rows come from
``results/suite_real.csv`` (the same splits and seeds), read when the summary is written,
unless ``defaults`` is among the variants run; ``--report`` re-renders the summary.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import itertools
import json
import shlex
import sys
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from benchmarks import report
from benchmarks.run import COLUMNS, RESULTS, accuracy_rows, write_csv
from benchmarks.suites import get_suite
from benchmarks.measure import thread_limits

OURS = "TaskNeuron-TD"

#: name -> (estimator parameters, {"module.CONSTANT": value}); each changes the defaults.
VARIANTS: dict[str, tuple[dict, dict]] = {
    "defaults": ({}, {}),
    "n_members=1": ({"n_members": 1}, {}),
    "n_members=6": ({"n_members": 6}, {}),
    "n_members=8": ({"n_members": 8}, {}),
    "periodic=0": ({"periodic": 0}, {}),
    "n_iter_no_change=10": ({"n_iter_no_change": 10}, {}),  # the default since 2026-12-03
    "n_iter_no_change=20": ({"n_iter_no_change": 20}, {}),
    "robust scaling": ({}, {"skneuron._estimators.INPUT_SCALING": "robust"}),
    "one-hot ≤ 16": ({}, {"skneuron._tabular.MAX_ONEHOT_CATEGORIES": 16}),
    "one-hot ≤ 64": ({}, {"skneuron._tabular.MAX_ONEHOT_CATEGORIES": 64}),  # until 2026-12-04
    "previous defaults": ({"n_members": 1, "periodic": 0, "n_iter_no_change": 10},
                          {"skneuron._tabular.MAX_ONEHOT_CATEGORIES": 16}),
    "n_repeats=1": ({"discovery_params": {"n_repeats": 1}}, {}),
    "n_repeats=4": ({"discovery_params": {"n_repeats": 4}}, {}),
    "batch_size=512": ({"batch_size": 512}, {}),
    "batch_size=512, lr=2e-3": ({"batch_size": 512, "learning_rate_init": 2e-3}, {}),
    "batch_size=1024, lr=3e-3": ({"batch_size": 1024, "learning_rate_init": 3e-3}, {}),
    "hidden_layer_sizes=(64,)": ({"hidden_layer_sizes": (64,)}, {}),
    "alpha=1e-3": ({"alpha": 1e-3}, {}),
    "alpha=1e-2": ({"alpha": 1e-2}, {}),
    "periodic=4": ({"periodic": 4}, {}),
    "waves at (0.1, 0.3)": ({}, {"skneuron.formula.PERIODIC_INIT_SCALE": (0.1, 0.3)}),
    "waves at (0.1,)": ({}, {"skneuron.formula.PERIODIC_INIT_SCALE": (0.1,)}),
    "waves at (0.03, 0.1, 0.3)": ({}, {"skneuron.formula.PERIODIC_INIT_SCALE": (0.03, 0.1, 0.3)}),
    # The subset search without the periodic term's waves (the default until 2026-12-03).
    "keep_periodic=0": ({"discovery_params": {"keep_periodic": 0}}, {}),
}


#: The columns of the summary's table of variants against the defaults.
SUMMARY_COLUMNS = ["variant", "mean change, regression R²",
                   "mean change, classification accuracy", "better / worse (of sets)",
                   "median fit s"]


@contextlib.contextmanager
def constants(overrides: dict):
    """Set module constants (``"package.module.NAME": value``) for the block."""
    saved = []
    try:
        for dotted, value in overrides.items():
            module_name, name = dotted.rsplit(".", 1)
            module = importlib.import_module(module_name)
            saved.append((module, name, getattr(module, name)))
            setattr(module, name, value)
        yield
    finally:
        for module, name, value in reversed(saved):
            setattr(module, name, value)


def variant_rows(variant: str, seeds: int | None, only, threads: int):
    """Yield the accuracy rows of ``OURS`` under ``variant``, each labelled with it."""
    params, overrides = VARIANTS[variant]
    suite = get_suite("real", seeds=seeds, only=only, models=[OURS], params=params)
    competitors = [suite.registry[OURS]]
    with constants(overrides):
        for row in accuracy_rows(suite, competitors, threads,
                                 log=lambda line: print(f"[{variant}] {line}", flush=True)):
            yield {**row, "variant": variant}


def summary(frame: pd.DataFrame, run: dict | None = None,
            defaults_from_suite: bool = False) -> list[str]:
    """Markdown lines: per variant against the defaults, then the per-data-set means.

    ``run`` (``command``, ``date``) names the run; ``defaults_from_suite`` says that
    the defaults' rows were read from the real suite's CSV."""
    frame = frame.assign(score=report._primary_column(frame))
    means = frame.pivot_table(index="dataset", columns="variant", values="score", aggfunc="mean")
    order = [v for v in VARIANTS if v in means.columns]
    means = means[order]
    task = frame.groupby("dataset")["task"].first()
    # Per variant: the median over data sets of the mean fit over seeds.
    median_fit = frame.groupby(["variant", "dataset"])["fit_s"].mean().groupby("variant").median()
    rows = []
    for variant in order[1:]:
        change = means[variant] - means["defaults"]
        rows.append((variant, _mean_change(change[task == "regression"]),
                     _mean_change(change[task != "regression"]),
                     f"{(change > 0).sum()} / {(change < 0).sum()} (of {len(change)})",
                     f"{median_fit[variant]:.2f}"))
    lines = ["# Ablation of the defaults on the real suite", "",
             f"`{OURS}` at its defaults against variants that each change one setting "
             "(`python -m benchmarks.ablation`, `benchmarks/ablation.py`); the same "
             "splits as the real suite, split seeds "
             f"{sorted(int(s) for s in frame.seed.unique())}; score = R² (regression) or "
             "accuracy (classification), mean over those seeds. A positive change means the "
             "variant scored higher than the defaults. Median fit of the defaults: "
             f"{median_fit['defaults']:.2f} s"
             + (" (from the real suite's run; the variants' from this one)."
                if defaults_from_suite else "."), ""]
    if run:
        lines[1:1] = ["", f"Produced by `{run['command']}` on {run['date']}."]
    # Built with its columns: a run of the defaults alone has no variant rows.
    lines += report.markdown(pd.DataFrame(rows, columns=SUMMARY_COLUMNS).set_index("variant"))
    lines += ["", "Mean score per data set:", ""]
    lines += report.markdown(means.map(lambda v: f"{v:.4f}"))
    return lines


def _mean_change(changes: pd.Series) -> str:
    """The mean of ``changes`` as ``+0.0012``, or a dash when no data set of that task ran."""
    changes = changes.dropna()
    return f"{changes.mean():+.4f}" if len(changes) else "—"


def defaults_rows(out: Path, only=None, seeds: int | None = None) -> pd.DataFrame:
    """The real suite's ``OURS`` rows, as the ``defaults`` variant: from ``out``'s
    ``suite_real.csv``, else from the suite of record in ``benchmarks/results``."""
    source = out / "suite_real.csv"
    earlier = pd.read_csv(source if source.exists() else RESULTS / "suite_real.csv")
    earlier = earlier[earlier.model == OURS].assign(variant="defaults")
    if only:
        earlier = earlier[earlier.dataset.isin(only)]
    if seeds is not None:
        earlier = earlier[earlier.seed < seeds]
    return earlier


def write_summary(out: Path, only=None, seeds: int | None = None) -> Path:
    """Render ``ablation_real.md`` from ``ablation_real.csv`` (and the defaults' rows)."""
    frame = pd.read_csv(out / "ablation_real.csv")
    from_suite = "defaults" not in set(frame.variant)
    if from_suite:
        frame = pd.concat([defaults_rows(out, only, seeds), frame], ignore_index=True)
    context = out / "context_ablation_real.json"
    run = json.loads(context.read_text()) if context.exists() else None
    path = out / "ablation_real.md"
    path.write_text("\n".join(summary(frame, run, from_suite)) + "\n")
    return path


def main(argv=None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS),
                        default=[v for v in VARIANTS if v != "defaults"])
    parser.add_argument("--seeds", type=int, help="number of seeds (0..N-1); default 3")
    parser.add_argument("--only", nargs="+", help="data set names to run")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--report", action="store_true",
                        help="only re-render the summary from the CSVs")
    args = parser.parse_args(argv)
    if not args.report:
        rows = itertools.chain.from_iterable(  # written as they come: a crash keeps them
            variant_rows(variant, args.seeds, args.only, args.threads)
            for variant in args.variants)
        started = datetime.now(timezone.utc)
        with thread_limits(args.threads):
            write_csv(rows, args.out / "ablation_real.csv", ["variant", *COLUMNS["suite"]])
        minutes = (datetime.now(timezone.utc) - started).total_seconds() / 60
        command = shlex.join(["python", "-m", "benchmarks.ablation", *(argv or sys.argv[1:])])
        (args.out / "context_ablation_real.json").write_text(json.dumps(
            {"command": command, "date": f"{started:%Y-%m-%d %H:%M} UTC ({minutes:.1f} min)"},
            indent=1) + "\n")
    path = write_summary(args.out, args.only, args.seeds)
    print(f"written: {path}")
    return path


if __name__ == "__main__":
    main()
