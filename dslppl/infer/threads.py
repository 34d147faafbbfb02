"""How many intra-op threads small fits use.

torch runs even tiny ops (a 10 x 10 ``tril``, a 3 x 3 Cholesky) through its
thread pool; on a model with little data, waking the pool costs far more
than the arithmetic, and on a busy machine it can cost milliseconds per op.
Fits and draws on such models therefore run on one thread, restoring
torch's setting afterwards.

>>> import torch
>>> before = torch.get_num_threads()
>>> with threads(1):
...     torch.get_num_threads()
1
>>> torch.get_num_threads() == before
True
"""
from __future__ import annotations

from contextlib import contextmanager

import torch

from ..binding.bound import BoundModel

__all__ = ["SMALL_DATA", "auto_threads", "threads"]

SMALL_DATA = 200_000  # elements in the largest data array, below which one thread is faster


def auto_threads(bound: BoundModel | None) -> int | None:
    """1 for a model with small data, else None (keep torch's setting)."""
    if bound is None:
        return None
    sizes = [v.numel() for v in bound.data.values() if isinstance(v, torch.Tensor)]
    return 1 if max(sizes, default=0) < SMALL_DATA else None


@contextmanager
def threads(n: int | None):
    """Run the block with ``n`` intra-op threads (None: leave torch's setting)."""
    old = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if n is not None:
            torch.set_num_threads(old)
