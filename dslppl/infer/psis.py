"""Pareto-smoothed importance sampling (PSIS): how far a guide is from the posterior.

With draws ``u_s`` from the guide q and log weights ``log p(u_s, y) - log q(u_s)``,
the largest weights follow a generalized Pareto tail; its shape ``k`` (k-hat)
says whether q covers the posterior (Yao, Vehtari, Simpson and Gelman, "Yes, but
did it work?", 2018): below 0.5 the guide is good and importance weights can
correct it; 0.5-0.7 usable with resampling; above 0.7 the guide misses mass
the posterior has (too narrow, wrong place, wrong shape), and its summaries are
not to be trusted. The fit follows Vehtari et al.'s PSIS paper (Zhang and
Stephens' estimate of the tail, with the weakly informative prior on k),
the same algorithm as ArviZ's ``psislw`` (a test compares the two).

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> good = -0.5 * rng.standard_normal(4000) ** 2        # q close to p: light-tailed weights
>>> bool(psis(good)[1] < 0.5)
True
>>> heavy = 1.5 * np.log(rng.pareto(1.0, 4000) + 1)     # weights with a tail of shape ~1.5
>>> bool(psis(heavy)[1] > 0.7)
True
"""
from __future__ import annotations

import numpy as np

__all__ = ["psis"]

_PRIOR_K = 10        # pseudo-observations of the prior on k, centred at 0.5
_PRIOR_B = 3


def psis(log_weights) -> tuple[np.ndarray, float]:
    """Smoothed, normalized log weights and the tail shape k-hat (``inf`` if the tail is too short)."""
    x = np.asarray(log_weights, dtype=np.float64).copy()
    n = x.size
    x -= x.max()
    tail_len = int(np.ceil(min(0.2 * n, 3 * np.sqrt(n))))
    order = np.argsort(x)
    cutoff = max(x[order[-tail_len - 1]], np.log(np.finfo(float).tiny))
    tail = np.flatnonzero(x > cutoff)
    if tail.size <= 4:
        return x - _logsumexp(x), float("inf")
    tail = tail[np.argsort(x[tail])]
    k, sigma = _gpd_fit(np.exp(x[tail]) - np.exp(cutoff))
    if np.isfinite(k):
        probs = (np.arange(tail.size) + 0.5) / tail.size
        x[tail] = np.log(_gpd_quantile(probs, k, sigma) + np.exp(cutoff))
        x[x > 0] = 0
    return x - _logsumexp(x), float(k)


def _gpd_fit(tail: np.ndarray) -> tuple[float, float]:
    """Zhang and Stephens' posterior-mean estimate of (k, sigma) for sorted exceedances."""
    n = tail.size
    m = 30 + int(np.sqrt(n))
    b = 1 - np.sqrt(m / (np.arange(1, m + 1) - 0.5))
    b = b / (_PRIOR_B * tail[int(n / 4 + 0.5) - 1]) + 1 / tail[-1]
    k = np.log1p(-b[:, None] * tail).mean(axis=1)
    profile = n * (np.log(-b / k) - k - 1)
    weights = 1 / np.exp(profile - profile[:, None]).sum(axis=1)
    keep = weights >= 10 * np.finfo(float).eps
    b, weights = b[keep], weights[keep] / weights[keep].sum()
    b_post = float((b * weights).sum())
    k_post = float(np.log1p(-b_post * tail).mean())
    sigma = -k_post / b_post
    return (n * k_post + _PRIOR_K * 0.5) / (n + _PRIOR_K), sigma


def _gpd_quantile(probs: np.ndarray, k: float, sigma: float) -> np.ndarray:
    if sigma <= 0:
        return np.full_like(probs, np.nan)
    if abs(k) < np.finfo(float).eps:
        return -sigma * np.log1p(-probs)
    return sigma * np.expm1(-k * np.log1p(-probs)) / k


def _logsumexp(x: np.ndarray) -> float:
    top = x.max()
    return float(top + np.log(np.exp(x - top).sum()))
