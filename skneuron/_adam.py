"""Adam for small networks: torch's kernel without the optimizer object's per-step cost."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch
from torch.optim.adam import adam as adam_update

__all__ = ["Adam"]


class Adam:
    """Adam with an L2 penalty on weight matrices, through :func:`torch.optim.adam.adam`.

    The arithmetic is ``torch.optim.Adam``'s — the same fused kernel (foreach
    on devices without one), moments and bias correction — called through
    torch's functional API with the state held here. That skips the optimizer
    object's per-step bookkeeping (hooks, profiler records, state look-ups,
    regrouping per parameter group): about a tenth of a training step on the
    small networks this package trains. Gradients are passed to :meth:`step`
    (e.g. from :func:`torch.autograd.grad`), so nothing accumulates in
    ``.grad`` and nothing needs zeroing.

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

    def __init__(self, params: Iterable[torch.Tensor], lr: float, *, weight_decay: float = 0.0):
        self.params = [p for p in params if p.requires_grad]
        self.lr, self.weight_decay = lr, weight_decay
        self._decayed = [i for i, p in enumerate(self.params) if p.ndim > 1]
        fused = bool(self.params) and self.params[0].device.type in ("cpu", "cuda")
        self._kernel = {"fused": True} if fused else {"foreach": True}
        self._exp_avgs = [torch.zeros_like(p) for p in self.params]
        self._exp_avg_sqs = [torch.zeros_like(p) for p in self.params]
        # Step counts where torch.optim.Adam keeps them: beside the parameters for
        # the fused kernel, on the host for foreach.
        self._steps = [torch.zeros((), dtype=torch.float32, device=p.device if fused else "cpu")
                       for p in self.params]

    @torch.no_grad()
    def step(self, grads: Sequence[torch.Tensor | None]) -> None:
        """Update the parameters in place, one gradient per parameter.

        A parameter whose gradient is ``None`` is left alone, as by
        ``torch.optim.Adam``. The gradients are modified in place (the
        penalty is added to them).
        """
        grads = list(grads)
        if self.weight_decay:
            for i in self._decayed:
                if grads[i] is not None:
                    grads[i].add_(self.params[i], alpha=self.weight_decay)
        state = (self.params, grads, self._exp_avgs, self._exp_avg_sqs, self._steps)
        if any(grad is None for grad in grads):
            kept = [i for i, grad in enumerate(grads) if grad is not None]
            state = tuple([values[i] for i in kept] for values in state)
        params, grads, exp_avgs, exp_avg_sqs, steps = state
        adam_update(
            params, grads, exp_avgs, exp_avg_sqs, [], steps,
            amsgrad=False, beta1=0.9, beta2=0.999, lr=self.lr, weight_decay=0.0, eps=1e-8,
            maximize=False, **self._kernel,
        )
