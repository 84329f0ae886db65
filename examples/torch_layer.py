"""
The task-neuron layer in your own PyTorch network
=================================================

:class:`skneuron.nn.TaskNeuronLayer` is a plain ``torch.nn.Module``: build it
from a formula and use it like ``torch.nn.Linear`` in any network and
training loop. :meth:`~skneuron.nn.TaskNeuronLayer.term_weights` splits the
learned weights by term.

Run: ``python examples/torch_layer.py`` (a few seconds).
"""

import torch

from skneuron import NeuronFormula
from skneuron.nn import TaskNeuronLayer

generator = torch.Generator().manual_seed(0)
X = torch.randn(2048, 6, generator=generator)
y = (X[:, 0] * X[:, 1] + 0.5 * X[:, 2] ** 2).unsqueeze(1)  # a quadratic task

formula = NeuronFormula.parse("x + x**2 + inter(2, rank=4)")
model = torch.nn.Sequential(
    TaskNeuronLayer(6, 16, formula, generator=generator),
    torch.nn.ReLU(),
    torch.nn.Linear(16, 1),
)
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
for step in range(500):
    optimizer.zero_grad()
    loss = torch.nn.functional.mse_loss(model(X), y)
    loss.backward()
    optimizer.step()

print(f"formula {formula}; final MSE {loss.item():.4f} (target variance {y.var().item():.2f})")
for term, weights in model[0].term_weights().items():
    print(f"  {term:<18} weight block {tuple(weights.shape)}, norm {weights.norm():.2f}")
