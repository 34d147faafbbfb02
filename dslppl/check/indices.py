"""Pass 8: what may index, and what sizes torch needs as numbers.

An index is integer data, a plate, loop or comprehension index, or
arithmetic on those (E0410): a latent value cannot pick an element. Data-only
deterministic nodes count as data (they are computed when data is bound).
Calls inside an index are limited to ``size``. A distribution's size
arguments (``LKJCholesky``'s dim, ``Multinomial``'s total_count) are fixed by
the data, and a ``dim=`` keyword is a whole number written in the model.
Indexing an expression that varies over a plate (``f(x[j])[0]``) is not
supported: index the variable itself (E0410).
"""
from __future__ import annotations

from typing import Iterable

from ..diagnostics import DiagnosticSink
from ..library import DISTRIBUTIONS
from ..syntax import ast
from .model import Kind, Variable


def known_names(variables: dict[str, Variable], outer: Iterable[str] = ()) -> set[str]:
    """Names whose values are known once data is bound: data, observations, and deterministic
    nodes (not built in a loop) that read only those."""
    known = set(outer) | {n for n, v in variables.items() if v.kind in (Kind.DATA, Kind.OBSERVED)}
    pending = [v for v in variables.values() if v.kind is Kind.DETERMINISTIC and not v.sequential]
    grew = True
    while grew:
        ready = [v for v in pending if v.parents <= known]
        known |= {v.name for v in ready}
        pending = [v for v in pending if v not in ready]
        grew = bool(ready)
    return known


def check_indices(variables: dict[str, Variable], sink: DiagnosticSink, outer: Iterable[str] = (),
                  discrete: Iterable[str] = ()) -> None:
    """``outer``: data names of an enclosing scope; ``discrete``: latents summed out, whose values
    may index (they are enumerated) but cannot size anything."""
    data = known_names(variables, outer)
    known = data | set(discrete)
    for variable in variables.values():
        for piece in variable.pieces:
            frames = {f.index for f in piece.frames}
            plates = {f.index for f in piece.plates}
            for expr in piece.expressions(shape=True):
                _check_expression(expr, frames, plates, known, sink)
            _check_sizes_are_data(piece, data, sink)
        if variable.decl is not None and all(p.stmt is not variable.decl for p in variable.pieces):
            for size in variable.decl.type.shape:
                _check_index(size, set(), data, sink, what="a size")


def _check_sizes_are_data(piece, data: set[str], sink: DiagnosticSink) -> None:
    """Shapes and plate or loop domains are fixed when data is bound: they read data only."""
    declared = getattr(piece.stmt, "type", None)
    for size in (declared.shape if declared is not None else ()):
        _check_index(size, set(), data, sink, what="a size")
    for depth, frame in enumerate(piece.frames):
        outside = {f.index for f in piece.frames[:depth]}
        for bound in (frame.domain.lo, frame.domain.hi):
            if bound is not None:
                _check_index(bound, outside, data, sink, what="a size")


def _check_expression(expr: ast.Node, frames: set[str], plates: set[str], known: set[str],
                      sink: DiagnosticSink) -> None:
    nodes = list(ast.walk(expr))
    indexes = [n for n in nodes if isinstance(n, ast.Index)]
    calls = [n for n in nodes if isinstance(n, ast.Call) and (n.kwargs or n.func.id in DISTRIBUTIONS)]
    if not indexes and not calls:
        return
    comprehended = {n.index.id for n in nodes if isinstance(n, ast.Comprehension)}
    bound, varying = frames | comprehended, plates | comprehended
    for node in indexes:
        if isinstance(node.base, ast.Name) and node.base.id in bound:
            sink.error("E0410", f"'{node.base.id}' is an index, not an array, so it cannot be indexed",
                       node.span, hint="index an array with it instead")
        elif not isinstance(node.base, ast.Name) and _mentions(node.base, varying):
            sink.error("E0410", "indexing a value that varies over a plate is not supported",
                       node.span, hint="index the variable itself, e.g. theta[j, 0]")
        for item in node.indices:
            parts = (item.lo, item.hi) if isinstance(item, ast.Slice) else (item,)
            for part in (p for p in parts if p is not None):
                _check_index(part, bound, known, sink)
    for node in calls:
        _check_sizes(node, bound, known, sink)


def _check_index(index: ast.Node, bound: set[str], known: set[str], sink: DiagnosticSink,
                 what: str = "an index") -> None:
    labels = _labels(index)
    for node in ast.walk(index):
        if id(node) in labels:
            continue
        if isinstance(node, ast.Call) and node.func.id != "size":
            sink.error("E0410", f"{what} must be integer data, a plate or loop index, or arithmetic on "
                       "those", node.span, hint="compute it as data, or index with a plate")
            return
        if isinstance(node, ast.Name) and node.id not in bound and node.id not in known:
            sink.error("E0410", f"'{node.id}' is not integer data, so it cannot be {what}", node.span,
                       hint="indices are data, plate or loop indices; a latent value cannot pick an element")
            return


def _check_sizes(call: ast.Call, bound: set[str], known: set[str], sink: DiagnosticSink) -> None:
    spec = DISTRIBUTIONS.get(call.func.id)
    if spec is not None and spec.int_params:
        named = dict(zip(spec.positional_params(), call.args))
        named.update({k.name.id: k.value for k in call.kwargs})
        for param in spec.int_params:
            value = named.get(param)
            if value is not None and not _fixed(value, known):
                sink.error("E0410", f"{spec.name}'s '{param}' must be a number fixed by the data", value.span,
                           hint="use a number or integer data here")
    for keyword in call.kwargs:
        if keyword.name.id == "dim" and spec is None and not _whole_number(keyword.value):
            sink.error("E0410", "'dim=' must be a whole number written in the model", keyword.value.span)


def _fixed(expr: ast.Node, known: set[str]) -> bool:
    labels = _labels(expr)
    return all(n.id in known for n in ast.walk(expr) if isinstance(n, ast.Name) and id(n) not in labels)


def _labels(expr: ast.Node) -> set[int]:
    """Names in ``expr`` that are no values: function names, keywords, comprehension indices."""
    labels = set()
    for node in ast.walk(expr):
        if isinstance(node, ast.Call):
            labels.add(id(node.func))
        elif isinstance(node, ast.Keyword):
            labels.add(id(node.name))
        elif isinstance(node, ast.Comprehension):
            labels.update((id(node.func), id(node.index)))
    return labels


def _whole_number(expr: ast.Node) -> bool:
    if isinstance(expr, ast.Unary) and expr.op == "-":
        expr = expr.operand
    return isinstance(expr, ast.Number) and isinstance(expr.value, int)


def _mentions(expr: ast.Node, names: set[str]) -> bool:
    return any(isinstance(n, ast.Name) and n.id in names for n in ast.walk(expr))
