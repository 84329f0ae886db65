"""The neuron formula: which terms a task neuron aggregates its inputs with.

A :class:`NeuronFormula` is a small immutable value. It names the *kinds* of
terms a neuron sums before its activation; the weights of each term are
learned later by the network (:mod:`skneuron.nn`)::

    σ( Σ_k w_kᵀ x^{∘k}                         pure power terms
     + Σ_k Σ_{r≤R} v_r Π_{m≤k} u_{m,r}ᵀ x       CP interaction terms of order k, rank R
     + Σ_φ w_φᵀ φ(x)                            element-wise function terms, e.g. sin(x)
     + b )

The same value is what discovery returns, what a user may write by hand
(``formula="x + x**2 + inter(2)"``) and what the network is built from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

import sympy

__all__ = ["NeuronFormula", "FormulaSyntaxError"]

#: The symbol element-wise function terms are written in.
VARIABLE = sympy.Symbol("x")

# Functions a hand-written or discovered element-wise term may use. Only these
# names are visible when a term is parsed, so a formula string can never reach
# arbitrary Python or sympy objects.
_SYMPY_FUNCTIONS = {
    "sin": sympy.sin,
    "cos": sympy.cos,
    "tan": sympy.tan,
    "exp": sympy.exp,
    "log": sympy.log,
    "tanh": sympy.tanh,
    "sqrt": sympy.sqrt,
    "abs": sympy.Abs,
    "Abs": sympy.Abs,
}

_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
_SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")

_POWER_TERM = re.compile(r"^x(?:\s*(?:\*\*|\^)\s*(\d+))?$")
_INTERACTION_TERM = re.compile(r"^inter\s*\(\s*(\d+)\s*(?:,\s*rank\s*=\s*(\d+)\s*)?\)$")


class FormulaSyntaxError(ValueError):
    """A formula string that does not parse; the message points at the bad term.

    A subclass of :class:`ValueError`, so scikit-learn's parameter checks and
    ``except ValueError`` catch it too.

    Examples
    --------
    >>> from skneuron import FormulaSyntaxError, NeuronFormula
    >>> try:
    ...     NeuronFormula.parse("x + y**2")
    ... except FormulaSyntaxError as exc:
    ...     print(exc)
    unknown name 'y'; terms are x, x**k, inter(k[, rank=R]) or expressions in x using ... at position 4 of formula:
      x + y**2
          ^
    """


def _sorted_unique_orders(orders, *, name: str, minimum: int) -> tuple[int, ...]:
    result = set()
    for order in orders:
        if isinstance(order, bool) or int(order) != order or order < minimum:
            raise ValueError(f"{name} must hold integers >= {minimum}; got {order!r}.")
        result.add(int(order))
    return tuple(sorted(result))


def _canonical_function(expression) -> str:
    """Canonical text of an element-wise term, so equal terms compare equal."""
    if isinstance(expression, str):
        expression = sympy.sympify(expression, locals={"x": VARIABLE, **_SYMPY_FUNCTIONS})
    expression = sympy.simplify(sympy.sympify(expression))
    free = expression.free_symbols
    if free - {VARIABLE}:
        names = ", ".join(sorted(str(s) for s in free - {VARIABLE}))
        raise ValueError(f"an element-wise term may only use the variable x; got {names}.")
    if VARIABLE not in free:
        raise ValueError(f"an element-wise term must depend on x; got {expression}.")
    return sympy.sstr(expression)


@dataclass(frozen=True)
class NeuronFormula:
    """Immutable description of a task neuron's aggregation function.

    Parameters
    ----------
    pure_orders : tuple of int, default=(1,)
        Orders ``k`` of the pure power terms ``w_kᵀ x^{∘k}``; ``1`` is the
        ordinary linear term.
    interaction_orders : tuple of int, default=()
        Orders ``k >= 2`` of the interaction terms, each a rank-``rank`` CP
        contraction ``Σ_r v_r Π_{m=1..k} u_{m,r}ᵀ x`` of the order-``k``
        tensor ``x^{⊗k}``.
    rank : int, default=8
        CP rank of the interaction terms. Stored as ``0`` when the formula has
        no interaction term, so formulas that differ only in an unused rank
        compare equal.
    functions : tuple of str, default=()
        Element-wise terms ``w_φᵀ φ(x)`` written as expressions in ``x``, such
        as ``"sin(x)"`` (symbolic-regression discovery yields these).

    Attributes
    ----------
    terms : tuple of str
        The terms in the parseable syntax of :meth:`parse`.

    Examples
    --------
    >>> from skneuron import NeuronFormula
    >>> f = NeuronFormula.parse("x + x**2 + inter(2, rank=4)")
    >>> f.pure_orders, f.interaction_orders, f.rank
    ((1, 2), (2,), 4)
    >>> print(f)
    σ(w₁ᵀx + w₂ᵀx∘² + Σᵣ₌₁⁴ vᵣ(u₁ᵣᵀx)(u₂ᵣᵀx) + b)
    >>> f == NeuronFormula(pure_orders=(2, 1), interaction_orders=(2,), rank=4)
    True
    >>> NeuronFormula.parse("x + sin(x)").functions
    ('sin(x)',)
    """

    pure_orders: tuple[int, ...] = (1,)
    interaction_orders: tuple[int, ...] = ()
    rank: int = 8
    functions: tuple[str, ...] = field(default=())

    def __post_init__(self):
        pure = _sorted_unique_orders(self.pure_orders, name="pure_orders", minimum=1)
        interaction = _sorted_unique_orders(
            self.interaction_orders, name="interaction_orders", minimum=2
        )
        if isinstance(self.rank, bool) or int(self.rank) != self.rank or self.rank < 0:
            raise ValueError(f"rank must be a non-negative integer; got {self.rank!r}.")
        rank = int(self.rank) if interaction else 0
        if interaction and rank < 1:
            raise ValueError("rank must be >= 1 when the formula has interaction terms.")
        functions = []
        for function in self.functions:
            canonical = _canonical_function(function)
            power = _POWER_TERM.match(canonical)
            if power:  # "x**3" given as a function is just a pure power term
                pure = tuple(sorted(set(pure) | {int(power.group(1) or 1)}))
            elif canonical not in functions:
                functions.append(canonical)
        if not (pure or interaction or functions):
            raise ValueError("a formula needs at least one term.")
        object.__setattr__(self, "pure_orders", pure)
        object.__setattr__(self, "interaction_orders", interaction)
        object.__setattr__(self, "rank", rank)
        object.__setattr__(self, "functions", tuple(sorted(functions)))

    # ------------------------------------------------------------------ parsing
    @classmethod
    def parse(cls, text: str, *, rank: int = 8) -> NeuronFormula:
        """Build a formula from text such as ``"x + x**3 + inter(2) + sin(x)"``.

        Terms are separated by ``+``. ``x`` and ``x**k`` (or ``x^k``) are pure
        power terms, ``inter(k)`` or ``inter(k, rank=R)`` an order-``k`` CP
        interaction term, and any other expression in ``x`` built from
        ``sin cos tan exp log tanh sqrt abs`` an element-wise term. A leading
        coefficient is ignored (weights are learned): ``"2*x"`` is ``"x"``.

        Parameters
        ----------
        text : str
            The formula.
        rank : int, default=8
            CP rank of the interaction terms, unless the text gives one.

        Returns
        -------
        NeuronFormula

        Raises
        ------
        FormulaSyntaxError
            If a term does not parse; the message names the term and where it
            starts in ``text``.

        Examples
        --------
        >>> NeuronFormula.parse("x^2 + inter(3, rank=2)").terms
        ('x**2', 'inter(3, rank=2)')
        """
        if not isinstance(text, str) or not text.strip():
            raise FormulaSyntaxError(f"a formula must be a non-empty string; got {text!r}.")
        if text.lstrip().startswith("σ("):
            raise FormulaSyntaxError(
                "that is how a fitted formula prints, not formula text; pass the formula "
                "itself (formula=reg.formula_) or its terms, ' + '.join(reg.formula_.terms), "
                "e.g. 'x + x**2 + inter(3, rank=8)'."
            )
        pure, interaction, functions, ranks = [], [], [], set()
        for start, term in _split_terms(text):
            power = _POWER_TERM.match(term)
            inter = _INTERACTION_TERM.match(term)
            if power:
                pure.append(int(power.group(1) or 1))
            elif inter:
                interaction.append(int(inter.group(1)))
                if inter.group(2) is not None:
                    ranks.add(int(inter.group(2)))
            else:
                functions.append(_parse_function_term(text, start, term))
        if len(ranks) > 1:
            raise FormulaSyntaxError(
                f"all interaction terms share one rank; {text!r} gives ranks {sorted(ranks)}."
            )
        try:
            return cls(
                pure_orders=tuple(pure),
                interaction_orders=tuple(interaction),
                rank=ranks.pop() if ranks else rank,
                functions=tuple(functions),
            )
        except ValueError as exc:
            raise FormulaSyntaxError(f"invalid formula {text!r}: {exc}") from exc

    @classmethod
    def coerce(cls, formula: NeuronFormula | str, *, rank: int = 8) -> NeuronFormula:
        """Return ``formula`` as a :class:`NeuronFormula`, parsing it if it is text.

        Parameters
        ----------
        formula : NeuronFormula or str
            A formula, returned as it is, or its text for :meth:`parse`.
        rank : int, default=8
            CP rank of interaction terms whose text gives none.

        Returns
        -------
        NeuronFormula

        Examples
        --------
        >>> NeuronFormula.coerce("x") == NeuronFormula()
        True
        """
        if isinstance(formula, NeuronFormula):
            return formula
        return cls.parse(formula, rank=rank)

    # ------------------------------------------------------------------ plain data
    @property
    def terms(self) -> tuple[str, ...]:
        """Each term in the syntax :meth:`parse` reads.

        Examples
        --------
        >>> NeuronFormula.parse("inter(2) + x**2 + x").terms
        ('x', 'x**2', 'inter(2, rank=8)')
        """
        pure = tuple("x" if k == 1 else f"x**{k}" for k in self.pure_orders)
        inter = tuple(f"inter({k}, rank={self.rank})" for k in self.interaction_orders)
        return pure + inter + self.functions

    @property
    def n_terms(self) -> int:
        """Number of terms.

        Examples
        --------
        >>> NeuronFormula.parse("x + x**2 + sin(x)").n_terms
        3
        """
        return len(self.terms)

    @property
    def is_linear(self) -> bool:
        """Whether this is the ordinary neuron ``σ(wᵀx + b)``.

        Examples
        --------
        >>> NeuronFormula().is_linear, NeuronFormula.parse("x + x**2").is_linear
        (True, False)
        """
        return self.terms == ("x",)

    def to_dict(self) -> dict:
        """Plain-data form (JSON friendly); :meth:`from_dict` inverts it.

        Returns
        -------
        dict
            ``pure_orders``, ``interaction_orders`` and ``functions`` as lists,
            ``rank`` as an int.

        Examples
        --------
        >>> f = NeuronFormula.parse("x + inter(2)")
        >>> NeuronFormula.from_dict(f.to_dict()) == f
        True
        """
        return {
            "pure_orders": list(self.pure_orders),
            "interaction_orders": list(self.interaction_orders),
            "rank": self.rank,
            "functions": list(self.functions),
        }

    @classmethod
    def from_dict(cls, data: dict) -> NeuronFormula:
        """Inverse of :meth:`to_dict`.

        Parameters
        ----------
        data : dict
            As :meth:`to_dict` returns; missing keys take the defaults
            (``rank`` 8, no terms of that kind).

        Returns
        -------
        NeuronFormula

        Examples
        --------
        >>> NeuronFormula.from_dict({"pure_orders": [1, 2]}).terms
        ('x', 'x**2')
        """
        return cls(
            pure_orders=tuple(data.get("pure_orders", ())),
            interaction_orders=tuple(data.get("interaction_orders", ())),
            rank=data.get("rank", 8) or 8,
            functions=tuple(data.get("functions", ())),
        )

    def union(self, other: NeuronFormula | str) -> NeuronFormula:
        """The formula with the terms of both (``self``'s rank wins if both have one).

        Also written ``self | other``.

        Parameters
        ----------
        other : NeuronFormula or str
            The formula whose terms to add (text is parsed).

        Returns
        -------
        NeuronFormula

        Examples
        --------
        >>> NeuronFormula.parse("inter(3, rank=4)").union("x").terms
        ('x', 'inter(3, rank=4)')
        """
        other = NeuronFormula.coerce(other)
        return NeuronFormula(
            pure_orders=self.pure_orders + other.pure_orders,
            interaction_orders=self.interaction_orders + other.interaction_orders,
            rank=self.rank or other.rank or 8,
            functions=self.functions + other.functions,
        )

    __or__ = union

    # ------------------------------------------------------------------ display
    def __str__(self) -> str:
        parts = []
        for k in self.pure_orders:
            sub = str(k).translate(_SUBSCRIPT)
            power = "" if k == 1 else "∘" + str(k).translate(_SUPERSCRIPT)
            parts.append(f"w{sub}ᵀx{power}")
        for k in self.interaction_orders:
            factors = "".join(f"(u{str(m).translate(_SUBSCRIPT)}ᵣᵀx)" for m in range(1, k + 1))
            parts.append(f"Σᵣ₌₁{str(self.rank).translate(_SUPERSCRIPT)} vᵣ{factors}")
        for function in self.functions:
            parts.append(f"w_{{{function}}}ᵀ{function}")
        return "σ(" + " + ".join(parts + ["b"]) + ")"

    def __repr__(self) -> str:
        return f"NeuronFormula({' + '.join(self.terms)!r})"

    def _repr_latex_(self) -> str:  # Jupyter shows the math
        return f"${self.to_latex()}$"

    def to_sympy(self, feature_names=None) -> sympy.Expr:
        """The pre-activation of one neuron as a sympy expression.

        Parameters
        ----------
        feature_names : sequence of str, optional
            Names of the inputs. When given, the expression is written out over
            these inputs with one coefficient symbol per weight; otherwise it
            is written with indexed symbols ``x[i]`` summed over ``i = 1..n``.

        Returns
        -------
        sympy.Expr

        Examples
        --------
        >>> f = NeuronFormula.parse("x + x**2")
        >>> f.to_sympy(["age", "bmi"])
        age**2*w_2_age + age*w_1_age + b + bmi**2*w_2_bmi + bmi*w_1_bmi
        >>> f.to_sympy()
        b + Sum(w_1[i]*x[i], (i, 1, n)) + Sum(w_2[i]*x[i]**2, (i, 1, n))
        """
        return (
            self._indexed_expression()
            if feature_names is None
            else self._explicit_expression([str(n) for n in feature_names])
        )

    def to_latex(self, feature_names=None) -> str:
        """LaTeX of :meth:`to_sympy`.

        Parameters
        ----------
        feature_names : sequence of str, optional
            As in :meth:`to_sympy`.

        Returns
        -------
        str

        Examples
        --------
        >>> NeuronFormula.parse("x**3").to_latex(["z"])
        'b + w_{3 z} z^{3}'
        """
        return sympy.latex(self.to_sympy(feature_names))

    @cached_property
    def _function_expressions(self) -> tuple[sympy.Expr, ...]:
        return tuple(sympy.sympify(f, locals={"x": VARIABLE}) for f in self.functions)

    def _indexed_expression(self) -> sympy.Expr:
        i, n, r = sympy.symbols("i n r", integer=True, positive=True)
        x = sympy.IndexedBase("x")
        expression = sympy.Symbol("b")
        for k in self.pure_orders:
            w = sympy.IndexedBase(f"w_{k}")
            expression += sympy.Sum(w[i] * x[i] ** k, (i, 1, n))
        for k in self.interaction_orders:
            v = sympy.IndexedBase(f"v_{k}")
            product = sympy.Mul(
                *(sympy.Sum(sympy.IndexedBase(f"u_{k}{m}")[r, i] * x[i], (i, 1, n))
                  for m in range(1, k + 1))
            )
            expression += sympy.Sum(v[r] * product, (r, 1, self.rank))
        for j, phi in enumerate(self._function_expressions):
            w = sympy.IndexedBase(f"w_f{j + 1}")
            expression += sympy.Sum(w[i] * phi.subs(VARIABLE, x[i]), (i, 1, n))
        return expression

    def _explicit_expression(self, names: list[str]) -> sympy.Expr:
        xs = [sympy.Symbol(name) for name in names]
        expression = sympy.Symbol("b")
        for k in self.pure_orders:
            expression += sum(sympy.Symbol(f"w_{k}_{n}") * x**k for n, x in zip(names, xs))
        for k in self.interaction_orders:
            for r in range(1, self.rank + 1):
                product = sympy.Mul(
                    *(sum(sympy.Symbol(f"u_{k}{m}{r}_{n}") * x for n, x in zip(names, xs))
                      for m in range(1, k + 1))
                )
                expression += sympy.Symbol(f"v_{k}{r}") * product
        for j, phi in enumerate(self._function_expressions):
            expression += sum(
                sympy.Symbol(f"w_f{j + 1}_{n}") * phi.subs(VARIABLE, x) for n, x in zip(names, xs)
            )
        return expression


def _split_terms(text: str):
    """Yield ``(start, term)`` for the top-level ``+``-separated terms of ``text``."""
    depth, start = 0, 0
    for position, char in enumerate(text + "+"):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise FormulaSyntaxError(_point_at(text, position, "unbalanced ')'"))
        elif char == "+" and depth == 0:
            raw = text[start:position]
            term = raw.strip()
            if not term:
                raise FormulaSyntaxError(_point_at(text, position, "empty term"))
            yield start + len(raw) - len(raw.lstrip()), _strip_coefficient(term)
            start = position + 1
    if depth:
        raise FormulaSyntaxError(_point_at(text, len(text), "unbalanced '('"))


def _strip_coefficient(term: str) -> str:
    return re.sub(r"^[-+]?\s*\d+(?:\.\d*)?(?:[eE][-+]?\d+)?\s*\*\s*", "", term)


def _parse_function_term(text: str, start: int, term: str) -> str:
    names = set(re.findall(r"[A-Za-z_]\w*", term)) - {"x"} - set(_SYMPY_FUNCTIONS)
    if names:
        bad = sorted(names, key=term.find)[0]
        return _raise_at(
            text, start + term.find(bad),
            f"unknown name {bad!r}; terms are x, x**k, inter(k[, rank=R]) or expressions in x "
            f"using {', '.join(sorted(set(_SYMPY_FUNCTIONS) - {'Abs'}))}",
        )
    if "^" not in term:  # ``^`` is read as a power, which Python's parser does not know
        try:
            compile(term, "<formula>", "eval")
        except SyntaxError as exc:  # point at the token Python stopped at
            offset = exc.offset if exc.offset and exc.offset <= len(term) else len(term) + 1
            return _raise_at(text, start + offset - 1, f"cannot read term {term!r}: {exc.msg}")
    try:
        return _canonical_function(term)
    except (sympy.SympifyError, SyntaxError, TypeError, ValueError) as exc:
        return _raise_at(text, start, f"cannot read term {term!r} ({exc})")


def _point_at(text: str, position: int, message: str) -> str:
    return f"{message} at position {position} of formula:\n  {text}\n  {' ' * position}^"


def _raise_at(text: str, position: int, message: str):
    raise FormulaSyntaxError(_point_at(text, position, message))
