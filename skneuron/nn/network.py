"""Networks of task neurons: stacked :class:`TaskNeuronLayer` and a linear head."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from skneuron.formula import NeuronFormula
from skneuron.nn.inputs import TabularInput
from skneuron.nn.layers import TaskNeuronLayer

__all__ = ["ACTIVATIONS", "TaskNeuronNetwork", "Standardized"]

#: How :func:`reduce_members` can make one output of the members' outputs.
MEMBER_REDUCTIONS = ("mean", "probabilities", "sigmoids")

#: Activation names, as scikit-learn's MLP spells them, and their modules.
ACTIVATIONS = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "logistic": nn.Sigmoid,
    "identity": nn.Identity,
}


class TaskNeuronNetwork(nn.Module):
    """A feed-forward network whose hidden neurons use a task formula.

    ``hidden_layer_sizes`` task-neuron layers, each followed by the
    activation, then a linear head. With no hidden layer the network is a
    single task-neuron layer — a low-rank polynomial model of the formula.

    Parameters
    ----------
    n_inputs, n_outputs : int
        Input and output widths.
    formula : NeuronFormula or str
        The formula every hidden neuron uses, except that its periodic term,
        an embedding of the network's inputs, is read by the first layer only.
    hidden_layer_sizes : sequence of int, default=(100,)
        Widths of the hidden layers.
    activation : {"relu", "tanh", "logistic", "identity"}, default="relu"
        Activation after each hidden layer, named as in scikit-learn's MLP.
    periodic_inputs : int, optional
        How many of the first inputs the first layer's periodic term reads
        (all by default; see :class:`TaskNeuronLayer`).
    members : int, default=1
        Number of independent networks of this shape computed side by side
        (an ensemble in one module): every parameter gets a leading
        dimension of this size and the output has shape
        ``(members, n_samples, n_outputs)``. With 1, parameters and outputs
        have no member dimension.
    generator : torch.Generator, optional
        CPU generator for the initial weights (reproducible on any device).
    device, dtype : optional
        Where and in which precision to create the parameters.

    Examples
    --------
    >>> import torch
    >>> from skneuron.nn import TaskNeuronNetwork
    >>> net = TaskNeuronNetwork(4, 1, "x + inter(2)", hidden_layer_sizes=(8, 8),
    ...                         generator=torch.Generator().manual_seed(0))
    >>> net(torch.randn(3, 4)).shape
    torch.Size([3, 1])
    >>> len(net.task_layers)
    2
    >>> TaskNeuronNetwork(4, 1, "x", members=5)(torch.randn(3, 4)).shape
    torch.Size([5, 3, 1])
    """

    def __init__(
        self,
        n_inputs: int,
        n_outputs: int,
        formula: NeuronFormula | str,
        *,
        hidden_layer_sizes: Sequence[int] = (100,),
        activation: str = "relu",
        members: int = 1,
        periodic_inputs: int | None = None,
        generator: torch.Generator | None = None,
        device=None,
        dtype=None,
    ):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}; got {activation!r}.")
        self.formula = NeuronFormula.coerce(formula)
        self.members = members
        self.hidden_layer_sizes, self.activation = tuple(hidden_layer_sizes), activation
        factory = {"generator": generator, "device": device, "dtype": dtype}
        widths = [n_inputs, *hidden_layer_sizes]
        layers: list[nn.Module] = []
        # The periodic term embeds the network's inputs: deeper layers have no waves, and are
        # linear neurons when the formula has no other term.
        only_waves = bool(self.formula.periodic) and self.formula.n_terms == 1
        deeper = NeuronFormula() if only_waves else self.formula
        for position, (width_in, width_out) in enumerate(zip(widths[:-1], widths[1:])):
            first = position == 0
            layers += [TaskNeuronLayer(width_in, width_out, self.formula if first else deeper,
                                       members=members, periodic_inputs=periodic_inputs if first
                                       else 0, **factory),
                       ACTIVATIONS[activation]()]
        if not hidden_layer_sizes:
            layers.append(TaskNeuronLayer(n_inputs, n_outputs, self.formula, members=members,
                                          periodic_inputs=periodic_inputs, **factory))
        elif members > 1:
            layers.append(TaskNeuronLayer(widths[-1], n_outputs, "x", members=members, **factory))
        else:
            layers.append(_linear(widths[-1], n_outputs, **factory))
        self.layers = nn.Sequential(*layers)

    @property
    def task_layers(self) -> list[TaskNeuronLayer]:
        """The task-neuron layers, input first.

        Examples
        --------
        >>> net = TaskNeuronNetwork(4, 1, "x + x**2", hidden_layer_sizes=(8,))
        >>> net.task_layers
        [TaskNeuronLayer(in_features=4, out_features=8, formula='x + x**2')]
        """
        task_layers = [m for m in self.layers if isinstance(m, TaskNeuronLayer)]
        return task_layers[:-1] if self.members > 1 and len(self.layers) > 1 else task_layers

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Network outputs for inputs ``x``.

        Parameters
        ----------
        x : torch.Tensor of shape (n_samples, n_inputs)
            Inputs.

        Returns
        -------
        torch.Tensor of shape (n_samples, n_outputs)
        """
        return self.layers(x)

    def forward_with_pullback(self, x: torch.Tensor):
        """Outputs, and the function that maps their gradient to the parameters'.

        Backpropagation written out by hand, as scikit-learn's MLP does it:
        each layer's :meth:`TaskNeuronLayer.forward_with_pullback`, the
        activations' derivatives from their outputs, and the linear head's.
        Training uses it in place of autograd, whose per-operation
        bookkeeping is a large share of a step on tabular minibatches.
        Call it under :func:`torch.no_grad`; forward hooks are not run.

        Parameters
        ----------
        x : torch.Tensor of shape (n_samples, n_inputs)
            Inputs.

        Returns
        -------
        outputs : torch.Tensor of shape (n_samples, n_outputs)
            Same values as :meth:`forward`.
        pullback : callable
            ``pullback(grad_outputs)`` returns the gradients of all the
            parameters, a list in :meth:`~torch.nn.Module.parameters` order.

        Examples
        --------
        >>> import torch
        >>> net = TaskNeuronNetwork(4, 1, "x + inter(2)", hidden_layer_sizes=(8,),
        ...                         generator=torch.Generator().manual_seed(0))
        >>> x = torch.randn(3, 4)
        >>> with torch.no_grad():
        ...     out, pullback = net.forward_with_pullback(x)
        ...     grads = pullback(torch.ones_like(out))
        >>> torch.allclose(out, net(x)), len(grads) == len(list(net.parameters()))
        (True, True)
        """
        pullbacks = []
        for position, layer in enumerate(self.layers):
            x, pullback = _with_pullback(layer, x, input_grad=position > 0)
            pullbacks.append(pullback)

        def pullback(grad):
            grads = []
            for layer_pullback in reversed(pullbacks):
                grad, layer_grads = layer_pullback(grad)
                grads[:0] = layer_grads
            return grads

        return x, pullback


#: Gradient of each activation's input from its output's (the kernels autograd uses).
_ACTIVATION_BACKWARD = {
    nn.ReLU: lambda grad, out: torch.ops.aten.threshold_backward(grad, out, 0),
    nn.Tanh: torch.ops.aten.tanh_backward,
    nn.Sigmoid: torch.ops.aten.sigmoid_backward,
    nn.Identity: lambda grad, out: grad,
}


def _with_pullback(layer: nn.Module, x: torch.Tensor, *, input_grad: bool):
    """``layer(x)`` and its pullback ``grad → (grad_x, parameter grads)``."""
    if isinstance(layer, TaskNeuronLayer):
        return layer.forward_with_pullback(x, input_grad=input_grad)
    if isinstance(layer, nn.Linear):
        out = torch.addmm(layer.bias, x, layer.weight.t())
        return out, lambda grad: (grad @ layer.weight if input_grad else None,
                                  [grad.t() @ x, grad.sum(0)])
    backward = _ACTIVATION_BACKWARD[type(layer)]
    out = layer(x)
    return out, lambda grad: (backward(grad, out), [])


def _linear(n_in: int, n_out: int, *, generator, device, dtype) -> nn.Linear:
    """Linear head with scikit-learn's Glorot-uniform initialisation."""
    layer = nn.Linear(n_in, n_out, device=device, dtype=dtype)
    bound = math.sqrt(6.0 / (n_in + n_out))
    with torch.no_grad():
        layer.weight.copy_((torch.rand(layer.weight.shape, generator=generator) * 2 - 1) * bound)
        layer.bias.zero_()
    return layer


class Standardized(nn.Module):
    """Wrap a network so it reads raw inputs and returns raw-scale outputs.

    ``forward(x) = body(inputs(x)) · output_scale + output_mean``, where
    ``inputs`` is the input stage: a :class:`~skneuron.nn.TabularInput` (which
    may impute, scale, clip and one-hot encode), or plain standardisation
    ``(x − input_mean) / input_scale``. The statistics are buffers, so they
    move with ``.to(device)`` and are part of the state dict. Training works
    on ``body`` with inputs already passed through the input stage.

    The input stage and the output scaling run in the buffers' precision and
    the body in its own: the estimators keep float64 statistics around a
    float32 body, so that inputs of magnitude 1e±200 still standardise.

    Parameters
    ----------
    body : torch.nn.Module
        The network, working on the input stage's features.
    input_mean, input_scale : torch.Tensor of shape (n_inputs,), optional
        Statistics that standardise the inputs, when no ``inputs`` is given.
    output_mean, output_scale : torch.Tensor of shape (n_outputs,), optional
        Statistics that map the body's outputs back to the target's units;
        omitted for classifiers, whose outputs are logits.
    inputs : torch.nn.Module, optional
        The input stage; by default standardisation by ``input_mean`` and
        ``input_scale``.
    member_reduction : {"mean", "probabilities", "sigmoids"}, default="mean"
        How the outputs of a body with several members (shape
        ``(members, n_samples, n_outputs)``) become one: their mean
        (regression), the logits of the members' mean class probabilities
        (classification; one logit per row for two classes, else one per
        class), or, for independent logistic outputs (multilabel
        classification), each output's logit of the members' mean probability.

    Examples
    --------
    >>> import torch
    >>> net = Standardized(torch.nn.Identity(), torch.tensor([1.0]), torch.tensor([2.0]))
    >>> net(torch.tensor([[5.0]]))
    tensor([[2.]])
    """

    def __init__(
        self,
        body: nn.Module,
        input_mean: torch.Tensor | None = None,
        input_scale: torch.Tensor | None = None,
        output_mean: torch.Tensor | None = None,
        output_scale: torch.Tensor | None = None,
        *,
        inputs: nn.Module | None = None,
        member_reduction: str = "mean",
    ):
        super().__init__()
        if member_reduction not in MEMBER_REDUCTIONS:
            raise ValueError(f"member_reduction must be one of {MEMBER_REDUCTIONS}; "
                             f"got {member_reduction!r}.")
        self.member_reduction = member_reduction
        if inputs is None:
            if input_mean is None or input_scale is None:
                raise ValueError("Standardized needs an input stage or input_mean and input_scale.")
            mean = torch.as_tensor(input_mean)
            inputs = TabularInput.standardizing(mean, input_scale).to(mean.dtype)
        self.inputs = inputs
        self.body = body
        self.register_buffer("output_mean", None if output_mean is None else torch.as_tensor(output_mean))
        self.register_buffer(
            "output_scale", None if output_scale is None else torch.as_tensor(output_scale)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Outputs in the target's units for raw inputs ``x``.

        Parameters
        ----------
        x : torch.Tensor of shape (n_samples, n_inputs)
            Raw inputs (coded rows, for a :class:`~skneuron.nn.TabularInput`).

        Returns
        -------
        torch.Tensor of shape (n_samples, n_outputs)
        """
        features = self.inputs(x)
        body_dtype = _dtype_of(self.body, default=features.dtype)
        out = self.body(features.to(body_dtype)).to(features.dtype)
        if out.ndim == 3:
            out = reduce_members(out, self.member_reduction)
        if self.output_scale is not None:
            out = torch.addcmul(self.output_mean, out, self.output_scale)
        return out


def reduce_members(outputs: torch.Tensor, how: str) -> torch.Tensor:
    """One output per row from the members' outputs of shape ``(members, n, n_outputs)``.

    ``"mean"`` averages them; ``"probabilities"`` reads them as logits and
    returns the logits of the members' mean class probabilities (a softmax over
    the outputs, or one logistic output); ``"sigmoids"`` reads every output as
    the logit of an independent label and returns, per output, the logit of the
    members' mean probability.

    Examples
    --------
    >>> import torch
    >>> logits = torch.tensor([[[2.0]], [[-2.0]]])  # two members, one row, binary
    >>> torch.sigmoid(reduce_members(logits, "probabilities"))
    tensor([[0.5000]])
    >>> labels = torch.tensor([[[2.0, 0.0]], [[-2.0, 0.0]]])  # two members, two labels
    >>> torch.sigmoid(reduce_members(labels, "sigmoids"))
    tensor([[0.5000, 0.5000]])
    """
    if how == "mean":
        return outputs.mean(dim=0)
    log_members = math.log(outputs.shape[0])
    if how == "sigmoids" or outputs.shape[-1] == 1:
        # per output, log p̄ − log(1 − p̄) from the members' log-sigmoids
        positive = torch.logsumexp(F.logsigmoid(outputs), dim=0) - log_members
        negative = torch.logsumexp(F.logsigmoid(-outputs), dim=0) - log_members
        return positive - negative
    return torch.logsumexp(F.log_softmax(outputs, dim=-1), dim=0) - log_members


def _dtype_of(module: nn.Module, default: torch.dtype) -> torch.dtype:
    parameter = next(module.parameters(), None)
    return default if parameter is None else parameter.dtype
