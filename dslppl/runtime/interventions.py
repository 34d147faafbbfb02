"""Handlers that change sites' values: ``condition``, ``substitute``, ``do``, ``uncondition``.

Split from :mod:`dslppl.runtime.handlers`, which re-exports them. Semantics
follow Pyro's poutine, except ``substitute`` (NumPyro's: the value changes,
the site stays latent).

>>> import torch
>>> from torch.distributions import Normal
>>> from dslppl.runtime import sample, trace
>>> model = lambda: sample("x", Normal(0.0, 1.0))
>>> [trace(h(model, data={"x": torch.tensor(1.0)})).get_trace().nodes["x"].is_observed
...  for h in (condition, substitute)]
[True, False]
"""
from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping
from typing import Any

import torch

from .messenger import Message, Messenger, apply_stack
from .primitives import Unit
from .trace import Trace

__all__ = ["condition", "do", "substitute", "uncondition"]


class condition(Messenger):
    """Observe sample sites at the values in ``data`` (a dict, or a Trace's sample values).

    A conditioned site is observed (``is_observed``), like ``obs=``; a value of
    None un-observes it.

    >>> import torch
    >>> from torch.distributions import Normal
    >>> from dslppl.runtime import sample, trace, condition
    >>> model = lambda: sample("x", Normal(0.0, 1.0))
    >>> tr = trace(condition(model, data={"x": torch.tensor(0.5)})).get_trace()
    >>> tr.observation_nodes(), tr.nodes["x"].value
    (['x'], tensor(0.5000))
    """

    __slots__ = ("data",)

    def __init__(self, fn: Callable | None = None,
                 data: Mapping[str, Any] | Trace | None = None) -> None:
        super().__init__(fn)
        if isinstance(data, Trace):
            data = {n: m.value for n, m in data.nodes.items() if m.kind == "sample"}
        self.data = {} if data is None else data

    def process_message(self, msg: Message) -> None:
        if msg.kind == "sample" and msg.name in self.data:
            value = self.data[msg.name]
            msg.value = value
            msg.is_observed = value is not None


class substitute(Messenger):
    """Set the values of sample, param and plate sites (NumPyro's semantics).

    A substituted sample site keeps its distribution and stays latent (unlike
    ``condition``); a substituted param does not touch the param store; a
    substituted plate uses the given indices. ``substitute_fn(msg)``, if given
    instead of ``data``, returns the value or None to leave the site alone.

    >>> import torch
    >>> from torch.distributions import Normal
    >>> from dslppl.runtime import sample, trace, substitute
    >>> model = lambda: sample("x", Normal(0.0, 1.0))
    >>> tr = trace(substitute(model, data={"x": torch.tensor(0.5)})).get_trace()
    >>> tr.stochastic_nodes(), tr.nodes["x"].value
    (['x'], tensor(0.5000))
    """

    __slots__ = ("data", "substitute_fn")

    def __init__(self, fn: Callable | None = None, data: Mapping[str, Any] | None = None,
                 substitute_fn: Callable[[Message], Any] | None = None) -> None:
        super().__init__(fn)
        if (data is None) == (substitute_fn is None):
            raise ValueError("substitute needs exactly one of data= and substitute_fn=")
        self.data = data
        self.substitute_fn = substitute_fn

    def process_message(self, msg: Message) -> None:
        kind = msg.kind
        if kind != "sample" and kind != "param" and kind != "plate":
            return
        if self.data is not None:
            value = self.data.get(msg.name)
        else:
            value = self.substitute_fn(msg)
        if value is not None:
            msg.value = value


class do(Messenger):
    """Intervene: sites named in ``data`` take the given value (Pyro's ``do``).

    The model receives the intervention value from a site renamed
    ``name + "__CF"`` that is observed and hidden from outer handlers, while a
    fresh copy of the site under its own name is sampled through the whole
    stack, so outer handlers see ``name`` as an ordinary latent whose value
    does not propagate. Unlike Pyro, the copy starts with scale 1 and no mask,
    so handlers inside ``do`` apply their scale/mask to it exactly once.

    >>> import torch
    >>> from torch.distributions import Normal
    >>> from dslppl.runtime import sample, trace, do
    >>> model = lambda: sample("z", Normal(0.0, 1.0)) * 2
    >>> do(model, data={"z": torch.tensor(1.5)})()
    tensor(3.)
    """

    __slots__ = ("data", "_busy")

    def __init__(self, fn: Callable | None = None, data: Mapping[str, Any] | None = None) -> None:
        super().__init__(fn)
        self.data = {} if data is None else data
        # Names whose copy this handler is currently sending through the
        # stack: the copy reaches this handler again and must pass untouched.
        self._busy: set[str] = set()

    def __enter__(self) -> do:
        super().__enter__()
        self._busy = set()
        return self

    def process_message(self, msg: Message) -> None:
        if msg.kind != "sample" or msg.name in self._busy:
            return
        intervention = self.data.get(msg.name)
        if intervention is None:
            return
        name = msg.name
        copy = Message("sample", name, msg.fn, value=msg.value,
                       is_observed=msg.is_observed, infer=dict(msg.infer))
        self._busy.add(name)
        try:
            apply_stack(copy)
        finally:
            self._busy.discard(name)
        if isinstance(intervention, numbers.Number):
            intervention = torch.as_tensor(intervention)
        msg.name = name + "__CF"
        msg.value = intervention
        msg.is_observed = True
        msg.stop = True


class uncondition(Messenger):
    """Sample observed sites from their distributions, ignoring the data.

    The data moves to ``msg.infer["obs"]`` and ``msg.infer["was_observed"]``
    is set. ``factor`` sites (:class:`Unit`) are left observed: they hold no
    data to forget.

    >>> import torch
    >>> from torch.distributions import Normal
    >>> from dslppl.runtime import sample, trace, uncondition
    >>> tr = trace(uncondition(lambda: sample("y", Normal(0.0, 1.0), obs=torch.tensor(9.0)))).get_trace()
    >>> tr.stochastic_nodes(), tr.nodes["y"].infer["obs"]
    (['y'], tensor(9.))
    """

    __slots__ = ()

    def process_message(self, msg: Message) -> None:
        if msg.kind == "sample" and msg.is_observed and not isinstance(msg.fn, Unit):
            msg.is_observed = False
            msg.infer["was_observed"] = True
            msg.infer["obs"] = msg.value
            msg.value = None
            msg.done = False
