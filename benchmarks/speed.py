"""Fit time and predict throughput against sklearn's MLP: the suite's speed and scaling parts.

Kept as a shortcut for ``python -m benchmarks.run --parts speed scaling``; it
takes the same options (``--suite``, ``--threads``, ...).
"""

from benchmarks.run import main

if __name__ == "__main__":
    main(default_parts=("speed", "scaling"), module="benchmarks.speed")
