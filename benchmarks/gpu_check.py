"""One command that proves the GPU path: ``python -m benchmarks.gpu_check``.

On a machine with a CUDA device, in a few minutes, it

1. fits both estimators on the GPU — TD discovery with ``compile`` off and on,
   SR discovery without (each compiled network shape takes Triton tens of
   seconds) — and refits each on the CPU with the same ``random_state``: the formulas
   must be the same and the predictions agree within :data:`REFIT_TOLERANCE`
   (the two fits see the same initial weights and the same row orders, so they
   differ by the rounding of other kernels only, grown over the epochs);
2. round trips every GPU-fitted model through pickle (loaded on the GPU and on
   the CPU), ``save`` / :func:`skneuron.load` and the TorchScript and ONNX
   exports: the same network, so predictions agree within
   :data:`ROUNDING_TOLERANCE` (float32 rounding on another device or in
   float64), and the live model still predicts on the GPU after being pickled;
3. runs a ``GridSearchCV`` on the GPU and compares its mean test scores with
   the same search on the CPU (:data:`SEARCH_TOLERANCE`);
4. measures training and prediction throughput on 1 000 000 rows (friedman1,
   20 features, hidden layers (64, 64), a given formula, one epoch), on the GPU
   and for the same network on the CPU.

Differences are measured relative to the scale of the predictions: the
largest absolute difference divided by the standard deviation of the CPU
model's predictions (regression), or in probability (classification).

Run ``python -m benchmarks.gpu_check [--device cuda:1] [--rows N] [--out PATH]``.
It prints each check, writes the tables to ``benchmarks/results/gpu.md`` and
exits with status 1 if a check failed. Without a CUDA device it prints
``skipped: no CUDA device`` and exits 0, writing nothing.
"""

from __future__ import annotations

import argparse
import copy
import datetime
import pickle
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

import skneuron
from benchmarks.datasets import scaling_data
from skneuron import TaskNeuronClassifier, TaskNeuronRegressor
from skneuron.training import resolve_device

RESULTS = Path(__file__).parent / "results" / "gpu.md"
#: Largest difference between a GPU fit and its CPU refit, relative to the scale of
#: the predictions (regression) or in probability (classification).
REFIT_TOLERANCE = 0.02
#: Largest difference between two runs of one trained network (another device, a
#: file, an export), on the same scale: float32 rounding.
ROUNDING_TOLERANCE = 1e-4
#: Largest difference between the GPU's and the CPU's mean cross-validated scores.
SEARCH_TOLERANCE = 0.02
SKIPPED = "skipped: no CUDA device"


@dataclass(frozen=True)
class Settings:
    """Sizes of one run; :meth:`small` for a test on the CPU.

    Examples
    --------
    >>> Settings.small().throughput_rows
    2000
    """

    n_samples: int = 3000
    n_features: int = 8
    hidden_layer_sizes: tuple[int, ...] = (32,)
    max_iter: int = 20
    sr_params: dict = field(default_factory=lambda: {"generations": 3, "population_size": 200})
    #: (discovery, compile) of the fits checked for each estimator.
    fits: tuple[tuple[str, bool], ...] = (("td", False), ("td", True), ("sr", False))
    #: The discovery methods whose fitted models are saved, loaded and exported.
    round_trips: tuple[str, ...] = ("td", "sr")
    search_grid: tuple[tuple[int, ...], ...] = ((16,), (32,))
    throughput_rows: int = 1_000_000
    throughput_features: int = 20
    throughput_hidden: tuple[int, ...] = (64, 64)
    throughput_batches: tuple[int, ...] = (200, 4096)

    @classmethod
    def small(cls) -> Settings:
        """Sizes that exercise every check in seconds."""
        return cls(n_samples=300, n_features=5, hidden_layer_sizes=(8,), max_iter=3,
                   sr_params={"generations": 1, "population_size": 30},
                   fits=(("td", False), ("sr", False)), round_trips=("td",),
                   search_grid=((4,), (8,)),
                   throughput_rows=2000,
                   throughput_features=5, throughput_hidden=(8,), throughput_batches=(500,))


@dataclass
class Check:
    """One comparison: its measured difference against its tolerance.

    Examples
    --------
    >>> Check("pickle", 0.0, 1e-4).passed, Check("refit", 0.5, 0.02).passed
    (True, False)
    """

    name: str
    difference: float
    tolerance: float
    note: str = ""

    @property
    def passed(self) -> bool:
        return bool(self.difference <= self.tolerance)


def problems(settings: Settings) -> dict[str, tuple[type, np.ndarray, np.ndarray]]:
    """The regression and classification data the correctness checks fit."""
    X, y = scaling_data(settings.n_samples, settings.n_features)
    Xc, yc = make_classification(settings.n_samples, settings.n_features, n_informative=3,
                                 n_redundant=0, n_classes=3, n_clusters_per_class=1,
                                 random_state=0)
    return {"regressor": (TaskNeuronRegressor, X, y), "classifier": (TaskNeuronClassifier, Xc, yc)}


def outputs(model, X) -> np.ndarray:
    """What is compared: predictions (regression) or class probabilities."""
    return model.predict_proba(X) if hasattr(model, "classes_") else model.predict(X)


def difference(actual: np.ndarray, reference: np.ndarray, probabilities: bool) -> float:
    """Largest absolute difference, relative to the reference's spread for regression.

    Examples
    --------
    >>> difference(np.array([1.0, 3.0]), np.array([1.0, 2.0]), probabilities=False)
    2.0
    """
    largest = float(np.max(np.abs(np.asarray(actual) - reference)))
    return largest if probabilities else largest / max(float(np.std(reference)), 1e-12)


def _fit(Estimator, X, y, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.filterwarnings("ignore", message=".*discovery found no informative term")
        return Estimator(**params).fit(X, y)


def fit_checks(device: str, settings: Settings, log: Callable[[str], None] = print
               ) -> tuple[list[Check], dict]:
    """Item 1: fits on ``device`` against CPU refits; returns the checks and the fitted models."""
    checks, fitted = [], {}
    for task, (Estimator, X, y) in problems(settings).items():
        for discovery, compiled in settings.fits:
            params = {"hidden_layer_sizes": settings.hidden_layer_sizes, "discovery": discovery,
                      "max_iter": settings.max_iter, "early_stopping": False, "random_state": 0,
                      "discovery_params": settings.sr_params if discovery == "sr" else None}
            reference = _fit(Estimator, X, y, **params, device="cpu")
            name = f"{task} {discovery.upper()}{' compiled' if compiled else ''}"
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                model = _fit(Estimator, X, y, **params, device=device, compile=compiled)
            fallback = [w for w in caught if "torch.compile failed" in str(w.message)]
            checks.append(Check(f"{name}: fit on {device} vs CPU refit",
                                difference(outputs(model, X), outputs(reference, X),
                                           task == "classifier"), REFIT_TOLERANCE))
            checks.append(Check(f"{name}: same formula and device", float(
                model.formula_ != reference.formula_
                or model.device_ != resolve_device(device) or bool(fallback)), 0.0,
                str(fallback[0].message)[:120] if fallback else ""))
            log(_line(checks[-2]))
            fitted[name] = (model, X)
    return checks, fitted


def round_trip_checks(name: str, model, X: np.ndarray) -> list[Check]:
    """Item 2: pickle, save/load and exports of one fitted model predict as it does."""
    probabilities = hasattr(model, "classes_")
    expected = outputs(model, X)
    network, device = model.network_, model.device_
    copies = {"pickle": pickle.loads(pickle.dumps(model)), "deepcopy": copy.deepcopy(model)}
    live = model.network_ is network and model.device_ == device
    copies["the live model, after pickling"] = model
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "model.skn"
        model.save(path)
        copies["save/load"] = skneuron.load(path)
        on_cpu = pickle.loads(pickle.dumps(model))
        on_cpu.network_.to("cpu")
        on_cpu.device_ = torch.device("cpu")
        copies["pickle, on the CPU"] = on_cpu
        exported = {"TorchScript": _torchscript_outputs(model, X, Path(directory)),
                    "ONNX": _onnx_outputs(model, X, Path(directory))}
    checks = [Check(f"{name}: live model kept after pickling", float(not live), 0.0)]
    checks += [Check(f"{name}: {how}", difference(outputs(copied, X), expected, probabilities),
                     ROUNDING_TOLERANCE) for how, copied in copies.items()]
    for how, result in exported.items():
        if isinstance(result, str):
            checks.append(Check(f"{name}: {how} export", 0.0, 0.0, result))
        else:
            checks.append(Check(f"{name}: {how} export", difference(result, expected,
                                                                      probabilities),
                                ROUNDING_TOLERANCE))
    return checks


def _torchscript_outputs(model, X, directory: Path) -> np.ndarray:
    path = directory / "model.pt"
    model.export_torchscript(path, dtype="float64")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        module = torch.jit.load(str(path))
    result = module(torch.as_tensor(X, dtype=torch.float64)).numpy()
    return result if hasattr(model, "classes_") else result.reshape(model.predict(X).shape)


def _onnx_outputs(model, X, directory: Path, rows: int = 256) -> np.ndarray | str:
    """The ONNX export's outputs (onnxruntime, else onnx's reference evaluator) or why none."""
    path = directory / "model.onnx"
    try:
        model.export_onnx(path, dtype="float64")
    except ImportError as exc:
        return f"not checked: {exc}"
    inputs = {"X": np.asarray(X[:rows], dtype=np.float64)}
    try:
        import onnxruntime

        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        result = session.run(None, inputs)[0]
    except ImportError:
        from onnx.reference import ReferenceEvaluator

        result = ReferenceEvaluator(str(path)).run(None, inputs)[0]
    full = outputs(model, X).copy()  # only the first rows are evaluated
    full[:rows] = result if hasattr(model, "classes_") else result.reshape(full[:rows].shape)
    return full


def search_check(device: str, settings: Settings) -> Check:
    """Item 3: a GridSearchCV on ``device`` scores as the same search on the CPU."""
    Estimator, X, y = problems(settings)["classifier"]
    grid = {"hidden_layer_sizes": list(settings.search_grid)}
    scores = {}
    for where in (device, "cpu"):
        estimator = Estimator(max_iter=settings.max_iter, early_stopping=False, random_state=0,
                              formula="x + x**2", device=where)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            search = GridSearchCV(estimator, grid, cv=3).fit(X, y)
        scores[where] = search.cv_results_["mean_test_score"]
        if search.best_estimator_.device_ != resolve_device(where):
            return Check(f"GridSearchCV on {device}", 1.0, 0.0, "refit on another device")
    return Check(f"GridSearchCV on {device} vs CPU (mean test scores)",
                 float(np.max(np.abs(scores[device] - scores["cpu"]))), SEARCH_TOLERANCE)


def throughput(device: str, settings: Settings, batch_size: int) -> dict:
    """Item 4: one epoch's training and a predict of all rows, in rows per second."""
    X, y = scaling_data(settings.throughput_rows, settings.throughput_features)
    params = {"formula": "x + x**2 + inter(2, rank=4)", "max_iter": 1, "early_stopping": False,
              "hidden_layer_sizes": settings.throughput_hidden, "batch_size": batch_size,
              "random_state": 0, "device": device}
    model = _fit(TaskNeuronRegressor, X[:1000], y[:1000], **params)  # warm-up: kernels, threads
    model.predict(X[:1000])
    _synchronize(device)
    start = time.perf_counter()
    model = _fit(TaskNeuronRegressor, X, y, **params)
    _synchronize(device)
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    model.predict(X)
    predict_seconds = time.perf_counter() - start
    return {"device": device, "batch_size": batch_size, "rows": len(X),
            "fit_rows_per_s": len(X) / fit_seconds, "predict_rows_per_s": len(X) / predict_seconds}


def _synchronize(device: str) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def run(device: str, settings: Settings, log: Callable[[str], None] = print
        ) -> tuple[list[Check], list[dict]]:
    """Every check on ``device`` and the throughput figures (GPU and CPU)."""
    checks, fitted = fit_checks(device, settings, log)
    for name, (model, X) in fitted.items():
        if model.discovery not in settings.round_trips:
            continue
        for check in round_trip_checks(name, model, X):
            checks.append(check)
            log(_line(check))
    checks.append(search_check(device, settings))
    log(_line(checks[-1]))
    figures = []
    for batch_size in settings.throughput_batches:
        for where in (device, "cpu"):
            figures.append(throughput(where, settings, batch_size))
            log(f"throughput {figures[-1]}")
    return checks, figures


def _line(check: Check) -> str:
    verdict = "ok  " if check.passed else "FAIL"
    return f"{verdict} {check.name}: {check.difference:.3g} (tolerance {check.tolerance:g})" + (
        f" — {check.note}" if check.note else "")


def report(device: str, checks: list[Check], figures: list[dict], seconds: float) -> str:
    """The markdown written to ``benchmarks/results/gpu.md``."""
    name = torch.cuda.get_device_name(device) if torch.device(device).type == "cuda" else device
    lines = [
        "# GPU check", "",
        f"`python -m benchmarks.gpu_check` on {datetime.date.today().isoformat()}: {name}, "
        f"torch {torch.__version__} (CUDA {torch.version.cuda}), skneuron {skneuron.__version__}; "
        f"{seconds:.0f} s in all. {sum(c.passed for c in checks)} of {len(checks)} checks passed.",
        "", "Differences: the largest absolute difference over the rows, relative to the "
        "standard deviation of the reference predictions (regression) or in probability "
        "(classification).", "",
        "| check | difference | tolerance | |", "|---|---|---|---|",
    ]
    lines += [f"| {c.name} | {c.difference:.3g} | {c.tolerance:g} | "
              f"{'ok' if c.passed else '**FAIL**'} {c.note} |" for c in checks]
    lines += ["", "## Throughput", "",
              "friedman1, 20 features, hidden layers (64, 64), formula `x + x**2 + inter(2, rank=4)`,"
              " one epoch (input checks and encoding included), then a predict of all rows.", "",
              "| device | rows | batch size | fit rows/s | predict rows/s |",
              "|---|---|---|---|---|"]
    lines += [f"| {f['device']} | {f['rows']:,} | {f['batch_size']} | {f['fit_rows_per_s']:,.0f} | "
              f"{f['predict_rows_per_s']:,.0f} |" for f in figures]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """The command: run everything on the GPU, or say that it was skipped."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gpu_check", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda", help="the CUDA device to check (cuda)")
    parser.add_argument("--rows", type=int, default=Settings.throughput_rows,
                        help="rows of the throughput runs (1 000 000)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the tables")
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        print(SKIPPED)
        return 0
    try:
        device = str(resolve_device(args.device))
    except ValueError as exc:
        parser.error(str(exc))
    start = time.perf_counter()
    checks, figures = run(device, replace(Settings(), throughput_rows=args.rows))
    text = report(device, checks, figures, time.perf_counter() - start)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(f"{sum(not c.passed for c in checks)} of {len(checks)} checks failed; wrote {args.out}")
    return 0 if all(c.passed for c in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
