"""Torch modules built from a :class:`~skneuron.NeuronFormula` (formula → network).

Usable on their own in any PyTorch code; nothing here depends on scikit-learn.
"""

from skneuron.nn.layers import TaskNeuronLayer
from skneuron.nn.network import ACTIVATIONS, Standardized, TaskNeuronNetwork

__all__ = ["ACTIVATIONS", "Standardized", "TaskNeuronLayer", "TaskNeuronNetwork"]
