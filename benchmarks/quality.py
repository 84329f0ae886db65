"""Default quality against sklearn's MLP, LightGBM and the linear neuron: the suite's accuracy part.

Kept as a shortcut for ``python -m benchmarks.run --parts accuracy``; it takes
the same options (``--suite``, ``--seeds``, ``--only``, ...).
"""

from benchmarks.run import main

if __name__ == "__main__":
    main(default_parts=("accuracy",), module="benchmarks.quality")
