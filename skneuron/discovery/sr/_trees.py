"""Expression trees over one variable, and their canonical forms.

A tree is a nested tuple: ``("x",)``, ``(unary, child)`` or
``(binary, left, right)``, its operations named as in :data:`FUNCTIONS`
(``"sub"`` with one operand is negation). Trees are what variation edits;
the search scores *canonical terms*: a tree brought to sympy canonical form,
expanded, split at its top-level ``+`` into monomials and stripped of
numeric factors (:func:`canonical_terms`), each compiled once into an
element-wise program (:func:`program`).
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import numpy as np
import sympy

from skneuron._elementwise import compile_elementwise, evaluate_elementwise
from skneuron.discovery._common import CLIP
from skneuron.formula import VARIABLE

__all__ = [
    "BINARY",
    "FUNCTIONS",
    "LEAF",
    "CanonicalTerm",
    "canonical_terms",
    "depth",
    "enumerate_trees",
    "from_sympy",
    "magnitude",
    "operators",
    "paths",
    "program",
    "replace_subtree",
    "subtree",
]

#: Every base function the search can use, by the name ``function_set`` takes.
#: ``"sub"`` also gives unary negation (needed for e.g. ``exp(-x**2)``);
#: ``"log"`` is the protected ``log(|·| + 1e-6)`` and ``"exp"`` is evaluated
#: at ``min(·, 20)``, exactly as the network evaluates them.
FUNCTIONS = ("add", "sub", "mul", "square", "cube", "sin", "cos", "exp", "log", "tanh")

#: The binary operations; every other function is unary.
BINARY = ("add", "sub", "mul")

#: The tree of the variable itself.
LEAF = ("x",)

_X = sympy.Symbol("x", real=True)  # real: log|exp(x)| = x, |x|**2 = x**2

# The functions whose nesting ``max_nesting`` limits: sin(exp(x)) nests two.
_TRANSCENDENTAL = (sympy.sin, sympy.cos, sympy.exp, sympy.log, sympy.tanh)


def operators(functions: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The unary and the binary operations trees over ``functions`` may use."""
    # "sub" with one operand is negation.
    unary = tuple(f for f in functions if f not in BINARY) + (("sub",) if "sub" in functions else ())
    return unary, tuple(f for f in functions if f in BINARY)


# ---------------------------------------------------------------------- tree edits
def depth(tree) -> int:
    """Number of levels of ``tree`` (1 for a leaf)."""
    return 1 + max((depth(c) for c in tree[1:]), default=0)


def paths(tree, prefix=()):
    """The path (tuple of child indices) of every node of ``tree``, root first."""
    yield prefix
    for i, child in enumerate(tree[1:], start=1):
        yield from paths(child, prefix + (i,))


def subtree(tree, path):
    """The node of ``tree`` at ``path``."""
    for i in path:
        tree = tree[i]
    return tree


def replace_subtree(tree, path, new):
    """``tree`` with the node at ``path`` replaced by ``new``."""
    if not path:
        return new
    i = path[0]
    return tree[:i] + (replace_subtree(tree[i], path[1:], new),) + tree[i + 1:]


def enumerate_trees(unary, binary, max_depth) -> list:
    """Every tree of at most ``max_depth`` levels (commutative operands in one order only)."""
    every = [LEAF]
    for _ in range(max_depth - 1):
        new = [(op, child) for op in unary for child in every if not (op == "sub" and
                                                                     child[0] == "sub")]
        if "sub" in unary and "exp" in unary:  # the one sign-sensitive unary: exp(-u)
            new += [("exp", ("sub", child)) for child in every if child[0] != "sub"]
        for op in binary:
            for i, a in enumerate(every):
                for b in every[i:] if op != "sub" else every:
                    new.append((op, a, b))
        known = set(every)
        every = every + [t for t in new if t not in known]
    return every


# ---------------------------------------------------------------------- sympy forms
def to_sympy(tree) -> sympy.Expr:
    """The sympy expression of a tree (``log`` of a power as a multiple of ``log|·|``)."""
    op = tree[0]
    if op == "x":
        return _X
    args = [to_sympy(c) for c in tree[1:]]
    if op == "add":
        return args[0] + args[1]
    if op == "sub":
        return args[0] - args[1] if len(args) == 2 else -args[0]
    if op == "mul":
        return args[0] * args[1]
    if op == "square":
        return args[0] ** 2
    if op == "cube":
        return args[0] ** 3
    if op == "log":  # log|u**k| = k·log|u|: one form for both
        arg = args[0]
        if arg.is_Pow and arg.args[1].is_Integer:
            return arg.args[1] * sympy.log(sympy.Abs(arg.args[0]))
        return sympy.log(sympy.Abs(arg))
    return getattr(sympy, op)(args[0])


def from_sympy(expr, functions) -> tuple | None:
    """A tree over ``functions`` for a canonical term, or None if there is none."""
    if expr == _X:
        return LEAF
    if expr.is_Pow:
        return _power_tree(expr, functions)
    if expr.is_Mul or expr.is_Add:
        return _product_or_sum_tree(expr, functions)
    if isinstance(expr, sympy.log):
        arg = expr.args[0]
        arg = arg.args[0] if isinstance(arg, sympy.Abs) else arg
        tree = from_sympy(arg, functions)
        return ("log", tree) if tree is not None and "log" in functions else None
    for name in ("sin", "cos", "exp", "tanh"):
        if isinstance(expr, getattr(sympy, name)):
            tree = from_sympy(expr.args[0], functions)
            return (name, tree) if tree is not None and name in functions else None
    return None


def _power_tree(expr, functions) -> tuple | None:
    base, k = expr.args
    tree = from_sympy(base, functions)
    if tree is None or not (k.is_Integer and k >= 1):
        return None
    k = int(k)
    if k == 2 and "square" in functions:
        return ("square", tree)
    if k == 3 and "cube" in functions:
        return ("cube", tree)
    if "mul" not in functions:
        return None
    result = tree
    for _ in range(k - 1):
        result = ("mul", result, tree)
    return result


def _product_or_sum_tree(expr, functions) -> tuple | None:
    op = "mul" if expr.is_Mul else "add"
    coeff, rest = expr.as_coeff_Mul() if expr.is_Mul else (sympy.Integer(1), expr)
    if expr.is_Mul and coeff != 1:
        tree = from_sympy(rest, functions)
        return ("sub", tree) if coeff == -1 and tree and "sub" in functions else None
    if op not in functions:
        return None
    trees = []
    for arg in expr.args:
        sign = 1
        if expr.is_Add:
            c, arg = arg.as_coeff_Mul()
            if c not in (1, -1) or ("sub" not in functions and c == -1):
                return None
            sign = int(c)
        tree = from_sympy(arg, functions)
        if tree is None:
            return None
        trees.append((sign, tree))
    trees.sort(key=lambda st: -st[0])  # a leading positive term if there is one
    result = trees[0][1] if trees[0][0] > 0 else ("sub", trees[0][1])
    for sign, tree in trees[1:]:
        result = (op if sign > 0 else "sub", result, tree)
    return result


# ---------------------------------------------------------------------- canonical terms
class CanonicalTerm(NamedTuple):
    """A canonical monomial of a tree and what the search's limits are checked on."""

    text: str
    expr: sympy.Expr
    complexity: int
    max_power: float  # largest exponent; inf for a negative or fractional one
    max_number: float  # largest |number| inside; inf for a non-rational one
    nesting: int  # most transcendental functions on one path from the root to x


@functools.lru_cache(maxsize=2**16)
def canonical_terms(tree) -> tuple[CanonicalTerm, ...]:
    """The canonical monomials of a tree: expanded, split at ``+``, numeric factors dropped.

    Cached across calls (trees are hashable tuples); the search's limits are
    checked by the caller.
    """
    expr = sympy.expand(to_sympy(tree), deep=False, power_exp=False, power_base=False,
                        log=False)
    result = {}
    for arg in sympy.Add.make_args(expr):
        _, term = arg.as_coeff_Mul()
        if _X not in term.free_symbols:
            continue
        max_power, max_number = 0.0, 0.0
        for node in sympy.preorder_traversal(term):
            if node.is_Pow:
                k = node.args[1]
                max_power = max(max_power, float(k) if k.is_Integer and k >= 1 else math.inf)
            elif node.is_Number:
                max_number = max(max_number, float(abs(node)) if node.is_Rational else math.inf)
        if term.has(sympy.zoo, sympy.oo, sympy.nan, sympy.I):
            max_number = math.inf
        text = sympy.sstr(term)
        result[text] = CanonicalTerm(text, term, _complexity(term), max_power, max_number,
                                     _nesting(term))
    return tuple(result.values())


def _nesting(expr) -> int:
    """Most of sin, cos, exp, log and tanh on one path from the root of ``expr`` to ``x``.

    >>> _nesting(sympy.sin(_X) * sympy.exp(-_X**2)), _nesting(sympy.log(sympy.cos(_X)))
    (1, 2)
    """
    inner = max((_nesting(arg) for arg in expr.args), default=0)
    return inner + isinstance(expr, _TRANSCENDENTAL)


def _complexity(term) -> int:
    """``1 +`` the operations of a term; negation and the ``|·|`` of ``log|·|`` are free."""
    ops = sympy.count_ops(term, visual=True)
    if ops == 0:
        return 1
    count = int(ops.subs({s: 0 if s.name == "NEG" else 1 for s in ops.free_symbols}))
    protected_logs = sum(1 for node in sympy.preorder_traversal(term)
                         if isinstance(node, sympy.log) and isinstance(node.args[0], sympy.Abs))
    return 1 + count - protected_logs


@functools.lru_cache(maxsize=2**16)
def program(expr) -> tuple:
    """The element-wise program of a canonical term (as the network compiles it)."""
    return compile_elementwise(expr.xreplace({_X: VARIABLE}))


@functools.lru_cache(maxsize=2**16)
def magnitude(expr) -> float:
    """Largest ``|φ(t)|`` over the network's input range ``t ∈ [-CLIP, CLIP]``."""
    grid = np.linspace(-CLIP, CLIP, 1001)[:, None]
    with np.errstate(all="ignore"):
        value = np.abs(evaluate_elementwise(program(expr), grid))
    return float(value.max()) if np.all(np.isfinite(value)) else math.inf
