"""The model graph: structure read from the source, no model run needed.

Stage: graph. Input: a `CheckedModel`. Output: a `ModelGraph`: its nodes and edges (also as a
``networkx.DiGraph``, one node per variable, edges parent -> child), with
queries (parents, Markov blanket, d-separation, topological order) and the
joint factorization as text or LaTeX.

>>> from dslppl.check import check
>>> from dslppl.syntax import parse
>>> graph = build_graph(check(parse("model m { mu ~ Normal(0, 1)\\n data y: real\\n y ~ Normal(mu, 1) }")))
>>> graph.factorization()
'p(mu, y) = p(mu) p(y | mu)'
"""
from .build import build_graph, domain_text
from .factorization import Term, factorization, terms
from .model_graph import ModelGraph, PlateInfo
from .reads import Read

__all__ = ["build_graph", "domain_text", "factorization", "ModelGraph", "PlateInfo", "Read", "Term", "terms"]
