"""The user's words for terminals: ``RPAR`` is ``')'``, ``_NL`` is "end of line".

Stage: syntax (error messages). Input: lark terminal names. Output: the phrases
that `dslppl.syntax.messages` puts in diagnostics. The tables mirror the
terminals of ``grammar/dslppl.lark``; a test checks that every terminal the
parser can expect has a word here.
"""
from __future__ import annotations

from lark import Token

KEYWORDS = frozenset({"MODEL", "GUIDE", "DATA", "PARAM", "PLATE", "FOR", "IN", "FACTOR",
                      "TRUE", "FALSE", "AND", "OR", "NOT"})
# Keywords that may appear inside an expression (never as a name there).
OPERATOR_KEYWORDS = frozenset({"TRUE", "FALSE", "AND", "OR", "NOT"})
STATEMENT_KEYWORDS = frozenset({"DATA", "PARAM", "FACTOR", "PLATE", "FOR"})
# Tokens that can start an expression.
EXPR_START = frozenset({"NAME", "NUMBER", "LPAR", "LSQB", "MINUS", "NOT", "TRUE", "FALSE"})
COMPARISONS = frozenset({"LT", "LE", "GT", "GE", "EQEQ", "NE"})
# Tokens that can follow a complete expression and continue it ('(' calls, '[' indexes).
OPERATORS = COMPARISONS | {"PLUS", "MINUS", "STAR", "SLASH", "PERCENT", "AT", "CARET", "POW",
                           "AND", "OR", "LSQB", "LPAR"}
# What may follow the target of a definition: `x ~`, `x =`, `x:`.
AFTER_TARGET = frozenset({"TILDE", "EQUAL", "COLON"})

PUNCTUATION = {
    "PLUS": "+", "MINUS": "-", "STAR": "*", "SLASH": "/", "PERCENT": "%", "AT": "@",
    "CARET": "^", "POW": "**", "LT": "<", "LE": "<=", "GT": ">", "GE": ">=", "EQEQ": "==",
    "NE": "!=", "EQUAL": "=", "TILDE": "~", "COLON": ":", "COMMA": ",",
    "DOTDOT": "..", "LPAR": "(", "RPAR": ")", "LSQB": "[", "RSQB": "]", "LBRACE": "{",
    "RBRACE": "}",
}
# Words for expected terminals, in the order a message lists them.
WORDS = {"NAME": "a name", "NUMBER": "a number"}
WORDS.update({k: f"'{k.lower()}'" for k in sorted(KEYWORDS)})
WORDS["_NL"] = "end of line"
WORDS.update({k: f"'{v}'" for k, v in PUNCTUATION.items()})
WORDS["$END"] = "end of input"
_ORDER = {name: i for i, name in enumerate(WORDS)}


def describe_found(tok: Token) -> str:
    """How a token that was found is named in a message.

    >>> describe_found(Token("RPAR", ")"))
    "')'"
    >>> describe_found(Token("NAME", "sigma"))
    "name 'sigma'"
    """
    kind = tok.type
    if kind == "NAME":
        return f"name '{tok}'"
    if kind == "NUMBER":
        return f"number '{tok}'"
    if kind in KEYWORDS:
        return f"keyword '{tok}'"
    if kind == "_NL" and tok == ";":
        return "';'"
    return WORDS.get(kind, f"'{tok}'")


def describe_expected(expected: set[str], after_tilde: bool = False) -> str:
    """The expected terminals as a short list, grouping expression starts and operators.

    >>> describe_expected({"NAME", "NUMBER", "LPAR", "LSQB", "MINUS", "NOT", "TRUE", "FALSE"})
    'an expression'
    >>> describe_expected({"COMMA", "RPAR", "PLUS", "MINUS", "STAR", "LSQB"})
    "an operator, ',' or ')'"
    """
    remaining = {e for e in expected if e in WORDS}
    words = []
    if {"NAME", "NUMBER", "LPAR"} <= remaining:
        words.append("an expression")
        remaining -= EXPR_START
    elif len(remaining & OPERATORS) >= 3:
        words.append("an operator")
        remaining -= OPERATORS
    if after_tilde and remaining == {"NAME"}:
        return "a distribution such as 'Normal(0, 1)'"
    words += [WORDS[e] for e in sorted(remaining, key=_ORDER.__getitem__)]
    if not words:
        return "something else"
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]
