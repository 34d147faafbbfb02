"""The primitives models call: ``sample``, ``param``, ``plate``, ``deterministic``, ``factor``.

With no handler active each primitive takes a fast path that builds no
message: ``sample`` returns ``obs`` or a draw, ``param`` reads the param store.
Otherwise it builds a :class:`~dslppl.runtime.messenger.Message` and runs it
through :func:`~dslppl.runtime.messenger.apply_stack`.

>>> import torch
>>> from torch.distributions import Normal
>>> sample("x", Normal(0.0, 1.0), obs=torch.tensor(0.5))
tensor(0.5000)
"""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch.distributions import Distribution, constraints
from torch.distributions.constraints import Constraint

from .messenger import _STACK, Message, apply_stack
from .params import _PARAM_STORE
from .plates import plate

__all__ = ["Unit", "deterministic", "factor", "param", "plate", "sample"]


def sample(name: str, fn: Distribution, obs: torch.Tensor | None = None,
           infer: dict | None = None) -> torch.Tensor:
    """A random variable ``name`` with distribution ``fn``; observed when ``obs`` is given.

    Draws use ``fn.rsample()`` when ``fn.has_rsample`` (so gradients reach the
    distribution's parameters, as SVI needs) and ``fn.sample()`` otherwise,
    both on the fast path and under handlers.
    """
    if not isinstance(fn, Distribution):
        raise TypeError(f"sample site {name!r}: fn must be a torch Distribution, "
                        f"got {type(fn).__name__}")
    if not _STACK:
        if obs is not None:
            return obs
        return fn.rsample() if fn.has_rsample else fn.sample()
    msg = Message("sample", name, fn, value=obs, is_observed=obs is not None,
                  infer={} if infer is None else dict(infer))
    return apply_stack(msg).value


def param(name: str, init_value: torch.Tensor | Callable[[], torch.Tensor] | None = None,
          constraint: Constraint = constraints.real) -> torch.Tensor:
    """The constrained value of the learnable parameter ``name``.

    Created in the global param store on first use from ``init_value`` (a
    tensor in constrained space, or a callable returning one); afterwards
    ``init_value`` and ``constraint`` are ignored.
    """
    if not _STACK:
        return _PARAM_STORE.get_param(name, init_value, constraint)
    msg = Message("param", name, _PARAM_STORE.get_param, args=(name, init_value, constraint))
    return apply_stack(msg).value


def deterministic(name: str, value: torch.Tensor) -> torch.Tensor:
    """Record ``value``, a function of other sites, as site ``name``; returns ``value``.

    A ``'deterministic'`` site (NumPyro's choice; Pyro uses a masked Delta)
    carries no log-density and is not a sample site, but is traced, can be
    blocked, and records its plates.
    """
    if not _STACK:
        return value
    msg = Message("deterministic", name, value=value)
    return apply_stack(msg).value


class Unit(Distribution):
    """The improper distribution behind ``factor``: no data, log-density ``log_factor``.

    Its values are empty (event shape ``(0,)``); plates broadcast it like any
    other distribution, so a scalar factor inside a plate of size n counts n
    times, as in Pyro.
    """

    arg_constraints: dict = {}
    support = constraints.real

    def __init__(self, log_factor: torch.Tensor) -> None:
        self.log_factor = log_factor
        super().__init__(log_factor.shape, torch.Size((0,)), validate_args=False)

    def expand(self, batch_shape, _instance=None) -> Unit:
        return Unit(self.log_factor.expand(batch_shape))

    def sample(self, sample_shape=()) -> torch.Tensor:
        return self.log_factor.new_empty(torch.Size(sample_shape) + self.batch_shape + (0,))

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        shape = torch.broadcast_shapes(self.batch_shape, value.shape[:-1])
        return self.log_factor.expand(shape)


def factor(name: str, log_factor: torch.Tensor | float) -> None:
    """Add ``log_factor`` (possibly batched) to the model's log-density as site ``name``.

    The site is an observed sample site of a :class:`Unit` distribution, so
    ``scale``, ``mask`` and plates apply to it like to any likelihood term.
    """
    if not _STACK:
        return None
    unit = Unit(torch.as_tensor(log_factor))
    msg = Message("sample", name, unit, value=unit.sample(), is_observed=True,
                  infer={"is_auxiliary": True})
    apply_stack(msg)
    return None
