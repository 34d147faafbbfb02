"""L-BFGS for the MAP start: two-loop recursion and a bisection Wolfe line search.

Written here rather than taken from ``torch.optim.LBFGS`` because constructing
any torch optimizer imports torch's compiler stack (over a second at start-up,
most of eight schools' time to result), and because a MAP search needs no more
than this: minimise a smooth function of one flat vector, treating points where
it is not finite (or where a distribution refuses its arguments) as infinitely
bad.

>>> import torch
>>> f = lambda x: ((x - torch.tensor([1.0, -2.0])) ** 2).sum()
>>> x, values = minimize(f, torch.zeros(2))
>>> [round(v, 4) for v in x.tolist()]
[1.0, -2.0]
"""
from __future__ import annotations

import math
from collections import deque
from typing import Callable

import torch

Objective = Callable[[torch.Tensor], torch.Tensor]

_ARMIJO, _CURVATURE = 1e-4, 0.9   # Wolfe conditions


def minimize(f: Objective, x0: torch.Tensor, max_evals: int = 2000, history: int = 50,
             grad_tol: float = 1e-10, change_tol: float = 1e-14) -> tuple[torch.Tensor, list[float]]:
    """Minimise ``f`` from ``x0`` in at most ``max_evals`` evaluations (finite or not);
    returns the last point and every finite value evaluated."""
    values: list[float] = []
    calls = [0]  # every evaluation counts: a search among non-finite points must end too
    x = x0.detach().clone()
    fx, g = _value_and_grad(f, x, values, calls)
    if not math.isfinite(fx):
        return x, values
    steps: deque[tuple[torch.Tensor, torch.Tensor, float]] = deque(maxlen=history)
    while calls[0] < max_evals and float(g.abs().max()) > grad_tol:
        d = -_two_loop(g, steps)
        if float(g @ d) >= 0:  # not a descent direction: forget the curvature pairs
            steps.clear()
            d = -g
        first = 1.0 if steps else min(1.0, 1.0 / float(g.abs().sum()))
        found = _wolfe(f, x, fx, g, d, first, values, calls, max_evals)
        if found is None:
            break
        t, fn, gn = found
        s, y = t * d, gn - g
        sy = float(s @ y)
        if sy > 1e-10:
            steps.append((s, y, 1.0 / sy))
        x = x + s
        converged = abs(fx - fn) <= change_tol * (abs(fx) + 1.0)
        fx, g = fn, gn
        if converged:
            break
    return x, values


def _two_loop(g: torch.Tensor, steps) -> torch.Tensor:
    """H g for the inverse-Hessian estimate built from the stored (s, y) pairs."""
    q = g.clone()
    alphas = []
    for s, y, rho in reversed(steps):
        alpha = rho * float(s @ q)
        q -= alpha * y
        alphas.append(alpha)
    if steps:
        s, y, _ = steps[-1]
        q *= float(s @ y) / float(y @ y)
    for (s, y, rho), alpha in zip(steps, reversed(alphas)):
        q += (alpha - rho * float(y @ q)) * s
    return q


def _wolfe(f: Objective, x, fx: float, g, d, t: float, values: list[float], calls: list[int],
           max_evals: int):
    """A step ``t`` along ``d`` meeting the weak Wolfe conditions (bisection and expansion)."""
    slope = float(g @ d)
    low, high = 0.0, math.inf
    for _ in range(60):
        if calls[0] >= max_evals:
            return None
        fn, gn = _value_and_grad(f, x + t * d, values, calls)
        if not math.isfinite(fn) or fn > fx + _ARMIJO * t * slope:
            high = t
        elif float(gn @ d) < _CURVATURE * slope:
            low = t
        else:
            return t, fn, gn
        t = (low + high) / 2 if math.isfinite(high) else 2 * low
        if high - low < 1e-16 * max(1.0, high if math.isfinite(high) else low):
            break
    return None


def _value_and_grad(f: Objective, x: torch.Tensor, values: list[float],
                    calls: list[int]) -> tuple[float, torch.Tensor]:
    calls[0] += 1
    point = x.detach().clone().requires_grad_(True)
    try:
        value = f(point)
    except ValueError:  # a distribution refused its parameters far out: as bad as it gets
        return math.inf, torch.zeros_like(x)
    if not bool(torch.isfinite(value)):
        return math.inf, torch.zeros_like(x)
    # a density that does not read u (no latents, or none it depends on) is flat: gradient 0
    grad = torch.autograd.grad(value, point)[0] if value.requires_grad else torch.zeros_like(x)
    if not bool(torch.isfinite(grad).all()):
        return math.inf, torch.zeros_like(x)
    values.append(value.item())
    return values[-1], grad
