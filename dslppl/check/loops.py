"""Pass 7: what `for` loops can build.

The arrays one loop defines (with their pieces outside it, ``x[0] ~ ...``)
form one *loop group*, compiled as one unit: deterministic arrays unrolled
step by step, observed arrays and factors vectorized, and at most one latent
array drawn as a whole (E0407). A loop group lives outside any plate and
under one loop. Inside its loop an array of the group is read at single
steps (``x[t - 1]``), never over a range (E0407).
"""
from __future__ import annotations

from ..diagnostics import DiagnosticSink
from ..syntax import ast
from .model import Kind, Variable


def loop_groups(variables: dict[str, Variable]) -> list[list[Variable]]:
    """Variables grouped so that all arrays built by one loop (or by loops sharing an array)
    form one group, in source order; every other variable is a group of its own."""
    leader: dict[str, str] = {}  # union-find over names: a loop joins the arrays it builds

    def find(name: str) -> str:
        while leader.get(name, name) != name:
            name = leader[name]
        return name

    position = {name: i for i, name in enumerate(variables)}
    first_of_loop: dict[tuple, str] = {}
    for name, variable in variables.items():
        for piece in variable.pieces:
            for loop in piece.loops:
                other = first_of_loop.setdefault((loop.index, id(loop.span)), name)
                a, b = find(name), find(other)
                if a != b:
                    later, earlier = sorted((a, b), key=position.__getitem__, reverse=True)
                    leader[later] = earlier
    groups: dict[str, list[Variable]] = {}
    for name, variable in variables.items():
        groups.setdefault(find(name), []).append(variable)
    return list(groups.values())


def check_loops(variables: dict[str, Variable], sink: DiagnosticSink) -> None:
    for group in loop_groups(variables):
        if len(group) == 1 and not group[0].sequential:
            continue
        loops = {(f.index, id(f.span)) for v in group for p in v.pieces for f in p.loops}
        if len(loops) != 1 or any(p.plates for v in group for p in v.pieces):
            sink.error("E0407", f"'{group[0].name}' must be built by one 'for' loop outside any plate",
                       group[0].span, hint="write the loop at the top level of the model, "
                                           "and complete the array with pieces outside it (x[0] ~ ...)")
            continue
        latent = [v for v in group if v.kind is Kind.LATENT]
        for extra in latent[1:]:
            sink.error("E0407", f"one 'for' loop can build only one latent array: '{latent[0].name}' "
                       f"and '{extra.name}' are built by the same loop", extra.span,
                       hint="build each latent array in a loop of its own")
        _check_step_reads(group, sink)


def _check_step_reads(group: list[Variable], sink: DiagnosticSink) -> None:
    """Inside the loop, the group's arrays are read one step at a time."""
    members = {v.name for v in group}
    for variable in group:
        for piece in variable.pieces:
            if not piece.loops:
                continue
            for expr in piece.expressions():
                for node in ast.walk(expr):
                    if isinstance(node, ast.Index) and isinstance(node.base, ast.Name) \
                            and node.base.id in members and not _single_step(node.indices[0], expr):
                        sink.error("E0407", f"inside its loop, '{node.base.id}' can only be read at single "
                                   "steps", node.span, hint=f"read one element, e.g. {node.base.id}[t - 1]")


def _single_step(index: ast.Node, expr: ast.Node) -> bool:
    """An index naming one step: no slice, no comprehension index of the expression."""
    if isinstance(index, ast.Slice):
        return False
    bound = {c.index.id for c in ast.walk(expr) if isinstance(c, ast.Comprehension)}
    return not any(isinstance(n, ast.Name) and n.id in bound for n in ast.walk(index))
