"""Reading Markdown for the doc tests: fenced code blocks, tables, links and anchors."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```[ \t]*$", re.M | re.S)
_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
_HEADING = re.compile(r"^#{1,6} +(.+?) *$", re.M)


@dataclass(frozen=True)
class Block:
    """One fenced code block: its info string (``python``, ``console``...), text and line."""

    info: str
    code: str
    line: int
    start: int  # offset of the opening fence
    end: int    # offset just after the closing fence

    @property
    def lang(self) -> str:
        return self.info.split()[0] if self.info.split() else ""

    def __str__(self) -> str:
        first = self.code.strip().splitlines()[0] if self.code.strip() else ""
        return f"line {self.line}: {first[:50]}"


def blocks(text: str) -> list[Block]:
    """Fenced blocks in order (``` fences only, not indented)."""
    return [Block(m.group(1).strip(), m.group(2), text.count("\n", 0, m.start()) + 1, m.start(), m.end())
            for m in _FENCE.finditer(text)]


def following(text: str, block: Block, all_blocks: list[Block]) -> Block | None:
    """The block right after ``block`` when only blank lines separate them."""
    later = [other for other in all_blocks if other.start > block.start]
    if later and text[block.end:later[0].start].strip() == "":
        return later[0]
    return None


def outside_code(text: str) -> str:
    """The text with fenced blocks blanked out (so links and headings inside code are ignored)."""
    return _FENCE.sub(lambda m: "\n" * m.group(0).count("\n"), text)


def section(text: str, title: str) -> str:
    """The text under the heading ``title`` up to the next heading of the same or a higher level."""
    match = re.search(rf"^(#+) {re.escape(title)} *$", text, re.M)
    assert match, f"no heading '{title}'"
    level = len(match.group(1))
    rest = text[match.end():]
    end = re.search(rf"^#{{1,{level}}} ", outside_code(rest), re.M)
    return rest[: end.start()] if end else rest


def table_rows(text: str, header_start: str) -> list[list[str]]:
    """The cells of the table whose header row starts with ``header_start`` (separator skipped)."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith(header_start):
            rows = []
            for row in lines[i + 2:]:
                if not row.startswith("|"):
                    break
                rows.append(split_row(row))
            return rows
    raise AssertionError(f"no table starting with {header_start!r}")


def split_row(row: str) -> list[str]:
    """Cells of a Markdown table row; ``\\|`` is a literal bar, not a separator."""
    cells = re.split(r"(?<!\\)\|", row.strip())[1:-1]
    return [c.strip() for c in cells]


def links(text: str) -> list[str]:
    return _LINK.findall(outside_code(text))


def slug(title: str) -> str:
    """GitHub's anchor for a heading."""
    title = re.sub(r"[`*_]", "", title).strip().lower()
    return re.sub(r"[^\w\- ]", "", title).replace(" ", "-")


def anchors(text: str) -> set[str]:
    return {slug(t) for t in _HEADING.findall(outside_code(text))}


def broken_links(path: Path) -> list[str]:
    """Relative links (files and #anchors) in ``path`` that lead nowhere."""
    text = path.read_text(encoding="utf-8")
    bad = []
    for link in links(text):
        if re.match(r"[a-z]+:", link):
            continue  # http(s):, mailto:
        target, _, anchor = link.partition("#")
        file = (path.parent / target).resolve() if target else path
        if not file.exists():
            bad.append(link)
        elif anchor and file.suffix == ".md" and anchor not in anchors(file.read_text(encoding="utf-8")):
            bad.append(link)
    return bad
