"""Torch modules built from a :class:`~skneuron.NeuronFormula` (formula → network).

Usable on their own in any PyTorch code; nothing here depends on scikit-learn.
:class:`TabularInput` is the input stage of a fitted network: it reads coded
table rows (numbers, category indices, ``NaN`` for missing values).
"""

from skneuron.nn.inputs import TabularInput
from skneuron.nn.layers import TaskNeuronLayer
from skneuron.nn.network import ACTIVATIONS, Standardized, TaskNeuronNetwork

__all__ = ["ACTIVATIONS", "Standardized", "TabularInput", "TaskNeuronLayer", "TaskNeuronNetwork"]
