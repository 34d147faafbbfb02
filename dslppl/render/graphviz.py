"""Draw a model graph with Graphviz, from its structure alone (no data, no model run).

Stage: render. Input: a `ModelGraph`. Output: a ``graphviz.Digraph`` whose DOT
text (``.source``) is always available; `dslppl.render.save` turns it into
``.svg``/``.png``/``.pdf`` when the ``dot`` program is installed.

What is drawn, following Pyro's ``render_model`` and PyMC's ``model_to_graphviz``:

- latent variables: white ellipses (a double outline: a discrete latent that
  inference sums out); observed: grey filled ellipses; data and
  covariates: boxes; deterministic nodes: dashed ellipses; params: plain text;
  factors: octagons (PyMC's Potential). Data used as a size (``J``) that feeds
  no model variable is left out: the plate labels show it.
- labels ``name ~ Normal(mu, tau)`` (``distributions=False`` for names only);
- plates as ``cluster_<index>`` subgraphs labelled ``j ∈ J`` (``j ∈ J = 8``
  with ``sizes``), at the bottom right. A data array read element by element
  inside a plate (``sigma[j]``) is drawn in that plate;
- arrays built by a ``for`` loop list their pieces and the loop; a dashed edge
  means "reads an earlier step": a self-loop for ``x[t]`` reading ``x[t - 1]``,
  and an edge for a lagged read between two arrays of one loop;
- ``guide=True`` draws the model and the guide side by side, each in its own
  cluster; guide nodes are named ``guide/<name>`` and guide plates
  ``cluster_guide_<index>``.

Overlapping plates. Graphviz clusters must nest, but ``plate i`` and ``plate k``
can overlap without nesting (variables in ``i`` only, ``k`` only, and both).
Each variable's plates are ordered by the graph's ``plate_order`` (plates with
more members outside), and clusters follow those paths: the variables in both
plates sit in a ``k`` cluster nested in ``i``, and the ``k``-only variables in
a second ``k`` cluster beside it, both labelled ``k ∈ K``. A cluster whose
index appears once is named ``cluster_<index>``; repeated ones are named by
their path, ``cluster_i_k``.

>>> from dslppl.graph import build_graph
>>> from dslppl.check import check
>>> from dslppl.syntax import parse
>>> g = build_graph(check(parse("model m { data N: int\\n data y: real[N]\\n mu ~ Normal(0, 1)\\n"
...                             " plate n in N { y[n] ~ Normal(mu, 1) } }")))
>>> print(render(g).source, end="")  # doctest: +NORMALIZE_WHITESPACE
digraph m {
    graph [fontname=Helvetica]
    node [fontname=Helvetica fontsize=12]
    edge [fontname=Helvetica fontsize=10]
    mu [label="mu ~ Normal(0, 1)" fillcolor=white shape=ellipse style=filled]
    subgraph cluster_n {
        fontsize=11 label="n ∈ N" labeljust=r labelloc=b
        y [label="y ~ Normal(mu, 1)" fillcolor=gray shape=ellipse style=filled]
    }
    mu -> y
}
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import graphviz

from ..check.model import Kind
from ..graph.model_graph import ModelGraph
from ..check.discrete import is_enumerated
from ..graph.reads import reads_of
from .labels import node_label, plate_label

__all__ = ["render"]

FONT = "Helvetica"
STYLE: dict[Kind, dict[str, str]] = {
    Kind.LATENT: {"shape": "ellipse", "style": "filled", "fillcolor": "white"},
    Kind.OBSERVED: {"shape": "ellipse", "style": "filled", "fillcolor": "gray"},
    Kind.DATA: {"shape": "box"},
    Kind.DETERMINISTIC: {"shape": "ellipse", "style": "dashed"},
    Kind.PARAM: {"shape": "plain"},
    Kind.FACTOR: {"shape": "octagon"},
}
SUMMED = {"peripheries": "2"}  # a discrete latent summed out by inference: a double outline
EARLIER = {"style": "dashed"}  # an edge reading an earlier step of a `for` loop


def render(graph: ModelGraph, *, sizes: Mapping[str, int] | None = None, distributions: bool = True,
           guide: bool = False) -> graphviz.Digraph:
    """A picture of ``graph`` (and of its guide, with ``guide=True``).

    ``sizes`` maps size names (``J``) or plate indices (``j``) to integers shown
    in plate labels. The DOT text is deterministic: nodes follow source order.

    >>> from dslppl.check import check
    >>> from dslppl.graph import build_graph
    >>> from dslppl.syntax import parse
    >>> dot = render(build_graph(check(parse("model m { data J: int\\n plate j in J { z[j] ~ Normal(0, 1) } }"))),
    ...              sizes={"J": 8}, distributions=False)
    >>> [line.strip() for line in dot.body if "cluster" in line or "label=" in line]
    ['subgraph cluster_j {', 'fontsize=11 label="j ∈ J = 8" labeljust=r labelloc=b', 'z [label=z fillcolor=white shape=ellipse style=filled]']
    """
    dot = graphviz.Digraph(graph.name, graph_attr={"fontname": FONT},
                           node_attr={"fontname": FONT, "fontsize": "12"},
                           edge_attr={"fontname": FONT, "fontsize": "10"})
    if not guide:
        _draw(dot, graph, _Canvas(sizes, distributions))
        return dot
    if graph.guide is None:
        raise ValueError(f"model '{graph.name}' has no guide block to draw")
    # `model` and `guide` are keywords, so no plate index clashes with these cluster names.
    for name, part, canvas in (("model", graph, _Canvas(sizes, distributions, boxed=True)),
                               ("guide", graph.guide, _Canvas(sizes, distributions, "guide/", "cluster_guide_", True))):
        with dot.subgraph(name=f"cluster_{name}") as box:
            box.attr(label=name, labeljust="l", labelloc="t", style="rounded", color="gray60")
            _draw(box, part, canvas)
    return dot


@dataclass(frozen=True)
class _Canvas:
    """How one graph is drawn: sizes for plate labels, labels, and names of its nodes and clusters."""

    sizes: Mapping[str, int] | None
    distributions: bool
    prefix: str = ""                # node names: "guide/mu" beside the model's "mu"
    clusters: str = "cluster_"
    boxed: bool = False             # inside a model/guide box: plates must undo its style


def _draw(dot: graphviz.Digraph, graph: ModelGraph, canvas: _Canvas) -> None:
    shown = [n for n in graph.nodes if not _size_only(graph, n)]
    paths = {n: _placement(graph, n) for n in shown}
    names = _cluster_names(paths.values(), canvas.clusters)
    _emit(dot, graph, canvas, shown, paths, names, ())
    visible, prefix = set(shown), canvas.prefix
    for child in shown:
        for parent in graph.parents(child):
            if parent not in visible:
                continue
            extra = EARLIER | {"constraint": "false"} if (parent, child) in graph.lagged else {}
            dot.edge(prefix + parent, prefix + child, **extra)
        if _reads_earlier_self(graph, child):
            dot.edge(prefix + child, prefix + child, **EARLIER)


def _emit(dot, graph: ModelGraph, canvas: _Canvas, shown, paths, names, path: tuple[str, ...]) -> None:
    """Nodes whose plates are exactly ``path``, then one cluster per longer path."""
    for name in shown:
        if paths[name] == path:
            variable = graph.variable(name)
            style = {**STYLE[variable.kind], **(SUMMED if is_enumerated(variable) else {})}
            dot.node(canvas.prefix + name, node_label(variable, canvas.distributions), **style)
    deeper: list[tuple[str, ...]] = []
    for name in shown:
        p = paths[name]
        if len(p) > len(path) and p[: len(path)] == path and p[: len(path) + 1] not in deeper:
            deeper.append(p[: len(path) + 1])
    for sub in deeper:
        with dot.subgraph(name=names[sub]) as cluster:
            cluster.attr(label=plate_label(graph.plates[sub[-1]], canvas.sizes), labeljust="r", labelloc="b",
                         fontsize="11", **({"style": "solid", "color": "black"} if canvas.boxed else {}))
            _emit(cluster, graph, canvas, shown, paths, names, sub)


def _cluster_names(paths, clusters: str) -> dict[tuple[str, ...], str]:
    every: list[tuple[str, ...]] = []
    for path in paths:
        for depth in range(1, len(path) + 1):
            if path[:depth] not in every:
                every.append(path[:depth])
    count = {}
    for path in every:
        count[path[-1]] = count.get(path[-1], 0) + 1
    return {p: clusters + (p[-1] if count[p[-1]] == 1 else "_".join(p)) for p in every}


def _placement(graph: ModelGraph, name: str) -> tuple[str, ...]:
    """The plates a node is drawn in. A data array goes into the plates that every
    reader indexes it by (``sigma[j]`` inside ``plate j``), as PyMC draws it."""
    variable = graph.variable(name)
    if variable.kind is not Kind.DATA:
        return tuple(p for p in graph.plates_of(name) if p in graph.plates)
    common: list[str] | None = None
    for child in graph.children(name):
        for piece in graph.variable(child).pieces:
            plates = {f.index for f in piece.plates}
            for read in reads_of(piece.expressions(), {name}):
                lead = []
                for index in read.index or ():
                    if not (hasattr(index, "id") and index.id in plates):
                        break
                    lead.append(index.id)
                common = lead if common is None else [p for p, q in zip(common, lead) if p == q]
    rank = {p: i for i, p in enumerate(graph.plate_order)}
    return tuple(sorted(common or (), key=lambda p: rank.get(p, len(rank))))


def _size_only(graph: ModelGraph, name: str) -> bool:
    """Data used as a size that feeds nothing but other data (``J`` in ``upper=J - 1``):
    the plate labels already show it."""
    if graph.kind(name) is not Kind.DATA:
        return False
    if any(graph.kind(child) is not Kind.DATA for child in graph.children(name)):
        return False
    return any(name in sizes for sizes in graph.sizes_of.values())


def _reads_earlier_self(graph: ModelGraph, name: str) -> bool:
    variable = graph.variable(name)
    return variable.sequential and any(reads_of(p.expressions(), {name}) for p in variable.pieces if p.loops)
