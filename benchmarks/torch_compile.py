"""What ``compile=True`` (``torch.compile`` of the training step) brings, measured.

The issue's speed work allows ``torch.compile`` "only where it pays and never
required"; these figures decide that it is off by default. All of them are
taken on the speed target's fit: friedman1 20 000 × 20, hidden layers
(64, 64), batch 200, 30 epochs, with the formula TD discovers there.

1. One training step as ``fit`` runs it — the gradients written out by hand
   (``TaskNeuronNetwork.forward_with_pullback`` and the regression loss's
   gradient), then skneuron's Adam update — on one torch thread, as the
   estimator trains this network: run eagerly, and with the gradients compiled
   by ``torch.compile`` (inductor, which fuses the element-wise work between
   the matrix products). Also the compile time in a new Python process, with an
   empty inductor cache and with the cache that run left, the number of steps
   after which compiling pays, and sklearn's MLP fit per step, for scale.
2. What a user sees: the default estimator's whole fit (discovery and
   training) in a new Python process — uncompiled, then with ``compile=True``
   twice in a row (the second fit reuses the compiled step) — first with an
   empty inductor cache, then with the cache that run left; and sklearn's MLP
   fit at the same settings.

Run ``python -m benchmarks.torch_compile [--steps 1000]``; the tables are
printed and written to ``benchmarks/results/torch_compile.md``. It needs a C++
compiler, as inductor does on the CPU.
"""

from __future__ import annotations

import argparse
import datetime
import math
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import torch
from sklearn.exceptions import ConvergenceWarning

from benchmarks.competitors import COMPETITORS
from benchmarks.datasets import REGRESSION, scaling_data
from benchmarks.measure import thread_limits, timed
from benchmarks.suites import SpeedSettings
from skneuron import TaskNeuronRegressor
from skneuron._adam import Adam
from skneuron.training import _minibatch_gradients

RESULTS = Path(__file__).parent / "results" / "torch_compile.md"


def break_even_steps(compile_seconds: float, eager_step: float, compiled_step: float) -> float:
    """Training steps after which compiling has paid for itself (``inf`` if never).

    Examples
    --------
    >>> round(break_even_steps(3.0, 0.0006, 0.0005))
    30000
    >>> break_even_steps(3.0, 0.0005, 0.0006)
    inf
    """
    saved = eager_step - compiled_step
    return compile_seconds / saved if saved > 0 else math.inf


def training_problem(settings: SpeedSettings, seed: int = 0):
    """The estimator ``fit`` trains at the speed settings, and its standardised data.

    One epoch of the default estimator discovers the formula and builds the
    network; the data are standardised as the estimator standardises them.
    """
    X, y = scaling_data(settings.n_samples, settings.n_features)
    params = {**settings.network_params(), "max_iter": 1}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = TaskNeuronRegressor(random_state=seed, **params).fit(X, y)
    X_std = (X - X.mean(axis=0)) / X.std(axis=0)
    y_std = (y - y.mean()) / y.std()
    as_tensor = lambda a: torch.as_tensor(a, dtype=torch.float32)  # noqa: E731
    return model, as_tensor(X_std), as_tensor(y_std[:, None])


def step_seconds(gradients, network, X, Y, batch_size: int, steps: int,
                 repeats: int = 3) -> float:
    """Best over ``repeats`` of the mean time of a step (``gradients``, then Adam).

    The batches cycle through ``X`` in order; a warm-up of a fifth of ``steps``
    precedes each repeat.
    """
    optimizer = Adam(network.parameters(), lr=1e-3)
    n_batches = len(X) // batch_size

    def run(n):
        start = time.perf_counter()
        for i in range(n):
            rows = slice((i % n_batches) * batch_size, (i % n_batches + 1) * batch_size)
            optimizer.step(gradients(X[rows], Y[rows]))
        return (time.perf_counter() - start) / n

    best = math.inf
    for _ in range(repeats):
        run(max(1, steps // 5))
        best = min(best, run(steps))
    return best


def step_gradients(network, loss_gradient):
    """``(x, y) → grads`` of a minibatch's mean loss, by the training loop's own function."""
    gradients = _minibatch_gradients(network, list(network.parameters()), loss_gradient)
    return lambda x, y: gradients(x, y, None)[1]


def compiled_and_timed(gradients, x, y):
    """``gradients`` compiled anew, and the time of its first call (tracing, code generation)."""
    torch._dynamo.reset()
    compiled = torch.compile(gradients, dynamic=False)
    start = time.perf_counter()
    compiled(x, y)
    return compiled, time.perf_counter() - start


def fit_seconds(name: str, settings: SpeedSettings, threads: int, **params) -> float:
    """One fit of the speed suite's competitor ``name`` at the speed settings."""
    X, y = scaling_data(settings.n_samples, settings.n_features)
    model = COMPETITORS[name].build(REGRESSION, 0, {**settings.network_params(), **params},
                                    threads)
    with thread_limits(threads):
        return timed(model.fit, X, y)[1]


def in_new_process(task: str, cache: str) -> list[float]:
    """The figures ``task`` prints when run in a fresh Python process using ``cache``.

    A new process is what a user's next session is: the inductor cache on disk
    is all that carries over.
    """
    env = {**os.environ, "TORCHINDUCTOR_CACHE_DIR": cache}
    command = [sys.executable, "-m", "benchmarks.torch_compile", "--in-new-process", task]
    output = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
    return [float(value) for value in output.stdout.split()]


def _step_compile_seconds(settings: SpeedSettings) -> list[float]:
    """The compile time of the step's gradients (task ``step``)."""
    model, X, Y = training_problem(settings)
    gradients = step_gradients(model.network_.body, model._loss_and_gradient)
    with thread_limits(1):
        _, seconds = compiled_and_timed(gradients, X[:settings.batch_size],
                                        Y[:settings.batch_size])
    return [seconds]


def _fit_seconds(settings: SpeedSettings, threads: int = 2) -> list[float]:
    """Default fits: uncompiled, then ``compile=True`` twice (task ``fits``).

    An uncompiled fit first warms the process up (imports, first calls) and is
    not reported.
    """
    return [fit_seconds("TaskNeuron-TD", settings, threads, compile=compile)
            for compile in (False, False, True, True)][1:]


TASKS = {"step": _step_compile_seconds, "fits": _fit_seconds}


def measure(settings: SpeedSettings, steps: int, threads: int = 2) -> dict:
    """Every figure of the tables, in one run."""
    model, X, Y = training_problem(settings)
    network, batch = model.network_.body, settings.batch_size
    figures = {"formula": " + ".join(model.formula_.terms),
               "mlp_fit": fit_seconds("sklearn-MLP", settings, threads),
               "fit_steps": settings.epochs * math.ceil(settings.n_samples / batch)}
    gradients = step_gradients(network, model._loss_and_gradient)
    with tempfile.TemporaryDirectory() as cache:
        figures["compile_cold"], = in_new_process("step", cache)  # empty cache: a first compile
        figures["compile_warm"], = in_new_process("step", cache)
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = cache
        try:
            with thread_limits(1):
                figures["eager"] = step_seconds(gradients, network, X, Y, batch, steps)
                compiled, _ = compiled_and_timed(gradients, X[:batch], Y[:batch])
                figures["compiled"] = step_seconds(compiled, network, X, Y, batch, steps)
        finally:
            del os.environ["TORCHINDUCTOR_CACHE_DIR"]
            torch._dynamo.reset()
    with tempfile.TemporaryDirectory() as cache:
        figures["fits_cold"] = in_new_process("fits", cache)
        figures["fits_warm"] = in_new_process("fits", cache)
    return figures


def render(figures: dict, settings: SpeedSettings) -> str:
    """The markdown table of :func:`measure`'s figures."""
    us = lambda s: f"{s * 1e6:,.0f} µs"  # noqa: E731
    lines = [
        "# torch.compile of the training step (`compile=True`)",
        "",
        f"Produced by `python -m benchmarks.torch_compile` on "
        f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; torch "
        f"{torch.__version__}. Speed target's network: friedman1 {settings.n_samples:,} × "
        f"{settings.n_features}, hidden {settings.hidden_layer_sizes}, batch "
        f"{settings.batch_size}, formula `{figures['formula']}`; one torch thread, as `fit` "
        f"trains it (sklearn's MLP: 2 BLAS threads).",
        "",
        "| | per training step | compile | pays after |",
        "|---|---|---|---|",
        f"| eager (`compile=False`, the default) | {us(figures['eager'])} | — | — |",
    ]
    for cache in ("cold", "warm"):
        seconds = figures[f"compile_{cache}"]
        steps_needed = break_even_steps(seconds, figures["eager"], figures["compiled"])
        pays = "never" if math.isinf(steps_needed) else f"{steps_needed:,.0f} steps"
        lines.append(f"| `torch.compile`, {cache} cache, new process | "
                     f"{us(figures['compiled'])} | {seconds:.1f} s | {pays} |")
    cold, warm = figures["fits_cold"], figures["fits_warm"]
    lines += [
        f"| sklearn MLP (its fit ÷ its {figures['fit_steps']:,} steps) | "
        f"{us(figures['mlp_fit'] / figures['fit_steps'])} | — | — |",
        "",
        verdict(figures),
        "",
        f"The default estimator's whole fit (discovery and training, {settings.epochs} epochs, "
        "2 threads) in a new Python process:",
        "",
        "| | empty inductor cache | warm cache |",
        "|---|---|---|",
        f"| `compile=False` (the default) | {cold[0]:.2f} s | {warm[0]:.2f} s |",
        f"| `compile=True`, first fit in the process | {cold[1]:.2f} s | {warm[1]:.2f} s |",
        f"| `compile=True`, next fit in the process | {cold[2]:.2f} s | {warm[2]:.2f} s |",
        f"| sklearn MLP (same process as the step timings) | {figures['mlp_fit']:.2f} s | |",
    ]
    return "\n".join(lines) + "\n"


def verdict(figures: dict) -> str:
    """Whether compiling pays on the speed target's fit, in one sentence.

    Examples
    --------
    >>> verdict({"fit_steps": 3000, "eager": 6e-4, "compiled": 4e-4,
    ...          "compile_cold": 13.0, "compile_warm": 2.0}).endswith("does not pay there.")
    True
    """
    saved = (figures["eager"] - figures["compiled"]) * figures["fit_steps"]
    if figures["compile_cold"] < saved:
        outcome = "so it pays there even with an empty cache"
    elif figures["compile_warm"] < saved:
        outcome = "so it pays there once the cache is warm"
    else:
        outcome = "so it does not pay there"
    return (f"The speed target's fit is {figures['fit_steps']:,} steps: compiling would save "
            f"{saved:.2f} s and cost {figures['compile_cold']:.1f} s (empty cache) or "
            f"{figures['compile_warm']:.1f} s (warm cache), {outcome}.")


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000, help="timed steps per repeat")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--in-new-process", choices=sorted(TASKS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    settings = SpeedSettings()
    if args.in_new_process:
        print(*TASKS[args.in_new_process](settings))
        return ""
    text = render(measure(settings, args.steps), settings)
    print(text)
    args.out.write_text(text)
    return text


if __name__ == "__main__":
    main()
