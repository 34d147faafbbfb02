"""Distributions the compiler wraps around user ones: truncation to a declared
type, and flat priors.

``sigma: positive ~ Normal(0, 1)`` is a half-normal, as in Stan: the density is
the normal's (unnormalized on the narrower support), inference transforms to
the declared support, and prior draws are exact (inverse CDF where torch has
one, otherwise rejection; sorting for `ordered`, exact for exchangeable priors).
``beta: real`` is `ImproperUniform`: log-density 0, and no prior draws.

>>> import torch
>>> from torch.distributions import Normal, constraints
>>> half = Truncated(Normal(0.0, 1.0), constraints.positive)
>>> bool((half.sample((1000,)) > 0).all())
True
"""
from __future__ import annotations

import torch
from torch.distributions import Distribution, Independent, constraints

from .transforms import _OrderedVector

_MAX_REJECTION_ROUNDS = 1000


class Truncated(Distribution):
    """``base`` restricted to ``support``; ``log_prob`` is the base's (unnormalized)."""

    arg_constraints: dict = {}
    has_rsample = False

    def __init__(self, base: Distribution, support: constraints.Constraint, validate_args=False):
        self.base = base
        extra = len(base.event_shape) - support.event_dim  # per-element bounds on a vector event
        self._support = constraints.independent(support, extra) if extra > 0 else support
        super().__init__(base.batch_shape, base.event_shape, validate_args=False)

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        return self._support

    def expand(self, batch_shape, _instance=None):
        return Truncated(self.base.expand(batch_shape), _innermost(self._support))

    def log_prob(self, value):
        return self.base.log_prob(value)

    def sample(self, sample_shape=torch.Size()):
        with torch.no_grad():
            if isinstance(_innermost(self._support), _OrderedVector):
                return self.base.sample(sample_shape).sort(dim=-1).values
            lower, upper = _bounds(_innermost(self._support))
            drawn = _inverse_cdf(_elementwise(self.base), lower, upper, sample_shape)
            return drawn if drawn is not None else self._rejection(sample_shape)

    def _rejection(self, sample_shape):
        value = self.base.sample(sample_shape)
        for _ in range(_MAX_REJECTION_ROUNDS):
            inside = self._support.check(value)
            if bool(inside.all()):
                return value
            value = torch.where(inside, value, self.base.sample(sample_shape))
        raise ValueError(f"could not draw from {type(self.base).__name__} truncated to {self._support}: "
                         "the support holds too little of its mass")


def _innermost(support):
    while isinstance(support, constraints.independent):
        support = support.base_constraint
    return support


def _elementwise(dist: Distribution) -> Distribution:
    """The univariate distribution under `Independent` wrappers (bounds apply entry by entry)."""
    while isinstance(dist, Independent):
        dist = dist.base_dist
    return dist


def _bounds(support) -> tuple:
    """Scalar lower and upper bounds of an interval-like constraint (None if unbounded)."""
    lower = getattr(support, "lower_bound", None)
    upper = getattr(support, "upper_bound", None)
    if support in (constraints.positive, constraints.nonnegative):
        lower = 0.0
    return lower, upper


def _inverse_cdf(base: Distribution, lower, upper, sample_shape):
    """Draw by inverting the CDF between the bounds, or None when torch lacks cdf/icdf."""
    if lower is None and upper is None:
        return None
    try:
        probe = base.sample()
        base.icdf(base.cdf(probe))
    except (NotImplementedError, AttributeError, ValueError, RuntimeError):
        return None
    zero = torch.zeros(base.batch_shape, dtype=probe.dtype)
    low = base.cdf(zero + lower) if lower is not None else zero
    high = base.cdf(zero + upper) if upper is not None else zero + 1
    shape = torch.Size(sample_shape) + base.batch_shape
    uniform = torch.rand(shape, dtype=probe.dtype)
    quantile = (low + (high - low) * uniform).clamp(torch.finfo(probe.dtype).tiny, 1 - torch.finfo(probe.dtype).eps)
    value = base.icdf(quantile)
    return value if torch.isfinite(value).all() else None


class ImproperUniform(Distribution):
    """A flat prior on ``support``: log-density 0. Only a bounded interval can be sampled
    (uniformly); any other flat prior is improper."""

    arg_constraints: dict = {}
    has_rsample = False

    def __init__(self, support: constraints.Constraint, batch_shape=torch.Size(), event_shape=torch.Size(),
                 dtype: torch.dtype | None = None):
        self._support = support
        self._dtype = dtype or torch.get_default_dtype()
        super().__init__(torch.Size(batch_shape), torch.Size(event_shape), validate_args=False)

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        return self._support

    def expand(self, batch_shape, _instance=None):
        return ImproperUniform(self._support, batch_shape, self.event_shape, self._dtype)

    def log_prob(self, value):
        shape = value.shape[: value.dim() - len(self.event_shape)]
        return torch.zeros(shape, dtype=value.dtype)

    def sample(self, sample_shape=torch.Size()):
        support = self._support
        if support is constraints.unit_interval:
            low, high = 0.0, 1.0
        elif isinstance(support, constraints.interval):
            low, high = support.lower_bound, support.upper_bound
        else:
            raise ValueError("a flat (improper) prior cannot be sampled")
        shape = torch.Size(sample_shape) + self.batch_shape + self.event_shape
        with torch.no_grad():
            return low + (high - low) * torch.rand(shape, dtype=self._dtype)
