"""Automatic guides as handler programs (Pyro's ``AutoContinuous``, over a ``BoundModel``).

:class:`AutoGuide` wraps a flat-vector :class:`~dslppl.infer.families.Family`
in a guide program: it reads the family's parameter vector from the param
store (``param("<prefix>_phi")``), samples the flat unconstrained vector ``u``
from ``q`` as an auxiliary site, then emits every latent site of the model as
a :class:`~dslppl.distributions.Delta` at its constrained value. Each point
mass carries minus the log-Jacobian of its site's transform, so the guide
trace's log-density is ``log q(u) - log|J(u)|`` and, replayed into the model,
``Trace_ELBO`` gives exactly the fused path's ``potential(u) - log q(u)``.

Values come from ``biject_to(site.support)`` on the site's block of ``u``.
A site whose bounds read other latents (``dynamic_support``) takes its value
from ``bound.constrain(u)`` and its log-Jacobian from autograd: such bounds
are elementwise intervals, so the Jacobian is diagonal in the site's block.

Under a vectorised particle plate ``u`` has shape ``[P, 1, ..., 1, D]``; each
site's block is reshaped so that its plate dims line up with the model's.
"""
from __future__ import annotations

import torch
from torch.distributions import biject_to
from torch.distributions.transforms import Transform

from ..binding.bound import BoundModel, LatentSite
from ..runtime import param, sample
from ..distributions import Delta
from .families import Family

__all__ = ["AutoGuide"]


class AutoGuide:
    """The guide program of ``family`` for ``bound``'s latents (see the module docstring).

    ``init_phi`` is the parameter vector the param store entry starts from
    (default: ``family.init_params()``).
    """

    def __init__(self, bound: BoundModel, family: Family, prefix: str = "auto",
                 init_phi: torch.Tensor | None = None) -> None:
        self.bound = bound
        self.family = family
        self.prefix = prefix
        self.init_phi = family.init_params() if init_phi is None else init_phi
        self._transforms: dict[str, Transform] = {s.name: biject_to(s.support) for s in bound.latents}
        self._dynamic = any(s.dynamic_support for s in bound.latents)

    @property
    def param_name(self) -> str:
        return f"{self.prefix}_phi"

    @property
    def latent_name(self) -> str:
        return f"_{self.prefix}_latent"

    def __call__(self) -> dict[str, torch.Tensor]:
        phi = param(self.param_name, lambda: self.init_phi.clone())
        u = sample(self.latent_name, self.family.distribution(phi), infer={"is_auxiliary": True})
        return self.emit(u)

    def emit(self, u: torch.Tensor) -> dict[str, torch.Tensor]:
        """Emit every latent site from ``u``; returns the values by name."""
        values = {}
        for site, value, ladj in self.transform(u):
            event_dim = site.support.event_dim
            values[site.name] = sample(site.name, Delta(value, -ladj, event_dim=event_dim))
        return values

    def transform(self, u: torch.Tensor) -> list[tuple[LatentSite, torch.Tensor, torch.Tensor]]:
        """Per latent site: ``(site, constrained value, log|Jacobian| per batch element)``."""
        if not self._dynamic:
            return self._transform(u, {})
        with torch.enable_grad():
            if not u.requires_grad:  # evaluating only: autograd still gives the Jacobian
                u = u.detach().requires_grad_()
            return self._transform(u, self._constrain_dynamic(u))

    def _transform(self, u, dynamic):
        out = []
        for site in self.bound.latents:
            t = self._transforms[site.name]
            x = u[..., site.block].reshape(_site_shape(u, site, t))
            if site.dynamic_support:
                value = dynamic[site.name].reshape(x.shape[:x.dim() - len(site.unconstrained_shape)]
                                                   + site.shape)
                ladj = _diagonal_log_jacobian(value, u, site)
            else:
                value = t(x)
                ladj = t.log_abs_det_jacobian(x, value)
            out.append((site, value, ladj))
        return out

    def _constrain_dynamic(self, u: torch.Tensor) -> dict[str, torch.Tensor]:
        # bound.constrain takes one flat vector: constrain each row of a batch.
        names = [s.name for s in self.bound.latents if s.dynamic_support]
        rows = u.reshape(-1, u.shape[-1])
        per_row = [self.bound.constrain(r) for r in rows]
        return {n: torch.stack([v[n] for v in per_row]).reshape(u.shape[:-1] + per_row[0][n].shape)
                for n in names}


def _site_shape(u: torch.Tensor, site: LatentSite, t: Transform) -> torch.Size:
    """The shape of the site's unconstrained block: batch dims of ``u`` left of it,
    with the size-1 dims that stand for the site's own plate dims dropped."""
    lead = u.shape[:-1]
    plate_dims = len(site.unconstrained_shape) - t.domain.event_dim
    return lead[:max(len(lead) - plate_dims, 0)] + site.unconstrained_shape


def _diagonal_log_jacobian(value: torch.Tensor, u: torch.Tensor, site: LatentSite) -> torch.Tensor:
    """log|d value_i / d u_i| of an elementwise transform, summed over the site's event dims."""
    grad, = torch.autograd.grad(value.sum(), u, create_graph=True)
    ladj = grad[..., site.block].abs().log().reshape(value.shape)
    event_dim = site.support.event_dim
    return ladj.sum(list(range(-event_dim, 0))) if event_dim else ladj
