"""Source text and positions: the `Span` every AST node and diagnostic carries.

Lines and columns are 1-based; ``end_column`` is exclusive (one past the last
character), as in lark's ``meta.end_column``.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Span:
    """A region of one source file.

    >>> Span("m.ppl", 3, 5, 3, 11)
    Span(file='m.ppl', line=3, column=5, end_line=3, end_column=11)
    """

    file: str | None
    line: int
    column: int
    end_line: int
    end_column: int

    def __str__(self) -> str:
        return f"{self.file or '<string>'}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class Source:
    """The text of one model file and the name it is reported under.

    >>> Source("a\\nbc\\n", "m.ppl").line_text(2)
    'bc'
    """

    text: str
    name: str | None = None

    def lines(self) -> list[str]:
        """The text's lines, split at newlines only (a form feed is whitespace, not a line break)."""
        return [line.rstrip("\r") for line in self.text.split("\n")]

    def line_text(self, line: int) -> str:
        lines = self.lines()
        return lines[line - 1] if 0 < line <= len(lines) else ""

    def end_span(self) -> Span:
        """A zero-width span just after the last character that is not blank."""
        stripped = self.text.rstrip()
        lines = [line.rstrip("\r") for line in stripped.split("\n")]
        line, column = len(lines), len(lines[-1]) + 1
        return Span(self.name, line, column, line, column + 1)

    def span_at(self, offset: int, length: int = 1) -> Span:
        """The span of ``length`` characters starting at character ``offset``."""
        line = self.text.count("\n", 0, offset) + 1
        column = offset - (self.text.rfind("\n", 0, offset) + 1) + 1
        return Span(self.name, line, column, line, column + max(length, 1))
