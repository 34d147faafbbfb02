"""Checkpoint files: written atomically, read back with ``weights_only=True``.

A checkpoint holds the fit's configuration (so that a resumed fit is the
same fit: every setting that changes the result, and digests of the model
text and the data) and the training state: step, losses, parameters, optimizer state,
schedule and torch's RNG state. Resuming from it reproduces an uninterrupted
run with the same seed bit for bit.

>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "fit.ckpt")
>>> save_atomic({"format": FORMAT, "config": {"steps": 10}, "step": 3}, path)
>>> load_checkpoint(path, {"steps": 10})["step"]
3
"""
from __future__ import annotations

import os

import torch

from ..diagnostics import CheckpointError
from ..runtime.files import remove_stale_temporaries, save_atomic

__all__ = ["save_atomic", "load_checkpoint", "remove_stale_temporaries", "CheckpointError", "FORMAT"]

FORMAT = 2  # 2: the config holds digests of the model text and data, the dtype and subsampling


def load_checkpoint(path: str | os.PathLike, config: dict) -> dict | None:
    """The checkpoint at ``path`` if one exists (None otherwise); its config must equal ``config``.

    A file that is no checkpoint of this format, or one written by a fit whose
    config differs, raises `CheckpointError` naming what differs."""
    if not os.path.exists(path):
        return None
    name = os.fspath(path)
    try:
        state = torch.load(path, weights_only=True)
    except Exception as error:  # noqa: BLE001 - torch raises many kinds for a damaged file
        raise CheckpointError(f"cannot resume from {name!r}: not a readable checkpoint "
                              f"({type(error).__name__}); delete it or choose another path") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT or not isinstance(state.get("config"), dict):
        raise CheckpointError(f"cannot resume from {name!r}: not a checkpoint of this version of dslppl; "
                              "delete it or choose another path")
    saved = state["config"]
    if saved != config:
        diff = sorted(k for k in set(saved) | set(config) if saved.get(k) != config.get(k))
        raise CheckpointError(f"checkpoint {name!r} belongs to a different fit (differs in "
                              f"{', '.join(diff)}); delete it or pass resume=False")
    return state
