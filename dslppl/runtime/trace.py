"""``Trace``: the ordered record of one run of a model, and its log-densities.

``trace(model).get_trace(...)`` fills ``Trace.nodes`` (site name -> the live
:class:`~dslppl.runtime.messenger.Message`, in execution order). Log-densities
are computed on demand and cached on the messages:
``msg.unscaled_log_prob`` is ``fn.log_prob(value)``; ``msg.log_prob`` is that
with the site's ``scale`` and ``mask`` applied; ``msg.log_prob_sum`` its sum.

>>> import torch
>>> from torch.distributions import Normal
>>> from dslppl.runtime import sample, trace
>>> tr = trace(lambda: sample("x", Normal(0.0, 1.0), obs=torch.tensor(0.0))).get_trace()
>>> round(tr.log_prob_sum().item(), 4)
-0.9189
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import torch

from .messenger import Message

__all__ = ["Trace", "scale_and_mask"]

SiteFilter = Callable[[str, Message], bool]


def scale_and_mask(log_prob: torch.Tensor, scale: Any = 1.0, mask: Any = None) -> torch.Tensor:
    """``log_prob * scale`` with masked-out entries zeroed; skips no-op arithmetic.

    ``mask`` is None/True (keep all), False (zero all) or a bool tensor that
    broadcasts against ``log_prob``.
    """
    if mask is False:
        return torch.zeros_like(log_prob)
    if not (isinstance(scale, (int, float)) and scale == 1.0):
        log_prob = log_prob * scale
    if mask is None or mask is True:
        return log_prob
    return torch.where(mask, log_prob, log_prob.new_zeros(()))


class Trace:
    """Sites of one execution, by name in execution order, plus its inputs and output.

    ``args``, ``kwargs`` and ``return_value`` are filled when the trace was made
    by calling a wrapped ``trace(fn)`` (they are not nodes, unlike Pyro's
    ``_INPUT``/``_RETURN``).
    """

    __slots__ = ("nodes", "args", "kwargs", "return_value")

    def __init__(self) -> None:
        self.nodes: dict[str, Message] = {}
        self.args: tuple = ()
        self.kwargs: dict = {}
        self.return_value: Any = None

    def __contains__(self, name: object) -> bool:
        return name in self.nodes

    def __iter__(self) -> Iterator[str]:
        return iter(self.nodes)

    def __len__(self) -> int:
        return len(self.nodes)

    def __repr__(self) -> str:
        sites = ", ".join(f"{n}:{m.kind}" for n, m in self.nodes.items())
        return f"Trace({sites})"

    def add_node(self, msg: Message) -> None:
        """Record ``msg``; a second sample/deterministic site of one name is an error.

        A param read twice keeps its latest record; a plate opened twice (the
        same name, size and subsample size) keeps its first, whose indices the
        ``trace`` handler hands to the second opening.
        """
        name = msg.name
        old = self.nodes.get(name)
        if old is not None:
            if old.kind != msg.kind:
                raise ValueError(f"site {name!r} is already in the trace as a "
                                 f"{old.kind} site; it cannot also be a {msg.kind} site")
            if msg.kind == "plate":
                if old.args != msg.args:
                    raise ValueError(f"plate {name!r} reopened with size/subsample_size "
                                     f"{msg.args}, first opened with {old.args}")
                return
            if msg.kind != "param":
                raise ValueError(f"duplicate {msg.kind} site name {name!r} in one trace")
        self.nodes[name] = msg

    def copy(self) -> Trace:
        """A new trace sharing the same messages."""
        new = Trace()
        new.nodes = dict(self.nodes)
        new.args, new.kwargs, new.return_value = self.args, self.kwargs, self.return_value
        return new

    # --- node selections --------------------------------------------------
    def stochastic_nodes(self) -> list[str]:
        """Names of latent (unobserved) sample sites."""
        return [n for n, m in self.nodes.items() if m.kind == "sample" and not m.is_observed]

    def observation_nodes(self) -> list[str]:
        """Names of observed sample sites (including ``factor`` sites)."""
        return [n for n, m in self.nodes.items() if m.kind == "sample" and m.is_observed]

    def param_nodes(self) -> list[str]:
        return [n for n, m in self.nodes.items() if m.kind == "param"]

    def plate_nodes(self) -> list[str]:
        return [n for n, m in self.nodes.items() if m.kind == "plate"]

    # --- log-densities ----------------------------------------------------
    def _sample_sites(self, site_filter: SiteFilter | None) -> Iterator[Message]:
        for name, msg in self.nodes.items():
            if msg.kind == "sample" and (site_filter is None or site_filter(name, msg)):
                yield msg

    def _unscaled_log_prob(self, msg: Message) -> torch.Tensor:
        if msg.unscaled_log_prob is None:
            try:
                msg.unscaled_log_prob = msg.fn.log_prob(msg.value)
            except (ValueError, RuntimeError) as e:
                e.add_note(f"while computing log_prob at site {msg.name!r}\n"
                           + self.format_shapes(last_site=msg.name))
                raise
        return msg.unscaled_log_prob

    def compute_log_prob(self, site_filter: SiteFilter | None = None) -> None:
        """Fill ``log_prob`` (scaled, masked), ``unscaled_log_prob`` and ``log_prob_sum``.

        Only sample sites are scored; results are cached on the messages, so a
        second call costs nothing.
        """
        for msg in self._sample_sites(site_filter):
            if msg.log_prob is None:
                msg.log_prob = scale_and_mask(self._unscaled_log_prob(msg), msg.scale, msg.mask)
                msg.log_prob_sum = msg.log_prob.sum()

    def log_prob_sum(self, site_filter: SiteFilter | None = None) -> torch.Tensor:
        """The scalar sum over sample sites of their scaled, masked log-densities.

        ``site_filter(name, msg)`` selects sites (all by default). Per-site sums
        are cached in ``msg.log_prob_sum``.
        """
        total = None
        for msg in self._sample_sites(site_filter):
            if msg.log_prob_sum is None:
                lp = scale_and_mask(self._unscaled_log_prob(msg), msg.scale, msg.mask)
                msg.log_prob_sum = lp.sum()
            total = msg.log_prob_sum if total is None else total + msg.log_prob_sum
        return torch.zeros(()) if total is None else total

    # --- display ----------------------------------------------------------
    def format_shapes(self, title: str = "Trace Shapes:", last_site: str | None = None) -> str:
        """A table of shapes, as Pyro's: param values; per sample site the
        distribution's ``batch | event`` shape, the value's, and the log_prob's
        (once computed); deterministic values.
        """
        params, samples = [], []
        for name, msg in self.nodes.items():
            if msg.kind == "param":
                params.append((name, tuple(_shape(msg.value)), None))
            elif msg.kind == "sample":
                samples.extend(_sample_rows(name, msg))
            elif msg.kind == "deterministic":
                samples.append((name + " value", tuple(_shape(msg.value)), None))
            if name == last_site:
                break
        rows = [("Param Sites:", None, None), *params, ("Sample Sites:", None, None), *samples]
        return title + "\n" + _format_table(rows)


def _shape(x: Any) -> torch.Size:
    return getattr(x, "shape", torch.Size())


def _sample_rows(name: str, msg: Message) -> list[tuple]:
    batch = tuple(msg.fn.batch_shape)
    event = tuple(msg.fn.event_shape)
    shape = tuple(_shape(msg.value))
    cut = len(shape) - len(event)
    rows = [(name + " dist", batch, event), ("value", shape[:cut], shape[cut:])]
    if msg.log_prob is not None:
        rows.append(("log_prob", tuple(msg.log_prob.shape), ()))
    return rows


def _format_table(rows: list[tuple]) -> str:
    """Right-justify labels and batch dims (aligned on the right), then ``|`` and
    left-aligned event dims; ``None`` dims mean a section header."""
    nbatch = max((len(b) for _, b, _ in rows if b is not None), default=0)
    nevent = max((len(e) for _, _, e in rows if e is not None), default=0)
    cells = []
    for label, batch, event in rows:
        if batch is None:
            cells.append([label])
            continue
        row = [label] + [""] * (nbatch - len(batch)) + [str(s) for s in batch]
        if event is not None:
            row += ["|"] + [str(s) for s in event] + [""] * (nevent - len(event))
        cells.append(row)
    widths: list[int] = []
    for row in cells:
        for j, cell in enumerate(row):
            if j == len(widths):
                widths.append(0)
            widths[j] = max(widths[j], len(cell))
    lines = []
    for row in cells:
        parts = [cell.rjust(widths[j]) if j <= nbatch else cell.ljust(widths[j])
                 for j, cell in enumerate(row)]
        lines.append(" ".join(parts).rstrip())
    return "\n".join(lines)
