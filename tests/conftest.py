"""What keeps the default test run device-independent, and stand-ins for GPUs.

The suite asserts what skneuron promises on the CPU: an int ``random_state``
gives the same bits in every fit, in every process and however rows are
batched. CUDA does not promise that (its kernels may sum in any order), so on
a machine with a GPU the default ``device="auto"`` would train many tests on
the GPU and hold them to promises it does not make. So the default run hides
CUDA (``CUDA_VISIBLE_DEVICES=""``, set before torch first looks for a GPU and
inherited by the command-line tests' subprocesses and joblib's workers):
``"auto"`` means the CPU everywhere, whatever the machine.

``pytest --gpu -m gpu`` keeps the GPUs visible and runs the tests marked
``gpu``: the checks of ``benchmarks.gpu_check`` on CUDA, at small sizes
(``python -m benchmarks.gpu_check`` is the full check). Without ``-m gpu``
the other tests then train on the GPU under ``"auto"``: the estimator,
persistence and loading tests that assert CPU-only promises name
``device="cpu"`` themselves, but others still assert them under ``"auto"``
(parallel and worker determinism, exact comparisons of two fits), so a whole
``--gpu`` run is not expected to pass.

The fixtures stand in for GPUs on a machine without one: :func:`fake_gpus`
makes torch report CUDA devices, :func:`fake_cuda` makes a network's tensors
report a CUDA device.
"""

from __future__ import annotations

import contextlib
import itertools
import os

import pytest
import torch


def pytest_addoption(parser):
    parser.addoption("--gpu", action="store_true", default=False,
                     help="keep CUDA visible (device='auto' trains on the GPU) and run the "
                          "tests marked gpu")


def pytest_configure(config):
    config.addinivalue_line("markers", "gpu: needs a CUDA device; runs with --gpu only")
    if not config.getoption("--gpu"):
        os.environ["CUDA_VISIBLE_DEVICES"] = ""
    # pytest-xdist workers share the cores, as joblib's workers do: each gets its share
    # of torch threads (as loky sets OMP_NUM_THREADS), or fits oversubscribe the cores.
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1:
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // workers))


def pytest_collection_modifyitems(config, items):
    if config.getoption("--gpu"):
        return
    skip = pytest.mark.skip(reason="needs --gpu (and a CUDA device)")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


def pytest_report_header(config):
    shown = "visible (--gpu)" if config.getoption("--gpu") else "hidden (run with --gpu to use it)"
    return f"skneuron devices: CUDA {shown}; device='auto' here is {_auto_device()}"


def _auto_device() -> str:
    from skneuron._device import resolve_device

    return str(resolve_device("auto"))


@pytest.fixture
def fake_gpus(monkeypatch):
    """``fake_gpus(n)``: torch reports ``n`` CUDA devices (none can hold a tensor)."""
    def pretend(count: int) -> None:
        monkeypatch.setattr(torch.cuda, "is_available", lambda: count > 0)
        monkeypatch.setattr(torch.cuda, "device_count", lambda: count)
    return pretend


@pytest.fixture
def fake_cuda():
    """``with fake_cuda(module):`` the module's tensors report device ``cuda:0``.

    Everything else about them stays (they are CPU tensors), and so do other
    tensors — also copies of them, which own other memory. A stand-in for a
    network that lives on a GPU, for code that asks tensors where they are.
    """
    real = torch._C.TensorBase.device

    @contextlib.contextmanager
    def pretend(module: torch.nn.Module):
        owned = {t.untyped_storage().data_ptr()
                 for t in itertools.chain(module.parameters(), module.buffers())} - {0}

        def device(tensor):
            actual = real.__get__(tensor)
            if actual.type == "cpu" and tensor.untyped_storage().data_ptr() in owned:
                return torch.device("cuda", 0)
            return actual

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(torch.Tensor, "device", property(device))
            yield
    return pretend
