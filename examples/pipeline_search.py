"""
Pipeline and GridSearchCV
=========================

A :class:`~skneuron.TaskNeuronClassifier` is an ordinary scikit-learn
estimator: it goes into a :class:`~sklearn.pipeline.Pipeline`, its parameters
are searched by :class:`~sklearn.model_selection.GridSearchCV` (each candidate
runs its own discovery on its training folds), and the best pipeline pickles
whole.

Run: ``python examples/pipeline_search.py``.
"""

# %%
# Search
# ------
# The scaler is not needed (the estimator standardises its inputs); it stands
# for any preprocessing. Parameters of a pipeline step are named
# ``<step>__<parameter>``. ``n_jobs=2`` would fit the candidates in two worker
# processes, which pays off for larger searches than this one (each worker
# first has to import torch).
import pickle
import warnings

from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skneuron import TaskNeuronClassifier

# max_iter=50 keeps the example fast; the networks are not fully converged.
warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)

pipe = make_pipeline(StandardScaler(), TaskNeuronClassifier(max_iter=50, random_state=0))
grid = {"taskneuronclassifier__hidden_layer_sizes": [(32,), (64, 32)]}
search = GridSearchCV(pipe, grid, cv=3).fit(X_train, y_train)
print("best parameters:", search.best_params_)
print(f"cross-validated accuracy {search.best_score_:.3f}, "
      f"test accuracy {search.score(X_test, y_test):.3f}")

# %%
# The best pipeline
# -----------------
# ``best_estimator_`` was refitted on all training rows; its last step holds the
# discovered formula.
model = search.best_estimator_
print("formula:", model[-1].formula_)
print("P(class) of the first test rows:\n", model.predict_proba(X_test[:3]).round(3))

# %%
# Pickle
# ------
# The whole pipeline, network included, survives a pickle round trip.
restored = pickle.loads(pickle.dumps(model))
assert (restored.predict(X_test) == model.predict(X_test)).all()
print("pickle round trip: identical predictions")
