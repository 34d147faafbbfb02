"""``DiscreteUniform(low, high)``: equal mass on the integers ``low..high`` (both included)."""
from __future__ import annotations

import torch
from torch.distributions import Distribution, constraints
from torch.distributions.utils import broadcast_all


class DiscreteUniform(Distribution):
    """Equal mass on ``low, low + 1, ..., high``.

    >>> d = DiscreteUniform(torch.tensor(0.), torch.tensor(3.))
    >>> d.log_prob(torch.tensor(2.)).exp().item(), d.enumerate_support().tolist()
    (0.25, [0.0, 1.0, 2.0, 3.0])
    """

    arg_constraints = {"low": constraints.real, "high": constraints.real}
    has_enumerate_support = True

    def __init__(self, low, high, validate_args=None):
        self.low, self.high = broadcast_all(low, high)
        super().__init__(self.low.shape, validate_args=validate_args)

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(self.low, self.high)

    def sample(self, sample_shape=torch.Size()):
        shape = self._extended_shape(sample_shape)
        uniform = torch.rand(shape, dtype=self.low.dtype, device=self.low.device)
        return (self.low + (uniform * (self.high - self.low + 1)).floor()).clamp(max=self.high)

    def log_prob(self, value):
        inside = (value >= self.low) & (value <= self.high) & (value == value.floor())
        mass = -torch.log(self.high - self.low + 1)
        return torch.where(inside, mass, torch.full_like(mass, -torch.inf))

    def enumerate_support(self, expand=True):
        low, high = int(self.low.min()), int(self.high.max())
        values = torch.arange(low, high + 1, dtype=self.low.dtype).view((-1,) + (1,) * len(self.batch_shape))
        return values.expand((-1,) + self.batch_shape) if expand else values
