"""What the scripts that write a results table share: ``--out``, the provenance line, writing.

A table in ``benchmarks/results/`` says which command produced it, when, how
long it took and how loaded the machine was (:func:`produced_by`), so that its
numbers can be traced and its times read in context.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

__all__ = ["add_out_argument", "load_average", "produced_by", "write_table"]


def load_average() -> float:
    """The 1-minute load average (0 where the platform has none)."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return 0.0


def add_out_argument(parser: argparse.ArgumentParser, default: Path) -> None:
    """``--out FILE``: where the table goes, ``default`` (under ``benchmarks/results``) if not."""
    parser.add_argument("--out", type=Path, default=default,
                        help=f"the table's file (default {default.relative_to(default.parents[2])})")


def produced_by(command: str, started: float, load_before: float) -> str:
    """``Produced by `command` on <UTC date> (<minutes> min): <n> CPUs; 1-minute load …``.

    ``started`` is the run's ``time.time()`` at its start and ``load_before``
    its :func:`load_average` then; the end's are read now.

    Examples
    --------
    >>> line = produced_by("python -m benchmarks.stability", time.time(), 0.5)
    >>> line.startswith("Produced by `python -m benchmarks.stability` on ")
    True
    """
    return (f"Produced by `{command}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} "
            f"({(time.time() - started) / 60:.1f} min): {os.cpu_count()} CPUs; 1-minute load "
            f"average {load_before:.1f} at the start, {load_average():.1f} at the end.")


def write_table(path: Path, text: str) -> None:
    """Write ``text`` (and a final newline) to ``path``, print it and say where it went."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n")
    print(text)
    print(f"\nwritten to {path}")
