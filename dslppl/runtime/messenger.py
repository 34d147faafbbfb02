"""The effect-handler core: the global handler stack, messages and ``apply_stack``.

Every primitive (``sample``, ``param``, ``plate``, ``deterministic``, ``factor``)
builds a :class:`Message` and hands it to :func:`apply_stack`; the handlers on
the stack (subclasses of :class:`Messenger`) rewrite the message on its way in
and observe the result on its way out. This is the design of Pyro's poutine and
NumPyro's handlers, with a typed message instead of a dict.

>>> from dslppl.runtime.messenger import Message, apply_stack
>>> msg = apply_stack(Message("param", "p", fn=lambda: 3.0))
>>> msg.value, msg.done
(3.0, True)
"""
from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Message", "Messenger", "PlateFrame", "am_i_wrapped", "apply_stack",
           "default_process_message"]

# The one piece of global state of the effect system: the handler stack.
# _STACK[0] is the outermost handler (entered first), _STACK[-1] the innermost.
# It is mutated in place and never rebound, so modules may import the list
# itself; plate dims are derived from the plates on it, so nothing else needs
# cleaning when a handler leaves the stack. Like Pyro's, it is not thread-safe.
_STACK: list[Messenger] = []


class _NoKwargs(Mapping):
    """The shared, read-only empty kwargs of messages that have none.

    One immutable instance serves every message (no dict per site); it is
    hashable only so that dataclasses accept it as a field default.
    """

    __slots__ = ()

    def __getitem__(self, key):
        raise KeyError(key)

    def __iter__(self):
        return iter(())

    def __len__(self) -> int:
        return 0

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return "{}"


_NO_KWARGS = _NoKwargs()


@dataclass(frozen=True, slots=True)
class PlateFrame:
    """One enclosing vectorised plate, as recorded in :attr:`Message.plates`.

    ``size`` is the full size, ``subsample_size`` the length actually used
    (equal to ``size`` when not subsampling), ``dim`` a negative batch dim.
    """

    name: str
    size: int
    dim: int
    subsample_size: int

    @property
    def scale(self) -> float:
        """The factor subsampling multiplies log-densities by (``size / subsample_size``)."""
        return self.size / self.subsample_size


# eq=False: messages compare (and hash) by identity; field-wise equality
# would compare tensors, which is ambiguous and never what a caller wants.
@dataclass(slots=True, eq=False)
class Message:
    """The record of one primitive call as it travels through the handler stack.

    kind: ``'sample'``, ``'param'``, ``'plate'`` or ``'deterministic'``.
    fn: a ``Distribution`` for sample sites; for other kinds a callable that
        the default effect calls as ``fn(*args, **kwargs)``.
    value: the site's value; set before the default effect, it is kept.
    is_observed: the value is data (``obs=`` or ``condition``).
    scale, mask: multiply / mask the site's log-density (``scale``, ``mask``
        handlers, subsampled plates); see :meth:`Trace.compute_log_prob`.
    plates: the enclosing plates that processed the message, outermost first.
    infer: free-form per-site inference hints (Pyro's ``infer`` dict).
    stop: set by a handler to keep the message from handlers outside it.
    done: the value is final; set by the default effect or by ``replay``.
    log_prob, unscaled_log_prob, log_prob_sum: caches filled by ``Trace``.
    """

    kind: str
    name: str
    fn: Any = None
    args: tuple = ()
    kwargs: Any = _NO_KWARGS
    value: Any = None
    is_observed: bool = False
    scale: Any = 1.0
    mask: Any = None
    plates: tuple = ()
    infer: dict = field(default_factory=dict)
    stop: bool = False
    done: bool = False
    log_prob: Any = None
    unscaled_log_prob: Any = None
    log_prob_sum: Any = None


class Messenger:
    """Base effect handler: a context manager that sits on the global stack.

    Subclasses override :meth:`process_message` (runs before the value exists,
    innermost handler first) and/or :meth:`postprocess_message` (runs after,
    outermost first). Built with ``fn``, calling the handler runs ``fn`` under
    it; built with ``fn=None``, calling it with a function returns a copy that
    wraps that function, so it also works as a decorator.
    """

    __slots__ = ("fn",)

    def __init__(self, fn: Callable | None = None) -> None:
        if fn is not None and not callable(fn):
            raise TypeError(f"{type(self).__name__}: fn must be callable, got {fn!r}; "
                            "did you mean to pass it as a keyword argument?")
        self.fn = fn

    def __enter__(self):
        # A handler instance is installed at most once: installing it twice
        # would apply its effect twice (and a trace would see every site twice).
        for handler in _STACK:
            if handler is self:
                raise RuntimeError(f"{type(self).__name__} handler is already active")
        _STACK.append(self)
        return self

    def __exit__(self, exc_type, exc_value, traceback) -> None:
        if exc_type is None:
            if _STACK and _STACK[-1] is self:
                _STACK.pop()
                return
            raise RuntimeError(f"{type(self).__name__} is not the innermost handler "
                               "on exit: a handler was entered and never exited")
        # On an exception, drop this handler and anything above it that was
        # entered but never exited, so the stack is clean for the next run.
        for i in range(len(_STACK) - 1, -1, -1):
            if _STACK[i] is self:
                del _STACK[i:]
                return

    def process_message(self, msg: Message) -> None:
        """Rewrite ``msg`` before its value is computed; default: nothing."""

    def postprocess_message(self, msg: Message) -> None:
        """Observe ``msg`` after its value is computed; default: nothing."""

    def __call__(self, *args, **kwargs):
        if self.fn is None:
            if len(args) == 1 and not kwargs and callable(args[0]):
                return self._wrap(args[0])
            raise TypeError(f"{type(self).__name__} was built without fn: call it "
                            "with the function to wrap")
        with self:
            return self.fn(*args, **kwargs)

    def _wrap(self, fn: Callable) -> Messenger:
        # A copy, so that one handler used as a decorator twice gives two
        # independent wrappers instead of re-pointing the first one.
        wrapped = copy.copy(self)
        wrapped.fn = fn
        return wrapped


def default_process_message(msg: Message) -> None:
    """The default effect: compute the value unless a handler already set it.

    Sample sites draw ``fn.rsample()`` when the distribution is
    reparameterisable, else ``fn.sample()`` (Pyro's behaviour, which keeps
    gradients flowing for SVI); other kinds call ``fn(*args, **kwargs)``.
    """
    if msg.done or msg.is_observed or msg.value is not None:
        msg.done = True
        return
    fn = msg.fn
    if msg.kind == "sample":
        msg.value = fn.rsample() if fn.has_rsample else fn.sample()
    else:
        msg.value = fn(*msg.args, **msg.kwargs)
    msg.done = True


def apply_stack(msg: Message) -> Message:
    """Run ``msg`` through the handler stack and return it, value filled in.

    Three phases:

    1. *process*: each handler's ``process_message`` runs, innermost handler
       first (the stack reversed), until one sets ``msg.stop``; handlers outside
       that one never see the message.
    2. *default effect*: :func:`default_process_message` computes the value if
       no handler supplied one (sampling, reading the param store, ...).
    3. *postprocess*: ``postprocess_message`` runs over the same slice of the
       stack that phase 1 reached, outermost handler of the slice first.
    """
    stack = _STACK
    reached = 0
    for handler in reversed(stack):
        reached += 1
        handler.process_message(msg)
        if msg.stop:
            break
    default_process_message(msg)
    if reached:
        for handler in stack[-reached:]:
            handler.postprocess_message(msg)
    return msg


def am_i_wrapped() -> bool:
    """Whether any handler (including a plate) is active."""
    return bool(_STACK)
