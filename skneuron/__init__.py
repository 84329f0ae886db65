"""skneuron: task-driven neurons for scikit-learn."""

from skneuron.formula import FormulaSyntaxError, NeuronFormula

__version__ = "0.1.0"
__all__ = ["NeuronFormula", "FormulaSyntaxError", "__version__"]
