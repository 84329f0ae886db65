"""The functional-API Adam does what ``torch.optim.Adam`` does."""

import pytest
import torch

from skneuron._adam import Adam


def _network(seed):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2))


def _loss(network, step):
    x = torch.linspace(-1, 1, 24).reshape(8, 3) * (1 + step % 3)
    return (network(x) - x[:, :2].sin()).square().mean()


@pytest.mark.parametrize("fused", [True, False], ids=["fused kernel", "foreach fallback"])
@pytest.mark.parametrize("weight_decay", [0.0, 0.05])
def test_matches_torch_adam_with_the_penalty_on_matrices_only(weight_decay, fused, monkeypatch):
    ours, reference = _network(0), _network(0)
    matrices = [p for p in reference.parameters() if p.ndim > 1]
    vectors = [p for p in reference.parameters() if p.ndim == 1]
    torch_adam = torch.optim.Adam(
        [{"params": matrices, "weight_decay": weight_decay},
         {"params": vectors, "weight_decay": 0.0}], lr=0.01, fused=True)
    with monkeypatch.context() as patch:
        if not fused:  # as with a torch, or a device, without the fused kernel
            patch.delattr(torch, "_fused_adam_")
        our_adam = Adam(ours.parameters(), lr=0.01, weight_decay=weight_decay)
    assert our_adam._fused == fused
    for step in range(25):
        our_adam.step(torch.autograd.grad(_loss(ours, step), our_adam.params))
        torch_adam.zero_grad()
        _loss(reference, step).backward()
        torch_adam.step()
    for mine, theirs in zip(ours.parameters(), reference.parameters()):
        torch.testing.assert_close(mine, theirs, rtol=1e-6, atol=1e-7)
    assert not torch.equal(ours[0].weight, _network(0)[0].weight)  # it did move


def test_parameters_without_gradient_are_left_alone():
    used, unused = torch.ones(2, requires_grad=True), torch.ones(2, requires_grad=True)
    optimizer = Adam([used, unused], lr=0.1, weight_decay=0.1)
    optimizer.step([torch.ones(2), None])
    torch.testing.assert_close(used.detach(), torch.full((2,), 0.9))
    torch.testing.assert_close(unused.detach(), torch.ones(2))


def test_frozen_parameters_are_not_optimised():
    frozen = torch.ones(2, requires_grad=False)
    trained = torch.ones(2, requires_grad=True)
    assert Adam([frozen, trained], lr=0.1).params == [trained]


def test_non_contiguous_gradients_update_the_right_entries():
    # The fused kernel reads a gradient's memory in the parameter's order; a transposed
    # gradient (e.g. from a matmul computed as (BᵀAᵀ)ᵀ) must still land entry by entry.
    grad = torch.arange(6.0).reshape(3, 2).t()
    assert not grad.is_contiguous()
    moved, reference = torch.zeros(2, 3, requires_grad=True), torch.zeros(2, 3, requires_grad=True)
    Adam([moved], lr=0.1).step([grad])
    Adam([reference], lr=0.1).step([grad.contiguous()])
    torch.testing.assert_close(moved, reference, rtol=0, atol=0)
    assert moved[0, 0] == 0 and moved[1, 0] < 0  # entry (0, 0) had gradient 0, (1, 0) had 1


def test_rebound_optimiser_continues_the_same_optimisation():
    torch.manual_seed(0)
    w = torch.randn(3, 2, requires_grad=True)
    b = torch.randn(2, requires_grad=True)
    optimizer = Adam([w, b], lr=0.05, weight_decay=0.01)
    for _ in range(3):
        optimizer.step(torch.autograd.grad((w.sum(0) + b).square().sum(), [w, b]))
    w2, b2 = (t.detach().clone().requires_grad_() for t in (w, b))
    copy = optimizer.rebound([w2, b2])
    assert copy.steps_taken == optimizer.steps_taken == 3
    for params, opt in (((w, b), optimizer), ((w2, b2), copy)):
        for _ in range(4):
            opt.step(torch.autograd.grad((params[0].sum(0) + params[1]).square().sum(), params))
    assert torch.equal(w, w2) and torch.equal(b, b2)
    # a fresh optimiser (moments zero, step 1) takes another path
    w3, b3 = (t.detach().clone().requires_grad_() for t in (w2, b2))
    fresh = Adam([w3, b3], lr=0.05, weight_decay=0.01)
    fresh.step(torch.autograd.grad((w3.sum(0) + b3).square().sum(), [w3, b3]))
    copy.step(torch.autograd.grad((w2.sum(0) + b2).square().sum(), [w2, b2]))
    assert not torch.allclose(w2, w3)


def test_rebound_refuses_other_shapes():
    optimizer = Adam([torch.zeros(2, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="shapes"):
        optimizer.rebound([torch.zeros(3, requires_grad=True)])
