"""Whatever the text, the front end and the code generator raise `DslError` or succeed:
never another exception. Inputs are valid models mutated token by token."""
from __future__ import annotations

import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st

from dslppl.codegen import generate
from dslppl.diagnostics import DslError
from dslppl.driver import front_end
from dslppl.lower import lower

ROOT = Path(__file__).resolve().parents[2]
CORPUS = sorted((ROOT / "examples").glob("*.ppl")) + sorted((ROOT / "tests/posteriordb/models").glob("*.ppl"))
TEXTS = [p.read_text() for p in CORPUS]
TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\.|\*\*|[<>=!]=|\S|\n")
SPARE = ["[", "]", "(", ")", "{", "}", ",", "~", "=", ":", "..", "plate", "for", "in", "data", "x", "j",
         "0", "1", "Normal", "sum", "+", "*", "@", "real", "positive", "\n"]


@st.composite
def mutated(draw):
    tokens = TOKEN.findall(draw(st.sampled_from(TEXTS)))
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.integers(0, len(tokens) - 1))
        action = draw(st.sampled_from(["delete", "insert", "swap", "duplicate"]))
        if action == "delete":
            del tokens[where]
        elif action == "insert":
            tokens.insert(where, draw(st.sampled_from(SPARE)))
        elif action == "swap" and where + 1 < len(tokens):
            tokens[where], tokens[where + 1] = tokens[where + 1], tokens[where]
        else:
            tokens.insert(where, tokens[where])
    return " ".join(tokens)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_front_end_raises_only_dsl_errors_and_what_it_accepts_compiles(text):
    try:
        checked, graph = front_end(text, "mutant.ppl")
    except DslError:
        return
    generate(checked, lower(graph))  # no user error may surface after check
