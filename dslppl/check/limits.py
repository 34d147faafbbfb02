"""Nesting limits: programs nested deeper than any real model, rejected before they reach
Python's parser (200 nested brackets, 20 nested blocks) or torch (64 dimensions).

The limits (documented in docs/language.md, "Limits"):

- `MAX_EXPRESSION_DEPTH` operators, calls, indexings and comprehensions inside each
  other; a chain of binary operators (``a + b + c + ...``) counts as one level, since
  it is written out flat;
- `MAX_ARRAY_NESTING` array literals inside each other;
- `MAX_BLOCK_NESTING` plates and ``for`` loops inside each other.

>>> from dslppl.diagnostics import DiagnosticSink
>>> from dslppl.syntax import parse
>>> sink = DiagnosticSink()
>>> check_limits(parse("model m { z = " + "-" * 80 + "1 }").model.body, sink)
>>> sink.errors[0].code, sink.errors[0].message
('E0110', 'expression nested deeper than 64 levels')
"""
from __future__ import annotations

from ..diagnostics import DiagnosticSink
from ..syntax import ast

MAX_EXPRESSION_DEPTH = 64
MAX_ARRAY_NESTING = 16
MAX_BLOCK_NESTING = 12

_EXPRESSIONS = (ast.Unary, ast.Binary, ast.Call, ast.Index, ast.ArrayLit, ast.Comprehension, ast.Slice)


def check_limits(body: tuple[ast.Stmt, ...], sink: DiagnosticSink) -> None:
    """Report the outermost node of each statement that nests too deep (one error per excess)."""
    stack = [(stmt, 0, 0, 0) for stmt in reversed(body)]
    while stack:
        node, depth, arrays, blocks = stack.pop()
        if isinstance(node, (ast.Plate, ast.For)):
            blocks += 1
            if blocks > MAX_BLOCK_NESTING:
                sink.error("E0110", f"plates and loops nested deeper than {MAX_BLOCK_NESTING} levels",
                           node.span)
                continue
        if isinstance(node, ast.ArrayLit):
            arrays += 1
            if arrays > MAX_ARRAY_NESTING:
                sink.error("E0110", f"array literals nested deeper than {MAX_ARRAY_NESTING} levels",
                           node.span)
                continue
        if isinstance(node, _EXPRESSIONS):
            if depth >= MAX_EXPRESSION_DEPTH:
                sink.error("E0110", f"expression nested deeper than {MAX_EXPRESSION_DEPTH} levels", node.span)
                continue
        for child in reversed(ast.children(node)):
            flat = isinstance(node, ast.Binary) and child is node.left and isinstance(child, ast.Binary)
            inner = depth + (isinstance(node, _EXPRESSIONS) and not flat)
            stack.append((child, inner, arrays, blocks))
