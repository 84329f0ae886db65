"""
The task-neuron layer in your own PyTorch network
=================================================

:class:`skneuron.nn.TaskNeuronLayer` is a plain ``torch.nn.Module``: build it
from a formula and use it like ``torch.nn.Linear`` in any network and
training loop, on inputs of shape ``(n_samples, in_features)`` (flatten any
other leading dimensions first; trace it with ``torch.jit.trace`` rather than
script it). :meth:`~skneuron.nn.TaskNeuronLayer.term_weights` splits the
learned weights by term.

Run: ``python examples/torch_layer.py``.
"""

# %%
# A quadratic task
# ----------------
# ``y = x₀x₁ + 0.5 x₂²``: one pairwise interaction and one square.
import torch

from skneuron import NeuronFormula
from skneuron.nn import TaskNeuronLayer

torch.set_num_threads(1)  # steps of a network this small are fastest on one thread
generator = torch.Generator().manual_seed(0)
X = torch.randn(2048, 6, generator=generator)
y = (X[:, 0] * X[:, 1] + 0.5 * X[:, 2] ** 2).unsqueeze(1)


def train(model: torch.nn.Module, steps: int = 500) -> float:
    """Full-batch Adam on the mean squared error; returns the final loss."""
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(steps):
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(model(X), y)
        loss.backward()
        optimizer.step()
    return loss.item()


# %%
# Task neurons in a custom network
# --------------------------------
# A layer of 16 quadratic task neurons (linear, square and rank-4 pairwise
# interaction terms), a ReLU and a linear head — an ordinary ``nn.Sequential``.
formula = NeuronFormula.parse("x + x**2 + inter(2, rank=4)")
model = torch.nn.Sequential(
    TaskNeuronLayer(6, 16, formula, generator=generator),
    torch.nn.ReLU(),
    torch.nn.Linear(16, 1),
)
mse = train(model)
print(f"formula {formula}; final MSE {mse:.4f} (target variance {y.var().item():.2f})")

# %%
# The same network with ``torch.nn.Linear`` neurons, for comparison.
torch.manual_seed(0)
baseline = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))
print(f"linear neurons: final MSE {train(baseline):.4f}")

# %%
# Weights by term
# ---------------
# Each term's block of the layer's weight matrix: one weight per neuron and
# input for ``x`` and ``x**2``, ``rank`` mixing weights per neuron for the
# interaction (whose factors are ``model[0].projection``).
for term, weights in model[0].term_weights().items():
    print(f"  {term:<18} weight block {tuple(weights.shape)}, norm {weights.norm():.2f}")
