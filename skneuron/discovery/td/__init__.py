"""NeuronSeek-TD: discover a neuron formula by tensor (CP) polynomial regression.

The search fits the *dual-stream* polynomial model of order ``K`` to the data
and then asks which of its terms the data actually need::

    ŷ_c(x) = b_c + Σ_{k=1..K} w_{k,c}ᵀ x^{∘k} / √((2k−1)!!)               pure power stream
                 + Σ_{k=2..K} Σ_{r=1..R} v_{k,r,c} Π_{m=1..k} u_{k,m,r}ᵀ x    CP interaction stream

The ``2K − 1`` candidate terms are the pure powers ``x, x**2, …, x**K`` and
the interactions ``inter(2), …, inter(K)`` (an order-1 interaction would just
be the linear term). An interaction term is the contraction
``⟨W_{k,c}, x^{⊗k}⟩`` of an order-``k`` weight tensor held in CP form of rank
``R``; the ``D^k`` tensor is never formed. The factors ``u_{k,m,r}`` are
shared by all outputs ``c`` and only the mixing weights ``v_{k,r,c}`` are
output-specific — the form the network layer uses (``V_k · Π_m U_{k,m}x``,
:class:`skneuron.nn.TaskNeuronLayer`) — so a one-hot target with many classes
costs little more than a single output.

The paper selects terms with Hard-Concrete L0 gates, which did not close
on planted data. Instead, every subset of terms is refitted by least
squares and scored by cross-validation, and the subset with the lowest
penalised error is kept — see :func:`discover_td` and ``docs/method.md`` §1
for the algorithm, its defaults, why not the gates, and what the returned
numbers mean.

The package is laid out by step: ``_polynomial`` (the models and their
training), ``_refits`` (the cross-validated least-squares refits of every
subset), ``_selection`` (the penalised choice and the term evidence) and
``_discover`` (the entry point, :func:`discover_td`).
"""

from skneuron.discovery._common import MIN_SAMPLES
from skneuron.discovery.td._discover import MAX_ORDER, discover_td

__all__ = ["discover_td", "MIN_SAMPLES", "MAX_ORDER"]
