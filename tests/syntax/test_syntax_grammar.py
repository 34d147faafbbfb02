"""The grammar file itself: conflict-free LALR(1), and the hand-written lexer agrees with it."""
from __future__ import annotations

import functools
import importlib.util
import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lark import Lark, logger
from lark.exceptions import UnexpectedCharacters

from dslppl.diagnostics import DslError
from dslppl.errors import CODES
from dslppl.syntax import parse
from dslppl.syntax.lexer import LexState, raw_tokens, tokens
from dslppl.syntax.parser import get_parser
from dslppl.syntax.words import WORDS
from syntax_helpers import CORPUS, corpus_files


def reference_lexer(strict: bool = False) -> Lark:
    """Lark's own lexer for grammar/dslppl.lark (what `lexer.py` must reproduce)."""
    return Lark.open_from_package("dslppl.grammar", "dslppl.lark", ("",), parser="lalr",
                                  lexer="basic", strict=strict, debug=True)


def test_grammar_has_no_lalr_conflicts():
    messages: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record):
            messages.append(record.getMessage())

    handler, level = Collect(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        reference_lexer()
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    assert not [m for m in messages if "conflict" in m.lower()], messages


@pytest.mark.skipif(importlib.util.find_spec("interegular") is None, reason="strict mode needs interegular")
def test_grammar_is_strict():
    reference_lexer(strict=True)  # no conflicts and no colliding terminals


def test_every_terminal_has_user_words():
    names = {t.name for t in get_parser().terminals} - {"WS", "COMMENT"}
    assert names <= set(WORDS), names - set(WORDS)


@functools.cache
def reference_lexer_cached() -> Lark:
    return reference_lexer()


def _reference(text: str):
    return [t for t in reference_lexer_cached().lex(text) if not (t.type == "_NL" and t != ";")]


def _ours(text: str):
    return [t for t in raw_tokens(text) if not (t.type == "_NL" and t != ";")]


def _same_tokens(text: str) -> None:
    """Both lexers give the same tokens (newline runs aside), or fail at the same place."""
    try:
        expected = [(t.type, str(t), t.start_pos, t.line, t.column, t.end_line, t.end_column) for t in _reference(text)]
    except UnexpectedCharacters as exc:
        with pytest.raises(UnexpectedCharacters) as ours:
            _ours(text)
        assert (ours.value.pos_in_stream, ours.value.line, ours.value.column) == (exc.pos_in_stream, exc.line, exc.column)
        return
    actual = [(t.type, str(t), t.start_pos, t.line, t.column, t.end_line, t.end_column) for t in _ours(text)]
    assert actual == expected


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_lexer_matches_grammar_on_corpus(name):
    _same_tokens(CORPUS[name])


def test_lexer_matches_grammar_on_repository_models():
    for path in corpus_files():
        _same_tokens(path.read_text())


PIECES = ["model", "models", "in", "x1", "_", "1", "1.5", "1e-3", "2E+4", "1e", "1.", ".5", "..", "...",
          "<", "<=", "=", "==", "!=", ">=", ">", "*", "**", "***", "^", "#", "# c", "\n", "\r\n", "\t",
          " ", ";", "(", ")", "[", "]", "{", "}", "~", ":", ",", "@", "%", "/", "-", "+", "$", "α", "!"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(PIECES), max_size=30).map("".join))
def test_lexer_matches_grammar_on_random_text(text):
    _same_tokens(text)


def test_newline_rules():
    text = "\n\nmodel m\n{ # c\n\n  a = f(1,\n    2) ; ;\n  b = [\n]\n\n}\n\n"
    kinds = [t.type for t in tokens(text, LexState())]
    assert kinds == ["MODEL", "NAME", "LBRACE", "NAME", "EQUAL", "NAME", "LPAR", "NUMBER", "COMMA",
                     "NUMBER", "RPAR", "_NL", "NAME", "EQUAL", "LSQB", "RSQB", "_NL", "RBRACE"]


def test_lexer_remembers_open_brackets():
    state = LexState()
    list(tokens("model m { x = f(a, [b", state))
    assert [str(t) for t in state.brackets] == ["{", "(", "["]


# E01xx codes not from the parser: reading the file (E0109), the checker's first pass
# on nesting (E0110) and literal arithmetic (E0111); golden programs cover the last two.
AFTER_PARSING = {"E0109", "E0110", "E0111"}


@pytest.mark.parametrize("code", sorted(c for c in CODES if c.startswith("E01") and c not in AFTER_PARSING))
def test_catalogue_examples_give_their_code(code):
    example = CODES[code].example
    text = example if example.startswith(("model", "guide")) else f"model m {{\n{example}\n}}\n"
    with pytest.raises(DslError) as info:
        parse(text)
    assert info.value.codes == [code]
