"""Write a rendered graph to disk: DOT text always, pictures through Graphviz's ``dot``.

Stage: render. Input: a ``graphviz.Digraph`` (from `dslppl.render.render`) and a
path. Output: the file. ``.dot``/``.gv`` are written as text; ``.svg``,
``.png`` and ``.pdf`` run the ``dot`` program, and `DotNotFoundError` says how
to install it when it is missing.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import graphviz

__all__ = ["DotNotFoundError", "FORMATS", "save"]

FORMATS = ("svg", "png", "pdf")
_TEXT = ("dot", "gv")


class DotNotFoundError(RuntimeError):
    """Graphviz's ``dot`` program, needed for ``.svg``/``.png``/``.pdf``, is not installed."""

    def __init__(self, suffix: str):
        super().__init__(
            f"writing a .{suffix} file needs Graphviz's 'dot' program, which was not found on PATH; "
            "install it with 'apt-get install graphviz' (Debian/Ubuntu), 'brew install graphviz' (macOS) "
            "or 'conda install graphviz', or save as .dot, which needs nothing")


def save(digraph: graphviz.Digraph, path: str | Path) -> Path:
    """Write ``digraph`` to ``path``; the suffix picks the format (.dot .gv .svg .png .pdf).

    >>> import tempfile, graphviz
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = save(graphviz.Digraph("m"), Path(tmp) / "m.dot")
    ...     print(out.read_text(), end="")
    digraph m {
    }
    """
    path = Path(path)
    suffix = path.suffix.lstrip(".").lower()
    if suffix in _TEXT:
        path.write_text(digraph.source, encoding="utf-8")
        return path
    if suffix not in FORMATS:
        raise ValueError(f"cannot write '{path.name}': use .dot, .gv, .svg, .png or .pdf")
    dot = shutil.which("dot")
    if dot is None:
        raise DotNotFoundError(suffix)
    result = subprocess.run([dot, f"-T{suffix}", "-o", str(path)], input=digraph.source.encode("utf-8"),
                            capture_output=True, check=False)
    if result.returncode != 0:
        # Almost always the file system (an unwritable path): reported as an OSError, exit 1.
        raise OSError(f"Graphviz 'dot' failed on {path}: {result.stderr.decode(errors='replace').strip()}")
    return path
