"""The GPU path on a machine without one: devices checked, pickles detached, passes bounded.

GPUs are stood in for (``tests/conftest.py``): torch reporting CUDA devices,
a network whose tensors report a CUDA device, and a device without float64
(MPS) as the CPU with float64 declared missing.
"""

import copy
import io
import os
import pickle
import warnings

import joblib
import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification, make_regression
from sklearn.utils._param_validation import InvalidParameterError

import skneuron
import skneuron._device as device_module
import skneuron._estimators as estimators
import skneuron.training as training
from skneuron import TaskNeuronClassifier, TaskNeuronRegressor
from skneuron._device import cpu_copy, place, resolve_device, usable_device
from skneuron.training import observe_epochs
from test_reliability_runtime import LargestTensor

FAST = {"hidden_layer_sizes": (8,), "max_iter": 4, "batch_size": 32, "random_state": 0,
        "device": "cpu"}
CPU, CUDA = torch.device("cpu"), torch.device("cuda")

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def data():
    X, y = make_regression(200, 4, noise=1.0, random_state=0)
    return X, y


@pytest.fixture
def fitted(data):
    return TaskNeuronRegressor(**FAST, formula="x + x**2").fit(*data)


# ------------------------------------------------- item 1: pickling keeps the live network
def _dump_with_pickle(est):
    return pickle.loads(pickle.dumps(est))


def _dump_with_joblib(est):
    buffer = io.BytesIO()
    joblib.dump(est, buffer)
    buffer.seek(0)
    return joblib.load(buffer)


@pytest.mark.parametrize("dump", [_dump_with_pickle, copy.deepcopy, _dump_with_joblib],
                         ids=["pickle", "deepcopy", "joblib"])
def test_pickling_a_gpu_model_leaves_its_live_network_on_the_gpu(fitted, data, fake_cuda,
                                                                  dump):
    X, _ = data
    expected = fitted.predict(X)
    network, fitted.device_ = fitted.network_, CUDA  # as if fitted on a GPU
    with fake_cuda(network):
        assert next(network.parameters()).device.type == "cuda"  # the stand-in works
        with pytest.warns(UserWarning, match="trained on CUDA, which is not available"):
            copied = dump(fitted)
        assert fitted.network_ is network and fitted.device_ == CUDA
        assert next(fitted.network_.parameters()).device.type == "cuda"
        assert all(t.device == CPU for t in copied.network_.state_dict().values())
    assert copied.device_ == CPU and copied.network_ is not network
    np.testing.assert_array_equal(copied.predict(X), expected)


def test_a_checkpoint_pickled_during_fit_does_not_detach_the_trained_network(data, fake_cuda):
    X, y = data
    params = {**FAST, "max_iter": 6}
    reference = TaskNeuronRegressor(**params).fit(X, y).predict(X)
    reg, checkpoints = TaskNeuronRegressor(**params), []

    def checkpoint(report):
        with fake_cuda(reg.network_):  # the network being trained, as if on a GPU
            checkpoints.append(pickle.dumps(reg))

    with observe_epochs(checkpoint):
        reg.fit(X, y)
    assert len(checkpoints) == 6
    np.testing.assert_array_equal(reg.predict(X), reference)
    np.testing.assert_array_equal(pickle.loads(checkpoints[-1]).predict(X), reference)


def test_cpu_copy_leaves_the_original_and_shares_nothing(fitted):
    network = fitted.network_
    before = {k: v.clone() for k, v in network.state_dict().items()}
    copied = cpu_copy(network)
    with torch.no_grad():
        next(copied.parameters()).add_(1.0)
    for key, value in network.state_dict().items():
        assert torch.equal(value, before[key]), key
    assert next(copied.parameters()).requires_grad


# ------------------------------------------- items 2 and 4: one resolve_device, checked
def test_a_cuda_index_beyond_the_machines_gpus_is_refused(fake_gpus):
    fake_gpus(1)
    assert resolve_device("cuda:0") == torch.device("cuda", 0)
    assert resolve_device("auto") == CUDA
    with pytest.raises(ValueError, match=r"'cuda:7' .* has 1 CUDA device \(cuda:0\)"):
        resolve_device("cuda:7")
    fake_gpus(0)
    with pytest.raises(ValueError, match="CUDA is not available here"):
        resolve_device("cuda")
    assert resolve_device("auto") == CPU


@pytest.mark.parametrize("name, message", [
    ("mps", "MPS is not available here"),
    ("meta", "the meta device holds no data"),
    ("xpu", "torch cannot place a tensor there"),
    ("gpu-please", "not a device torch knows"),
])
def test_devices_that_cannot_hold_a_model_here_are_refused(name, message):
    if name == "mps" and torch.backends.mps.is_available():
        pytest.skip("this machine has MPS")
    if name == "xpu" and hasattr(torch, "xpu") and torch.xpu.is_available():
        pytest.skip("this machine has an XPU")
    with pytest.raises(ValueError, match=message):
        resolve_device(name)


@pytest.mark.parametrize("device", ["mps", "cuda:3", "meta"])
def test_fit_refuses_an_unusable_device_before_discovery(data, monkeypatch, fake_gpus, device):
    fake_gpus(1)

    def discovery_must_not_run(*args, **kwargs):
        raise AssertionError("discovery ran before the device was checked")

    monkeypatch.setattr(estimators, "discover_formula", discovery_must_not_run)
    if device == "mps" and torch.backends.mps.is_available():
        pytest.skip("this machine has MPS")
    with pytest.raises(InvalidParameterError, match=f"'device' parameter .*{device}"):
        TaskNeuronRegressor(**{**FAST, "device": device}).fit(*data)


def test_a_model_from_a_missing_cuda_index_goes_to_the_current_gpu(fake_gpus):
    fake_gpus(1)
    with pytest.warns(UserWarning, match="trained on 'cuda:1', and this machine has 1 CUDA"):
        assert usable_device(torch.device("cuda:1")) == CUDA
    fake_gpus(0)
    with pytest.warns(UserWarning, match="trained on CUDA, which is not available here; "
                                         "it was loaded on the CPU"):
        assert usable_device(torch.device("cuda:1")) == CPU


@pytest.mark.parametrize("device", ["mps", "xpu:0"])
def test_a_model_from_any_missing_device_unpickles_on_the_cpu(fitted, data, device):
    if device == "mps" and torch.backends.mps.is_available():
        pytest.skip("this machine has MPS")
    X, _ = data
    expected = fitted.predict(X)
    fitted.device_ = torch.device(device)
    with pytest.warns(UserWarning, match=f"trained on device '{device}', which is not available"):
        loaded = pickle.loads(pickle.dumps(fitted))
    assert loaded.device_ == CPU
    np.testing.assert_array_equal(loaded.predict(X), expected)


# ----------------------------------------------- item 2: a device without float64 (MPS)
@pytest.fixture
def no_float64(monkeypatch):
    """The CPU as a device without float64: what MPS is to skneuron."""
    monkeypatch.setattr(device_module, "supports_float64", lambda device: False)


@pytest.mark.parametrize("Estimator", [TaskNeuronRegressor, TaskNeuronClassifier])
def test_a_device_without_float64_fits_and_predicts_in_float32(no_float64, Estimator, tmp_path):
    X, y = make_classification(200, 5, n_informative=3, random_state=0)
    if Estimator is TaskNeuronRegressor:
        y = X @ np.arange(5.0) + 1000.0
    small = Estimator(**FAST).fit(X[:40], y[:40])  # float64 on a device that has it
    assert next(small.network_.body.parameters()).dtype == torch.float32
    est = Estimator(**FAST).fit(X, y)
    network = est.network_
    floats = [t for t in network.state_dict().values() if t.is_floating_point()]
    assert {t.dtype for t in floats} == {torch.float32}
    predict = est.predict if Estimator is TaskNeuronRegressor else est.predict_proba
    predictions = predict(X)
    assert predictions.dtype == np.float64
    unpickled = pickle.loads(pickle.dumps(est))
    est.save(tmp_path / "m.skn")
    loaded = skneuron.load(tmp_path / "m.skn")
    assert loaded.network_.inputs.center.dtype == torch.float32
    for restored in (unpickled, loaded):
        predict = restored.predict if Estimator is TaskNeuronRegressor else restored.predict_proba
        np.testing.assert_array_equal(predict(X), predictions)


def test_float32_input_stage_predicts_close_to_the_float64_one(data, monkeypatch):
    X, y = data
    y = y + 1e4  # far from standard scale: the output scaling matters
    wide = TaskNeuronRegressor(**FAST).fit(X, y)
    monkeypatch.setattr(device_module, "supports_float64", lambda device: False)
    narrow = TaskNeuronRegressor(**FAST).fit(X, y)
    assert narrow.network_.inputs.center.dtype == torch.float32
    np.testing.assert_allclose(narrow.predict(X), wide.predict(X), rtol=1e-5)
    monkeypatch.undo()  # the float32 model on a machine with float64: it stays float32
    loaded = pickle.loads(pickle.dumps(narrow))
    assert loaded.network_.inputs.center.dtype == torch.float32
    np.testing.assert_array_equal(loaded.predict(X), narrow.predict(X))


def test_place_casts_only_where_float64_is_missing(fitted, no_float64):
    place(fitted.network_, CPU)
    assert fitted.network_.inputs.center.dtype == torch.float32
    assert fitted.network_.output_scale.dtype == torch.float32


# --------------------------------------------------- item 4: passes sized for the device
def test_predict_chunks_are_large_on_an_accelerator_and_cache_sized_on_the_cpu(fitted):
    network = fitted.network_
    on_cpu = estimators._predict_chunk_rows(network, CPU)
    on_gpu = estimators._predict_chunk_rows(network, CUDA)
    assert on_cpu <= estimators.PREDICT_CHUNK_ROWS
    assert on_gpu >= 16 * on_cpu
    assert on_gpu * device_module.activation_width(network) <= device_module.ACCELERATOR_PASS_VALUES
    assert on_gpu % estimators.PREDICT_ROW_BLOCK == 0


def test_member_networks_count_every_members_activations():
    net = skneuron.nn.TaskNeuronNetwork(10, 1, "x", hidden_layer_sizes=(50,), members=4)
    assert device_module.activation_width(net) == 4 * 50


def test_validation_on_an_accelerator_runs_in_bounded_passes(monkeypatch):
    assert training._validation_chunk_rows(torch.nn.Linear(4, 1), CPU) is None  # as before
    assert training._validation_chunk_rows(torch.nn.Linear(1 << 13, 1), CUDA) == 1 << 11
    X, Y = torch.randn(2000, 4), torch.randn(2000, 1)
    net = torch.nn.Sequential(torch.nn.Linear(4, 32), torch.nn.ReLU(), torch.nn.Linear(32, 1))
    validation = (torch.randn(3000, 4), torch.randn(3000, 1))

    def r2(outputs, targets):
        return 1 - (outputs - targets).square().sum() / targets.square().sum()

    whole = training._score(net, validation, r2)
    monkeypatch.setattr(training, "_validation_chunk_rows", lambda module, device: 256)
    spy = LargestTensor()
    with spy:
        chunked = training._score(net, validation, r2, 256)
    assert spy.numel <= 256 * 32  # a hidden activation of 256 rows, never of all 3000
    assert chunked == pytest.approx(whole, rel=1e-5)
    result = training.fit_network(net, X, Y, loss_fn=lambda o, t: (o - t).square().mean(1),
                                  validation=validation, score_fn=r2, max_iter=2,
                                  batch_size=500)
    assert len(result.validation_scores) == 2


def test_members_validation_chunks_keep_the_member_dimension():
    net = skneuron.nn.TaskNeuronNetwork(3, 1, "x", hidden_layer_sizes=(4,), members=2)
    X, Y = torch.randn(50, 3), torch.randn(50, 1)
    weights = torch.ones(2, 50)

    def per_member(outputs, targets, w):
        return ((outputs - targets).square().squeeze(-1) * w).sum(-1)

    whole = training._score(net, (X, Y, weights), per_member)
    chunked = training._score(net, (X, Y, weights), per_member, 16)
    np.testing.assert_allclose(chunked, whole, rtol=1e-5)


# ------------------------------------------------------------ item 3: the default run
def test_the_default_run_hides_cuda(pytestconfig):
    if pytestconfig.getoption("--gpu"):
        pytest.skip("--gpu keeps CUDA visible")
    assert os.environ["CUDA_VISIBLE_DEVICES"] == ""
    assert resolve_device("auto") == CPU
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not torch.cuda.is_available()
