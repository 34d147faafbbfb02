"""Pausing Python's cycle collector while a compiler stage builds many objects.

Stages build ~10^5 small immutable objects with no reference cycles; the
collector's full passes over them cost a fifth of the time on large models.

>>> import gc
>>> with collector_paused():
...     gc.isenabled()
False
"""
from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def collector_paused() -> Iterator[None]:
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
