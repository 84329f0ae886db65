"""The competitors: model factories, one registry per kind of suite.

:data:`COMPETITORS` — the synthetic suites (``quick``, ``full``), on numeric
arrays, with the same preprocessing and network settings:

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

:data:`TABULAR_COMPETITORS` — the ``real`` suite, on raw pandas tables (numeric,
boolean and ``category`` columns, missing values as NaN). Each model runs at
its own defaults and does its own preprocessing inside its factory, as a
careful user would set it up:

- ``TaskNeuron-TD`` / ``TaskNeuron-SR`` / ``LinearNeuron``: our estimators,
  given the table as it is once they read ``category`` columns themselves
  (a ``categorical_features`` parameter), until then behind
  :class:`~skneuron.preprocessing.TabularEncoder` (:func:`tabular_input`);
- ``sklearn-MLP``: made fair — numeric columns median-imputed with missing
  indicators and standardised, categories one-hot encoded with missing as a
  category of its own, ``hidden_layer_sizes=(64, 64)``, ``early_stopping=True``,
  and for regression a standardised target (``TransformedTargetRegressor``);
- ``HistGradientBoosting``: ``HistGradientBoostingRegressor/Classifier``,
  whose ``categorical_features="from_dtype"`` reads the ``category`` columns;
- ``LightGBM``: defaults; ``category`` columns are native;
- ``RealMLP-TD``: pytabkit's pre-tuned MLP on CPU, numeric columns
  median-imputed with missing indicators (it refuses NaN there).

``ours`` marks our estimators: ablation parameters (``--params``) go to them.
The factories of the other tabular competitors pass the parameters a suite
sets for them (:attr:`~benchmarks.suites.Suite.competitor_params`, e.g.
RealMLP-TD's epoch cap) to the model.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor, make_column_selector
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.impute import SimpleImputer
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from benchmarks.datasets import REGRESSION
from skneuron import TaskNeuronClassifier, TaskNeuronRegressor
from skneuron.preprocessing import TabularEncoder

#: Network settings every neural competitor shares (values: our defaults).
SHARED_NETWORK_PARAMS = ("hidden_layer_sizes", "max_iter", "batch_size")


@dataclass(frozen=True)
class Competitor:
    """A named model factory: ``build(task, seed, network_params, n_jobs)``."""

    name: str
    build: Callable[..., object]
    neural: bool = True
    requires: str | None = None
    ours: bool = False  # ablation parameters (--params) apply

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


#: Our competitors: the default estimator, with symbolic regression, with linear neurons.
OUR_VARIANTS = {"TaskNeuron-TD": {"discovery": "td"}, "TaskNeuron-SR": {"discovery": "sr"},
                "LinearNeuron": {"formula": "x"}}


def _our_competitors(wrap) -> list[Competitor]:
    """Our variants as competitors; ``wrap(task, estimator)`` adds the preprocessing."""
    def factory(fixed):
        def build(task, seed, params, n_jobs):
            cls = TaskNeuronRegressor if task == REGRESSION else TaskNeuronClassifier
            return wrap(task, cls(random_state=seed, **params, **fixed))
        return build
    return [Competitor(name, factory(fixed), ours=True) for name, fixed in OUR_VARIANTS.items()]


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
        *_our_competitors(_scaled),
        Competitor("sklearn-MLP", _mlp),
        Competitor("LightGBM", _lightgbm, neural=False, requires="lightgbm"),
    )
}


# ------------------------------------------------------------ raw tables
#: The columns a table's numeric and categorical transformers take (booleans count as 0/1).
NUMERIC_COLUMNS = make_column_selector(dtype_include=["number", "bool"])
CATEGORY_COLUMNS = make_column_selector(dtype_include="category")

def tabular_input(estimator):
    """Our estimator as it takes a raw table: as is once it reads ``category`` columns.

    Until the estimators have a ``categorical_features`` parameter, a
    :class:`~skneuron.preprocessing.TabularEncoder` in front does it for them
    (numbers kept, missing ones set to the median; categories one-hot).
    """
    if "categorical_features" in estimator.get_params():
        return estimator
    return Pipeline([("encode", TabularEncoder()), ("model", estimator)])


def _numeric_imputer():
    """Missing numbers set to the training median, with an indicator column for each."""
    return SimpleImputer(strategy="median", add_indicator=True)


def _fair_mlp(task, seed, params, n_jobs):
    """sklearn's MLP as a careful user sets it up on a table."""
    encode = ColumnTransformer([
        ("numeric", make_pipeline(_numeric_imputer(), StandardScaler()), NUMERIC_COLUMNS),
        ("categorical", make_pipeline(SimpleImputer(strategy="constant", fill_value="missing"),
                                      OneHotEncoder(handle_unknown="ignore")),
         CATEGORY_COLUMNS),
    ])
    cls = MLPRegressor if task == REGRESSION else MLPClassifier
    model = make_pipeline(encode, cls(**{"hidden_layer_sizes": (64, 64), "early_stopping": True,
                                         "random_state": seed, **params}))
    if task == REGRESSION:
        model = TransformedTargetRegressor(regressor=model, transformer=StandardScaler())
    return model


def _hist_gradient_boosting(task, seed, params, n_jobs):
    cls = HistGradientBoostingRegressor if task == REGRESSION else HistGradientBoostingClassifier
    return cls(random_state=seed, **params)


def _realmlp(task, seed, params, n_jobs):
    """RealMLP-TD on CPU; it encodes categories itself but refuses missing numbers."""
    from pytabkit import RealMLP_TD_Classifier, RealMLP_TD_Regressor

    impute = ColumnTransformer([("numeric", _numeric_imputer(), NUMERIC_COLUMNS)],
                               remainder="passthrough", verbose_feature_names_out=False)
    cls = RealMLP_TD_Regressor if task == REGRESSION else RealMLP_TD_Classifier
    return make_pipeline(impute.set_output(transform="pandas"),
                         cls(device="cpu", random_state=seed, n_threads=n_jobs, verbosity=0,
                             **params))


TABULAR_COMPETITORS = {
    c.name: c
    for c in (
        *_our_competitors(lambda task, estimator: tabular_input(estimator)),
        Competitor("sklearn-MLP", _fair_mlp),
        Competitor("HistGradientBoosting", _hist_gradient_boosting, neural=False),
        Competitor("LightGBM", _lightgbm, neural=False, requires="lightgbm"),
        Competitor("RealMLP-TD", _realmlp, requires="pytabkit"),
    )
}


def available(names, registry=COMPETITORS) -> list[Competitor]:
    """The competitors ``names`` of ``registry`` that can run here; a note for each that cannot."""
    chosen = []
    for name in names:
        competitor = registry[name]
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
