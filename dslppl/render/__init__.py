"""Pictures of a model: Graphviz DOT from the graph alone, files through ``dot``.

Stage: render. Input: a `ModelGraph`. Output: a ``graphviz.Digraph`` (`render`)
and files on disk (`save`).

>>> from dslppl.check import check
>>> from dslppl.graph import build_graph
>>> from dslppl.syntax import parse
>>> dot = render(build_graph(check(parse("model m { mu ~ Normal(0, 1) }"))))
>>> 'mu [label="mu ~ Normal(0, 1)"' in dot.source
True
"""
from .graphviz import render
from .labels import node_label, plate_label
from .files import FORMATS, DotNotFoundError, save

__all__ = ["render", "save", "DotNotFoundError", "FORMATS", "node_label", "plate_label"]
