"""skneuron: task-driven neurons for scikit-learn.

Discover a neuron formula for the task from the data, then train a PyTorch
network whose neurons use it — behind the familiar estimator interface.
"""

from skneuron._estimators import TaskNeuronClassifier, TaskNeuronRegressor
from skneuron._version import __version__
from skneuron.discovery import DiscoveryResult, discover_formula
from skneuron.formula import FormulaSyntaxError, NeuronFormula
from skneuron.persistence import load

__all__ = [
    "DiscoveryResult",
    "FormulaSyntaxError",
    "NeuronFormula",
    "TaskNeuronClassifier",
    "TaskNeuronRegressor",
    "__version__",
    "discover_formula",
    "load",
]
