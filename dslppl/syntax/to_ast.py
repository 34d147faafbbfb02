"""Parse tree to AST: the lark callbacks that build `dslppl.syntax.ast` nodes.

Stage: syntax. Input: the children of one grammar rule, as lark's LALR parser
reduces it (tokens and already-built nodes). Output: one AST node, with a
`Span` from its first to its last token.

`AstBuilder` is applied inline (``Lark(..., transformer=AstBuilder())``), so the
tree is built bottom-up while parsing, without recursion and without an
intermediate parse tree. Lark gives inline callbacks no ``meta``; spans come
from the tokens instead, which is why the grammar keeps the tokens that open or
close a node (``LPAR``, ``RSQB``, ``DATA``, ...) as named terminals.

The callbacks only build nodes (no name or type checks): a failure in them is a
bug, never a user error, with one exception. Expressions arrive as flat rows of
operands and operators (see the grammar) and `precedence.build_expression` shapes
them; it raises `ExpressionError` for ``a < b < c`` and ``a + not b``, which
`parse` reports.
The file name for spans is per parse and per thread (`set_current_file`).
"""
from __future__ import annotations

import threading
from dataclasses import replace

from lark import Token, Transformer

from ..source import Span
from . import ast
from .precedence import build_expression


class _PerThread(threading.local):
    file: str | None = None  # the file name of the parse running in this thread


_local = _PerThread()


def set_current_file(name: str | None) -> None:
    """Name the file that the spans of the next parse (in this thread) refer to."""
    _local.file = name


def span(first, last) -> Span:
    """The span from the start of ``first`` to the end of ``last`` (tokens or nodes).

    Tokens and spans share the attribute names ``line``, ``column``, ``end_line``
    and ``end_column``, so a node is replaced by its span and both read alike.
    """
    if type(first) is not Token:
        first = first.span
    if type(last) is not Token:
        last = last.span
    return Span(_local.file, first.line, first.column, last.end_line, last.end_column)


def token_span(tok: Token) -> Span:
    return Span(_local.file, tok.line, tok.column, tok.end_line, tok.end_column)


def _body(children) -> tuple:
    """The statements of a block: the children between '{' and '}'."""
    start = next(i for i, c in enumerate(children) if isinstance(c, Token) and c.type == "LBRACE")
    return tuple(children[start + 1:-1])


def _domain_of(children) -> ast.Domain:
    return next(c for c in children if isinstance(c, ast.Domain))


class AstBuilder(Transformer):
    """One method per rule or alias of ``grammar/dslppl.lark``."""

    # --- file and blocks -----------------------------------------------------

    def start(self, children):
        return list(children)

    def model_block(self, c):
        return ast.ModelBlock(c[1], _body(c), span=span(c[0], c[-1]))

    def guide_block(self, c):
        return ast.GuideBlock(_body(c), span=span(c[0], c[-1]))

    # --- statements ----------------------------------------------------------

    def data_decl(self, c):
        default = c[3] if len(c) > 3 else None
        return ast.DataDecl(c[1], c[2], default, span=span(c[0], c[-1]))

    def param_decl(self, c):
        return ast.ParamDecl(c[1], c[2], c[3], span=span(c[0], c[-1]))

    def sample(self, c):
        return ast.Sample(c[0], c[1], span=span(c[0], c[-1]))

    def typed_sample(self, c):
        return ast.Sample(c[0], c[2], c[1], span=span(c[0], c[-1]))

    def declare(self, c):
        return ast.Declare(c[0], c[1], span=span(c[0], c[-1]))

    def assign(self, c):
        return ast.Assign(c[0], c[1], span=span(c[0], c[-1]))

    def typed_assign(self, c):
        return ast.Assign(c[0], c[2], c[1], span=span(c[0], c[-1]))

    def factor(self, c):
        return ast.Factor(c[1], c[2], span=span(c[0], c[-1]))

    def plate(self, c):
        return ast.Plate(c[1], _domain_of(c), _body(c), span=span(c[0], c[-1]))

    def for_loop(self, c):
        return ast.For(c[1], _domain_of(c), _body(c), span=span(c[0], c[-1]))

    def target(self, c):
        return ast.Target(c[0], tuple(c[1:-1]), span=span(c[0], c[-1]))

    def domain(self, c):
        if len(c) == 1:
            return ast.Domain(None, c[0], span=c[0].span)
        return ast.Domain(c[0], c[1], span=span(c[0], c[1]))

    # --- types -----------------------------------------------------------------

    def type(self, c):
        bounds = tuple(x for x in c[1:] if isinstance(x, ast.Keyword))
        shape = tuple(x for x in c[1:] if isinstance(x, ast.Node) and not isinstance(x, ast.Keyword))
        return ast.Type(c[0], bounds, shape, span=span(c[0], c[-1]))

    def bound(self, c):
        return ast.Keyword(c[0], c[1], span=span(c[0], c[1]))

    kwarg = bound

    # --- expressions -------------------------------------------------------------

    def expr(self, c):
        return build_expression(c, span)

    arith = expr

    def index(self, c):
        return ast.Index(c[0], tuple(c[1:-1]), span=span(c[0], c[-1]))

    def full_slice(self, c):
        return ast.Slice(None, None, span=token_span(c[0]))

    def range_slice(self, c):
        return ast.Slice(c[0], c[1], span=span(c[0], c[1]))

    def number(self, c):
        tok = c[0]
        text = str(tok)
        value = float(text) if any(ch in text for ch in ".eE") else int(text)
        return ast.Number(value, span=token_span(tok))

    def boolean(self, c):
        return ast.Bool(c[0] == "true", span=token_span(c[0]))

    def paren(self, c):
        # The parentheses belong to the span of the expression they enclose.
        return replace(c[1], span=span(c[0], c[2]))

    def array(self, c):
        return ast.ArrayLit(tuple(c[1:-1]), span=span(c[0], c[-1]))

    def call(self, c):
        args = tuple(x for x in c[1:-1] if not isinstance(x, ast.Keyword))
        kwargs = tuple(x for x in c[1:-1] if isinstance(x, ast.Keyword))
        return ast.Call(c[0], args, kwargs, span=span(c[0], c[-1]))

    def comprehension(self, c):
        func, body, _for, index, domain, rpar = c
        return ast.Comprehension(func, body, index, domain, span=span(func, rpar))

    def name(self, c):
        tok = c[0]
        return ast.Name(tok.value, span=token_span(tok))
