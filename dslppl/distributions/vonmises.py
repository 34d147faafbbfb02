"""``VonMises`` with a sampler that ends for every concentration.

torch's rejection sampler (Best & Fisher) never accepts when the concentration
is below about 1e-5 or above about 1e15 in float64, and ``sample`` loops for
ever. Here concentrations below 1 are drawn by rejection from the uniform
proposal, exact, with acceptance probability ``exp(k (cos x - 1)) >= exp(-2)``;
those above 1e6 from the wrapped normal N(loc, 1/k), whose density differs
from the von Mises one by O(1/k); the rest by torch's sampler. The density is
torch's.

>>> import torch
>>> d = VonMises(torch.zeros(3, dtype=torch.float64), torch.tensor([1e-300, 1e-9, 1e20], dtype=torch.float64))
>>> d.sample((4,)).shape
torch.Size([4, 3])
"""
from __future__ import annotations

import math

import torch
import torch.distributions as D

SMALL, LARGE = 1.0, 1e6
MAX_ROUNDS = 200  # rejection rounds from the uniform; each accepts with probability >= exp(-2)


class VonMises(D.VonMises):
    @torch.no_grad()
    def sample(self, sample_shape: torch.Size = torch.Size()) -> torch.Tensor:
        shape = self._extended_shape(sample_shape)
        loc, k = self.loc.expand(shape), self.concentration.expand(shape)
        middle = (k >= SMALL) & (k <= LARGE)
        x = D.VonMises(loc, torch.where(middle, k, torch.ones_like(k)), validate_args=False).sample()
        x = torch.where(k > LARGE, loc + torch.randn_like(loc) / k.clamp(min=LARGE).sqrt(), x)
        small = k < SMALL
        if bool(small.any()):
            x = torch.where(small, loc + _near_uniform(k.clamp(max=SMALL)), x)
        return torch.remainder(x + math.pi, 2 * math.pi) - math.pi


def _near_uniform(k: torch.Tensor) -> torch.Tensor:
    """Draws of a von Mises centred at 0 with concentration ``k < 1``, exactly, by rejection."""
    out = torch.zeros_like(k)
    todo = torch.ones_like(k, dtype=torch.bool)
    for _ in range(MAX_ROUNDS):
        x = (torch.rand_like(k) * 2 - 1) * math.pi
        accept = todo & (torch.rand_like(k) < torch.exp(k * (torch.cos(x) - 1)))
        out = torch.where(accept, x, out)
        todo &= ~accept
        if not bool(todo.any()):
            break
    return out
