"""
Regression: discover a neuron and read its formula
==================================================

Fit a :class:`~skneuron.TaskNeuronRegressor` on friedman1, read the neuron
formula that discovery found (as text, as sympy, as LaTeX), see the evidence
for every candidate term, and compare the test score with scikit-learn's
:class:`~sklearn.neural_network.MLPRegressor`. The figure shows the formula,
the learning curve and the test predictions (it is the picture in the
README: ``python docs/make_figures.py`` redraws it).

Run: ``python examples/regression_formula.py``.
"""

# %%
# Fit
# ---
# friedman1 is ``10 sin(π x₁x₂) + 20 (x₃ − ½)² + 10 x₄ + 5 x₅ + noise``, with
# five more features that do not matter. No scaler is needed: the estimator
# standardises inputs and target internally.
import warnings

import matplotlib.pyplot as plt
from sklearn.datasets import make_friedman1
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skneuron import TaskNeuronRegressor

# The MLP below stops at max_iter=500 while still improving a little: fine here.
warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, y = make_friedman1(n_samples=2000, noise=0.5, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)

reg = TaskNeuronRegressor(random_state=0).fit(X_train, y_train)

# %%
# The discovered neuron
# ---------------------
# ``formula_`` is what every hidden neuron computes; ``discovery_`` lists every
# candidate term with the evidence that it belongs (``*``: selected).
print("Discovered neuron:", reg.formula_)
print("Terms:", reg.formula_.terms)
print(reg.discovery_)

# %%
# The same formula as math: over two named inputs with one symbol per weight,
# and as LaTeX with indexed sums.
print("As sympy, over two named inputs:", reg.formula_.to_sympy(["x1", "x2"]))
print("LaTeX:", reg.formula_.to_latex())

# %%
# Against scikit-learn's MLP
# --------------------------
mlp = make_pipeline(StandardScaler(), MLPRegressor(random_state=0, max_iter=500))
mlp.fit(X_train, y_train)
print(f"test R²: task neurons {reg.score(X_test, y_test):.3f}, "
      f"sklearn MLP {mlp.score(X_test, y_test):.3f}")
print(f"epochs: {reg.n_iter_}, final training loss {reg.loss_curve_[-1]:.4f}")

# %%
# Learning curve and predictions
# ------------------------------
# ``loss_curve_`` is the training loss after each epoch, on the standardised
# target (half the mean squared error).
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
left.plot(range(1, reg.n_iter_ + 1), reg.loss_curve_)
left.set(xlabel="epoch", ylabel="training loss (standardised target)", yscale="log",
         title="Learning curve")
right.scatter(y_test, reg.predict(X_test), s=6, alpha=0.5)
lims = [y_test.min(), y_test.max()]
right.plot(lims, lims, color="black", linewidth=1)
right.set(xlabel="true y", ylabel="predicted y",
          title=f"Test set, R² = {reg.score(X_test, y_test):.3f}")
fig.suptitle(f"friedman1 — discovered neuron {reg.formula_}")
plt.show()
