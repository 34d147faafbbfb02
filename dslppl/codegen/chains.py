"""Discrete chains (hidden Markov models of order one), summed out by the forward algorithm.

A chain ``z[0..L-1]`` over ``K`` values has *unary* factors ``u[t, j]`` (log
terms reading ``z[t]`` alone) and *pairwise* factors ``w[t, i, j]`` (terms
reading ``z[t - 1] = i`` and ``z[t] = j``). With ``M_t = w[t] + u[t]`` (a K x K
matrix), the log-marginal is ``logsumexp(u[0] + M_1 (x) ... (x) M_{L-1})``
with (x) the log-semiring matrix product: computed by a tree of batched
products (``log2 L`` steps, linear work in L). Drawing from the exact
conditional is forward filtering, backward sampling; the most probable path
is Viterbi.

>>> import torch
>>> factors = []
>>> chain_factor(factors, torch.tensor([0.5, 0.5]).log(), ("enum:z@=0",), None, 0, "enum:z@=0", None)
>>> stay = torch.tensor([[0.9, 0.1], [0.1, 0.9]]).log().expand(2, 2, 2)
>>> chain_factor(factors, stay, ("t", "enum:z@-1", "enum:z@0"), "t", 1, "enum:z@0", "enum:z@-1")
>>> round(float(log_marginal(factors, 2, 3).exp()), 6)   # every path's mass sums to one
1.0
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def chain_factor(factors: list, tensor: torch.Tensor, dims: tuple, time: str | None, start: int,
                 cur: str, prev: str | None) -> None:
    """Append a factor laid out as (time, [prev], cur), other plate dimensions summed."""
    keep = [d for d in (time, prev, cur) if d is not None]
    other = [i for i, d in enumerate(dims) if d not in keep]
    if other:
        tensor = tensor.sum(other)
        dims = tuple(d for d in dims if d in keep)
    tensor = tensor.permute([dims.index(d) for d in keep])
    if time is None:
        tensor = tensor.unsqueeze(0)
    factors.append((tensor, int(start), prev is not None))


def _tables(factors: list, size: int, length: int, dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """Unary (L, K) and pairwise (L, K, K) log tables (pairwise[0] unused)."""
    unary = torch.zeros(length, size, dtype=dtype)
    pair = torch.zeros(length, size, size, dtype=dtype)
    for tensor, start, pairwise in factors:
        steps = tensor.shape[0]
        padding = (start, length - start - steps)
        if pairwise:
            pair = pair + F.pad(tensor, (0, 0, 0, 0) + padding)
        else:
            unary = unary + F.pad(tensor, (0, 0) + padding)
    return unary, pair


def log_marginal(factors: list, size: int, length: int) -> torch.Tensor:
    """log of the sum over every path of exp(sum of factors)."""
    dtype = factors[0][0].dtype if factors else torch.float64
    unary, pair = _tables(factors, size, length, dtype)
    steps = pair[1:] + unary[1:, None, :]
    while steps.shape[0] > 1:
        if steps.shape[0] % 2:
            identity = torch.full((1, size, size), -torch.inf, dtype=dtype)
            identity[0].fill_diagonal_(0.0)
            steps = torch.cat([steps, identity])
        steps = (steps[0::2, :, :, None] + steps[1::2, None, :, :]).logsumexp(-2)
    total = unary[0] if steps.shape[0] == 0 else (unary[0][:, None] + steps[0]).logsumexp(0)
    return total.logsumexp(0)


def draw_path(factors: list, size: int, length: int, generator: torch.Generator | None = None,
              maximize: bool = False) -> torch.Tensor:
    """One path drawn from its exact conditional (forward filtering, backward sampling), or with
    ``maximize`` the most probable path (Viterbi). Values are positions 0..K-1."""
    with torch.no_grad():
        dtype = factors[0][0].dtype if factors else torch.float64
        unary, pair = _tables(factors, size, length, dtype)
        steps = pair + unary[:, None, :]
        alphas = [unary[0]]
        for t in range(1, length):
            scores = alphas[-1][:, None] + steps[t]
            alphas.append(scores.amax(0) if maximize else scores.logsumexp(0))
        path = torch.empty(length, dtype=torch.long)
        path[-1] = _pick(alphas[-1], generator, maximize)
        for t in range(length - 2, -1, -1):
            path[t] = _pick(alphas[t] + steps[t + 1][:, path[t + 1]], generator, maximize)
        return path


def _pick(logits: torch.Tensor, generator, maximize: bool) -> int:
    if maximize:
        return int(logits.argmax())
    return int(torch.multinomial((logits - logits.max()).exp(), 1, generator=generator))
