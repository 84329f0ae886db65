"""Reliability, part 2: numerical faults, interruption, memory and determinism.

What happens *during* a fit: a loss that explodes, a Ctrl-C, very wide or very
long data, parallel workers. Bad inputs and parameters are in
``test_reliability.py``.
"""

import pickle
import tracemalloc
import warnings

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from torch.utils._python_dispatch import TorchDispatchMode

import skneuron._estimators as estimators
from skneuron import NeuronFormula, TaskNeuronClassifier, TaskNeuronRegressor
from skneuron.training import fit_network

FAST = {"hidden_layer_sizes": (8,), "max_iter": 5, "batch_size": 32, "random_state": 0}


def data(n=200, d=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    return X, X[:, 0] + 0.5 * X[:, 1] ** 2


# ------------------------------------------------------------ numerical faults
@pytest.fixture(scope="module")
def unscaled():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 4)) * 1000 + 50
    return X, X[:, 0] ** 3 + X[:, 1]


def test_a_loss_that_becomes_non_finite_restores_the_best_finite_weights(unscaled):
    """High-order powers on unscaled data with a huge learning rate: NaN in epoch 2."""
    X, y = unscaled
    reg = TaskNeuronRegressor(formula="x + x**6 + inter(3)", hidden_layer_sizes=(8,),
                              learning_rate_init=1e4, max_iter=20, random_state=0)
    with pytest.warns(ConvergenceWarning,
                      match=r"NaN or infinite in epoch 2; the best finite weights were restored "
                            r"\(epoch 0: the initial.*\)\. Lower learning_rate_init \(now 10000\)"):
        reg.fit(X, y)
    assert reg.n_iter_ == 1 and np.isfinite(reg.loss_curve_).all()
    assert all(torch.isfinite(p).all() for p in reg.network_.parameters())
    # Epoch 1 already wrecked the weights (its averaged loss hides it): the initial
    # weights are kept, which predict about the mean instead of values ~1e32.
    assert_standardised_loss_below(reg, X, y, 10.0)


def test_a_loss_that_explodes_but_stays_finite_restores_the_best_weights(unscaled):
    X, y = unscaled
    # Without early stopping, which restores the best epoch whatever happened.
    reg = TaskNeuronRegressor(formula="x + x**6 + inter(3)", hidden_layer_sizes=(8,),
                              learning_rate_init=100.0, max_iter=20, early_stopping=False,
                              random_state=0)
    with pytest.warns(ConvergenceWarning, match=r"diverged: the loss rose from .*; the best "
                                                r"finite weights were restored"):
        reg.fit(X, y)
    assert max(reg.loss_curve_) > 1e20 * min(reg.loss_curve_)  # it did explode
    assert_standardised_loss_below(reg, X, y, 10.0)


def assert_standardised_loss_below(reg, X, y, bound):
    """The regressor's training loss (on the standardised target) at its final weights."""
    standardised = (y - y.mean()) / y.std()
    loss = 0.5 * np.mean(((reg.predict(X) - y.mean()) / y.std() - standardised) ** 2)
    assert np.isfinite(loss) and loss < bound


def test_fit_network_leaves_ordinary_noisy_training_alone():
    """Divergence needs a large rise: a loss that wobbles near its best is kept as is."""
    g = torch.Generator().manual_seed(0)
    X = torch.randn(256, 3, generator=g)
    Y = X @ torch.tensor([[1.0], [-2.0], [0.5]]) + torch.randn(256, 1, generator=g)
    net = torch.nn.Linear(3, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        result = fit_network(net, X, Y, loss_fn=lambda o, t: (o - t).square().mean(dim=1),
                             learning_rate=0.05, max_iter=200, n_iter_no_change=3,
                             generator=torch.Generator().manual_seed(0))
    assert result.stop_reason == "converged"


@pytest.mark.parametrize("discovery", ["td", "sr"])
def test_discovery_that_selects_no_term_falls_back_to_the_linear_neuron(discovery):
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((200, 3)), rng.standard_normal(200)  # y unrelated to X
    params = {"generations": 2, "population_size": 30} if discovery == "sr" else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with pytest.warns(UserWarning, match="found no informative term.*linear neuron is used"):
            reg = TaskNeuronRegressor(**FAST, discovery=discovery, periodic=0,
                                      discovery_params=params).fit(X, y)
    assert reg.formula_ == NeuronFormula()
    assert reg.discovery_.formula == NeuronFormula()


# ---------------------------------------------------------------- interruption
def test_keyboard_interrupt_in_training_keeps_a_usable_picklable_model(monkeypatch):
    """Ctrl-C at epoch 3: a pickle written during training and one written after both load."""
    X, y = data()
    reg = TaskNeuronRegressor(**{**FAST, "max_iter": 50}, learning_rate_init=0.01, verbose=True)
    pickles = []

    def checkpoint_then_interrupt(report):
        pickles.append(pickle.dumps(reg))  # what a checkpoint callback would write
        if report.epoch == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(estimators, "print_progress", checkpoint_then_interrupt)
    with pytest.warns(UserWarning, match="interrupted after 3 epochs; keeping the best"):
        reg.fit(X, y)
    assert reg.n_iter_ == len(reg.loss_curve_) == 3
    predictions = reg.predict(X)
    assert np.isfinite(predictions).all()
    assert reg.score(X, y) > 0  # better than the mean: three epochs of training were kept

    after = pickle.loads(pickle.dumps(reg))
    np.testing.assert_array_equal(after.predict(X), predictions)
    during = pickle.loads(pickles[-1])  # written inside epoch 3, before the interrupt
    assert np.isfinite(during.predict(X)).all()
    assert during.formula_ == reg.formula_


@pytest.mark.parametrize("already_fitted", [False, True])
def test_keyboard_interrupt_in_discovery_leaves_the_estimator_as_it_was(monkeypatch,
                                                                         already_fitted):
    X, y = data()
    reg = TaskNeuronRegressor(**FAST)
    before = None
    if already_fitted:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            before = reg.fit(X, y).predict(X)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(estimators, "discover_formula", interrupted)
    X_new = np.hstack([X, X])  # a refit on other data would reset n_features_in_
    with pytest.raises(KeyboardInterrupt):
        reg.fit(X_new, y)
    if already_fitted:
        assert reg.n_features_in_ == 4
        np.testing.assert_array_equal(reg.predict(X), before)
    else:
        with pytest.raises(NotFittedError):
            reg.predict(X)


# ------------------------------------------------------------- resource bounds
class LargestTensor(TorchDispatchMode):
    """Records the largest tensor any torch operation creates."""

    def __init__(self):
        super().__init__()
        self.numel = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for tensor in torch.utils._pytree.tree_leaves(out):
            if isinstance(tensor, torch.Tensor):
                self.numel = max(self.numel, tensor.numel())
        return out


def test_two_thousand_features_never_materialise_a_d_squared_array():
    """Discovery, training and predict at D = 2000 stay O(n·D + params).

    numpy allocations are traced by ``tracemalloc``; torch's are seen operation
    by operation. One D×D float64 array is 32 MB (D³: 64 GB); the data, n × D
    floats, are 1 MB, and the pipeline holds about nine arrays of that order at
    once (standardised copies, the discovery design of 1 + 2·D columns, its
    per-fold row subsets). 64 rows are just above discovery's minimum of 60.
    """
    n_features, n_rows = 2000, 64
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n_rows, n_features))
    y = X[:, 0] + X[:, 1] ** 2
    reg = TaskNeuronRegressor(hidden_layer_sizes=(8,), max_order=2, max_iter=3,
                              random_state=0)
    # Warm up on narrow data first: tracemalloc also counts the Python objects of
    # modules imported lazily on the first fit (tens of MB).
    with LargestTensor(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clone(reg).fit(X[:, :20], y).predict(X[:, :20])
    spy = LargestTensor()
    tracemalloc.start()
    try:
        with spy, warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.filterwarnings("ignore", "TD discovery found no informative term")
            reg.fit(X, y)
            predictions = reg.predict(X)
        numpy_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert reg.discovery_.details["n_samples"] == n_rows  # discovery searched (not skipped)
    assert np.isfinite(predictions).all()
    d_squared = n_features**2
    assert spy.numel < d_squared / 4
    assert numpy_peak < d_squared * 8 / 2


def test_predict_on_a_million_rows_works_in_bounded_chunks():
    X, y = data(n=500, d=2)
    reg = TaskNeuronRegressor(formula="x + x**2", hidden_layer_sizes=(16,), max_iter=2,
                              random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X, y)
    big = np.random.default_rng(1).standard_normal((1_000_000, 2))
    spy = LargestTensor()
    tracemalloc.start()
    try:
        with spy:
            predictions = reg.predict(big)
        numpy_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert predictions.shape == (1_000_000,)
    assert np.isfinite(predictions).all()
    # No torch tensor spans the rows (a hidden activation of all rows is 16·10⁶ values),
    # and numpy holds little more than the input (16 MB) and output (8 MB) arrays.
    assert spy.numel <= estimators.PREDICT_CHUNK_ROWS * 16
    assert numpy_peak < 3 * big.nbytes
    # Chunking does not change the result: a slice across a chunk boundary, in one shot.
    edge = estimators.PREDICT_CHUNK_ROWS
    np.testing.assert_allclose(predictions[edge - 5 : edge + 5],
                               reg.predict(big[edge - 5 : edge + 5]), rtol=1e-12)


def test_wide_networks_predict_in_smaller_chunks():
    X, y = data(n=100, d=600)
    reg = TaskNeuronRegressor(formula="x + x**2 + x**3", hidden_layer_sizes=(4,), max_iter=1,
                              random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X, y)
    rows = estimators._predict_chunk_rows(reg.network_)
    assert rows * 3 * 600 <= estimators.PREDICT_CHUNK_VALUES < estimators.PREDICT_CHUNK_ROWS * 1800


# ----------------------------------------------------------------- determinism
def fit_and_predict(Estimator, X, y, params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = Estimator(**params).fit(X, y)
    return est.formula_, est.predict(X)


@pytest.mark.parametrize("Estimator", [TaskNeuronRegressor, TaskNeuronClassifier])
def test_same_random_state_same_fit_inside_joblib_workers(Estimator):
    X, y = data(n=300)
    if Estimator is TaskNeuronClassifier:
        y = np.digitize(y, [0.0, 1.0])
    params = {**FAST, "random_state": 7}
    here = fit_and_predict(Estimator, X, y, params)
    workers = joblib.Parallel(n_jobs=2)(
        joblib.delayed(fit_and_predict)(Estimator, X, y, params) for _ in range(2))
    for formula, predictions in workers:
        assert formula == here[0]
        np.testing.assert_array_equal(predictions, here[1])


def test_sr_discovery_result_does_not_depend_on_n_jobs(monkeypatch):
    import skneuron.discovery.sr._library as sr_library

    parallel_calls = []

    class CountingParallel(sr_library.Parallel):
        def __call__(self, iterable):
            parallel_calls.append(self.n_jobs)
            return super().__call__(iterable)

    monkeypatch.setattr(sr_library, "Parallel", CountingParallel)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((1000, 60))  # big enough that new terms are evaluated in threads
    y = np.sin(X).sum(axis=1) + X.sum(axis=1)
    base = {**FAST, "discovery": "sr", "max_iter": 2}
    search = {"generations": 2, "population_size": 100}
    serial = fit_and_predict(TaskNeuronRegressor, X, y, {**base, "discovery_params": search})
    assert parallel_calls == []
    threaded = fit_and_predict(TaskNeuronRegressor, X, y,
                               {**base, "discovery_params": {**search, "n_jobs": 2}})
    assert parallel_calls and set(parallel_calls) == {2}
    assert serial[0] == threaded[0]
    np.testing.assert_array_equal(serial[1], threaded[1])
