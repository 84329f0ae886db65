"""Which device a model trains and lives on here, and the precision it computes in there.

One function says whether a device can be used: :func:`resolve_device`. ``fit``
calls it for the ``device`` parameter, before discovery runs, and
:func:`usable_device` calls it for a model that unpickling or
:func:`skneuron.load` brings from another machine, falling back to a device
that exists here.

The estimators' input stage and output scaling run in float64 around a float32
body. A device without float64 (Apple's MPS) runs them in float32
(:func:`stage_dtype`); :func:`place` moves a network there accordingly.
"""

from __future__ import annotations

import copy
import itertools
import warnings

import torch
from torch import nn

__all__ = ["ACCELERATOR_PASS_ROWS", "ACCELERATOR_PASS_VALUES", "accelerator_pass_rows",
           "activation_width", "cpu_copy", "is_on_cpu", "is_out_of_memory", "place",
           "resolve_device", "stage_dtype", "supports_float64", "usable_device"]

#: Values of one layer's activations per forward pass on an accelerator (64 MiB in
#: float32): large enough that a pass amortises its host↔device copies and kernel
#: launches, small enough for any GPU's memory.
ACCELERATOR_PASS_VALUES = 1 << 24
#: Most rows per forward pass on an accelerator (narrow networks).
ACCELERATOR_PASS_ROWS = 1 << 20


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` → CUDA when available, else the CPU; any other device, checked.

    A device is refused when torch does not know it, when it holds no data
    (``"meta"``), when its kind is not available here (``"cuda"`` without a
    GPU, ``"mps"`` off a Mac) or when its index names a device this machine
    does not have (``"cuda:7"`` with one GPU).

    Parameters
    ----------
    device : str or torch.device, default="auto"
        ``"auto"``, or a device torch understands (``"cpu"``, ``"cuda"``,
        ``"cuda:1"``, ``"mps"`` …).

    Returns
    -------
    torch.device

    Raises
    ------
    ValueError
        If the device cannot hold a model here; the message says why.

    Examples
    --------
    >>> resolve_device("cpu")
    device(type='cpu')
    >>> resolve_device("auto") in (torch.device("cpu"), torch.device("cuda"))
    True
    >>> resolve_device("meta")
    Traceback (most recent call last):
    ...
    ValueError: device 'meta' was asked for, but the meta device holds no data.
    """
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device {device!r} is not a device torch knows: {exc}") from None
    problem = _unavailable(resolved)
    if problem:
        raise ValueError(f"device {str(device)!r} was asked for, but {problem}.")
    return resolved


def _unavailable(device: torch.device) -> str | None:
    """Why ``device`` cannot hold a model here, or None."""
    if device.type == "cpu":
        return None
    if device.type == "meta":
        return "the meta device holds no data"
    if device.type == "cuda":
        if not torch.cuda.is_available():
            return "CUDA is not available here"
        count = torch.cuda.device_count()
        if device.index is not None and device.index >= count:
            present = ", ".join(f"cuda:{i}" for i in range(count))
            return f"this machine has {count} CUDA device{'s' * (count != 1)} ({present})"
        return None
    if device.type == "mps":
        return None if torch.backends.mps.is_available() else "MPS is not available here"
    try:  # any other kind: can torch place a tensor there?
        torch.empty(0, device=device)
    except Exception as exc:  # noqa: BLE001 - whatever the backend raises, it is unusable
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        return f"torch cannot place a tensor there ({reason})"
    return None


def supports_float64(device: torch.device) -> bool:
    """Whether ``device`` computes in float64 (MPS does not).

    Parameters
    ----------
    device : torch.device
        A device that :func:`resolve_device` accepts.

    Returns
    -------
    bool

    Examples
    --------
    >>> supports_float64(torch.device("cpu")), supports_float64(torch.device("mps"))
    (True, False)
    """
    if device.type in ("cpu", "cuda", "meta"):
        return True
    if device.type == "mps":
        return False
    try:
        torch.zeros(1, dtype=torch.float64, device=device)
    except (TypeError, RuntimeError):
        return False
    return True


def stage_dtype(device: torch.device) -> torch.dtype:
    """Precision of the input stage, the output scaling and the predict chunks on ``device``.

    float64 where the device has it, so that inputs of magnitude 1e±200 still
    standardise; float32 elsewhere.

    Examples
    --------
    >>> stage_dtype(torch.device("cpu"))
    torch.float64
    """
    return torch.float64 if supports_float64(device) else torch.float32


def place(network: nn.Module, device: torch.device) -> nn.Module:
    """Move ``network`` to ``device`` in place; without float64 there, its floats become float32.

    Where the device has float64, every tensor keeps its precision: an
    estimator's body (float32, or float64 after a small fit), its input stage
    and output scaling (float64, or float32 when fitted where float64 is
    missing: its values were rounded then).

    Parameters
    ----------
    network : torch.nn.Module
        The network to move.
    device : torch.device
        Where to.

    Returns
    -------
    torch.nn.Module
        ``network``.

    Examples
    --------
    >>> from skneuron.nn import TabularInput
    >>> stage = place(TabularInput.standardizing([1.0], [2.0]), torch.device("cpu"))
    >>> stage.center.dtype
    torch.float64
    """
    if not supports_float64(device):
        network.to(dtype=torch.float32)  # cast where float64 lives, then move
    return network.to(device=device)


def usable_device(device: torch.device, *, stacklevel: int = 2) -> torch.device:
    """The device a model trained on ``device`` can live on here.

    That device when :func:`resolve_device` accepts it. Otherwise, with a
    ``UserWarning``: the current CUDA device for a CUDA index this machine
    does not have (a model fitted on ``cuda:1`` where only ``cuda:0`` exists),
    else the CPU (no CUDA, no MPS, any other device missing here).

    Parameters
    ----------
    device : torch.device
        The device the model was trained on (its ``device_``).
    stacklevel : int, default=2
        Of the warning, as in :func:`warnings.warn`.

    Returns
    -------
    torch.device

    Examples
    --------
    >>> usable_device(torch.device("cpu"))
    device(type='cpu')
    """
    try:
        return resolve_device(device)
    except ValueError:
        pass
    if device.type == "cuda" and torch.cuda.is_available():
        count = torch.cuda.device_count()
        warnings.warn(
            f"This model was trained on {str(device)!r}, and this machine has {count} CUDA "
            f"device{'s' * (count != 1)}; it was loaded on the current CUDA device.",
            UserWarning, stacklevel=stacklevel + 1)
        return torch.device("cuda")
    kind = "CUDA" if device.type == "cuda" else f"device {str(device)!r}"
    warnings.warn(f"This model was trained on {kind}, which is not available here; it was "
                  "loaded on the CPU.", UserWarning, stacklevel=stacklevel + 1)
    return torch.device("cpu")


def _tensors(module: nn.Module):
    return itertools.chain(module.parameters(), module.buffers())


def is_on_cpu(module: nn.Module) -> bool:
    """Whether every parameter and buffer of ``module`` is on the CPU.

    Examples
    --------
    >>> is_on_cpu(torch.nn.Linear(2, 1))
    True
    """
    return all(tensor.device.type == "cpu" for tensor in _tensors(module))


def cpu_copy(module: nn.Module) -> nn.Module:
    """A copy of ``module`` with all its tensors on the CPU; ``module`` is left as it was.

    Each tensor is copied straight to the CPU, so a network on a GPU is never
    duplicated in the GPU's memory.

    Parameters
    ----------
    module : torch.nn.Module
        The module to copy.

    Returns
    -------
    torch.nn.Module

    Examples
    --------
    >>> layer = torch.nn.Linear(2, 1)
    >>> copied = cpu_copy(layer)
    >>> copied is not layer and torch.equal(copied.weight, layer.weight)
    True
    >>> copied.weight.data_ptr() != layer.weight.data_ptr()
    True
    """
    memo = {}
    for tensor in _tensors(module):
        on_cpu = tensor.detach().to("cpu", copy=True)
        if isinstance(tensor, nn.Parameter):
            on_cpu = nn.Parameter(on_cpu, requires_grad=tensor.requires_grad)
        memo[id(tensor)] = on_cpu
    return copy.deepcopy(module, memo)


def activation_width(module: nn.Module) -> int:
    """Values per row of ``module``'s widest activation: of its widest weight matrix.

    A weight of shape ``(out, in)`` makes activations of ``max(out, in)``
    values per row; one with a leading member dimension ``(members, out,
    in)`` makes ``members`` times as many.

    Examples
    --------
    >>> activation_width(torch.nn.Linear(300, 10))
    300
    """
    widths = [max(p.shape[-2:]) * p.shape[:-2].numel() for p in module.parameters()
              if p.ndim >= 2]
    return max(widths, default=1)


def accelerator_pass_rows(module: nn.Module) -> int:
    """Rows per forward pass of ``module`` on an accelerator.

    At most :data:`ACCELERATOR_PASS_ROWS`, and at most
    :data:`ACCELERATOR_PASS_VALUES` values in its widest activation.

    Examples
    --------
    >>> accelerator_pass_rows(torch.nn.Linear(2, 1)) == ACCELERATOR_PASS_ROWS
    True
    >>> accelerator_pass_rows(torch.nn.Linear(1 << 12, 1))
    4096
    """
    return max(1, min(ACCELERATOR_PASS_ROWS, ACCELERATOR_PASS_VALUES // activation_width(module)))


def is_out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` reports that memory ran out, in Python or in torch.

    That is a ``MemoryError``, ``torch.OutOfMemoryError`` (a GPU's), or the
    ``RuntimeError`` torch raises on the CPU (``DefaultCPUAllocator: can't
    allocate memory``). Such a failure is the data's or the model's size
    against the memory free here, not a defect: the command line reports it
    in one line and :func:`skneuron.load` as a ``ModelFileError``, where any
    other ``RuntimeError`` keeps its traceback.

    Parameters
    ----------
    exc : BaseException
        The exception caught.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_out_of_memory(MemoryError()), is_out_of_memory(torch.OutOfMemoryError("CUDA"))
    (True, True)
    >>> is_out_of_memory(RuntimeError("DefaultCPUAllocator: can't allocate memory: ..."))
    True
    >>> is_out_of_memory(RuntimeError("mat1 and mat2 shapes cannot be multiplied"))
    False
    """
    if isinstance(exc, MemoryError):
        return True
    # By name too: torch.cuda.OutOfMemoryError, before torch.OutOfMemoryError was its alias.
    return isinstance(exc, RuntimeError) and (
        type(exc).__name__ == "OutOfMemoryError" or "can't allocate memory" in str(exc))
