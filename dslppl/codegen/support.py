"""``_rt``: the small library generated code calls, one instance per binding.

It carries the binding's dtype and subsample sizes, the handler-core
primitives, the library tables, and helpers for layout (index tensors shaped
for their axis), sites (expanding over plates, truncation, flat priors) and
the flat unconstrained vector (Jacobians, `discover`). Helpers stay tiny: the
hot path of ``potential`` is plain torch code.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Sequence

import torch
import torch.nn.functional as F
from torch.distributions import Distribution, Independent, biject_to, constraints
from torch.distributions.transforms import (AffineTransform, ComposeTransform, ExpTransform,
                                            IndependentTransform, SigmoidTransform, Transform)

from .. import runtime
from ..distributions import ImproperUniform, Truncated, ordered_vector
from ..library import DISTRIBUTIONS, FUNCTIONS
from .chains import chain_factor, draw_path, log_marginal
from .elimination import BUDGET, Plan, Trail, contract, draw


class Chain(Distribution):
    """A whole array built by a `for` loop, as one site: ``draw`` runs the loop step by
    step, ``score`` evaluates every step's density at once given the array."""

    arg_constraints: dict = {}
    has_rsample = False

    def __init__(self, draw: Callable[[], torch.Tensor], score: Callable[[torch.Tensor], torch.Tensor],
                 element: constraints.Constraint, shape: torch.Size, element_rank: int):
        self._draw, self._score = draw, score
        dims = len(shape) - element.event_dim
        self._support = constraints.independent(element, dims) if dims > 0 else element
        super().__init__(torch.Size(), torch.Size(shape), validate_args=False)

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        return self._support

    def sample(self, sample_shape=torch.Size()):
        if sample_shape:
            raise ValueError("a loop-built array is drawn one at a time")
        with torch.no_grad():
            return self._draw()

    def log_prob(self, value):
        return self._score(value)


_ENTRYWISE = (AffineTransform, ExpTransform, SigmoidTransform)

# f(c for k in range(n)) for n >= 2 copies of a constant c
_CONSTANT_REDUCTIONS: dict[str, Callable] = {
    "sum": lambda c, n: c * n,
    "mean": lambda c, n: c,
    "prod": lambda c, n: c ** n,
    "logsumexp": lambda c, n: c + math.log(n),
    "max": lambda c, n: c,
    "min": lambda c, n: c,
    "sd": lambda c, n: torch.zeros_like(c),
    "var": lambda c, n: torch.zeros_like(c),
}


class StepError(Exception):
    """A piece of a loop-built array that is missing or defined twice (reported with its name)."""


@dataclass
class Layout:
    """Where each latent lives in the flat unconstrained vector, found by `Runtime.discover`."""

    blocks: dict[str, tuple[slice, torch.Size]] = field(default_factory=dict)
    shapes: dict[str, torch.Size] = field(default_factory=dict)
    supports: dict[str, constraints.Constraint] = field(default_factory=dict)
    plates: dict[str, tuple[str, ...]] = field(default_factory=dict)
    size: int = 0

    def __getitem__(self, name: str) -> tuple[slice, torch.Size]:
        return self.blocks[name]

    def reads(self, names: Sequence[str], scalars: Sequence[bool]) -> tuple[tuple, tuple]:
        """How generated code reads each latent off the flat vector: its position (a one-number
        latent) or its slice, and its unconstrained shape."""
        blocks = tuple(self.blocks[n][0].start if scalar else self.blocks[n][0] for n, scalar in zip(names, scalars))
        return blocks, tuple(self.blocks[n][1] for n in names)


class Runtime:
    """Helpers for one binding (see the module docstring)."""

    torch = torch
    constraints = constraints
    ordered_vector = ordered_vector
    biject_to = staticmethod(biject_to)
    Truncated = Truncated
    Chain = Chain
    sample = staticmethod(runtime.sample)
    plate = runtime.plate
    deterministic = staticmethod(runtime.deterministic)
    factor = staticmethod(runtime.factor)
    param = staticmethod(runtime.param)
    functions = FUNCTIONS
    distributions = DISTRIBUTIONS

    Plan = Plan

    def __init__(self, dtype: torch.dtype = torch.float64, subsample: dict[str, int] | None = None):
        self.dtype = dtype
        self.subsample = dict(subsample or {})
        self.zero = torch.zeros((), dtype=dtype)
        self.contraction: Callable | None = None  # replaces `contract` (drawing, queries)
        self.chain_sum_hook: Callable | None = None  # replaces `log_marginal` (drawing)

    chain_factor = staticmethod(chain_factor)

    def chain_sum(self, factors: list, size: int, length: int, low: int, name: str) -> torch.Tensor:
        """The exact log-sum over every path of a chain (the forward algorithm)."""
        if self.chain_sum_hook is not None:
            self.chain_sum_hook(factors, int(size), int(length), int(low), name)
        return log_marginal(factors, int(size), int(length)).to(self.dtype)

    def draw_discrete(self, run: Callable[[], None], generator: torch.Generator | None = None,
                      maximize: bool = False) -> dict[str, torch.Tensor]:
        """Run a program (``model()`` at given continuous values) and draw every summed-out
        variable from its exact conditional (with ``maximize``: the most probable assignment)."""
        trail, plans, chains = Trail(), [], {}

        def contraction(factors, plan):
            plans.append(plan)
            return contract(factors, plan, trail=trail, maximize=maximize).to(self.dtype)

        def record_chain(factors, size, length, low, name):
            chains[name] = (factors, size, length, low)

        self.contraction, self.chain_sum_hook = contraction, record_chain
        try:
            with torch.no_grad():
                run()
        finally:
            self.contraction = self.chain_sum_hook = None
        values = draw(trail, plans[-1], generator, maximize) if plans else {}
        for name, (factors, size, length, low) in chains.items():
            values[name] = draw_path(factors, size, length, generator, maximize) + low
        return {name: value.to(self.dtype) for name, value in values.items()}

    # --- summed-out discrete latents -------------------------------------------------
    def eliminate(self, factors: list, plan: Plan) -> torch.Tensor:
        """The exact log-sum over the enumerated variables of ``factors``."""
        if self.contraction is not None:
            return self.contraction(factors, plan)
        return contract(factors, plan).to(self.dtype)

    @staticmethod
    def enum_log_prob(dist: Distribution, value: torch.Tensor) -> torch.Tensor:
        """log p(value), -inf outside the support (a Binomial count above its total)."""
        support = dist.support
        if not support.is_discrete or isinstance(dist, torch.distributions.Categorical):
            return dist.log_prob(value)
        inside = support.check(value)
        if bool(inside.all()):
            return dist.log_prob(value)
        safe = torch.where(inside, value, torch.zeros_like(value))
        return torch.where(inside, dist.log_prob(safe), torch.full_like(safe, -torch.inf))

    # --- values -----------------------------------------------------------------------
    def tensor(self, value) -> torch.Tensor:
        return torch.as_tensor(value, dtype=self.dtype)

    @staticmethod
    def long(value) -> torch.Tensor:
        return torch.as_tensor(value).round().long()

    @staticmethod
    def size(value) -> int:
        return int(value)

    @staticmethod
    def shape(*dims) -> torch.Size:
        return torch.Size(int(d) for d in dims)

    @staticmethod
    def value_count(low: int, high: int, name: str) -> int:
        """How many values ``low..high`` (both included) a summed-out variable takes."""
        if not 1 <= high - low + 1 <= BUDGET:
            raise ValueError(f"'{name}' would take the values {low}..{high}: "
                             + ("none" if high < low else f"more than {BUDGET:,}"))
        return high - low + 1

    @staticmethod
    def arange(n: int) -> torch.Tensor:
        return torch.arange(n)

    @staticmethod
    def layout(index: torch.Tensor, lo, position: int, width: int) -> torch.Tensor:
        """Index values ``lo + index`` shaped ``[1]*position + [n] + [1]*(width - position - 1)``."""
        shifted = index + lo if lo else index
        return shifted.view((1,) * position + (-1,) + (1,) * (width - position - 1))

    def batch_size(self, name: str, full: int) -> int:
        return min(int(self.subsample[name]), full)

    random_subsample = staticmethod(runtime.random_subsample)

    @staticmethod
    def stack(items: Sequence[torch.Tensor], rank: int) -> torch.Tensor:
        return torch.stack(torch.broadcast_tensors(*items), dim=-(rank + 1))

    @staticmethod
    def drop_axes(value: torch.Tensor, count: int) -> torch.Tensor:
        return value.reshape(value.shape[count:])

    @staticmethod
    def reduce_constant(name: str, fn: Callable, value, size: int):
        """A reduction over an index the body does not depend on: ``size`` copies of ``value``,
        in closed form for the built-in reductions (a range of 10**9 costs nothing)."""
        value = torch.as_tensor(value)
        closed = _CONSTANT_REDUCTIONS.get(name)
        if closed is None or size < 2:  # user reductions, and the edge cases of empty and single ranges
            return fn(value.unsqueeze(0).expand((size,) + value.shape), (0,))
        return closed(value, size)

    @staticmethod
    def fill(value, sizes: tuple, plated_width: int) -> torch.Tensor:
        """``value`` expanded to every axis of its context (a full array over its plates)."""
        value = torch.as_tensor(value)
        own = value.shape[plated_width:]
        if plated_width == 0:
            value = value.reshape((1,) * len(sizes) + own)
        return value.expand(tuple(sizes) + tuple(own))

    @staticmethod
    def stack_pieces(elements: list, name: str) -> torch.Tensor:
        missing = [i for i, e in enumerate(elements) if e is None]
        if missing:
            raise StepError(f"'{name}' has no definition for element(s) {missing[:5]}")
        return torch.stack(torch.broadcast_tensors(*elements))

    @staticmethod
    def step(elements: list, index: int, name: str):
        """Element ``index`` of a loop-built array, which must be defined already."""
        value = elements[index] if 0 <= index < len(elements) else None
        if value is None:
            raise StepError(f"'{name}[{index}]' is read before it is defined")
        return value

    @staticmethod
    def check_cover(name: str, size: int, pieces: list[tuple[int, int]]) -> None:
        """The pieces of a loop-built array (half-open ranges) cover 0..size-1 exactly once."""
        counts = [0] * size
        for start, stop in pieces:
            for i in range(max(start, 0), min(stop, size)):
                counts[i] += 1
        missing = [i for i, c in enumerate(counts) if c == 0]
        twice = [i for i, c in enumerate(counts) if c > 1]
        if missing:
            raise StepError(f"'{name}' has no definition for element{'s' if len(missing) > 1 else ''} "
                            f"{', '.join(map(str, missing[:5]))}{' ...' if len(missing) > 5 else ''}")
        if twice:
            raise StepError(f"'{name}' defines element{'s' if len(twice) > 1 else ''} "
                            f"{', '.join(map(str, twice[:5]))} more than once")

    def param_init(self, value, shape: torch.Size) -> torch.Tensor:
        return torch.as_tensor(value, dtype=self.dtype).expand(shape).clone()

    # --- sites --------------------------------------------------------------------------
    @staticmethod
    def site(dist: Distribution, sizes: tuple, own_shape, own_batch: int) -> Distribution:
        """``dist`` with batch shape ``sizes`` + its own batch dimensions, which become events.

        ``own_shape`` is the declared shape of one element (None: take it from
        the arguments); its first ``own_batch`` dimensions are batch dimensions
        of ``dist``, the rest its event."""
        if own_shape is not None:
            own = tuple(own_shape)[:own_batch]
        else:
            own = tuple(dist.batch_shape)[len(dist.batch_shape) - own_batch:] if own_batch else ()
        target = torch.Size(tuple(sizes) + own)
        if dist.batch_shape != target:
            dist = dist.expand(target)
        return Independent(dist, own_batch) if own_batch else dist

    def flat(self, support: constraints.Constraint, shape: tuple, own_rank: int) -> Distribution:
        """A flat prior over values of ``shape``; its last ``own_rank`` dimensions are one event."""
        shape = torch.Size(shape)
        inner = support.event_dim  # a simplex or ordered vector is one event already
        split = len(shape) - inner
        dist = ImproperUniform(support, shape[:split], shape[split:], dtype=self.dtype)
        return Independent(dist, own_rank - inner) if own_rank > inner else dist

    # --- the flat vector ---------------------------------------------------------------
    @staticmethod
    def logit_jacobian(raw: torch.Tensor) -> torch.Tensor:
        return (F.logsigmoid(raw) + F.logsigmoid(-raw)).sum()

    @staticmethod
    def interval_jacobian(raw: torch.Tensor, lower, upper) -> torch.Tensor:
        return (torch.log(upper - lower) + F.logsigmoid(raw) + F.logsigmoid(-raw)).sum()

    def discover(self, model: Callable[[], None], names: tuple[str, ...]) -> Layout:
        """Run ``model`` once, setting each latent to the image of zero under its
        support's bijection, and record where each latent goes in the flat vector."""
        initializer = Initializer(set(names), self.dtype)
        with runtime.trace() as tracer, initializer:
            model()
        layout = Layout()
        offset = 0
        for name in names:
            msg = tracer.trace.nodes[name]
            shape = msg.value.shape
            unconstrained = initializer.unconstrained[name]
            layout.blocks[name] = (slice(offset, offset + unconstrained.numel()), unconstrained)
            layout.shapes[name] = shape
            layout.supports[name] = msg.fn.support
            layout.plates[name] = tuple(f.name for f in msg.plates)
            offset += unconstrained.numel()
        layout.size = offset
        return layout


def _inverse_shape(transform: Transform, shape: torch.Size) -> torch.Size:
    """The unconstrained shape under ``transform``; entry-by-entry maps keep the shape.

    (Asking an affine map for it would broadcast symbolic shapes, which imports
    sympy: half a second of every first fit.)"""
    if isinstance(transform, ComposeTransform):
        for part in reversed(transform.parts):
            shape = _inverse_shape(part, shape)
        return shape
    if isinstance(transform, IndependentTransform):
        return _inverse_shape(transform.base_transform, shape)
    if isinstance(transform, _ENTRYWISE):
        return shape
    return transform.inverse_shape(shape)


class Initializer(runtime.Messenger):
    """Sets unobserved latent sites (all, or those in ``names``) to a valid point: the
    image of zero under their support's bijection."""

    def __init__(self, names: set[str] | None = None, dtype: torch.dtype = torch.float64):
        super().__init__()
        self.names = names
        self.dtype = dtype
        self.unconstrained: dict[str, torch.Size] = {}

    def process_message(self, msg) -> None:
        if msg.kind != "sample" or msg.is_observed or msg.value is not None:
            return
        if (self.names is not None and msg.name not in self.names) or msg.fn.support.is_discrete:
            return
        shape = msg.fn.batch_shape + msg.fn.event_shape
        bijection = biject_to(msg.fn.support)
        unconstrained = torch.Size(_inverse_shape(bijection, shape))
        self.unconstrained[msg.name] = unconstrained
        msg.value = bijection(torch.zeros(unconstrained, dtype=self.dtype))
