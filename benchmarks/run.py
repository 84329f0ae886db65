"""Run a benchmark suite: accuracy, speed and scaling against sklearn's MLP, LightGBM and LN.

    python -m benchmarks.run --suite quick            # a few minutes on 2 cores
    python -m benchmarks.run --suite full             # adds 20 000 and 200 000 rows
    python -m benchmarks.run --suite quick --only iris diabetes --seeds 1 --parts accuracy
    python -m benchmarks.run --suite real             # 24 real tables, formula stability
    python -m benchmarks.run --suite real --models TaskNeuron-TD LightGBM --only Wages Car \
        --params max_iter=50 alpha=1e-3 --tag short   # an ablation, in *_real_short.*

Writes, in ``--out`` (default ``benchmarks/results``):

- ``suite_<suite>.csv`` — one row per data set × seed × competitor (scores,
  fit / discovery / predict times, peak memory, parameter count, formula);
- ``speed_<suite>.csv`` — the speed targets' fixed-epoch fits and predict throughput;
- ``scaling_<suite>.csv`` — fit time against n and against D;
- ``stability_<suite>.csv`` — the formula discovered with 5 ``random_state`` values
  on the seed-0 training split of every data set (the ``real`` suite's default);
- ``summary_<suite>.md`` and PNG plots (see :mod:`benchmarks.report`).

With ``--tag NAME`` every file is called ``<kind>_<suite>_NAME.<ext>`` instead, so
an ablation (``--params key=value ...``, our estimators' parameters) does not
overwrite the default run.

Every competitor sees the same split (``train_test_split(test_size=0.25,
random_state=seed)``, stratified for classification) and runs with the same
thread limit (``--threads``, default 2: BLAS, OpenMP, torch and LightGBM's
``n_jobs``), because the speed targets are stated for 2 cores and each
library should use them as it sees fit. In the ``real`` suite every model
gets the raw pandas table and keeps its own defaults and preprocessing
(:data:`~benchmarks.competitors.TABULAR_COMPETITORS`).
"""

from __future__ import annotations

import argparse
import ast
import itertools
import csv
import json
import math
import os
import platform
import shlex
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

from benchmarks import report
from benchmarks.competitors import available, describe, shared_network_params
from benchmarks.datasets import CLASSIFICATION, REGRESSION, scaling_data
from benchmarks.output import load_average
from benchmarks.measure import PeakMemory, scores, thread_limits, timed, timed_settled
from benchmarks.real_datasets import example_table
from benchmarks.suites import (ALL_MODELS, PARTS, REAL_MODELS, SUITES, Suite, fixed_epochs,
                               get_suite)

RESULTS = Path(__file__).parent / "results"


# ------------------------------------------------------------------- accuracy
def split(dataset, seed: int, test_size: float):
    """The one train/test split every competitor gets for ``(dataset, seed)``."""
    X, y = dataset.load()
    stratify = y if dataset.task == CLASSIFICATION else None
    return train_test_split(X, y, test_size=test_size, random_state=seed, stratify=stratify)


def measure_fit(competitor, task, seed, network_params, n_jobs, X_train, y_train):
    """Fit one model; return it and its fit seconds and peak memory."""
    model = competitor.build(task, seed, network_params, n_jobs)
    with PeakMemory() as memory:
        _, seconds = timed(model.fit, X_train, y_train)
    return model, {"fit_s": seconds, "peak_mem_mb": memory.mb}


def accuracy_rows(suite: Suite, competitors, n_jobs: int, log=print):
    """Yield one result row per data set × seed × competitor."""
    for dataset in suite.datasets:
        for seed in suite.seeds:
            X_train, X_test, y_train, y_test = split(dataset, seed, suite.test_size)
            for competitor in competitors:
                model, costs = measure_fit(competitor, dataset.task, seed,
                                           suite.params_for(competitor), n_jobs, X_train,
                                           y_train)
                _, predict_s = timed(model.predict, X_test)
                row = {
                    "suite": suite.name, "dataset": dataset.name, "family": dataset.family,
                    "task": dataset.task, "n_samples": len(X_train) + len(X_test),
                    "n_features": X_train.shape[1], "n_train": len(X_train), "seed": seed,
                    "model": competitor.name,
                    **_empty_scores(),
                    **scores(dataset.task, model, X_test, y_test),
                    **costs, "predict_s": predict_s,
                    "predict_rows_per_s": len(X_test) / predict_s,
                    **describe(model),
                }
                log(f"{dataset.name:>22} seed {seed} {competitor.name:>14}: "
                    f"{_primary(row):.4f} in {row['fit_s']:.2f} s")
                yield row


def _empty_scores() -> dict:
    """Every score column, so regression and classification rows share one CSV layout."""
    return dict.fromkeys(("r2", "rmse", "accuracy", "log_loss"), np.nan)


def _primary(row) -> float:
    return row["r2"] if row["task"] == REGRESSION else row["accuracy"]


# ---------------------------------------------------------------------- speed
#: Repeats of each predict throughput measurement (the best is kept).
PREDICT_REPEATS = 10


def speed_rows(settings, competitors, n_jobs: int, log=print):
    """The speed targets: fixed-epoch fits on friedman1, then predict throughput.

    Ours is fitted three ways — the default fit (discovery + training), the
    training alone with the discovered formula given, and the linear neuron —
    against sklearn's MLP at the same widths, epochs and batch size. Each
    measurement keeps the fastest of its repeats, and the repeats are
    interleaved (every competitor's first fit, then every second one), so
    that a burst of load on a shared machine costs each competitor a repeat
    rather than one competitor all of its own; each timed call starts after a
    pause (:data:`~benchmarks.measure.SETTLE_SECONDS`), so that it is not
    slowed by the previous library's still-spinning threads.
    """
    X, y = scaling_data(settings.n_samples, settings.n_features)
    X_predict, _ = scaling_data(settings.predict_rows, settings.n_features)
    params = settings.network_params()
    common = {"n_samples": settings.n_samples, "n_features": settings.n_features,
              "epochs": settings.epochs, "repeats": settings.repeats}
    fit_seconds, fitted, formula = {}, {}, None

    def fit(name, competitor, fit_params):
        model, seconds = timed_settled(
            lambda: competitor.build(REGRESSION, 0, fit_params, n_jobs).fit(X, y))
        fit_seconds[name] = min(seconds, fit_seconds.get(name, math.inf))
        return model

    for _ in range(settings.repeats):
        for competitor in competitors:
            fitted[competitor.name] = model = fit(competitor.name, competitor, params)
            if competitor.name == "TaskNeuron-TD":
                formula = formula or describe(model)["formula"]
                fit("TaskNeuron-TD (formula given)", competitor, {**params, "formula": formula})
    for name, seconds in fit_seconds.items():
        described = describe(fitted[name]) if name in fitted else {"formula": formula}
        yield {"measure": "fit", "model": name, "seconds": seconds, **common, **described}
        log(f"speed: fit {name} {seconds:.2f} s")

    # A predict takes a tenth of a second: more repeats than the fits to beat the noise.
    predict_seconds = {name: math.inf for name in fitted}
    for _ in range(PREDICT_REPEATS):
        for name, model in fitted.items():
            _, seconds = timed_settled(model.predict, X_predict)
            predict_seconds[name] = min(seconds, predict_seconds[name])
    for name, seconds in predict_seconds.items():
        yield {"measure": "predict", "model": name, "seconds": seconds,
               "rows_per_s": settings.predict_rows / seconds, **common,
               "n_samples": settings.predict_rows}
        log(f"speed: predict {name} {settings.predict_rows / seconds:,.0f} rows/s")


# -------------------------------------------------------------------- scaling
def scaling_rows(settings, competitors, n_jobs: int, log=print):
    """Fit time against n (D fixed) and against D (n fixed), fixed epochs, seed 0."""
    params = fixed_epochs(settings.epochs)
    grid = [("n", n, settings.base_features) for n in settings.sample_sizes]
    grid += [("D", settings.base_samples, d) for d in settings.feature_counts]
    chosen = [c for c in competitors if c.name in settings.models]
    for axis, n_samples, n_features in grid:
        X, y = scaling_data(n_samples, n_features)
        for competitor in chosen:
            model, row = measure_fit(competitor, REGRESSION, 0, shared_network_params(params),
                                     n_jobs, X, y)
            info = describe(model)
            row.update(axis=axis, n_samples=n_samples, n_features=n_features,
                       model=competitor.name, epochs=settings.epochs,
                       discovery_s=info["discovery_s"], formula=info["formula"])
            log(f"scaling: {axis} n={n_samples} D={n_features} {competitor.name} "
                f"{row['fit_s']:.2f} s")
            yield row


# ------------------------------------------------------------------ stability
#: The ``random_state`` values of the formula-stability part.
STABILITY_SEEDS = (0, 1, 2, 3, 4)
#: The competitors whose formula is discovered (the stability part runs those chosen).
DISCOVERY_MODELS = ("TaskNeuron-TD", "TaskNeuron-SR")


def stability_rows(suite: Suite, competitors, n_jobs: int, log=print):
    """The formula each discovery competitor finds with each of :data:`STABILITY_SEEDS`.

    Discovery runs as users get it: the competitor's own factory (the same
    preprocessing, our estimator's defaults and the suite's ``--params``) fits
    the seed-0 training split with ``max_iter=1`` — the formula is discovered
    before training starts — and its ``formula_`` is read.
    """
    chosen = [c for c in competitors if c.name in DISCOVERY_MODELS]
    for dataset in suite.datasets:
        X_train, _, y_train, _ = split(dataset, 0, suite.test_size)
        for competitor in chosen:
            params = {**suite.params_for(competitor), "max_iter": 1}
            for random_state in STABILITY_SEEDS:
                model, seconds = timed(
                    competitor.build(dataset.task, random_state, params, n_jobs).fit,
                    X_train, y_train)
                info = describe(model)
                log(f"{dataset.name:>22} stability {competitor.name:>14} random_state "
                    f"{random_state}: {info['formula']}")
                yield {"suite": suite.name, "dataset": dataset.name, "task": dataset.task,
                       "model": competitor.name, "random_state": random_state,
                       "formula": info["formula"], "discovery_s": info["discovery_s"],
                       "fit_s": seconds}


# ------------------------------------------------------------------------ run
#: The columns of each CSV, in order.
COLUMNS = {
    "suite": ("suite", "dataset", "family", "task", "n_samples", "n_features", "n_train", "seed",
              "model", "r2", "rmse", "accuracy", "log_loss", "fit_s", "discovery_s",
              "predict_s", "predict_rows_per_s", "peak_mem_mb", "n_params", "n_iter", "formula"),
    "speed": ("measure", "model", "seconds", "rows_per_s", "n_samples", "n_features", "epochs",
              "repeats", "discovery_s", "n_params", "n_iter", "formula"),
    "scaling": ("axis", "n_samples", "n_features", "model", "epochs", "fit_s", "discovery_s",
                "peak_mem_mb", "formula"),
    "stability": ("suite", "dataset", "task", "model", "random_state", "formula", "discovery_s",
                  "fit_s"),
}


def write_csv(rows, path: Path, columns) -> int:
    """Write dict rows as they come (a crash keeps the rows so far); return the count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, restval="")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _cell(v) for k, v in row.items()})
            handle.flush()
            count += 1
    return count


def _cell(value):
    if isinstance(value, float | np.floating):
        return "" if math.isnan(value) else f"{float(value):.6g}"
    return value


def warm_up(suite: Suite, competitors, n_jobs: int) -> None:
    """Fit every competitor once on tiny data so imports and first calls are not timed.

    Networks with a ``max_iter`` train for 2 epochs. A tabular suite's
    competitors warm up on a small table with a category, a boolean and
    missing values, so their encoders' first calls run too.
    """
    X, y = example_table(300) if suite.tabular else scaling_data(300, 5)
    labels = (y > np.median(y)).astype(int)
    for competitor in competitors:
        params = suite.params_for(competitor)
        if competitor.ours or "max_iter" in params:
            params = {**params, "max_iter": 2}
        for task, target in ((REGRESSION, y), (CLASSIFICATION, labels)):
            timed(competitor.build(task, 0, params, n_jobs).fit, X, target)


def run(suite: Suite, out: Path = RESULTS, parts=None, threads: int = 2, note: str = "",
        log=print, command: str | None = None, tag: str = "", reuse=()) -> Path:
    """Run ``parts`` of ``suite`` (default: its own); write the CSVs, summary and plots.

    Returns the summary's path. ``tag`` labels every file written
    (``suite_<suite>_<tag>.csv``, ...), so that an ablation keeps the default
    run's files. The accuracy rows of the models in ``reuse`` are not measured
    again but kept from the existing ``suite_<suite>_<tag>.csv`` (for a model
    that does not depend on skneuron's code, such as RealMLP-TD, which takes
    most of the real suite's time); the context records where they came from.
    """
    parts = suite.parts if parts is None else parts
    name = report.output_name(suite.name, tag)
    kept_rows, kept_from = _reused_rows(out / f"suite_{name}.csv", out / f"context_{name}.json",
                                        reuse, suite)
    started, load_before = time.perf_counter(), load_average()
    if load_before > (os.cpu_count() or 1) - 0.5:
        worst = (f", most of all those of {threads}-thread BLAS/OpenMP code (sklearn's MLP, "
                 "LightGBM)" if threads > 1 else "")
        print(f"note: the machine is busy (load average {load_before:.1f} on {os.cpu_count()} "
              f"CPUs): timings will be polluted{worst}; accuracy is unaffected.", flush=True)
    competitors = available(suite.models, suite.registry)
    with thread_limits(threads):
        warm_up(suite, competitors, threads)
        if "accuracy" in parts:
            fresh = [c for c in competitors if c.name not in kept_from]
            write_csv(itertools.chain(accuracy_rows(suite, fresh, threads, log), kept_rows),
                      out / f"suite_{name}.csv", COLUMNS["suite"])
        if "speed" in parts and suite.speed is not None:
            write_csv(speed_rows(suite.speed, competitors_for_speed(competitors), threads, log),
                      out / f"speed_{name}.csv", COLUMNS["speed"])
        if "scaling" in parts and suite.scaling is not None:
            write_csv(scaling_rows(suite.scaling, competitors, threads, log),
                      out / f"scaling_{name}.csv", COLUMNS["scaling"])
        if "stability" in parts and any(c.name in DISCOVERY_MODELS for c in competitors):
            write_csv(stability_rows(suite, competitors, threads, log),
                      out / f"stability_{name}.csv", COLUMNS["stability"])
    context = run_context(suite, parts, threads, note, time.perf_counter() - started, command)
    context["load_average"] = [round(load_before, 1), round(load_average(), 1)]
    if kept_from and "accuracy" in parts:
        context["reused"] = kept_from
    path = out / f"context_{name}.json"
    earlier = json.loads(path.read_text()).get("taken", {}) if path.exists() else {}
    context["taken"] = {**earlier, **dict.fromkeys(
        [p for p in PARTS if p in parts], context["date_utc"])}  # CSVs of earlier runs stay
    path.write_text(json.dumps(context, indent=1) + "\n")
    return report.write_report(suite.name, out, tag)


def _reused_rows(csv_path: Path, context_path: Path, models, suite: Suite):
    """The earlier accuracy rows of ``models`` and, per model, the run they came from."""
    if not models:
        return [], {}
    if not csv_path.exists():
        raise SystemExit(f"--reuse: no earlier results in {csv_path}")
    with csv_path.open(newline="") as handle:
        rows = [row for row in csv.DictReader(handle)
                if row["model"] in models and row["dataset"] in
                {dataset.name for dataset in suite.datasets}]
    missing = set(models) - {row["model"] for row in rows}
    if missing:
        raise SystemExit(f"--reuse: {csv_path} has no rows of {', '.join(sorted(missing))}")
    earlier = json.loads(context_path.read_text()) if context_path.exists() else {}
    source = earlier.get("reused", {})
    date = earlier.get("taken", {}).get("accuracy", earlier.get("date_utc", "an earlier run"))
    return rows, {model: source.get(model, date) for model in models}


def competitors_for_speed(competitors):
    """The speed targets compare the default TD fit, LN and sklearn's MLP (and LightGBM)."""
    return [c for c in competitors if c.name != "TaskNeuron-SR"]


def run_context(suite: Suite, parts, threads: int, note: str, seconds: float,
                command: str | None) -> dict:
    """What the summary says about how and where the numbers were taken."""
    return {
        "command": command or f"python -m benchmarks.run --suite {suite.name}",
        "parts": list(parts),
        "seeds": list(suite.seeds),
        "threads": threads,
        "cpus": os.cpu_count(),
        "machine": f"{platform.machine()} {platform.system()}",
        "versions": _versions(),
        "network_params": ({} if suite.tabular else
                           {k: str(v) for k, v in
                            shared_network_params(suite.network_overrides).items()}),
        "estimator_params": {k: str(v) for k, v in suite.estimator_params.items()},
        "competitor_params": {name: {k: str(v) for k, v in params.items()}
                              for name, params in suite.competitor_params.items()},
        "tabular": suite.tabular,
        "date_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "run_minutes": round(seconds / 60, 1),
        "note": note,
    }


def _versions() -> str:
    import sklearn
    import torch

    import skneuron

    parts = [f"Python {platform.python_version()}", f"skneuron {skneuron.__version__}",
             f"scikit-learn {sklearn.__version__}", f"torch {torch.__version__}"]
    try:
        import lightgbm

        parts.append(f"lightgbm {lightgbm.__version__}")
    except ImportError:
        parts.append("lightgbm not installed")
    return ", ".join(parts)


def parse_params(pairs) -> dict:
    """``["max_iter=50", "alpha=1e-3"]`` as ``{"max_iter": 50, "alpha": 0.001}``.

    Each value must be a Python literal (a number, a quoted string, a tuple,
    ``None``, ...): it is read with :func:`ast.literal_eval`, never evaluated
    as code.

    Raises
    ------
    ValueError
        For an item without ``=`` or with an empty key, or a value that is not
        a literal (``__import__('os')``, ``1 + 1``, an unquoted word).
    """
    params = {}
    for pair in pairs or ():
        key, sep, text = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--params takes key=value items; got {pair!r}")
        try:
            params[key.strip()] = ast.literal_eval(text.strip())
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            raise ValueError(f"--params {pair!r}: the value is not a Python literal (quote "
                             "a string: \"activation='tanh'\")") from None
    return params


def main(argv=None, default_parts=None, module: str = "benchmarks.run") -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", choices=sorted(SUITES), default="quick")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results directory")
    parser.add_argument("--seeds", type=int, help="number of seeds (0..N-1); default 3")
    parser.add_argument("--only", nargs="+", help="data set names or families to run")
    parser.add_argument("--models", nargs="+", choices=sorted(set(ALL_MODELS + REAL_MODELS)),
                        help="competitors to run")
    parser.add_argument("--parts", nargs="+", choices=PARTS, default=default_parts,
                        help="default: the suite's own (real: accuracy stability)")
    parser.add_argument("--threads", type=int, default=2,
                        help="threads for BLAS, OpenMP, torch and LightGBM (default 2)")
    parser.add_argument("--params", nargs="+", default=[], metavar="KEY=VALUE",
                        help="extra parameters of our estimators (TaskNeuron-*, LinearNeuron), "
                             "as Python literals, e.g. max_iter=50 alpha=1e-3")
    parser.add_argument("--realmlp-epochs", type=int, metavar="N",
                        help="RealMLP-TD's epochs in the real suite (default: the suite's cap; "
                             "256 is RealMLP's own default)")
    parser.add_argument("--tag", default="",
                        help="label of the output files (suite_<suite>_TAG.csv, ...), e.g. for "
                             "an ablation")
    parser.add_argument("--reuse", nargs="+", default=[], metavar="MODEL",
                        choices=sorted(set(ALL_MODELS + REAL_MODELS)),
                        help="keep these models' accuracy rows from the existing results "
                             "instead of measuring them again (e.g. RealMLP-TD)")
    parser.add_argument("--note", default="", help="a line for the summary, e.g. the machine")
    args = parser.parse_args(argv)
    try:
        params = parse_params(args.params)
    except ValueError as error:
        parser.error(str(error))
    suite = get_suite(args.suite, seeds=args.seeds, only=args.only, models=args.models,
                      params=params, realmlp_epochs=args.realmlp_epochs)
    command = f"python -m {module} " + " ".join(
        shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))
    summary = run(suite, args.out, args.parts, args.threads, args.note, command=command.strip(),
                  tag=args.tag, reuse=args.reuse)
    print(f"\nwritten: {summary}")
    return summary


if __name__ == "__main__":
    main()
