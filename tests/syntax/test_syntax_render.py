"""Rendering of diagnostics (LANGUAGE.md §10): header, source line, carets, hint, notes.

Edge cases as in sqlglot's tests/test_errors.py: tabs, end of file, column 1,
multi-line spans, spans past the end, no source at all.
"""
from __future__ import annotations

import pytest

from dslppl.diagnostics import Diagnostic, DslError, Note
from dslppl.source import Source, Span
from dslppl.syntax import parse


def render(text: str, span: Span | None, **kwargs) -> str:
    return Diagnostic("E0101", "boom", span, **kwargs).render(Source(text, "m.ppl"))


def test_basic_caret_under_the_whole_span():
    assert render("y ~ Normel(0, 1)", Span("m.ppl", 1, 5, 1, 11), hint="did you mean 'Normal'?") == (
        "m.ppl:1:5: error: boom [E0101]\n"
        "y ~ Normel(0, 1)\n"
        "    ^~~~~~\n"
        "hint: did you mean 'Normal'?")


def test_column_one():
    assert render("mu + 1\n", Span("m.ppl", 1, 1, 1, 3)).splitlines()[1:] == ["mu + 1", "^~"]


def test_tabs_before_the_span_are_expanded():
    lines = render("\tx = $", Span("m.ppl", 1, 6, 1, 7)).splitlines()
    assert lines[1] == "        x = $"
    assert lines[2] == " " * 12 + "^"


def test_end_of_file():
    source = Source("model m {\n  mu ~\n\n", "m.ppl")
    span = source.end_span()
    assert (span.line, span.column) == (2, 7)
    text = Diagnostic("E0103", "unexpected end of input", span).render(source)
    assert text.splitlines()[1:] == ["  mu ~", "      ^"]


def test_empty_file():
    source = Source("", "m.ppl")
    assert Diagnostic("E0209", "no model", source.end_span()).render(source) == "m.ppl:1:1: error: no model [E0209]"


def test_multi_line_span_underlines_to_the_end_of_its_first_line():
    lines = render("y ~ Normal(a,\n  b)\n", Span("m.ppl", 1, 5, 2, 5)).splitlines()
    assert lines[1:] == ["y ~ Normal(a,", "    ^~~~~~~~~"]


def test_span_at_end_of_line():
    lines = render("mu ~\n", Span("m.ppl", 1, 5, 1, 6)).splitlines()
    assert lines[1:] == ["mu ~", "    ^"]


def test_span_past_the_last_line_has_no_excerpt():
    assert render("a\n", Span("m.ppl", 9, 1, 9, 2)) == "m.ppl:9:1: error: boom [E0101]"


def test_no_source_or_no_span():
    assert Diagnostic("E0101", "boom", Span("m.ppl", 1, 1, 1, 2)).render() == "m.ppl:1:1: error: boom [E0101]"
    assert Diagnostic("E0101", "boom").render(Source("x", "m.ppl")) == "error: boom [E0101]"
    assert render("x", Span(None, 1, 1, 1, 2)).startswith("<string>:1:1: error: boom")


def test_notes_have_their_own_excerpt():
    text = render("a = 1\na = 2\n", Span("m.ppl", 2, 1, 2, 2),
                  notes=(Note("first defined here", Span("m.ppl", 1, 1, 1, 2)),))
    assert text.splitlines() == [
        "m.ppl:2:1: error: boom [E0101]", "a = 2", "^",
        "m.ppl:1:1: note: first defined here", "a = 1", "^"]


def test_windows_line_endings():
    assert render("a = 1\r\nb = $\r\n", Span("m.ppl", 2, 5, 2, 6)).splitlines()[1:] == ["b = $", "    ^"]


def test_parse_errors_render_with_the_source():
    with pytest.raises(DslError) as info:
        parse("model m {\n\ty ~ Normal(0 1)\n}\n", "m.ppl")
    assert info.value.render() == (
        "m.ppl:2:15: error: missing ',' before '1' [E0105]\n"
        "        y ~ Normal(0 1)\n"
        "                     ^\n"
        "hint: separate arguments, indices and items with ','")


def test_many_diagnostics_are_capped():
    err = DslError([Diagnostic("E0101", f"boom {i}") for i in range(25)])
    assert err.render().splitlines()[-1] == "... and 5 more"


def test_form_feed_does_not_shift_lines():
    with pytest.raises(DslError) as info:
        parse("model m {\n  # page\x0cbreak\n  y = $\n}\n", "m.ppl")
    assert info.value.render().splitlines()[1] == "  y = $"
