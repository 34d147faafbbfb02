"""Files the runtime and inference write: ``torch.save``, atomically.

>>> import os, tempfile, torch
>>> path = os.path.join(tempfile.mkdtemp(), "x.pt")
>>> save_atomic({"a": torch.tensor(1.0)}, path)
>>> torch.load(path, weights_only=True)["a"]
tensor(1.)
"""
from __future__ import annotations

import glob
import os
import tempfile
from typing import Any

import torch


def save_atomic(obj: Any, path: str | os.PathLike) -> None:
    """``torch.save(obj)`` to a temporary file next to ``path``, then ``os.replace`` it.

    A reader never sees a partial file, and a crash mid-write leaves the
    previous checkpoint intact.
    """
    path = os.fspath(path)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path) or ".",
                               prefix=os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def remove_stale_temporaries(path: str | os.PathLike) -> list[str]:
    """Delete the temporary files `save_atomic` left beside ``path`` when its process was
    killed mid-write (SIGKILL runs no clean-up); returns their names."""
    path = os.fspath(path)
    pattern = os.path.join(glob.escape(os.path.dirname(path) or "."),
                           glob.escape(os.path.basename(path)) + ".*.tmp")
    stale = [name for name in glob.glob(pattern) if os.path.isfile(name)]
    for name in stale:
        os.unlink(name)
    return stale
