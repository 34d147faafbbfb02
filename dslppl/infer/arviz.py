"""Conversion to ArviZ ``InferenceData``, with plate names as dimension names.

ArviZ is optional: it is imported only here, when a conversion is asked for.
Each site's dimensions are named after the plates it lies in (read off one
trace of the model: a plate frame's ``dim`` counts from the right of the
site's batch shape), with the plate's indices as coordinates; any other
dimension is ``NAME_dim_K``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch

from ..binding.bound import BoundModel
from ..runtime import substitute, trace

if TYPE_CHECKING:
    from .posterior import Posterior
    from .result import Fit

__all__ = ["posterior_to_arviz", "fit_to_arviz"]


def _arviz():
    try:
        import arviz
    except ImportError:
        raise ImportError("to_arviz needs ArviZ: pip install arviz") from None
    return arviz


def _site_dims(bound: BoundModel) -> tuple[dict[str, list[str]], dict[str, np.ndarray]]:
    """Dimension names per site (beyond chain and draw), and the coordinates of plate dimensions."""
    with torch.no_grad():
        tr = trace(substitute(bound.model, data=bound.constrain(bound.init))).get_trace()
    dims, coords = {}, {}
    for name, msg in tr.nodes.items():
        if msg.kind not in ("sample", "deterministic"):
            continue
        shape = tuple(torch.as_tensor(msg.value).shape)
        event_dim = getattr(msg.fn, "event_dim", 0) if msg.kind == "sample" else 0
        names = [f"{name}_dim_{k}" for k in range(len(shape))]
        for frame in msg.plates:
            axis = len(shape) - event_dim + frame.dim
            if 0 <= axis < len(shape) and shape[axis] == frame.size:
                names[axis] = frame.name
                start = bound.offsets.get(name, ())
                lo = start[axis] if axis < len(start) else 0
                coords[frame.name] = np.arange(lo, lo + frame.size)
        dims[name] = names
    return dims, coords


def _observed(bound: BoundModel) -> dict[str, np.ndarray]:
    with torch.no_grad():
        tr = trace(substitute(bound.model, data=bound.constrain(bound.init))).get_trace()
    return {name: torch.as_tensor(msg.value).numpy() for name, msg in tr.nodes.items()
            if msg.kind == "sample" and msg.is_observed}


def _numpy(draws: dict[str, torch.Tensor]) -> dict[str, np.ndarray]:
    return {k: v.detach().numpy() for k, v in draws.items()}


def posterior_to_arviz(posterior: "Posterior"):
    """InferenceData with posterior, sample_stats, posterior_predictive and observed_data."""
    az = _arviz()
    bound = posterior._need_bound("to_arviz")
    dims, coords = _site_dims(bound)
    chains, n = posterior.chains, posterior.num_draws
    predictive = posterior.predictive()
    stats = posterior.stats
    sample_stats = {"lp": stats["lp"], "acceptance_rate": stats["accept_stat"], "step_size": stats["step_size"],
                    "tree_depth": stats["tree_depth"], "n_steps": stats["n_leapfrog"],
                    "diverging": stats["diverging"], "energy": stats["energy"]}
    return az.from_dict(
        posterior=_numpy(posterior.draws()),
        sample_stats=_numpy(sample_stats),
        posterior_predictive={k: v.reshape(chains, n, *v.shape[1:]).numpy() for k, v in predictive.items()},
        observed_data=_observed(bound), dims=dims, coords=coords)


def fit_to_arviz(fit: "Fit", n: int = 1000, seed: int | None = 0):
    """A variational fit's ``n`` draws as one chain: posterior, posterior_predictive, observed_data."""
    az = _arviz()
    bound = fit._need_bound("to_arviz")
    dims, coords = _site_dims(bound)
    latents = fit.sample_posterior(n, seed)
    predictive = fit.predictive(n, seed)
    return az.from_dict(
        posterior={k: v[None].numpy() for k, v in latents.items()},
        posterior_predictive={k: v[None].numpy() for k, v in predictive.items()},
        observed_data=_observed(bound), dims=dims, coords=coords)
