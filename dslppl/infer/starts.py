"""Where a variational fit starts: the MAP, unless the MAP is a trap.

The whitened start (:func:`~dslppl.infer.laplace.build_family`) is excellent
when the joint mode is representative of the posterior, and a trap when it is
not. In hierarchical and latent-state models with a scale parameter, the
joint mode in unconstrained space often sits at the neck of a funnel (the
scale collapsed towards zero, the latents all equal), where the curvature is
huge and the Laplace covariance tiny; a guide started there stays there (a
stochastic volatility model ended with its innovation sd at 15-34 where NUTS
says 0.37). :func:`trap` recognises such a mode:

- no mode was found (L-BFGS ran off, or the Hessian is not positive definite);
- the Hessian at the mode is near singular (condition number above 1e8);
- the mode lies outside the range of 100 draws from the prior, in some
  coordinate of ``u`` (a scale collapsed to zero, a length scale far in the
  prior's tail).

Then ``fit`` runs several short fits: from the MAP (when there is one), from
``bound.init`` (``u = 0``, or the user's ``init``) and from ``STARTS`` points
drawn uniformly in [-2, 2] in every coordinate of ``u`` (Stan's default), each
for a tenth of the step budget; each is then scored by its ELBO on
``SCORE_PARTICLES`` common draws, and the fit continues from the best.
"""
from __future__ import annotations

import torch

from typing import Mapping

from ..binding.bound import BoundModel
from ..diagnostics import did_you_mean
from ..runtime import trace, uncondition
from .laplace import MapResult

__all__ = ["trap", "random_inits", "initial_point", "STARTS", "SCORE_PARTICLES"]

STARTS = 4               # random starts besides the MAP and bound.init
SCORE_PARTICLES = 256    # draws of the ELBO that scores each start
PRIOR_DRAWS = 100
MAX_CONDITION = 1e8


def trap(bound: BoundModel, map_result: MapResult) -> str | None:
    """Why the MAP is no place to start (see the module docstring), or None if it is."""
    if not map_result.found:
        return f"no posterior mode ({map_result.message})"
    evals = torch.linalg.eigvalsh(map_result.precision)
    if evals[0] <= 0 or evals[-1] / evals[0] > MAX_CONDITION:
        return f"the Hessian at the mode is near singular (condition number {evals[-1] / evals[0]:.2g})"
    prior = _prior_draws(bound)
    if prior is not None:
        mode = map_result.mode
        outside = (mode < prior.min(0).values) | (mode > prior.max(0).values)
        if bool(outside.any()):
            name = _site_of(bound, int(outside.nonzero()[0]))
            return f"the mode lies outside the prior's range in {name!r} (a collapsed scale or a funnel)"
    return None


def _prior_draws(bound: BoundModel) -> torch.Tensor | None:
    """``PRIOR_DRAWS`` draws of ``u`` from the prior (None if the model cannot be run that way)."""
    names = [site.name for site in bound.latents]
    rows = []
    with torch.no_grad(), torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        try:
            for _ in range(PRIOR_DRAWS):
                nodes = trace(uncondition(bound.model)).get_trace().nodes
                rows.append(bound.unconstrain({name: nodes[name].value for name in names}))
        except (RuntimeError, ValueError, KeyError):
            return None
    draws = torch.stack(rows)
    return draws if bool(torch.isfinite(draws).all()) else None


def _site_of(bound: BoundModel, index: int) -> str:
    for site in bound.latents:
        if site.offset <= index < site.offset + site.size:
            return site.name
    return "?"


def random_inits(bound: BoundModel, n: int, seed: int) -> list[torch.Tensor]:
    """``n`` points uniform in [-2, 2] in every coordinate of ``u`` (Stan's default), seeded."""
    gen = torch.Generator().manual_seed(seed)
    return [(torch.rand(bound.dim, generator=gen, dtype=bound.init.dtype) * 4 - 2)
            for _ in range(n)]




def initial_point(bound: BoundModel, values: Mapping[str, object]) -> torch.Tensor:
    """``u`` with the named latents at the given constrained ``values`` (the others at ``bound.init``).

    >>> from torch.distributions import HalfNormal
    >>> from dslppl.runtime import sample
    >>> from dslppl.infer import bind_program
    >>> bound = bind_program(lambda: sample("s", HalfNormal(1.0)))
    >>> round(initial_point(bound, {"s": 2.0}).exp().item(), 6)
    2.0
    """
    names = [site.name for site in bound.latents]
    unknown = sorted(set(values) - set(names))
    if unknown:
        hints = [did_you_mean(name, names) for name in unknown]
        raise ValueError(f"init names {unknown}, which are not latents of {bound.name!r} "
                         f"(latents: {', '.join(names)})" + "".join(f"; {h}" for h in hints if h))
    current = bound.constrain(bound.init)
    for name, value in values.items():
        tensor = torch.as_tensor(value, dtype=bound.dtype)
        current[name] = tensor.expand(bound.site(name).shape).clone()
    u = bound.unconstrain(current)
    if not bool(torch.isfinite(u).all()):
        raise ValueError("init puts a latent outside its support (or on its boundary)")
    return u.detach()
