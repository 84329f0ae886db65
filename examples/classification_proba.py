"""
Classification: probabilities and the decision boundary
=======================================================

Fit a :class:`~skneuron.TaskNeuronClassifier` on the two interleaving half
moons, read the class probabilities from
:meth:`~skneuron.TaskNeuronClassifier.predict_proba`, and draw the decision
boundary next to that of the same network built from ordinary linear neurons
(``formula="x"``).

Run: ``python examples/classification_proba.py``.
"""

# %%
# Fit
# ---
# Two features, two classes. Discovery selects the terms the neuron needs
# from the one-hot class indicators; the network then trains with the
# cross-entropy loss (one logistic output for two classes, a softmax for more).
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_moons
from sklearn.exceptions import ConvergenceWarning
from sklearn.inspection import DecisionBoundaryDisplay
from sklearn.model_selection import train_test_split

from skneuron import TaskNeuronClassifier

# The fit runs all 200 epochs (the default max_iter): early stopping, on by default, ends a
# fit only once each of the four members has gone ten epochs without improving on its own
# held-out fold, which does not happen here, so fit warns that it has not converged. Fine
# for this example.
warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, y = make_moons(n_samples=600, noise=0.25, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)

clf = TaskNeuronClassifier(hidden_layer_sizes=(16,), random_state=0).fit(X_train, y_train)
print("Discovered neuron:", clf.formula_)
print(clf.discovery_)

# %%
# Probabilities
# -------------
# One column per class, in the order of ``classes_``; each row sums to one.
# ``predict`` returns the class with the highest probability.
proba = clf.predict_proba(X_test[:5])
print("classes:", clf.classes_)
print("P(class) of the first test rows:\n", proba.round(3))
print("predicted:", clf.predict(X_test[:5]), " true:", y_test[:5])

# %%
# Against ordinary neurons
# ------------------------
# The same network, 16 hidden neurons trained the same way, but with the
# linear neuron ``σ(wᵀx + b)`` instead of the discovered one.
linear = TaskNeuronClassifier(hidden_layer_sizes=(16,), formula="x", random_state=0)
linear.fit(X_train, y_train)
for name, model in [("discovered neuron", clf), ("linear neuron", linear)]:
    print(f"{name:>17}: test accuracy {model.score(X_test, y_test):.3f}, "
          f"log-loss on train {model.loss_curve_[-1]:.3f}, {model.n_iter_} epochs")

# %%
# Decision boundaries
# -------------------
# The colour is the predicted probability of class 1; the black line is where
# it equals 0.5.
fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), layout="constrained", sharey=True)
for ax, model, name in [(axes[0], clf, "discovered"), (axes[1], linear, "linear")]:
    display = DecisionBoundaryDisplay.from_estimator(
        model, X, response_method="predict_proba", plot_method="contourf", levels=np.linspace(0, 1, 11),
        grid_resolution=200, cmap="RdBu", alpha=0.7, ax=ax)
    DecisionBoundaryDisplay.from_estimator(
        model, X, response_method="predict_proba", plot_method="contour",
        grid_resolution=200, levels=[0.5], colors="black", ax=ax)
    ax.scatter(X_test[:, 0], X_test[:, 1], c=y_test, cmap="RdBu", edgecolors="black", s=18)
    ax.set_title(f"{name}: {model.formula_}\ntest accuracy {model.score(X_test, y_test):.3f}",
                 fontsize=10)
fig.colorbar(display.surface_, ax=axes, label="P(class 1)")
plt.show()
