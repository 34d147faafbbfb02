"""Shared helpers for the render tests: models from text, and the example files."""
from __future__ import annotations

from pathlib import Path

from dslppl.check import check
from dslppl.graph import ModelGraph, build_graph
from dslppl.source import Source
from dslppl.syntax import parse

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.ppl"))
MODEL_PATHS = EXAMPLES + sorted((ROOT / "tests/posteriordb/models").glob("*.ppl"))
GOLDEN = ROOT / "tests/golden/good"


def graph_of(text: str, filename: str = "test.ppl") -> ModelGraph:
    """The graph of a model written inline (a body without `model` gets wrapped)."""
    if "model" not in text.split("{", 1)[0]:
        text = "model m {\n" + text + "\n}\n"
    return build_graph(check(parse(text, filename)), Source(text, filename))


def model_id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"
