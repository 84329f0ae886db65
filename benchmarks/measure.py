"""What one measurement records: scores, wall-clock times, peak memory, thread limits.

- Times are wall-clock ``time.perf_counter`` seconds around one call.
- Peak memory is the growth of the process's resident set size (RSS) during a
  fit: freed heap memory is first handed back to the system (glibc's
  ``malloc_trim``), then a background thread samples ``/proc/self/statm``
  every few milliseconds and the peak minus the RSS before the fit is
  reported, in MB. Unlike ``tracemalloc`` this sees torch's and LightGBM's
  native allocations; it misses spikes shorter than the sampling interval and
  memory the allocator still holds from earlier fits, so it is a lower bound
  of what a fit needs on top of an already warm process. Where ``/proc`` is
  missing (not Linux) the growth of ``ru_maxrss`` is reported instead, which
  is 0 once an earlier fit has set the high-water mark.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import resource
import sys
import threading
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, log_loss, mean_squared_error, r2_score

from benchmarks.datasets import REGRESSION

_PAGE_MB = os.sysconf("SC_PAGE_SIZE") / 2**20 if hasattr(os, "sysconf") else 0.0
_STATM = "/proc/self/statm"


def _rss_mb() -> float | None:
    try:
        with open(_STATM) as statm:
            return int(statm.read().split()[1]) * _PAGE_MB
    except OSError:
        return None


def _release_free_memory() -> None:
    """Return freed heap pages to the system (glibc only), so RSS growth shows a fit's needs."""
    try:
        ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim(0)
    except (OSError, AttributeError, TypeError):
        pass


def _maxrss_mb() -> float:
    scale = 2**20 if sys.platform == "darwin" else 2**10  # bytes on macOS, KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale


class PeakMemory:
    """Context manager: ``.mb`` is the RSS growth (MB) while the block ran."""

    def __init__(self, interval: float = 0.005):
        self.interval = interval
        self.mb = np.nan

    def __enter__(self):
        _release_free_memory()
        self._start = _rss_mb()
        if self._start is None:
            self._start_maxrss = _maxrss_mb()
            return self
        self._peak = self._start
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.wait(self.interval):
            self._peak = max(self._peak, _rss_mb())

    def __exit__(self, *exc):
        if self._start is None:
            self.mb = _maxrss_mb() - self._start_maxrss
            return False
        self._stop.set()
        self._thread.join()
        self.mb = max(self._peak, _rss_mb()) - self._start
        return False


#: Pause before each call timed for the speed targets. A library's worker threads
#: keep spinning for a while after its call returns (OpenBLAS's, for up to about
#: 0.1 s), and on 2 cores they slow down whatever runs next: measured here with
#: 2 threads each, our predict of 100 000 rows took 0.12–0.14 s right after the
#: MLP's and 0.060 s after a 0.2 s pause (the MLP's own: 0.046–0.050 against
#: 0.042–0.047 s); a 0.05 s pause left it at 0.09 s.
SETTLE_SECONDS = 0.25


def timed_settled(function, *args):
    """:func:`timed` after a pause that lets the previous call's threads go idle."""
    time.sleep(SETTLE_SECONDS)
    return timed(function, *args)


def timed(function, *args, **kwargs):
    """``(result, seconds)`` of one call, with convergence warnings silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", UserWarning)
        start = time.perf_counter()
        result = function(*args, **kwargs)
        return result, time.perf_counter() - start


def scores(task: str, model, X, y) -> dict:
    """R² and RMSE (regression) or accuracy and log-loss (classification)."""
    if task == REGRESSION:
        predicted = model.predict(X)
        return {"r2": r2_score(y, predicted),
                "rmse": float(np.sqrt(mean_squared_error(y, predicted)))}
    probabilities = model.predict_proba(X)
    predicted = model.classes_[np.argmax(probabilities, axis=1)]
    return {"accuracy": accuracy_score(y, predicted),
            "log_loss": log_loss(y, probabilities, labels=model.classes_)}


@contextlib.contextmanager
def thread_limits(threads: int):
    """At most ``threads`` threads for BLAS, OpenMP and torch's intra-op pool."""
    import threadpoolctl
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with threadpoolctl.threadpool_limits(limits=threads):
            yield
    finally:
        torch.set_num_threads(previous)
