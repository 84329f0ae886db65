"""Element-wise terms ``φ(x)`` of a formula, evaluated with torch (shared by nn and discovery).

An expression in ``x`` (text, as :class:`~skneuron.NeuronFormula` stores it)
is compiled once into a small tree of plain tuples — picklable, unlike a
closure — and evaluated with guarded torch operations, so a discovered
``exp`` or ``log`` cannot produce inf/NaN on any input.
"""

from __future__ import annotations

import sympy
import torch

from skneuron.formula import VARIABLE, parse_expression

__all__ = ["compile_elementwise", "evaluate_elementwise"]

#: Largest argument given to ``exp``; exp(20) ≈ 5e8 stays finite in float32.
EXP_CAP = 20.0
#: Offset that keeps ``log|·|`` finite at zero.
LOG_EPS = 1e-6

_UNARY = {
    sympy.sin: torch.sin,
    sympy.cos: torch.cos,
    sympy.tan: lambda t: torch.tan(t.clamp(-1.5, 1.5)),
    sympy.tanh: torch.tanh,
    sympy.exp: lambda t: torch.exp(t.clamp(max=EXP_CAP)),
    sympy.log: lambda t: torch.log(t.abs() + LOG_EPS),
    sympy.Abs: torch.abs,
}
_UNARY_BY_NAME = {function.__name__: op for function, op in _UNARY.items()}


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
    if node.is_Number:
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


def evaluate_elementwise(program: tuple, x: torch.Tensor) -> torch.Tensor:
    """Evaluate a program from :func:`compile_elementwise` at ``x`` (any shape)."""
    op = program[0]
    if op == "x":
        return x
    if op == "const":
        return torch.full_like(x, program[1])
    if op == "add":
        result = evaluate_elementwise(program[1][0], x)
        for arg in program[1][1:]:
            result = result + evaluate_elementwise(arg, x)
        return result
    if op == "mul":
        result = evaluate_elementwise(program[1][0], x)
        for arg in program[1][1:]:
            result = result * evaluate_elementwise(arg, x)
        return result
    if op == "pow":
        base, exponent = evaluate_elementwise(program[1], x), program[2]
        if exponent < 0:  # protected division: |base| kept away from zero, sign kept
            base = torch.where(base >= 0, base.clamp(min=LOG_EPS), base.clamp(max=-LOG_EPS))
        if exponent != int(exponent):  # fractional power: defined on |base|
            return base.abs() ** exponent
        return base ** int(exponent)
    if op == "sqrt":
        return torch.sqrt(evaluate_elementwise(program[1], x).abs())
    return _UNARY_BY_NAME[op](evaluate_elementwise(program[1], x))
