"""Posterior summaries: one row per scalar coordinate, named the way users index.

Coordinates are named ``name`` (a scalar), ``theta[0]``, ``L[1,2]``: 0-based,
row-major, comma without space. A variable defined over ``plate t in LO..HI``
starts at ``LO``: its ``offsets`` shift the indices, so ``mu[LO]`` is the
first element.

>>> import torch
>>> draws = {"mu": torch.tensor([0.0, 1.0, 2.0]), "theta": torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])}
>>> s = Summary.from_draws(draws, offsets={"theta": (1,)})
>>> s.names()
['mu', 'theta[1]', 'theta[2]']
>>> s["theta[2]"].mean, s["mu"].sd
(4.0, 1.0)
"""
from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass, replace
from typing import Iterator, Mapping

import torch

__all__ = ["Summary", "SummaryRow", "coordinate_names"]

STATS = ("mean", "sd", "q5", "q50", "q95")
MCMC_STATS = ("r_hat", "ess_bulk", "ess_tail", "mcse_mean")  # rows summarised from chains


@dataclass(frozen=True)
class SummaryRow:
    """Statistics of one scalar coordinate's draws."""

    name: str
    mean: float
    sd: float
    q5: float
    q50: float
    q95: float
    r_hat: float | None = None
    ess_bulk: float | None = None
    ess_tail: float | None = None
    mcse_mean: float | None = None

    def to_dict(self) -> dict[str, float]:
        stats = asdict(self)
        del stats["name"]
        return {k: v for k, v in stats.items() if v is not None}


@dataclass(frozen=True)
class Summary:
    """A table of :class:`SummaryRow`; prints as a table, converts to a dict."""

    rows: tuple[SummaryRow, ...]

    @classmethod
    def from_draws(cls, draws: Mapping[str, torch.Tensor],
                   offsets: Mapping[str, tuple[int, ...]] | None = None) -> "Summary":
        """Summarise ``draws`` (name -> ``[n, ...]``): sd with n-1, quantiles interpolated linearly."""
        offsets = offsets or {}
        rows = []
        for name, x in draws.items():
            flat = x.reshape(x.shape[0], -1).to(torch.float64)
            names = coordinate_names(name, x.shape[1:], offsets.get(name, ()))
            rows.extend(_rows(names, flat))
        return cls(tuple(rows))

    @classmethod
    def from_chains(cls, draws: Mapping[str, torch.Tensor],
                    offsets: Mapping[str, tuple[int, ...]] | None = None) -> "Summary":
        """Summarise MCMC ``draws`` (name -> ``[chains, n, ...]``): the statistics of
        :meth:`from_draws` over all chains, plus R-hat, bulk and tail ESS and MCSE of the mean.

        >>> x = torch.randn(4, 200, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
        >>> row = Summary.from_chains({"x": x})["x"]
        >>> abs(row.r_hat - 1) < 0.02, row.ess_bulk > 400
        (True, True)
        """
        from . import diagnostics

        rows = cls.from_draws({k: v.flatten(0, 1) for k, v in draws.items()}, offsets)
        chains = [x.reshape(x.shape[0], x.shape[1], -1).to(torch.float64).numpy()
                  for x in draws.values()]
        columns = [c[:, :, i] for c in chains for i in range(c.shape[2])]
        return cls(tuple(
            replace(row, r_hat=diagnostics.rhat(x), ess_bulk=diagnostics.ess_bulk(x),
                    ess_tail=diagnostics.ess_tail(x), mcse_mean=diagnostics.mcse_mean(x))
            for row, x in zip(rows, columns)))

    @classmethod
    def from_dict(cls, table: Mapping[str, Mapping[str, float]]) -> "Summary":
        """Inverse of :meth:`to_dict`."""
        return cls(tuple(SummaryRow(name, **{k: float(v[k]) for k in STATS + MCMC_STATS if k in v})
                         for name, v in table.items()))

    def to_dict(self) -> dict[str, dict[str, float]]:
        return {row.name: row.to_dict() for row in self.rows}

    def names(self) -> list[str]:
        return [row.name for row in self.rows]

    def __getitem__(self, name: str) -> SummaryRow:
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(name)

    def __contains__(self, name: object) -> bool:
        return any(row.name == name for row in self.rows)

    def __iter__(self) -> Iterator[SummaryRow]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __str__(self) -> str:
        width = max([len("name")] + [len(r.name) for r in self.rows])
        stats = STATS + (MCMC_STATS if self.rows and self.rows[0].r_hat is not None else ())
        lines = [f"{'name':<{width}}" + "".join(f"{s:>11}" for s in stats)]
        for r in self.rows:
            lines.append(f"{r.name:<{width}}" + "".join(f"{getattr(r, s):>11.4g}" for s in stats))
        return "\n".join(lines)


def coordinate_names(name: str, shape: tuple[int, ...], offsets: tuple[int, ...] = ()) -> list[str]:
    """Row-major names of the scalar coordinates of an array ``name`` of ``shape``.

    >>> coordinate_names("L", (2, 2))
    ['L[0,0]', 'L[0,1]', 'L[1,0]', 'L[1,1]']
    """
    if not shape:
        return [name]
    starts = tuple(offsets) + (0,) * (len(shape) - len(offsets))
    ranges = [range(lo, lo + n) for lo, n in zip(starts, shape)]
    return [f"{name}[{','.join(map(str, idx))}]" for idx in itertools.product(*ranges)]


def _rows(names: list[str], flat: torch.Tensor) -> list[SummaryRow]:
    mean = flat.mean(0)
    sd = flat.std(0) if flat.shape[0] > 1 else torch.zeros_like(mean)
    q = torch.quantile(flat, flat.new_tensor([0.05, 0.5, 0.95]), dim=0)
    return [SummaryRow(n, *(float(v) for v in (mean[i], sd[i], q[0, i], q[1, i], q[2, i])))
            for i, n in enumerate(names)]
