"""Source text and positions: the `Span` every AST node and diagnostic carries.

Lines and columns are 1-based; ``end_column`` is exclusive (one past the last
character), as in lark's ``meta.end_column``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

MAX_FILE_BYTES = 64 * 2 ** 20  # model and data files: larger is a mistake (or /dev/zero)


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


class UnreadableFile(Exception):
    """A model or data file that cannot be read as UTF-8 text; ``span`` says where, when known."""

    def __init__(self, message: str, span: Span):
        super().__init__(message)
        self.span = span


def read_text_file(path: str | os.PathLike) -> str:
    """The UTF-8 text of ``path`` (a byte-order mark is skipped), read at most
    `MAX_FILE_BYTES` deep so that a device or a huge file cannot hang the reader.

    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile("wb", suffix=".ppl", delete=False) as f:
    ...     _ = f.write("\\ufeffmodel m { }".encode())
    >>> read_text_file(f.name)
    'model m { }'
    """
    name = os.fspath(path)
    start = Span(name, 1, 1, 1, 2)
    try:
        with open(name, "rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise UnreadableFile(str(error.strerror or error), start) from None
    if len(raw) > MAX_FILE_BYTES:
        raise UnreadableFile(f"larger than {MAX_FILE_BYTES // 2 ** 20} MiB", start)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        good = raw[:error.start].decode("utf-8-sig")
        span = Source(good, name).span_at(len(good))
        raise UnreadableFile(f"not UTF-8 text (byte 0x{raw[error.start]:02x})", span) from None
