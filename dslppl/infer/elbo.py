"""``Trace_ELBO``: the evidence lower bound of a model and guide, on the handler core.

As in Pyro: the guide runs under ``trace``; the model runs under ``trace`` and
``replay`` of the guide's trace, so each model latent takes the guide's draw;
ELBO = sum of the model trace's log-densities - sum of the guide's.

Gradients come from the *surrogate* objective. Reparameterised guide sites
(``fn.has_rsample``) pass gradients through their values. A guide site that
cannot be reparameterised (a discrete choice, say) adds a score-function term
``log q(z) * stop_grad(log r)``, where ``log r`` is the model-minus-guide
log-density of the terms that share the site's plates (Pyro's
``Trace_ELBO``, which Rao-Blackwellises across independent plate elements).

Particles (``num_particles > 1``) are vectorised the way Pyro's
``vectorize_particles=True`` does: model and guide run once inside an outer
plate of size ``num_particles`` placed left of every plate the program uses.
One run draws every particle, and plates, scaling and score terms keep their
meaning per particle. This needs a program that broadcasts over an extra
leading batch dim, as any plate-correct Pyro program does; otherwise pass
``vectorize_particles=False`` to run the particles one after another.
(``torch.func.vmap`` is no alternative here: torch's samplers draw in place
into fresh tensors, which ``vmap(randomness="different")`` refuses.)

>>> import torch
>>> from torch.distributions import Normal, constraints
>>> from dslppl.runtime import param, sample
>>> def model(): sample("z", Normal(0.0, 1.0))
>>> def guide(): sample("z", Normal(param("m", torch.tensor(0.0)), 1.0))
>>> abs(Trace_ELBO().loss(model, guide))  # q = p: the ELBO is exactly 0
0.0
"""
from __future__ import annotations

from typing import Callable

import torch

from ..runtime import Trace, plate, replay, trace
from ..runtime.messenger import Message, PlateFrame

__all__ = ["Trace_ELBO"]

PARTICLE_PLATE = "_num_particles_vectorized"


class Trace_ELBO:
    """The ELBO estimated from ``num_particles`` joint draws of the guide.

    ``loss`` is ``-ELBO`` (a float); ``differentiable_loss`` the same as a
    tensor; ``loss_and_grads`` also back-propagates the surrogate into the
    param store's leaves. ``max_plate_nesting`` (how many plate dims the
    programs use) is found by one trial run when not given; that run leaves
    torch's RNG stream untouched.
    """

    def __init__(self, num_particles: int = 1, vectorize_particles: bool = True,
                 max_plate_nesting: int | None = None) -> None:
        if num_particles < 1:
            raise ValueError(f"num_particles must be >= 1, got {num_particles}")
        self.num_particles = num_particles
        self.vectorize_particles = vectorize_particles
        self.max_plate_nesting = max_plate_nesting
        self._checked = False

    # --- public API -------------------------------------------------------
    def loss(self, model: Callable, guide: Callable, *args, **kwargs) -> float:
        """``-ELBO`` as a float, with no gradients."""
        with torch.no_grad():
            return self.differentiable_loss(model, guide, *args, **kwargs).item()

    def differentiable_loss(self, model: Callable, guide: Callable, *args, **kwargs) -> torch.Tensor:
        """``-ELBO`` as a tensor whose gradient is the surrogate's (as Pyro's)."""
        elbo, surrogate = self.elbo_terms(model, guide, *args, **kwargs)
        return -(elbo + (surrogate - surrogate.detach()))

    def loss_and_grads(self, model: Callable, guide: Callable, *args, **kwargs) -> float:
        """``-ELBO`` as a float, after back-propagating the surrogate objective."""
        elbo, surrogate = self.elbo_terms(model, guide, *args, **kwargs)
        if surrogate.requires_grad:
            (-surrogate).backward()
        return -elbo.item()

    def elbo_terms(self, model: Callable, guide: Callable, *args,
                   **kwargs) -> tuple[torch.Tensor, torch.Tensor]:
        """The ELBO (no gradient) and the surrogate ELBO whose gradient is the ELBO's."""
        return self.terms(self.get_traces(model, guide, *args, **kwargs))

    def terms(self, pairs: list[tuple[Trace, Trace]]) -> tuple[torch.Tensor, torch.Tensor]:
        """:meth:`elbo_terms` of traces from :meth:`get_traces`."""
        elbo = surrogate = 0.0
        for model_tr, guide_tr in pairs:
            e, s = _particle_terms(model_tr, guide_tr)
            elbo, surrogate = elbo + e, surrogate + s
        return elbo / self.num_particles, surrogate / self.num_particles

    def get_traces(self, model: Callable, guide: Callable, *args, **kwargs) -> list[tuple[Trace, Trace]]:
        """``(model_trace, guide_trace)`` per run: one when vectorised, else one per particle."""
        model, guide = self._wrap_particles(model, guide, args, kwargs)
        runs = 1 if self._vectorized else self.num_particles
        pairs = []
        for _ in range(runs):
            guide_tr = trace(guide).get_trace(*args, **kwargs)
            model_tr = trace(replay(model, trace=guide_tr)).get_trace(*args, **kwargs)
            if not self._checked:
                _check_match(model_tr, guide_tr)
                self._checked = True
            pairs.append((model_tr, guide_tr))
        return pairs

    # --- internals --------------------------------------------------------
    @property
    def _vectorized(self) -> bool:
        return self.num_particles > 1 and self.vectorize_particles

    def _wrap_particles(self, model, guide, args, kwargs):
        if not self._vectorized:
            return model, guide
        if self.max_plate_nesting is None:
            self.max_plate_nesting = _guess_plate_nesting(model, guide, args, kwargs)
        size, dim = self.num_particles, -1 - self.max_plate_nesting

        def in_particle_plate(fn):
            def wrapped(*a, **k):
                with plate(PARTICLE_PLATE, size, dim=dim):
                    return fn(*a, **k)
            return wrapped
        return in_particle_plate(model), in_particle_plate(guide)


def _particle_terms(model_tr: Trace, guide_tr: Trace) -> tuple[torch.Tensor, torch.Tensor]:
    """ELBO and surrogate ELBO of one (possibly particle-vectorised) pair of traces."""
    model_tr.compute_log_prob()
    guide_tr.compute_log_prob()
    model_lp = model_tr.log_prob_sum()
    elbo = model_lp.detach()
    surrogate = model_lp
    log_r = None
    for msg in guide_tr.nodes.values():
        if msg.kind != "sample":
            continue
        elbo = elbo - msg.log_prob_sum.detach()
        if msg.is_observed:
            continue
        if msg.fn.has_rsample:
            surrogate = surrogate - msg.log_prob_sum
        else:
            if log_r is None:
                log_r = _log_r_terms(model_tr, guide_tr)
            surrogate = surrogate + (_sum_to(log_r, msg.plates) * msg.log_prob).sum()
    return elbo, surrogate


def _log_r_terms(model_tr: Trace, guide_tr: Trace) -> list[tuple[tuple[PlateFrame, ...], torch.Tensor]]:
    # Per model site: its log-density minus the guide's (for latents), detached.
    terms = []
    for name, msg in model_tr.nodes.items():
        if msg.kind != "sample":
            continue
        term = msg.log_prob
        if not msg.is_observed:
            term = term - guide_tr.nodes[name].log_prob
        terms.append((msg.plates, term.detach()))
    return terms


def _sum_to(terms, target: tuple[PlateFrame, ...]) -> torch.Tensor:
    """Sum every term down to the dims of the plates in ``target`` (others summed out).

    A term keeps a dim only where it lies in one of the target's plates; its
    value there then varies with the site's own plate elements only.
    """
    wanted = {(f.name, f.dim) for f in target}
    total = None
    for frames, value in terms:
        keep = {f.dim for f in frames if (f.name, f.dim) in wanted}
        drop = [d for d in range(-value.dim(), 0) if d not in keep]
        if drop:
            value = value.sum(drop, keepdim=True)
        total = value if total is None else total + value
    return total


def _check_match(model_tr: Trace, guide_tr: Trace) -> None:
    """Every model latent must be drawn by the guide, and every guide draw be a model latent."""
    model_latent = set(model_tr.stochastic_nodes())
    guide_latent = {n for n in guide_tr.stochastic_nodes()
                    if not guide_tr.nodes[n].infer.get("is_auxiliary")}
    missing = sorted(model_latent - guide_latent)
    extra = sorted(guide_latent - model_latent)
    if missing:
        raise ValueError(f"the guide does not sample the model latent(s) {missing}")
    if extra:
        raise ValueError(f"the guide samples {extra}, which are not latent sites of the model")


def _guess_plate_nesting(model, guide, args, kwargs) -> int:
    """The number of plate dims the programs use, from one trial run (RNG state kept)."""
    state = torch.get_rng_state()
    try:
        guide_tr = trace(guide).get_trace(*args, **kwargs)
        model_tr = trace(replay(model, trace=guide_tr)).get_trace(*args, **kwargs)
    finally:
        torch.set_rng_state(state)
    nesting = 0
    for tr in (guide_tr, model_tr):
        for msg in tr.nodes.values():
            nesting = max(nesting, _deepest_dim(msg))
    return nesting


def _deepest_dim(msg: Message) -> int:
    return max((-f.dim for f in msg.plates), default=0)
