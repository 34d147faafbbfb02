"""``Posterior``: the draws of an MCMC run, with the interface of the variational ``Fit``.

It keeps each chain's draws of the flat unconstrained vector ``u``
(``[chains, draws, D]``) and the sampler's statistics per draw; with the
``BoundModel`` at hand it turns them into every latent and deterministic
site (``draws()``, ``sample_posterior``), summarises them with R-hat and
ESS, checks them (:meth:`Posterior.diagnostics`, :meth:`Posterior.warnings`),
draws posterior predictive data, writes CmdStan-like CSV and converts to
ArviZ. ``save``/``load`` as for ``Fit``.
"""
from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..binding.bound import BoundModel
from . import diagnostics as diag
from .checkpoint import save_atomic
from .draws import draws_from_u, predictive_draws, with_discrete
from .summary import Summary, coordinate_names
from .threads import auto_threads, threads

__all__ = ["Posterior", "STAT_NAMES", "SamplingWarning"]

_FORMAT = 1
# Per-draw sampler statistics, and their dtypes.
STAT_NAMES = {"lp": torch.float64, "accept_stat": torch.float64, "step_size": torch.float64,
              "tree_depth": torch.long, "n_leapfrog": torch.long, "diverging": torch.bool,
              "energy": torch.float64}
RHAT_LIMIT = 1.01
ESS_PER_CHAIN = 100


class SamplingWarning(UserWarning):
    """The draws may not represent the posterior (R-hat, ESS, divergences, tree depth, E-BFMI)."""


@dataclass(eq=False)
class Posterior:
    """MCMC draws and what is computed from them (see the module docstring)."""

    model: str
    config: dict
    u: torch.Tensor                      # [chains, draws, D]
    stats: dict[str, torch.Tensor]       # name -> [chains, draws]
    step_size: torch.Tensor              # [chains], after warm-up
    inverse_metric: torch.Tensor         # [chains, D] or [chains, D, D]
    warmup_divergences: torch.Tensor     # [chains]
    bound: BoundModel | None = field(default=None, repr=False)
    saved_summary: Summary | None = field(default=None, repr=False)
    timing: dict[str, float] = field(default_factory=dict)  # seconds: setup, warmup, sampling, compile
    _draws: dict[str, torch.Tensor] | None = field(default=None, repr=False)
    _summary: Summary | None = field(default=None, repr=False)

    @property
    def chains(self) -> int:
        return self.u.shape[0]

    @property
    def num_draws(self) -> int:
        return self.u.shape[1]

    # --- draws -----------------------------------------------------------------------------
    def draws(self) -> dict[str, torch.Tensor]:
        """Every latent and deterministic site, per chain: name -> ``[chains, draws, ...]``."""
        if self._draws is None:
            bound = self._need_bound("draws")
            with threads(auto_threads(bound)):
                flat = draws_from_u(bound, self.u.flatten(0, 1), {})
                flat = with_discrete(bound, flat, {}, self.chains * self.num_draws)  # from their exact conditionals
            self._draws = {k: v.reshape(self.chains, self.num_draws, *v.shape[1:]) for k, v in flat.items()}
        return self._draws

    def sample_posterior(self, n: int | None = None, seed: int | None = None) -> dict[str, torch.Tensor]:
        """The draws of all chains pooled: name -> ``[chains * draws, ...]``; with ``n``,
        ``n`` of them picked at random (with replacement beyond the number drawn)."""
        pooled = {k: v.flatten(0, 1) for k, v in self.draws().items()}
        if n is None:
            return pooled
        index = self._pick(n, seed)
        return {k: v[index] for k, v in pooled.items()}

    def _pick(self, n: int, seed: int | None) -> torch.Tensor:
        total = self.chains * self.num_draws
        generator = torch.Generator().manual_seed(0 if seed is None else seed)
        if n <= total:
            return torch.randperm(total, generator=generator)[:n]
        return torch.randint(total, (n,), generator=generator)

    def predictive(self, n: int | None = None, seed: int | None = None) -> dict[str, torch.Tensor]:
        """Posterior predictive draws of the observed sites, one per posterior draw."""
        bound = self._need_bound("predictive")
        latents = self.sample_posterior(n, seed)
        with torch.random.fork_rng(devices=[]), threads(auto_threads(bound)):
            torch.manual_seed(self.config["seed"] if seed is None else seed)
            return predictive_draws(bound, latents, {})

    # --- summaries -------------------------------------------------------------------------
    def summary(self, n: int | None = None, seed: int | None = 0) -> Summary:
        """Mean, sd, quantiles, R-hat, bulk/tail ESS and MCSE per scalar coordinate
        (``n`` and ``seed`` are accepted for the ``Fit`` interface; all draws are used)."""
        if self.bound is None and self.saved_summary is not None:
            return self.saved_summary
        if self._summary is None:
            self._summary = Summary.from_chains(self.draws(), self._need_bound("summary").offsets)
        return self._summary

    def diagnostics(self) -> dict[str, Any]:
        """Divergences, tree-depth saturation, E-BFMI and step sizes, as plain numbers."""
        diverging = self.stats["diverging"]
        chain, draw = diverging.nonzero(as_tuple=True)
        max_depth = self.config["max_tree_depth"]
        return {
            "divergences": int(diverging.sum()),
            "divergent_draws": [[int(c), int(d)] for c, d in zip(chain[:20], draw[:20])],
            "warmup_divergences": int(self.warmup_divergences.sum()),
            "max_tree_depth": max_depth,
            "tree_depth_saturated": (int((self.stats["tree_depth"] >= max_depth).sum())
                                     if self.config["algorithm"] == "nuts" else 0),
            "ebfmi": [float(x) for x in diag.ebfmi(self.stats["energy"].numpy())],
            "step_size": [float(x) for x in self.step_size],
            "mean_accept_stat": [float(x) for x in self.stats["accept_stat"].mean(1)],
            "seconds": dict(self.timing),
        }

    def warnings(self, summary: Summary | None = None) -> list[str]:
        """Plain-words warnings about the run; empty when every check passes."""
        summary = summary if summary is not None else self.summary()
        info, out = self.diagnostics(), []
        if info["divergences"]:
            first = ", ".join(f"chain {c} draw {d}" for c, d in info["divergent_draws"][:3])
            out.append(f"{info['divergences']} of {self.chains * self.num_draws} draws ended in a divergent "
                       f"transition (first: {first}): the sampler could not follow the posterior's "
                       "curvature there, so the draws may be biased; try adapt_delta=0.95 or "
                       "a non-centred parameterization")
        if info["tree_depth_saturated"]:
            out.append(f"{info['tree_depth_saturated']} draws hit the maximum tree depth "
                       f"{info['max_tree_depth']}: the sampler is inefficient; raise max_tree_depth "
                       "or reparameterize")
        low = [i for i, e in enumerate(info["ebfmi"]) if e < 0.3]
        if low:
            out.append(f"E-BFMI below 0.3 in chain(s) {', '.join(map(str, low))}: the momentum "
                       "resampling explores the energy poorly (a heavy-tailed or funnel posterior)")
        rows = [r for r in summary if r.r_hat is not None]
        bad_rhat = sorted((r for r in rows if not r.r_hat <= RHAT_LIMIT), key=lambda r: -_or_inf(r.r_hat))
        if bad_rhat:
            out.append(f"R-hat above {RHAT_LIMIT} for {len(bad_rhat)} coordinate(s) (worst: "
                       f"{_worst(bad_rhat, 'r_hat')}): the chains disagree, so they have not "
                       "converged; run longer or check the model")
        limit = ESS_PER_CHAIN * self.chains
        low_ess = sorted((r for r in rows if not min(r.ess_bulk, r.ess_tail) >= limit),
                         key=lambda r: min(r.ess_bulk, r.ess_tail))
        if low_ess:
            out.append(f"effective sample size below {ESS_PER_CHAIN} per chain for {len(low_ess)} "
                       f"coordinate(s) (worst: {_worst(low_ess, 'ess_bulk')}): means and quantiles "
                       "are imprecise; run more draws")
        return out

    def format_summary(self, summary: Summary | None = None) -> str:
        """The summary as a table under a one-line header."""
        info = self.diagnostics()
        head = (f"{self.model}: {self.config['algorithm']}, {self.chains} chains x {self.num_draws} draws "
                f"(warm-up {self.config['warmup']}), {info['divergences']} divergent")
        return head + "\n" + str(summary if summary is not None else self.summary())

    def to_json(self, summary: Summary | None = None) -> dict[str, Any]:
        """``{"model", "method", "chains", ..., "summary", "diagnostics", "warnings"}``."""
        summary = summary if summary is not None else self.summary()
        return {"model": self.model, "method": self.config["algorithm"], "chains": self.chains,
                "warmup": self.config["warmup"], "draws": self.num_draws, "seed": self.config["seed"],
                "summary": summary.to_dict(), "diagnostics": self.diagnostics(),
                "warnings": self.warnings(summary)}

    def _need_bound(self, what: str) -> BoundModel:
        if self.bound is None:
            raise ValueError(f"{what} needs the model: Posterior.load(path, bound=model.bind(data))")
        return self.bound

    # --- files -------------------------------------------------------------------------------
    def to_csv(self, path: str | os.PathLike) -> None:
        """CmdStan-like CSV: chain, draw, the sampler's ``__`` columns, then one column per coordinate."""
        draws = self.draws()
        names, columns = [], []
        for name, x in draws.items():
            names += coordinate_names(name, tuple(x.shape[2:]), self.bound.offsets.get(name, ()))
            columns.append(x.reshape(self.chains, self.num_draws, -1).to(torch.float64))
        values = torch.cat(columns, -1).flatten(0, 1).numpy() if columns else np.zeros((self.chains * self.num_draws, 0))
        stat_cols = {"lp__": "lp", "accept_stat__": "accept_stat", "stepsize__": "step_size",
                     "treedepth__": "tree_depth", "n_leapfrog__": "n_leapfrog",
                     "divergent__": "diverging", "energy__": "energy"}
        stats = [self.stats[s].flatten().to(torch.float64).numpy() for s in stat_cols.values()]
        chain = np.repeat(np.arange(self.chains), self.num_draws)
        draw = np.tile(np.arange(self.num_draws), self.chains)
        with open(path, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["chain", "draw", *stat_cols, *names])
            for i in range(len(chain)):
                writer.writerow([chain[i], draw[i], *(f"{s[i]:.10g}" for s in stats),
                                 *(f"{v:.10g}" for v in values[i])])

    def save(self, path: str | os.PathLike) -> None:
        """Write the draws and statistics (atomically), with the summary when the model is at hand."""
        summary = self.summary().to_dict() if (self.bound is not None or self.saved_summary) else None
        save_atomic({"format": _FORMAT, "kind": "mcmc", "model": self.model, "config": self.config,
                     "u": self.u, "stats": self.stats, "step_size": self.step_size,
                     "inverse_metric": self.inverse_metric,
                     "warmup_divergences": self.warmup_divergences, "summary": summary}, path)

    @classmethod
    def load(cls, path: str | os.PathLike, bound: BoundModel | None = None) -> "Posterior":
        """Read a file written by :meth:`save`; pass ``bound`` to compute draws again."""
        state = torch.load(path, weights_only=True)
        if state.get("format") != _FORMAT or state.get("kind") != "mcmc":
            raise ValueError(f"{os.fspath(path)!r} is not a dslppl MCMC file")
        return cls(state["model"], state["config"], state["u"], state["stats"], state["step_size"],
                   state["inverse_metric"], state["warmup_divergences"], bound,
                   None if state["summary"] is None else Summary.from_dict(state["summary"]))

    def to_arviz(self):
        """An ``arviz`` InferenceData (posterior, sample_stats, posterior_predictive,
        observed_data), with plate names as dimension names."""
        from .arviz import posterior_to_arviz

        return posterior_to_arviz(self)


def _or_inf(x: float) -> float:
    return float("inf") if x != x else x


def _worst(rows: list, stat: str) -> str:
    return ", ".join(f"{r.name} {getattr(r, stat):.3g}" for r in rows[:3])
