"""AST to text: the canonical form of a program, with as few parentheses as parsing needs.

Stage: syntax. Input: a `Program` (or, for `pretty_expr`, one expression, type,
slice, keyword argument or domain). Output: text such that
``parse(pretty(p)) == p`` for every program: two-space indents, one statement a
line, ints as ints and floats as floats (``repr``, so they re-read exactly).

Both printers are iterative (an explicit stack), so an expression nested 100,000
deep prints without touching Python's recursion limit.
"""
from __future__ import annotations

import math

from . import ast
from .precedence import ADD, BINARY_LEVEL, COMPARE, NEG, NOT, POSTFIX, POW, level


def pretty(program: ast.Program) -> str:
    """The canonical text of a program.

    >>> from dslppl.syntax import parse
    >>> print(pretty(parse("model m { y ~ Normal((mu), 1) ; plate j in J { z[j]: real } }")), end="")
    model m {
      y ~ Normal(mu, 1)
      plate j in J {
        z[j]: real
      }
    }
    """
    lines: list[str] = []
    _block(lines, f"model {program.model.name.id}", program.model.body)
    if program.guide is not None:
        lines.append("")
        _block(lines, "guide", program.guide.body)
    return "\n".join(lines) + "\n"


def pretty_expr(node: ast.Node) -> str:
    """The text of an expression (or a `Type`, `Slice`, `Keyword`, `Domain`, `Target`).

    >>> from dslppl.syntax.ast import Binary, Name, Number, Unary
    >>> pretty_expr(Binary("*", Binary("+", Name("a"), Number(1)), Unary("-", Name("b"))))
    '(a + 1) * -b'
    >>> pretty_expr(Binary("^", Name("x"), Binary("^", Name("y"), Number(2.0))))
    'x ^ y ^ 2.0'
    """
    out: list[str] = []
    stack: list = [(node, 0)]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
        else:
            _expand(item[0], item[1], stack)
    return "".join(out)


# --- statements --------------------------------------------------------------------

def _block(lines: list[str], header: str, body: tuple) -> None:
    """Append a block and its nested plates and loops, without recursion."""
    if not body:
        lines.append(header + " {}")
        return
    lines.append(header + " {")
    stack: list = [("}", 0)] + [(stmt, 1) for stmt in reversed(body)]
    while stack:
        item, depth = stack.pop()
        pad = "  " * depth
        if isinstance(item, str):
            lines.append(pad + item)
        elif isinstance(item, (ast.Plate, ast.For)):
            keyword = "plate" if isinstance(item, ast.Plate) else "for"
            head = f"{pad}{keyword} {item.index.id} in {pretty_expr(item.domain)}"
            if not item.body:
                lines.append(head + " {}")
                continue
            lines.append(head + " {")
            stack.append(("}", depth))
            stack.extend((stmt, depth + 1) for stmt in reversed(item.body))
        else:
            lines.append(pad + _statement(item))


def _statement(stmt: ast.Node) -> str:
    match stmt:
        case ast.DataDecl(name, type_, default):
            text = f"data {name.id}: {pretty_expr(type_)}"
            return text if default is None else f"{text} = {pretty_expr(default)}"
        case ast.ParamDecl(name, type_, init):
            return f"param {name.id}: {pretty_expr(type_)} = {pretty_expr(init)}"
        case ast.Sample(target, dist, type_):
            return f"{_typed(target, type_)} ~ {pretty_expr(dist)}"
        case ast.Declare(target, type_):
            return _typed(target, type_)
        case ast.Assign(target, value, type_):
            return f"{_typed(target, type_)} = {pretty_expr(value)}"
        case ast.Factor(target, value):
            return f"factor {pretty_expr(target)} = {pretty_expr(value)}"
    raise TypeError(f"not a statement: {type(stmt).__name__}")


def _typed(target: ast.Target, type_: ast.Type | None) -> str:
    text = pretty_expr(target)
    return text if type_ is None else f"{text}: {pretty_expr(type_)}"


# --- expressions -------------------------------------------------------------------

def _expand(node: ast.Node, min_level: int, stack: list) -> None:
    """Push the pieces of ``node`` on ``stack`` (in reverse, as the stack pops them)."""
    if level(node) < min_level:
        stack.extend([")", (node, 0), "("])
        return
    pieces = _pieces(node)
    stack.extend(reversed(pieces))


def _pieces(node: ast.Node) -> list:
    """The text pieces and (child, minimum level) pairs of one node, in order."""
    match node:
        case ast.Name(id_):
            return [id_]
        case ast.Number(value):
            return [_number(value)]
        case ast.Bool(value):
            return ["true" if value else "false"]
        case ast.Binary(op, left, right):
            lvl = BINARY_LEVEL[op]
            if lvl == POW:
                return [(left, POSTFIX), " ^ ", (right, NEG)]
            if lvl == COMPARE:
                return [(left, ADD), f" {op} ", (right, ADD)]
            return [(left, lvl), f" {op} ", (right, lvl + 1)]
        case ast.Unary("not", operand):
            return ["not ", (operand, NOT)]
        case ast.Unary(op, operand):
            # `- -x`, not `--x`: the operand itself starts with a minus.
            return [op + (" " if level(operand) == NEG else ""), (operand, NEG)]
        case ast.Call(func, args, kwargs):
            return [func.id, "("] + _commas([(a, 0) for a in args] + list(kwargs)) + [")"]
        case ast.Keyword(name, value):
            return [f"{name.id}=", (value, 0)]
        case ast.Index(base, indices):
            return [(base, POSTFIX), "["] + _commas([(i, 0) for i in indices]) + ["]"]
        case ast.Slice(None, None):
            return [":"]
        case ast.Slice(lo, hi) | ast.Domain(lo, hi):
            return [(hi, 0)] if lo is None else [(lo, 0), "..", (hi, 0)]
        case ast.ArrayLit(items):
            return ["["] + _commas([(i, 0) for i in items]) + ["]"]
        case ast.Comprehension(func, body, index, domain):
            return [f"{func.id}(", (body, 0), f" for {index.id} in ", (domain, 0), ")"]
        case ast.Type(base, bounds, shape):
            pieces: list = [base.id]
            if bounds:
                bound_pieces = [[f"{b.name.id}=", (b.value, ADD)] for b in bounds]
                pieces += ["<"] + _commas(bound_pieces) + [">"]
            if shape:
                pieces += ["["] + _commas([(d, 0) for d in shape]) + ["]"]
            return pieces
        case ast.Target(name, indices):
            if not indices:
                return [name.id]
            return [name.id, "["] + _commas([(i, 0) for i in indices]) + ["]"]
    raise TypeError(f"cannot print {type(node).__name__} as an expression")


def _commas(items: list) -> list:
    """Items separated by ', '; an item is a piece or a list of pieces."""
    out: list = []
    for i, item in enumerate(items):
        if i:
            out.append(", ")
        if isinstance(item, list):
            out.extend(item)
        elif isinstance(item, ast.Keyword):
            out.append((item, 0))
        else:
            out.append(item)
    return out


def _number(value: int | float) -> str:
    """``repr`` for floats (exact round trip); ``1e999`` for infinity."""
    if isinstance(value, float):
        if math.isinf(value):
            return "1e999" if value > 0 else "-1e999"
        if math.isnan(value):
            raise ValueError("NaN has no literal in the language")
        return repr(value)
    return str(value)
