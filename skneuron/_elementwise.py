"""Element-wise terms ``φ(x)`` of a formula: one interpreter for numpy and torch.

An expression in ``x`` (text, as :class:`~skneuron.NeuronFormula` stores it)
is compiled once into a small tree of plain tuples — picklable, unlike a
closure. :func:`evaluate_elementwise` is the one interpreter of those
programs: the network's layers run it on torch tensors, symbolic-regression
discovery on numpy arrays, and both get the same guarded operations (``exp``
capped, ``log`` and division protected at zero), so a discovered term
cannot produce inf/NaN on any input and discovery scores a term exactly as
the network computes it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import sympy
import torch

from skneuron.formula import VARIABLE, parse_expression

__all__ = ["compile_elementwise", "evaluate_elementwise"]

#: Largest argument given to ``exp``; exp(20) ≈ 5e8 stays finite in float32.
EXP_CAP = 20.0
#: Offset that keeps ``log|·|`` finite at zero.
LOG_EPS = 1e-6
#: ``tan`` is evaluated at its argument clamped to ±TAN_BOUND (inside ±π/2).
TAN_BOUND = 1.5

#: The sympy functions a program may apply, by their name in the program.
_UNARY = (sympy.sin, sympy.cos, sympy.tan, sympy.tanh, sympy.exp, sympy.log, sympy.Abs)


def compile_elementwise(expression: str | sympy.Expr) -> tuple:
    """Compile an expression in ``x`` into an evaluable program (nested tuples).

    Text is read by :func:`skneuron.formula.parse_expression`, which evaluates
    nothing and bounds the expression's size.

    Examples
    --------
    >>> import torch
    >>> program = compile_elementwise("sin(x) + x**2")
    >>> evaluate_elementwise(program, torch.tensor([0.0, 1.0]))
    tensor([0.0000, 1.8415])
    """
    if isinstance(expression, str):
        expression = parse_expression(expression)
    return _compile(expression)


def _compile(node: sympy.Expr) -> tuple:
    if node == VARIABLE:
        return ("x",)
    if node.is_Number or node is sympy.E:  # E: exp(1)
        return ("const", float(node))
    if node.is_Add:
        return ("add", tuple(_compile(arg) for arg in node.args))
    if node.is_Mul:
        return ("mul", tuple(_compile(arg) for arg in node.args))
    if node.is_Pow:
        base, exponent = node.args
        if exponent == sympy.Rational(1, 2):
            return ("sqrt", _compile(base))
        if not exponent.is_Number:
            raise ValueError(f"unsupported power {node}: the exponent must be a number.")
        return ("pow", _compile(base), float(exponent))
    if node.func in _UNARY:
        return (node.func.__name__, _compile(node.args[0]))
    raise ValueError(f"unsupported element-wise operation {node.func.__name__} in {node}.")


class _ArrayOps(NamedTuple):
    """The few primitives the interpreter needs from an array library."""

    abs: Callable
    sqrt: Callable
    sin: Callable
    cos: Callable
    tan: Callable
    tanh: Callable
    exp: Callable
    log: Callable
    clip: Callable  # clip(a, low, high), either bound may be None
    where: Callable
    full_like: Callable


_NUMPY_OPS = _ArrayOps(
    abs=np.abs, sqrt=np.sqrt, sin=np.sin, cos=np.cos, tan=np.tan, tanh=np.tanh, exp=np.exp,
    log=np.log, clip=np.clip, where=np.where, full_like=np.full_like,
)
_TORCH_OPS = _ArrayOps(
    abs=torch.abs, sqrt=torch.sqrt, sin=torch.sin, cos=torch.cos, tan=torch.tan,
    tanh=torch.tanh, exp=torch.exp, log=torch.log, clip=torch.clamp, where=torch.where,
    full_like=torch.full_like,
)


def evaluate_elementwise(program: tuple, x: Any, *, memo: dict | None = None) -> Any:
    """Evaluate a program from :func:`compile_elementwise` at ``x`` (any shape).

    The same guarded operations run on a torch tensor (as in the network's
    layers, differentiable by autograd) and on a numpy array (as in
    symbolic-regression discovery): ``exp`` at ``min(·, EXP_CAP)``, ``log``
    as ``log(|·| + LOG_EPS)``, a negative power with its base kept at least
    ``LOG_EPS`` away from zero (sign kept), a fractional power and ``sqrt``
    on ``|·|``, and ``tan`` at its argument clamped to ``±TAN_BOUND``.

    Parameters
    ----------
    program : tuple
        A program from :func:`compile_elementwise`.
    x : torch.Tensor or numpy.ndarray
        The input; the result has its type, shape and dtype.
    memo : dict, optional
        Values of sub-programs already evaluated at this ``x``, by program;
        every sub-program evaluated is added to it, so programs sharing
        sub-expressions can be evaluated at the same ``x`` without repeating
        them. Its values must not be modified in place.

    Returns
    -------
    torch.Tensor or numpy.ndarray
        ``φ(x)``, element by element.

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> program = compile_elementwise("exp(-x**2) + log(Abs(x))")
    >>> evaluate_elementwise(program, np.array([0.0, 1.0]))
    array([-12.81551056,   0.36788044])
    >>> evaluate_elementwise(program, torch.tensor([0.0, 1.0], dtype=torch.float64))
    tensor([-12.8155,   0.3679], dtype=torch.float64)
    """
    ops = _TORCH_OPS if isinstance(x, torch.Tensor) else _NUMPY_OPS
    return _evaluate(program, x, ops, memo)


def _evaluate(program: tuple, x, ops: _ArrayOps, memo: dict | None):
    if memo is not None:
        value = memo.get(program)
        if value is not None:
            return value
    op = program[0]
    if op == "x":
        value = x
    elif op == "const":
        value = ops.full_like(x, program[1])
    elif op in ("add", "mul"):
        value = _evaluate(program[1][0], x, ops, memo)
        for arg in program[1][1:]:
            other = _evaluate(arg, x, ops, memo)
            value = value + other if op == "add" else value * other
    elif op == "pow":
        value = _power(_evaluate(program[1], x, ops, memo), program[2], ops)
    elif op in _UNARY_OPS:
        value = _UNARY_OPS[op](ops, _evaluate(program[1], x, ops, memo))
    else:
        raise ValueError(f"unsupported element-wise operation {op!r}.")
    if memo is not None:
        memo[program] = value
    return value


def _power(base, exponent: float, ops: _ArrayOps):
    if exponent < 0:  # protected division: |base| kept away from zero, sign kept
        base = ops.where(base >= 0, ops.clip(base, LOG_EPS, None), ops.clip(base, None, -LOG_EPS))
    if exponent != int(exponent):  # fractional power: defined on |base|
        return ops.abs(base) ** exponent
    return base ** int(exponent)


#: Every unary operation of a program, guarded so that it stays finite, in terms of
#: the array library's primitives: written once for numpy and torch.
_UNARY_OPS: dict[str, Callable[[_ArrayOps, Any], Any]] = {
    "sin": lambda ops, a: ops.sin(a),
    "cos": lambda ops, a: ops.cos(a),
    "tan": lambda ops, a: ops.tan(ops.clip(a, -TAN_BOUND, TAN_BOUND)),
    "tanh": lambda ops, a: ops.tanh(a),
    "exp": lambda ops, a: ops.exp(ops.clip(a, None, EXP_CAP)),
    "log": lambda ops, a: ops.log(ops.abs(a) + LOG_EPS),
    "Abs": lambda ops, a: ops.abs(a),
    "sqrt": lambda ops, a: ops.sqrt(ops.abs(a)),
}
