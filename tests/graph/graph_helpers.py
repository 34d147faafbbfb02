"""Shared helpers for the graph tests: parse, check and build a model from text."""
from __future__ import annotations

from pathlib import Path

from dslppl.check import check
from dslppl.graph import ModelGraph, build_graph
from dslppl.source import Source
from dslppl.syntax import parse

ROOT = Path(__file__).resolve().parents[2]
MODEL_PATHS = sorted((ROOT / "examples").glob("*.ppl")) + sorted((ROOT / "tests/posteriordb/models").glob("*.ppl"))

EIGHT_SCHOOLS = """\
# Eight schools, non-centred.
model eight_schools {
  data J: int
  data y: real[J]
  data sigma: positive[J]

  mu ~ Normal(0, 5)
  tau ~ HalfCauchy(5)
  plate j in J {
    theta_raw[j] ~ Normal(0, 1)
    theta[j] = mu + tau * theta_raw[j]
    y[j] ~ Normal(theta[j], sigma[j])
  }
}
"""


def graph_of(text: str, filename: str = "test.ppl") -> ModelGraph:
    """The graph of a model written inline (a body without `model` gets wrapped)."""
    if "model" not in text.split("{", 1)[0]:
        text = "model m {\n" + text + "\n}\n"
    return build_graph(check(parse(text, filename)), Source(text, filename))


def model_id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"
