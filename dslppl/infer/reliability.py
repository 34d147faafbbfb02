"""Whether a variational fit can be trusted, and what to do when it cannot.

Every fit is checked after training. The guide draws ``n`` points; at each,
the log weight ``potential(u) - log q(u)`` (or, for a DSL guide, the model
trace's log-density minus the guide's) goes into Pareto smoothed importance
sampling (:mod:`~dslppl.infer.psis`), whose tail shape k-hat measures how
much posterior mass the guide misses. A fit is *reliable* when

- k-hat <= 0.7 (the guide covers the posterior well enough for its summaries);
- the guide's own means and sds agree with their importance-weighted values
  (within 0.3 sd and 25%): a guide *wider* than the posterior has a small
  k-hat (its draws cover everything) but wrong sds, which the weights correct;
- the guide's draws have sane log-densities (none below -1e10: a fit that
  ran into a singular scale or a degenerate mode reaches absurd values);
- and the optimisation converged (the ELBO stopped rising before the step
  budget ran out).

Each failed condition becomes a warning in words, naming the likely cause
and the remedy. ``delta`` (a point) has no k-hat and is never called reliable
as a posterior.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

from ..runtime import replay, trace
from .psis import psis
from .rows import over_rows

__all__ = ["Reliability", "assess", "guide_log_weights", "program_log_weights", "KHAT_BAD", "ABSURD"]

KHAT_BAD = 0.7    # above: its summaries are not to be trusted
ABSURD = -1e10    # a log-density this low on the guide's own draws is a numerical failure
MEAN_SHIFT = 0.3  # guide mean vs importance-weighted mean, in weighted sds
SD_RATIO = 0.25   # guide sd vs importance-weighted sd, relative
_CHUNK = 100      # draws per batched potential evaluation


@dataclass(frozen=True)
class Reliability:
    """The verdict on a fit: k-hat, convergence, and the warnings in words."""

    khat: float | None
    converged: bool
    warnings: tuple[str, ...] = field(default=())

    @property
    def reliable(self) -> bool:
        return not self.warnings

    def to_dict(self) -> dict:
        khat = None if self.khat is None or not math.isfinite(self.khat) else self.khat
        return {"khat": khat, "reliable": self.reliable, "converged": self.converged,
                "warnings": list(self.warnings)}


def assess(log_weights: torch.Tensor | None, draws: torch.Tensor | None, guide: str,
           converged: bool, steps: int, final_loss: float) -> Reliability:
    """The verdict from the guide's draws (``[n, D]``) and their log weights (None: a point guide)."""
    warnings = []
    khat = None
    remedy = _remedy(guide)
    if log_weights is None:
        warnings.append("a point estimate (guide 'delta') carries no posterior uncertainty: "
                        f"for means and sds {remedy}")
    else:
        lw = log_weights.detach().double().cpu().numpy()
        lw = np.where(np.isnan(lw), -np.inf, lw)
        finite = np.isfinite(lw)    # -inf: a draw where the model's density is zero (weight 0)
        smoothed, khat = psis(lw) if finite.sum() >= 10 else (None, math.inf)
        if not math.isfinite(final_loss) or abs(final_loss) > -ABSURD or (lw[finite] < ABSURD).any():
            warnings.append("the fit went numerically wrong (absurd log-densities on the guide's own "
                            "draws, typically a scale collapsed to zero or a degenerate starting "
                            f"mode): {remedy}")
        if khat > KHAT_BAD:
            warnings.append(f"the guide does not match the posterior (Pareto k-hat {khat:.2f} > "
                            f"{KHAT_BAD}; it misses posterior mass, so means and sds are off): {remedy}")
        elif math.isfinite(khat):
            warnings.extend(_moment_warnings(draws.detach().double().cpu().numpy(), smoothed,
                                             remedy))
    if not converged and guide not in ("laplace", "delta"):
        warnings.append(f"the fit did not converge in {steps} steps (the ELBO was still changing): "
                        "run more --steps, or more --num-particles if the loss is noisy")
    return Reliability(khat, converged, tuple(warnings))


def _moment_warnings(draws: np.ndarray, log_w: np.ndarray, remedy: str) -> list[str]:
    """Compare the guide's mean and sd per coordinate with the importance-weighted ones."""
    w = np.exp(log_w)[:, None]
    mean_q, sd_q = draws.mean(0), draws.std(0)
    mean_w = (w * draws).sum(0)
    sd_w = np.sqrt((w * (draws - mean_w) ** 2).sum(0))
    ok = sd_w > 0
    if not ok.any():
        return []
    shift = float(np.max(np.abs(mean_q - mean_w)[ok] / sd_w[ok]))
    ratio = sd_q[ok] / sd_w[ok]
    worst = float(ratio[np.argmax(np.abs(np.log(ratio)))])
    if shift <= MEAN_SHIFT and abs(worst - 1) <= SD_RATIO:
        return []
    return [f"the guide's means and sds disagree with their importance-weighted values (a mean off "
            f"by {shift:.2f} sd, an sd {worst:.2f} times the weighted one): the fit has not found "
            f"the posterior; run more --steps (or a larger --lr), or {remedy}"]


def _remedy(guide: str) -> str:
    options = ["use --method nuts"]
    if guide in ("normal", "lowrank", "laplace", "delta"):
        options.append("--guide mvn")
    if guide != "laplace" and guide != "delta":
        options.append("more --num-particles (e.g. 16)")
    return ", or ".join(options)


def guide_log_weights(family, phi: torch.Tensor, potential: Callable,
                      n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``potential(u) - log q(u)`` at ``n`` draws ``u`` of an automatic guide, and the draws."""
    batched = over_rows(potential)
    with torch.no_grad():
        q = family.distribution(phi.detach())
        us = q.sample((n,))
        log_p = torch.cat([batched(chunk) for chunk in us.split(_CHUNK)])  # bounded memory on big data
        return log_p - q.log_prob(us), us


def program_log_weights(model: Callable, guide: Callable,
                        n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Model-minus-guide log-density of ``n`` runs of a DSL guide replayed into the model,
    and the latents' values (flattened, ``[n, D]``)."""
    weights, draws = [], []
    with torch.no_grad():
        for _ in range(n):
            guide_tr = trace(guide).get_trace()
            model_tr = trace(replay(model, trace=guide_tr)).get_trace()
            model_tr.compute_log_prob()
            guide_tr.compute_log_prob()
            log_q = sum(msg.log_prob_sum for msg in guide_tr.nodes.values()
                        if msg.kind == "sample" and not msg.is_observed)
            weights.append(model_tr.log_prob_sum() - log_q)
            draws.append(torch.cat([torch.as_tensor(model_tr.nodes[name].value).reshape(-1)
                                    for name in model_tr.stochastic_nodes()]))
    return torch.stack(weights), torch.stack(draws)
