"""The suite's data sets: all available offline, generated ones at chosen sizes.

Each :class:`Dataset` is a name, a task and a loader ``load(n_samples)``.
Bundled data sets have a fixed size (``n_samples`` is ignored); generated ones
are drawn with ``random_state=0`` whatever the benchmark seed, so every seed
and every competitor sees the same rows — the seed varies the train/test
split and the models' own randomness only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn import datasets as sk_datasets

from skneuron.datasets import make_planted_polynomial, make_planted_vectorized

REGRESSION, CLASSIFICATION = "regression", "classification"

#: Seed of every generated data set (the benchmark seeds vary splits and models).
DATA_SEED = 0


@dataclass(frozen=True)
class Dataset:
    """One data set of the suite.

    ``name`` is unique within a suite (generated data sets carry their size,
    e.g. ``friedman1_20000``); ``family`` is the name without the size.
    """

    family: str
    task: str
    loader: Callable[[int], tuple[np.ndarray, np.ndarray]]
    n_samples: int | None = None  # None: a bundled data set of fixed size

    @property
    def name(self) -> str:
        return self.family if self.n_samples is None else f"{self.family}_{self.n_samples}"

    def load(self) -> tuple[np.ndarray, np.ndarray]:
        X, y = self.loader(self.n_samples)
        return np.asarray(X, dtype=float), np.asarray(y)


def _bundled(loader_name: str):
    return lambda _n: getattr(sk_datasets, f"load_{loader_name}")(return_X_y=True)


def _friedman(number: int):
    make = getattr(sk_datasets, f"make_friedman{number}")
    # friedman1 takes n_features (5 informative + noise features); 2 and 3 are 4-D.
    extra = {"n_features": 10} if number == 1 else {}
    return lambda n: make(n_samples=n, noise=0.5 if number == 1 else 0.0, random_state=DATA_SEED,
                          **extra)


def _planted_polynomial(n):
    return make_planted_polynomial("hybrid", n_samples=n, noise=0.1, random_state=DATA_SEED)


def _planted_sin(n):
    return make_planted_vectorized(lambda x: np.sin(x) + 0.5 * x**2, n_samples=n, noise=0.1,
                                   random_state=DATA_SEED)


def _interactions(n):
    # Several Gaussian clusters per class on hypercube vertices: the class is an
    # XOR-like function of the informative features, not a linear one.
    return sk_datasets.make_classification(
        n_samples=n, n_features=20, n_informative=8, n_redundant=4, n_classes=3,
        n_clusters_per_class=4, flip_y=0.01, random_state=DATA_SEED)


#: family -> (task, loader(n_samples), one-line description)
FAMILIES: dict[str, tuple[str, Callable, str]] = {
    "diabetes": (REGRESSION, _bundled("diabetes"), "sklearn bundled, 442 × 10"),
    "breast_cancer": (CLASSIFICATION, _bundled("breast_cancer"), "sklearn bundled, 569 × 30"),
    "wine": (CLASSIFICATION, _bundled("wine"), "sklearn bundled, 178 × 13, 3 classes"),
    "digits": (CLASSIFICATION, _bundled("digits"), "sklearn bundled, 1797 × 64, 10 classes"),
    "iris": (CLASSIFICATION, _bundled("iris"), "sklearn bundled, 150 × 4, 3 classes"),
    "friedman1": (REGRESSION, _friedman(1), "make_friedman1, D = 10 (5 informative), noise 0.5"),
    "friedman2": (REGRESSION, _friedman(2), "make_friedman2, D = 4, no noise"),
    "friedman3": (REGRESSION, _friedman(3), "make_friedman3, D = 4, no noise"),
    "planted_poly": (REGRESSION, _planted_polynomial,
                     "make_planted_polynomial('hybrid'): w₂ᵀx∘² + (aᵀx)(bᵀx), D = 10, noise 0.1"),
    "planted_sin": (REGRESSION, _planted_sin,
                    "make_planted_vectorized: Σᵢ sin(xᵢ) + 0.5 xᵢ², D = 8, noise 0.1"),
    "interactions": (CLASSIFICATION, _interactions,
                     "make_classification, D = 20, 3 classes × 4 clusters (XOR-like)"),
}

BUNDLED = ("diabetes", "breast_cancer", "wine", "digits", "iris")


def dataset(family: str, n_samples: int | None = None) -> Dataset:
    """The data set ``family`` at ``n_samples`` rows (None for bundled ones)."""
    task, loader, _ = FAMILIES[family]
    if (family in BUNDLED) != (n_samples is None):
        raise ValueError(f"{family}: give n_samples for generated data sets only")
    return Dataset(family, task, loader, n_samples)


def describe(family: str) -> str:
    """One line saying what ``family`` is."""
    return FAMILIES[family][2]


def scaling_data(n_samples: int, n_features: int) -> tuple[np.ndarray, np.ndarray]:
    """friedman1 with ``n_features`` columns (5 informative): the scaling runs' data."""
    return sk_datasets.make_friedman1(n_samples=n_samples, n_features=n_features, noise=0.5,
                                      random_state=DATA_SEED)
