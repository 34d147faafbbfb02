"""Syntax errors: the right code at the right place in user words, and nothing but DslError escapes."""
from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dslppl.diagnostics import DslError
from dslppl.errors import CODES
from dslppl.syntax import parse
from dslppl.syntax.lexer import raw_tokens
from dslppl.syntax.parser import get_parser
from syntax_helpers import CORPUS

M = "model m {{\n{}\n}}\n"

# (text, code, (line, column) of the diagnostic, words the message must contain)
CASES = [
    (M.format("  y ~ Normal(0 1)"), "E0105", (2, 16), "missing ','"),
    (M.format("  y = [1 2]"), "E0105", (2, 10), "missing ','"),
    (M.format("  y = x[i j]"), "E0105", (2, 11), "missing ','"),
    (M.format("  x: real[N K]"), "E0105", (2, 13), "missing ','"),
    (M.format("  y ~ Normal(0, 1))"), "E0101", (2, 19), "unexpected ')'; expected end of line or '}'"),
    (M.format("  y ~ Normal(0, $1)"), "E0102", (2, 17), "unexpected character '$'"),
    (M.format("  y = a && b"), "E0102", (2, 9), "'&'"),
    ("model m {\n  mu ~ Normal(0, 1)\n", "E0104", (1, 9), "'{' is never closed"),
    (M.format("  mu ~ Normal(0, 1"), "E0104", (2, 14), "'(' is never closed"),
    (M.format("  mu ~ Normal(0, 1\n  s ~ HalfNormal(1)"), "E0104", (2, 14), "'(' is never closed"),
    (M.format("  y = x[0\n  z = 1"), "E0104", (2, 8), "'[' is never closed"),
    ("model m {\n  plate j in J {\n    a[j] ~ N(0)\n}\nguide {\n}\n", "E0104", (1, 9), "'{' is never closed"),
    ("model m {\n  plate j in J {\n    a[j] ~ N(0)\n\nguide {\n}\n", "E0104", (2, 16), "'{' is never closed"),
    ("model m {\n  mu ~", "E0103", (2, 7), "unexpected end of input; expected a distribution"),
    ("model m", "E0103", (1, 8), "unexpected end of input; expected '{'"),
    ("model", "E0103", (1, 6), "expected a name"),
    (M.format("  data in: real"), "E0106", (2, 8), "'in' is a keyword"),
    ("model for { }", "E0106", (1, 7), "'for' is a keyword"),
    (M.format("  y = data * 2"), "E0106", (2, 7), "'data' is a keyword"),
    (M.format("  plate model in J { }"), "E0106", (2, 9), "'model' is a keyword"),
    ("guide { }\nmodel m { }\n", "E0107", (1, 1), "after the model block"),
    ("model m { }\nmodel n { }\n", "E0107", (2, 1), "only one model block"),
    ("model m { }\nguide { }\nguide { }\n", "E0107", (3, 1), "at most one guide block"),
    (M.format("  mu + 1"), "E0108", (2, 3), "not a statement"),
    (M.format("  mu"), "E0108", (2, 3), "not a statement"),
    (M.format("  a = 1\n  b ~ N(0); mu + 1"), "E0108", (3, 13), "not a statement"),
    (M.format("  1 + mu"), "E0108", (2, 3), "not a statement"),
    (M.format("  f(x)"), "E0108", (2, 3), "not a statement"),
    (M.format("  mu == 1"), "E0108", (2, 3), "not a statement"),
    (M.format("  mu ~ 5"), "E0101", (2, 8), "expected a distribution"),
    (M.format("  mu ~\n  x = 1"), "E0101", (2, 7), "unexpected end of line; expected a distribution"),
    (M.format("  mu ~ Normal"), "E0101", (2, 14), "expected '('"),
    (M.format("  y = a < b < c"), "E0101", (2, 13), "comparisons do not chain"),
    (M.format("  y = x[1:3]"), "E0101", (2, 10), "unexpected ':'"),
    (M.format("  y = a + not b"), "E0101", (2, 11), "'not' cannot follow '+'"),
    (M.format("  y = a == not b"), "E0101", (2, 12), "'not' cannot follow '=='"),
    (M.format("  y = f(a=1, b)"), "E0101", (2, 14), "positional argument cannot follow a keyword"),
    (M.format("  y = f(a=1, 2)"), "E0101", (2, 14), "positional argument cannot follow a keyword"),
    (M.format("  y = 1 x = 2"), "E0101", (2, 9), "unexpected name 'x'"),
    (M.format("  y = beta * (age = 2)"), "E0101", (2, 19), "unexpected '='"),
    (M.format("  x ~ Normal(0, 1) + 2"), "E0101", (2, 20), "unexpected '+'"),
    (M.format("  y = f(a; b)"), "E0101", (2, 10), "unexpected ';'"),
    (M.format("  y = 1" + "0" * 5000), "E0101", (2, 7), "digits"),
    ("", "E0209", (1, 1), "no model block"),
    ("guide { }", "E0209", (1, 1), "no model block"),
    ("mu ~ Normal(0, 1)", "E0101", (1, 1), "expected 'guide', 'model' or end of input"),
]


@pytest.mark.parametrize("text,code,where,words", CASES, ids=[c[3] + f"-{i}" for i, c in enumerate(CASES)])
def test_syntax_error(text, code, where, words):
    with pytest.raises(DslError) as info:
        parse(text, "t.ppl")
    err = info.value
    diagnostic = err.diagnostics[0]
    assert diagnostic.code == code, diagnostic.message
    assert (diagnostic.span.line, diagnostic.span.column) == where, diagnostic.message
    assert words in diagnostic.message
    assert diagnostic.span.file == "t.ppl"
    assert err.source is not None and err.source.text == text
    assert err.render().startswith(f"t.ppl:{where[0]}:{where[1]}: error: ")


HINTS = [
    (M.format("  mu == 1"), "use '=' to define"),
    (M.format("  y = beta * (age = 2)"), "use '==' to compare"),
    (M.format("  if x > 0 {\n  }"), "where(condition, a, b)"),
    (M.format("  y = x[1:3]"), "'lo..hi'"),
    (M.format("  y = \"a\""), "no strings"),
    (M.format("  y = 1."), "digits on both sides"),
    (M.format("  y = α"), "ASCII"),
    (M.format("  y = 1 x = 2"), "own line"),
    (M.format("  x: real<lower=a > b> ~ N(0)"), "parentheses"),
    (M.format("  mu ~ Normal"), "'Normal(...)'"),
    (M.format("  real<lower=0> sigma"), "'NAME: TYPE'"),
    (M.format("  vector[N] y"), "'NAME: TYPE'"),
    (M.format("  target += normal_lpdf(y | mu, 1)"), "factor"),
    (M.format("  for t in 1:T { }"), "'lo..hi'"),
    (M.format("  y ~ Normal(0, 1))"), "no '(' is open"),
]


@pytest.mark.parametrize("text,hint", HINTS, ids=[h for _, h in HINTS])
def test_hints(text, hint):
    with pytest.raises(DslError) as info:
        parse(text)
    assert hint in (info.value.diagnostics[0].hint or "")


def test_every_syntax_code_is_catalogued():
    for code in ("E0101", "E0102", "E0103", "E0104", "E0105", "E0106", "E0107", "E0108", "E0209"):
        assert code in CODES
        assert any(case[1] == code for case in CASES)


# --- nothing but DslError, for any text ------------------------------------------------------

TERMINALS = {t.name for t in get_parser().terminals} | {"$END", "__ANON"}
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SEEDS = [CORPUS[name] for name in sorted(CORPUS)]
VOCABULARY = ["model", "guide", "data", "param", "plate", "for", "in", "factor", "true", "false",
              "and", "or", "not", "x", "Normal", "1", "2.5", "1e-3", "(", ")", "[", "]", "{", "}",
              "<", ">", "=", "==", "~", ":", ",", ";", "..", "+", "-", "*", "/", "^", "**", "@",
              "\n", " ", "#", "$", "'", "α", "\t", "1.", "\r"]


def check(text: str) -> None:
    """Parse, and if it fails, check the diagnostic is well formed and in user words."""
    try:
        parse(text, "fuzz.ppl")
    except DslError as err:
        assert err.diagnostics and err.source is not None
        for diagnostic in err.diagnostics:
            assert diagnostic.code in CODES
            span = diagnostic.span
            assert span is not None and span.file == "fuzz.ppl"
            assert 1 <= span.line <= text.count("\n") + 1 and span.column >= 1
            words = re.sub(r"'[^']*'", "", diagnostic.message)  # what the user wrote is quoted
            found = set(re.findall(r"[$\w]+", words))
            assert not found & TERMINALS and not any(w.startswith("__ANON") for w in found), diagnostic.message
        err.render()


@FUZZ
@given(st.lists(st.sampled_from(VOCABULARY), max_size=40).map("".join))
def test_random_token_soup(text):
    check(text)


@FUZZ
@given(st.text(max_size=60))
def test_random_characters(text):
    check(text)


def _tokens_of(text: str) -> list[str]:
    """The text cut into tokens and the spaces between them (joining gives the text back)."""
    cuts = sorted({0, len(text)} | {t.start_pos for t in raw_tokens(text)} | {t.end_pos for t in raw_tokens(text)})
    return [text[a:b] for a, b in zip(cuts, cuts[1:])]


@FUZZ
@given(st.sampled_from(SEEDS), st.lists(st.tuples(st.sampled_from(["delete", "insert", "swap", "dup"]),
                                                  st.integers(0, 10**6), st.sampled_from(VOCABULARY)),
                                        min_size=1, max_size=3))
def test_mutated_programs_tokens(seed, edits):
    pieces = _tokens_of(seed)
    for kind, where, word in edits:
        i = where % len(pieces)
        if kind == "delete":
            del pieces[i]
        elif kind == "insert":
            pieces.insert(i, word)
        elif kind == "swap" and i + 1 < len(pieces):
            pieces[i], pieces[i + 1] = pieces[i + 1], pieces[i]
        else:
            pieces.insert(i, pieces[i])
        if not pieces:
            pieces = [""]
    check("".join(pieces))


@FUZZ
@given(st.sampled_from(SEEDS), st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 3), st.characters()),
                                        min_size=1, max_size=4))
def test_mutated_programs_characters(seed, edits):
    text = seed
    for where, kind, char in edits:
        i = where % (len(text) + 1)
        if kind == 0:
            text = text[:i] + text[i + 1:]
        elif kind == 1:
            text = text[:i] + char + text[i:]
        elif kind == 2:
            text = text[:i] + char + text[i + 1:]
        else:
            text = text[:i] + text[i + 1:i + 2] + text[i:i + 1] + text[i + 2:]
    check(text)


@pytest.mark.parametrize("text", [
    "model m { x = " + "(" * 3000 + "a" + " }",
    "model m { x = " + "[" * 3000 + "}",
    "model m {" * 2000,
    "model m { x = " + "-" * 5000 + " }",
    "model m { x = a" + " <" * 2000 + " }",
    "\x00", "\ufeffmodel m {}", "model m {}\x0b", "model m { x = 1 }" + "\n" * 10000 + ")",
])
def test_pathological_inputs(text):
    check(text)
