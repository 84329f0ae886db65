"""NeuronSeek-SR: discover a neuron formula by vectorized symbolic regression.

Every input variable shares one scalar formula ``g``, so the model searched is::

    ŷ_c(x) = c_{0,c} + Σ_j c_{j,c} · Σ_i φ_j(x_i)

where ``g = Σ_j c_j φ_j`` is a sum of small expression trees ``φ_j`` over one
scalar variable. Each additive term ``φ_j`` becomes a term of the neuron: a pure
power ``x**k`` becomes a pure power term ``W_k x^{∘k}``, anything else (``sin(x)``,
``x*exp(-x**2)``, …) an element-wise term ``W_φ · φ(x)``.

Compared with the genetic programming of the paper, the coefficients ``c_j``
of every candidate are fitted by least squares (not drawn as random
constants), candidates pay a relative parsimony price per operation, terms
and whole candidates are deduplicated (sympy canonical form, then numerically
up to the affine maps least squares cannot tell apart), the terms new to a
generation are evaluated in one batched pass and all candidates of a
generation are fitted at once, each generation ends with a greedy local search
(add / drop / swap one term) around the best candidate, and near-ties are
settled by a one-standard-error rule in favour of the simplest candidate. The algorithm,
its defaults and what the returned numbers mean are described in
``docs/method.md`` §2 and in :func:`discover_sr`.

The package is laid out by concern: ``_trees`` (expression trees and their
canonical forms), ``_library`` (the evaluation cache: every distinct term
and its feature), ``_scoring`` (cross-validated least-squares scoring of
candidates), ``_variation`` (the genetic operators), ``_search`` (the
generations, the local search and the final selection) and ``_discover``
(the entry point, :func:`discover_sr`).
"""

from skneuron.discovery._common import MIN_SAMPLES
from skneuron.discovery.sr._discover import DEFAULT_FUNCTION_SET, discover_sr
from skneuron.discovery.sr._trees import FUNCTIONS

__all__ = ["discover_sr", "DEFAULT_FUNCTION_SET", "FUNCTIONS", "MIN_SAMPLES"]
