"""The neuron formula: which terms a task neuron aggregates its inputs with.

A :class:`NeuronFormula` is a small immutable value. It names the *kinds* of
terms a neuron sums before its activation; the weights of each term are
learned later by the network (:mod:`skneuron.nn`)::

    σ( Σ_k w_kᵀ x^{∘k}                         pure power terms
     + Σ_k Σ_{r≤R} v_r Π_{m≤k} u_{m,r}ᵀ x       CP interaction terms of order k, rank R
     + Σ_{j≤J} w_jᵀ sin(2π f_j ∘ x + φ_j)        a periodic term of J learned frequencies
     + Σ_φ w_φᵀ φ(x)                            element-wise function terms, e.g. sin(x)
     + b )

The same value is what discovery returns, what a user may write by hand
(``formula="x + x**2 + inter(2)"``) and what the network is built from.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
import unicodedata
from collections import Counter
from numbers import Integral
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import NamedTuple, NoReturn

import sympy
from sympy.printing.str import StrPrinter

__all__ = ["NeuronFormula", "FormulaSyntaxError", "parse_expression"]

#: The symbol element-wise function terms are written in.
VARIABLE = sympy.Symbol("x")

# Limits on formula text and values, checked before any work is done on them, so
# that neither a hand-written formula nor one read from a model file can exhaust
# time or memory. Each error message names the limit it hit.

#: Longest formula text, in characters (after Unicode normalisation).
MAX_FORMULA_LENGTH = 2000
#: Most terms in a formula (pure powers, interactions and element-wise terms together).
MAX_TERMS = 32
#: Largest power: pure orders ``x**k`` and the exponents inside element-wise terms.
MAX_POWER = 16
#: Largest interaction order ``k`` of ``inter(k)``.
MAX_INTERACTION_ORDER = 16
#: Largest CP rank of the interaction terms.
MAX_RANK = 1024
#: Deepest nesting of parentheses, function calls, signs and exponents in a term.
MAX_DEPTH = 10
#: Most nodes (numbers, ``x``, operations, function calls) in one element-wise term.
MAX_TERM_SIZE = 64
#: Largest number in a term, and largest numerator or denominator of a fraction; a number
#: other than 0 is at least ``1 / MAX_CONSTANT`` in size.
MAX_CONSTANT = 10**12
_LARGE_NUMBER = f"numbers are at most {MAX_CONSTANT:.0e} in size (MAX_CONSTANT)"
_SMALL_NUMBER = (f"numbers other than 0 are at least {1 / MAX_CONSTANT:.0e} in size "
                 "(MAX_CONSTANT)")
#: Longest number literal, in characters.
MAX_NUMBER_LENGTH = 32
#: Most rounds of printing and reading an element-wise term back until its text is stable.
MAX_CANONICAL_ROUNDS = 6
#: Most frequencies per input of a periodic term ``periodic(J)``.
MAX_FREQUENCIES = 64
#: Standard deviations of the frequencies a periodic term starts from, used in turn
#: by its ``J`` frequencies: from smooth waves on inputs of unit scale to ones that
#: resolve a tenth of that scale; training moves them where they pay.
PERIODIC_INIT_SCALE = (0.1, 0.3, 1.0)
#: The non-linear terms read their inputs clamped to ±INPUT_CLIP (standardised units),
#: in discovery as in the network's layers, so that high powers and products cannot
#: overflow on outlying rows.
INPUT_CLIP = 5.0


def power_scale(k: int) -> float:
    """``1/√((2k−1)!!)``, the factor that gives ``x**k`` unit second moment for a
    standard normal ``x``; the pure term ``x**k`` is computed so scaled, in discovery
    as in the network.

    >>> power_scale(1), round(power_scale(2) ** -2)
    (1.0, 3)
    """
    return 1.0 / math.sqrt(math.prod(range(2 * k - 1, 0, -2)))

# Functions a hand-written or discovered element-wise term may use. The parser
# below knows only these names and ``x``: a formula string never reaches Python
# or sympy's own parser, which evaluates text.
_FUNCTIONS = {
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
#: The sympy classes of those functions (``sqrt`` builds a power).
_FUNCTION_CLASSES = (sympy.sin, sympy.cos, sympy.tan, sympy.exp, sympy.log, sympy.tanh, sympy.Abs)

_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
_SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")

#: The tokens of the formula language; anything else in the text is an error.
_TOKEN = re.compile(
    r"(?P<space>[ \t\r\n]+)"
    r"|(?P<number>(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>\*\*|[-+*/^(),=])"
)


class FormulaSyntaxError(ValueError):
    """A formula string that does not parse; the message points at the bad term.

    A subclass of :class:`ValueError`, so scikit-learn's parameter checks and
    ``except ValueError`` catch it too. A formula beyond one of the limits of
    :mod:`skneuron.formula` (``MAX_POWER``, ``MAX_DEPTH``, ...) raises it
    too, naming the limit.

    Examples
    --------
    >>> from skneuron import FormulaSyntaxError, NeuronFormula
    >>> try:
    ...     NeuronFormula.parse("x + y**2")
    ... except FormulaSyntaxError as exc:
    ...     print(exc)
    unknown name 'y'; terms are x, x**k, inter(k[, rank=R]), periodic(J) or expressions in x using ... at position 4 of formula:
      x + y**2
          ^
    """


def _as_integer(value) -> int | None:
    """``value`` as an int if it is an integral number (not a bool), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, Integral):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _sorted_unique_orders(orders, *, name: str, minimum: int, maximum: int,
                          limit: str) -> tuple[int, ...]:
    if isinstance(orders, (str, bytes, dict)) or not hasattr(orders, "__iter__"):
        raise ValueError(f"{name} must be a tuple of integers; got {orders!r}.")
    result = set()
    for order in orders:
        value = _as_integer(order)
        if value is None or not minimum <= value <= maximum:
            raise ValueError(
                f"{name} must hold integers >= {minimum} and <= {maximum} ({limit}); "
                f"got {order!r}."
            )
        result.add(value)
    return tuple(sorted(result))


def _check_rank(rank) -> int:
    value = _as_integer(rank)
    if value is None or not 0 <= value <= MAX_RANK:
        raise ValueError(
            f"rank must be an integer >= 0 and <= {MAX_RANK} (MAX_RANK); got {rank!r}."
        )
    return value


def _read_functions(functions) -> tuple[set[int], tuple[str, ...]]:
    """The pure orders and the canonical element-wise terms among ``functions``.

    ``functions`` holds text, or sympy expressions (from discovery), read by
    :func:`parse_expression` either way.
    """
    if isinstance(functions, (str, bytes, dict)) or not hasattr(functions, "__iter__"):
        raise ValueError(f"functions must be a tuple of strings; got {functions!r:.80}.")
    functions = list(itertools.islice(functions, MAX_TERMS + 1))
    if len(functions) > MAX_TERMS:
        raise ValueError(f"a formula has at most {MAX_TERMS} terms (MAX_TERMS).")
    powers, texts = set(), set()
    for function in functions:
        if isinstance(function, sympy.Basic):
            function = _text(function)
        if not isinstance(function, str):
            raise ValueError(f"functions must hold strings; got {function!r:.80}.")
        text, order = _canonical_function(function)
        if order is None:
            texts.add(text)
        else:
            powers.add(order)
    return powers, tuple(sorted(texts))


@functools.lru_cache(maxsize=4096)
def _canonical_function(text: str) -> tuple[str, int | None]:
    """Canonical text of an element-wise term, and its order if it is a pure power.

    The canonical form is the normal form sympy's constructors give the
    expression the safe parser builds (like terms collected, factors
    ordered, a constant factor dropped; functions of ``x`` as written),
    printed back as text. Reading printed text can change it again (sympy
    distributes a number over a sum it reads: ``2*(x + 10)/x`` prints as
    ``(2*x + 20)/x``), so the text is read and printed until it reads back
    to itself, at most ``MAX_CANONICAL_ROUNDS`` times: the canonical text
    parses to itself, and equal terms compare equal in a formula and in a
    model file. Unlike ``sympy.simplify``, whose time has no bound, it
    costs little.
    """
    for _ in range(MAX_CANONICAL_ROUNDS):
        expression = _without_constant_factor(parse_expression(text))
        if VARIABLE not in expression.free_symbols:
            raise ValueError(f"an element-wise term must depend on x; got {_text(expression)}.")
        order = _pure_order(expression)
        printed = _text(expression)
        if order is not None or printed == text:
            return printed, order
        text = printed
    raise FormulaSyntaxError(
        f"the element-wise term {text!r} does not read back to itself within "
        f"{MAX_CANONICAL_ROUNDS} rounds of printing and parsing (MAX_CANONICAL_ROUNDS); "
        "write it more simply.")


class _FormulaPrinter(StrPrinter):
    """sympy's text of an expression, with ``E`` (which ``exp(1)`` evaluates to) as ``exp(1)``."""

    def _print_Exp1(self, expression) -> str:
        return "exp(1)"


def _text(expression: sympy.Expr) -> str:
    """The text of an expression in the formula language: what :func:`parse_expression` reads."""
    return _FormulaPrinter().doprint(expression)


def _without_constant_factor(expression: sympy.Expr) -> sympy.Expr:
    """``expression`` without a factor free of ``x``: weights are learned, so ``2*x`` is x.

    An expression free of ``x`` is returned as it is (and refused by the caller).
    """
    _, rest = expression.as_independent(VARIABLE, as_Add=False)
    if rest == 1:
        return expression
    problem = _check_tree(rest)  # sympy rebuilt it: check it as anything sympy builds
    if problem:
        raise FormulaSyntaxError(f"cannot read term {_text(expression)!r}: {problem}")
    return rest


def _check_saved_functions(formula: NeuronFormula, saved) -> None:
    """Refuse a saved formula whose element-wise terms do not read back as they were saved.

    A network's weights of element-wise terms are saved in the order of the
    formula's ``functions``; read back in another order, or as other terms,
    they would weigh the wrong terms. Formulas saved by this version are in
    canonical form and always read back as saved; a file from a version
    whose canonical form was not stable, or an edited one, may not.

    Parameters
    ----------
    formula : NeuronFormula
        The formula read from ``saved`` (and the rest of the saved fields).
    saved : sequence of str
        The element-wise terms as saved.

    Raises
    ------
    ValueError
        If ``formula.functions`` is not ``saved``, term for term.
    """
    saved = tuple(saved) if isinstance(saved, (list, tuple)) else saved
    if saved != formula.functions:
        raise ValueError(
            f"the formula's element-wise terms {saved!r:.300} read back as "
            f"{formula.functions!r:.300}, in another form or order, so saved weights would "
            "weigh the wrong terms; fit and save the model again with this version.")


def _pure_order(expression: sympy.Expr) -> int | None:
    """``k`` when ``expression`` is the pure power ``x**k``, else None."""
    if expression == VARIABLE:
        return 1
    if expression.is_Pow and expression.base == VARIABLE and expression.exp.is_Integer \
            and expression.exp >= 1:
        return int(expression.exp)
    return None


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
    periodic : int, default=0
        Number ``J`` of frequencies of the periodic term
        ``Σ_j w_jᵀ sin(2π f_j ∘ x + φ_j)`` (``periodic(J)``), whose
        frequencies ``f_j`` and phases ``φ_j`` are learned per input; 0 for
        none. It is the numeric embedding of tabular networks written as a
        task-neuron term.

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
    periodic: int = 0

    def __post_init__(self):
        pure = _sorted_unique_orders(self.pure_orders, name="pure_orders", minimum=1,
                                     maximum=MAX_POWER, limit="MAX_POWER")
        interaction = _sorted_unique_orders(
            self.interaction_orders, name="interaction_orders", minimum=2,
            maximum=MAX_INTERACTION_ORDER, limit="MAX_INTERACTION_ORDER",
        )
        rank = _check_rank(self.rank) if interaction else 0
        if interaction and rank < 1:
            raise ValueError("rank must be >= 1 when the formula has interaction terms.")
        powers, functions = _read_functions(self.functions)
        pure = tuple(sorted(set(pure) | powers))  # "x**3" given as a function is a pure power
        periodic = _as_integer(self.periodic)
        if periodic is None or not 0 <= periodic <= MAX_FREQUENCIES:
            raise ValueError(f"periodic must be an integer >= 0 and <= {MAX_FREQUENCIES} "
                             f"(MAX_FREQUENCIES); got {self.periodic!r}.")
        n_terms = len(pure) + len(interaction) + len(functions) + (periodic > 0)
        if not n_terms:
            raise ValueError("a formula needs at least one term.")
        if n_terms > MAX_TERMS:
            raise ValueError(f"a formula has at most {MAX_TERMS} terms (MAX_TERMS); got {n_terms}.")
        object.__setattr__(self, "pure_orders", pure)
        object.__setattr__(self, "interaction_orders", interaction)
        object.__setattr__(self, "rank", rank)
        object.__setattr__(self, "functions", functions)
        object.__setattr__(self, "periodic", periodic)

    def __getstate__(self) -> dict:
        # The fields only: cached sympy expressions are rebuilt on demand, so a pickle or
        # a skops file of a formula holds plain tuples, ints and strings.
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def __setstate__(self, state: dict) -> None:
        # Through __init__, so the fields are checked as when the formula was made.
        self.__init__(**{f.name: state[f.name] for f in fields(self) if f.name in state})
        _check_saved_functions(self, state.get("functions", ()))

    # ------------------------------------------------------------------ parsing
    @classmethod
    def parse(cls, text: str, *, rank: int = 8) -> NeuronFormula:
        """Build a formula from text such as ``"x + x**3 + inter(2) + sin(x)"``.

        Terms are separated by ``+``. ``x`` and ``x**k`` (or ``x^k``) are pure
        power terms, ``inter(k)`` or ``inter(k, rank=R)`` an order-``k`` CP
        interaction term, ``periodic(J)`` the periodic term of ``J`` learned
        frequencies, and any other expression in ``x`` built from
        numbers, ``+ - * / ** ^``, parentheses and
        ``sin cos tan exp log tanh sqrt abs`` an element-wise term. A constant
        factor is ignored (weights are learned): ``"2*x"`` is ``"x"``.

        The text is read by a parser of this small language only; it is never
        evaluated, so it can name nothing else. Its size is bounded by the
        limits of :mod:`skneuron.formula` (``MAX_FORMULA_LENGTH``,
        ``MAX_TERMS``, ``MAX_POWER``, ``MAX_INTERACTION_ORDER``, ``MAX_RANK``,
        ``MAX_DEPTH``, ``MAX_TERM_SIZE``, ``MAX_CONSTANT``), checked as the text is
        read. Each element-wise term is kept in canonical form, whose text
        parses back to itself: ``NeuronFormula.parse(" + ".join(f.terms)) == f``.

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
            If a term does not parse or exceeds a limit; the message names the
            problem and points at it in ``text``.

        Examples
        --------
        >>> NeuronFormula.parse("x^2 + inter(3, rank=2)").terms
        ('x**2', 'inter(3, rank=2)')
        >>> NeuronFormula.parse("3*x + x*sin(x)/2").terms
        ('x', 'x*sin(x)')
        >>> NeuronFormula.parse("x + periodic(8)").periodic
        8
        """
        text = _normalise(text)
        pure, interaction, functions, ranks, periodic = [], [], [], set(), set()
        for term in _Parser(text).formula():
            if term.kind == "inter":
                interaction.append(term.order)
                ranks.update({term.rank} - {None})
            elif term.kind == "periodic":
                periodic.add(term.order)
            elif term.kind == "pure":
                pure.append(term.order)
            else:
                functions.append(term.text)
        if len(periodic) > 1:
            raise FormulaSyntaxError(
                f"a formula has one periodic term; {text!r} gives {sorted(periodic)} frequencies."
            )
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
                periodic=periodic.pop() if periodic else 0,
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

        An element-wise term that is itself a sum is written in parentheses,
        so that ``" + ".join(formula.terms)`` parses back to ``formula``.

        Examples
        --------
        >>> NeuronFormula.parse("inter(2) + x**2 + x").terms
        ('x', 'x**2', 'inter(2, rank=8)')
        >>> NeuronFormula.parse("x - x**2 + (sin(x) + x**3)").terms
        ('(-x**2 + x)', '(x**3 + sin(x))')
        """
        pure = tuple("x" if k == 1 else f"x**{k}" for k in self.pure_orders)
        inter = tuple(f"inter({k}, rank={self.rank})" for k in self.interaction_orders)
        periodic = (f"periodic({self.periodic})",) if self.periodic else ()
        functions = tuple(f"({text})" if expression.is_Add else text
                          for text, expression in zip(self.functions, self._function_expressions))
        return pure + inter + periodic + functions

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
            ``rank`` as an int, and ``periodic`` (an int) when the formula has
            a periodic term.

        Examples
        --------
        >>> f = NeuronFormula.parse("x + inter(2)")
        >>> NeuronFormula.from_dict(f.to_dict()) == f
        True
        """
        data = {
            "pure_orders": list(self.pure_orders),
            "interaction_orders": list(self.interaction_orders),
            "rank": self.rank,
            "functions": list(self.functions),
        }
        if self.periodic:
            data["periodic"] = self.periodic
        return data

    @classmethod
    def from_dict(cls, data: dict, *, exact: bool = False) -> NeuronFormula:
        """Inverse of :meth:`to_dict`.

        Parameters
        ----------
        data : dict
            As :meth:`to_dict` returns; missing keys take the defaults
            (``rank`` 8, no terms of that kind).
        exact : bool, default=False
            Refuse ``data`` whose element-wise terms do not read back as
            given, term for term and in order (as :meth:`to_dict` writes
            them). Set it when weights saved with the formula are bound to
            its terms, as in a model file.

        Returns
        -------
        NeuronFormula

        Raises
        ------
        ValueError
            If a field is invalid, or with ``exact`` if the element-wise terms
            read back in another form or order.

        Examples
        --------
        >>> NeuronFormula.from_dict({"pure_orders": [1, 2]}).terms
        ('x', 'x**2')
        >>> NeuronFormula.from_dict({"functions": ["x*x"]}).terms  # x*x is x**2
        ('x**2',)
        >>> NeuronFormula.from_dict({"functions": ["x*x"]}, exact=True)
        Traceback (most recent call last):
        ...
        ValueError: the formula's element-wise terms ('x*x',) read back as (), ...
        """
        formula = cls(
            pure_orders=tuple(data.get("pure_orders", ())),
            interaction_orders=tuple(data.get("interaction_orders", ())),
            rank=data.get("rank", 8) or 8,
            functions=tuple(data.get("functions", ())),
            periodic=data.get("periodic", 0),
        )
        if exact:
            _check_saved_functions(formula, data.get("functions", ()))
        return formula

    def union(self, other: NeuronFormula | str) -> NeuronFormula:
        """The formula with the terms of both (``self``'s rank and number of frequencies
        win if both have one).

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
            periodic=self.periodic or other.periodic,
        )

    def __or__(self, other):
        """``self.union(other)`` for a formula or its text; anything else is not a formula."""
        if not isinstance(other, (NeuronFormula, str)):
            return NotImplemented  # Python then raises TypeError
        return self.union(other)

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
        if self.periodic:
            parts.append(f"Σⱼ₌₁{str(self.periodic).translate(_SUPERSCRIPT)} "
                         "wⱼᵀsin(2πfⱼ∘x + φⱼ)")
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

        Raises
        ------
        ValueError
            If a feature name repeats, which would make one symbol of two.

        Notes
        -----
        A coefficient whose name is also a feature's (a feature called ``b``,
        the bias's name) takes a leading underscore (``_b``) until it is no
        feature's: every symbol stays one quantity.

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
        return tuple(parse_expression(f) for f in self.functions)

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
        if self.periodic:
            j = sympy.Symbol("j", integer=True, positive=True)
            w, f, phase = (sympy.IndexedBase(name) for name in ("w_p", "f", "phi"))
            wave = sympy.sin(2 * sympy.pi * f[i, j] * x[i] + phase[i, j])
            expression += sympy.Sum(w[i, j] * wave, (i, 1, n), (j, 1, self.periodic))
        for j, phi in enumerate(self._function_expressions):
            w = sympy.IndexedBase(f"w_f{j + 1}")
            expression += sympy.Sum(w[i] * phi.subs(VARIABLE, x[i]), (i, 1, n))
        return expression

    def _explicit_expression(self, names: list[str]) -> sympy.Expr:
        duplicates = sorted(name for name, count in Counter(names).items() if count > 1)
        if duplicates:
            raise ValueError(f"feature names must be unique; {duplicates!r:.200} repeat.")
        xs = [sympy.Symbol(name) for name in names]
        taken = set(names)

        def c(name: str) -> sympy.Symbol:  # a coefficient's symbol, no feature's name
            while name in taken:
                name = "_" + name
            return sympy.Symbol(name)

        expression = c("b")
        for k in self.pure_orders:
            expression += sum(c(f"w_{k}_{n}") * x**k for n, x in zip(names, xs))
        for k in self.interaction_orders:
            for r in range(1, self.rank + 1):
                product = sympy.Mul(
                    *(sum(c(f"u_{k}_{m}_{r}_{n}") * x for n, x in zip(names, xs))
                      for m in range(1, k + 1))
                )
                expression += c(f"v_{k}_{r}") * product
        for j in range(1, self.periodic + 1):
            expression += sum(
                c(f"w_p{j}_{n}") * sympy.sin(
                    2 * sympy.pi * c(f"f{j}_{n}") * x + c(f"phi{j}_{n}"))
                for n, x in zip(names, xs))
        for j, phi in enumerate(self._function_expressions):
            expression += sum(
                c(f"w_f{j + 1}_{n}") * phi.subs(VARIABLE, x) for n, x in zip(names, xs)
            )
        return expression



# ------------------------------------------------------------------ the parser
def parse_expression(text: str) -> sympy.Expr:
    """Read an element-wise expression in ``x``, such as ``"x*exp(-x**2/2)"``, safely.

    The text is tokenised and parsed by this module's own grammar (numbers,
    ``x``, ``+ - * / ** ^``, parentheses and the functions ``sin cos tan exp
    log tanh sqrt abs``), and the expression is built from sympy's
    constructors: nothing in the text is evaluated, and the limits
    ``MAX_FORMULA_LENGTH``, ``MAX_DEPTH``, ``MAX_TERM_SIZE``, ``MAX_POWER``
    and ``MAX_CONSTANT`` are checked as it is read. Text is first normalised
    to Unicode NFKC (so a full-width ``ｘ`` reads as ``x``); any character
    outside the language is an error.

    Parameters
    ----------
    text : str
        The expression.

    Returns
    -------
    sympy.Expr
        The expression in the symbol ``x``, in the normal form of sympy's
        constructors (like terms collected, products of equal factors written
        as powers; functions of ``x`` as written).

    Raises
    ------
    FormulaSyntaxError
        If the text is not an expression of this language, exceeds a limit
        or is not a finite real expression (``log(0)``, ``1/0``).

    Examples
    --------
    >>> from skneuron.formula import parse_expression
    >>> parse_expression("x*x + sin(x)^2 / 2")
    x**2 + sin(x)**2/2
    >>> parse_expression("x.real")
    Traceback (most recent call last):
    ...
    skneuron.formula.FormulaSyntaxError: invalid syntax: '.' is not part of a formula ...
    """
    text = _normalise(text)
    return _Parser(text).whole_expression()


def _normalise(text) -> str:
    """NFKC-normalised formula text, or an error for text that cannot be one."""
    if not isinstance(text, str) or not text.strip():
        raise FormulaSyntaxError(f"a formula must be a non-empty string; got {text!r:.80}.")
    if len(text) > MAX_FORMULA_LENGTH:  # before normalising, which can lengthen text
        raise FormulaSyntaxError(
            f"a formula has at most {MAX_FORMULA_LENGTH} characters (MAX_FORMULA_LENGTH); "
            f"got {len(text)}."
        )
    if text.lstrip().startswith("σ("):
        raise FormulaSyntaxError(
            "that is how a fitted formula prints, not formula text; pass the formula "
            "itself (formula=reg.formula_) or its terms, ' + '.join(reg.formula_.terms), "
            "e.g. 'x + x**2 + inter(3, rank=8)'."
        )
    text = unicodedata.normalize("NFKC", text)
    if len(text) > MAX_FORMULA_LENGTH:
        raise FormulaSyntaxError(
            f"a formula has at most {MAX_FORMULA_LENGTH} characters (MAX_FORMULA_LENGTH) "
            f"after Unicode normalisation; got {len(text)}."
        )
    return text


class _Token(NamedTuple):
    kind: str  # "number", "name" or "op"
    text: str
    position: int


class _Term(NamedTuple):
    """One top-level term of a formula: ``kind`` is "pure", "inter", "periodic" or "function"."""

    kind: str
    order: int = 0
    rank: int | None = None
    text: str = ""


def _tokenize(text: str) -> list[_Token]:
    tokens, position = [], 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            _fail(text, position, f"invalid syntax: {text[position]!r} is not part of a formula")
        if match.lastgroup != "space":
            if match.lastgroup == "number" and len(match.group()) > MAX_NUMBER_LENGTH:
                _fail(text, position, f"a number has at most {MAX_NUMBER_LENGTH} characters "
                                      "(MAX_NUMBER_LENGTH)")
            tokens.append(_Token(match.lastgroup, match.group(), position))
        position = match.end()
    return tokens


class _Parser:
    """Recursive descent over the tokens of a formula, building sympy objects.

    Grammar (``term`` is a top-level term; inside parentheses ``+`` also
    adds, at the top level it separates terms)::

        formula    := term ("+" term)*
        term       := [sign] [number "*"] "inter" "(" int ["," "rank" "=" int] ")"
                    | [sign] [number "*"] "periodic" "(" int ")"
                    | product ("-" product)*
        expression := product (("+" | "-") product)*
        product    := unary (("*" | "/") unary)*
        unary      := ("-" | "+") unary | power
        power      := atom [("**" | "^") unary]
        atom       := number | "x" | function "(" expression ")" | "(" expression ")"

    Every sympy object built is checked at once (:func:`_check_tree`), so no
    limit can be exceeded by more than one operation.
    """

    def __init__(self, text: str):
        self.text = text
        self.tokens = _tokenize(text)
        self.index = 0
        self.depth = 0
        self.term_start = 0
        self.whole = False  # parsing one expression, not a formula of terms

    # ------------------------------------------------------------- entry points
    def formula(self) -> list[_Term]:
        terms = []
        while True:
            if len(terms) == MAX_TERMS:
                self._fail(f"a formula has at most {MAX_TERMS} terms (MAX_TERMS)")
            terms.append(self._term())
            if self._peek() is None:
                return terms
            self._expect("+")

    def whole_expression(self) -> sympy.Expr:
        self.whole = True
        expression = self._expression()
        if self._peek() is not None:
            self._unexpected()
        return self._normal_form(expression)

    # ------------------------------------------------------------- terms
    def _term(self) -> _Term:
        token = self._peek()
        if token is None or token.text == "+":
            self._fail("empty term")
        self.term_start = self.index
        if self._interaction_ahead():
            return self._interaction()
        if self._periodic_ahead():
            return self._periodic()
        expression = self._normal_form(self._expression(top=True))
        if not (self._peek() is None or self._next_is("+")):
            self._unexpected()
        # weights are learned: "2*x" is x, and "log(2)*sin(x)" is sin(x)
        try:
            expression = _without_constant_factor(expression)
        except FormulaSyntaxError as exc:
            self._fail(str(exc), self.tokens[self.term_start].position)
        order = _pure_order(expression)
        if order is not None:
            return _Term("pure", order=order)
        if VARIABLE not in expression.free_symbols:
            self._fail(f"cannot read term {self._term_text()!r}: an element-wise term must "
                       f"depend on x; got {_text(expression)}",
                       self.tokens[self.term_start].position)
        return _Term("function", text=_text(expression))

    def _interaction_ahead(self) -> bool:
        return self._named_term_ahead() == "inter"

    def _periodic_ahead(self) -> bool:
        return self._named_term_ahead() == "periodic"

    def _named_term_ahead(self) -> str | None:
        """The name after an optional sign and coefficient, when it is followed by "("."""
        texts = [t.text for t in self.tokens[self.index:self.index + 5]]
        if texts[:1] in (["-"], ["+"]):
            texts = texts[1:]
        if len(texts) >= 2 and self._is_number(texts[0]) and texts[1] == "*":
            texts = texts[2:]
        return texts[0] if texts[1:2] == ["("] else None

    def _periodic(self) -> _Term:
        while self._peek().text != "periodic":  # a sign or coefficient: weights are learned
            self._take()
        self._take()
        self._expect("(")
        frequencies = self._integer("periodic(J) takes a whole number of frequencies")
        self._expect(")")
        if not (self._peek() is None or self._next_is("+")):
            self._fail("periodic(J) is a term of its own: it cannot be part of an expression")
        if not 1 <= frequencies <= MAX_FREQUENCIES:
            self._fail(f"periodic(J) takes 1 to {MAX_FREQUENCIES} frequencies (MAX_FREQUENCIES); "
                       f"got {frequencies}", self.tokens[self.index - 2].position)
        return _Term("periodic", order=frequencies)

    def _interaction(self) -> _Term:
        while self._peek().text != "inter":  # a sign or coefficient: weights are learned
            self._take()
        self._take()
        self._expect("(")
        order, rank = self._integer(), None
        if self._next_is(","):
            self._take()
            self._expect("rank")
            self._expect("=")
            rank = self._integer()
        self._expect(")")
        if not (self._peek() is None or self._next_is("+")):
            self._fail("inter(k[, rank=R]) is a term of its own: it cannot be part of an "
                       "expression")
        if rank is not None and not 1 <= rank <= MAX_RANK:
            self._fail(f"rank must be >= 1 and <= {MAX_RANK} (MAX_RANK); got {rank}",
                       self.tokens[self.index - 2].position)
        return _Term("inter", order=order, rank=rank)

    def _integer(self, message: str = "inter(k[, rank=R]) takes whole numbers") -> int:
        token = self._peek()
        if token is None or not token.text.isdigit():
            self._fail(message if token else "unbalanced '('")
        self._take()
        return int(token.text)

    # ------------------------------------------------------------- expressions
    def _expression(self, *, top: bool = False) -> sympy.Expr:
        result = self._product()
        while self._next_is("-") or (not top and self._next_is("+")):
            operator = self._take()
            right = self._product()
            result = self._build(result - right if operator.text == "-" else result + right,
                                 operator)
        return result

    def _product(self) -> sympy.Expr:
        result = self._unary()
        while self._next_is("*", "/"):
            operator = self._take()
            right = self._unary()
            result = self._build(result * right if operator.text == "*" else result / right,
                                 operator)
        return result

    def _unary(self) -> sympy.Expr:
        if not self._next_is("-", "+"):
            return self._power()
        sign = self._take()
        with self._nested(sign):
            operand = self._unary()
        return self._build(-operand, sign) if sign.text == "-" else operand

    def _power(self) -> sympy.Expr:
        base = self._atom()
        if not self._next_is("**", "^"):
            return base
        operator = self._take()
        with self._nested(operator):
            exponent = self._unary()
        if not exponent.is_Number:
            self._fail("the exponent of a power must be a number", operator.position)
        if abs(exponent) > MAX_POWER:  # before sympy computes anything (9**9**8)
            self._fail(f"an exponent is at most {MAX_POWER} in size (MAX_POWER); "
                       f"got {exponent}", operator.position)
        return self._build(base**exponent, operator)

    def _atom(self) -> sympy.Expr:
        token = self._peek()
        if token is None:
            self._fail(f"cannot read term {self._term_text()!r}: invalid syntax, the formula "
                       "ends too early")
        if token.text == "(":
            self._take()
            with self._nested(token):
                inner = self._expression()
            self._expect(")")
            return inner
        if token.kind == "number":
            self._take()
            problem = _literal_problem(token.text)  # before sympy reads it (1e99999999)
            if problem:
                self._fail(f"cannot read number {token.text!r}: {problem}", token.position)
            return self._build(_number(token.text), token)
        if token.kind != "name":
            self._unexpected()
        self._take()
        if token.text == "x":
            return VARIABLE
        if token.text in _FUNCTIONS:
            self._expect("(")
            with self._nested(token):
                argument = self._expression()
            self._expect(")")
            return self._build(_function(_FUNCTIONS[token.text], argument), token)
        if token.text in ("inter", "periodic"):
            syntax = "inter(k[, rank=R])" if token.text == "inter" else "periodic(J)"
            self._fail(f"{syntax} is a term of its own: it cannot be part of an expression",
                       token.position)
        self._fail(
            f"unknown name {token.text!r}; terms are x, x**k, inter(k[, rank=R]), periodic(J) or "
            f"expressions in x using {', '.join(sorted(set(_FUNCTIONS) - {'Abs'}))}",
            token.position)

    # ------------------------------------------------------------- checks
    def _build(self, expression: sympy.Expr, token: _Token) -> sympy.Expr:
        problem = _check_tree(expression)
        if problem:
            self._fail(f"cannot read term {self._term_text()!r}: {problem}", token.position)
        return expression

    def _normal_form(self, expression: sympy.Expr) -> sympy.Expr:
        """``expression`` built again bottom-up, and checked again.

        Built step by step, sympy can leave a product inside a product
        (``18/x*sqrt(-1.2/x)``), which prints unlike the flat product it
        equals; built again from its parts it is flat, and its text reads back
        to itself.
        """
        rebuilt = _rebuilt(expression)
        problem = _check_tree(rebuilt)
        if problem:
            self._fail(f"cannot read term {self._term_text()!r}: {problem}",
                       self.tokens[self.term_start].position if self.tokens else 0)
        return rebuilt

    @contextmanager
    def _nested(self, token: _Token):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            self._fail(f"a term nests at most {MAX_DEPTH} levels of parentheses, functions, "
                       "signs and exponents (MAX_DEPTH)", token.position)
        try:
            yield
        finally:
            self.depth -= 1

    # ------------------------------------------------------------- tokens
    def _peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def _next_is(self, *texts: str) -> bool:
        token = self._peek()
        return token is not None and token.kind == "op" and token.text in texts

    def _take(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def _expect(self, text: str) -> None:
        token = self._peek()
        if token is None:
            self._fail("unbalanced '('" if text == ")" else
                       f"cannot read term {self._term_text()!r}: the formula ends too early")
        if token.text != text:
            self._unexpected()
        self._take()

    def _unexpected(self) -> NoReturn:
        token = self._peek()
        if token.text == ")":
            self._fail("unbalanced ')'")
        self._fail(f"cannot read term {self._term_text()!r}: invalid syntax, unexpected "
                   f"{token.text!r}")

    @staticmethod
    def _is_number(text: str) -> bool:
        return text[:1].isdigit() or text[:1] == "."

    def _term_text(self) -> str:
        """The current top-level term: its text up to the next top-level ``+``."""
        if self.whole or self.term_start >= len(self.tokens):
            return self.text.strip()
        start, depth = self.tokens[self.term_start].position, 0
        for token in self.tokens[self.term_start + 1:]:
            depth += (token.text == "(") - (token.text == ")")
            if token.text == "+" and depth <= 0:
                return self.text[start:token.position].strip()
        return self.text[start:].strip()

    def _fail(self, message: str, position: int | None = None) -> NoReturn:
        if position is None:
            token = self._peek()
            position = len(self.text) if token is None else token.position
        _fail(self.text, position, message)


def _function(function, argument: sympy.Expr) -> sympy.Expr:
    """``function(argument)``, evaluated only when the argument is a plain number.

    sympy's automatic evaluation of a function asks its assumption system
    about the argument, which can take seconds for an expression of ``x``
    (``log(log(tanh(x**16)))``) and for ever for a number such as
    ``exp(exp(38))``; of a bounded plain number it is quick, and turns
    ``sin(0)`` into 0 and ``log(0)`` into a non-finite value the checks refuse.
    """
    return function(argument, evaluate=bool(argument.is_Number))


def _rebuilt(expression: sympy.Expr) -> sympy.Expr:
    if not expression.args:
        return expression
    args = [_rebuilt(arg) for arg in expression.args]
    if isinstance(expression, _FUNCTION_CLASSES) and not expression.is_Pow:  # E**k is an "exp"
        return _function(expression.func, *args)
    result = expression.func(*args)
    for _ in range(MAX_TERM_SIZE):  # sympy's flattening can itself nest a product in one
        if not (result.is_Mul or result.is_Add) or all(a.func is not result.func
                                                       for a in result.args):
            break
        result = result.func(*(part for arg in result.args for part in result.func.make_args(arg)))
    return result


def _number(text: str) -> sympy.Number:
    """A number literal as sympy reads it: an integer, else a float.

    Call it on a literal :func:`_literal_problem` passed only: sympy reads
    ``1e99999999`` by building the integer it names, for minutes and
    gigabytes.
    """
    if text.isdigit():
        return sympy.Integer(int(text))
    if float(text) == 0:  # 0e99999999 too: 0, not the 10**99999999 sympy would compute first
        return sympy.Float(0)
    return sympy.Float(text)


def _literal_problem(text: str) -> str | None:
    """What makes a number literal too large or too small, or None; costs little.

    Python's ``float`` reads any literal of the token grammar in time linear
    in its length (``1e99999999999`` is inf, ``1e-99999999`` is 0.0), so its
    value is known before sympy sees it.
    """
    value = float(text)
    if value == 0:
        return None if _is_zero_literal(text) else _SMALL_NUMBER
    return _size_problem(value)


def _is_zero_literal(text: str) -> bool:
    """Whether a literal is 0 (``0.0``, ``0e5``), not a tiny number that float rounds to 0."""
    return not any(digit in "123456789" for digit in re.split("[eE]", text)[0])


def _size_problem(value: float) -> str | None:
    """What makes a finite-or-not number out of bounds, or None: 0 or within MAX_CONSTANT."""
    if not abs(value) <= MAX_CONSTANT:  # inf and nan too
        return _LARGE_NUMBER
    if value != 0 and abs(value) < 1 / MAX_CONSTANT:
        return _SMALL_NUMBER
    return None


def _float_problem(number: sympy.Float) -> str | None:
    """:func:`_size_problem` of a sympy Float, read from its binary exponent first.

    sympy pulls constants out of a term (``exp(x - 1e12)`` is
    ``5.6e-434294481904*exp(x)``) as Floats of any exponent; the value of
    ``sign * mantissa * 2**exponent`` lies in ``[2**(e-1), 2**e)`` with ``e``
    its exponent plus the mantissa's bit count, so one far outside
    ``2**-64 .. 2**64`` is refused without computing it.
    """
    _, mantissa, exponent, bits = number._mpf_
    if not mantissa:
        return None if exponent == 0 else _LARGE_NUMBER  # 0, else inf or nan
    magnitude = exponent + bits
    if magnitude > 64:
        return _LARGE_NUMBER
    if magnitude < -64:
        return _SMALL_NUMBER
    return _size_problem(float(number))


def _check_tree(expression: sympy.Expr) -> str | None:
    """What makes ``expression`` unfit as (part of) a term, or None if nothing does."""
    for count, node in enumerate(sympy.preorder_traversal(expression), start=1):
        if count > MAX_TERM_SIZE:
            return (f"a term has at most {MAX_TERM_SIZE} numbers, operations and functions "
                    "(MAX_TERM_SIZE)")
        problem = _check_node(node)
        if problem:
            return problem
    return None


def _check_node(node: sympy.Basic) -> str | None:
    if not node.is_Atom and not node.free_symbols:
        # A function, sum, product or power of numbers only is a number: bounded as a
        # literal is, before sympy ever prints it (printing evaluates it, in time that
        # grows with its size). A power's exponent is checked below too.
        problem = _constant_problem(node)
        if problem or not node.is_Pow:
            return problem
    if isinstance(node, _FUNCTION_CLASSES) and not node.is_Pow:  # E**k is an "exp"
        return None
    if node == VARIABLE or node.is_Add or node.is_Mul:
        return None
    if node is sympy.E:  # exp(1), printed back as exp(1)
        return None
    if node.is_Rational:
        if max(abs(node.p), node.q) > MAX_CONSTANT:
            return (f"numbers, and the numerator and denominator of a fraction, are at most "
                    f"{MAX_CONSTANT:.0e} in size (MAX_CONSTANT)")
        return None
    if node.is_Float:
        return _float_problem(node)
    if node.is_Pow:
        exponent = node.exp
        if not exponent.is_Number:
            return "the exponent of a power must be a number"
        if abs(exponent) > MAX_POWER:
            return f"an exponent is at most {MAX_POWER} in size (MAX_POWER); got {exponent}"
        return None
    if node.is_Number or node.has(sympy.I, sympy.zoo):
        return f"it evaluates to {node}, which is not a finite real number"
    return f"it evaluates to {node}, which is outside the formula language"


#: The float value of each function of the formula language, for :func:`_constant_value`.
_MATH = {sympy.sin: math.sin, sympy.cos: math.cos, sympy.tan: math.tan, sympy.exp: math.exp,
         sympy.log: math.log, sympy.tanh: math.tanh, sympy.Abs: abs}


def _constant_problem(node: sympy.Basic) -> str | None:
    """What makes an expression without ``x`` out of bounds, from its value in floats."""
    value = _constant_value(node)
    if math.isnan(value):  # not printed: printing would evaluate it
        return "a part without x does not evaluate to a finite real number"
    return _size_problem(value)


def _constant_value(node: sympy.Basic) -> float:
    """The value of an expression without ``x``, computed in floats in time linear in
    its size: ``inf`` where it overflows, the smallest float where a non-zero value
    underflows, ``nan`` where it is not a real number."""
    try:
        if node.is_Number:
            return float(node)
        if node is sympy.E:
            return math.e
        values = [_constant_value(arg) for arg in node.args]
        if node.is_Add:
            return math.fsum(values)  # inf - inf raises ValueError: nan below
        if node.is_Mul:
            value = math.prod(values)
        elif node.is_Pow:
            value = values[0] ** values[1]
            if not isinstance(value, float):  # complex: not real
                return math.nan
        elif node.func in _MATH:
            value = float(_MATH[node.func](*values))
        else:
            return math.nan
        nonzero = node.func is sympy.exp or (node.is_Mul or node.is_Pow) and all(values)
        return math.ulp(0.0) if value == 0.0 and nonzero else value  # an underflow
    except OverflowError:
        return math.inf
    except (ValueError, ZeroDivisionError):  # log(0), sin(inf), 0**-1
        return math.nan


def _point_at(text: str, position: int, message: str) -> str:
    return f"{message} at position {position} of formula:\n  {text}\n  {' ' * position}^"


def _fail(text: str, position: int, message: str) -> NoReturn:
    raise FormulaSyntaxError(_point_at(text, position, message))
