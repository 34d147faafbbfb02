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
from torch.distributions import Distribution

from ..binding.bound import BoundModel
from ..runtime import Trace, replay, substitute, trace, uncondition

__all__ = ["draws_from_u", "draws_from_guide", "predictive_draws"]


def _site_values(tr: Trace, observed: bool = False) -> dict[str, torch.Tensor]:
    """Latent sample and deterministic values of ``tr`` (or observed ones, if ``observed``)."""
    out = {}
    for name, msg in tr.nodes.items():
        if observed:
            if msg.kind == "sample" and msg.infer.get("was_observed"):
                out[name] = msg.value
        elif msg.kind == "deterministic" or (msg.kind == "sample" and not msg.is_observed):
            out[name] = msg.value
    return out


def _stack(rows: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    return {name: torch.stack([torch.as_tensor(r[name]) for r in rows]) for name in rows[0]}


def draws_from_u(bound: BoundModel, us: torch.Tensor, params: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """Latent and deterministic values at each row of ``us`` (``[n, D]``)."""
    def one(u: torch.Tensor) -> dict[str, torch.Tensor]:
        values = bound.constrain(u)
        tr = trace(substitute(bound.model, data={**params, **values})).get_trace()
        return _site_values(tr)

    with torch.no_grad():
        validate = Distribution._validate_args
        Distribution.set_default_validate_args(False)
        try:
            return torch.func.vmap(one, randomness="same")(us)
        except (RuntimeError, ValueError, NotImplementedError, TypeError):
            pass
        finally:
            Distribution.set_default_validate_args(validate)
        return _stack([one(u) for u in us])


def draws_from_guide(bound: BoundModel, guide: Callable, params: Mapping[str, Any],
                     n: int) -> dict[str, torch.Tensor]:
    """Latent and deterministic values of ``n`` runs of ``guide`` replayed into the model."""
    rows = []
    with torch.no_grad():
        for _ in range(n):
            guide_tr = trace(substitute(guide, data=params)).get_trace()
            model = substitute(bound.model, data=params)
            rows.append(_site_values(trace(replay(model, trace=guide_tr)).get_trace()))
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
            rows.append(_site_values(trace(model).get_trace(), observed=True))
    return _stack(rows)
