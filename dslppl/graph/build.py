"""Build the model graph from a checked model, and report cycles.

Stage: graph. Input: a `CheckedModel` (and optionally its `Source`, for error
excerpts). Output: a `ModelGraph` (with the guide's graph under ``.guide`` when
the file has a guide block), or a `DslError` with one E0601 diagnostic per cycle.

Edges come from each variable's ``parents``: what its distribution, value and
type bounds read (``beta1: real<upper=1 - alpha1>`` gives ``alpha1 -> beta1``).
Names read only as sizes (plate and loop domains, type shapes) are not edges.

>>> from dslppl.check import check
>>> from dslppl.syntax import parse
>>> g = build_graph(check(parse("model m { a ~ Normal(0, 1)\\n b = a + 1 }")))
>>> g.edges
(('a', 'b'),)
"""
from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from ..check.steps import step_offset
from ..check.model import CheckedModel, Kind, Variable
from ..diagnostics import DiagnosticSink, Note
from ..source import Source
from ..syntax import ast
from ..syntax.pretty import pretty_expr
from .model_graph import ModelGraph, PlateInfo, ordered_after_parents
from .reads import earlier, reads_of

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["build_graph"]


def build_graph(checked: CheckedModel, source: Source | None = None) -> ModelGraph:
    """The dependency graph of a checked model (and of its guide, as ``.guide``).

    Raises `DslError` (E0601) when definitions depend on each other in a cycle.

    >>> from dslppl.check import check
    >>> from dslppl.syntax import parse
    >>> from dslppl.diagnostics import DslError
    >>> try:
    ...     build_graph(check(parse("model m { a = b + 1\\n b = a * 2 }")))
    ... except DslError as err:
    ...     print(err.render())
    <string>:1:11: error: definitions form a cycle: a -> b -> a [E0601]
    <string>:1:11: note: 'a' is defined here
    <string>:2:2: note: 'b' is defined here
    hint: 'x -> y' means that y's definition reads x; each name must be computable from others without going round
    """
    sink = DiagnosticSink()
    graph = _build(checked, sink)
    if checked.guide is not None:
        graph.guide = _build(checked.guide, sink, outer=checked)
    sink.raise_if_errors(source)
    graph.source = source
    if graph.guide is not None:
        graph.guide.source = source
    return graph


def _build(checked: CheckedModel, sink: DiagnosticSink, outer: CheckedModel | None = None) -> ModelGraph:
    nodes: dict[str, Variable] = {}
    if outer is not None:  # a guide reads the model's data: those nodes come first
        read = set().union(*(v.parents | v.sizes for v in checked.variables.values()))
        nodes.update((name, variable) for name, variable in outer.variables.items()
                     if name in read and name not in checked.variables)
    nodes.update(checked.variables)
    order = {name: i for i, name in enumerate(nodes)}
    names = set(order)
    sizes_of: dict[str, frozenset[str]] = {}
    edges: list[tuple[str, str]] = []
    lagged: list[tuple[str, str]] = []
    for name, variable in checked.variables.items():
        parents, late, sizes = _dependencies(variable, names)
        edges += [(p, name) for p in sorted(parents, key=order.__getitem__)]
        lagged += [(p, name) for p in sorted(late, key=order.__getitem__)]
        sizes_of[name] = frozenset(sizes)
    _report_cycles(nodes, edges, sizes_of, sink)
    plates, plate_order = _plates(checked)
    return ModelGraph(checked.name, nodes, tuple(edges), plates, checked, sizes_of, plate_order, tuple(lagged),
                      is_guide=outer is not None)


def _dependencies(variable: Variable, names: set[str]) -> tuple[set[str], set[str], set[str]]:
    """(parents, lagged parents, sizes) of a variable, among the graph's ``names``.

    The checker already tells them apart: a name read in a type's shape or a
    plate's domain is a size; an array of the same ``for`` loop read at another
    step (``y[t - 1]``) is lagged, the loop's sequential structure, not an edge.
    """
    return (set(variable.parents) & names, (set(variable.lagged) & names) - {variable.name},
            set(variable.sizes) & names)


# --- cycles ---------------------------------------------------------------------

def _report_cycles(nodes: dict[str, Variable], edges: list[tuple[str, str]],
                   sizes_of: dict[str, frozenset[str]], sink: DiagnosticSink) -> None:
    dependencies = edges + [(s, name) for name, sizes in sizes_of.items() for s in sizes]
    dependencies += [(name, name) for name, variable in nodes.items() if _reads_itself(variable)]
    if ordered_after_parents(list(nodes), dependencies) is not None:
        return
    import networkx as nx  # finding the cycles to report them, for models that have some

    order = {name: i for i, name in enumerate(nodes)}
    deps = nx.DiGraph()
    deps.add_nodes_from(nodes)
    deps.add_edges_from(dependencies)
    components = [c for c in nx.strongly_connected_components(deps)
                  if len(c) > 1 or deps.has_edge(next(iter(c)), next(iter(c)))]
    for component in sorted(components, key=lambda c: min(order[n] for n in c)):
        cycle = _shortest_cycle(deps, component, order)
        variables = [nodes[n] for n in cycle]
        sink.error("E0601", "definitions form a cycle: " + " -> ".join(cycle + [cycle[0]]),
                   variables[0].span,
                   notes=tuple(Note(f"'{v.name}' is defined here", v.span) for v in variables),
                   hint="'x -> y' means that y's definition reads x; each name must be computable "
                        "from others without going round")


def _reads_itself(variable: Variable) -> bool:
    """A definition reading the very value it defines: ``a = a + 1``, or ``x[t] = x[t] * 2``
    in a loop (an array built in a ``for`` loop may read its *earlier* elements). Observed
    values are supplied, so an observation may read its other elements (AR likelihoods)."""
    if variable.kind in (Kind.OBSERVED, Kind.DATA):
        return False
    for piece in variable.pieces:
        shifts = {}
        for loop in piece.loops:
            offsets = [step_offset(i, loop.index) for i in piece.target.indices]
            shifts[loop.index] = next((o for o in offsets if o is not None), 0)
        for read in reads_of(piece.expressions(), {variable.name}, local=True):
            if not variable.sequential or not earlier(read, shifts):
                return True
    return False


def _shortest_cycle(deps: nx.DiGraph, component: set[str], order: dict[str, int]) -> list[str]:
    """The shortest cycle through the component's first member (source order)."""
    start = min(component, key=order.__getitem__)
    back: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for succ in sorted(deps.successors(node), key=order.__getitem__):
            if succ == start:
                path = [node]
                while path[-1] != start:
                    path.append(back[path[-1]])
                return path[::-1]
            if succ in component and succ not in back:
                back[succ] = node
                queue.append(succ)
    return [start]


# --- plates ---------------------------------------------------------------------

def _plates(checked: CheckedModel) -> tuple[dict[str, PlateInfo], tuple[str, ...]]:
    """Each plate's domain, enclosing plates and members; and the nesting order used to
    draw and group them (plates with more members outside, then first written first)."""
    outer: dict[str, set[str] | None] = {index: None for index in checked.plates}
    members: dict[str, list[str]] = {index: [] for index in checked.plates}
    for variable in checked.variables.values():
        for piece in variable.pieces:
            seen: list[str] = []
            for frame in piece.plates:
                enclosing = set(seen)
                outer[frame.index] = enclosing if outer[frame.index] is None else outer[frame.index] & enclosing
                if variable.name not in members[frame.index]:
                    members[frame.index].append(variable.name)
                seen.append(frame.index)
    first = list(checked.plates)
    order = tuple(sorted(first, key=lambda p: (-len(members[p]), first.index(p))))
    plates = {}
    for index, frame in checked.plates.items():
        enclosing = tuple(p for p in first if p in (outer[index] or ()))
        plates[index] = PlateInfo(index, domain_text(frame.domain), frame.domain, enclosing,
                                  tuple(members[index]), frame.span)
    return plates, order


def domain_text(domain: ast.Domain) -> str:
    """``J`` or ``K..T``, as written in the source.

    >>> domain_text(ast.Domain(ast.Number(1), ast.Name("T")))
    '1..T'
    """
    hi = pretty_expr(domain.hi)
    return hi if domain.lo is None else f"{pretty_expr(domain.lo)}..{hi}"
