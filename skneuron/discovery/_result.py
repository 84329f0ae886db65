"""The value a discovery method returns."""

from __future__ import annotations

from dataclasses import dataclass, field

from skneuron.formula import NeuronFormula

__all__ = ["DiscoveryResult"]


@dataclass(frozen=True)
class DiscoveryResult:
    """What a discovery run found, and what a user wants to inspect about it.

    Attributes
    ----------
    formula : NeuronFormula
        The selected neuron formula.
    method : str
        ``"td"`` (NeuronSeek-TD) or ``"sr"`` (vectorized symbolic regression).
    term_probabilities : dict of str to float
        For every candidate term (in :meth:`NeuronFormula.parse` syntax), the
        evidence in ``[0, 1]`` that it belongs in the formula — for TD, the
        gate's keep-probability. Terms above 0.5 are the selected ones.
    validation_score : float
        R² (averaged over outputs) of the selected formula on rows held out
        from the search.
    fit_time : float
        Wall-clock seconds the search took.
    details : dict
        Method-specific diagnostics (documented by each method).
    """

    formula: NeuronFormula
    method: str
    term_probabilities: dict[str, float]
    validation_score: float
    fit_time: float
    details: dict = field(default_factory=dict, repr=False, compare=False)

    def __str__(self) -> str:
        lines = [f"{self.method.upper()} discovery ({self.fit_time:.2f} s): {self.formula}"]
        width = max((len(t) for t in self.term_probabilities), default=0)
        for term, p in sorted(self.term_probabilities.items(), key=lambda item: -item[1]):
            mark = "*" if p > 0.5 else " "
            lines.append(f"  {mark} {term:<{width}}  p={p:.2f}")
        lines.append(f"  held-out R² of the selected formula: {self.validation_score:.3f}")
        return "\n".join(lines)
