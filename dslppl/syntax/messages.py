"""Syntax errors in user words: lark's exceptions to `Diagnostic`s (E0101–E0106, E0108).

Stage: syntax. Input: the `UnexpectedInput` that lark raised, the lexer's
`LexState` (open brackets, the tokens just before the error), the `Source` and
a parser replayed up to the bad token. Output: one `Diagnostic`.

Terminal names never reach the user: ``RPAR`` is shown as ``')'``, ``_NL`` as
"end of line", ``$END`` as "end of input". What was expected comes from
`Probe`, which asks a copy of the LALR parser which tokens it would really
accept (the raw ``expected`` set of an LALR state mixes in tokens from every
context that shares the state). The checks in `_unexpected_token` run from the
most specific (an unclosed bracket, a missing ',') to the generic
"unexpected X; expected Y", a small version of stanc3's ``parser.messages``.
"""
from __future__ import annotations

import re
from copy import copy
from typing import TYPE_CHECKING, Iterable

from lark import Token
from lark.exceptions import UnexpectedCharacters, UnexpectedToken

from ..diagnostics import Diagnostic
from ..source import Source, Span
from .words import (AFTER_TARGET, EXPR_START, KEYWORDS, OPERATOR_KEYWORDS, PUNCTUATION,
                    STATEMENT_KEYWORDS, describe_expected, describe_found)

if TYPE_CHECKING:
    from .lexer import LexState

_CHAR_HINTS = {
    '"': "the language has no strings",
    "'": "the language has no strings",
    "!": "use 'not' for negation ('!=' compares)",
    "&": "use 'and'",
    "|": "use 'or'",
    ".": "write decimals with digits on both sides of '.' (0.5, 1.0); a range is 'lo..hi'",
}
_CLOSER = {"LPAR": "RPAR", "LSQB": "RSQB", "LBRACE": "RBRACE"}
_OPENER_OF = {close: open_ for open_, close in _CLOSER.items()}
# Stan type names: `real<lower=0> sigma` is a Stan declaration.
_TYPE_WORDS = {"real", "int", "bool", "positive", "probability", "simplex", "ordered", "cov",
               "corr_cholesky", "vector", "row_vector", "matrix", "array", "cov_matrix", "cholesky_factor_corr"}
# The rest of a line that starts a definition: `x ~`, `x =`, `x:`, `x[i] ~` ...
_DEFINITION_REST = re.compile(r"\s*(\[[^\]]*\])?\s*(~|=(?!=)|:)")


class Probe:
    """Asks a copy of the stopped LALR parser what it would accept (callbacks off)."""

    def __init__(self, interactive_parser, fallback: Iterable[str]):
        self.ip = interactive_parser
        self.accepts = set(interactive_parser.accepts()) if interactive_parser else set(fallback)

    def would_accept(self, types: list[str]) -> bool:
        """Whether the parser would take these token types next, one after another."""
        if self.ip is None:
            return False
        conf = copy(self.ip.parser_state.parse_conf)
        conf.callbacks = {}
        cursor = self.ip.copy(deepcopy_values=False)
        cursor.parser_state.parse_conf = conf
        try:
            for kind in types:
                cursor.feed_token(Token(kind, ""))
        except UnexpectedToken:
            return False
        return True


def diagnose(exc: Exception, state: "LexState", source: Source, before=None) -> Diagnostic:
    """The diagnostic for one lark parse failure.

    ``before`` is an interactive parser that has read every token before the bad one
    (see `parser._parser_before`); without it, lark's state at the failure is used.
    """
    if isinstance(exc, UnexpectedCharacters):
        return _bad_character(exc, source)
    if isinstance(exc, UnexpectedToken):
        probe = Probe(before or getattr(exc, "interactive_parser", None), exc.expected)
        return _unexpected_token(exc.token, probe, state, source)
    # UnexpectedEOF (not raised by LALR, but part of lark's API): treat as end of input.
    return Diagnostic("E0103", "unexpected end of input", end_span(source))


def _bad_character(exc: UnexpectedCharacters, source: Source) -> Diagnostic:
    char = exc.char
    hint = _CHAR_HINTS.get(char)
    if hint is None and not char.isascii() and char.isalpha():
        hint = "names use only ASCII letters, digits and '_'"
    return Diagnostic("E0102", f"unexpected character {char!r}", source.span_at(exc.pos_in_stream), hint=hint)


def line_text(source: Source, line: int) -> str:
    """Line ``line`` of the source, counting only '\\n' as the lexer does.

    (`Source.line_text` uses `str.splitlines`, which also splits at form feeds and
    other Unicode line boundaries that the language treats as spaces.)

    >>> line_text(Source("a\\x0cb\\r\\nc"), 2)
    'c'
    """
    lines = source.text.split("\n")
    return lines[line - 1].rstrip("\r") if 0 < line <= len(lines) else ""


def end_span(source: Source) -> Span:
    """Just after the last character that is not blank (line numbers as the lexer counts).

    >>> end_span(Source("model m {\\n  mu ~\\n\\n", "m.ppl"))
    Span(file='m.ppl', line=2, column=7, end_line=2, end_column=8)
    """
    lines = source.text.rstrip().split("\n")
    line, column = len(lines), len(lines[-1]) + 1
    return Span(source.name, line, column, line, column + 1)


def _token_span(tok: Token, source: Source) -> Span:
    if tok.type == "$END":
        if tok.end_line is None:  # an empty token stream
            return Span(source.name, 1, 1, 1, 2)
        return Span(source.name, tok.end_line, tok.end_column, tok.end_line, tok.end_column + 1)
    if tok.type == "_NL":  # a newline token may run over blank lines: point at its start
        return Span(source.name, tok.line, tok.column, tok.line, tok.column + 1)
    return Span(source.name, tok.line, tok.column, tok.end_line, tok.end_column)


def _before(tok: Token, state: "LexState") -> Token | None:
    """The token that came just before ``tok``."""
    return state.previous if tok is state.current else state.current


def _unexpected_token(tok: Token, probe: Probe, state: "LexState", source: Source) -> Diagnostic:
    for check in (_unclosed, _not_a_statement, _keyword_as_name, _missing_comma, _positional_after_keyword):
        found = check(tok, probe, state, source)
        if found is not None:
            return found
    return _generic(tok, probe, state, source)


def _unclosed(tok, probe, state, source) -> Diagnostic | None:
    """A bracket left open when the file, the statement or the block ends (E0104)."""
    if not state.brackets:
        return None
    opener = state.brackets[-1]
    closer = _CLOSER[opener.type]
    if tok.type == "$END":
        why = "the file ends first"
    elif opener.type == "LBRACE":
        if tok.type not in ("MODEL", "GUIDE"):
            return None
        why = f"'{tok}' on line {tok.line} starts a new block first"
    elif tok.type in ("RBRACE", "LBRACE", "MODEL", "GUIDE") or (state.newline_before and _starts_definition(tok, source)):
        why = f"{describe_found(tok)} on line {tok.line} comes first"
    else:
        return None
    if not probe.would_accept([closer]):
        return None
    return Diagnostic("E0104", f"'{opener}' is never closed", _token_span(opener, source),
                      hint=f"add '{PUNCTUATION[closer]}' to close it; {why}")


def _starts_definition(tok: Token, source: Source) -> bool:
    if tok.type in STATEMENT_KEYWORDS:
        return True
    rest = line_text(source, tok.line)[tok.end_column - 1:]
    return tok.type == "NAME" and _DEFINITION_REST.match(rest) is not None


def _not_a_statement(tok, probe, state, source) -> Diagnostic | None:
    """An expression where a statement should start, or a name with nothing after it (E0108)."""
    expected = probe.accepts
    after_target = AFTER_TARGET <= expected <= AFTER_TARGET | {"LSQB"}
    at_start = {"DATA", "PLATE"} <= expected and tok.type in EXPR_START - {"NAME"} - KEYWORDS
    if not (after_target or at_start):
        return None
    first = state.statement_start or tok
    end = max(len(line_text(source, first.line).rstrip()) + 1, first.column + 1)
    span = Span(source.name, first.line, first.column, first.line, end)
    if after_target and tok.type == "EQEQ":
        hint = "use '=' to define a name; '==' compares two values"
    elif after_target and first == "if":
        hint = "there is no 'if' statement; use where(condition, a, b) for a conditional value"
    elif after_target and first == "target":
        hint = "add to the log density with 'factor NAME = EXPR' (Stan's 'target +=')"
    elif after_target and first in _TYPE_WORDS and tok.type in ("NAME", "LT"):
        hint = f"declarations are written 'NAME: TYPE', e.g. 'sigma: {first}'"
    else:
        hint = "a statement defines something: 'x ~ Dist(...)', 'x = expr', 'x: type' or 'factor f = expr'"
    message = ("expected '~', '=' or ':' after the name; an expression on its own is not a statement"
               if after_target else "an expression on its own is not a statement")
    return Diagnostic("E0108", message, span, hint=hint)


def _keyword_as_name(tok, probe, state, source) -> Diagnostic | None:
    """A reserved word where a name is expected (E0106)."""
    if tok.type not in KEYWORDS or "NAME" not in probe.accepts:
        return None
    if "NUMBER" in probe.accepts and tok.type in OPERATOR_KEYWORDS:
        return None  # `x = and`: an operator keyword inside an expression, not a name
    return Diagnostic("E0106", f"'{tok}' is a keyword and cannot be used as a name",
                      _token_span(tok, source), hint=f"choose another name, such as '{tok}_'")


def _missing_comma(tok, probe, state, source) -> Diagnostic | None:
    """Two arguments, indices or items side by side (E0105)."""
    if tok.type not in EXPR_START - {"MINUS"} or "COMMA" not in probe.accepts:
        return None
    if tok.type == "NAME" and state.newline_before and _starts_definition(tok, source):
        return None
    if not probe.would_accept(["COMMA", tok.type]):
        return None
    return Diagnostic("E0105", f"missing ',' before '{tok}'", _token_span(tok, source),
                      hint="separate arguments, indices and items with ','")


def _positional_after_keyword(tok, probe, state, source) -> Diagnostic | None:
    """``f(a=1, b)``: after keyword arguments only keyword arguments may follow."""
    name = _before(tok, state)
    accepts = probe.accepts
    if "EQUAL" in accepts and not accepts & {"COMMA", "RPAR"} and name is not None and name.type == "NAME":
        where = name  # `f(a=1, b)`
        if not probe.would_accept(["EQUAL", "NAME", "RPAR"]):
            return None  # not inside a call (e.g. a type bound without '=')
    elif "NAME" in accepts and accepts <= {"NAME", "RPAR"} and tok.type in EXPR_START - {"NAME"}:
        where = tok  # `f(a=1, 2)`
        if not probe.would_accept(["NAME", "EQUAL", "NAME", "RPAR"]):
            return None
    else:
        return None
    return Diagnostic("E0101", "a positional argument cannot follow a keyword argument",
                      _token_span(where, source),
                      hint="put positional arguments first, or name this one ('name=value')")


def _generic(tok, probe, state, source) -> Diagnostic:
    before = _before(tok, state)
    after_tilde = before is not None and before.type == "TILDE"
    code = "E0103" if tok.type == "$END" else "E0101"
    message = f"unexpected {describe_found(tok)}; expected {describe_expected(probe.accepts, after_tilde)}"
    return Diagnostic(code, message, _token_span(tok, source), hint=_hint(tok, probe.accepts, before, state))


def _hint(tok: Token, expected: set[str], before: Token | None, state: "LexState") -> str | None:
    kind = tok.type
    if kind in _OPENER_OF and kind not in expected:
        opener = _OPENER_OF[kind]
        if not any(b.type == opener for b in state.brackets):
            return f"no '{PUNCTUATION[opener]}' is open here for it to close"
    if kind == "EQUAL" and "EQEQ" in expected:
        return "use '==' to compare; '=' defines a name"
    if kind == "COLON" and "DOTDOT" in expected:
        return "a range is written 'lo..hi'; ':' alone takes the whole dimension"
    if before is not None and before.type == "GT" and "TILDE" in expected:
        return "bounds end at the first '>': put a comparison inside them in parentheses"
    if expected == {"LPAR"} and before is not None and before.type == "NAME":
        return f"a distribution takes arguments: '{before}(...)'"
    if kind == "FOR" and "_NL" in expected:
        return "to repeat a statement over an index, put it in 'plate i in N { ... }'"
    if "_NL" in expected and (kind in ("NAME", "NUMBER") or kind in KEYWORDS):
        return "put each statement on its own line, or separate statements with ';'"
    return None
