"""``SVI``: stochastic variational inference over a param store with torch optimizers.

Each :meth:`SVI.step` runs the loss (``Trace_ELBO`` by default), which
back-propagates into the unconstrained leaves of the param store; the params
the step touched are handed to one torch optimizer (Adam by default), created
on the first step and extended when new params appear. Optional: a
learning-rate scheduler (any ``torch.optim.lr_scheduler`` factory, stepped
once per step) and gradient-norm clipping.

``param_scope(store)`` runs programs against a private :class:`ParamStore`
instead of the global one, so that ``fit`` never touches the user's params.

>>> import torch
>>> from torch.distributions import Normal
>>> from dslppl.runtime import ParamStore, param, sample
>>> def model(): sample("x", Normal(3.0, 1.0), obs=torch.tensor(3.0))
>>> def guide(): param("a", torch.tensor(0.0))
>>> store = ParamStore()
>>> svi = SVI(model, guide, optim_args={"lr": 0.1}, param_store=store)
>>> round(svi.step(), 4)
0.9189
"""
from __future__ import annotations

from typing import Any, Callable

import torch

from ..runtime import Messenger, ParamStore, get_param_store
from ..runtime.messenger import Message
from .elbo import Trace_ELBO

__all__ = ["SVI", "param_scope"]


class param_scope(Messenger):
    """Serve every ``param`` site from ``store`` instead of the global param store.

    >>> import torch
    >>> from dslppl.runtime import ParamStore, get_param_store, param
    >>> store = ParamStore()
    >>> with param_scope(store):
    ...     _ = param("w", torch.tensor(1.0))
    >>> "w" in store, "w" in get_param_store()
    (True, False)
    """

    __slots__ = ("store",)

    def __init__(self, store: ParamStore, fn: Callable | None = None) -> None:
        super().__init__(fn)
        self.store = store

    def process_message(self, msg: Message) -> None:
        if msg.kind == "param":
            msg.fn = self.store.get_param


class _param_capture(Messenger):
    """Record the names of the param sites a run reads."""

    __slots__ = ("names",)

    def __init__(self) -> None:
        super().__init__()
        self.names: dict[str, None] = {}

    def postprocess_message(self, msg: Message) -> None:
        if msg.kind == "param":
            self.names[msg.name] = None


class SVI:
    """Stochastic variational inference: ``step()`` takes one optimizer step on ``loss``.

    ``optimizer`` is a ``torch.optim.Optimizer`` class (``optim_args`` are its
    keyword arguments); ``scheduler``, if given, is called with the optimizer
    to build an LR scheduler; ``clip_norm`` clips the gradient's total norm.
    """

    def __init__(self, model: Callable, guide: Callable, loss: Trace_ELBO | None = None,
                 optimizer: type[torch.optim.Optimizer] = torch.optim.Adam,
                 optim_args: dict[str, Any] | None = None,
                 scheduler: Callable[[torch.optim.Optimizer], Any] | None = None,
                 clip_norm: float | None = None, param_store: ParamStore | None = None) -> None:
        self.model = model
        self.guide = guide
        self.loss = Trace_ELBO() if loss is None else loss
        self.optimizer_class = optimizer
        self.optim_args = {"lr": 0.01} if optim_args is None else dict(optim_args)
        self.scheduler_factory = scheduler
        self.clip_norm = clip_norm
        self.store = param_store
        self.optimizer: torch.optim.Optimizer | None = None
        self.scheduler = None
        self._params: dict[str, torch.Tensor] = {}

    @property
    def param_store(self) -> ParamStore:
        return get_param_store() if self.store is None else self.store

    def step(self, *args, **kwargs) -> float:
        """One gradient step; returns the loss before it."""
        with self._scope(), _param_capture() as capture:
            loss = self.loss.loss_and_grads(self.model, self.guide, *args, **kwargs)
        params = self._track(capture.names)
        if params:
            if self.clip_norm is not None:
                torch.nn.utils.clip_grad_norm_(params, self.clip_norm)
            self.optimizer.step()
            self.optimizer.zero_grad(set_to_none=True)
            if self.scheduler is not None:
                self.scheduler.step()
        return loss

    def evaluate_loss(self, *args, **kwargs) -> float:
        """The loss without a step (and without gradients)."""
        with self._scope():
            return self.loss.loss(self.model, self.guide, *args, **kwargs)

    def _scope(self) -> Messenger:
        return Messenger() if self.store is None else param_scope(self.store)

    def _track(self, names) -> list[torch.Tensor]:
        """The leaves of ``names``; new ones join the optimizer (built on first use)."""
        store = self.param_store
        fresh = [n for n in names if n not in self._params]
        for name in fresh:
            self._params[name] = store.get_unconstrained(name)
        new = [self._params[n] for n in fresh]
        if new:
            if self.optimizer is None:
                self.optimizer = self.optimizer_class(new, **self.optim_args)
                if self.scheduler_factory is not None:
                    self.scheduler = self.scheduler_factory(self.optimizer)
            else:
                self._add_group(new)
        return [self._params[n] for n in names]

    def _add_group(self, leaves: list[torch.Tensor]) -> None:
        self.optimizer.add_param_group({"params": leaves})
        if self.scheduler is not None:
            # Schedulers scale each group's initial_lr; a late group starts at the base lr.
            group = self.optimizer.param_groups[-1]
            group.setdefault("initial_lr", self.optim_args.get("lr", group["lr"]))
            if hasattr(self.scheduler, "base_lrs"):
                self.scheduler.base_lrs.append(group["initial_lr"])
