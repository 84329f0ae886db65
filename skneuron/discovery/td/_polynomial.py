"""The dual-stream polynomial models TD discovery trains, and their term columns.

One :class:`DualStreamPolynomial` holds, for every cross-fitting fold, two
ungated polynomial models (heads A and B), trained together by
:func:`train` with hand-written gradients; :func:`design` then reads off the
columns the subset refits use.
"""

from __future__ import annotations

import math

import numpy as np
import tensorly
import torch
from tensorly.cp_tensor import CPTensor, cp_normalize

from skneuron._adam import Adam
from skneuron.discovery._common import CLIP
from skneuron.formula import power_scale
from skneuron.discovery.td._folds import fold_splits

__all__ = ["DualStreamPolynomial", "design", "inputs", "train"]

# Initial scale of an interaction factor's projection uᵀx (standardised x).
_FACTOR_INIT_STD = 0.5

# Rank of head B's interactions (an interaction term scored without the pure
# term of its order must explain that order alone with a tensor of this rank).
_ALONE_RANK = 2

# Initial mixing coefficient v_{k,r,c} of every rank-one product and output.
_MIX_INIT = 1.0


class DualStreamPolynomial(torch.nn.Module):
    """``n_folds`` × two ungated polynomial models, trained in one loop.

    For each cross-fitting fold there is a head A, the full dual-stream model
    (pure orders 1..K, interaction orders 2..K of rank R), and a head B with
    the linear term and rank-:data:`_ALONE_RANK` interactions only. The
    interaction factors ``u_{k,m,r}`` of a head are shared by all outputs;
    only the mixing coefficients ``v_{k,r,c}`` are output-specific, so the
    interaction stream costs about the same for one output as for many.

    Layout. The model reads its batches transposed, one column per row of
    data: ``[clamp(x); x^{∘1}; …; x^{∘K}]`` (scaled powers) of shape
    ``(D + K·D, n)``; its predictions have one row per fold, head and output,
    ``(F·2·C, n)`` in that order. With the batch as the wide
    dimension every matrix product has a wide output, which BLAS computes
    faster on these small batches than the narrow products of the
    row-major layout.

    Per fold, the ``J = (K − 1)·(R_A + R_B)`` rank-one products are ordered
    by interaction order, highest first, and within an order head A's
    ``R_A`` before head B's ``R_B``. Factor ``m`` (0-based) of every product
    comes from one projection block; as only the orders ``k > m`` have a
    factor ``m ≥ 2``, block ``m`` covers a prefix of the ``J`` products (the
    rest has no factor ``m``). :attr:`factors` holds block after block, each
    fold after fold. Both heads' pure weights are one matrix in which
    :attr:`pure_mask` zeroes head B's powers ≥ 2; the mixing is one product
    batched over the folds, in which :attr:`mixing_mask` feeds a head's
    products to that head's outputs only.
    """

    def __init__(self, n_features, n_outputs, max_order, rank, n_folds, generator):
        super().__init__()
        D, C, F, K = n_features, n_outputs, n_folds, max_order
        self.n_features, self.n_outputs, self.max_order, self.n_folds = D, C, K, F
        self.ranks = (rank, min(rank, _ALONE_RANK))  # heads A and B
        r_both = sum(self.ranks)
        self.n_products = J = (K - 1) * r_both
        # Width of projection block m: the orders k > m (k ≥ 2), R_A + R_B columns each.
        self.widths = [(K - max(m + 1, 2) + 1) * r_both for m in range(K)] if K > 1 else []
        self.bias = torch.nn.Parameter(torch.zeros(F * 2 * C, 1))
        self.pure = torch.nn.Parameter(torch.zeros(F * 2 * C, K * D))
        pure_mask = torch.ones(F, 2, C, K * D)
        pure_mask[:, 1, :, D:] = 0.0
        self.register_buffer("pure_mask", pure_mask.view(F * 2 * C, K * D), persistent=False)
        std = _FACTOR_INIT_STD / math.sqrt(D)
        # Drawn fold by fold, then stored block by block.
        factors = torch.randn(D, F, sum(self.widths), generator=generator) * std
        blocks = [block.reshape(D, -1) for block in factors.split(self.widths, dim=2)]
        self.factors = torch.nn.Parameter(torch.cat(blocks, dim=1) if blocks else factors.view(D, 0))
        head_of_product = torch.arange(J) % r_both >= self.ranks[0]  # True: B
        mixing_mask = torch.zeros(2, C, J)
        mixing_mask[0, :, ~head_of_product] = 1.0
        mixing_mask[1, :, head_of_product] = 1.0
        self.register_buffer("mixing_mask", mixing_mask.view(2 * C, J), persistent=False)
        self.mixing = torch.nn.Parameter(_MIX_INIT * self.mixing_mask.expand(F, -1, -1).clone())

    def _factor_blocks(self, clipped_t: torch.Tensor) -> list[torch.Tensor]:
        """Factor ``m`` of the products it belongs to, ``u_{k,m,r}ᵀx``; each (F, width_m, n)."""
        F, n = self.n_folds, clipped_t.shape[1]
        projections = (self.factors.t() @ clipped_t).split([F * w for w in self.widths])
        return [block.view(F, w, n) for block, w in zip(projections, self.widths)]

    def _products(self, blocks: list[torch.Tensor]) -> torch.Tensor:
        """Rank-one products ``Π_m u_{k,m,r}ᵀx`` from the factor blocks, (F, J, n)."""
        products = blocks[0] * blocks[1]
        for block, width in zip(blocks[2:], self.widths[2:]):
            products[:, :width] *= block
        return products

    def products(self, clipped: torch.Tensor) -> torch.Tensor:
        """Rank-one products of every fold for row-major inputs, shape (n, F, J)."""
        if not self.widths:
            return clipped.new_zeros(clipped.shape[0], self.n_folds, 0)
        return self._products(self._factor_blocks(clipped.t())).permute(2, 0, 1)

    def product_groups(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """For each order k = 2..K, the columns of :meth:`products` of heads A and B."""
        K, (rank_a, rank_b) = self.max_order, self.ranks
        first = [(K - k) * (rank_a + rank_b) for k in range(2, K + 1)]
        return [(np.arange(f, f + rank_a), np.arange(f + rank_a, f + rank_a + rank_b))
                for f in first]

    def _forward(self, batch_t: torch.Tensor):
        """Predictions (F·2·C, n) and the intermediate values the gradients need."""
        D = self.n_features
        clipped_t, powers_t = batch_t[:D], batch_t[D:]
        out = torch.addmm(self.bias, self.pure * self.pure_mask, powers_t)
        if not self.widths:
            return out, None
        blocks = self._factor_blocks(clipped_t)
        products = self._products(blocks)
        mixing = self.mixing * self.mixing_mask
        out.view(self.n_folds, -1, out.shape[1]).baddbmm_(mixing, products)
        return out, (blocks, products, mixing)

    def predictions(self, batch: torch.Tensor) -> torch.Tensor:
        """Predictions of heads A and B per fold for row-major inputs, (n, F, 2, C)."""
        out = self._forward(batch.t())[0]
        return out.t().reshape(-1, self.n_folds, 2, self.n_outputs)

    def set_gradients(self, batch_t: torch.Tensor, y_t: torch.Tensor,
                      weight_t: torch.Tensor) -> None:
        """Set ``.grad`` of every parameter to the gradient of ``Σ weight·(ŷ − y)²``.

        The inputs are transposed: ``batch_t`` (D + K·D, n), ``y_t`` (C, n)
        and ``weight_t`` (F, n), the weight of each row in each fold's loss
        (the same for both heads and all outputs). The gradient is written out
        by hand — the model is a few matmuls and products — which is cheaper
        than recording autograd's graph on these small batches;
        ``tests/discovery/test_td.py`` checks it against autograd.
        """
        D, F, C = self.n_features, self.n_folds, self.n_outputs
        n = batch_t.shape[1]
        clipped_t, powers_t = batch_t[:D], batch_t[D:]
        out, cache = self._forward(batch_t)
        grad = (out.view(F, 2, C, n) - y_t).mul_((2.0 * weight_t).view(F, 1, 1, n))
        grad = grad.view(F * 2 * C, n)
        self.bias.grad = grad.sum(dim=1, keepdim=True)
        self.pure.grad = (grad @ powers_t.t()).mul_(self.pure_mask)
        if cache is None:
            return
        blocks, products, mixing = cache
        grad = grad.view(F, 2 * C, n)
        self.mixing.grad = torch.bmm(grad, products.transpose(1, 2)).mul_(self.mixing_mask)
        grad_products = torch.bmm(mixing.transpose(1, 2), grad)  # (F, J, n)
        # Product rule: the gradient of factor m is the product of all the others,
        # each on the part of block m's products it belongs to.
        grad_projections = batch_t.new_empty(sum(self.widths) * F, n)
        grad_blocks = grad_projections.split([F * w for w in self.widths])
        for m, (grad_block, width) in enumerate(zip(grad_blocks, self.widths)):
            grad_block = grad_block.view(F, width, n)
            others = [i for i in range(len(blocks)) if i != m]
            torch.mul(grad_products[:, :width], blocks[others[0]][:, :width], out=grad_block)
            for i in others[1:]:
                shared = min(width, self.widths[i])
                grad_block[:, :shared] *= blocks[i][:, :shared]
        self.factors.grad = clipped_t @ grad_projections.t()

    @torch.no_grad()
    def interaction_cp_tensors(self, heads: dict[int, int], fold: int = 0, output: int = 0):
        """Order ``k`` → :class:`CPTensor` of head ``heads[k]`` (0 = A, 1 = B)."""
        K, C, F = self.max_order, self.n_outputs, self.n_folds
        r_both = sum(self.ranks)
        factors = self.factors.detach().double().numpy()
        starts = F * np.concatenate([[0], np.cumsum(self.widths)[:-1]])
        blocks = [factors[:, start + fold * w: start + (fold + 1) * w]
                  for start, w in zip(starts, self.widths)]
        mixing = self.mixing.detach().double().numpy()[fold]  # (2C, J)
        tensors = {}
        for k, head in sorted(heads.items()):
            first = (K - k) * r_both + (0 if head == 0 else self.ranks[0])
            columns = slice(first, first + self.ranks[head])
            factors_k = [np.ascontiguousarray(blocks[m][:, columns]) for m in range(k)]
            weights = np.ascontiguousarray(mixing[head * C + output, columns])
            with tensorly.backend_context("numpy", local_threadsafe=True):
                tensors[k] = cp_normalize(CPTensor((weights, factors_k)))
        return tensors


def _power_scales(max_order: int) -> torch.Tensor:
    """The scale of each pure order 1..K (see :func:`~skneuron.formula.power_scale`)."""
    return torch.tensor([power_scale(k) for k in range(1, max_order + 1)])


def inputs(X: np.ndarray, max_order: int) -> torch.Tensor:
    """Float32 rows ``[clamp(x), x, x^{∘2}/√3, …, x^{∘K}/√((2K−1)!!)]`` (powers ≥ 2 clamped)."""
    x = torch.as_tensor(X, dtype=torch.float32)
    clipped = x.clamp(-CLIP, CLIP)
    powers = torch.stack([x] + [clipped.pow(k) for k in range(2, max_order + 1)], dim=1)
    powers = powers * _power_scales(max_order)[:, None]
    return torch.cat([clipped, powers.flatten(1)], dim=1)


def train(model, X, Y, folds, *, n_steps, batch_size, learning_rate, generator,
          sample_weight=None):
    """Adam on Σ_folds Σ_heads (MSE on the rows outside the fold); final MSE per head.

    ``folds`` is the fold of every row, one row per partition (a 1-D array is
    one partition); fold model ``partition·cv + fold`` learns from the rows
    outside that fold of that partition. With ``sample_weight`` (of mean 1)
    the MSE is the rows' weighted mean.
    """
    # Transposed, one column per row (see DualStreamPolynomial).
    data = inputs(X, model.max_order).t().contiguous()
    y = torch.as_tensor(Y.T, dtype=torch.float32).contiguous()
    in_training = np.stack([train for _, train, _ in fold_splits(folds)])
    if sample_weight is not None:
        in_training = in_training * sample_weight[None]
    in_training = torch.as_tensor(in_training, dtype=torch.float32)
    optimiser = Adam(model.parameters(), lr=learning_rate)
    n, step, C = data.shape[1], 0, Y.shape[1]
    with torch.no_grad():  # the gradients are written by model.set_gradients
        while step < n_steps:
            # One gather per epoch; the batches are then column slices.
            permutation = torch.randperm(n, generator=generator)
            data_e, y_e, weight_e = (t.index_select(1, permutation) for t in (data, y, in_training))
            for begin in range(0, n, batch_size):
                end = begin + batch_size
                # Each fold's loss is the mean over its training rows and the outputs.
                weight = weight_e[:, begin:end]
                weight = weight / (weight.sum(dim=1, keepdim=True).clamp(min=1.0) * C)
                model.set_gradients(data_e[:, begin:end], y_e[:, begin:end], weight)
                optimiser.step([parameter.grad for parameter in optimiser.params])
                step += 1
                if step >= n_steps:
                    break
        out = model._forward(data)[0].view(model.n_folds, 2, C, n)
        error = (out - y).square().mean(dim=2)  # (F, 2, n)
        per_fold = torch.einsum("fn,fhn->fh", in_training, error) / in_training.sum(dim=1)[:, None]
        return per_fold.mean(dim=0).tolist()


def design(model, X: np.ndarray):
    """Pure design ``[1, x^{∘1}, …, x^{∘K}]`` (n, 1 + K·D) and rank-one products (n, F, J)."""
    with torch.no_grad():
        data = inputs(X, model.max_order)
        products = model.products(data[:, :model.n_features]).double().numpy()
    pure = data[:, model.n_features:].double().numpy()
    return np.concatenate([np.ones((len(X), 1)), pure], axis=1), products

