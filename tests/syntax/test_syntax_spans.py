"""Every node carries the span of its text: line, column and end (exclusive), and the file name."""
from __future__ import annotations

import pytest

from dslppl.source import Span
from dslppl.syntax import ast, parse
from syntax_helpers import CORPUS

TEXT = """\
model eight_schools {
  data J: int
  plate j in J {
    theta[j] = mu + tau * theta_raw[j]
    y[j] ~ Normal(theta[j],
                  sigma[j])
  }
  beta1: real<lower=0, upper=1 - alpha1> ~ Uniform(0, 1)
}
guide {
  param p: positive = 0.5
}
"""


@pytest.fixture(scope="module")
def program():
    return parse(TEXT, "m.ppl")


def text_of(span: Span) -> str:
    """The source text a (single-line or multi-line) span covers."""
    lines = TEXT.splitlines()
    if span.line == span.end_line:
        return lines[span.line - 1][span.column - 1:span.end_column - 1]
    parts = [lines[span.line - 1][span.column - 1:]]
    parts += lines[span.line:span.end_line - 1]
    parts.append(lines[span.end_line - 1][:span.end_column - 1])
    return "\n".join(parts)


def test_every_node_has_a_span_in_the_file(program):
    for node in ast.walk(program):
        assert node.span is not None, type(node).__name__
        assert node.span.file == "m.ppl"
        assert (node.span.line, node.span.column) <= (node.span.end_line, node.span.end_column)


def test_blocks_and_statements(program):
    model = program.model
    assert model.span == Span("m.ppl", 1, 1, 9, 2)
    assert model.name.span == Span("m.ppl", 1, 7, 1, 20)
    data, plate, beta = model.body
    assert text_of(data.span) == "data J: int"
    assert text_of(plate.span).startswith("plate j in J {") and text_of(plate.span).endswith("}")
    assert plate.span.line == 3 and plate.span.end_line == 7
    assert text_of(beta.span) == "beta1: real<lower=0, upper=1 - alpha1> ~ Uniform(0, 1)"
    assert text_of(program.guide.span) == "guide {\n  param p: positive = 0.5\n}"
    assert program.span == Span("m.ppl", 1, 1, 12, 2)


def test_names_and_expressions(program):
    assign, sample = program.model.body[1].body
    assert text_of(assign.span) == "theta[j] = mu + tau * theta_raw[j]"
    assert text_of(assign.target.span) == "theta[j]"
    assert assign.target.name.span == Span("m.ppl", 4, 5, 4, 10)
    value = assign.value
    assert text_of(value.span) == "mu + tau * theta_raw[j]"
    assert text_of(value.right.span) == "tau * theta_raw[j]"
    assert text_of(value.right.right.span) == "theta_raw[j]"
    assert value.right.right.indices[0].span == Span("m.ppl", 4, 37, 4, 38)


def test_multi_line_call(program):
    sample = program.model.body[1].body[1]
    assert text_of(sample.dist.span) == "Normal(theta[j],\n                  sigma[j])"
    assert sample.dist.span.line == 5 and sample.dist.span.end_line == 6
    assert text_of(sample.dist.args[1].span) == "sigma[j]"


def test_types_and_bounds(program):
    beta = program.model.body[2]
    assert text_of(beta.type.span) == "real<lower=0, upper=1 - alpha1>"
    lower, upper = beta.type.bounds
    assert text_of(lower.span) == "lower=0"
    assert text_of(upper.value.span) == "1 - alpha1"
    assert text_of(program.model.body[0].type.span) == "int"


@pytest.mark.parametrize("source,expected", [
    ("(a + b) * c", "(a + b) * c"),
    ("(a)", "(a)"),
    ("-x ^ 2", "-x ^ 2"),
    ("not a", "not a"),
    ("sum(x[k] for k in 0..K)", "sum(x[k] for k in 0..K)"),
    ("[1, 2]", "[1, 2]"),
    ("X[n, :]", "X[n, :]"),
])
def test_expression_spans_cover_their_text(source, expected):
    line = f"  x = {source}"
    value = parse(f"model m {{\n{line}\n}}").model.body[0].value
    span = value.span
    assert line[span.column - 1:span.end_column - 1] == expected


def test_domain_and_slice_spans():
    line = "  plate t in K..T { y = x[a..b] }"
    plate = parse(f"model m {{\n{line}\n}}").model.body[0]
    assert line[plate.domain.span.column - 1:plate.domain.span.end_column - 1] == "K..T"
    index = plate.body[0].value.indices[0]
    assert line[index.span.column - 1:index.span.end_column - 1] == "a..b"


def test_file_name_defaults_to_none():
    program = parse(CORPUS["one_line"])
    assert program.model.span.file is None


def test_threads_keep_their_own_file_names():
    from concurrent.futures import ThreadPoolExecutor

    def run(i: int) -> set:
        program = parse(CORPUS["bounds_and_loops"], f"f{i}.ppl")
        return {node.span.file for node in ast.walk(program)}

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(run, range(16)))
    assert results == [{f"f{i}.ppl"} for i in range(16)]
