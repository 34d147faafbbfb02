"""``bind_program``: a hand-written handler program as a ``BoundModel``, so ``fit`` runs on it.

Compiled models get a generated ``potential``; a program written by hand
against :mod:`dslppl.runtime` gets one built from the handler core: one trial
run finds the latent sites (shapes, supports, plates); ``potential(u)`` runs
the program with every latent set from its block of ``u`` through
``biject_to(support)`` and returns the trace's log-density plus the
log-Jacobian. Supports are read on every run, so bounds may depend on other
latents.

>>> import torch
>>> from torch.distributions import Normal
>>> from dslppl.runtime import sample
>>> def model():
...     mu = sample("mu", Normal(0.0, 1.0))
...     sample("y", Normal(mu, 1.0), obs=torch.tensor(2.0))
>>> bound = bind_program(model, name="normal_mean")
>>> [s.name for s in bound.latents], bound.observed
(['mu'], ('y',))
"""
from __future__ import annotations

from typing import Callable

import torch
from torch.distributions import biject_to

from ..binding.bound import BoundModel, LatentSite
from ..runtime import Messenger, ParamStore, block, substitute, trace
from ..runtime.messenger import Message
from .svi import param_scope

__all__ = ["bind_program"]


class _set_latents(Messenger):
    """Give each latent site of ``layout`` its value from ``u``; add up the log-Jacobians."""

    __slots__ = ("layout", "u", "log_jacobian")

    def __init__(self, layout: dict[str, LatentSite], u: torch.Tensor) -> None:
        super().__init__()
        self.layout, self.u = layout, u
        self.log_jacobian = u.new_zeros(())

    def process_message(self, msg: Message) -> None:
        site = self.layout.get(msg.name)
        if msg.kind != "sample" or msg.is_observed or site is None:
            return
        transform = biject_to(msg.fn.support)
        x = self.u[site.block].reshape(site.unconstrained_shape)
        msg.value = transform(x)
        self.log_jacobian = self.log_jacobian + transform.log_abs_det_jacobian(x, msg.value).sum()


def bind_program(model: Callable, *args, name: str = "program", dtype: torch.dtype = torch.float64,
                 **kwargs) -> BoundModel:
    """Bind ``model(*args, **kwargs)`` (see the module docstring)."""
    # The trial run leaves the RNG stream and the global param store alone.
    with torch.random.fork_rng(devices=[]), torch.no_grad(), param_scope(ParamStore()):
        prototype = trace(model).get_trace(*args, **kwargs)
    layout = _layout(prototype, dtype)
    latents = tuple(layout.values())

    def run(u: torch.Tensor):
        # block: the run is a computation, not part of whatever program calls it
        # (but its params still reach a param_scope outside).
        with block(hide_fn=_not_param), _set_latents(layout, u) as setter:
            tr = trace(model).get_trace(*args, **kwargs)
        return tr, setter.log_jacobian

    def potential(u: torch.Tensor) -> torch.Tensor:
        tr, log_jacobian = run(u)
        return tr.log_prob_sum() + log_jacobian

    def constrain(u: torch.Tensor) -> dict[str, torch.Tensor]:
        tr, _ = run(u)
        return {site.name: tr.nodes[site.name].value for site in latents}

    def unconstrain(values) -> torch.Tensor:
        with block(hide_fn=_not_param):
            tr = trace(substitute(model, data=values)).get_trace(*args, **kwargs)
        return torch.cat([biject_to(tr.nodes[s.name].fn.support).inv(values[s.name]).reshape(-1)
                          for s in latents]).to(dtype)

    def program() -> None:
        model(*args, **kwargs)

    init = torch.zeros(sum(s.size for s in latents), dtype=dtype)
    nodes = prototype.nodes.values()
    return BoundModel(
        name=name, dtype=dtype, data={}, model=program, potential=potential, constrain=constrain,
        unconstrain=unconstrain, latents=latents, init=init,
        observed=tuple(m.name for m in nodes if m.kind == "sample" and m.is_observed
                       and not m.infer.get("is_auxiliary")),
        deterministic=tuple(m.name for m in nodes if m.kind == "deterministic"),
        params=tuple(m.name for m in nodes if m.kind == "param"),
        subsample={m.name: m.args[1] for m in nodes if m.kind == "plate" and m.args[1] < m.args[0]},
        plate_sizes={m.name: m.args[0] for m in nodes if m.kind == "plate"})


def _not_param(msg: Message) -> bool:
    return msg.kind != "param"


def _layout(prototype, dtype: torch.dtype) -> dict[str, LatentSite]:
    layout, offset = {}, 0
    for name in prototype.stochastic_nodes():
        msg = prototype.nodes[name]
        value = torch.as_tensor(msg.value, dtype=dtype)
        unconstrained = biject_to(msg.fn.support).inv(value)
        layout[name] = LatentSite(name, value.shape, unconstrained.shape, offset, msg.fn.support,
                                  plates=tuple(f.name for f in msg.plates))
        offset += unconstrained.numel()
    return layout
