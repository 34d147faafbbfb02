"""The MAP and the Laplace approximation, in the flat unconstrained space.

``find_map`` maximises ``potential(u)`` (log joint + log-Jacobian) with L-BFGS
(:mod:`~dslppl.infer.lbfgs`) and polishes the result with a few Newton steps
on the exact Hessian; the mode is *found* only when the Hessian of
``-potential`` there is positive definite and the Newton decrement is tiny.
Models without a mode (flat priors on a hierarchical scale, funnels) send
L-BFGS off towards infinity: the search is capped and reports ``found=False``.

``laplace_scale_tril(H)`` is the Cholesky factor of ``H^-1``, the covariance
of the Laplace approximation; :func:`build_family` turns the MAP into the
starting point and the preconditioner of every automatic guide.

>>> import torch
>>> pot = lambda u: -0.5 * ((u - 1.0) ** 2 / torch.tensor([1.0, 4.0])).sum()
>>> result = find_map(pot, torch.zeros(2, dtype=torch.float64))
>>> result.found, result.mode.round(decimals=6)
(True, tensor([1., 1.], dtype=torch.float64))
>>> laplace_scale_tril(result.precision).diagonal()
tensor([1., 2.], dtype=torch.float64)
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Callable

import torch

from .lbfgs import minimize
from .families import Family, FullRank, Laplace, LowRank, MeanField, PointMass

__all__ = ["MapResult", "find_map", "hessian", "laplace_scale_tril", "build_family"]

Potential = Callable[[torch.Tensor], torch.Tensor]
_ROW_BY_ROW = 64  # Hessians up to this size are built one gradient row at a time


@dataclass
class MapResult:
    """The outcome of :func:`find_map`."""

    mode: torch.Tensor            # the last iterate (the mode when ``found``)
    found: bool
    log_density: float            # potential(mode)
    iterations: int
    message: str
    precision: torch.Tensor | None = None   # Hessian of -potential at the mode
    losses: list[float] = field(default_factory=list, repr=False)


def find_map(potential: Potential, init: torch.Tensor, max_evals: int = 2000,
             newton_steps: int = 6, tol: float = 1e-8) -> MapResult:
    """Maximise ``potential`` from ``init`` (see the module docstring).

    ``tol`` bounds the Newton decrement ``g' H^-1 g / 2``: how much the
    log-density could still rise by a Newton step.
    """
    u0 = init.detach().clone()
    first = _value(potential, u0)
    if not math.isfinite(first):
        return MapResult(u0, False, first, 0, "the potential is not finite at the initial point")
    u, losses = minimize(lambda x: -potential(x), u0, max_evals=max_evals)
    if not bool(torch.isfinite(u).all()):
        return MapResult(u0, False, first, len(losses), "L-BFGS diverged", losses=losses)
    u, precision, decrement, message = _newton_polish(potential, u, newton_steps)
    found = precision is not None and decrement < tol
    if precision is not None and not found:
        message = f"no mode: the gradient is not vanishing (Newton decrement {decrement:.3g})"
    return MapResult(u, found, _value(potential, u), len(losses), message, precision, losses)


def _newton_polish(potential: Potential, u: torch.Tensor, steps: int):
    """A few damped Newton steps from ``u``; returns (u, Hessian, decrement, message)."""
    f = lambda x: -potential(x)  # noqa: E731
    for i in range(steps + 1):
        H = hessian(potential, u)
        if H is None:
            return u, None, math.inf, "the Hessian is not finite"
        g = _grad(f, u)
        try:
            chol = torch.linalg.cholesky(H)
        except torch.linalg.LinAlgError:
            return u, None, math.inf, "the Hessian of -potential is not positive definite"
        step = torch.cholesky_solve(-g[:, None], chol)[:, 0]
        decrement = -(g @ step).item() / 2
        if decrement < 1e-12 or i == steps:
            break
        u = _backtrack(potential, u, step)
    return u, H, decrement, "converged"


def _value(potential: Potential, u: torch.Tensor) -> float:
    with torch.no_grad():
        return potential(u).item()


def _backtrack(potential: Potential, u, step):
    fu = -_value(potential, u)
    t = 1.0
    for _ in range(30):
        cand = u + t * step
        fc = -_value(potential, cand)
        if math.isfinite(fc) and fc <= fu:
            return cand
        t /= 2
    return u


def _grad(f, u: torch.Tensor) -> torch.Tensor:
    x = u.detach().clone().requires_grad_(True)
    g, = torch.autograd.grad(f(x), x)
    return g


def hessian(potential: Potential, u: torch.Tensor) -> torch.Tensor | None:
    """The Hessian of ``-potential`` at ``u`` (symmetrised), or None if not finite.

    Small problems take one backward pass per row: torch's vectorised Hessian
    passes batched gradients, whose first use imports sympy (half a second of a
    short fit's start-up)."""
    f = lambda x: -potential(x)  # noqa: E731
    x = u.detach().clone().requires_grad_(True)
    value = f(x)
    if not value.requires_grad:  # a potential that does not read u (a flat prior and nothing else): H = 0
        return torch.zeros(x.numel(), x.numel(), dtype=x.dtype)
    if x.numel() <= _ROW_BY_ROW:
        grad, = torch.autograd.grad(value, x, create_graph=True)
        if not grad.requires_grad:  # a linear potential (flat priors, log-Jacobians): H = 0
            return torch.zeros(x.numel(), x.numel(), dtype=x.dtype)
        rows = [torch.autograd.grad(g, x, retain_graph=True, allow_unused=True)[0]
                if g.requires_grad else None for g in grad]
        H = torch.stack([r if r is not None else torch.zeros_like(x) for r in rows]).detach()
    else:
        with warnings.catch_warnings():
            # vectorize=True may warn about missing batching rules (it falls back to a slower loop).
            warnings.simplefilter("ignore")
            try:
                H = torch.autograd.functional.hessian(f, u.detach(), vectorize=True)
            except RuntimeError:
                H = torch.autograd.functional.hessian(f, u.detach())
    H = (H + H.T) / 2
    return H if bool(torch.isfinite(H).all()) else None


def laplace_scale_tril(precision: torch.Tensor) -> torch.Tensor:
    """The lower Cholesky factor of ``precision^-1``."""
    cov = torch.cholesky_inverse(torch.linalg.cholesky(precision))
    return torch.linalg.cholesky((cov + cov.T) / 2)


def build_family(kind: str, dim: int, init: torch.Tensor, map_result: MapResult | None,
                 rank: int | None = None, init_scale: float = 0.1) -> Family:
    """The family ``kind`` centred and preconditioned by the MAP's Laplace approximation.

    Without a MAP (none found, or none sought) the centre is ``init``, the
    preconditioner the identity, and the starting scale ``init_scale``; the
    full-rank and low-rank families then train with the plain gradient (far
    from the posterior the path estimator's variance blows up, and it drove a
    random walk's full-rank scale to singular).

    >>> fam = build_family("normal", 2, torch.zeros(2), None)
    >>> fam.init_params()[2:].exp()
    tensor([0.1000, 0.1000])
    """
    if map_result is not None and map_result.found:
        mode, H = map_result.mode, map_result.precision
        return _whitened(kind, mode, H, rank)
    if kind == "laplace":
        raise ValueError("the Laplace approximation needs a mode")
    mode = init.detach()
    ones = torch.ones_like(mode)
    if kind == "normal":
        return MeanField(mode, ones, init_scale)
    if kind == "mvn":
        return FullRank(mode, torch.diag(ones), init_scale, path_gradient=False)
    if kind == "lowrank":
        r = _rank(dim, rank)
        return LowRank(mode, ones, init_scale * torch.eye(dim, r, dtype=mode.dtype), init_scale,
                       path_gradient=False)
    return PointMass(mode)


def _whitened(kind: str, mode: torch.Tensor, H: torch.Tensor, rank: int | None) -> Family:
    if kind == "delta":
        return PointMass(mode)
    if kind in ("mvn", "laplace"):
        L0 = laplace_scale_tril(H)
        return FullRank(mode, L0) if kind == "mvn" else Laplace(mode, L0)
    # Mean-field's optimal variances for a Gaussian posterior are 1/H_ii.
    s0 = H.diagonal().rsqrt()
    if kind == "normal":
        return MeanField(mode, s0)
    # lowrank: the Laplace covariance in s0-scaled coordinates is C; its top
    # eigen-directions with W W' = V (lambda - 1) V' make W W' + I match C there.
    C = torch.cholesky_inverse(torch.linalg.cholesky(H)) / (s0[:, None] * s0[None, :])
    evals, evecs = torch.linalg.eigh((C + C.T) / 2)
    r = _rank(mode.numel(), rank)
    top = evals[-r:].flip(0)
    W0 = evecs[:, -r:].flip(1) * (top - 1).clamp(min=1e-2).sqrt()
    return LowRank(mode, s0, W0)


def _rank(dim: int, rank: int | None) -> int:
    r = max(1, round(math.sqrt(dim))) if rank is None else rank
    return min(r, dim)
