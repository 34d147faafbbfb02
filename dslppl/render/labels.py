"""Node and plate labels for pictures of a model graph.

Stage: render (a helper of `dslppl.render.graphviz`). Input: a `Variable` or a
`PlateInfo`. Output: the one- or few-line text drawn on it, e.g.
``mu ~ Normal(0, 5)``, ``theta = mu + tau * theta_raw[j]`` or ``j ∈ J = 8``.
Long expressions are shortened with ``…`` so nodes stay readable.
"""
from __future__ import annotations

import operator
from typing import Mapping

from ..check.model import Kind, Piece, Variable
from ..graph.build import domain_text
from ..graph.model_graph import PlateInfo
from ..syntax import ast
from ..syntax.pretty import pretty_expr

ARG_LIMIT = 32    # characters of one distribution argument
LINE_LIMIT = 56   # characters of one label line
WRAP = 44         # a definition longer than this breaks after '~' or '='


def shorten(text: str, limit: int = LINE_LIMIT) -> str:
    """``text`` cut to ``limit`` characters, ending in ``…`` when cut.

    >>> shorten("alpha + beta * x[n] + gamma * z[n]", 20)
    'alpha + beta * x[n]…'
    """
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def node_label(variable: Variable, distributions: bool = True) -> str:
    """The text on a variable's node: its name, or its definition when ``distributions``.

    Lines are separated by ``\\n``, DOT's centred line break.

    >>> from dslppl.check import check
    >>> from dslppl.syntax import parse
    >>> model = check(parse("model m { mu ~ Normal(0, 5)\\n plate j in J { t[j] = mu + 1 }\\n data J: int }"))
    >>> node_label(model.variables["mu"]), node_label(model.variables["t"]), node_label(model.variables["t"], False)
    ('mu ~ Normal(0, 5)', 't = mu + 1', 't')
    """
    if not distributions:
        return variable.name
    if variable.kind is Kind.DATA:
        return variable.name
    if variable.kind is Kind.PARAM:
        return f"{variable.name}: {pretty_expr(variable.type)}" if variable.type is not None else variable.name
    if len(variable.pieces) == 1 and not variable.pieces[0].loops:
        lines = [_definition(variable, variable.pieces[0], variable.name)]
    else:  # an array built piece by piece: x[0] ~ ..., x[t] ~ ..., for t ∈ 1..T
        lines = [_definition(variable, p, _target(p) or variable.name) for p in variable.pieces]
        lines += [f"for {f.index} ∈ {domain_text(f.domain)}" for f in variable.piece.loops]
    return "\\n".join(lines)


def _definition(variable: Variable, piece: Piece, lhs: str) -> str:
    stmt = piece.stmt
    if isinstance(stmt, ast.Sample):
        declared = stmt.type if stmt.type is not None else None
        prefix = f"{lhs}: {_type(declared)}" if declared is not None and _narrows(declared) else lhs
        return _wrap(f"{prefix} ~", call_text(stmt.dist))
    if isinstance(stmt, ast.Declare):
        return shorten(f"{lhs}: {_type(stmt.type)}")
    if isinstance(stmt, ast.Factor):
        return _wrap(f"factor {lhs} =", pretty_expr(stmt.value))
    if isinstance(stmt, ast.Assign):
        return _wrap(f"{lhs} =", pretty_expr(stmt.value))
    return lhs


def _wrap(head: str, body: str) -> str:
    """``head body`` on one line when short, else on two (``\\n`` is DOT's line break)."""
    line = f"{head} {body}"
    return line if len(line) <= WRAP else f"{shorten(head)}\\n{shorten(body)}"


def call_text(call: ast.Call) -> str:
    """``Normal(mu, tau)``, each argument shortened to `ARG_LIMIT` characters.

    >>> call_text(ast.Call(ast.Name("Bernoulli"), (), (ast.Keyword(ast.Name("logits"), ast.Name("eta")),)))
    'Bernoulli(logits=eta)'
    """
    args = [shorten(pretty_expr(a), ARG_LIMIT) for a in call.args]
    args += [f"{k.name.id}={shorten(pretty_expr(k.value), ARG_LIMIT)}" for k in call.kwargs]
    return f"{call.func.id}({', '.join(args)})"


def _type(declared: ast.Type) -> str:
    """A type without its shape (the node stands for the whole array): ``positive``."""
    return pretty_expr(ast.Type(declared.base, declared.bounds))


def _narrows(declared: ast.Type) -> bool:
    """Whether a declared type changes the distribution's support (truncation, simplex...)."""
    return bool(declared.bounds) or declared.base.id != "real"


def _target(piece: Piece) -> str | None:
    target = piece.target
    return pretty_expr(target) if target is not None and target.indices else None


def plate_label(plate: PlateInfo, sizes: Mapping[str, int] | None = None) -> str:
    """``j ∈ J``, or ``j ∈ J = 8`` when ``sizes`` gives the plate's size (by its
    index or through the names its domain reads); ranges read ``t ∈ K..T = 2..100``.

    >>> from dslppl.graph import PlateInfo
    >>> plate_label(PlateInfo("j", "J", ast.Domain(None, ast.Name("J"))), {"J": 8})
    'j ∈ J = 8'
    """
    sizes = dict(sizes or {})
    domain = plate.domain_ast
    if plate.index in sizes:
        return f"{plate.label} = {sizes[plate.index]}"
    hi = evaluate(domain.hi, sizes)
    lo = 0 if domain.lo is None else evaluate(domain.lo, sizes)
    literal = all(isinstance(e, ast.Number) for e in (domain.lo, domain.hi) if e is not None)
    if hi is None or lo is None or literal:  # unknown, or already written as numbers
        return plate.label
    return f"{plate.label} = {hi}" if domain.lo is None else f"{plate.label} = {lo}..{hi}"


def evaluate(expr: ast.Expr, sizes: Mapping[str, int]) -> int | None:
    """The integer value of a size expression over known sizes, or None.

    >>> evaluate(ast.Binary("-", ast.Name("T"), ast.Number(1)), {"T": 10})
    9
    """
    match expr:
        case ast.Number(value=int(value)):
            return value
        case ast.Name(id=name):
            try:
                return operator.index(sizes[name])
            except (KeyError, TypeError):
                return None
        case ast.Binary(op="+" | "-" | "*" as op, left=left, right=right):
            a, b = evaluate(left, sizes), evaluate(right, sizes)
            if a is None or b is None:
                return None
            return a + b if op == "+" else a - b if op == "-" else a * b
    return None
