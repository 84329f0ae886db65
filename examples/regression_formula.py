"""Regression: discover a neuron formula, read it, and compare with sklearn's MLP.

Run: ``python examples/regression_formula.py`` (about 10 seconds on 2 cores).
"""

from sklearn.datasets import make_friedman1
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skneuron import TaskNeuronRegressor

X, y = make_friedman1(n_samples=3000, noise=0.5, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)

reg = TaskNeuronRegressor(random_state=0).fit(X_train, y_train)

print("Discovered neuron:", reg.formula_)
print(reg.discovery_)  # every candidate term with its keep-probability
print("As sympy, over two named inputs:", reg.formula_.to_sympy(["x1", "x2"]))
print("LaTeX:", reg.formula_.to_latex())

mlp = make_pipeline(StandardScaler(), MLPRegressor(random_state=0, max_iter=500)).fit(X_train, y_train)
print(f"test R²: task neurons {reg.score(X_test, y_test):.3f}, sklearn MLP {mlp.score(X_test, y_test):.3f}")
print(f"epochs: {reg.n_iter_}, final training loss {reg.loss_curve_[-1]:.4f}")
