"""The competitors: factories with the same preprocessing and network settings.

- ``TaskNeuron-TD`` / ``TaskNeuron-SR``: our estimators with their defaults
  (``discovery="td"`` / ``"sr"``);
- ``LinearNeuron``: our network with the plain formula ``x`` — the papers' LN
  baseline, which isolates what the discovered neuron adds;
- ``sklearn-MLP``: ``MLPRegressor`` / ``MLPClassifier``, the direct rival;
- ``LightGBM``: ``LGBMRegressor`` / ``LGBMClassifier`` with its defaults
  (optional: skipped with a note when ``lightgbm`` is not installed).

The three networks get the same ``hidden_layer_sizes``, ``max_iter`` and
``batch_size`` (our estimators' defaults unless a suite overrides them) and
otherwise each its own defaults. They see the same preprocessing: inputs
through a ``StandardScaler`` pipeline and, for regression, a target
standardised by ``TransformedTargetRegressor`` (ours standardise inside as
well; without it sklearn's MLP fails on targets in the hundreds). LightGBM
gets the raw inputs and target (trees do not care about scale).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn.compose import TransformedTargetRegressor
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from benchmarks.datasets import REGRESSION
from skneuron import TaskNeuronClassifier, TaskNeuronRegressor

#: Network settings every neural competitor shares (values: our defaults).
SHARED_NETWORK_PARAMS = ("hidden_layer_sizes", "max_iter", "batch_size")


@dataclass(frozen=True)
class Competitor:
    """A named model factory: ``build(task, seed, network_params, n_jobs)``."""

    name: str
    build: Callable[..., object]
    neural: bool = True
    requires: str | None = None

    def available(self) -> bool:
        return self.requires is None or importlib.util.find_spec(self.requires) is not None


def shared_network_params(overrides: dict | None = None) -> dict:
    """Widths, epochs and batch size for every network: our defaults, then ``overrides``.

    ``batch_size="auto"`` is made explicit (200, what both ``"auto"`` rules
    give once there are 200 rows or more) so the networks share the number.
    """
    defaults = TaskNeuronRegressor().get_params()
    params = {key: defaults[key] for key in SHARED_NETWORK_PARAMS}
    if params["batch_size"] == "auto":
        params["batch_size"] = 200
    params.update(overrides or {})
    return params


def _scaled(task: str, estimator):
    """Standardised inputs; a standardised target for regression."""
    model = make_pipeline(StandardScaler(), estimator)
    if task == REGRESSION:
        model = TransformedTargetRegressor(regressor=model, transformer=StandardScaler())
    return model


def _task_neuron(**fixed):
    def build(task, seed, network_params, n_jobs):
        cls = TaskNeuronRegressor if task == REGRESSION else TaskNeuronClassifier
        return _scaled(task, cls(random_state=seed, **network_params, **fixed))
    return build


def _mlp(task, seed, network_params, n_jobs):
    cls = MLPRegressor if task == REGRESSION else MLPClassifier
    return _scaled(task, cls(random_state=seed, **network_params))


def _lightgbm(task, seed, network_params, n_jobs):
    import lightgbm

    cls = lightgbm.LGBMRegressor if task == REGRESSION else lightgbm.LGBMClassifier
    return cls(random_state=seed, n_jobs=n_jobs, verbose=-1)


COMPETITORS = {
    c.name: c
    for c in (
        Competitor("TaskNeuron-TD", _task_neuron(discovery="td")),
        Competitor("TaskNeuron-SR", _task_neuron(discovery="sr")),
        Competitor("LinearNeuron", _task_neuron(formula="x")),
        Competitor("sklearn-MLP", _mlp),
        Competitor("LightGBM", _lightgbm, neural=False, requires="lightgbm"),
    )
}


def available(names) -> list[Competitor]:
    """The competitors ``names`` that can run here; a note for each one that cannot."""
    chosen = []
    for name in names:
        competitor = COMPETITORS[name]
        if competitor.available():
            chosen.append(competitor)
        else:
            print(f"note: {name} skipped — `{competitor.requires}` is not installed "
                  "(pip install -e '.[bench]')", flush=True)
    return chosen


def final_estimator(model):
    """The fitted estimator inside the preprocessing wrappers."""
    if isinstance(model, TransformedTargetRegressor):
        model = model.regressor_
    if isinstance(model, Pipeline):
        model = model.steps[-1][1]
    return model


def describe(model) -> dict:
    """Formula, discovery time, parameter count and epochs of a fitted model."""
    estimator = final_estimator(model)
    info = {"formula": "", "discovery_s": np.nan, "n_params": np.nan, "n_iter": np.nan}
    if hasattr(estimator, "formula_"):
        info["formula"] = " + ".join(estimator.formula_.terms)
        discovery = estimator.discovery_
        info["discovery_s"] = discovery.fit_time if discovery is not None else 0.0
        info["n_params"] = sum(p.numel() for p in estimator.network_.parameters())
    elif hasattr(estimator, "coefs_"):
        info["n_params"] = sum(a.size for a in (*estimator.coefs_, *estimator.intercepts_))
    elif hasattr(estimator, "booster_"):  # LightGBM: one value per leaf
        trees = estimator.booster_.dump_model()["tree_info"]
        info["n_params"] = sum(tree["num_leaves"] for tree in trees)
    info["n_iter"] = getattr(estimator, "n_iter_", np.nan)
    return info
