"""Diagnostics: what every stage reports about a user's model, and how it prints.

A check collects `Diagnostic`s and raises one `DslError` at the end of its pass,
so a user sees every mistake of that pass at once (LANGUAGE.md §10). Rendering
follows the compiler convention::

    model.ppl:7:12: error: unknown distribution 'Normel' [E0301]
      mu ~ Normel(0, 5)
           ^~~~~~
    hint: did you mean 'Normal'?

Internal bugs are `InternalError`, never `DslError`: the CLI tells them apart.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Literal

from .source import Source, Span

MAX_SHOWN = 20  # diagnostics printed before "... and N more"


@dataclass(frozen=True, slots=True)
class Note:
    """A secondary location attached to a diagnostic ("previously defined here")."""

    message: str
    span: Span | None = None


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One error or warning about a model, with a stable code (see docs/errors.md)."""

    code: str
    message: str
    span: Span | None = None
    hint: str | None = None
    notes: tuple[Note, ...] = ()
    severity: Literal["error", "warning"] = "error"

    def render(self, source: Source | None = None) -> str:
        """Text as printed on the terminal.

        >>> d = Diagnostic("E0201", "undefined name 'mu'", Span("m.ppl", 1, 5, 1, 7), hint="did you mean 'nu'?")
        >>> print(d.render(Source("y ~ mu", "m.ppl")))
        m.ppl:1:5: error: undefined name 'mu' [E0201]
        y ~ mu
            ^~
        hint: did you mean 'nu'?
        """
        lines = [_header(self.span, self.severity, f"{self.message} [{self.code}]")]
        lines += _excerpt(self.span, source)
        for note in self.notes:
            lines.append(_header(note.span, "note", note.message))
            lines += _excerpt(note.span, source)
        if self.hint:
            lines.append(f"hint: {self.hint}")
        return "\n".join(lines)

    def to_json(self) -> dict:
        """The editor-facing form used by ``dslppl check --format json``."""
        span = self.span
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "file": span.file if span else None,
            "line": span.line if span else None,
            "column": span.column if span else None,
            "end_line": span.end_line if span else None,
            "end_column": span.end_column if span else None,
            "hint": self.hint,
        }


class DslError(Exception):
    """A user mistake in a model or its data; holds every diagnostic of the failing pass.

    >>> err = DslError([Diagnostic("E0201", "undefined name 'x'")])
    >>> err.codes
    ['E0201']
    """

    def __init__(self, diagnostics: Iterable[Diagnostic], source: Source | None = None):
        self.diagnostics: tuple[Diagnostic, ...] = tuple(diagnostics)
        self.source = source
        super().__init__(self.render())

    @property
    def codes(self) -> list[str]:
        return [d.code for d in self.diagnostics]

    def with_source(self, source: Source) -> "DslError":
        """The same error, rendered with source excerpts."""
        return DslError(self.diagnostics, source)

    def render(self) -> str:
        shown = [d.render(self.source) for d in self.diagnostics[:MAX_SHOWN]]
        hidden = len(self.diagnostics) - MAX_SHOWN
        if hidden > 0:
            shown.append(f"... and {hidden} more")
        return "\n".join(shown)


class InternalError(Exception):
    """A bug in dslppl itself, never a user mistake."""


class CheckpointError(ValueError):
    """A checkpoint that cannot be resumed: unreadable, or written by a different fit."""


@dataclass
class DiagnosticSink:
    """Collects diagnostics during a pass; `raise_if_errors` ends the pass.

    >>> sink = DiagnosticSink()
    >>> sink.error("E0201", "undefined name 'x'")
    >>> sink.raise_if_errors()
    Traceback (most recent call last):
    ...
    dslppl.diagnostics.DslError: error: undefined name 'x' [E0201]
    """

    diagnostics: list[Diagnostic] = field(default_factory=list)

    def error(self, code: str, message: str, span: Span | None = None,
              hint: str | None = None, notes: tuple[Note, ...] = ()) -> None:
        self.diagnostics.append(Diagnostic(code, message, span, hint, notes))

    def warning(self, code: str, message: str, span: Span | None = None,
                hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(code, message, span, hint, severity="warning"))

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]

    def raise_if_errors(self, source: Source | None = None) -> None:
        """End a pass: raise its errors together, in source order."""
        if self.errors:
            raise DslError(sorted(self.errors, key=_position), source)


def _position(diagnostic: Diagnostic) -> tuple:
    span = diagnostic.span
    return (0, span.line, span.column) if span is not None else (1, 0, 0)


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """A hint naming the closest candidate, if any is close.

    >>> did_you_mean("Normel", ["Normal", "Gamma"])
    "did you mean 'Normal'?"
    """
    import difflib  # only when there is a mistake to explain

    close = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.6)
    if not close and name.lower() in {c.lower(): c for c in candidates}:
        close = [{c.lower(): c for c in candidates}[name.lower()]]
    return f"did you mean '{close[0]}'?" if close else None


def _header(span: Span | None, severity: str, message: str) -> str:
    return f"{span}: {severity}: {message}" if span else f"{severity}: {message}"


def _excerpt(span: Span | None, source: Source | None) -> list[str]:
    """The source line of ``span`` and a caret/tilde line under the span."""
    if span is None or source is None or span.line < 1:
        return []
    text = source.line_text(span.line)
    if not text and (span.line > len(source.lines()) or not source.text.strip()):
        return []
    end = span.end_column if span.end_line == span.line else len(text) + 1
    start = max(span.column, 1)
    width = max(end - start, 1)
    expanded = _printable(text.expandtabs(8))
    # Tabs before the span shift its column on screen: measure the expanded prefix.
    lead = len(text[: start - 1].expandtabs(8))
    return [expanded, " " * lead + "^" + "~" * (width - 1)]


_CONTROL = {c: "\ufffd" for c in [*range(0x20), *range(0x7f, 0xa0)] if c != 0x09}


def _printable(line: str) -> str:
    """``line`` with control characters (a terminal escape sequence in a comment) shown as
    U+FFFD, one column each, so that echoing a source line cannot drive the terminal.

    >>> _printable("x = 1  # \x1b[2J")
    'x = 1  # \ufffd[2J'
    """
    return line.translate(_CONTROL)
