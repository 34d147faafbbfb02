"""Units of code in dependency order (see the package docstring).

>>> from dslppl.driver import front_end
>>> _, graph = front_end("model m { data y: real[M]\\n M = N * 2\\n data N: int\\n y ~ Normal(0, 1) }")
>>> [unit.names for unit in lower(graph).units]
[('N',), ('M',), ('y',)]
"""
from __future__ import annotations

from dataclasses import dataclass

from ..check.loops import loop_groups
from ..check.model import Variable
from ..diagnostics import InternalError
from ..graph import ModelGraph
from ..graph.model_graph import ordered_after_parents


@dataclass(frozen=True)
class Unit:
    """Variables written together: one variable, or the arrays of one `for` loop (with
    their pieces outside it, ``x[0] = ...``) in same-step dependency order."""

    variables: tuple[Variable, ...]
    loop: bool = False

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.variables)


@dataclass(frozen=True)
class Lowered:
    """A model's units in dependency order, and its guide's (when the file has one)."""

    units: tuple[Unit, ...]
    guide: tuple[Unit, ...] | None = None


def lower(graph: ModelGraph) -> Lowered:
    """The units of ``graph``'s model and guide, each after everything it reads."""
    guide = _ordered(graph.guide) if graph.guide is not None else None
    return Lowered(_ordered(graph), guide)


def _ordered(graph: ModelGraph) -> tuple[Unit, ...]:
    """Units in a topological order of the graph's dependencies (sizes included), each loop
    unit contracted to one node; ties broken by source order, so code follows the file."""
    own = graph.checked.variables
    groups = [[v.name for v in group] for group in loop_groups(own)]  # in source order
    unit_of = {name: i for i, group in enumerate(groups) for name in group}
    edges = {(unit_of[a], unit_of[b]) for a, b in graph.dependencies
             if a in unit_of and b in unit_of and unit_of[a] != unit_of[b]}
    order = ordered_after_parents(list(range(len(groups))), edges)
    if order is None:
        raise InternalError(f"the units of '{graph.name}' depend on each other in a cycle")
    return tuple(_unit([own[n] for n in groups[i]], graph.dependencies) for i in order)


def _unit(variables: list[Variable], dependencies: tuple[tuple[str, str], ...]) -> Unit:
    if len(variables) == 1 and not variables[0].sequential:
        return Unit(tuple(variables))
    by_name = {v.name: v for v in variables}
    same_step = [(a, b) for a, b in dependencies if a in by_name and b in by_name]  # lagged reads are no edges
    ordered = ordered_after_parents(list(by_name), same_step)
    if ordered is None:
        raise InternalError(f"the arrays of one loop depend on each other in a cycle: {', '.join(by_name)}")
    return Unit(tuple(by_name[n] for n in ordered), loop=True)
