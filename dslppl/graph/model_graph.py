"""The model graph: one node per model variable, edges from what each definition reads.

Stage: graph. Input: built by `dslppl.graph.build_graph` from a `CheckedModel`.
Output: `ModelGraph`, which the code generator (``topological_order``), the
renderer and users (``factorization``, ``markov_blanket``, ``d_separated``) read.

``nodes`` maps each name to the checker's `Variable`, in source order, and
``edges`` lists the dependencies; ``dag`` is the same graph as a networkx
``DiGraph`` (the `Variable` under ``dag.nodes[name]["var"]``), made on first
use, so that checking and drawing a model do not import networkx. An edge
``a -> b`` means that ``b``'s definition (its distribution, value or type bounds) reads ``a``. Sizes (plate
and loop domains, shapes of declared types) are not edges: they are listed by
`ModelGraph.sizes` and only constrain `ModelGraph.topological_order`.

Arrays built in the same ``for`` loop can read each other's earlier elements
both ways (GARCH: ``sigma[t]`` reads ``y[t - 1]``, ``y[t]`` reads ``sigma[t]``).
Such a lagged read is the loop's sequential structure, not an edge between
variables (the checker's ``Variable.lagged``): it is listed in
``ModelGraph.lagged``, which `parents`, `children` and `markov_blanket` include,
while `topological_order`, `ancestors` and `d_separated` use ``edges`` only.
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Iterable

from ..check.model import CheckedModel, Kind, Variable
from ..diagnostics import InternalError
from ..source import Source, Span
from ..syntax import ast

if TYPE_CHECKING:
    import networkx as nx

#: Kinds whose values are fixed when the model runs: never random, always "given".
CONSTANT = (Kind.DATA, Kind.PARAM)
#: Kinds that are folded away when looking for stochastic parents and children.
FOLDED = (Kind.DETERMINISTIC, Kind.FACTOR)


@dataclass(frozen=True)
class PlateInfo:
    """A plate of the model: ``plate j in J`` (``domain='J'``) or ``plate t in K..T``.

    ``outer`` lists the plates that enclose this one wherever it appears (outer
    first); ``variables`` the names defined inside it, in source order.
    """

    index: str
    domain: str
    domain_ast: ast.Domain = field(compare=False)
    outer: tuple[str, ...] = ()
    variables: tuple[str, ...] = ()
    span: Span | None = field(default=None, compare=False, repr=False)

    @property
    def label(self) -> str:
        """``j ∈ J``: how the plate is named in pictures."""
        return f"{self.index} ∈ {self.domain}"


@dataclass
class ModelGraph:
    """A model's dependency graph, its plates, and (when the file has one) the guide's graph.

    A built graph is read-only: queries cache the source order of its nodes.

    >>> from dslppl.graph import build_graph
    >>> g = build_graph(_example())
    >>> g.parents("y"), g.children("a")
    (['s', 'a', 'b'], ['y'])
    """

    name: str
    nodes: dict[str, Variable]                   # source order
    edges: tuple[tuple[str, str], ...]           # (parent, child): the child's definition reads the parent
    plates: dict[str, PlateInfo]
    checked: CheckedModel = field(repr=False)
    sizes_of: dict[str, frozenset[str]] = field(default_factory=dict, repr=False)
    plate_order: tuple[str, ...] = ()
    lagged: tuple[tuple[str, str], ...] = ()
    guide: "ModelGraph | None" = None
    is_guide: bool = False
    source: Source | None = field(default=None, repr=False)

    @cached_property
    def dag(self) -> nx.DiGraph:
        """The graph as a networkx ``DiGraph``: nodes in source order, each `Variable` under
        ``dag.nodes[name]["var"]``.

        >>> from dslppl.graph import build_graph
        >>> sorted(build_graph(_example()).dag.predecessors("y"))
        ['a', 'b', 's']
        """
        import networkx as nx

        dag = nx.DiGraph()
        dag.add_nodes_from((name, {"var": variable}) for name, variable in self.nodes.items())
        dag.add_edges_from(self.edges)
        return dag

    # --- nodes ------------------------------------------------------------------
    def variable(self, name: str) -> Variable:
        """The checker's `Variable` behind node ``name``."""
        self._known(name)
        return self.nodes[name]

    @property
    def variables(self) -> dict[str, Variable]:
        """Every node's `Variable`, in source order."""
        return dict(self.nodes)

    def kind(self, name: str) -> Kind:
        return self.variable(name).kind

    def sizes(self, name: str) -> list[str]:
        """Names ``name`` reads only as sizes (plate and loop domains, type shapes)."""
        self._known(name)
        return self._ordered(self.sizes_of.get(name, ()))

    def plates_of(self, name: str) -> tuple[str, ...]:
        """The plates a variable is replicated over, in the graph's nesting order."""
        rank = {p: i for i, p in enumerate(self.plate_order)}
        return tuple(sorted(self.variable(name).plates, key=rank.__getitem__))

    # --- structure ----------------------------------------------------------------
    def parents(self, name: str) -> list[str]:
        """The names whose values ``name``'s definition reads, in source order."""
        self._known(name)
        return self._ordered(self._predecessors(name))

    def children(self, name: str) -> list[str]:
        """The names whose definitions read ``name``, in source order."""
        self._known(name)
        return self._ordered(self._successors(name))

    def ancestors(self, name: str) -> list[str]:
        """Every name ``name`` depends on, directly or not, in source order.

        >>> from dslppl.graph import build_graph
        >>> g = build_graph(_example())
        >>> g.ancestors("y"), g.descendants("s")
        (['s', 'a', 'b'], ['y', 'a'])
        """
        self._known(name)
        return self._ordered(_reachable(name, self._parents_of))

    def descendants(self, name: str) -> list[str]:
        """Every name that depends on ``name``, in source order."""
        self._known(name)
        return self._ordered(_reachable(name, self._children_of))

    def topological_order(self) -> list[str]:
        """All names, each after everything it reads and every size it uses;
        ties are broken by source order, so the result is deterministic.

        >>> from dslppl.graph import build_graph
        >>> build_graph(_example()).topological_order()
        ['s', 'a', 'b', 'y']
        """
        order = ordered_after_parents(list(self.nodes), self.dependencies)
        if order is None:
            raise InternalError(f"the graph of '{self.name}' has a cycle")  # build_graph reports cycles
        return order

    @cached_property
    def dependencies(self) -> tuple[tuple[str, str], ...]:
        """What must be computed before what: every edge, and every size before the names it
        sizes (the one dependency order `topological_order` and lowering follow)."""
        sizes = [(s, name) for name, used in self.sizes_of.items() for s in used if s in self.nodes]
        return (*self.edges, *sizes)

    # --- probabilistic queries ------------------------------------------------------
    def stochastic_parents(self, name: str) -> list[str]:
        """The latent, observed and param names ``name`` depends on once deterministic
        nodes and factors are folded into their readers (data is left out)."""
        self._known(name)
        return self._ordered(self._folded(name, self._predecessors, stop=(Kind.LATENT, Kind.OBSERVED, Kind.PARAM)))

    def stochastic_children(self, name: str) -> list[str]:
        """The latent, observed and factor names whose densities read ``name``,
        directly or through deterministic nodes."""
        self._known(name)
        return self._ordered(self._folded(name, self._successors, stop=(Kind.LATENT, Kind.OBSERVED, Kind.FACTOR),
                                          through=(Kind.DETERMINISTIC,)))

    def markov_blanket(self, name: str) -> list[str]:
        """The random variables and params that ``name``'s full conditional depends on.

        It is the classic blanket (parents, children, the children's other
        parents) on the graph with deterministic nodes folded away: a parent
        read through ``theta = mu + tau * z`` counts as a parent, and a density
        that reads ``name`` through deterministic nodes counts as a child. A
        ``factor`` is a child term but not a variable, so only its other parents
        appear. Data and sizes are constants and never appear.

        >>> from dslppl.graph import build_graph
        >>> build_graph(_example()).markov_blanket("a")
        ['y', 'b']
        """
        blanket = set(self.stochastic_parents(name))
        for child in self.stochastic_children(name):
            if self.kind(child) is not Kind.FACTOR:
                blanket.add(child)
            blanket.update(self.stochastic_parents(child))
        blanket.discard(name)
        return self._ordered(n for n in blanket if self.kind(n) is not Kind.FACTOR)

    def d_separated(self, xs: str | Iterable[str], ys: str | Iterable[str],
                    given: str | Iterable[str] = ()) -> bool:
        """Whether ``xs`` and ``ys`` are independent given ``given`` in every
        distribution the graph allows (d-separation). Data and params are
        constants, so they are always conditioned on.

        >>> from dslppl.graph import build_graph
        >>> g = build_graph(_example())
        >>> g.d_separated("a", "b"), g.d_separated("a", "b", given="y")
        (True, False)
        """
        xs, ys, given = (set(_names(v)) for v in (xs, ys, given))
        for name in xs | ys | given:
            self._known(name)
        constants = {n for n, v in self.variables.items() if v.kind in CONSTANT}
        given = (given | constants) - xs - ys
        return _is_d_separator(self.dag, xs, ys, given)

    def factorization(self, latex: bool = False) -> str:
        """The joint density as a product of factors (see `dslppl.graph.factorization`).

        >>> from dslppl.graph import build_graph
        >>> print(build_graph(_example()).factorization())
        p(a, b, y) = p(a) p(b) p(y | a, b)
        """
        from .factorization import factorization

        return factorization(self, latex=latex)

    # --- helpers ----------------------------------------------------------------------
    def _folded(self, name: str, step, stop: tuple[Kind, ...], through: tuple[Kind, ...] = FOLDED) -> set[str]:
        found: set[str] = set()
        seen = {name}
        frontier = list(step(name))
        while frontier:
            current = frontier.pop()
            if current in seen:
                continue
            seen.add(current)
            kind = self.kind(current)
            if kind in stop:
                found.add(current)
            elif kind in through:
                frontier.extend(step(current))
        return found

    def _predecessors(self, name: str) -> list[str]:
        return [*self._parents_of[name], *(p for p, c in self.lagged if c == name)]

    def _successors(self, name: str) -> list[str]:
        return [*self._children_of[name], *(c for p, c in self.lagged if p == name)]

    @cached_property
    def _parents_of(self) -> dict[str, list[str]]:
        parents: dict[str, list[str]] = {name: [] for name in self.nodes}
        for parent, child in self.edges:
            parents[child].append(parent)
        return parents

    @cached_property
    def _children_of(self) -> dict[str, list[str]]:
        children: dict[str, list[str]] = {name: [] for name in self.nodes}
        for parent, child in self.edges:
            children[parent].append(child)
        return children

    @cached_property
    def _position(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.nodes)}

    def _ordered(self, names: Iterable[str]) -> list[str]:
        return sorted(set(names), key=self._position.__getitem__)

    def _known(self, name: str) -> None:
        if name not in self.nodes:
            raise KeyError(f"'{name}' is not a variable of {'guide' if self.is_guide else 'model'} '{self.name}'")


def _names(value: str | Iterable[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def ordered_after_parents(names: list[str], edges: Iterable[tuple[str, str]]) -> list[str] | None:
    """``names`` with each after its parents (``edges`` are (parent, child)), ties broken by
    the order of ``names``; None when the edges form a cycle (Kahn's algorithm).

    >>> ordered_after_parents(["a", "b", "c"], [("c", "a")]), ordered_after_parents(["a"], [("a", "a")])
    (['b', 'c', 'a'], None)
    """
    position = {name: i for i, name in enumerate(names)}
    children: dict[str, set[str]] = {name: set() for name in names}
    for parent, child in edges:
        children[parent].add(child)
    waiting = dict.fromkeys(names, 0)
    for kids in children.values():
        for kid in kids:
            waiting[kid] += 1
    ready = [position[name] for name, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        name = names[heapq.heappop(ready)]
        order.append(name)
        for kid in children[name]:
            waiting[kid] -= 1
            if waiting[kid] == 0:
                heapq.heappush(ready, position[kid])
    return order if len(order) == len(names) else None


def _reachable(start: str, step: dict[str, list[str]]) -> set[str]:
    """Every name reached from ``start`` by one or more steps."""
    found: set[str] = set()
    frontier = list(step[start])
    while frontier:
        name = frontier.pop()
        if name not in found:
            found.add(name)
            frontier.extend(step[name])
    return found


def _is_d_separator(dag: nx.DiGraph, xs: set[str], ys: set[str], given: set[str]) -> bool:
    import networkx as nx

    # networkx 3.3 renamed d_separated to is_d_separator; support both.
    test = getattr(nx, "is_d_separator", None) or getattr(nx, "d_separated")
    return test(dag, xs, ys, given)


def _example() -> CheckedModel:
    """A three-line model the doctests share."""
    from ..check import check
    from ..syntax import parse

    return check(parse("model m {\n data s: positive\n data y: real\n a ~ Normal(0, s)\n"
                       " b ~ Normal(0, 1)\n y ~ Normal(a + b, s) }"))
