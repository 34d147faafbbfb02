"""Operator precedence (LANGUAGE.md §7): one table for the parser and the pretty-printer.

Stage: syntax. `to_ast` builds expression trees from flat operand/operator rows
with `build_expression` (precedence climbing, no recursion); `pretty` decides
parentheses from the same levels, so the two can never disagree.

Levels, loosest first: ``or`` < ``and`` < prefix ``not`` < comparisons
(non-associative) < ``+ -`` < ``* / % @`` < prefix ``-`` < ``^`` (right-associative,
``**`` is a synonym) < calls, indexing, parentheses and literals.
"""
from __future__ import annotations

from lark import Token

from . import ast

OR, AND, NOT, COMPARE, ADD, MUL, NEG, POW, POSTFIX = range(1, 10)

BINARY_LEVEL = {"or": OR, "and": AND, "<": COMPARE, "<=": COMPARE, ">": COMPARE, ">=": COMPARE,
                "==": COMPARE, "!=": COMPARE, "+": ADD, "-": ADD, "*": MUL, "/": MUL, "%": MUL,
                "@": MUL, "^": POW}
PREFIX_LEVEL = {"-": NEG, "not": NOT}


class ExpressionError(Exception):
    """A row that the precedence ladder rejects; raised while building, reported by `parse`.

    ``a < b < c`` (comparisons do not chain) and ``a + not b`` (``not`` binds looser
    than ``+``, so it needs parentheses there, as in Python).
    """

    def __init__(self, token: Token, message: str, hint: str):
        super().__init__(message)
        self.token, self.message, self.hint = token, message, hint


def level(node: ast.Node) -> int:
    """How tightly ``node`` binds when printed (POSTFIX for atoms, calls and indexing).

    >>> level(ast.Binary("+", ast.Name("a"), ast.Name("b"))) == ADD
    True
    """
    match node:
        case ast.Binary(op):
            return BINARY_LEVEL[op]
        case ast.Unary(op):
            return PREFIX_LEVEL[op]
        case ast.Number(value) if value < 0:
            return NEG  # only in hand-built trees: the parser reads `-2` as Unary('-', 2)
    return POSTFIX


def build_expression(row: list, make_span) -> ast.Node:
    """The tree of a flat row ``[prefix*, operand, (operator, prefix*, operand)*]``.

    Operators and prefixes are lark tokens, operands are nodes; ``make_span(first, last)``
    gives a node's span. Shunting-yard: ``operands`` holds finished subtrees and
    ``pending`` the operators still waiting for their right-hand side.

    >>> from dslppl.syntax.pretty import pretty_expr
    >>> row = [ast.Name("a"), Token("MINUS", "-"), ast.Name("b"), Token("CARET", "^"), ast.Number(2)]
    >>> pretty_expr(build_expression(row, lambda first, last: None))
    'a - b ^ 2'
    """
    operands: list[ast.Node] = []
    pending: list[tuple[Token, int, bool]] = []  # (token, level, is_prefix)

    def reduce_top() -> None:
        tok, _, is_prefix = pending.pop()
        right = operands.pop()
        op = str(tok)
        if is_prefix:
            operands.append(ast.Unary(op, right, span=make_span(tok, right)))
        else:
            left = operands.pop()
            operands.append(ast.Binary("^" if op == "**" else op, left, right, span=make_span(left, right)))

    want_operand = True
    for item in row:
        if want_operand:
            if isinstance(item, Token):
                if item == "not" and pending and pending[-1][1] > NOT:
                    raise ExpressionError(
                        item, f"'not' cannot follow '{pending[-1][0]}' without parentheses",
                        f"'not' binds looser than '{pending[-1][0]}': write '(not ...)'")
                pending.append((item, PREFIX_LEVEL[item], True))
            else:
                operands.append(item)
                want_operand = False
            continue
        op = "^" if item == "**" else str(item)
        lvl = BINARY_LEVEL[op]
        # Left-associative operators take over equal levels; '^' (right-assoc) and
        # comparisons (non-assoc) leave them pending.
        while pending and (pending[-1][1] > lvl or (pending[-1][1] == lvl and lvl not in (POW, COMPARE))):
            reduce_top()
        if lvl == COMPARE and pending and pending[-1][1] == COMPARE and not pending[-1][2]:
            first = pending[-1][0]
            raise ExpressionError(item, f"comparisons do not chain: '{item}' follows '{first}'",
                                  f"write 'a {first} b and b {item} c', or use parentheses")
        pending.append((item, lvl, False))
        want_operand = True
    while pending:
        reduce_top()
    return operands[0]
