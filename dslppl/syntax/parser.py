"""Text to AST: `parse` turns the text of a `.ppl` file into a `Program`.

Stage: syntax. Input: the text of one model file (and the name it is reported
under). Output: `dslppl.syntax.ast.Program`, or a `DslError` whose diagnostics
carry the `Source`, so they render with excerpts.

The grammar is ``grammar/dslppl.lark`` (installed as ``dslppl.grammar``), run by
lark's LALR(1) parser, fed by `lexer.DslLexer` (which applies the newline rules
of §2 and remembers open brackets for error messages), with the AST built inline
(`to_ast.AstBuilder`). One rule lives here rather than in the grammar: a file
holds one model block and at most one guide block after it (`_program`), which
gives misplaced blocks their own message (E0107).

Lark's exceptions become diagnostics in `dslppl.syntax.messages`.

Building the LALR tables takes a few tenths of a second, so the first process
saves them in the user cache directory (`dslppl.cachedir`) and later ones load
them. The grammar's strictness (no conflicts, no colliding terminals) is a test
(tests/syntax), not a check on every start.
"""
from __future__ import annotations

import hashlib
import os
import pkgutil
import sys

from lark import Lark, Token
from lark import __version__ as lark_version
from lark.exceptions import UnexpectedInput, UnexpectedToken

from ..cachedir import cache_dir, writable_cache_dir
from ..diagnostics import Diagnostic, DslError, Note
from ..gcpause import collector_paused
from ..source import Source, Span
from . import ast
from .lexer import DslLexer, LiteralError, start_state
from .messages import diagnose, end_span
from .precedence import ExpressionError
from .to_ast import AstBuilder, set_current_file

_parser: Lark | None = None  # made on first use

# Positions come from tokens (lark passes no meta to inline callbacks).
_OPTIONS = dict(parser="lalr", lexer=DslLexer, maybe_placeholders=False, propagate_positions=False)


def get_parser() -> Lark:
    """The LALR parser (lark), made once per process; `parse` is the way to use it.

    >>> sorted(t.name for t in get_parser().terminals)[:4]
    ['AND', 'AT', 'CARET', 'COLON']
    """
    global _parser
    if _parser is None:
        _parser = _load_or_build()
    return _parser


def _build() -> Lark:
    return Lark.open_from_package("dslppl.grammar", "dslppl.lark", ("",), transformer=AstBuilder(), **_OPTIONS)


def _load_or_build() -> Lark:
    """The parser from tables a previous process saved, else built (and its tables saved).

    The file name holds a digest of everything the tables depend on, so a changed
    grammar, lark or Python never meets old tables. A new file is written under a
    name of its own and moved into place whole, so concurrent processes never read
    half a file. Without a writable cache directory the parser is built every time."""
    grammar = pkgutil.get_data("dslppl.grammar", "dslppl.lark")  # lark imports pkgutil anyway
    # The transformer is saved with the tables (its class by reference, its state by value).
    depends = (lark_version, sys.version_info[:2], _OPTIONS, sorted(vars(AstBuilder()).items()))
    key = hashlib.sha256(grammar + repr(depends).encode())
    path = cache_dir() / f"parser-{key.hexdigest()[:24]}.lark"
    try:
        with open(path, "rb") as saved:
            return Lark.load(saved)
    except Exception:  # noqa: BLE001 - none saved yet, or a damaged file (any unpickling error)
        pass  # built and saved below
    parser = _build()
    if writable_cache_dir() is not None:
        partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        try:
            with open(partial, "wb") as out:
                parser.save(out)
            os.replace(partial, path)
        except OSError:
            partial.unlink(missing_ok=True)
    return parser


def parse(text: str, filename: str | None = None) -> ast.Program:
    """Parse the text of a model file.

    >>> program = parse("model m {\\n  mu ~ Normal(0, 1)\\n}\\n")
    >>> program.model.body[0].dist.func.id
    'Normal'
    >>> parse("model m { mu ~ Normal(0 1) }", "m.ppl")
    Traceback (most recent call last):
    ...
    dslppl.diagnostics.DslError: m.ppl:1:25: error: missing ',' before '1' [E0105]
    model m { mu ~ Normal(0 1) }
                            ^
    hint: separate arguments, indices and items with ','
    """
    source = Source(text, filename)
    parser = get_parser()
    state = start_state()
    set_current_file(filename)
    try:
        with collector_paused():
            blocks = parser.parse(text)
    except UnexpectedInput as exc:
        before = _parser_before(text, exc.token) if isinstance(exc, UnexpectedToken) else None
        raise DslError([diagnose(exc, state, source, before)], source) from None
    except LiteralError as exc:
        raise DslError([Diagnostic("E0101", exc.message, _span(exc.token, filename))], source) from None
    except ExpressionError as exc:
        raise DslError([Diagnostic("E0101", exc.message, _span(exc.token, filename), hint=exc.hint)],
                       source) from None
    finally:
        set_current_file(None)
    return _program(blocks, source)


def _parser_before(text: str, bad: Token):
    """A parser that has read every token before ``bad``, and none of the reductions it caused.

    An LALR state that fails on a token may already have reduced on it, using lookaheads
    merged from other contexts; asking *this* parser what it accepts gives exactly the
    tokens that were valid where ``bad`` stands. Only runs when there is an error.
    """
    interactive = get_parser().parse_interactive(text)
    start_state()  # the replay must not disturb the failed parse's LexState
    try:
        for tok in interactive.iter_parse():  # yields each token before feeding it
            if tok.type == bad.type and tok.start_pos == bad.start_pos:
                break
    except (UnexpectedInput, LiteralError, ExpressionError):
        return None  # cannot happen before `bad`; fall back to lark's own state
    return interactive


def _program(blocks: list, source: Source) -> ast.Program:
    """One model block, then at most one guide block."""
    models = [b for b in blocks if isinstance(b, ast.ModelBlock)]
    guides = [b for b in blocks if isinstance(b, ast.GuideBlock)]
    if not models:
        where = _keyword_span(guides[0], "guide") if guides else end_span(source)
        raise DslError([Diagnostic(
            "E0209", "the file has no model block", where,
            hint="a file holds one 'model NAME { ... }' block, then optionally 'guide { ... }'",
        )], source)
    problems = []
    for extra in models[1:]:
        problems.append(Diagnostic(
            "E0107", "a file holds only one model block", _keyword_span(extra, "model"),
            notes=(Note("the first model block is here", _keyword_span(models[0], "model")),)))
    for extra in guides[1:]:
        problems.append(Diagnostic(
            "E0107", "a file holds at most one guide block", _keyword_span(extra, "guide"),
            notes=(Note("the first guide block is here", _keyword_span(guides[0], "guide")),)))
    if guides and blocks.index(guides[0]) < blocks.index(models[0]):
        problems.append(Diagnostic(
            "E0107", "the guide block must come after the model block", _keyword_span(guides[0], "guide"),
            hint="move 'guide { ... }' below 'model ... { ... }'"))
    if problems:
        raise DslError(problems, source)
    span = Span(source.name, blocks[0].span.line, blocks[0].span.column,
                blocks[-1].span.end_line, blocks[-1].span.end_column)
    return ast.Program(models[0], guides[0] if guides else None, span=span)


def _span(tok: Token, filename: str | None) -> Span:
    return Span(filename, tok.line, tok.column, tok.end_line, tok.end_column)


def _keyword_span(block: ast.Node, keyword: str) -> Span:
    s = block.span
    return Span(s.file, s.line, s.column, s.line, s.column + len(keyword))
