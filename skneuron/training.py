"""The training loop shared by every estimator: minibatch Adam on device tensors.

One function, :func:`fit_network`, trains any ``torch.nn.Module`` on tensors
that already live on the training device. It is written for speed on small
tabular networks, where per-step overhead dominates:

- each epoch draws one permutation and gathers the data once, so every
  minibatch is a contiguous slice (no ``DataLoader``, no per-step indexing);
- the epoch loss is accumulated on the device and read once per epoch (no
  host↔device synchronisation per step);
- the loss's gradient with respect to the outputs is written out by the
  caller (``loss_gradient_fn``; autograd on the loss otherwise), and a
  module with ``forward_with_pullback`` (a
  :class:`~skneuron.nn.TaskNeuronNetwork`) backpropagates it by hand:
  autograd's per-operation bookkeeping is a large share of a small step
  (other modules use ``torch.autograd.grad``);
- Adam calls torch's fused kernel directly (foreach where there is none),
  on the gradients as computed (no optimizer-object overhead, nothing to
  zero);
- validation runs under ``torch.inference_mode``.

What to monitor and when to stop is decided by a small :class:`StoppingRule`
object; per-epoch printing is a callback. ``KeyboardInterrupt``, a loss that
turns non-finite and a loss that ends far above its best (divergence) all end
training with the best weights seen so far.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from sklearn.exceptions import ConvergenceWarning

from skneuron._adam import Adam
from skneuron._device import accelerator_pass_rows, resolve_device

__all__ = [
    "EpochReport",
    "StoppingRule",
    "TrainingResult",
    "fit_network",
    "observe_epochs",
    "print_progress",
    "resolve_device",
    "thread_budget",
]

#: ``loss_fn(outputs, targets) -> per-sample losses`` of shape (batch,).
LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
#: ``loss_gradient_fn(outputs, targets) -> (losses, gradients)``: a :data:`LossFn`'s
#: per-sample losses and each one's gradient with respect to its row of ``outputs``.
LossGradientFn = Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]
#: ``score_fn(outputs, targets) -> scalar tensor``, higher is better.
ScoreFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class EpochReport:
    """What one epoch produced, as handed to callbacks.

    Parameters
    ----------
    epoch : int
        The epoch's number, from 1.
    loss : float
        Mean training loss of the epoch (sample-weighted).
    validation_score : float or None
        Score on the validation data, when monitored.
    seconds : float
        Wall-clock time of the epoch.
    improved : bool
        Whether the epoch was the best so far.

    Examples
    --------
    >>> report = EpochReport(epoch=1, loss=0.5, validation_score=None, seconds=0.01,
    ...                      improved=True)
    >>> report.loss
    0.5
    """

    epoch: int
    loss: float
    validation_score: float | None
    seconds: float
    improved: bool


def print_progress(report: EpochReport) -> None:
    """Callback printing one line per epoch, like scikit-learn's MLP with ``verbose``.

    Parameters
    ----------
    report : EpochReport
        The epoch to print; ``*`` marks an improvement.

    Examples
    --------
    >>> print_progress(EpochReport(3, 0.25, 0.9, 0.125, True))
    Iteration 3, loss = 0.25000000, validation score = 0.900000  (0.12s) *
    """
    line = f"Iteration {report.epoch}, loss = {report.loss:.8f}"
    if report.validation_score is not None:
        line += f", validation score = {report.validation_score:.6f}"
    print(f"{line}  ({report.seconds:.2f}s){' *' if report.improved else ''}", flush=True)


_OBSERVERS: contextvars.ContextVar[tuple] = contextvars.ContextVar("skneuron_observers", default=())


@contextlib.contextmanager
def observe_epochs(*callbacks: Callable[[EpochReport], None]):
    """Call ``callbacks`` after every epoch of every fit in this context (and thread).

    A hook for watching fits that happen inside other code — a progress bar
    around ``cross_validate``, a log of a search — without passing anything
    to the estimators.

    Parameters
    ----------
    *callbacks : callable
        Each is called with the :class:`EpochReport` of every epoch of
        :func:`fit_network` (which both estimators train with), after the
        callbacks passed to :func:`fit_network` itself. Contexts nest: inner
        ones add to the outer ones' callbacks.

    Examples
    --------
    >>> import torch
    >>> X, Y = torch.randn(64, 2), torch.randn(64, 1)
    >>> epochs = []
    >>> with observe_epochs(lambda report: epochs.append(report.epoch)):
    ...     _ = fit_network(torch.nn.Linear(2, 1), X, Y, max_iter=3, n_iter_no_change=9,
    ...                     loss_fn=lambda out, y: ((out - y) ** 2).mean(dim=1))
    >>> epochs
    [1, 2, 3]
    """
    token = _OBSERVERS.set(_OBSERVERS.get() + callbacks)
    try:
        yield
    finally:
        _OBSERVERS.reset(token)


def thread_budget() -> int:
    """Torch intra-op threads a fit may use here without oversubscribing the cores.

    Torch's own setting already follows the limits parallel engines put on
    their workers: ``OMP_NUM_THREADS``, which joblib's process backend (loky)
    sets to ``cpu_count // n_jobs`` and Dask and Ray workers set to their
    share of the cores, and threadpoolctl limits on torch's OpenMP pool. The
    one case it misses is a worker of joblib's threading backend: those
    workers share this process's cores, so each fit gets one thread.

    Returns
    -------
    int
        ``torch.get_num_threads()``, or 1 in a worker thread of joblib's
        threading backend.

    Examples
    --------
    >>> thread_budget() == torch.get_num_threads()
    True
    """
    budget = torch.get_num_threads()
    if threading.current_thread() is not threading.main_thread():
        from joblib.parallel import ThreadingBackend, get_active_backend

        backend, _ = get_active_backend()
        if isinstance(backend, ThreadingBackend) and backend.nesting_level:
            return 1
    return budget


class StoppingRule:
    """Keeps the best weights and says when to stop (scikit-learn's MLP rule).

    Monitors the validation score (higher is better) when one is given,
    otherwise the training loss (lower is better). An epoch that fails to
    beat the best value by ``tol`` counts as no improvement; after more than
    ``patience`` such epochs in a row, training stops.

    Parameters
    ----------
    tol : float
        Smallest improvement that counts.
    patience : int
        Epochs without improvement tolerated before stopping
        (``n_iter_no_change``).

    Examples
    --------
    >>> rule = StoppingRule(tol=0.1, patience=1)
    >>> [rule.update(loss, None) for loss in [1.0, 0.95, 1.2]]
    [True, True, False]
    >>> rule.should_stop
    True
    """

    def __init__(self, *, tol: float, patience: int):
        self.tol, self.patience = tol, patience
        self.best = -math.inf
        self._no_improvement = 0
        self._members: list[StoppingRule] | None = None

    def update_members(self, loss: float, scores: Sequence[float]) -> list[bool]:
        """Record an epoch of several members, each with its own validation score.

        Each member keeps its own best and patience; :attr:`should_stop` turns
        true once every member has run out of patience.

        Parameters
        ----------
        loss : float
            The epoch's training loss (not monitored).
        scores : sequence of float
            One validation score per member.

        Returns
        -------
        list of bool
            Whether each member's score is its best so far.

        Examples
        --------
        >>> rule = StoppingRule(tol=0.0, patience=0)
        >>> rule.update_members(0.5, [0.7, 0.8]), rule.update_members(0.4, [0.6, 0.9])
        ([True, True], [False, True])
        >>> rule.should_stop
        False
        """
        if self._members is None:
            self._members = [StoppingRule(tol=self.tol, patience=self.patience) for _ in scores]
        improved = [rule.update(loss, score) for rule, score in zip(self._members, scores)]
        self.best = sum(rule.best for rule in self._members) / len(self._members)
        return improved

    def update(self, loss: float, validation_score: float | None) -> bool:
        """Record an epoch; return whether it is the best so far.

        Parameters
        ----------
        loss : float
            The epoch's training loss (monitored when there is no validation score).
        validation_score : float or None
            The epoch's validation score (monitored when given).

        Returns
        -------
        bool
            Whether the monitored value is the best so far.

        Examples
        --------
        >>> rule = StoppingRule(tol=0.0, patience=2)
        >>> rule.update(0.3, 0.8), rule.update(0.2, 0.7)
        (True, False)
        """
        value = -loss if validation_score is None else validation_score
        if value < self.best + self.tol:
            self._no_improvement += 1
        else:
            self._no_improvement = 0
        improved = value > self.best
        if improved:
            self.best = value
        return improved

    @property
    def should_stop(self) -> bool:
        """Whether more than ``patience`` epochs in a row failed to improve.

        Examples
        --------
        >>> StoppingRule(tol=0.0, patience=0).should_stop
        False
        """
        if self._members is not None:
            return all(rule.should_stop for rule in self._members)
        return self._no_improvement > self.patience


@dataclass
class TrainingResult:
    """History of one :func:`fit_network` call.

    Parameters
    ----------
    loss_curve : list of float
        Training loss after each epoch.
    validation_scores : list of float
        Validation score after each epoch (empty without validation data).
    best_epoch : int
        The epoch with the best monitored value (0 before any).
    stop_reason : {"max_iter", "converged", "interrupted", "non_finite", "diverged"}
        Why training ended.
    optimizer : Adam or None
        The optimiser as training left it (moments and step count), to pass
        back to :func:`fit_network` to continue the same optimisation.

    Examples
    --------
    >>> result = TrainingResult(loss_curve=[0.5, 0.4], best_epoch=2, stop_reason="converged")
    >>> result.n_iter
    2
    """

    loss_curve: list[float] = field(default_factory=list)
    validation_scores: list[float] = field(default_factory=list)
    best_epoch: int = 0
    #: "converged" | "max_iter" | "interrupted" | "non_finite" | "diverged"
    stop_reason: str = "max_iter"
    optimizer: Adam | None = field(default=None, repr=False)

    @property
    def n_iter(self) -> int:
        """Number of epochs run.

        Examples
        --------
        >>> TrainingResult(loss_curve=[1.0, 0.5, 0.4]).n_iter
        3
        """
        return len(self.loss_curve)


def fit_network(
    module: torch.nn.Module,
    X: torch.Tensor,
    Y: torch.Tensor,
    *,
    loss_fn: LossFn,
    loss_gradient_fn: LossGradientFn | None = None,
    sample_weight: torch.Tensor | None = None,
    validation: tuple[torch.Tensor, torch.Tensor] | None = None,
    score_fn: ScoreFn | None = None,
    batch_size: int = 200,
    learning_rate: float = 1e-3,
    alpha: float = 1e-4,
    total_weight: float | None = None,
    max_iter: int = 200,
    tol: float = 1e-4,
    n_iter_no_change: int = 10,
    restore_best: bool | None = None,
    generator: torch.Generator | None = None,
    callbacks: Sequence[Callable[[EpochReport], None]] = (),
    num_threads: int | None = None,
    compile: bool = False,
    fault_advice: str | None = None,
    optimizer: Adam | None = None,
    warn_max_iter: bool = True,
) -> TrainingResult:
    """Train ``module`` in place with minibatch Adam and return its history.

    Parameters
    ----------
    module : torch.nn.Module
        The network, already on the device of ``X``.
    X, Y : torch.Tensor
        Training inputs and targets, on the training device. ``X`` may also
        be a row source that densifies rows on demand
        (:class:`skneuron._sparse.SparseRows`, for sparse input): the loop
        reorders it with ``X.index_select(0, permutation)`` once per epoch and
        reads each minibatch as the dense tensor ``X[start:stop]``.
    loss_fn : callable
        ``loss_fn(outputs, targets)`` → per-sample losses.
    loss_gradient_fn : callable, optional
        ``loss_gradient_fn(outputs, targets)`` → ``(losses, gradients)``:
        ``loss_fn``'s per-sample losses and, of the same shape as
        ``outputs``, the gradient of each sample's loss with respect to its
        outputs, written out (e.g. ``softmax − one-hot`` for cross-entropy)
        as a new tensor, which the loop then scales in place. Defaults to
        autograd on ``loss_fn``, which costs more per minibatch.
    sample_weight : torch.Tensor of shape (n_samples,), optional
        Each minibatch loss is the ``sample_weight``-weighted mean; without
        weights, the plain mean (the same value as equal weights, in fewer
        operations).
    validation : (X_val, Y_val) or (X_val, Y_val, weights), optional
        Held-out data; when given, ``score_fn`` is monitored for stopping.
        ``X_val`` may be a row source as ``X`` may; it is then read in
        chunks of its ``chunk_rows`` rows. For a module of several members,
        ``weights`` of shape (members, n_val) weigh the rows per member and
        ``score_fn`` then returns one score per member, each member keeping
        its own best weights; ``X_val`` and ``Y_val`` may then also hold one
        block of rows per member, shapes (members, n_val, ·), so that each
        member is run on its own rows only.
    score_fn : callable, optional
        ``score_fn(outputs, targets[, weights])`` → scalar score (or one per
        member), higher is better.
    batch_size, learning_rate, max_iter, tol, n_iter_no_change
        As in scikit-learn's MLP.
    alpha : float
        L2 penalty ``0.5·alpha·‖W‖²`` over the weight of an average minibatch
        (``batch_size`` rows without ``total_weight``), applied as Adam weight
        decay to every parameter of two or more dimensions (``skneuron._adam.Adam``).
    total_weight : float, optional
        The training rows' total sample weight (the given weights', before
        any per-member masking); an average minibatch then weighs
        ``batch_size·total_weight/n_samples``, so that a weight of ``k`` acts
        as ``k`` copies of the row (scikit-learn's MLP divides the penalty by
        each minibatch's weight sum). Defaults to ``n_samples``.
    restore_best : bool, optional
        Whether to end with the best weights seen; defaults to ``True`` when
        monitoring a validation score, ``False`` otherwise (scikit-learn's
        behaviour). Interruption, non-finite losses and divergence (a last
        loss above ``DIVERGENCE_FACTOR`` times the best and above it by more
        than ``DIVERGENCE_MARGIN``) always restore, with a warning.
    generator : torch.Generator, optional
        Source of the epoch permutations, on the CPU or on the device of
        ``X``. A CPU generator gives the same permutations whatever the
        device (the estimators use one), so that a GPU fit and a CPU fit with
        one seed differ only by rounding.
    callbacks : sequence of callable
        Each is called with an :class:`EpochReport` after every epoch.
    num_threads : int, optional
        Torch intra-op threads during training (restored afterwards).
    compile : bool, default=False
        Compile each full minibatch's gradient computation with
        :func:`torch.compile`. Steps get faster, but compiling takes seconds
        (more the first time on a machine), so it pays on long fits only; if
        compiling fails, training continues uncompiled with a warning.
    fault_advice : str, optional
        What the warning on a non-finite or diverging loss advises, in the
        caller's terms (e.g. the estimator's parameter names); defaults to
        lowering the learning rate.
    optimizer : Adam, optional
        The optimiser of an earlier call (:attr:`TrainingResult.optimizer`),
        to continue its optimisation: its moments and step count carry on,
        with this call's ``learning_rate`` and ``alpha``. Its parameters must
        be ``module``'s (see :meth:`Adam.rebound` for a copied module). A
        new optimiser when None.
    warn_max_iter : bool, default=True
        Warn (``ConvergenceWarning``) when ``max_iter`` epochs end training;
        off for callers that run a fixed number of epochs by design
        (``partial_fit``'s one).

    Returns
    -------
    TrainingResult

    Examples
    --------
    >>> import torch
    >>> X = torch.randn(256, 3, generator=torch.Generator().manual_seed(0))
    >>> Y = X @ torch.tensor([[1.0], [2.0], [-1.0]])
    >>> net = torch.nn.Linear(3, 1)
    >>> _ = torch.nn.init.zeros_(net.weight), torch.nn.init.zeros_(net.bias)
    >>> mse = lambda out, y: ((out - y) ** 2).mean(dim=1)
    >>> result = fit_network(net, X, Y, loss_fn=mse, learning_rate=0.05, max_iter=50,
    ...                      generator=torch.Generator().manual_seed(0))
    >>> result.loss_curve[-1] < 0.01
    True
    """
    n_samples = X.shape[0]
    batch_size = max(1, min(batch_size, n_samples))
    if restore_best is None:
        restore_best = validation is not None
    if loss_gradient_fn is None:
        loss_gradient_fn = _autograd_loss_gradient(loss_fn)
    # batch_size·total/n is exactly the total for one full batch of integer weights: the
    # penalty of k copies of a row.
    batch_weight = batch_size if total_weight is None else batch_size * total_weight / n_samples
    if optimizer is None:
        optimizer = Adam(module.parameters(), learning_rate, weight_decay=alpha / batch_weight)
    else:
        trainable = [p for p in module.parameters() if p.requires_grad]
        if len(trainable) != len(optimizer.params) or \
                any(p is not q for p, q in zip(trainable, optimizer.params)):
            raise ValueError("optimizer updates other tensors than the module's parameters; "
                             "rebind it with Adam.rebound(module.parameters()).")
        optimizer.lr, optimizer.weight_decay = learning_rate, alpha / batch_weight
    gradients = _minibatch_gradients(module, optimizer.params, loss_gradient_fn)
    if compile:
        gradients = _compiled(gradients, batch_size)
    rule = StoppingRule(tol=tol, patience=n_iter_no_change)
    members = getattr(module, "members", 1)
    callbacks = (*callbacks, *_OBSERVERS.get())
    initial_state = best_state = _snapshot(module)
    validation_rows = _validation_chunk_rows(module, X.device)
    result = TrainingResult(optimizer=optimizer)

    with _torch_threads(num_threads):
        try:
            for epoch in range(1, max_iter + 1):
                start = time.perf_counter()
                module.train()  # _score leaves it in eval mode
                loss = _train_one_epoch(gradients, optimizer, X, Y, sample_weight, batch_size,
                                        generator, members)
                if not math.isfinite(loss):
                    result.stop_reason = "non_finite"
                    break
                score = _score(module, validation, score_fn, validation_rows)
                result.loss_curve.append(loss)
                if isinstance(score, list):  # one score per member: each keeps its best
                    improved_members = rule.update_members(loss, score)
                    score = sum(score) / len(score)
                    improved = any(improved_members)
                    if improved:
                        best_state = _snapshot_members(module, best_state, improved_members)
                        result.best_epoch = epoch
                else:
                    improved = rule.update(loss, score)
                    if improved:
                        best_state, result.best_epoch = _snapshot(module), epoch
                if score is not None:
                    result.validation_scores.append(score)
                report = EpochReport(epoch, loss, score, time.perf_counter() - start, improved)
                for callback in callbacks:
                    callback(report)
                if rule.should_stop:
                    result.stop_reason = "converged"
                    break
        except KeyboardInterrupt:
            result.stop_reason = "interrupted"
            warnings.warn(
                f"Training interrupted after {result.n_iter} epochs; keeping the best weights "
                f"so far (epoch {result.best_epoch}).",
                UserWarning,
                stacklevel=2,
            )
    if not restore_best and result.stop_reason in ("converged", "max_iter") \
            and _diverged(result.loss_curve):
        result.stop_reason = "diverged"
    if result.stop_reason in ("non_finite", "diverged"):
        # An epoch's loss is averaged while the weights move, so the weights at the end
        # of the best epoch can be far worse than its loss says when the next one
        # exploded: keep them only if they fit the training data better than the start.
        if result.best_epoch and _full_loss(module, best_state, X, Y, sample_weight, loss_fn) \
                > _full_loss(module, initial_state, X, Y, sample_weight, loss_fn):
            best_state, result.best_epoch = initial_state, 0
        _warn_numerical_fault(
            result, fault_advice or f"Lower the learning rate (now {learning_rate:g}).")
    if restore_best or result.stop_reason in ("interrupted", "non_finite", "diverged"):
        module.load_state_dict(best_state)
    if result.stop_reason == "max_iter" and warn_max_iter:
        warnings.warn(
            f"Stochastic optimizer: maximum iterations ({max_iter}) reached and the "
            "optimization hasn't converged yet.",
            ConvergenceWarning,
            stacklevel=2,
        )
    return result


def _train_one_epoch(gradients, optimizer, X, Y, weights, batch_size, generator,
                     members: int = 1) -> float:
    # Drawn where the generator is: a CPU generator gives the same order on every device.
    on = X.device if generator is None else generator.device
    permutation = torch.randperm(X.shape[0], device=on, generator=generator).to(X.device)
    # index_select: a faster gather than X[permutation] on the CPU.
    X, Y = X.index_select(0, permutation), Y.index_select(0, permutation)
    if weights is not None:  # (n,), or (members, n): each member's weights of the rows
        weights = weights.index_select(-1, permutation)
    total = torch.zeros((), device=X.device, dtype=X.dtype)
    for start in range(0, X.shape[0], batch_size):
        stop = start + batch_size
        loss, grads = gradients(X[start:stop], Y[start:stop],
                                None if weights is None else weights[..., start:stop])
        total.add_(loss)
        optimizer.step(grads)
    if weights is None:
        return (total / (X.shape[0] * members)).item()
    return (total / (weights.sum() * (members if weights.ndim == 1 else 1))).item()


def _minibatch_gradients(module, params, loss_gradient_fn):
    """``gradients(x, targets, weights)`` → ``(loss, grads)`` for one minibatch.

    ``loss`` is the sum of the per-sample losses, weighted by ``weights``
    unless it is ``None``; ``grads`` are the gradients of ``params`` of the
    minibatch's (weighted) mean loss. A module with ``forward_with_pullback``
    whose parameters all train (:class:`~skneuron.nn.TaskNeuronNetwork`) maps
    the loss's gradient to the parameters by its own backpropagation, without
    autograd, whose per-operation bookkeeping is a large share of a small
    network's step. Other modules use autograd. The function depends on tensors only, so ``torch.compile``
    can trace it.
    """
    def mean_loss_gradient(outputs, targets, weights):
        # With several members, outputs are (members, batch, n_outputs), losses
        # (members, batch), and each member's loss is a mean of its own.
        losses, grad = loss_gradient_fn(outputs, targets)
        if weights is None:
            return losses.sum(), grad.div_(losses.shape[-1])
        # A batch whose weights are all zero contributes nothing (and must not divide by 0).
        share = weights / weights.sum(-1, keepdim=True).clamp(min=torch.finfo(grad.dtype).tiny)
        return (losses * weights).sum(), grad.mul_(share.unsqueeze(-1))

    forward_with_pullback = getattr(module, "forward_with_pullback", None)
    if forward_with_pullback is None or len(params) != len(list(module.parameters())):
        def autograd_gradients(x, targets, weights):
            outputs = module(x)
            loss, grad = mean_loss_gradient(outputs.detach(), targets, weights)
            return loss, torch.autograd.grad(outputs, params, grad, materialize_grads=True)
        return autograd_gradients

    @torch.no_grad()
    def pullback_gradients(x, targets, weights):
        outputs, pullback = forward_with_pullback(x)
        loss, grad = mean_loss_gradient(outputs, targets, weights)
        return loss, pullback(grad)
    return pullback_gradients


def _compiled(gradients, batch_size: int):
    """``gradients`` compiled by :func:`torch.compile` for full minibatches.

    The last, shorter minibatch of an epoch runs eagerly rather than compiling
    a second graph for its shape. If compiling fails (no C++ compiler, a
    device inductor does not support, ...), training goes on uncompiled with a
    warning; an error that is not the compiler's is then raised again by the
    eager call.
    """
    compiled = torch.compile(gradients, dynamic=False)
    failed = False

    def call(x, targets, weights):
        nonlocal failed
        if failed or x.shape[0] != batch_size:
            return gradients(x, targets, weights)
        try:
            return compiled(x, targets, weights)
        except Exception as error:  # noqa: BLE001 - any failure falls back to eager
            failed = True
            reason = (str(error).strip().splitlines() or [""])[0][:200]
            warnings.warn(
                f"torch.compile failed ({type(error).__name__}: {reason}); training continues "
                "without compiling.", UserWarning, stacklevel=4)
            return gradients(x, targets, weights)
    return call


def _autograd_loss_gradient(loss_fn: LossFn) -> LossGradientFn:
    """A :data:`LossGradientFn` for ``loss_fn`` by autograd (each loss reads its own row)."""
    def loss_and_gradient(outputs, targets):
        with torch.enable_grad():
            outputs = outputs.detach().requires_grad_()
            losses = loss_fn(outputs, targets)
            (grad,) = torch.autograd.grad(losses.sum(), outputs)
        return losses.detach(), grad
    return loss_and_gradient


def _score(module, validation, score_fn, chunk_rows: int | None = None
           ) -> float | list[float] | None:
    """The validation score, or one per member when the validation data weighs the
    rows per member (``(X_val, Y_val, weights)`` with weights of shape (members, n_val)).

    The forward pass runs over ``chunk_rows`` rows at a time (all at once when
    None), and the score once over all the outputs.
    """
    if validation is None or score_fn is None:
        return None
    module.eval()
    X_val = validation[0]
    chunk_rows = _pass_rows(X_val, chunk_rows)
    n_rows = X_val.shape[-2]  # also with one block of rows per member, (members, rows, ·)
    with torch.inference_mode():
        if chunk_rows is None or n_rows <= chunk_rows:
            outputs = module(X_val[:])
        else:  # rows are the second-to-last dimension, also with members
            outputs = torch.cat([module(_rows(X_val, start, start + chunk_rows))
                                 for start in range(0, n_rows, chunk_rows)], dim=-2)
        score = score_fn(outputs, *validation[1:])
    return score.tolist() if score.ndim else float(score)


def _rows(X, start: int, stop: int):
    """Rows ``start:stop`` of ``X``: of a row source, or of each member's block of a
    3-D tensor (members, rows, features)."""
    return X[..., start:stop, :] if isinstance(X, torch.Tensor) and X.ndim == 3 else X[start:stop]


def _pass_rows(X, chunk_rows: int | None) -> int | None:
    """Rows per forward pass over ``X``: ``chunk_rows``, or for a row source that
    densifies its rows (:class:`skneuron._sparse.SparseRows`) at most its own
    ``chunk_rows``."""
    if isinstance(X, torch.Tensor):
        return chunk_rows
    return X.chunk_rows if chunk_rows is None else min(chunk_rows, X.chunk_rows)


def _validation_chunk_rows(module: torch.nn.Module, device: torch.device) -> int | None:
    """Rows per validation forward pass of ``module`` on ``device``; None for all at once.

    On the CPU validation runs in one pass, as it always has (so its scores
    keep their bits). On an accelerator a pass is bounded by
    :data:`~skneuron._device.ACCELERATOR_PASS_VALUES` values per layer's
    activations, so that a large validation set cannot exhaust a small
    GPU's memory.

    Parameters
    ----------
    module : torch.nn.Module
        The network being trained.
    device : torch.device
        Where it is trained.

    Returns
    -------
    int or None

    Examples
    --------
    >>> net = torch.nn.Linear(1000, 10)
    >>> _validation_chunk_rows(net, torch.device("cpu")) is None
    True
    >>> _validation_chunk_rows(net, torch.device("cuda"))
    16777
    """
    return None if device.type == "cpu" else accelerator_pass_rows(module)


def _snapshot(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {name: tensor.detach().clone() for name, tensor in module.state_dict().items()}


def _snapshot_members(module: torch.nn.Module, best: dict[str, torch.Tensor],
                      improved: Sequence[bool]) -> dict[str, torch.Tensor]:
    """``best`` with the improved members' weights (leading dimension) taken from ``module``."""
    rows = torch.tensor(improved)
    updated = {}
    for name, tensor in module.state_dict().items():
        kept = best[name].clone()
        kept[rows.to(kept.device)] = tensor.detach()[rows.to(kept.device)]
        updated[name] = kept
    return updated


#: The last epoch's loss is "diverged" when above this multiple of the best loss
#: and above the best by more than :data:`DIVERGENCE_MARGIN`.
DIVERGENCE_FACTOR = 10.0
DIVERGENCE_MARGIN = 1.0


def _diverged(loss_curve: list[float]) -> bool:
    """Whether training ended far above its best loss (an exploding optimiser).

    Both conditions are needed: a tenfold rise of a loss near zero is noise,
    a rise by one unit of a large loss is not divergence.
    """
    if not loss_curve:
        return False
    best, last = min(loss_curve), loss_curve[-1]
    return last > DIVERGENCE_FACTOR * best and last > best + DIVERGENCE_MARGIN


def _full_loss(module, state, X, Y, weights, loss_fn, chunk_rows: int = 1 << 16) -> float:
    """Weighted mean training loss of ``module`` with ``state`` loaded (inf if not finite)."""
    module.load_state_dict(state)
    module.eval()
    total = torch.zeros((), device=X.device, dtype=torch.float64)
    count = 0.0
    chunk_rows = _pass_rows(X, chunk_rows)
    with torch.inference_mode():
        for start in range(0, X.shape[0], chunk_rows):
            rows = slice(start, start + chunk_rows)
            losses = loss_fn(module(X[rows]), Y[rows])
            if weights is None:
                total += losses.sum().double()
                count += losses.numel()
            else:
                weighted = torch.broadcast_to(weights[..., rows], losses.shape)
                total += (losses * weighted).sum().double()
                count += float(weighted.sum())
    loss = (total / max(count, 1e-300)).item()
    return loss if math.isfinite(loss) else math.inf


def _warn_numerical_fault(result: TrainingResult, advice: str) -> None:
    if result.stop_reason == "non_finite":
        what = f"The training loss became NaN or infinite in epoch {result.n_iter + 1}"
    else:
        what = (f"Training diverged: the loss rose from {min(result.loss_curve):.3g} to "
                f"{result.loss_curve[-1]:.3g}")
    kept = (f"epoch {result.best_epoch}" if result.best_epoch
            else "epoch 0: the initial, untrained weights")
    warnings.warn(
        f"{what}; the best finite weights were restored ({kept}). {advice}",
        ConvergenceWarning,
        stacklevel=3,
    )


@contextlib.contextmanager
def _torch_threads(num_threads: int | None):
    if num_threads is None or num_threads == torch.get_num_threads():
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(num_threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
