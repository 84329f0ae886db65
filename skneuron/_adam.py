"""Adam for small networks: torch's kernel without the optimizer object's per-step cost."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from numbers import Integral, Real

import numpy as np
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
        two or more dimensions: weight matrices, not bias vectors, as in
        scikit-learn's MLP. A network of several members stacks each parameter
        along a leading member dimension, so there the biases are penalised too.
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
        self.weight_decay = weight_decay
        # Matrices with the penalty, vectors without: one kernel call each.
        self._groups = [
            (indices, penalised) for indices, penalised in (
                ([i for i, p in enumerate(self.params) if p.ndim > 1], True),
                ([i for i, p in enumerate(self.params) if p.ndim <= 1], False))
            if indices
        ]

    def rebound(self, params: Iterable[torch.Tensor]) -> Adam:
        """This optimiser's state (moments, step count) on other tensors of the same shapes.

        For the same network after it was copied (unpickled, moved to another
        device): the returned optimiser updates ``params`` and continues where
        this one stopped. The moments are copied to the devices of ``params``.

        Parameters
        ----------
        params : iterable of torch.Tensor
            The parameters to update, in the order of :attr:`params`.

        Returns
        -------
        Adam

        Raises
        ------
        ValueError
            If ``params`` do not have the shapes of :attr:`params`.

        Examples
        --------
        >>> import torch
        >>> w = torch.tensor([1.0, -2.0], requires_grad=True)
        >>> optimizer = Adam([w], lr=0.1)
        >>> optimizer.step([torch.ones(2)])
        >>> copy = w.detach().clone().requires_grad_()
        >>> moved = optimizer.rebound([copy])
        >>> moved.params[0] is copy, moved.steps_taken
        (True, 1)
        """
        new = Adam(params, self.lr, weight_decay=self.weight_decay, betas=self.betas)
        return new._load(self._exp_avgs, self._exp_avg_sqs, self.steps_taken)

    def state_dict(self) -> dict:
        """The optimiser's state as plain values and numpy arrays, on the host.

        What a pickle of an estimator keeps of its optimiser (no torch object);
        :meth:`from_state_dict` puts it back on a network's parameters.

        Returns
        -------
        dict
            ``lr``, ``betas``, ``weight_decay``, ``steps`` and the moments
            ``exp_avgs`` and ``exp_avg_sqs`` (lists of arrays, one per parameter).

        Examples
        --------
        >>> import torch
        >>> w = torch.tensor([1.0, -2.0], requires_grad=True)
        >>> optimizer = Adam([w], lr=0.1)
        >>> optimizer.step([torch.ones(2)])
        >>> state = optimizer.state_dict()
        >>> state["steps"], state["exp_avgs"][0].shape
        (1, (2,))
        >>> Adam.from_state_dict([w], state).steps_taken
        1
        """
        return {
            "lr": float(self.lr), "betas": tuple(float(b) for b in self.betas),
            "weight_decay": float(self.weight_decay), "steps": self.steps_taken,
            "exp_avgs": [m.detach().to("cpu").numpy() for m in self._exp_avgs],
            "exp_avg_sqs": [m.detach().to("cpu").numpy() for m in self._exp_avg_sqs],
        }

    @staticmethod
    def is_state_dict(state) -> bool:
        """Whether ``state`` is a :meth:`state_dict` that an optimiser can continue from:
        its keys, finite non-negative rates, decays in ``[0, 1)``, a step count, and as
        many finite moments as second moments (these non-negative); the moments' shapes
        are checked against the parameters by :meth:`from_state_dict`.

        >>> w = torch.zeros(2, requires_grad=True)
        >>> state = Adam([w], lr=0.1).state_dict()
        >>> Adam.is_state_dict(state), Adam.is_state_dict({**state, "lr": float("nan")})
        (True, False)
        """
        keys = {"lr", "betas", "weight_decay", "steps", "exp_avgs", "exp_avg_sqs"}
        if not (isinstance(state, dict) and set(state) == keys):
            return False
        betas, firsts, seconds = state["betas"], state["exp_avgs"], state["exp_avg_sqs"]

        def number(v) -> bool:
            return isinstance(v, Real) and not isinstance(v, bool) and math.isfinite(v)

        def moments(arrays, low: float) -> bool:
            return isinstance(arrays, list) and all(
                isinstance(a, np.ndarray) and a.dtype.kind == "f" and np.isfinite(a).all()
                and (a >= low).all() for a in arrays)

        return (all(number(state[k]) and state[k] >= 0 for k in ("lr", "weight_decay"))
                and isinstance(betas, (tuple, list)) and len(betas) == 2
                and all(number(b) and 0 <= b < 1 for b in betas)
                and isinstance(state["steps"], Integral) and not isinstance(state["steps"], bool)
                and 0 <= state["steps"] < 2**53
                and moments(firsts, -math.inf) and moments(seconds, 0.0)
                and len(firsts) == len(seconds))

    @classmethod
    def from_state_dict(cls, params: Iterable[torch.Tensor], state: dict) -> Adam:
        """An optimiser of ``params`` continuing from a :meth:`state_dict`.

        Raises
        ------
        ValueError
            If ``params`` do not have the shapes of the saved moments.
        """
        new = cls(params, state["lr"], weight_decay=state["weight_decay"],
                  betas=tuple(state["betas"]))
        return new._load([torch.as_tensor(m) for m in state["exp_avgs"]],
                         [torch.as_tensor(m) for m in state["exp_avg_sqs"]], int(state["steps"]))

    def _load(self, exp_avgs, exp_avg_sqs, steps: int) -> Adam:
        """Take copies of the given moments and step count; returns ``self``."""
        shapes = [p.shape for p in self.params]
        if shapes != [m.shape for m in exp_avgs] or shapes != [m.shape for m in exp_avg_sqs]:
            raise ValueError("the parameters do not have the shapes of the optimiser's.")
        with torch.no_grad():
            for target, source in ((self._exp_avgs, exp_avgs), (self._exp_avg_sqs, exp_avg_sqs)):
                for mine, theirs in zip(target, source):
                    mine.copy_(theirs)
        if self._fused:
            self._step.fill_(steps)
        else:
            for step in self._steps:
                step.fill_(steps)
        return self

    @property
    def steps_taken(self) -> int:
        """Number of updates so far (Adam's bias correction counts them).

        Examples
        --------
        >>> import torch
        >>> Adam([torch.zeros(1, requires_grad=True)], lr=0.1).steps_taken
        0
        """
        if self._fused:
            return int(self._step.item())
        return int(max((s.item() for s in self._steps), default=0))

    @torch.no_grad()
    def step(self, grads: Sequence[torch.Tensor | None]) -> None:
        """Update the parameters in place, one gradient per parameter.

        A parameter whose gradient is ``None`` is left alone, as by
        ``torch.optim.Adam``.
        """
        grads = list(grads)
        if self._fused:
            self._step.add_(1)
        for indices, penalised in self._groups:
            decay = self.weight_decay if penalised else 0.0
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
