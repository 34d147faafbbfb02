"""Effect handlers: ``trace``, ``replay``, ``block``, ``seed``, ``scale``, ``mask``;
and, re-exported from :mod:`dslppl.runtime.interventions`, ``condition``,
``substitute``, ``do``, ``uncondition``.

Each is a :class:`~dslppl.runtime.messenger.Messenger`: ``handler(fn, ...)``
wraps a function, ``handler(...)`` without ``fn`` is a context manager or a
decorator. Semantics follow Pyro's ``poutine`` unless a docstring says
otherwise. Handlers compose by nesting; the innermost one sees a site first.

>>> from torch.distributions import Normal
>>> from dslppl.runtime import sample
>>> with trace() as tracer, seed(rng_seed=0):
...     x = sample("x", Normal(0.0, 1.0))
>>> tracer.trace.nodes["x"].value is x
True
"""
from __future__ import annotations

import operator
from collections.abc import Callable, Iterable

import torch

from .interventions import condition, do, substitute, uncondition
from .messenger import Message, Messenger
from .trace import Trace

__all__ = ["block", "condition", "do", "mask", "replay", "scale", "seed", "substitute",
           "trace", "uncondition"]

_SHAPES_NOTE = "Trace shapes so far:"


class trace(Messenger):
    """Record every site that reaches it into a :class:`Trace` (``self.trace``).

    >>> from torch.distributions import Normal
    >>> from dslppl.runtime import sample, trace
    >>> tr = trace(lambda: sample("x", Normal(0.0, 1.0))).get_trace()
    >>> [(name, msg.kind, msg.is_observed) for name, msg in tr.nodes.items()]
    [('x', 'sample', False)]
    """

    __slots__ = ("trace",)

    def __init__(self, fn: Callable | None = None) -> None:
        super().__init__(fn)
        self.trace = Trace()

    def __enter__(self) -> trace:
        super().__enter__()
        self.trace = Trace()
        return self

    def process_message(self, msg: Message) -> None:
        # A plate opened again in the same run reuses its first indices, so all
        # blocks of one subsampled plate see the same minibatch.
        if msg.kind == "plate" and msg.value is None:
            old = self.trace.nodes.get(msg.name)
            if old is not None and old.kind == "plate" and old.args == msg.args:
                msg.value = old.value

    def postprocess_message(self, msg: Message) -> None:
        self.trace.add_node(msg)

    def __call__(self, *args, **kwargs):
        if self.fn is None:
            return super().__call__(*args, **kwargs)
        with self:
            tr = self.trace
            tr.args, tr.kwargs = args, kwargs
            try:
                tr.return_value = self.fn(*args, **kwargs)
            except (ValueError, RuntimeError, TypeError) as e:
                _note_shapes(e, tr)
                raise
        return tr.return_value

    def get_trace(self, *args, **kwargs) -> Trace:
        """Run the wrapped function on ``args`` and return its fresh trace."""
        self(*args, **kwargs)
        return self.trace


def _note_shapes(error: BaseException, tr: Trace) -> None:
    # Shape errors are the usual failure inside models; like Pyro, show the
    # shapes recorded so far, once (nested traces would repeat the note).
    if tr.nodes and not any(n.startswith(_SHAPES_NOTE) for n in getattr(error, "__notes__", ())):
        try:
            error.add_note(_SHAPES_NOTE + "\n" + tr.format_shapes(title=""))
        except Exception:  # the note is a courtesy; never mask the real error
            pass


class replay(Messenger):
    """Reuse the values of latent sample sites (and plate indices) recorded in ``trace``.

    The ELBO pattern: run the model with the guide's draws. Observed model
    sites keep their data; a model latent that the guide observed is an error.

    >>> from torch.distributions import Normal
    >>> from dslppl.runtime import sample, trace, replay
    >>> guide_tr = trace(lambda: sample("z", Normal(0.0, 1.0))).get_trace()
    >>> model_tr = trace(replay(lambda: sample("z", Normal(5.0, 1.0)), trace=guide_tr)).get_trace()
    >>> bool(model_tr.nodes["z"].value == guide_tr.nodes["z"].value)
    True
    """

    __slots__ = ("trace",)

    def __init__(self, fn: Callable | None = None, trace: Trace | None = None) -> None:
        super().__init__(fn)
        if trace is None:
            raise ValueError("replay needs a trace to replay")
        self.trace = trace

    def process_message(self, msg: Message) -> None:
        kind = msg.kind
        if kind != "sample" and kind != "plate":
            return
        node = self.trace.nodes.get(msg.name)
        if node is None:
            return
        if kind == "plate":
            if node.kind == "plate":
                msg.value = node.value
            return
        if msg.is_observed:
            return
        if node.kind != "sample" or node.is_observed:
            raise ValueError(f"site {msg.name!r} is latent in the model but not a latent "
                             f"sample site in the replayed trace")
        msg.value = node.value
        msg.done = True


class block(Messenger):
    """Hide sites from the handlers outside it (all sites by default).

    ``hide``: names to hide; ``expose``: names to keep, hiding the rest;
    ``hide_fn(msg)``: hide where it returns True. Give at most one of them.

    >>> from torch.distributions import Normal
    >>> from dslppl.runtime import sample, trace, block
    >>> def model(): return sample("a", Normal(0.0, 1.0)) + sample("b", Normal(0.0, 1.0))
    >>> list(trace(block(model, hide=["a"])).get_trace().nodes)
    ['b']
    """

    __slots__ = ("hide_fn",)

    def __init__(self, fn: Callable | None = None, hide_fn: Callable[[Message], bool] | None = None,
                 hide: Iterable[str] | None = None, expose: Iterable[str] | None = None) -> None:
        super().__init__(fn)
        if sum(x is not None for x in (hide_fn, hide, expose)) > 1:
            raise ValueError("block takes at most one of hide_fn=, hide=, expose=")
        if hide_fn is not None:
            self.hide_fn = hide_fn
        elif hide is not None:
            hidden = frozenset(hide)
            self.hide_fn = lambda msg: msg.name in hidden
        elif expose is not None:
            exposed = frozenset(expose)
            self.hide_fn = lambda msg: msg.name not in exposed
        else:
            self.hide_fn = lambda msg: True

    def process_message(self, msg: Message) -> None:
        if self.hide_fn(msg):
            msg.stop = True


class seed(Messenger):
    """Seed torch's global RNG on entry; restore the previous RNG state on exit.

    Only the CPU generator's state (``torch.get_rng_state``) is saved and
    restored; code outside the handler sees an undisturbed stream.

    >>> from torch.distributions import Normal
    >>> from dslppl.runtime import sample, seed
    >>> model = seed(lambda: sample("x", Normal(0.0, 1.0)), rng_seed=3)
    >>> bool(model() == model())
    True
    """

    __slots__ = ("rng_seed", "_saved_state")

    def __init__(self, fn: Callable | None = None, rng_seed: int | None = None) -> None:
        super().__init__(fn)
        if rng_seed is None:
            raise ValueError("seed needs rng_seed=")
        self.rng_seed = operator.index(rng_seed)
        self._saved_state = None

    def __enter__(self) -> seed:
        super().__enter__()
        self._saved_state = torch.get_rng_state()
        torch.manual_seed(self.rng_seed)
        return self

    def __exit__(self, exc_type, exc_value, traceback) -> None:
        try:
            super().__exit__(exc_type, exc_value, traceback)
        finally:
            torch.set_rng_state(self._saved_state)


class scale(Messenger):
    """Multiply the log-density of every sample site inside it by ``scale`` (> 0).

    >>> import torch
    >>> from torch.distributions import Normal
    >>> from dslppl.runtime import sample, trace, scale
    >>> model = lambda: sample("x", Normal(0.0, 1.0), obs=torch.tensor(0.0))
    >>> trace(model).get_trace().log_prob_sum(), trace(scale(model, scale=2.0)).get_trace().log_prob_sum()
    (tensor(-0.9189), tensor(-1.8379))
    """

    __slots__ = ("scale",)

    def __init__(self, fn: Callable | None = None, scale: float | torch.Tensor = 1.0) -> None:
        super().__init__(fn)
        positive = bool((scale > 0).all()) if isinstance(scale, torch.Tensor) else scale > 0
        if not positive:
            raise ValueError(f"scale must be > 0, got {scale}; use mask to drop terms")
        self.scale = scale

    def process_message(self, msg: Message) -> None:
        if msg.kind == "sample":
            msg.scale = self.scale * msg.scale


class mask(Messenger):
    """Zero the log-density of sample sites where ``mask`` (a bool or bool tensor) is False.

    Nested masks combine with ``&``. Masked sites are still sampled and traced.

    >>> import torch
    >>> from torch.distributions import Normal
    >>> from dslppl.runtime import sample, trace, mask
    >>> model = lambda: sample("x", Normal(0.0, 1.0), obs=torch.tensor([0.0, 9.0]))
    >>> trace(mask(model, mask=torch.tensor([True, False]))).get_trace().log_prob_sum()
    tensor(-0.9189)
    """

    __slots__ = ("mask",)

    def __init__(self, fn: Callable | None = None, mask: bool | torch.Tensor = True) -> None:
        super().__init__(fn)
        if isinstance(mask, torch.Tensor):
            if mask.dtype != torch.bool:
                raise ValueError(f"mask must be a bool tensor, got dtype {mask.dtype}")
        elif mask is not True and mask is not False:
            raise ValueError(f"mask must be a bool or a bool tensor, got {mask!r}")
        self.mask = mask

    def process_message(self, msg: Message) -> None:
        if msg.kind == "sample":
            msg.mask = self.mask if msg.mask is None else msg.mask & self.mask
