"""Benchmarks: measured, rerunnable comparisons (not part of the test suite)."""
