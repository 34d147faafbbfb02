"""Text to tokens for the LALR parser, with the statement-ending rules of LANGUAGE.md §2.

Stage: syntax. Input: the text of a model file. Output: lark `Token`s of the
terminals in ``grammar/dslppl.lark`` (same names, values and positions as lark's
own lexer would give: ``tests/syntax`` checks this), and a `LexState` that error
messages read.

The rules that a context-free grammar cannot say are applied here, as lark's
``indenter.py`` post-lexer does for Python:

- a newline inside ``( )`` or ``[ ]`` is dropped, so expressions may span lines;
- outside them, a run of newlines, ``;``, blank and comment lines becomes one
  ``_NL`` token (its value is ``"\\n"`` or ``";"``), dropped at the start of the
  file, after ``{``, before a ``{`` (newlines only) and at the end.

It is a hand-written scanner rather than lark's generic one because lexing is
a third of the parse time of a large model.
"""
from __future__ import annotations

import re
import sys
import threading
from dataclasses import dataclass, field

from lark import Token
from lark.exceptions import UnexpectedCharacters
from lark.lexer import Lexer

KEYWORDS = {k: k.upper() for k in
            ("model", "guide", "data", "param", "plate", "for", "in", "factor", "true", "false", "and", "or", "not")}
OPERATORS = {
    "**": "POW", "<=": "LE", ">=": "GE", "==": "EQEQ", "!=": "NE", "..": "DOTDOT",
    "+": "PLUS", "-": "MINUS", "*": "STAR", "/": "SLASH", "%": "PERCENT", "@": "AT", "^": "CARET",
    "<": "LT", ">": "GT", "=": "EQUAL", "~": "TILDE", ":": "COLON", ",": "COMMA", ";": "_NL",
    "(": "LPAR", ")": "RPAR", "[": "LSQB", "]": "RSQB", "{": "LBRACE", "}": "RBRACE",
}
# Spaces and a comment, then one token. The groups match the grammar's terminals.
# Possessive quantifiers: a comment is never given back to be read as tokens.
_SKIP = r"[ \t\f\r]*+(?:\#[^\n]*+)?+"
_PATTERN = re.compile(_SKIP + r"""(?:
    (?P<newline>\n)
  | (?P<NAME>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<NUMBER>[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)
  | (?P<op>\*\*|<=|>=|==|!=|\.\.|[-+*/%@^<>=~:,;()\[\]{}])
)""", re.VERBOSE)
_SKIP_ONLY = re.compile(_SKIP)
OPENERS = {"LPAR": "RPAR", "LSQB": "RSQB", "LBRACE": "RBRACE"}
CLOSERS = {close: open_ for open_, close in OPENERS.items()}


@dataclass
class LexState:
    """What the lexer saw of one parse, kept for error messages."""

    brackets: list[Token] = field(default_factory=list)  # open brackets, innermost last
    previous: Token | None = None  # the token before `current`
    current: Token | None = None  # the last token handed to the parser
    newline_before: bool = False  # a newline inside brackets was dropped just before `current`
    statement_start: Token | None = None  # first token of the current statement


class _PerThread(threading.local):
    state: LexState | None = None  # the state of the parse running in this thread


_local = _PerThread()


def start_state() -> LexState:
    """A fresh `LexState` for the next parse in this thread."""
    _local.state = LexState()
    return _local.state


class LiteralError(Exception):
    """A number literal that Python cannot hold; `parse` reports it."""

    def __init__(self, token: Token, message: str):
        super().__init__(message)
        self.token, self.message = token, message


def raw_tokens(text: str):
    """Every token but spaces and comments, one ``_NL`` per newline (no rules applied).

    >>> [(t.type, str(t)) for t in raw_tokens("x ~ N(0)  # c")]
    [('NAME', 'x'), ('TILDE', '~'), ('NAME', 'N'), ('LPAR', '('), ('NUMBER', '0'), ('RPAR', ')')]
    """
    return _scan(text, None)


def tokens(text: str, state: LexState):
    r"""The parser's tokens: `raw_tokens` with the newline rules of §2 applied.

    >>> [str(t) for t in tokens("{\n\n  a\n  (b\n c) ; # end\n}\n", LexState())]
    ['{', 'a', '\n', '(', 'b', 'c', ')', ';', '}']
    """
    return _scan(text, state)


def _scan(text: str, state: LexState | None):
    """One loop for both: scanning and the newline rules are fused for speed."""
    match, new = _PATTERN.match, _token
    pos, line, line_start, end = 0, 1, 0, len(text)
    brackets = state.brackets if state is not None else []
    pending = None  # a statement separator (newline or ';') not yet emitted
    previous_kind = "LBRACE"  # as if the file started after '{': leading separators vanish
    while pos < end:
        m = match(text, pos)
        if m is None:
            pos = _SKIP_ONLY.match(text, pos).end()
            if pos == end:
                break
            raise UnexpectedCharacters(text, pos, line, pos - line_start + 1)
        kind = m.lastgroup
        value = m.group(kind)
        stop = m.end()
        start = stop - len(value)
        column = start - line_start + 1
        if kind == "newline":
            kind = "_NL"
            tok = new(kind, value, start, line, column, line + 1, 1, stop)
            line += 1
            line_start = stop
        else:
            if kind == "op":
                kind = OPERATORS[value]
            elif kind == "NAME":
                kind = KEYWORDS.get(value, "NAME")
            elif len(value) > _INT_DIGITS > 0:
                _check_number(value, start, line, column)
            tok = new(kind, value, start, line, column, line, column + stop - start, stop)
        pos = stop
        if state is None:
            yield tok
            continue
        if kind == "_NL":
            if brackets and brackets[-1].type != "LBRACE":
                if value == ";":  # not allowed inside brackets: let the parser say so
                    yield _emit(tok, state)
                else:
                    state.newline_before = True
            elif previous_kind != "LBRACE" and (pending is None or (value == ";" and pending != ";")):
                pending = tok
            continue
        if pending is not None:
            if kind != "LBRACE" or pending == ";":
                previous_kind = "_NL"
                yield _emit(pending, state)
            pending = None
        if kind in OPENERS:
            brackets.append(tok)
        elif kind in CLOSERS and brackets and brackets[-1].type == CLOSERS[kind]:
            brackets.pop()
        if previous_kind in _STATEMENT_ENDS:
            state.statement_start = tok
        previous_kind = kind
        state.previous, state.current = state.current, tok
        yield tok
        state.newline_before = False


def _emit(tok: Token, state: LexState) -> Token:
    """Record ``tok`` as the token handed to the parser (for the separators' path)."""
    state.previous, state.current = state.current, tok
    return tok


def _token(type_, value, start_pos, line, column, end_line, end_column, end_pos, _new=str.__new__):
    """``Token(type_, value, ...)`` without its keyword-handling constructor (3x faster).

    Sets exactly the attributes of `lark.Token`; the lexer makes ~10^5 of these for a
    large model. tests/syntax compares every field with lark's own lexer.
    """
    tok = _new(Token, value)
    tok.type, tok.value, tok.start_pos, tok.end_pos = type_, value, start_pos, end_pos
    tok.line, tok.column, tok.end_line, tok.end_column = line, column, end_line, end_column
    return tok


_STATEMENT_ENDS = frozenset({"_NL", "LBRACE", "RBRACE"})
_INT_DIGITS = sys.get_int_max_str_digits()


def _check_number(value: str, pos: int, line: int, column: int) -> None:
    """Python refuses int() of more digits than `sys.get_int_max_str_digits()`."""
    limit = sys.get_int_max_str_digits()
    if limit and len(value) > limit and not any(ch in value for ch in ".eE"):
        tok = Token("NUMBER", value, pos, line, column, line, column + len(value), pos + len(value))
        raise LiteralError(tok, f"the integer literal has {len(value)} digits; at most {limit} are allowed")


class DslLexer(Lexer):
    """The lark custom-lexer interface around `tokens`."""

    def __init__(self, lexer_conf):
        pass

    def lex(self, text: str):
        state = _local.state or LexState()  # `Lark.lex` may run outside `parse`
        return tokens(text, state)
