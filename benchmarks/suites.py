"""The suites: which data sets, seeds, competitors and speed/scaling settings.

``quick`` is what users run first (a few minutes on 2 cores): the bundled data
sets and the generated ones at a few thousand rows. ``full`` adds the generated
data sets at 20 000 rows and friedman1 at 200 000 (one 200 000-row data set
keeps the run under 45 minutes on 2 cores), and scales the fit-time curves up
to 200 000 rows and 500 features.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from benchmarks.datasets import BUNDLED, Dataset, dataset

ALL_MODELS = ("TaskNeuron-TD", "TaskNeuron-SR", "LinearNeuron", "sklearn-MLP", "LightGBM")


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
    """Everything one benchmark run measures."""

    name: str
    datasets: tuple[Dataset, ...]
    seeds: tuple[int, ...] = (0, 1, 2)
    models: tuple[str, ...] = ALL_MODELS
    network_overrides: dict = field(default_factory=dict)  # on top of our defaults
    speed: SpeedSettings | None = SpeedSettings()
    scaling: ScalingSettings | None = ScalingSettings()
    test_size: float = 0.25


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
}


def get_suite(name: str, *, seeds: int | None = None, only: list[str] | None = None,
              models: list[str] | None = None) -> Suite:
    """The named suite, optionally with fewer seeds, data sets or models."""
    suite = SUITES[name]
    if seeds is not None:
        suite = replace(suite, seeds=tuple(range(seeds)))
    if only:
        chosen = tuple(d for d in suite.datasets if d.name in only or d.family in only)
        if not chosen:
            raise ValueError(f"--only {only} matches none of {[d.name for d in suite.datasets]}")
        suite = replace(suite, datasets=chosen)
    if models:
        unknown = set(models) - set(ALL_MODELS)
        if unknown:
            raise ValueError(f"unknown models {sorted(unknown)}; choose from {ALL_MODELS}")
        suite = replace(suite, models=tuple(models))
    return suite
