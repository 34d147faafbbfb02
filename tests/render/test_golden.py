"""Golden files for every example: its DOT picture and its factorization.

``tests/golden/good/<name>.dot`` holds ``render(graph).source`` (with
``guide=True`` when the example has a guide block) and
``<name>.factorization.txt`` the factorization as text, then as LaTeX (and the
guide's two lines when the model has a guide). Refresh them with
``pytest --update-golden`` and review the diff.
"""
from __future__ import annotations

import pytest
from render_helpers import EXAMPLES, GOLDEN, graph_of

from dslppl.render import render


def factorization_text(graph) -> str:
    lines = [graph.factorization(), graph.factorization(latex=True)]
    if graph.guide is not None:
        lines += [graph.guide.factorization(), graph.guide.factorization(latex=True)]
    return "\n".join(lines) + "\n"


def check_golden(path, actual: str, update: bool) -> None:
    if update:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"{path.name} is missing: run 'pytest --update-golden' and review it")
    assert actual == path.read_text(encoding="utf-8"), f"{path.name} changed: rerun with --update-golden if intended"


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_golden_dot(example, update_golden):
    graph = graph_of(example.read_text(), example.name)
    dot = render(graph, guide=graph.guide is not None).source
    check_golden(GOLDEN / f"{example.stem}.dot", dot, update_golden)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_golden_factorization(example, update_golden):
    graph = graph_of(example.read_text(), example.name)
    check_golden(GOLDEN / f"{example.stem}.factorization.txt", factorization_text(graph), update_golden)
