"""A safe calculator for `/calc`: arithmetic parsed with `ast`, never `eval`."""

import ast
import math
import operator
import unicodedata
from collections.abc import Callable

MAX_EXPRESSION_CHARS = 200
MAX_EXPONENT = 100
MAX_MAGNITUDE = 10**30
MAX_NODES = 100


class CalcError(ValueError):
    """The expression is not plain arithmetic, or too big to compute."""


_BINARY: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[float], float]] = {
    ast.UAdd: operator.pos,
    ast.USub: operator.neg,
}
# Full-width and typographic operators people type on phones.
_REPLACEMENTS = str.maketrans({"×": "*", "÷": "/", "（": "(", "）": ")", "−": "-", "^": "**"})


def _check(value: float) -> float:
    if isinstance(value, float) and not math.isfinite(value):
        raise CalcError("result is not a finite number")
    if abs(value) > MAX_MAGNITUDE:
        raise CalcError("result is too large")
    return value


def _evaluate(node: ast.AST) -> float:
    if isinstance(node, ast.Expression):
        return _evaluate(node.body)
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        value: float = node.value  # type: ignore[assignment]  # int or float, checked above
        return _check(value)
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _check(_UNARY[type(node.op)](_evaluate(node.operand)))
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _evaluate(node.left), _evaluate(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > MAX_EXPONENT:
            raise CalcError("exponent is too large")
        try:
            return _check(_BINARY[type(node.op)](left, right))
        except ZeroDivisionError:
            raise CalcError("division by zero") from None
        except OverflowError:
            raise CalcError("result is too large") from None
    raise CalcError("only numbers, + - * / // % ** and parentheses are allowed")


def calculate(expression: str) -> int | float:
    """Evaluate plain arithmetic or raise CalcError; integers stay exact."""
    expression = unicodedata.normalize("NFKC", expression.translate(_REPLACEMENTS)).strip()
    if not expression:
        raise CalcError("empty expression")
    if len(expression) > MAX_EXPRESSION_CHARS:
        raise CalcError("expression is too long")
    try:
        tree = ast.parse(expression, mode="eval")
    except (SyntaxError, ValueError):
        raise CalcError("not an arithmetic expression") from None
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise CalcError("expression is too long")
    result = _evaluate(tree)
    if isinstance(result, complex):
        raise CalcError("result is not a real number")
    if isinstance(result, float) and result.is_integer() and abs(result) < 2**53:
        return int(result)
    return result
