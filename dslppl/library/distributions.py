"""The distributions a model may name after `~` (LANGUAGE.md §8), as a table of plain data.

Each entry says how the name maps to a `torch.distributions` class: positional
parameters in torch's order, keyword names as torch spells them, groups of
alternatives of which exactly one is given (``probs=`` or ``logits=``), the
rank of each parameter's own event (a `MultivariateNormal` ``loc`` is a
vector), the support (for the checker's type clashes) and the event rank of a
draw. The checker validates calls against this table without importing torch;
binding asks an entry for its torch class (``factory``), imported then.

>>> DISTRIBUTIONS["Normal"].params
('loc', 'scale')
>>> DISTRIBUTIONS["Bernoulli"].alternatives
(('probs', 'logits'),)
"""
from __future__ import annotations

import importlib

import inspect
from dataclasses import dataclass, field
from enum import Enum
from typing import Callable


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
    params: tuple[str, ...]                      # every parameter, torch's positional order
    required: tuple[str, ...] = ()               # must be given (positionally or by keyword)
    alternatives: tuple[tuple[str, ...], ...] = ()  # exactly one of each group
    param_event_rank: dict[str, int] = field(default_factory=dict)  # default 0
    support: Support = Support.REAL
    event_rank: int = 0
    positional: tuple[str, ...] | None = None    # parameters that may be given positionally
    int_params: tuple[str, ...] = ()             # sizes torch takes as Python ints, not tensors
    cls: Callable | str | None = field(default=None, repr=False)
    """A registered class, or ``"module:Class"`` imported when code is bound; None: torch's of `name`."""

    @property
    def factory(self) -> Callable:
        """The class that builds the distribution: the registered one, or ``torch.distributions.<name>``."""
        if isinstance(self.cls, str):
            module, attr = self.cls.split(":")
            return getattr(importlib.import_module(module), attr)
        if self.cls is not None:
            return self.cls
        import torch.distributions

        return getattr(torch.distributions, self.name)

    @property
    def discrete(self) -> bool:
        return self.support.discrete

    def positional_params(self) -> tuple[str, ...]:
        return self.params if self.positional is None else self.positional


def _spec(name: str, params: tuple[str, ...], support: Support, *, alternatives=(), event_rank=0,
          param_event_rank=None, optional=(), positional=None, int_params=(), cls=None) -> DistributionSpec:
    in_groups = {p for group in alternatives for p in group}
    required = tuple(p for p in params if p not in in_groups and p not in optional)
    return DistributionSpec(name, tuple(params), required, tuple(alternatives), dict(param_event_rank or {}),
                            support, event_rank, positional, int_params, cls)


_PROBS_LOGITS = (("probs", "logits"),)
_LOC_SCALE = ("loc", "scale")
_COUNT_PROBS = ("total_count", "probs", "logits")

# Parameters are those of each torch class's __init__, in order (a test compares them).
_BUILTIN = [
    _spec("Normal", _LOC_SCALE, Support.REAL),
    _spec("HalfNormal", ("scale",), Support.POSITIVE),
    _spec("Cauchy", _LOC_SCALE, Support.REAL),
    _spec("HalfCauchy", ("scale",), Support.POSITIVE),
    _spec("StudentT", ("df", "loc", "scale"), Support.REAL, optional=("loc", "scale")),
    _spec("LogNormal", _LOC_SCALE, Support.POSITIVE),
    _spec("Gamma", ("concentration", "rate"), Support.POSITIVE),
    _spec("InverseGamma", ("concentration", "rate"), Support.POSITIVE),
    _spec("Exponential", ("rate",), Support.POSITIVE),
    _spec("Beta", ("concentration1", "concentration0"), Support.UNIT_INTERVAL),
    _spec("Uniform", ("low", "high"), Support.INTERVAL),
    _spec("Laplace", _LOC_SCALE, Support.REAL),
    _spec("Gumbel", _LOC_SCALE, Support.REAL),
    _spec("Weibull", ("scale", "concentration"), Support.POSITIVE),
    _spec("VonMises", ("loc", "concentration"), Support.REAL, cls="dslppl.distributions.vonmises:VonMises"),
    _spec("Bernoulli", ("probs", "logits"), Support.BOOLEAN, alternatives=_PROBS_LOGITS,
          positional=("probs",)),
    _spec("Binomial", _COUNT_PROBS, Support.BOUNDED_COUNT, alternatives=_PROBS_LOGITS,
          positional=("total_count", "probs")),
    _spec("Poisson", ("rate",), Support.COUNT),
    _spec("Geometric", ("probs", "logits"), Support.COUNT, alternatives=_PROBS_LOGITS,
          positional=("probs",)),
    _spec("NegativeBinomial", _COUNT_PROBS, Support.COUNT, alternatives=_PROBS_LOGITS,
          positional=("total_count", "probs")),
    _spec("Categorical", ("probs", "logits"), Support.CATEGORY, alternatives=_PROBS_LOGITS,
          param_event_rank={"probs": 1, "logits": 1}, positional=("probs",)),
    _spec("Multinomial", _COUNT_PROBS, Support.COUNT_VECTOR, alternatives=_PROBS_LOGITS,
          param_event_rank={"probs": 1, "logits": 1}, event_rank=1,
          positional=("total_count", "probs"), int_params=("total_count",)),
    _spec("Dirichlet", ("concentration",), Support.SIMPLEX, event_rank=1,
          param_event_rank={"concentration": 1}),
    _spec("MultivariateNormal", ("loc", "covariance_matrix", "precision_matrix", "scale_tril"),
          Support.REAL_VECTOR, event_rank=1,
          alternatives=(("covariance_matrix", "precision_matrix", "scale_tril"),),
          param_event_rank={"loc": 1, "covariance_matrix": 2, "precision_matrix": 2, "scale_tril": 2},
          positional=("loc", "covariance_matrix")),
    _spec("LKJCholesky", ("dim", "concentration"), Support.CORR_CHOLESKY, event_rank=2,
          optional=("concentration",), int_params=("dim",)),
    _spec("DiscreteUniform", ("low", "high"), Support.INTEGER_RANGE,
          cls="dslppl.distributions.discrete_uniform:DiscreteUniform"),
]
BUILTIN_DISTRIBUTIONS: dict[str, DistributionSpec] = {spec.name: spec for spec in _BUILTIN}
DISTRIBUTIONS: dict[str, DistributionSpec] = dict(BUILTIN_DISTRIBUTIONS)


def register_distribution(name: str, cls: type, *, support: Support = Support.REAL,
                          event_rank: int = 0, param_event_rank: dict[str, int] | None = None,
                          alternatives: tuple[tuple[str, ...], ...] = (), replace: bool = False
                          ) -> DistributionSpec:
    """Make a `torch.distributions.Distribution` subclass available to models by ``name``.

    Parameters and their order are read from ``cls.__init__``; parameters with
    a default value are optional. A built-in distribution is replaced only with
    ``replace=True`` (`unregister_distribution` brings it back).

    >>> import torch.distributions as D
    >>> spec = register_distribution("MyNormal", D.Normal)
    >>> spec.params, spec.required
    (('loc', 'scale'), ('loc', 'scale'))
    >>> unregister_distribution("MyNormal")
    >>> register_distribution("Normal", D.Cauchy)
    Traceback (most recent call last):
    ...
    ValueError: 'Normal' is a built-in distribution: pass replace=True to replace it
    """
    if name in BUILTIN_DISTRIBUTIONS and not replace:
        raise ValueError(f"'{name}' is a built-in distribution: pass replace=True to replace it")
    signature = {p: v for p, v in inspect.signature(cls.__init__).parameters.items()
                 if p not in ("self", "validate_args")}
    optional = tuple(p for p, v in signature.items() if v.default is not inspect.Parameter.empty)
    spec = _spec(name, tuple(signature), support, alternatives=alternatives, event_rank=event_rank,
                 param_event_rank=param_event_rank, optional=optional, cls=cls)
    DISTRIBUTIONS[name] = spec
    return spec


def unregister_distribution(name: str) -> None:
    """Remove a distribution added by `register_distribution` (a replaced built-in comes back)."""
    if name in BUILTIN_DISTRIBUTIONS:
        DISTRIBUTIONS[name] = BUILTIN_DISTRIBUTIONS[name]
    else:
        DISTRIBUTIONS.pop(name, None)
