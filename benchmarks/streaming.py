"""Fitting a file larger than memory by streaming it: peak memory and throughput.

Writes a friedman1-like table (``make_friedman1`` with 20 features, noise 1,
a new seed per chunk) of ``--rows`` rows to a temporary directory chunk by
chunk, as Parquet (default) or CSV, so the table never sits in memory whole.
Then runs, in this process, the command-line path a user runs:

- ``skneuron fit DATA --target y --chunk-rows N --epochs E`` — each chunk is
  one ``partial_fit`` call; the first chunk also discovers the formula;
- ``skneuron predict MODEL DATA --chunk-rows N --out predictions.csv``.

For each it records the wall-clock time, the throughput (rows per second,
all passes over the file; the fit's includes reading the file and the first
chunk's discovery) and the process's peak resident set size, sampled every
few milliseconds by :class:`benchmarks.measure.PeakMemory` (absolute, and the
growth during the command), plus the R² of the model on a held-out sample.

Run ``python -m benchmarks.streaming [--rows 10000000] [--chunk-rows 100000]
[--epochs 1] [--format parquet|csv] [--param key=value ...]``; the table is
printed and written to ``benchmarks/results/streaming.md``. The estimator
runs at its defaults unless ``--param`` says otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import io
import os
import platform
import resource
import shlex
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.measure import PeakMemory

RESULTS = Path(__file__).parent / "results" / "streaming.md"
N_FEATURES = 20
TARGET_MB = 1024


def write_table(path: Path, rows: int, chunk_rows: int, seed: int = 0) -> None:
    """A friedman1-like table of ``rows`` rows (20 features and ``y``), written in chunks."""
    import pandas as pd
    from sklearn.datasets import make_friedman1

    columns = [f"x{i}" for i in range(N_FEATURES)]
    writer = None
    try:
        for index, start in enumerate(range(0, rows, chunk_rows)):
            n = min(chunk_rows, rows - start)
            X, y = make_friedman1(n, n_features=N_FEATURES, noise=1.0, random_state=seed + index)
            frame = pd.DataFrame(X, columns=columns).assign(y=y)
            if path.suffix == ".parquet":
                import pyarrow as pa
                import pyarrow.parquet as pq

                table = pa.Table.from_pandas(frame, preserve_index=False)
                writer = writer or pq.ParquetWriter(path, table.schema)
                writer.write_table(table)
            else:
                frame.to_csv(path, mode="a" if index else "w", header=not index, index=False)
    finally:
        if writer is not None:
            writer.close()


def run_command(argv: list[str]) -> tuple[str, float, PeakMemory]:
    """Run ``skneuron ARGV`` in this process: its standard output, seconds and peak memory."""
    from skneuron.cli import main

    output = io.StringIO()
    with PeakMemory() as memory, contextlib.redirect_stdout(output):
        start = time.perf_counter()
        status = main(argv)
        seconds = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"skneuron {' '.join(argv)} failed with status {status}")
    return output.getvalue(), seconds, memory


def held_out_r2(model_path: Path, rows: int = 50_000) -> float:
    from sklearn.datasets import make_friedman1

    from skneuron import load

    X, y = make_friedman1(rows, n_features=N_FEATURES, noise=1.0, random_state=10**6)
    import pandas as pd

    return float(load(model_path).score(pd.DataFrame(X, columns=[f"x{i}" for i in
                                                                 range(N_FEATURES)]), y))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--chunk-rows", type=int, default=100_000)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--format", choices=["parquet", "csv"], default="parquet")
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                        help="estimator parameter, as in skneuron fit")
    parser.add_argument("--note", default="", help="a line added to the results file")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="skneuron-streaming-") as folder:
        data = Path(folder) / f"friedman1.{args.format}"
        start = time.perf_counter()
        write_table(data, args.rows, args.chunk_rows)
        write_seconds = time.perf_counter() - start
        size_mb = data.stat().st_size / 2**20
        print(f"wrote {args.rows:,} rows ({size_mb:,.0f} MB) in {write_seconds:.0f} s", flush=True)

        model = Path(folder) / "model.skn"
        fit_argv = ["fit", str(data), "--target", "y", "--task", "regression",
                    "--chunk-rows", str(args.chunk_rows), "--epochs", str(args.epochs),
                    "--out", str(model), "--no-progress"]
        for pair in args.param:
            fit_argv += ["--param", pair]
        fit_output, fit_seconds, fit_memory = run_command(fit_argv)
        print(fit_output, end="", flush=True)
        r2 = held_out_r2(model)

        predictions = Path(folder) / "predictions.csv"
        _, predict_seconds, predict_memory = run_command(
            ["predict", str(model), str(data), "--chunk-rows", str(args.chunk_rows),
             "--out", str(predictions)])
        high_water_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10

    fit_rows = args.rows * args.epochs
    rows = [
        ("fit (partial_fit per chunk)", fit_seconds, fit_rows / fit_seconds, fit_memory),
        ("predict (chunked, CSV out)", predict_seconds, args.rows / predict_seconds,
         predict_memory),
    ]
    formula = next((line.split(": ", 1)[1] for line in fit_output.splitlines()
                    if line.startswith("formula: ")), "?")
    epochs = [line for line in fit_output.splitlines() if line.startswith("epoch ")]
    lines = [
        "# Streaming a large file: `skneuron fit/predict --chunk-rows`",
        "",
        f"Run {datetime.date.today()} with `"
        + shlex.join(["python", "-m", "benchmarks.streaming",
                      *(argv if argv is not None else sys.argv[1:])]) + "` on "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()} "
        f"(load average at the end {os.getloadavg()[0]:.1f}).",
        "",
        f"- Data: friedman1-like, {args.rows:,} rows × {N_FEATURES} features + target, "
        f"{args.format} ({size_mb:,.0f} MB on disk), written in {write_seconds:.0f} s.",
        f"- Fit: chunks of {args.chunk_rows:,} rows, {args.epochs} epoch(s), estimator "
        f"parameters {', '.join(args.param) or 'at their defaults'}; the formula "
        f"(discovered on the first chunk unless given) is `{formula}`.",
        f"- Held-out R² (50 000 new rows): {r2:.4f}.",
        *([f"- {args.note}"] if args.note else []),
        "",
        "| command | seconds | rows/s | peak RSS (MB) | RSS growth (MB) |",
        "|---|---|---|---|---|",
        *(f"| {name} | {seconds:.0f} | {rate:,.0f} | "
          f"{getattr(memory, '_peak', np.nan):,.0f} | {memory.mb:,.0f} |"
          for name, seconds, rate, memory in rows),
        "",
        f"Process high-water mark (`ru_maxrss`, including writing the data): "
        f"{high_water_mb:,.0f} MB; target: under {TARGET_MB} MB "
        f"({'met' if high_water_mb < TARGET_MB else 'missed'}).",
        "",
        "The fit's seconds include reading and parsing the file and the first chunk's "
        "discovery; each epoch's mean training loss (standardised target):",
        "",
        *(f"- {line}" for line in epochs),
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
