"""Searches on parallel engines give the sequential results, without oversubscribed cores.

The Dask and Ray tests start real local clusters (worker processes) and are
skipped when the ``dask`` / ``ray`` extras are not installed.
"""

import logging
import sys
import warnings

import joblib
import numpy as np
import pytest
import torch
from scipy.stats import loguniform
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV, cross_validate

from skneuron import TaskNeuronClassifier, TaskNeuronRegressor
from skneuron.training import observe_epochs

FAST = {"hidden_layer_sizes": (8,), "max_iter": 3, "batch_size": 32, "random_state": 0}
GRID = {"alpha": [1e-4, 1e-1], "hidden_layer_sizes": [(4,), (8,)]}
CV = 2


# Short test fits stop at max_iter on purpose.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def data():
    X, y = make_regression(120, 4, noise=5.0, random_state=0)
    Xc, yc = make_classification(150, 4, n_informative=3, n_redundant=0, random_state=0)
    return X, y, Xc, np.array(["a", "b"])[yc]


def threads_during_training(estimator=None, n_features=40):
    """Torch threads seen inside the epochs of a fit, by default one large enough to use
    several."""
    # batch_size × widest layer input (4096 × 40) is above the one-thread cut-off.
    X = np.random.default_rng(0).standard_normal((64, n_features))
    if estimator is None:
        estimator = TaskNeuronRegressor(formula="x", hidden_layer_sizes=(4,), batch_size=4096,
                                        max_iter=2, random_state=0)
    seen = []
    with warnings.catch_warnings(), observe_epochs(lambda _: seen.append(torch.get_num_threads())):
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(X, X[:, 0])
    return max(seen)


def searches(data):
    """The searches every engine runs; each returns comparable numbers."""
    X, y, Xc, yc = data
    regressor = TaskNeuronRegressor(**FAST, formula="x + x**2 + inter(2, rank=2)")
    grid = GridSearchCV(regressor, GRID, cv=CV, n_jobs=-1)
    randomized = RandomizedSearchCV(  # discovers a formula in every fit
        TaskNeuronClassifier(**FAST), {"alpha": loguniform(1e-5, 1e-1)}, n_iter=2, cv=CV,
        random_state=0, n_jobs=-1, scoring={"score": "accuracy", "threads": _torch_threads},
        refit="score",
    )
    return {
        "grid": lambda: _scores(grid.fit(X, y)),
        "randomized": lambda: _scores(randomized.fit(Xc, yc)),
        # Where each fit ran: a worker's torch threads, which bound its training's (thread_budget).
        "threads": lambda: _scores(randomized, "threads"),
        "cross_validate": lambda: cross_validate(regressor, X, y, cv=CV, n_jobs=-1)["test_score"],
    }


def _torch_threads(estimator, X, y):
    """A scorer: the torch threads of the process (or worker) that fitted ``estimator``."""
    return torch.get_num_threads()


def _scores(search, metric="score"):
    return np.array([search.cv_results_[f"split{i}_test_{metric}"] for i in range(CV)])


@pytest.fixture(scope="module")
def sequential(data):
    with joblib.parallel_backend("sequential"):
        return {name: run() for name, run in searches(data).items()}


def _assert_same_as_sequential(results, sequential):
    """The same scores as the sequential run, from workers that share the cores (two
    workers, so at most half the cores' threads each: one on a two-core machine)."""
    assert results.pop("threads").max() <= max(1, joblib.cpu_count() // 2)
    for name, scores in results.items():
        # Same seeds, same single-threaded float arithmetic: the same scores.
        np.testing.assert_allclose(scores, sequential[name], rtol=1e-10, err_msg=name)


@pytest.fixture
def two_threads():
    """Two torch threads in this process, as on a two-core machine outside the test
    workers (which get one each): a fit that uses one then shows it."""
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def test_a_fit_in_a_threading_worker_uses_one_torch_thread(two_threads):
    in_workers = joblib.Parallel(n_jobs=2, backend="threading")(
        joblib.delayed(threads_during_training)() for _ in range(2)
    )
    assert in_workers == [1, 1]
    assert threads_during_training() == 2


def test_the_default_network_trains_on_every_thread_and_a_tiny_one_on_one(two_threads):
    default = TaskNeuronRegressor(formula="x", max_iter=2, random_state=0)
    tiny = TaskNeuronRegressor((8,), formula="x", n_members=1, max_iter=2, random_state=0)
    assert threads_during_training(default, n_features=6) == 2
    assert threads_during_training(tiny, n_features=6) == 1


def test_a_fit_follows_threadpoolctl_limits(two_threads):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    with threadpoolctl.threadpool_limits(1):
        assert threads_during_training() == 1


def test_loky_search_matches_sequential(data, sequential):
    # scikit-learn's default engine for n_jobs: worker processes on this machine
    with joblib.parallel_backend("loky", n_jobs=2):
        results = {name: run() for name, run in searches(data).items()}
    _assert_same_as_sequential(results, sequential)


def _pickle_this_module_by_value(cloudpickle):
    """Workers cannot import this test module; send its functions by value."""
    cloudpickle.register_pickle_by_value(sys.modules[__name__])


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed")
    _pickle_this_module_by_value(pytest.importorskip("cloudpickle"))
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None, silence_logs=logging.ERROR)
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def test_dask_search_matches_sequential(data, sequential, dask_client):
    assert len(dask_client.scheduler_info()["workers"]) == 2
    with joblib.parallel_backend("dask"):
        results = {name: run() for name, run in searches(data).items()}
    _assert_same_as_sequential(results, sequential)


@pytest.fixture(scope="module")
def ray_backend():
    ray = pytest.importorskip("ray")
    from ray.util.joblib import register_ray

    _pickle_this_module_by_value(ray.cloudpickle)

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             logging_level=logging.ERROR)
    register_ray()
    yield
    ray.shutdown()


def test_ray_search_matches_sequential(data, sequential, ray_backend):
    # One search: each joblib call on Ray starts its own worker processes (seconds each),
    # and this one discovers a formula in every fit.
    runs = searches(data)
    with joblib.parallel_backend("ray", n_jobs=2):
        results = {"randomized": runs["randomized"](), "threads": runs["threads"]()}
    _assert_same_as_sequential(results, sequential)
