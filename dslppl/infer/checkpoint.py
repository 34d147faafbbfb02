"""Checkpoint files: written atomically, read back with ``weights_only=True``.

A checkpoint holds the fit's configuration (so that a resumed fit is the
same fit) and the training state: step, losses, parameters, optimizer state,
schedule and torch's RNG state. Resuming from it reproduces an uninterrupted
run with the same seed bit for bit.

>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "fit.ckpt")
>>> save_atomic({"config": {"steps": 10}, "step": 3}, path)
>>> load_checkpoint(path, {"steps": 10})["step"]
3
"""
from __future__ import annotations

import os

import torch

from ..runtime.files import save_atomic

__all__ = ["save_atomic", "load_checkpoint", "FORMAT"]

FORMAT = 1


def load_checkpoint(path: str | os.PathLike, config: dict) -> dict | None:
    """The checkpoint at ``path`` if one exists (None otherwise); its config must equal ``config``."""
    if not os.path.exists(path):
        return None
    state = torch.load(path, weights_only=True)
    saved = state.get("config")
    if saved != config:
        diff = sorted(k for k in set(saved or {}) | set(config)
                      if (saved or {}).get(k) != config.get(k))
        raise ValueError(f"checkpoint {os.fspath(path)!r} belongs to a different fit (differs in "
                         f"{', '.join(diff)}); delete it or pass resume=False")
    return state
