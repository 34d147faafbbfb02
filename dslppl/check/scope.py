"""Pass 2: resolve every name a definition reads.

Input: the collected variables. Output: each variable's ``parents`` (model
names its value, distribution, bounds or shape read) and ``sizes`` (names read
only as sizes of plates and loops). Reports undefined names (E0201, with a
did-you-mean hint) and indices that shadow another name (E0206).
"""
from __future__ import annotations

from typing import Iterable, Iterator

from ..diagnostics import DiagnosticSink, did_you_mean
from ..library import DISTRIBUTIONS, FUNCTIONS
from ..syntax import ast
from ..syntax.pretty import pretty_expr
from .model import Kind, Piece, Variable
from .steps import step_offset


def free_names(node: ast.Node, bound: frozenset[str] = frozenset()) -> Iterator[ast.Name]:
    """Names an expression (or type, or statement) reads, skipping call names,
    keyword names, type names and indices bound inside it (comprehensions).

    >>> from dslppl.syntax.ast import Call, Name, Number
    >>> [n.id for n in free_names(Call(Name("exp"), (Name("x"),)))]
    ['x']
    """
    stack: list[tuple[ast.Node, frozenset[str]]] = [(node, bound)]
    while stack:
        current, bound = stack.pop()
        match current:
            case ast.Name(id=name):
                if name not in bound:
                    yield current
            case ast.Call(args=args, kwargs=kwargs):
                stack.extend((a, bound) for a in reversed(args))
                stack.extend((k.value, bound) for k in reversed(kwargs))
            case ast.Keyword(value=value):
                stack.append((value, bound))
            case ast.Comprehension(body=body, index=index, domain=domain):
                stack.append((domain, bound))
                stack.append((body, bound | {index.id}))
            case _:
                stack.extend((c, bound) for c in reversed(list(ast.children(current))))


def resolve(variables: dict[str, Variable], sink: DiagnosticSink,
            outer: Iterable[str] = ()) -> None:
    """Fill ``parents`` and ``sizes`` of every variable; ``outer`` are names visible
    from an enclosing scope (the model's data, when checking a guide)."""
    visible = set(variables) | set(outer)
    _check_shadowing(variables, visible, sink)
    for variable in variables.values():
        parents: set[str] = set()
        sizes: set[str] = set()
        lagged: set[str] = set()
        for piece in variable.pieces:
            indices = frozenset(f.index for f in piece.frames)
            same_step, earlier = _loop_reads(piece, variables, sink)
            lagged |= earlier
            reads = set(_reads(piece.expressions(target=True), indices, visible, sink))
            parents |= reads - (earlier - same_step)
            shape = list(piece.stmt.type.shape) if getattr(piece.stmt, "type", None) else []
            sizes.update(_reads(shape, indices, visible, sink))
            for depth, frame in enumerate(piece.frames):  # a domain sees the indices outside it only
                outside = frozenset(f.index for f in piece.frames[:depth])
                sizes.update(_reads([frame.domain], outside, visible, sink))
        if variable.decl is not None and all(p.stmt is not variable.decl for p in variable.pieces):
            # An observed variable's own `data` line: its shape and bounds read data.
            declared = variable.decl.type
            sizes.update(_reads(list(declared.shape) + [b.value for b in declared.bounds], frozenset(),
                                visible, sink))
        parents.discard(variable.name)  # a sequential array reads its own earlier elements
        variable.parents = frozenset(parents)
        variable.lagged = frozenset(lagged)
        variable.sizes = frozenset(sizes - parents)
    _check_data_bounds(variables, sink)


def _check_data_bounds(variables: dict[str, Variable], sink: DiagnosticSink) -> None:
    """Bounds of data are checked when data is bound: they may read data only."""
    for variable in variables.values():
        if variable.decl is None:
            continue
        for bound in variable.decl.type.bounds:
            for name in free_names(bound.value):
                read = variables.get(name.id)
                if read is not None and read.kind not in (Kind.DATA, Kind.OBSERVED):
                    sink.error("E0205", f"the bound of data '{variable.name}' reads '{name.id}', which is "
                               f"{read.kind.value}: a data bound may read only data", name.span,
                               hint="bound it by a number or by other data")


def _loop_reads(piece: Piece, variables: dict[str, Variable],
                sink: DiagnosticSink) -> tuple[set[str], set[str]]:
    """Arrays built by a loop around ``piece``, read at the same step (``err[t]``) or
    at an earlier one (``err[t - 1]``, ``x[0]``). Earlier reads are not dependencies
    between variables: they are the loop's sequential structure. A read of a later
    step is an error (E0411)."""
    same, other = set(), set()
    for loop in piece.loops:
        built = {name: _loop_position(v, loop) for name, v in variables.items()}
        built = {name: p for name, p in built.items() if p is not None}
        for node in piece.expressions(target=True):
            for sub in ast.walk(node):
                if isinstance(sub, ast.Index) and isinstance(sub.base, ast.Name) and sub.base.id in built:
                    position, shift = built[sub.base.id]
                    index = sub.indices[position] if position < len(sub.indices) else None
                    offset = step_offset(index, loop.index) if index is not None else None
                    if offset is not None and offset > shift:
                        sink.error("E0411", f"'{pretty_expr(sub)}' is built by a later step of loop "
                                   f"'{loop.index}'", sub.span,
                                   hint="a step may read the elements of earlier steps only")
                    (same if offset == shift else other).add(sub.base.id)
    return same, other


def _loop_position(variable: Variable, loop) -> tuple[int, int] | None:
    """Which index of ``variable`` runs over ``loop`` and its shift (``x[t + 1]``: 1), if a
    piece of it is defined in that loop."""
    for piece in variable.pieces:
        if any(f.index == loop.index and f.span == loop.span for f in piece.loops) and piece.target:
            for position, index in enumerate(piece.target.indices):
                offset = step_offset(index, loop.index)
                if offset is not None:
                    return position, offset
    return None


def _reads(nodes: list[ast.Node], indices: frozenset[str], visible: set[str],
           sink: DiagnosticSink) -> Iterator[str]:
    for node in nodes:
        for name in free_names(node, indices):
            if name.id in visible:
                yield name.id
            else:
                _undefined(name, visible | indices, sink)


def _undefined(name: ast.Name, candidates: set[str], sink: DiagnosticSink) -> None:
    if name.id in FUNCTIONS or name.id in DISTRIBUTIONS:
        what = "function" if name.id in FUNCTIONS else "distribution"
        sink.error("E0201", f"'{name.id}' is a {what}, not a value", name.span,
                   hint=f"call it: {name.id}(...)")
        return
    sink.error("E0201", f"undefined name '{name.id}'", name.span, hint=did_you_mean(name.id, candidates))


def _check_shadowing(variables: dict[str, Variable], visible: set[str], sink: DiagnosticSink) -> None:
    """Plate, loop and comprehension indices must not reuse a visible name (each reported once)."""
    reported: set[int] = set()

    def report(index: ast.Name | str, span, what: str) -> None:
        if id(span) not in reported:
            reported.add(id(span))
            sink.error("E0206", f"index '{index}' has the same name as {what}", span,
                       hint="choose another index name")

    for variable in variables.values():
        for piece in variable.pieces:
            enclosing: set[str] = set()
            for frame in piece.frames:
                if frame.index in visible or frame.index in enclosing:
                    report(frame.index, frame.span, "an enclosing index" if frame.index in enclosing else "a variable")
                enclosing.add(frame.index)
            for node in piece.expressions(target=True):
                for comp in (n for n in ast.walk(node) if isinstance(n, ast.Comprehension)):
                    if comp.index.id in visible or comp.index.id in enclosing:
                        report(comp.index.id, comp.index.span, "another name in scope")
