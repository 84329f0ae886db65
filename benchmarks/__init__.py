"""Benchmarks: measured, rerunnable comparisons (not part of the installed package).

The suite — ``python -m benchmarks.run --suite quick|full`` — is built from small modules:

- :mod:`benchmarks.datasets` — the offline data sets and their sizes;
- :mod:`benchmarks.suites` — which data sets, seeds, competitors and speed/scaling settings;
- :mod:`benchmarks.competitors` — model factories with shared preprocessing and settings;
- :mod:`benchmarks.measure` — scores, timings, peak memory, thread limits;
- :mod:`benchmarks.run` — the command line: runs the parts, writes the CSVs;
- :mod:`benchmarks.report` — CSVs → markdown summary with target verdicts, PNG plots.

``planted_recovery``, ``sr_recovery`` and ``stability`` are the discovery-only studies.
"""
