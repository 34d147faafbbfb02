"""The pretty-printer round trip: ``parse(pretty(p)) == p`` for every program (sqlglot's identity.sql)."""
from __future__ import annotations

import pytest
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dslppl.syntax import ast, parse, pretty, pretty_expr
from dslppl.syntax.ast import Binary, Name, Number, Unary
from syntax_helpers import CORPUS, corpus_files, expressions, programs, random_program, same_tree

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def wrap(expr: ast.Node) -> ast.Program:
    return ast.Program(ast.ModelBlock(Name("m"), (ast.Assign(ast.Target(Name("x")), expr),)))


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_corpus_round_trip(name):
    program = parse(CORPUS[name])
    text = pretty(program)
    assert same_tree(parse(text), program)
    assert pretty(parse(text)) == text  # canonical: printing is idempotent


@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: p.name)
def test_repository_models_round_trip(path):
    program = parse(path.read_text())
    assert same_tree(parse(pretty(program)), program)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs)
def test_generated_programs_round_trip(program):
    assert same_tree(parse(pretty(program)), program)


@SETTINGS
@given(st.integers(min_value=0, max_value=2**32))
def test_random_programs_round_trip(seed):
    # Whole programs from a seeded generator: hypothesis strategies for them are slow to
    # draw, and the strategy test above keeps shrinking for small cases.
    program = random_program(random.Random(seed))
    assert same_tree(parse(pretty(program)), program)


@SETTINGS
@given(expressions)
def test_generated_expressions_round_trip(expr):
    text = pretty_expr(expr)
    assert same_tree(parse(pretty(wrap(expr))).model.body[0].value, expr), text


def test_canonical_form():
    text = "model m{a~N( 0,1 );plate j in J{b[j]:real<lower=0>[K]=(a+b)*-c^2}\n}\nguide{}"
    assert pretty(parse(text)) == (
        "model m {\n"
        "  a ~ N(0, 1)\n"
        "  plate j in J {\n"
        "    b[j]: real<lower=0>[K] = (a + b) * -c ^ 2\n"
        "  }\n"
        "}\n"
        "\n"
        "guide {}\n"
    )


@pytest.mark.parametrize("text", [
    "a - (b - c)", "(a - b) - c", "a ^ (b ^ c)", "(a ^ b) ^ c", "(-a) ^ b", "-a ^ b",
    "(a < b) < c", "a < (b < c)", "not (a and b)", "(not a) and b", "a == (not b)",
    "-(not a)", "- -a", "a - -b", "a * -b", "(a or b) and c", "(a + b)[0]", "(-2)[0]",
    "x[(a or b)..c]", "f(a or b, k=not c)", "[a < b, (a + b) * c]",
    "sum((a or b) for k in 0..(n + 1))",
])
def test_minimal_parentheses(text):
    expr = parse(f"model m {{ x = {text} }}").model.body[0].value
    printed = pretty_expr(expr)
    assert same_tree(parse(f"model m {{ x = {printed} }}").model.body[0].value, expr)
    canonical = text.replace("(a - b) - c", "a - b - c").replace("a ^ (b ^ c)", "a ^ b ^ c")
    canonical = canonical.replace("(not a) and b", "not a and b").replace("(a or b) for", "a or b for")
    canonical = canonical.replace("..(n + 1)", "..n + 1").replace("x[(a or b)..c]", "x[a or b..c]")
    assert printed == canonical


def test_bound_values_are_parenthesized_below_arithmetic():
    program = parse("model m { x: real<lower=(a > b), upper=-c + 1> }")
    text = pretty(program)
    assert "real<lower=(a > b), upper=-c + 1>" in text
    assert same_tree(parse(text), program)


@pytest.mark.parametrize("value,text", [
    (3, "3"), (0, "0"), (0.5, "0.5"), (1.0, "1.0"), (1e-10, "1e-10"), (2.5e4, "25000.0"),
    (1e16, "1e+16"), (float("inf"), "1e999"), (10**40, str(10**40)), (0.1 + 0.2, repr(0.1 + 0.2)),
])
def test_numbers_print_and_reread_exactly(value, text):
    assert pretty_expr(Number(value)) == text
    back = parse(f"model m {{ x = {text} }}").model.body[0].value
    assert back == Number(value) and type(back.value) is type(value)


def test_nan_has_no_literal():
    with pytest.raises(ValueError):
        pretty_expr(Number(float("nan")))


def test_pretty_expr_accepts_types_slices_and_domains():
    program = parse("model m { plate t in 1..T { x: real<lower=0>[N] = y[:, a..b] } }")
    plate = program.model.body[0]
    stmt = plate.body[0]
    assert pretty_expr(plate.domain) == "1..T"
    assert pretty_expr(stmt.type) == "real<lower=0>[N]"
    assert pretty_expr(stmt.value.indices[0]) == ":"
    assert pretty_expr(stmt.value.indices[1]) == "a..b"
    assert pretty_expr(stmt.target) == "x"


def test_deep_trees_print_without_recursion():
    n = 5000
    chain = Name("a0")
    for i in range(1, n):
        chain = Binary("+" if i % 2 else "*", chain, Name(f"a{i}"))
    text = pretty_expr(chain)
    assert text.count("(") == n // 2 - 1
    assert same_tree(parse(pretty(wrap(chain))).model.body[0].value, chain)
    right = Name("z")
    for _ in range(n):
        right = Binary("^", Name("a"), Unary("-", right))
    assert pretty_expr(right).startswith("a ^ -a ^ -a")
    nested_plates = ast.Assign(ast.Target(Name("x")), Number(1))
    for _ in range(1000):
        nested_plates = ast.Plate(Name("j"), ast.Domain(None, Name("J")), (nested_plates,))
    program = ast.Program(ast.ModelBlock(Name("m"), (nested_plates,)))
    assert same_tree(parse(pretty(program)), program)
