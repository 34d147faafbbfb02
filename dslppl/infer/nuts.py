"""The No-U-Turn Sampler and static HMC on a ``BoundModel``'s potential, batched over chains.

Every chain keeps its own position, step size, metric and tree, but the
chains advance in lockstep: at tree depth ``j`` each chain that is still
building doubles its trajectory by ``2**j`` leapfrog steps, and each
leapfrog evaluates the log density and its gradient for all building
chains in one call (``torch.func.vmap`` of the potential and one backward
pass; a potential that vmap cannot run is evaluated chain by chain). Chains
that have stopped are left out of the evaluation and masked in the update.

The transition is Stan's: the trajectory grows forwards or backwards at
random; the draw is taken by multinomial sampling, biased towards the
newest subtree at the top level and uniform inside subtrees; the tree
stops at the generalized no-U-turn criterion (Betancourt 2017), checked on
every merged subtree and, as Stan does since 2.22, across the two halves of
each merge; a leapfrog whose energy error exceeds 1000 is a divergence.

A :class:`Metric` is the inverse mass matrix of each chain, diagonal
``[C, D]`` or dense ``[C, D, D]``.
"""
from __future__ import annotations

import math
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, fields
from typing import Callable

import torch

from .rows import over_rows, validation_off

__all__ = ["Point", "Metric", "LogDensity", "NUTS", "HMC", "MAX_DELTA_H"]

MAX_DELTA_H = 1000.0  # an energy error beyond this is a divergence (Stan's max_deltaH)


@dataclass
class Point:
    """A batch of phase-space points, one row per chain."""

    q: torch.Tensor      # [C, D] position (the unconstrained vector u)
    p: torch.Tensor      # [C, D] momentum
    logp: torch.Tensor   # [C] log density at q (the potential)
    grad: torch.Tensor   # [C, D] its gradient

    def where(self, mask: torch.Tensor, other: "Point") -> "Point":
        """Rows of ``self`` where ``mask``, else of ``other``."""
        return Point(*(torch.where(mask if getattr(self, f.name).dim() == 1 else mask[:, None],
                                   getattr(self, f.name), getattr(other, f.name)) for f in fields(self)))


class Metric:
    """Each chain's inverse metric (the posterior covariance estimate): ``[C, D]`` or ``[C, D, D]``."""

    def __init__(self, inverse: torch.Tensor) -> None:
        self.inverse = inverse
        self.dense = inverse.dim() == 3
        if self.dense:
            # p ~ N(0, inverse^-1): p = U^-1 z with inverse = U^T U.
            self.upper = torch.linalg.cholesky(inverse).mT

    def velocity(self, p: torch.Tensor) -> torch.Tensor:
        """dq/dt = inverse @ p."""
        return _velocity(self.inverse, p)

    def kinetic(self, p: torch.Tensor, velocity: torch.Tensor | None = None) -> torch.Tensor:
        v = self.velocity(p) if velocity is None else velocity
        return 0.5 * (p * v).sum(-1)

    def momentum(self, generator: torch.Generator) -> torch.Tensor:
        z = torch.randn(self.inverse.shape[:2], generator=generator, dtype=self.inverse.dtype)
        if not self.dense:
            return z / self.inverse.sqrt()
        return torch.linalg.solve_triangular(self.upper, z[:, :, None], upper=True)[:, :, 0]


class LogDensity:
    """``u -> (log density, gradient)`` for a batch of rows, evaluating only the rows asked for.

    The rows go through the potential in one vmapped call (a loop over rows
    when vmap cannot run it) and one backward pass. A non-finite or failing
    evaluation counts as log density ``-inf`` (the leapfrog then diverges).

    With ``compile``, :attr:`leapfrog` is a whole leapfrog step of every
    chain (the potential's value and gradient included) as one
    ``torch.compile``d graph: compiled on the first call (seconds), then
    several times faster than eager torch on small models. All rows are
    evaluated every time, so the batch shape never changes. If compilation
    fails, the leapfrog stays eager (``leapfrog`` becomes None)."""

    def __init__(self, potential: Callable[[torch.Tensor], torch.Tensor], compile: bool = False) -> None:
        def safe_row(u):
            try:
                return potential(u)
            except (RuntimeError, ValueError):  # e.g. a Cholesky of a non-positive-definite matrix
                return torch.tensor(-math.inf, dtype=u.dtype)

        self.rows = over_rows(potential, row_fn=safe_row)
        self.leapfrog = torch.compile(_leapfrog_of(potential), dynamic=False) if compile else None
        self.compile_seconds = 0.0  # wall time of the first (compiling) leapfrog

    def __call__(self, q: torch.Tensor, rows: torch.Tensor | None = None,
                 logp: torch.Tensor | None = None, grad: torch.Tensor | None = None):
        """Log density and gradient at ``q``; with ``rows`` (a mask), only those rows are
        evaluated and the others copied from ``logp`` and ``grad``."""
        if rows is None or bool(rows.all()):
            value, g = self._evaluate(q)
        else:
            index = rows.nonzero()[:, 0]
            sub_value, sub_grad = self._evaluate(q[index])
            value, g = logp.clone(), grad.clone()
            value[index], g[index] = sub_value, sub_grad
        return torch.where(torch.isnan(value), -math.inf, value), g

    def _evaluate(self, q: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        with torch.enable_grad():
            q = q.detach().requires_grad_(True)
            value = self.rows(q)
            if not value.requires_grad:  # every row failed
                return value.detach(), torch.full_like(q, math.nan)
            (g,) = torch.autograd.grad(value.sum(), q)
        return value.detach(), g


def _velocity(inverse: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    return (inverse @ p[:, :, None])[:, :, 0] if inverse.dim() == 3 else inverse * p


@contextmanager
def _quiet(compiling: bool):
    """While torch compiles, its own deprecation warnings are not the user's business."""
    if not compiling:
        yield
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _leapfrog_of(potential: Callable[[torch.Tensor], torch.Tensor]) -> Callable:
    """One leapfrog step of every row, as a pure function of tensors (for ``torch.compile``);
    rows outside ``rows`` keep their old state."""
    def value_and_grad(u):
        grad, value = torch.func.grad_and_value(potential)(u)
        return value, grad
    batched = torch.func.vmap(value_and_grad)

    def leapfrog(q, p, logp, grad, step, inverse, rows):
        half = step[:, None] / 2
        p_half = p + half * grad
        q_new = q + step[:, None] * _velocity(inverse, p_half)
        value, g = batched(q_new)
        value = torch.where(torch.isnan(value), -math.inf, value)
        keep = rows[:, None]
        return (torch.where(keep, q_new, q), torch.where(keep, p_half + half * g, p),
                torch.where(rows, value, logp), torch.where(keep, g, grad))
    return leapfrog


@dataclass
class _Tree:
    """A built (sub)trajectory of every chain: ends nearest (``beg``) and farthest (``end``)
    from where it started, momentum sum ``rho``, log total weight, proposal, validity."""

    propose: Point
    log_w: torch.Tensor
    p_beg: torch.Tensor
    v_beg: torch.Tensor     # velocity (Stan's p_sharp) at the beginning
    p_end: torch.Tensor
    v_end: torch.Tensor
    rho: torch.Tensor
    valid: torch.Tensor     # [C] bool: built without divergence or U-turn


def _no_u_turn(v_a: torch.Tensor, v_b: torch.Tensor, rho: torch.Tensor) -> torch.Tensor:
    """The generalized criterion: both end velocities still point along ``rho``."""
    return ((v_a * rho).sum(-1) > 0) & ((v_b * rho).sum(-1) > 0)


def _persists(a: _Tree, b: _Tree, rho: torch.Tensor) -> torch.Tensor:
    """No U-turn over the merge of ``a`` and ``b`` (``b`` extends ``a`` at ``a``'s end), nor
    over ``a`` plus ``b``'s first point, nor over ``b`` plus ``a``'s last point."""
    return (_no_u_turn(a.v_beg, b.v_end, rho)
            & _no_u_turn(a.v_beg, b.v_beg, a.rho + b.p_beg)
            & _no_u_turn(a.v_end, b.v_end, b.rho + a.p_end))


class _Counters:
    """Per-chain tallies of one transition."""

    def __init__(self, chains: int, dtype: torch.dtype) -> None:
        self.n_leapfrog = torch.zeros(chains, dtype=torch.long)
        self.sum_accept = torch.zeros(chains, dtype=dtype)
        self.divergent = torch.zeros(chains, dtype=torch.bool)


class _Integrator:
    """The leapfrog and the Hamiltonian, for one log density and metric."""

    def __init__(self, log_density: LogDensity, metric: Metric) -> None:
        self.log_density, self.metric = log_density, metric

    def leapfrog(self, z: Point, step: torch.Tensor, rows: torch.Tensor | None = None) -> Point:
        """One leapfrog step of signed size ``step`` ([C]) for the chains in ``rows``."""
        compiled = self.log_density.leapfrog
        if compiled is not None:
            moved = self._compiled(compiled, z, step, rows)
            if moved is not None:
                return moved
        if rows is not None and bool(rows.all()):
            rows = None
        half = step[:, None] / 2
        p = z.p + half * z.grad
        q = z.q + step[:, None] * self.metric.velocity(p)
        logp, grad = self.log_density(q, rows, z.logp, z.grad)
        moved = Point(q, p + half * grad, logp, grad)
        return moved if rows is None else moved.where(rows, z)

    def _compiled(self, compiled: Callable, z: Point, step: torch.Tensor, rows: torch.Tensor | None
                  ) -> Point | None:
        density, first = self.log_density, self.log_density.compile_seconds == 0.0
        rows = torch.ones_like(z.logp, dtype=torch.bool) if rows is None else rows
        start = time.perf_counter()
        try:
            with validation_off(), _quiet(first):
                return Point(*compiled(z.q, z.p, z.logp, z.grad, step, self.metric.inverse, rows))
        except Exception:  # noqa: BLE001 - any compiler failure: the leapfrog stays eager
            density.leapfrog = None
            return None
        finally:
            if first:
                density.compile_seconds = time.perf_counter() - start

    def energy(self, z: Point, velocity: torch.Tensor | None = None) -> torch.Tensor:
        h = self.metric.kinetic(z.p, velocity) - z.logp
        return torch.where(torch.isnan(h), math.inf, h)


class NUTS:
    """The no-U-turn transition (module docstring), batched over chains.

    >>> import torch
    >>> kernel = NUTS(LogDensity(lambda u: -0.5 * (u * u).sum()))
    >>> metric = Metric(torch.ones(2, 3, dtype=torch.float64))
    >>> gen = torch.Generator().manual_seed(0)
    >>> z = kernel.start(torch.zeros(2, 3, dtype=torch.float64))
    >>> z, stats = kernel.transition(z, torch.full((2,), 0.5, dtype=torch.float64), metric, gen)
    >>> z.q.shape, stats["tree_depth"].shape
    (torch.Size([2, 3]), torch.Size([2]))
    """

    def __init__(self, log_density: LogDensity, max_tree_depth: int = 10) -> None:
        self.log_density = log_density
        self.max_tree_depth = max_tree_depth

    def start(self, q: torch.Tensor) -> Point:
        logp, grad = self.log_density(q)
        return Point(q, torch.zeros_like(q), logp, grad)

    def transition(self, z0: Point, step_size: torch.Tensor, metric: Metric,
                   generator: torch.Generator) -> tuple[Point, dict[str, torch.Tensor]]:
        """One NUTS iteration of every chain; returns the new points and per-chain statistics."""
        chains = z0.q.shape[0]
        integrator = _Integrator(self.log_density, metric)
        p = metric.momentum(generator)
        z0 = Point(z0.q, p, z0.logp, z0.grad)
        v0 = metric.velocity(p)
        h0 = integrator.energy(z0, v0)
        tree = _Tree(z0, torch.zeros_like(h0), p, v0, p, v0, p, torch.ones(chains, dtype=torch.bool))
        left = right = z0
        # The trajectory's two ends (left: the backward end), as momentum and velocity.
        ends = {"left": (p, v0), "right": (p, v0)}
        sample, log_w, rho = z0, tree.log_w, p
        counters = _Counters(chains, p.dtype)
        depth = torch.zeros(chains, dtype=torch.long)
        building = torch.ones(chains, dtype=torch.bool)
        for d in range(self.max_tree_depth):
            forward = torch.rand(chains, generator=generator, dtype=p.dtype) > 0.5
            start = right.where(forward, left)
            signed = torch.where(forward, step_size, -step_size)
            z_end, sub = self._build(integrator, d, start, building, signed, h0, counters, generator)
            right = z_end.where(forward & building, right)
            left = z_end.where(~forward & building, left)
            valid = sub.valid
            depth += valid.long()
            # Biased progressive sampling: the new subtree's proposal wins with
            # probability min(1, its weight / the old trajectory's weight).
            take = valid & (torch.rand(chains, generator=generator, dtype=p.dtype) < torch.exp(sub.log_w - log_w))
            sample = sub.propose.where(take, sample)
            log_w = torch.where(valid, torch.logaddexp(log_w, sub.log_w), log_w)
            old = _Tree(sample, log_w,
                        torch.where(forward[:, None], ends["left"][0], ends["right"][0]),
                        torch.where(forward[:, None], ends["left"][1], ends["right"][1]),
                        torch.where(forward[:, None], ends["right"][0], ends["left"][0]),
                        torch.where(forward[:, None], ends["right"][1], ends["left"][1]),
                        rho, building)
            rho = torch.where(valid[:, None], rho + sub.rho, rho)
            persist = _persists(old, sub, rho)
            grow_right, grow_left = (valid & forward)[:, None], (valid & ~forward)[:, None]
            ends = {"left": (torch.where(grow_left, sub.p_end, ends["left"][0]),
                             torch.where(grow_left, sub.v_end, ends["left"][1])),
                    "right": (torch.where(grow_right, sub.p_end, ends["right"][0]),
                              torch.where(grow_right, sub.v_end, ends["right"][1]))}
            building = valid & persist
            if not bool(building.any()):
                break
        stats = {
            "accept_stat": counters.sum_accept / counters.n_leapfrog.clamp(min=1),
            "tree_depth": depth,
            "n_leapfrog": counters.n_leapfrog,
            "diverging": counters.divergent,
            "energy": integrator.energy(sample),
        }
        return sample, stats

    def _build(self, integrator: _Integrator, depth: int, z: Point, building: torch.Tensor,
               step: torch.Tensor, h0: torch.Tensor, counters: _Counters,
               generator: torch.Generator) -> tuple[Point, _Tree]:
        """``2**depth`` leapfrog steps from ``z`` for the chains in ``building``."""
        if depth == 0:
            z = integrator.leapfrog(z, step, building)
            v = integrator.metric.velocity(z.p)
            delta = h0 - integrator.energy(z, v)
            divergent = building & (delta < -MAX_DELTA_H)
            counters.divergent |= divergent
            counters.n_leapfrog += building.long()
            counters.sum_accept += torch.where(building, torch.exp(delta.clamp(max=0.0)), 0.0)
            log_w = torch.where(building, delta, -math.inf)
            return z, _Tree(z, log_w, z.p, v, z.p, v, z.p, building & ~divergent)
        z, first = self._build(integrator, depth - 1, z, building, step, h0, counters, generator)
        if not bool(first.valid.any()):
            return z, first
        z, second = self._build(integrator, depth - 1, z, first.valid, step, h0, counters, generator)
        log_w = torch.logaddexp(first.log_w, second.log_w)
        take = torch.rand(z.q.shape[0], generator=generator, dtype=log_w.dtype) < torch.exp(second.log_w - log_w)
        rho = first.rho + second.rho
        valid = second.valid & _persists(first, second, rho)
        return z, _Tree(second.propose.where(take & second.valid, first.propose), log_w,
                        first.p_beg, first.v_beg, second.p_end, second.v_end, rho, valid)


class HMC:
    """Static HMC: ``num_steps`` leapfrog steps and a Metropolis correction, batched over chains."""

    def __init__(self, log_density: LogDensity, num_steps: int = 10) -> None:
        self.log_density, self.num_steps = log_density, num_steps

    def start(self, q: torch.Tensor) -> Point:
        logp, grad = self.log_density(q)
        return Point(q, torch.zeros_like(q), logp, grad)

    def transition(self, z0: Point, step_size: torch.Tensor, metric: Metric,
                   generator: torch.Generator) -> tuple[Point, dict[str, torch.Tensor]]:
        integrator = _Integrator(self.log_density, metric)
        z0 = Point(z0.q, metric.momentum(generator), z0.logp, z0.grad)
        h0 = integrator.energy(z0)
        z = z0
        for _ in range(self.num_steps):
            z = integrator.leapfrog(z, step_size)
        delta = h0 - integrator.energy(z)
        accept_prob = torch.exp(delta.clamp(max=0.0))
        accept = torch.rand(h0.shape, generator=generator, dtype=h0.dtype) < accept_prob
        sample = z.where(accept, z0)
        chains = h0.shape[0]
        stats = {"accept_stat": accept_prob, "tree_depth": torch.zeros(chains, dtype=torch.long),
                 "n_leapfrog": torch.full((chains,), self.num_steps, dtype=torch.long),
                 "diverging": delta < -MAX_DELTA_H, "energy": integrator.energy(sample)}
        return sample, stats


def initial_step_size(log_density: LogDensity, z: Point, step_size: torch.Tensor, metric: Metric,
                      generator: torch.Generator) -> torch.Tensor:
    """Stan's heuristic: double (or halve) each chain's step size until one leapfrog's
    acceptance probability crosses 0.8."""
    integrator = _Integrator(log_density, metric)
    threshold = math.log(0.8)

    def energy_change(eps: torch.Tensor) -> torch.Tensor:
        start = Point(z.q, metric.momentum(generator), z.logp, z.grad)
        return integrator.energy(start) - integrator.energy(integrator.leapfrog(start, eps))

    grow = energy_change(step_size) > threshold
    done = torch.zeros_like(grow)
    while True:
        change = energy_change(step_size)
        done |= torch.where(grow, ~(change > threshold), ~(change < threshold))
        if bool(done.all()):
            return step_size
        step_size = torch.where(done, step_size, torch.where(grow, 2 * step_size, step_size / 2))
        if bool((step_size > 1e7).any()):
            raise ValueError("the posterior is improper: the step size grows without bound; "
                             "check that every latent variable has a proper prior or enough data")
        if bool((step_size == 0).any()):
            raise ValueError("no acceptably small step size: the log density may not be continuous")
