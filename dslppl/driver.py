"""The pipeline, stage by stage: text -> AST -> checked model -> graph -> code.

Each call below is one stage; ``dump`` (a callable taking a stage name and its
output) lets tools print what passes between them, like stanc3's debug flags.

>>> checked, graph = front_end("model m { mu ~ Normal(0, 1) }")
>>> graph.topological_order()
['mu']
"""
from __future__ import annotations

from typing import Callable

from .check import CheckedModel, check
from .gcpause import collector_paused
from .graph import ModelGraph, build_graph
from .source import Source
from .syntax import parse

Dump = Callable[[str, object], None]


def front_end(text: str, filename: str | None = None, dump: Dump | None = None
              ) -> tuple[CheckedModel, ModelGraph]:
    """Parse, check and build the graph of a model; `DslError` on the first failing stage."""
    source = Source(text, filename)
    with collector_paused():
        program = parse(text, filename)
        _dump(dump, "ast", program)
        checked = check(program, source)
        _dump(dump, "checked", checked)
        graph = build_graph(checked, source)
        _dump(dump, "graph", graph)
    return checked, graph


def _dump(dump: Dump | None, stage: str, value: object) -> None:
    if dump is not None:
        dump(stage, value)
