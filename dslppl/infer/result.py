"""``Fit``: the result of :func:`~dslppl.infer.fit.fit`, and how it is saved.

A ``Fit`` keeps the fitted guide (an automatic guide's family and parameter
vector, or a DSL guide's parameter values), the losses and the MAP search's
outcome. With the ``BoundModel`` it was fitted on, it draws from the
posterior (every latent and deterministic site), summarises, and draws
posterior predictive data. ``save`` writes all of it with ``torch.save``;
``Fit.load`` reads it with ``weights_only=True`` and, given the bound model
again, does everything a fresh fit does; without it, it still rebuilds the
guide's distribution over ``u`` and returns the summary saved with the file.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch

from ..binding.bound import BoundModel
from .checkpoint import save_atomic
from .draws import draws_from_guide, draws_from_u, predictive_draws, with_discrete
from .families import Family, family_from_state
from .reliability import Reliability
from .summary import Summary
from .threads import auto_threads, threads

__all__ = ["Fit", "MapInfo"]

_FORMAT = 1


@dataclass(frozen=True)
class MapInfo:
    """What the MAP search found (see :func:`~dslppl.infer.laplace.find_map`)."""

    found: bool
    log_density: float
    iterations: int
    message: str


@dataclass(eq=False)
class Fit:
    """A fitted guide: ``losses``, ``params``, draws and summaries (module docstring)."""

    model: str
    guide: str
    losses: list[float]
    family: Family | None = None             # automatic guides
    phi: torch.Tensor | None = None          # the family's fitted parameter vector
    param_values: dict[str, torch.Tensor] = field(default_factory=dict)  # `param` sites
    map: MapInfo | None = None
    converged: bool = False                  # the ELBO stopped improving before the step budget ran out
    bound: BoundModel | None = field(default=None, repr=False)
    saved_summary: Summary | None = field(default=None, repr=False)
    reliability: Reliability | None = None   # k-hat, convergence and warnings (set by fit)

    @property
    def steps(self) -> int:
        """Optimizer steps taken (L-BFGS evaluations for MAP-only guides)."""
        return len(self.losses)

    @property
    def final_loss(self) -> float:
        """The mean loss over the last 50 steps (the loss itself is noisy)."""
        tail = self.losses[-50:]
        return sum(tail) / len(tail) if tail else float("nan")

    @property
    def params(self) -> dict[str, torch.Tensor]:
        """The guide's parameters (an automatic guide's in ``u``-space), and ``param`` sites."""
        out = {}
        if self.family is not None:
            out.update({k: v.detach() for k, v in self.family.named_params(self.phi).items()})
        out.update(self.param_values)
        return out

    def distribution(self) -> torch.distributions.Distribution:
        """An automatic guide's q over the flat unconstrained vector ``u``."""
        if self.family is None:
            raise ValueError("a DSL guide has no distribution over u; use sample_posterior")
        return self.family.distribution(self.phi.detach())

    # --- draws -----------------------------------------------------------------
    def sample_posterior(self, n: int = 1000, seed: int | None = None) -> dict[str, torch.Tensor]:
        """``n`` draws of every latent and deterministic site: name -> ``[n, ...]``; discrete
        latents (summed out of the fitted density) drawn from their exact conditional."""
        bound = self._need_bound("sample_posterior")
        with _seeded(seed), threads(auto_threads(bound)):
            if self.family is None:
                draws = draws_from_guide(bound, bound.guide, self.param_values, n)
            else:
                draws = draws_from_u(bound, self.distribution().sample((n,)), self.param_values)
            return with_discrete(bound, draws, self.param_values, n)

    def predictive(self, n: int = 1000, seed: int | None = None) -> dict[str, torch.Tensor]:
        """``n`` posterior predictive draws of the observed sites: name -> ``[n, ...]``."""
        bound = self._need_bound("predictive")
        with _seeded(seed), threads(auto_threads(bound)):
            latents = self.sample_posterior(n)
            return predictive_draws(bound, latents, self.param_values)

    def summary(self, n: int = 4000, seed: int | None = 0) -> Summary:
        """Mean, sd, 5/50/95% quantiles per scalar coordinate, from ``n`` draws."""
        if self.bound is None and self.saved_summary is not None:
            return self.saved_summary
        draws = self.sample_posterior(n, seed)
        return Summary.from_draws(draws, self._need_bound("summary").offsets)

    def format_summary(self, summary: Summary | None = None) -> str:
        """The summary (by default `summary()`) as a table for the terminal, under a one-line header."""
        head = f"{self.model}: guide {self.guide}, {self.steps} steps, final loss {self.final_loss:.6g}"
        if self.reliability is not None:
            r = self.reliability
            khat = "" if r.khat is None else f", k-hat {r.khat:.2f}"
            head += f"{khat}, {'converged' if r.converged else 'NOT converged'}"
        lines = [head, str(summary if summary is not None else self.summary())]
        if self.reliability is not None:
            lines += [f"warning: {w}" for w in self.reliability.warnings]
        return "\n".join(lines)

    def to_json(self, summary: Summary | None = None) -> dict[str, Any]:
        """``{"model", "guide", "steps", "final_loss", "converged", "khat", "reliable",
        "warnings", "summary": {coordinate: stats}}``."""
        summary = summary if summary is not None else self.summary()
        verdict = (self.reliability.to_dict() if self.reliability is not None
                   else {"converged": self.converged})
        return {"model": self.model, "guide": self.guide, "steps": self.steps,
                "final_loss": self.final_loss, **verdict, "summary": summary.to_dict()}

    def to_arviz(self, n: int = 1000, seed: int | None = 0):
        """``n`` posterior and predictive draws as ArviZ ``InferenceData`` (one chain)."""
        from .arviz import fit_to_arviz

        return fit_to_arviz(self, n, seed)

    def _need_bound(self, what: str) -> BoundModel:
        if self.bound is None:
            raise ValueError(f"{what} needs the model: Fit.load(path, bound=model.bind(data))")
        return self.bound

    # --- persistence ------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> None:
        """Write the fit (atomically); the summary goes with it when the model is at hand."""
        summary = self.summary().to_dict() if (self.bound is not None or self.saved_summary) else None
        save_atomic({
            "format": _FORMAT, "model": self.model, "guide": self.guide,
            "losses": torch.tensor(self.losses, dtype=torch.float64),
            "family": None if self.family is None else self.family.state(),
            "phi": None if self.phi is None else self.phi.detach(),
            "param_values": self.param_values,
            "map": None if self.map is None else vars(self.map),
            "converged": self.converged, "summary": summary,
            "reliability": None if self.reliability is None else self.reliability.to_dict(),
        }, path)

    @classmethod
    def load(cls, path: str | os.PathLike, bound: BoundModel | None = None) -> "Fit":
        """Read a file written by :meth:`save`; pass ``bound`` to draw and re-summarise."""
        state = torch.load(path, weights_only=True)
        if state.get("format") != _FORMAT:
            raise ValueError(f"{os.fspath(path)!r} is not a dslppl fit file")
        return cls(
            model=state["model"], guide=state["guide"], losses=state["losses"].tolist(),
            family=None if state["family"] is None else family_from_state(state["family"]),
            phi=state["phi"], param_values=state["param_values"],
            map=None if state["map"] is None else MapInfo(**state["map"]),
            converged=state["converged"], bound=bound,
            saved_summary=None if state["summary"] is None else Summary.from_dict(state["summary"]),
            reliability=_reliability(state.get("reliability")))


def _reliability(saved: dict | None) -> Reliability | None:
    if saved is None:
        return None
    return Reliability(saved["khat"], saved["converged"], tuple(saved["warnings"]))


@contextmanager
def _seeded(seed: int | None):
    """Seed torch's RNG inside the block, leaving the caller's stream as it was (None: no-op)."""
    with torch.random.fork_rng(devices=[], enabled=seed is not None):
        if seed is not None:
            torch.manual_seed(seed)
        yield
