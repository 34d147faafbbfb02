"""``Delta``: a point mass with an attached log-density, for guides.

Automatic guides sample one flat unconstrained vector and then emit every
latent site as a point mass at its constrained value. The point mass carries
the log-density that the change of variables adds (minus the log-Jacobian of
the site's transform), so the guide trace's total log-density is that of
the guide's distribution over the constrained values (Pyro's ``Delta``).

>>> import torch
>>> d = Delta(torch.tensor([1.0, 2.0]), log_density=torch.tensor(0.5), event_dim=1)
>>> d.rsample(), d.log_prob(torch.tensor([1.0, 2.0]))
(tensor([1., 2.]), tensor(0.5000))
"""
from __future__ import annotations

import torch
from torch.distributions import Distribution, constraints

__all__ = ["Delta"]


class Delta(Distribution):
    """The point mass at ``v``; ``log_prob(v)`` is ``log_density``, elsewhere ``-inf``.

    ``event_dim`` trailing dims of ``v`` form one event. ``log_density``
    broadcasts to the batch shape.
    """

    arg_constraints: dict = {}
    support = constraints.real
    has_rsample = True

    def __init__(self, v: torch.Tensor, log_density: torch.Tensor | float = 0.0,
                 event_dim: int = 0) -> None:
        cut = v.dim() - event_dim
        self.v = v
        self.log_density = torch.as_tensor(log_density, dtype=v.dtype).expand(v.shape[:cut])
        super().__init__(v.shape[:cut], v.shape[cut:], validate_args=False)

    def expand(self, batch_shape, _instance=None) -> "Delta":
        batch_shape = torch.Size(batch_shape)
        v = self.v.expand(batch_shape + self.event_shape)
        return Delta(v, self.log_density.expand(batch_shape), len(self.event_shape))

    def rsample(self, sample_shape=torch.Size()) -> torch.Tensor:
        return self.v.expand(torch.Size(sample_shape) + self.v.shape)

    def sample(self, sample_shape=torch.Size()) -> torch.Tensor:
        return self.rsample(sample_shape).detach()

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        # log(1) where the value is the point, log(0) elsewhere, per event.
        hit = (value == self.v)
        if self.event_shape:
            hit = hit.flatten(-len(self.event_shape)).all(-1)
        return torch.where(hit, self.log_density, self.log_density.new_tensor(-float("inf")))

    @property
    def mean(self) -> torch.Tensor:
        return self.v

    @property
    def variance(self) -> torch.Tensor:
        return torch.zeros_like(self.v)
