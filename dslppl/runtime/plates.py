"""Vectorised plates: conditional independence, broadcasting and subsampling.

A :class:`plate` is a handler that (1) records a :class:`PlateFrame` on each
sample and deterministic site inside it, (2) expands a sample site's
distribution to the plate's batch shape, and (3) when subsampling, scales the
site's log-density by ``size / subsample_size``. Constructing a plate emits a
``'plate'`` message whose value is the index tensor, so ``trace`` records the
minibatch and ``replay``/``substitute`` can fix it (a guide's minibatch is
reused by the model it is replayed into).

>>> import torch
>>> from torch.distributions import Normal
>>> from dslppl.runtime import plate, sample
>>> with plate("rows", 2, dim=-2), plate("cols", 3):
...     sample("x", Normal(0.0, 1.0)).shape
torch.Size([2, 3])
"""
from __future__ import annotations

import math
import operator

import torch

from .messenger import _STACK, Message, Messenger, PlateFrame, apply_stack

__all__ = ["plate", "random_subsample"]


def random_subsample(size: int, subsample_size: int) -> torch.Tensor:
    """A uniformly random ``subsample_size``-subset of ``range(size)``, in random order.

    Costs O(k log k) in k = ``subsample_size`` and nothing in ``size``, unlike
    ``randperm(size)``: draw indices with replacement until k distinct values
    turn up, then keep a random k of them. The draws favour no label, so given
    their number d the distinct values are a uniform d-subset, and a uniform
    k-subset of that is a uniform k-subset. When k is a large fraction of
    ``size``, ``randperm`` costs as little, and is used.
    """
    k = subsample_size
    if k >= size:
        return torch.arange(size)
    if 4 * k >= size:
        return torch.randperm(size)[:k]
    distinct = torch.empty(0, dtype=torch.long)
    while distinct.numel() < k:
        # About m^2 / (2 size) of m draws repeat, at most m / 8 here: this
        # margin almost always suffices in one round.
        extra = k - distinct.numel() + 16 + math.ceil(k * k / size)
        distinct = torch.unique(torch.cat([distinct, torch.randint(size, (extra,))]))
    return distinct[torch.randperm(distinct.numel())[:k]]


class plate(Messenger):
    """A vectorised plate of ``size`` conditionally independent elements.

    ``with plate(name, size) as idx:`` yields the index tensor (``arange(size)``
    or the subsample). ``dim`` is a negative batch dim; by default the first
    free one counting from -1 past the dims of the enclosing plates (Pyro's
    rule). ``subsample_size`` draws a random minibatch; ``subsample`` gives the
    indices. Sequential iteration (``for i in plate(...)``) is not supported.
    """

    __slots__ = ("name", "size", "subsample_size", "dim", "_requested_dim",
                 "_indices", "_frame", "_scale")

    def __init__(self, name: str, size: int, subsample_size: int | None = None,
                 subsample: torch.Tensor | None = None, dim: int | None = None) -> None:
        super().__init__()
        try:  # accept int-likes (numpy ints, 0-d integer tensors), as sizes often come from data
            size = operator.index(size)
        except TypeError:
            raise ValueError(f"plate {name!r}: size must be an int, got {size!r}") from None
        if size <= 0:
            raise ValueError(f"plate {name!r}: size must be positive, got {size}")
        if dim is not None and (not isinstance(dim, int) or dim >= 0):
            raise ValueError(f"plate {name!r}: dim must be a negative int, got {dim!r}")
        if subsample_size is not None and subsample_size <= 0:
            raise ValueError(f"plate {name!r}: subsample_size must be positive")
        self.name = name
        self.size = size
        self._requested_dim = dim
        self.dim = dim
        self._frame = None
        self._indices = self._draw_indices(subsample_size, subsample)
        self.subsample_size = len(self._indices)
        if subsample_size is not None and min(subsample_size, size) != self.subsample_size:
            raise ValueError(f"plate {name!r}: subsample_size={subsample_size} but the "
                             f"subsample has {self.subsample_size} indices (did model "
                             "and guide ask for different subsample sizes?)")
        # Python float: multiplying a site's scale by it costs no tensor op.
        self._scale = size / self.subsample_size

    def _draw_indices(self, subsample_size, subsample) -> torch.Tensor:
        if subsample is not None:
            subsample = torch.as_tensor(subsample)
        if subsample_size is None or subsample_size > self.size:
            subsample_size = self.size
        if not _STACK:  # fast path: no handler can record or replace the indices
            return subsample if subsample is not None else random_subsample(self.size, subsample_size)
        msg = Message("plate", self.name, fn=random_subsample,
                      args=(self.size, subsample_size), value=subsample)
        return apply_stack(msg).value

    def __enter__(self) -> torch.Tensor:
        self.dim = self._allocate_dim()
        if self._frame is None or self._frame.dim != self.dim:
            self._frame = PlateFrame(self.name, self.size, self.dim, self.subsample_size)
        super().__enter__()
        return self._indices

    def _allocate_dim(self) -> int:
        # The dims in use are those of the plates currently on the stack; deriving
        # them from the stack means an aborted run can leak no allocation.
        taken: dict[int, str] = {}
        for handler in _STACK:
            if isinstance(handler, plate):
                if handler.name == self.name:
                    raise ValueError(f"plate {self.name!r} is nested inside itself")
                taken[handler.dim] = handler.name
        dim = self._requested_dim
        if dim is None:
            dim = -1
            while dim in taken:
                dim -= 1
        elif dim in taken:
            raise ValueError(f"plates {self.name!r} and {taken[dim]!r} collide at dim={dim}; "
                             f"try dim={dim - 1} for one of them")
        return dim

    def __iter__(self):
        raise TypeError(f"plate {self.name!r} is vectorised only; use `with plate(...)`")

    def process_message(self, msg: Message) -> None:
        kind = msg.kind
        if kind == "sample":
            msg.plates = (self._frame,) + msg.plates
            _broadcast(msg)
            if self._scale != 1.0:
                msg.scale = msg.scale * self._scale
        elif kind == "deterministic":
            msg.plates = (self._frame,) + msg.plates


def _broadcast(msg: Message) -> None:
    """Expand ``msg.fn`` so its batch shape covers every plate in ``msg.plates``.

    Pyro's rule: size-1 and missing dims broadcast to the plate size, any
    other size at a plate's dim is an error. The common case, a distribution
    already of the right shape, costs a few comparisons and no ``expand``.
    """
    fn = msg.fn
    batch_shape = fn.batch_shape
    ndim = len(batch_shape)
    for frame in msg.plates:
        if -frame.dim > ndim or batch_shape[frame.dim] != frame.subsample_size:
            break
    else:
        return
    target: list[int | None] = [None if s == 1 else s for s in batch_shape]
    for frame in msg.plates:
        if -frame.dim > len(target):
            target = [None] * (-frame.dim - len(target)) + target
        current = target[frame.dim]
        if current is not None and current != frame.subsample_size:
            raise ValueError(
                f"shape mismatch inside plate {frame.name!r} at site {msg.name!r}: "
                f"batch dim {frame.dim} has size {current}, the plate has "
                f"{frame.subsample_size}")
        target[frame.dim] = frame.subsample_size
    try:
        msg.fn = fn.expand(torch.Size([1 if s is None else s for s in target]))
    except NotImplementedError:
        raise TypeError(f"site {msg.name!r}: {type(fn).__name__} has no expand(), "
                        "which broadcasting inside a plate needs") from None
