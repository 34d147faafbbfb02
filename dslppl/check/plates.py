"""Pass 5: how definitions inside plates read other plated variables.

A plate's elements are conditionally independent, so inside ``plate t`` an
element may not read another element of a latent (or deterministic) defined in
the same plate (E0402; sequential dependence needs ``for``). A variable defined
over plate ``j`` read with the index of a different plate ``n`` over another
domain is almost always a missing group array (E0401).
"""
from __future__ import annotations

from ..diagnostics import DiagnosticSink
from ..syntax import ast
from ..syntax.pretty import pretty_expr
from .model import Frame, Kind, Variable

_KNOWN = (Kind.DATA, Kind.OBSERVED)  # values known up front: any element may be read


def check_plate_reads(variables: dict[str, Variable], sink: DiagnosticSink) -> None:
    for variable in variables.values():
        for piece in variable.pieces:
            plates = {f.index: f for f in piece.frames if not f.sequential}
            if not plates:
                continue
            for expr in piece.expressions(shape=True):
                nodes = list(ast.walk(expr))
                bases = {id(n.base) for n in nodes if isinstance(n, ast.Index)}
                for node in nodes:
                    if id(node) not in bases:
                        _check_read(node, plates, variables, sink)


def _plate_positions(variable: Variable) -> dict[int, str]:
    """Position in ``variable``'s indices -> the plate index defining that dimension."""
    target = variable.piece.target
    plates = {f.index for f in variable.piece.plates}
    if target is None:
        return {}
    return {p: i.id for p, i in enumerate(target.indices) if isinstance(i, ast.Name) and i.id in plates}


def _check_read(node: ast.Node, plates: dict[str, Frame], variables: dict[str, Variable],
                sink: DiagnosticSink) -> None:
    if isinstance(node, ast.Index) and isinstance(node.base, ast.Name):
        name, indices = node.base.id, node.indices
    elif isinstance(node, ast.Name):
        name, indices = node.id, None
    else:
        return
    other = variables.get(name)
    if other is None or other.kind in _KNOWN:
        return
    domains = {f.index: f.domain for f in other.piece.plates}
    for position, plate in _plate_positions(other).items():
        if indices is None:
            if plate in plates:
                _whole_read(node, other, plate, sink)
                return
            continue
        index = indices[position] if position < len(indices) else None
        if isinstance(index, ast.Name) and index.id == plate:
            continue
        if isinstance(index, ast.Name) and index.id in plates and plates[index.id].domain != domains[plate]:
            sink.error("E0401", f"'{name}' is defined over plate '{plate}' but indexed by '{index.id}', "
                       f"the index of another plate", index.span,
                       hint=f"to look up a group, index with a group array, e.g. {name}[group[{index.id}]]")
        elif plate in plates:
            shown = pretty_expr(index) if isinstance(index, ast.Node) else "nothing"
            sink.error("E0402", f"inside plate '{plate}', '{name}[{plate}]' cannot depend on another element "
                       f"of '{name}' ('{name}' indexed by {shown})", node.span,
                       hint="plate elements are independent; use 'for' for sequential dependence")


def _whole_read(node: ast.Node, other: Variable, plate: str, sink: DiagnosticSink) -> None:
    sink.error("E0402", f"inside plate '{plate}', the whole of '{other.name}' is read, but its elements "
               f"are defined in this plate", node.span,
               hint=f"read one element, '{other.name}[{plate}]', or use 'for' for sequential dependence")
