"""A function of one row, run over a batch of rows: one ``torch.func.vmap`` pass when
it can, a Python loop (for good) when it cannot.

vmap runs with argument validation off (validation branches on values, which
vmap forbids) and ``randomness="same"`` (a subsampled model draws one
minibatch for every row, as Pyro's particle plate does).

>>> import torch
>>> square_sum = over_rows(lambda r: (r * r).sum())
>>> square_sum(torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
tensor([ 5., 25.])
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

import torch
from torch.distributions import Distribution

__all__ = ["over_rows", "validation_off"]


def over_rows(fn: Callable, stack: Callable[[list], object] = torch.stack,
              row_fn: Callable | None = None) -> Callable:
    """``fn`` over the leading dimension of its argument; ``stack`` joins the loop's results.

    ``row_fn`` (default ``fn``) is what the loop runs on each row: a version of
    ``fn`` that handles a failing row itself, where one bad row must not fail the batch."""
    row_fn = fn if row_fn is None else row_fn
    vmapped = torch.func.vmap(fn, randomness="same")
    use_vmap = [True]

    def batched(rows: torch.Tensor):
        if use_vmap[0]:
            with validation_off():
                try:
                    return vmapped(rows)
                except (RuntimeError, ValueError, NotImplementedError, TypeError):
                    use_vmap[0] = False
        return stack([row_fn(row) for row in rows])
    return batched


@contextmanager
def validation_off() -> Iterator[None]:
    """torch.distributions' argument validation off inside the block."""
    validate = Distribution._validate_args
    Distribution.set_default_validate_args(False)
    try:
        yield
    finally:
        Distribution.set_default_validate_args(validate)
