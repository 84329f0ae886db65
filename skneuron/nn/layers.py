"""A layer of task neurons built from a :class:`~skneuron.NeuronFormula`."""

from __future__ import annotations

import functools
import math
import operator

import torch
from torch import nn
from torch.nn import functional as F

from skneuron import formula as formula_module
from skneuron.formula import INPUT_CLIP, NeuronFormula, power_scale
from skneuron._elementwise import compile_elementwise, evaluate_elementwise

__all__ = ["TaskNeuronLayer"]

_TWO_PI = 2 * math.pi
#: Defaults of :class:`TaskNeuronLayer`'s ``clip`` and ``nonlinear_init`` (its repr shows
#: only the settings that differ from them).
DEFAULT_CLIP = INPUT_CLIP
DEFAULT_NONLINEAR_INIT = 0.1


class TaskNeuronLayer(nn.Module):
    """``out_features`` task neurons sharing one formula (pre-activation).

    For an input ``x`` of ``in_features`` values each neuron ``o`` computes::

        y_o = Σ_k W_k[o] · x^{∘k} / c_k                    pure power terms
            + Σ_k Σ_r V_k[o, r] Π_{m=1..k} (U_{k,m} x)_r    CP interaction terms
            + Σ_φ W_φ[o] · φ(x)                             element-wise terms
            + b[o]

    The activation is applied outside the layer. All term features share
    one weight matrix, so the layer costs little more than ``nn.Linear`` on
    ``in_features × n_terms`` inputs (see :meth:`forward` for how it is
    multiplied in training and in prediction).

    Numerical safety: ``c_k = √((2k−1)!!)`` gives every power feature unit
    second moment on standardised inputs, and all non-linear terms see the
    input clamped to ``[-clip, clip]`` so high orders cannot overflow.

    Initialisation: a neuron whose formula has the linear term starts close
    to the ordinary neuron ``wᵀx + b`` — the weights of its other terms are
    drawn at ``nonlinear_init`` times the Glorot scale — and training grows
    them where they pay, much as residual branches start near zero
    (``docs/method.md``, *Initialisation*, says how the value was chosen).

    Parameters
    ----------
    in_features, out_features : int
        Input and output widths.
    formula : NeuronFormula or str
        The neuron's terms.
    clip : float, default=5.0
        Input bound for the non-linear terms.
    nonlinear_init : float, default=0.1
        Scale of the initial weights of the terms other than ``x``, relative
        to Glorot's, when the formula has ``x``; without it every term starts
        at Glorot's scale.
    periodic_inputs : int, optional
        How many of the first inputs the periodic term reads (all by
        default): in a network's first layer, the continuous inputs, which
        the input stage puts before its indicator and one-hot columns.
    members : int, default=1
        Number of independent layers of this shape computed side by side:
        every parameter gets a leading dimension of this size. The input is
        ``(n_samples, in_features)``, shared by the members, or
        ``(members, n_samples, in_features)``; the output is
        ``(members, n_samples, out_features)``.
    generator : torch.Generator, optional
        Source of randomness for the initial weights (CPU generator).
    device, dtype : optional
        Where and in which precision to create the parameters.

    Attributes
    ----------
    weight : torch.nn.Parameter of shape ([members,] out_features, n_features)
        Coefficients of every term feature; :meth:`term_weights` splits it.
    bias : torch.nn.Parameter of shape ([members,] out_features)
        The neurons' biases.
    projection : torch.nn.Parameter of shape ([members,] in_features, rank × Σk) or None
        The interaction factors ``U_{k,m}`` stacked column-wise.

    Examples
    --------
    >>> import torch
    >>> from skneuron.nn import TaskNeuronLayer
    >>> layer = TaskNeuronLayer(3, 2, "x + x**2 + inter(2, rank=4)",
    ...                         generator=torch.Generator().manual_seed(0))
    >>> layer(torch.randn(5, 3)).shape
    torch.Size([5, 2])
    >>> {term: tuple(w.shape) for term, w in layer.term_weights().items()}
    {'x': (2, 3), 'x**2': (2, 3), 'inter(2, rank=4)': (2, 4)}
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        formula: NeuronFormula | str,
        *,
        clip: float = DEFAULT_CLIP,
        nonlinear_init: float = DEFAULT_NONLINEAR_INIT,
        members: int = 1,
        periodic_inputs: int | None = None,
        generator: torch.Generator | None = None,
        device=None,
        dtype=None,
    ):
        super().__init__()
        self.formula = NeuronFormula.coerce(formula)
        if in_features < 1 or out_features < 1:
            raise ValueError(f"in_features and out_features must be >= 1; got {in_features} "
                             f"and {out_features}.")
        if periodic_inputs is not None and not 0 <= periodic_inputs <= in_features:
            raise ValueError(f"periodic_inputs must be in [0, {in_features}]; "
                             f"got {periodic_inputs}.")
        self.periodic_inputs = in_features if periodic_inputs is None else periodic_inputs
        self.in_features, self.out_features, self.clip = in_features, out_features, clip
        if members < 1:
            raise ValueError(f"members must be >= 1; got {members}.")
        self.members = members
        self.nonlinear_init = nonlinear_init
        self._programs = tuple(compile_elementwise(f) for f in self.formula.functions)
        self._power_scales = tuple(power_scale(k) for k in self.formula.pure_orders)
        rank, orders = self.formula.rank, self.formula.interaction_orders
        self._n_periodic = self.formula.periodic if self.periodic_inputs else 0
        self._needs_clip = bool(
            self._programs or orders or any(k > 1 for k in self.formula.pure_orders)
            or self._n_periodic
        )
        self.n_features = sum(width for _, width in self._feature_blocks())
        n_features = self.n_features
        if not n_features:
            raise ValueError(
                f"the formula {' + '.join(self.formula.terms)!r} gives this layer no term to "
                "read: its only term is periodic, and it reads no input's waves "
                "(periodic_inputs=0: no numeric input).")

        factory = {"device": device, "dtype": dtype}
        # With several members every parameter gains a leading member dimension.
        lead = (members,) if members > 1 else ()
        self.weight = nn.Parameter(torch.empty(*lead, out_features, n_features, **factory))
        self.bias = nn.Parameter(torch.empty(*lead, out_features, **factory))
        self.projection = nn.Parameter(
            torch.empty(*lead, in_features, rank * sum(orders), **factory)) if orders else None
        if self._n_periodic:
            shape = (*lead, self.periodic_inputs, self._n_periodic)
            self.frequencies = nn.Parameter(torch.empty(shape, **factory))
            self.phases = nn.Parameter(torch.empty(shape, **factory))
        else:
            self.frequencies = self.phases = None
        self.reset_parameters(generator)

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Glorot-uniform term weights, zero bias, ``N(0, 1/in)`` interaction factors.

        With the linear term in the formula, the other terms' weights are
        then scaled by ``nonlinear_init``.

        Random numbers are drawn on the CPU from ``generator``, so the initial
        weights are the same on every device.

        Parameters
        ----------
        generator : torch.Generator, optional
            CPU generator to draw from; torch's global one when omitted.

        Examples
        --------
        >>> import torch
        >>> layer = TaskNeuronLayer(3, 2, "x + inter(2)")
        >>> layer.reset_parameters(torch.Generator().manual_seed(0))
        >>> layer.bias
        Parameter containing:
        tensor([0., 0.], requires_grad=True)
        """
        bound = math.sqrt(6.0 / (self.n_features + self.out_features))
        with torch.no_grad():
            self.weight.copy_(_uniform(self.weight.shape, bound, generator))
            if 1 in self.formula.pure_orders:  # the x block comes first
                self.weight[..., self.in_features :].mul_(self.nonlinear_init)
            self.bias.zero_()
            if self.projection is not None:
                std = 1.0 / math.sqrt(self.in_features)
                self.projection.copy_(torch.randn(self.projection.shape, generator=generator) * std)
            if self.frequencies is not None:
                shape = self.frequencies.shape
                scales = torch.tensor(formula_module.PERIODIC_INIT_SCALE, dtype=torch.float64)
                scales = scales.reshape(-1).repeat(shape[-1])[: shape[-1]]  # cycled over J
                self.frequencies.copy_(torch.randn(shape, generator=generator) * scales)
                self.phases.copy_((torch.rand(shape, generator=generator) * 2 - 1) * math.pi)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The concatenated term features the weight matrix multiplies.

        Parameters
        ----------
        x : torch.Tensor of shape (n_samples, in_features)
            Layer inputs.

        Returns
        -------
        torch.Tensor of shape (n_samples, n_features)
            One block of columns per term, in the order of :meth:`term_weights`:
            ``x`` itself, scaled clipped powers, element-wise functions, then
            the rank-one products of each interaction order.

        Examples
        --------
        >>> import torch
        >>> layer = TaskNeuronLayer(3, 2, "x + x**2 + inter(2, rank=4)")
        >>> layer.features(torch.randn(5, 3)).shape  # 3 + 3 + 4 columns
        torch.Size([5, 10])
        """
        return _concatenate(self._feature_parts(x), self.members)

    def _feature_parts(self, x: torch.Tensor, saved: dict | None = None, *,
                       function_grads: bool = False) -> list[torch.Tensor]:
        """The blocks of :meth:`features`, one per term, not yet concatenated.

        When ``saved`` is a dict, the intermediate values that
        :meth:`forward_with_pullback` differentiates are stored in it, and with
        ``function_grads`` the element-wise terms' graph as well.
        """
        formula = self.formula
        # hardtanh is clamp with a one-kernel backward (clamp's takes four).
        clipped = F.hardtanh(x, -self.clip, self.clip) if self._needs_clip else x
        parts = []
        for k, scale in zip(formula.pure_orders, self._power_scales):
            if k == 1:
                parts.append(x)
            elif k == 2:  # two multiplies: cheaper than pow, forward and backward
                parts.append(clipped * (clipped * scale))
            else:
                parts.append(clipped.pow(k) * scale)
        if self._programs and saved is not None and function_grads:
            # Element-wise terms are differentiated by autograd, on a leaf of their own.
            saved["leaf"] = clipped = clipped.detach().requires_grad_()
            with torch.enable_grad():
                saved["functions"] = [evaluate_elementwise(p, clipped) for p in self._programs]
            parts += [f.detach() for f in saved["functions"]]
        else:
            parts += [evaluate_elementwise(program, clipped) for program in self._programs]
        if self.frequencies is not None:
            angles = torch.addcmul(self.phases.unsqueeze(-3), self._periodic_input(clipped),
                                   self.frequencies.unsqueeze(-3) * _TWO_PI)
            parts.append(torch.sin(angles).flatten(-2))
            if saved is not None:
                saved["angles"] = angles
        factors = []
        if self.projection is not None:
            # Π_m (U_{k,m} x) as a chain of multiplies over one split of the projections:
            # prod()'s backward guards against zeros and slicing's backward allocates a
            # full-size gradient per slice; split's backward is one concatenation.
            remaining = iter((clipped @ self.projection).split(formula.rank, dim=-1))
            for k in formula.interaction_orders:
                factors.append([next(remaining) for _ in range(k)])
                parts.append(functools.reduce(operator.mul, factors[-1]))
        if saved is not None:
            saved.update(clipped=clipped, factors=factors)
        return parts

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Pre-activations ``features(x) @ weight.T + bias``.

        Parameters
        ----------
        x : torch.Tensor of shape (n_samples, in_features)
            Layer inputs.

        Returns
        -------
        torch.Tensor of shape (n_samples, out_features)

        Notes
        -----
        While gradients are recorded, the term features are concatenated and
        multiplied in one ``addmm`` (fewest autograd nodes, fastest on
        training minibatches). Without gradients (prediction), each term's
        block is multiplied by its own block of :attr:`weight` and the
        products are summed in place: the same value without copying the
        features into one wide matrix, a copy that is a sizeable part of the
        layer's time on large prediction batches.
        """
        if x.shape[-1] != self.in_features:
            raise ValueError(f"{type(self).__name__} expects inputs of {self.in_features} "
                             f"features; got shape {tuple(x.shape)}.")
        # Traced, the prediction path whatever the grad mode: a trace is checked by tracing again.
        if torch.is_grad_enabled() and not torch.jit.is_tracing():
            return _affine(self.bias, self.features(x), self.weight)
        parts = self._feature_parts(x)
        blocks = self.weight.split([part.shape[-1] for part in parts], dim=-1)
        if self.members == 1:
            out = torch.addmm(self.bias, parts[0], blocks[0].t())
            for part, block in zip(parts[1:], blocks[1:]):
                out.addmm_(part, block.t())
            return out
        out = self.bias.unsqueeze(-2) + parts[0] @ blocks[0].mT
        for part, block in zip(parts[1:], blocks[1:]):
            out.add_(part @ block.mT)  # a part shared by the members broadcasts over them
        return out

    def forward_with_pullback(self, x: torch.Tensor, *, input_grad: bool = True):
        """Pre-activations, and the function that maps their gradient back.

        The layer's gradients written out by hand, like
        :func:`torch.func.vjp` but without autograd: on the small minibatches
        of tabular training, recording and replaying autograd's graph costs
        more than the arithmetic. Call it under :func:`torch.no_grad`.

        Parameters
        ----------
        x : torch.Tensor of shape (n_samples, in_features)
            Layer inputs.
        input_grad : bool, default=True
            Whether the pullback returns the gradient with respect to ``x``;
            ``False`` for the first layer saves its largest matmul.

        Returns
        -------
        outputs : torch.Tensor of shape (n_samples, out_features)
            Same values as :meth:`forward`.
        pullback : callable
            ``pullback(grad_outputs)`` returns ``(grad_x, grads)``: the
            gradient with respect to ``x`` (``None`` without ``input_grad``)
            and a list of the gradients of :attr:`weight`, :attr:`bias` and,
            when present, :attr:`projection`, in
            :meth:`~torch.nn.Module.parameters` order.

        Examples
        --------
        >>> import torch
        >>> layer = TaskNeuronLayer(3, 2, "x + x**2 + inter(2, rank=4)",
        ...                         generator=torch.Generator().manual_seed(0))
        >>> x = torch.randn(5, 3)
        >>> with torch.no_grad():
        ...     out, pullback = layer.forward_with_pullback(x)
        ...     grad_x, grads = pullback(torch.ones_like(out))
        >>> torch.allclose(out, layer(x)), [tuple(g.shape) for g in grads]
        (True, [(2, 10), (2,), (3, 8)])
        """
        saved: dict = {}
        parts = self._feature_parts(x, saved, function_grads=input_grad)
        features = _concatenate(parts, self.members)
        outputs = _affine(self.bias, features, self.weight)

        def pullback(grad):
            grads = [grad.mT @ features, grad.sum(-2)]
            widths = [p.shape[-1] for p in parts]
            if input_grad:
                grad_parts = (grad @ self.weight).split(widths, dim=-1)
            elif self.projection is not None or self.frequencies is not None:
                # Only the periodic and interaction blocks lead to a parameter.
                n_tail = len(saved["factors"]) + (self.frequencies is not None)
                tail = sum(widths[-n_tail:])
                grad_parts = [None] * (len(parts) - n_tail) \
                    + list((grad @ self.weight[..., -tail:]).split(widths[-n_tail:], dim=-1))
            else:
                return None, grads
            grad_x, grad_clipped, grad_projection = self._pullback_features(
                saved, grad_parts, input_grad)
            if grad_projection is not None:
                grads.append(grad_projection)
            if self.frequencies is not None:
                grad_clipped, periodic_grads = self._pullback_periodic(
                    saved, grad_parts[len(parts) - len(saved["factors"]) - 1], grad_clipped,
                    input_grad)
                grads += periodic_grads
            if grad_clipped is not None:
                if self._needs_clip:
                    grad_clipped = torch.ops.aten.hardtanh_backward(
                        grad_clipped, x, -self.clip, self.clip)
                grad_clipped = _sum_to(grad_clipped, x)
                grad_x = grad_clipped if grad_x is None else _sum_to(grad_x, x) + grad_clipped
            return grad_x if grad_x is None else _sum_to(grad_x, x), grads

        return outputs, pullback

    def _periodic_input(self, clipped: torch.Tensor) -> torch.Tensor:
        """The inputs the periodic term reads, with a trailing axis for its frequencies."""
        if self.periodic_inputs < self.in_features:
            clipped = clipped[..., : self.periodic_inputs]
        return clipped.unsqueeze(-1)

    def _pullback_periodic(self, saved, grad, grad_clipped, input_grad):
        """Gradients through the periodic block: of the clipped input (added to
        ``grad_clipped``), of :attr:`frequencies` and of :attr:`phases`."""
        angles = saved["angles"]
        weighted = grad.view(angles.shape) * torch.cos(angles)
        grad_frequencies = (weighted * self._periodic_input(saved["clipped"])).sum(-3) \
            .mul_(_TWO_PI)
        grad_phases = weighted.sum(-3)
        if input_grad:
            through = (weighted * self.frequencies.unsqueeze(-3)).sum(-1).mul_(_TWO_PI)
            if self.periodic_inputs < self.in_features:  # the other inputs have no periodic term
                through = F.pad(through, (0, self.in_features - self.periodic_inputs))
            grad_clipped = _accumulate(grad_clipped, through, saved["clipped"])
        return grad_clipped, [grad_frequencies, grad_phases]

    def _pullback_features(self, saved, grad_parts, input_grad):
        """From the feature blocks' gradients: those of ``x`` (through the linear
        block), of the clipped input and of :attr:`projection` (``None`` when absent).
        """
        formula, clipped = self.formula, saved["clipped"]
        grad_x = grad_clipped = None
        n_pure = len(formula.pure_orders)
        if input_grad:
            for k, scale, grad in zip(formula.pure_orders, self._power_scales, grad_parts):
                if k == 1:
                    grad_x = grad
                    continue
                # d(scale·c^k)/dc = k·scale·c^(k−1)
                power = clipped if k == 2 else clipped.pow(k - 1)
                if grad_clipped is None:
                    grad_clipped = grad * power * (k * scale)
                else:
                    grad_clipped = grad_clipped.addcmul_(grad, power, value=k * scale)
            if self._programs:
                n_functions = len(self._programs)
                (grad_leaf,) = torch.autograd.grad(
                    saved["functions"], saved["leaf"],
                    [_sum_to(g, f) for g, f in zip(grad_parts[n_pure : n_pure + n_functions],
                                                  saved["functions"])])
                grad_clipped = _accumulate(grad_clipped, grad_leaf, clipped)
        if self.projection is None:
            return grad_x, grad_clipped, None
        # Product rule: factor m's gradient is the product's times all the other factors.
        grad_factors = []
        for factors, grad in zip(saved["factors"], grad_parts[-len(saved["factors"]) :]):
            for m in range(len(factors)):
                others = factors[:m] + factors[m + 1 :]
                grad_factors.append(functools.reduce(operator.mul, others, grad))
        grad_projections = torch.cat(grad_factors, dim=-1)
        if input_grad:
            through = grad_projections @ self.projection.mT
            grad_clipped = _accumulate(grad_clipped, through, clipped)
        return grad_x, grad_clipped, clipped.mT @ grad_projections

    def term_weights(self) -> dict[str, torch.Tensor]:
        """The block of :attr:`weight` that belongs to each term, by term name.

        Returns
        -------
        dict of str to torch.Tensor
            For each term of the formula (in :attr:`NeuronFormula.terms
            <skneuron.NeuronFormula.terms>` order) a view of shape
            ``(out_features, in_features)``, ``(out_features, rank)`` for
            an interaction term (its mixing weights), or ``(out_features,
            periodic_inputs · J)`` for ``periodic(J)``; with several members
            each shape has a leading ``members``.

        Examples
        --------
        >>> layer = TaskNeuronLayer(3, 2, "x + inter(2, rank=4)")
        >>> {term: tuple(w.shape) for term, w in layer.term_weights().items()}
        {'x': (2, 3), 'inter(2, rank=4)': (2, 4)}
        """
        names, widths = zip(*self._feature_blocks())
        blocks = dict(zip(names, torch.split(self.weight, widths, dim=-1)))
        return {term: blocks[term] for term in self.formula.terms if term in blocks}

    def _feature_blocks(self) -> list[tuple[str, int]]:
        """``(term, width)`` in the order :meth:`features` concatenates them."""
        f = self.formula
        n_pure = len(f.pure_orders)
        pure, interaction = f.terms[:n_pure], f.terms[n_pure : n_pure + len(f.interaction_orders)]
        periodic = [(f"periodic({self._n_periodic})", self.periodic_inputs * self._n_periodic)] \
            if self._n_periodic else []
        return (
            [(term, self.in_features) for term in pure + f.functions]
            + periodic
            + [(term, f.rank) for term in interaction]
        )

    def extra_repr(self) -> str:
        shown = (f"in_features={self.in_features}, out_features={self.out_features}, "
                 f"formula={' + '.join(self.formula.terms)!r}")
        # the settings that differ from their defaults
        if self.members != 1:
            shown += f", members={self.members}"
        if self.formula.periodic and self.periodic_inputs != self.in_features:
            shown += f", periodic_inputs={self.periodic_inputs}"
        if self.clip != DEFAULT_CLIP:
            shown += f", clip={self.clip}"
        if self.nonlinear_init != DEFAULT_NONLINEAR_INIT:
            shown += f", nonlinear_init={self.nonlinear_init}"
        return shown


def _concatenate(parts: list[torch.Tensor], members: int) -> torch.Tensor:
    """The feature blocks side by side; blocks shared by the members are repeated for each."""
    if len(parts) == 1:
        return parts[0]
    if members > 1 and any(part.ndim == 3 for part in parts):
        parts = [part.expand(members, *part.shape[-2:]) for part in parts]
    return torch.cat(parts, dim=-1)


def _affine(bias: torch.Tensor, features: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """``features @ weight.T + bias``, batched over the members when there are several."""
    if weight.ndim == 2:
        return torch.addmm(bias, features, weight.t())
    features = features.expand(weight.shape[0], *features.shape[-2:])
    return torch.baddbmm(bias.unsqueeze(-2), features, weight.mT)


def _accumulate(total: torch.Tensor | None, term: torch.Tensor, like: torch.Tensor):
    """``total + term``, both summed over the members where ``like`` is shared by them."""
    term = _sum_to(term, like)
    return term if total is None else _sum_to(total, like) + term


def _sum_to(grad: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``grad`` summed over the member dimension when ``like`` is shared by the members."""
    return grad.sum(0) if grad.ndim > like.ndim else grad


def _uniform(shape, bound: float, generator: torch.Generator | None) -> torch.Tensor:
    return (torch.rand(shape, generator=generator) * 2.0 - 1.0) * bound
