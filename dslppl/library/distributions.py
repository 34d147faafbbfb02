"""The distributions a model may name after `~` (LANGUAGE.md §8), as a typed table.

Each entry says how the name maps to a `torch.distributions` class: positional
parameters in torch's order, keyword names as torch spells them, groups of
alternatives of which exactly one is given (``probs=`` or ``logits=``), the
rank of each parameter's own event (a `MultivariateNormal` ``loc`` is a
vector), the support (for the checker's type clashes) and the event rank of a
draw. The checker validates calls against this table; the code generator
builds torch objects from it.

>>> DISTRIBUTIONS["Normal"].params
('loc', 'scale')
>>> DISTRIBUTIONS["Bernoulli"].alternatives
(('probs', 'logits'),)
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from enum import Enum
from typing import Callable

import torch.distributions as D

from ..distributions.discrete_uniform import DiscreteUniform


class Support(Enum):
    """What values a distribution puts mass on, at the level of detail the checker needs."""

    REAL = "real"
    POSITIVE = "positive"          # (0, inf) or [0, inf)
    UNIT_INTERVAL = "unit interval"
    INTERVAL = "interval"          # bounds given by the arguments (Uniform)
    BOOLEAN = "0 or 1"
    COUNT = "non-negative integers"
    BOUNDED_COUNT = "integers 0..n"
    CATEGORY = "category indices 0..K-1"
    INTEGER_RANGE = "integers low..high"
    COUNT_VECTOR = "count vectors"
    SIMPLEX = "simplex"
    REAL_VECTOR = "real vectors"
    CORR_CHOLESKY = "Cholesky factors of correlation matrices"
    POSITIVE_DEFINITE = "positive-definite matrices"

    @property
    def discrete(self) -> bool:
        return self in _DISCRETE


_DISCRETE = {Support.BOOLEAN, Support.COUNT, Support.BOUNDED_COUNT, Support.CATEGORY, Support.INTEGER_RANGE,
             Support.COUNT_VECTOR}


@dataclass(frozen=True)
class DistributionSpec:
    """How one distribution name is called and what it produces."""

    name: str
    factory: Callable[..., D.Distribution]
    params: tuple[str, ...]                      # every parameter, torch's positional order
    required: tuple[str, ...] = ()               # must be given (positionally or by keyword)
    alternatives: tuple[tuple[str, ...], ...] = ()  # exactly one of each group
    param_event_rank: dict[str, int] = field(default_factory=dict)  # default 0
    support: Support = Support.REAL
    event_rank: int = 0
    positional: tuple[str, ...] | None = None    # parameters that may be given positionally
    int_params: tuple[str, ...] = ()             # sizes torch takes as Python ints, not tensors

    @property
    def discrete(self) -> bool:
        return self.support.discrete

    def positional_params(self) -> tuple[str, ...]:
        return self.params if self.positional is None else self.positional


def _spec(name: str, cls, support: Support, *, alternatives=(), event_rank=0,
          param_event_rank=None, optional=(), positional=None, int_params=()) -> DistributionSpec:
    params = tuple(p for p in inspect.signature(cls.__init__).parameters
                   if p not in ("self", "validate_args"))
    in_groups = {p for group in alternatives for p in group}
    required = tuple(p for p in params if p not in in_groups and p not in optional)
    return DistributionSpec(name, cls, params, required, tuple(alternatives),
                            dict(param_event_rank or {}), support, event_rank, positional, int_params)


_PROBS_LOGITS = (("probs", "logits"),)

DISTRIBUTIONS: dict[str, DistributionSpec] = {
    spec.name: spec
    for spec in [
        _spec("Normal", D.Normal, Support.REAL),
        _spec("HalfNormal", D.HalfNormal, Support.POSITIVE),
        _spec("Cauchy", D.Cauchy, Support.REAL),
        _spec("HalfCauchy", D.HalfCauchy, Support.POSITIVE),
        _spec("StudentT", D.StudentT, Support.REAL, optional=("loc", "scale")),
        _spec("LogNormal", D.LogNormal, Support.POSITIVE),
        _spec("Gamma", D.Gamma, Support.POSITIVE),
        _spec("InverseGamma", D.InverseGamma, Support.POSITIVE),
        _spec("Exponential", D.Exponential, Support.POSITIVE),
        _spec("Beta", D.Beta, Support.UNIT_INTERVAL),
        _spec("Uniform", D.Uniform, Support.INTERVAL),
        _spec("Laplace", D.Laplace, Support.REAL),
        _spec("Gumbel", D.Gumbel, Support.REAL),
        _spec("Weibull", D.Weibull, Support.POSITIVE),
        _spec("VonMises", D.VonMises, Support.REAL),
        _spec("Bernoulli", D.Bernoulli, Support.BOOLEAN, alternatives=_PROBS_LOGITS,
              positional=("probs",)),
        _spec("Binomial", D.Binomial, Support.BOUNDED_COUNT, alternatives=_PROBS_LOGITS,
              positional=("total_count", "probs")),
        _spec("Poisson", D.Poisson, Support.COUNT),
        _spec("Geometric", D.Geometric, Support.COUNT, alternatives=_PROBS_LOGITS,
              positional=("probs",)),
        _spec("NegativeBinomial", D.NegativeBinomial, Support.COUNT,
              alternatives=_PROBS_LOGITS, positional=("total_count", "probs")),
        _spec("Categorical", D.Categorical, Support.CATEGORY, alternatives=_PROBS_LOGITS,
              param_event_rank={"probs": 1, "logits": 1}, positional=("probs",)),
        _spec("DiscreteUniform", DiscreteUniform, Support.INTEGER_RANGE),
        _spec("Multinomial", D.Multinomial, Support.COUNT_VECTOR, alternatives=_PROBS_LOGITS,
              param_event_rank={"probs": 1, "logits": 1}, event_rank=1,
              positional=("total_count", "probs"), int_params=("total_count",)),
        _spec("Dirichlet", D.Dirichlet, Support.SIMPLEX, event_rank=1,
              param_event_rank={"concentration": 1}),
        _spec("MultivariateNormal", D.MultivariateNormal, Support.REAL_VECTOR, event_rank=1,
              alternatives=(("covariance_matrix", "precision_matrix", "scale_tril"),),
              param_event_rank={"loc": 1, "covariance_matrix": 2, "precision_matrix": 2,
                                "scale_tril": 2},
              positional=("loc", "covariance_matrix")),
        _spec("LKJCholesky", D.LKJCholesky, Support.CORR_CHOLESKY, event_rank=2,
              optional=("concentration",), int_params=("dim",)),
    ]
}


def register_distribution(name: str, cls: type[D.Distribution], *, support: Support = Support.REAL,
                          event_rank: int = 0, param_event_rank: dict[str, int] | None = None,
                          alternatives: tuple[tuple[str, ...], ...] = ()) -> DistributionSpec:
    """Make a `torch.distributions.Distribution` subclass available to models by ``name``.

    Parameters and their order are read from ``cls.__init__``; parameters with
    a default value are optional.

    >>> import torch.distributions as D
    >>> spec = register_distribution("MyNormal", D.Normal)
    >>> spec.params, spec.required
    (('loc', 'scale'), ('loc', 'scale'))
    >>> unregister_distribution("MyNormal")
    """
    signature = inspect.signature(cls.__init__).parameters
    optional = tuple(p for p, v in signature.items() if v.default is not inspect.Parameter.empty)
    spec = _spec(name, cls, support, alternatives=alternatives, event_rank=event_rank,
                 param_event_rank=param_event_rank, optional=optional)
    DISTRIBUTIONS[name] = spec
    return spec


def unregister_distribution(name: str) -> None:
    """Remove a distribution added by `register_distribution`."""
    DISTRIBUTIONS.pop(name, None)
