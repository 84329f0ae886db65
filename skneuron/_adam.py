"""Adam for small networks: torch's kernel without the optimizer object's per-step cost."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch
from torch.optim.adam import adam as adam_update

__all__ = ["Adam"]

_BETAS, _EPS = (0.9, 0.999), 1e-8


class Adam:
    """Adam with an L2 penalty on weight matrices, on torch's fused kernel.

    The arithmetic is ``torch.optim.Adam(fused=True)``'s — the same kernel,
    ``torch._fused_adam_``, moments and bias correction — called directly with
    the state held here. That skips the optimizer object's per-step
    bookkeeping (hooks, profiler records, state look-ups) and its functional
    API's (regrouping the tensors, and one increment per parameter of the
    step counts, which on the CPU is a loop of small operations), overheads
    that are a large share of a training step on the small networks this
    package trains (the training loop's step times are in
    ``benchmarks/results/torch_compile.md``). All parameters share one step count, so a parameter
    that sat out a step (``None`` gradient) is later bias-corrected as if it
    had not — torch counts per parameter; the two agree whenever every
    parameter has a gradient. On devices without the fused kernel (e.g. MPS)
    the update runs through :func:`torch.optim.adam.adam` with ``foreach``.

    Parameters
    ----------
    params : iterable of torch.Tensor
        The parameters to update, all on one device.
    lr : float
        Learning rate.
    weight_decay : float, default=0.0
        L2 penalty coefficient, added to the gradient of every parameter with
        two or more dimensions (weight matrices), not to biases —
        scikit-learn's MLP convention.
    betas : (float, float), default=(0.9, 0.999)
        Decay rates of the moment estimates.

    Examples
    --------
    >>> import torch
    >>> w = torch.tensor([1.0, -2.0], requires_grad=True)
    >>> optimizer = Adam([w], lr=0.1)
    >>> for _ in range(100):
    ...     optimizer.step(torch.autograd.grad((w ** 2).sum(), [w]))
    >>> bool(w.abs().max() < 0.1)
    True
    """

    def __init__(self, params: Iterable[torch.Tensor], lr: float, *, weight_decay: float = 0.0,
                 betas: tuple[float, float] = _BETAS):
        self.params = [p for p in params if p.requires_grad]
        self.lr = lr
        self.betas = betas
        self._exp_avgs = [torch.zeros_like(p) for p in self.params]
        self._exp_avg_sqs = [torch.zeros_like(p) for p in self.params]
        device = self.params[0].device if self.params else torch.device("cpu")
        self._fused = device.type in ("cpu", "cuda") and hasattr(torch, "_fused_adam_")
        # Step counts where the kernels read them: beside the parameters for the fused
        # kernel (one for all), on the host for foreach (one per parameter).
        if self._fused:
            self._step = torch.zeros((), dtype=torch.float32, device=device)
        else:
            self._steps = [torch.zeros((), dtype=torch.float32) for _ in self.params]
        # Matrices with the penalty, vectors without: one kernel call each.
        self._groups = [
            (indices, decay) for indices, decay in (
                ([i for i, p in enumerate(self.params) if p.ndim > 1], weight_decay),
                ([i for i, p in enumerate(self.params) if p.ndim <= 1], 0.0))
            if indices
        ]

    @torch.no_grad()
    def step(self, grads: Sequence[torch.Tensor | None]) -> None:
        """Update the parameters in place, one gradient per parameter.

        A parameter whose gradient is ``None`` is left alone, as by
        ``torch.optim.Adam``.
        """
        grads = list(grads)
        if self._fused:
            self._step.add_(1)
        for indices, decay in self._groups:
            kept = [i for i in indices if grads[i] is not None]
            if not kept:
                continue
            params = [self.params[i] for i in kept]
            # The fused kernel walks the gradient's memory in the parameter's order.
            state = ([grads[i].contiguous() for i in kept], [self._exp_avgs[i] for i in kept],
                     [self._exp_avg_sqs[i] for i in kept])
            if self._fused:
                torch._fused_adam_(
                    params, *state, [], [self._step] * len(kept), lr=self.lr,
                    beta1=self.betas[0], beta2=self.betas[1], weight_decay=decay, eps=_EPS,
                    amsgrad=False, maximize=False)
            else:
                adam_update(
                    params, *state, [], [self._steps[i] for i in kept], foreach=True,
                    amsgrad=False, beta1=self.betas[0], beta2=self.betas[1], lr=self.lr,
                    weight_decay=decay, eps=_EPS, maximize=False)
