"""The value a discovery method returns."""

from __future__ import annotations

from dataclasses import dataclass, field

from tensorly.cp_tensor import CPTensor

from skneuron.formula import NeuronFormula

__all__ = ["DiscoveryResult"]


@dataclass(frozen=True)
class DiscoveryResult:
    """What a discovery run found, and what a user wants to inspect about it.

    Discovery functions build it; each parameter is also an attribute of the
    same name.

    Parameters
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

    See Also
    --------
    skneuron.discover_formula : Runs a discovery method and returns this.

    Examples
    --------
    >>> import numpy as np
    >>> from skneuron import discover_formula
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((1000, 8))
    >>> result = discover_formula(X, X[:, 0] + (X ** 2).sum(axis=1), random_state=0)
    >>> result.method, result.formula.terms
    ('td', ('x', 'x**2'))
    >>> {t: round(p, 2) for t, p in result.term_probabilities.items()}
    {'x': 1.0, 'x**2': 1.0, 'x**3': 0.02, 'inter(2, rank=8)': 0.01, 'inter(3, rank=8)': 0.01, 'periodic(8)': 0.01}
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
        selected = set(self.formula.terms)
        for term, p in sorted(self.term_probabilities.items(), key=lambda item: -item[1]):
            mark = "*" if term in selected else " "
            lines.append(f"  {mark} {term:<{width}}  p={p:.2f}")
        lines.append(f"  held-out R² of the selected formula: {self.validation_score:.3f}")
        return "\n".join(lines)

    def __getstate__(self) -> dict:
        # The CP tensors among the details travel as ``(weights, factors)``: a pickle or a
        # skops file then holds numpy arrays, not tensorly's class.
        return {**self.__dict__, "details": _with_cp_tensors_as(self.details, _cp_to_plain)}

    def __setstate__(self, state: dict) -> None:
        state = {**state, "details": _with_cp_tensors_as(state.get("details", {}), _cp_from_plain)}
        self.__dict__.update(state)  # frozen: set as a fresh instance's fields


#: Marks a CP tensor in a pickled result's details.
_CP_TENSOR = "__cp_tensor__"


def _cp_to_plain(value):
    if isinstance(value, CPTensor):
        weights, factors = value
        return {_CP_TENSOR: (weights, list(factors))}
    return value


def _cp_from_plain(value):
    if isinstance(value, dict) and set(value) == {_CP_TENSOR}:
        weights, factors = value[_CP_TENSOR]
        return CPTensor((weights, list(factors)))
    return value


def _with_cp_tensors_as(details: dict, convert) -> dict:
    """``details`` with ``convert`` applied to every value, in nested dicts too."""
    def walk(value):
        value = convert(value)
        if isinstance(value, dict) and _CP_TENSOR not in value:
            return {key: walk(item) for key, item in value.items()}
        return value

    return {key: walk(value) for key, value in details.items()}
