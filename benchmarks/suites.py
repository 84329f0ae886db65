"""The suites: which data sets, seeds, competitors and speed/scaling settings.

``quick`` is what users run first (a few minutes on 2 cores): the bundled data
sets and the generated ones at a few thousand rows. ``full`` adds the generated
data sets at 20 000 rows and friedman1 at 200 000 (one 200 000-row data set
keeps the run under 45 minutes on 2 cores), and scales the fit-time curves up
to 200 000 rows and 500 features. ``real`` is 24 real tables (raw pandas
frames with text columns and missing values, :mod:`benchmarks.real_datasets`)
against gradient boosting and RealMLP-TD, each model at its own defaults, and
the stability of the discovered formula across seeds. ``holdout`` runs the
same protocol on 9 other real tables, chosen after the defaults were last
changed: evidence of how the defaults do on data they were not chosen on.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from benchmarks.competitors import (COMPETITORS, TABULAR_COMPETITORS, Competitor,
                                    shared_network_params)
from benchmarks.datasets import BUNDLED, Dataset, dataset
from benchmarks.real_datasets import HOLDOUT_DATASETS, REAL_DATASETS, RealDataset

ALL_MODELS = tuple(COMPETITORS)
REAL_MODELS = tuple(TABULAR_COMPETITORS)
#: The parts a run can measure; each suite runs its ``parts`` unless told otherwise.
PARTS = ("accuracy", "speed", "scaling", "stability")

#: RealMLP-TD's epochs in the real suite (its default: 256). On 2 CPU threads a training
#: step (batch 256) took 0.016–0.3 s here depending on the machine's load; at 32 epochs its
#: 72 fits took 46 of the first full run's 69 minutes (load average 3–5 on 2 cores), so its
#: default would take several hours. ``--realmlp-epochs 256`` runs the default; the summary
#: compares the two on a few small sets.
REALMLP_EPOCHS = 32


def fixed_epochs(epochs: int) -> dict:
    """Network parameters that train for exactly ``epochs`` epochs.

    Our estimators stop early on held-out rows above 10 000 rows by default
    (``early_stopping="auto"``), sklearn's MLP does not: a timing turns it off.
    """
    return {"max_iter": epochs, "tol": 0.0, "n_iter_no_change": epochs + 1,
            "early_stopping": False}


@dataclass(frozen=True)
class SpeedSettings:
    """The speed targets' measurement: one fixed-epoch fit, then predict throughput."""

    n_samples: int = 20_000
    n_features: int = 20
    hidden_layer_sizes: tuple[int, ...] = (64, 64)
    batch_size: int = 200
    epochs: int = 30
    predict_rows: int = 100_000
    repeats: int = 3

    def network_params(self) -> dict:
        """Fixed epochs: no early stopping, ``tol=0`` and a patience longer than the run."""
        return {"hidden_layer_sizes": self.hidden_layer_sizes, "batch_size": self.batch_size,
                **fixed_epochs(self.epochs)}


@dataclass(frozen=True)
class ScalingSettings:
    """Fit time against n (at ``base_features``) and against D (at ``base_samples``)."""

    sample_sizes: tuple[int, ...] = (1_000, 3_000, 10_000)
    feature_counts: tuple[int, ...] = (10, 50, 200)
    base_samples: int = 2_000
    base_features: int = 20
    epochs: int = 5
    models: tuple[str, ...] = ("TaskNeuron-TD", "LinearNeuron", "sklearn-MLP", "LightGBM")


@dataclass(frozen=True)
class Suite:
    """Everything one benchmark run measures.

    A ``tabular`` suite's data sets are raw tables and its competitors those
    of :data:`~benchmarks.competitors.TABULAR_COMPETITORS`, each at its own
    defaults; the others share our network settings on numeric arrays.
    ``estimator_params`` go to our estimators only (ablations, ``--params``);
    ``competitor_params`` to the named competitor (RealMLP-TD's epoch cap).
    """

    name: str
    datasets: tuple[Dataset | RealDataset, ...]
    seeds: tuple[int, ...] = (0, 1, 2)
    models: tuple[str, ...] = ALL_MODELS
    network_overrides: dict = field(default_factory=dict)  # on top of our defaults
    speed: SpeedSettings | None = SpeedSettings()
    scaling: ScalingSettings | None = ScalingSettings()
    test_size: float = 0.25
    tabular: bool = False
    parts: tuple[str, ...] = ("accuracy", "speed", "scaling")
    estimator_params: dict = field(default_factory=dict)
    competitor_params: dict = field(default_factory=dict)  # name -> that model's parameters

    @property
    def registry(self) -> dict[str, Competitor]:
        """The competitors this suite chooses its ``models`` from."""
        return TABULAR_COMPETITORS if self.tabular else COMPETITORS

    def params_for(self, competitor: Competitor) -> dict:
        """What ``competitor.build`` gets: shared network settings, then ours' extra params.

        In a tabular suite nothing is shared: every model keeps its defaults.
        """
        shared = {} if self.tabular else shared_network_params(self.network_overrides)
        own = self.competitor_params.get(competitor.name, {})
        return {**shared, **(self.estimator_params if competitor.ours else {}), **own}


_QUICK_GENERATED = [("friedman1", 2_000), ("friedman2", 2_000), ("friedman3", 2_000),
                    ("planted_poly", 2_500), ("planted_sin", 2_000), ("interactions", 2_000)]
_FULL_GENERATED = _QUICK_GENERATED + [
    ("friedman1", 20_000), ("planted_poly", 20_000), ("planted_sin", 20_000),
    ("interactions", 20_000), ("friedman1", 200_000)]

SUITES = {
    "quick": Suite(
        "quick",
        tuple(dataset(name) for name in BUNDLED)
        + tuple(dataset(name, n) for name, n in _QUICK_GENERATED),
        speed=SpeedSettings(repeats=2),
    ),
    "full": Suite(
        "full",
        tuple(dataset(name) for name in BUNDLED)
        + tuple(dataset(name, n) for name, n in _FULL_GENERATED),
        scaling=ScalingSettings(
            sample_sizes=(1_000, 3_000, 10_000, 30_000, 100_000, 200_000),
            feature_counts=(10, 30, 100, 300, 500), base_samples=10_000, epochs=10),
    ),
    "real": Suite("real", REAL_DATASETS, models=REAL_MODELS, speed=None, scaling=None,
                  tabular=True, parts=("accuracy", "stability"),
                  competitor_params={"RealMLP-TD": {"n_epochs": REALMLP_EPOCHS}}),
}
SUITES["holdout"] = replace(SUITES["real"], name="holdout", datasets=HOLDOUT_DATASETS)


def get_suite(name: str, *, seeds: int | None = None, only: list[str] | None = None,
              models: list[str] | None = None, params: dict | None = None,
              realmlp_epochs: int | None = None) -> Suite:
    """The named suite, optionally with fewer seeds, data sets or models, our ``params``
    (for ablations) or another epoch count for RealMLP-TD."""
    suite = replace(SUITES[name], estimator_params=dict(params or {}))
    if realmlp_epochs is not None:
        suite = replace(suite, competitor_params={**suite.competitor_params,
                                                  "RealMLP-TD": {"n_epochs": realmlp_epochs}})
    if seeds is not None:
        suite = replace(suite, seeds=tuple(range(seeds)))
    if only:
        chosen = tuple(d for d in suite.datasets if d.name in only or d.family in only)
        if not chosen:
            raise ValueError(f"--only {only} matches none of {[d.name for d in suite.datasets]}")
        suite = replace(suite, datasets=chosen)
    if models:
        unknown = set(models) - set(suite.registry)
        if unknown:
            raise ValueError(f"unknown models {sorted(unknown)} in suite {name!r}; choose from "
                             f"{tuple(suite.registry)}")
        suite = replace(suite, models=tuple(models))
    return suite
