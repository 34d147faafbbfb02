"""Where dslppl keeps files worth reusing between processes (the parser tables).

``$DSLPPL_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/dslppl``, else
``~/.cache/dslppl``. Nothing depends on it being writable: without a usable
directory, work is simply redone in every process.

>>> import os
>>> os.environ["DSLPPL_CACHE_DIR"] = "/tmp/somewhere"
>>> str(cache_dir())
'/tmp/somewhere'
>>> del os.environ["DSLPPL_CACHE_DIR"]
"""
from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """The directory (it may not exist yet)."""
    explicit = os.environ.get("DSLPPL_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "dslppl"


def writable_cache_dir() -> Path | None:
    """The directory, created if needed; None when it cannot be created or written."""
    path = cache_dir()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return path if os.access(path, os.W_OK) else None
