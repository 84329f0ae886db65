"""Time one hyperparameter search sequentially, on a local Dask cluster and on Ray.

The search: ``GridSearchCV`` over four settings of ``TaskNeuronRegressor``
(``alpha`` × ``hidden_layer_sizes``), 3-fold, on friedman1 with 2000 rows and
discovery in every fit. It runs three ways on this machine:

- sequentially (``n_jobs=1``);
- under ``joblib.parallel_backend("dask")`` with a ``LocalCluster`` of two
  worker processes, one thread each — timed cold (the first search on fresh
  workers, which import torch) and warm (a second search);
- under Ray's joblib backend (``ray.init(num_cpus=2)``), cold and warm.

Each parallel run's ``cv_results_`` scores are checked against the sequential
run's. Cluster start-up is reported separately. Needs the ``dask`` and ``ray``
extras; an engine that is not installed is skipped with a note.

Run ``python -m benchmarks.distributed``; the table is printed and written to
``benchmarks/results/distributed.md``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import time
import warnings
from pathlib import Path

import joblib
import numpy as np
from sklearn.datasets import make_friedman1
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from skneuron import TaskNeuronRegressor

RESULTS = Path(__file__).parent / "results"
GRID = {"alpha": [1e-4, 1e-2], "hidden_layer_sizes": [(32,), (64,)]}


def search() -> GridSearchCV:
    return GridSearchCV(TaskNeuronRegressor(max_iter=30, random_state=0), GRID, cv=3, n_jobs=-1)


def timed_search(X, y) -> tuple[float, np.ndarray]:
    start = time.perf_counter()
    fitted = search().fit(X, y)
    return time.perf_counter() - start, fitted.cv_results_["mean_test_score"]


@contextlib.contextmanager
def dask_backend():
    from dask.distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster):
        with joblib.parallel_backend("dask"):
            yield


@contextlib.contextmanager
def ray_backend():
    import ray
    from ray.util.joblib import register_ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    register_ray()
    try:
        with joblib.parallel_backend("ray"):
            yield
    finally:
        ray.shutdown()


def main() -> str:
    warnings.simplefilter("ignore", ConvergenceWarning)
    X, y = make_friedman1(n_samples=2000, n_features=10, noise=0.5, random_state=0)
    with joblib.parallel_backend("sequential"):
        sequential_s, reference = timed_search(X, y)
    rows = [f"| sequential (n_jobs=1) | – | {sequential_s:.1f} | {sequential_s:.1f} | reference |"]
    notes = []
    for name, package, backend in [("Dask LocalCluster, 2 processes", "distributed", dask_backend),
                                   ("Ray, num_cpus=2", "ray", ray_backend)]:
        if importlib.util.find_spec(package) is None:
            notes.append(f"{name}: skipped, `{package}` is not installed.")
            continue
        start = time.perf_counter()
        with backend():
            startup_s = time.perf_counter() - start
            cold_s, cold_scores = timed_search(X, y)
            warm_s, warm_scores = timed_search(X, y)
        same = np.allclose(cold_scores, reference, rtol=1e-10) and np.allclose(
            warm_scores, reference, rtol=1e-10)
        rows.append(f"| {name} | {startup_s:.1f} | {cold_s:.1f} | {warm_s:.1f} | "
                    f"{'identical' if same else '**differ**'} |")
    lines = [
        "# A search on parallel engines",
        "",
        f"`GridSearchCV` over {len(GRID['alpha']) * len(GRID['hidden_layer_sizes'])} settings × "
        "3 folds of `TaskNeuronRegressor(max_iter=30)` (discovery in every fit), friedman1 "
        f"2000 × 10, on {os.cpu_count()} CPUs. Seconds of wall-clock time; 'cold' is the first "
        "search on fresh workers (they import torch), 'warm' a second one. "
        "Command: `python -m benchmarks.distributed`.",
        "",
        "| engine | start-up s | search s (cold) | search s (warm) | scores vs sequential |",
        "|---|---|---|---|---|",
        *rows,
        *([""] + notes if notes else []),
    ]
    table = "\n".join(lines)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "distributed.md").write_text(table + "\n")
    return table


if __name__ == "__main__":  # the Dask workers re-import this module
    print(main())
