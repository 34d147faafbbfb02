"""Arithmetic on number literals, checked: float semantics with overflow checks, or a located error.

Generated code computes literal arithmetic in Python, whose integers are unbounded
(``3 ^ 99999999999999999999999`` would run for ever) and whose floats raise where
torch's give inf or nan. So every literal-only expression is evaluated here first,
and one with no real value is error E0111: division by zero, zero to a negative
power, a fractional power of a negative number, a finite result that overflows
(beyond 1e308, or an integer beyond 2**63 - 1). Literals already infinite
(``1e999``) follow float semantics. Constant sizes (``real[2.5]``, ``plate i in
2.5``, ``arange(2.5)``) must be whole numbers and constant indices non-negative.

>>> arithmetic("^", 2, 10), arithmetic("/", 1, 4)
(1024, 0.25)
>>> arithmetic("/", 1, 0)
Traceback (most recent call last):
...
dslppl.check.constants.ConstantError: division by zero
"""
from __future__ import annotations

import math

from ..diagnostics import DiagnosticSink
from ..syntax import ast

INT_MAX = 2 ** 63 - 1
MAX_EXTENT = 2 ** 31 - 1  # elements along one dimension, and steps of one domain
_FLOAT_OPS = {"+": lambda x, y: x + y, "-": lambda x, y: x - y, "*": lambda x, y: x * y,
              "/": lambda x, y: x / y, "%": lambda x, y: x % y}
_ARITHMETIC = ("+", "-", "*", "/", "%", "^")
_SIZE_FUNCTIONS = ("arange",)


class ConstantError(ArithmeticError):
    """Literal arithmetic with no real value; the message says why."""


def arithmetic(op: str, a: int | float, b: int | float) -> int | float:
    """``a op b`` for the language's arithmetic operators, bounded in time and range."""
    if isinstance(a, int) and isinstance(b, int) and not (op == "^" and b < 0) and op != "/":
        return _checked_int(_int_arithmetic(op, a, b))
    x, y = float(a), float(b)
    if op in ("/", "%") and y == 0:
        raise ConstantError("division by zero" if op == "/" else "remainder of a division by zero")
    if op == "^":
        return _power(x, y)
    result = _FLOAT_OPS[op](x, y)
    if not math.isfinite(result) and math.isfinite(x) and math.isfinite(y):
        raise ConstantError(f"the result overflows (beyond {float.fromhex('0x1.fffffffffffffp+1023'):.4g})")
    return result


def _int_arithmetic(op: str, a: int, b: int) -> int:
    if op == "%":
        if b == 0:
            raise ConstantError("remainder of a division by zero")
        return a % b
    if op == "^" and abs(a) > 1 and b * math.log2(abs(a)) > 64:
        raise ConstantError("the result overflows (an integer beyond 2**63 - 1)")
    return a ** b if op == "^" else _FLOAT_OPS[op](a, b)


def _checked_int(value: int) -> int:
    if abs(value) > INT_MAX:
        raise ConstantError("the result overflows (an integer beyond 2**63 - 1)")
    return value


def _power(x: float, y: float) -> float:
    try:
        return math.pow(x, y)
    except OverflowError:
        raise ConstantError("the result overflows (beyond 1.798e+308)") from None
    except ValueError:
        raise ConstantError("zero to a negative power" if x == 0 else
                            "a fractional power of a negative number has no real value") from None


def fold(expr: ast.Expr) -> int | float | None:
    """The value of a literal-only expression (None if it reads a name or calls anything);
    raises `ConstantError` for arithmetic without a real value."""
    values: dict[int, int | float] = {}
    for node in reversed(list(ast.walk(expr))):
        value = _value(node, values)
        if value is not None:
            values[id(node)] = value
    return values.get(id(expr))


def _value(node: ast.Node, values: dict[int, int | float]) -> int | float | None:
    match node:
        case ast.Number(value=value):
            return _checked_int(value) if isinstance(value, int) else value
        case ast.Unary(op="-", operand=operand) if id(operand) in values:
            inner = values[id(operand)]
            return _checked_int(-inner) if isinstance(inner, int) else -inner
        case ast.Binary(op=op, left=left, right=right) if op in _ARITHMETIC and id(left) in values \
                and id(right) in values:
            return arithmetic(op, values[id(left)], values[id(right)])
    return None


def check_constants(body: tuple[ast.Stmt, ...], sink: DiagnosticSink) -> None:
    """E0111 for literal arithmetic without a value, non-whole constant sizes and negative
    or fractional constant indices; E0404 for negative constant indices."""
    for stmt in body:
        values: dict[int, int | float] = {}
        failed: set[int] = set()
        for node in reversed(list(ast.walk(stmt))):
            if any(id(child) in failed for child in ast.children(node)):
                failed.add(id(node))  # reported at the innermost failing operation only
                continue
            try:
                value = _value(node, values)
            except ConstantError as error:
                sink.error("E0111", f"invalid constant: {error}", node.span)
                failed.add(id(node))
                continue
            if value is not None:
                values[id(node)] = value
            _check_uses(node, values, sink)


def _check_uses(node: ast.Node, values: dict[int, int | float], sink: DiagnosticSink) -> None:
    """Sizes and indices written as constants."""
    sizes: list[ast.Expr] = []
    match node:
        case ast.Type(shape=shape):
            sizes = list(shape)
        case ast.Domain(lo=lo, hi=hi):
            sizes = [e for e in (lo, hi) if e is not None]
        case ast.Call(func=ast.Name(id=name), args=args) if name in _SIZE_FUNCTIONS:
            sizes = list(args)
        case ast.Index(indices=indices) | ast.Target(indices=indices):
            for index in indices:
                _check_integer_index(index, sink)
                value = values.get(id(index))
                if isinstance(value, int) and value < 0:  # a float index is E0410 (above)
                    sink.error("E0404", f"index {value} is negative: the first element is 0, and "
                               "negative indices do not count from the end", index.span)
                elif isinstance(value, int) and value >= MAX_EXTENT:
                    sink.error("E0404", f"index {value} is beyond the largest size, {MAX_EXTENT}", index.span)
    for size in sizes:
        value = values.get(id(size))
        if value is not None and not (math.isfinite(value) and value == math.floor(value)):
            sink.error("E0111", f"invalid constant: a size must be a whole number, not {_show(value)}",
                       size.span)


_NOT_INTEGER = {"/": "a division", "<": "a comparison", "<=": "a comparison", ">": "a comparison",
                ">=": "a comparison", "==": "a comparison", "!=": "a comparison", "and": "a logical operator",
                "or": "a logical operator"}


def _check_integer_index(index: ast.Expr, sink: DiagnosticSink) -> None:
    """An index is integer arithmetic: no float literal, division or comparison in it
    (the indices inside an index of its own are checked where they stand)."""
    stack = [index]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Number) and isinstance(node.value, float):
            sink.error("E0410", f"an index must be an integer, but {_show(node.value)} is a real number",
                       node.span, hint=f"write {int(node.value)}" if node.value.is_integer() and abs(node.value) < 1e6 else None)
            return
        if isinstance(node, ast.Binary) and node.op in _NOT_INTEGER or \
                isinstance(node, ast.Unary) and node.op == "not":
            sink.error("E0410", f"an index must be an integer, but this is {_NOT_INTEGER.get(node.op, 'a logical operator')}",
                       node.span)
            return
        if not isinstance(node, (ast.Index, ast.Call, ast.Comprehension)):
            stack.extend(ast.children(node))


def _show(value: int | float) -> str:
    return repr(value)
