"""Posterior and posterior-predictive draws: run the model program at the guide's draws.

Every latent and deterministic site of the model is read off a trace of
``bound.model`` with the latents substituted (and the ``param`` sites set to
the fitted values). For automatic guides the draws of ``u`` come in one
batch and the model runs under ``torch.func.vmap`` when it can (a model whose
code vmap cannot run is traced once per draw instead). DSL guides and the
posterior predictive draw their own randomness in the program, which vmap
cannot batch, so they are traced once per draw.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

import torch

from ..binding.bound import BoundModel
from ..runtime import Trace, replay, substitute, trace, uncondition
from .rows import over_rows

__all__ = ["draws_from_u", "draws_from_guide", "predictive_draws", "with_discrete"]


def _posterior_names(bound: BoundModel) -> frozenset[str]:
    # bound.deterministic leaves out nodes that read only data (transformed
    # data): they do not vary across draws, and batching them would copy the data n times.
    return frozenset(s.name for s in bound.latents) | frozenset(bound.deterministic)


def _site_values(tr: Trace, names: frozenset[str]) -> dict[str, torch.Tensor]:
    """The values of the sites of ``tr`` named in ``names``, in trace order."""
    return {name: msg.value for name, msg in tr.nodes.items() if name in names}


def _stack(rows: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    return {name: torch.stack([torch.as_tensor(r[name]) for r in rows]) for name in rows[0]}


def draws_from_u(bound: BoundModel, us: torch.Tensor, params: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """Latent and deterministic values at each row of ``us`` (``[n, D]``)."""
    names = _posterior_names(bound)

    def one(u: torch.Tensor) -> dict[str, torch.Tensor]:
        values = bound.constrain(u)
        tr = trace(substitute(bound.model, data={**params, **values})).get_trace()
        return _site_values(tr, names)

    with torch.no_grad():
        return over_rows(one, _stack)(us)


def draws_from_guide(bound: BoundModel, guide: Callable, params: Mapping[str, Any],
                     n: int) -> dict[str, torch.Tensor]:
    """Latent and deterministic values of ``n`` runs of ``guide`` replayed into the model."""
    names = _posterior_names(bound)
    rows = []
    with torch.no_grad():
        for _ in range(n):
            guide_tr = trace(substitute(guide, data=params)).get_trace()
            model = substitute(bound.model, data=params)
            rows.append(_site_values(trace(replay(model, trace=guide_tr)).get_trace(), names))
    return _stack(rows)


def predictive_draws(bound: BoundModel, latents: Mapping[str, torch.Tensor],
                     params: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """Observed sites redrawn from the model at each posterior draw in ``latents``."""
    names = [s.name for s in bound.latents]
    n = len(next(iter(latents.values())))
    rows = []
    with torch.no_grad():
        for i in range(n):
            values = {name: latents[name][i] for name in names}
            model = uncondition(substitute(bound.model, data={**params, **values}))
            rows.append(_site_values(trace(model).get_trace(), frozenset(bound.observed)))
    return _stack(rows)


def with_discrete(bound: BoundModel, draws: dict[str, torch.Tensor], params: Mapping[str, Any],
                  n: int) -> dict[str, torch.Tensor]:
    """``draws`` with every summed-out discrete latent drawn from its exact conditional given
    each row's continuous values (`BoundModel.sample_discrete`)."""
    if not bound.discrete:
        return draws
    names = [s.name for s in bound.latents]
    rows = [bound.sample_discrete({**params, **{k: draws[k][i] for k in names}}) for i in range(n)]
    return {**draws, **_stack(rows)}
