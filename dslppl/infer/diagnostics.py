"""MCMC diagnostics: rank-normalized split R-hat, bulk and tail ESS, MCSE, E-BFMI.

The estimators are those of Vehtari, Gelman, Simpson, Carpenter and Bürkner
(2021), "Rank-normalization, folding, and localization", as Stan and ArviZ
compute them (the tests compare with ArviZ to 1e-6). Every function takes
the draws of one scalar quantity as an array ``[chains, draws]``.

>>> import numpy as np
>>> x = np.random.default_rng(0).normal(size=(4, 500))
>>> bool(abs(rhat(x) - 1) < 0.01), bool(ess_bulk(x) > 1000)
(True, True)
"""
from __future__ import annotations

import numpy as np
import torch

__all__ = ["rhat", "ess_bulk", "ess_tail", "ess_mean", "mcse_mean", "ebfmi", "split_chains"]


def split_chains(x: np.ndarray) -> np.ndarray:
    """Each chain cut into its first and last halves (the middle draw of an odd chain is dropped)."""
    half = x.shape[1] // 2
    return np.concatenate([x[:, :half], x[:, x.shape[1] - half:]], axis=0)


def _ranks(x: np.ndarray) -> np.ndarray:
    """1-based ranks over all draws, ties given their average rank."""
    flat = x.ravel()
    order = np.argsort(flat, kind="mergesort")
    sorted_x = flat[order]
    starts = np.r_[True, sorted_x[1:] != sorted_x[:-1]]
    group = np.cumsum(starts) - 1
    first = np.flatnonzero(starts)
    last = np.r_[first[1:], flat.size] - 1
    ranks = np.empty(flat.size)
    ranks[order] = (first[group] + last[group]) / 2.0 + 1.0
    return ranks.reshape(x.shape)


def _z_scale(x: np.ndarray) -> np.ndarray:
    """Rank-normalization: normal scores of the fractional ranks (Blom's offset 3/8)."""
    p = (_ranks(x) - 0.375) / (x.size + 0.25)
    return torch.special.ndtri(torch.from_numpy(p)).numpy()


def _rhat(x: np.ndarray) -> float:
    n = x.shape[1]
    between = n * np.var(x.mean(axis=1), ddof=1)
    within = np.mean(np.var(x, axis=1, ddof=1))
    return float(np.sqrt((between / within + n - 1) / n))


def _autocov(x: np.ndarray) -> np.ndarray:
    """Autocovariance of each chain at every lag (divided by n), by FFT."""
    n = x.shape[1]
    centred = x - x.mean(axis=1, keepdims=True)
    size = 2 ** int(np.ceil(np.log2(2 * n)))
    f = np.fft.rfft(centred, n=size, axis=1)
    return np.fft.irfft(f * np.conj(f), n=size, axis=1)[:, :n] / n


def _constant(x: np.ndarray) -> bool:
    return bool(np.max(x) - np.min(x) < np.finfo(float).resolution)


def _ess(x: np.ndarray) -> float:
    """ESS of ``x`` ([chains, draws]) with Geyer's initial monotone sequence estimator."""
    if not np.all(np.isfinite(x)):
        return float("nan")
    if _constant(x):
        return float(x.size)
    chains, n = x.shape
    acov = _autocov(x)
    mean_var = np.mean(acov[:, 0]) * n / (n - 1.0)
    var_plus = mean_var * (n - 1.0) / n
    if chains > 1:
        var_plus += np.var(x.mean(axis=1), ddof=1)
    rho = np.zeros(n)
    rho[0] = even = 1.0
    rho[1] = odd = 1.0 - (mean_var - np.mean(acov[:, 1])) / var_plus
    t = 1
    while t < n - 3 and even + odd > 0.0:  # initial positive sequence
        even = 1.0 - (mean_var - np.mean(acov[:, t + 1])) / var_plus
        odd = 1.0 - (mean_var - np.mean(acov[:, t + 2])) / var_plus
        if even + odd >= 0:
            rho[t + 1], rho[t + 2] = even, odd
        t += 2
    max_t = t - 2
    if even > 0:
        rho[max_t + 1] = even
    t = 1
    while t <= max_t - 2:  # initial monotone sequence
        if rho[t + 1] + rho[t + 2] > rho[t - 1] + rho[t]:
            rho[t + 1] = rho[t + 2] = (rho[t - 1] + rho[t]) / 2.0
        t += 2
    total = chains * n
    tau = -1.0 + 2.0 * np.sum(rho[:max_t + 1]) + np.sum(rho[max_t + 1:max_t + 2])
    return float(total / max(tau, 1.0 / np.log10(total)))


def _invalid(x: np.ndarray) -> bool:
    return x.shape[1] < 4 or not np.all(np.isfinite(x))


def rhat(x: np.ndarray) -> float:
    """Rank-normalized split R-hat: the larger of the bulk and the folded (tail) R-hat."""
    x = np.asarray(x, dtype=float)
    if _invalid(x) or _constant(x):
        return float("nan")
    folded = np.abs(x - np.median(x))
    return max(_rhat(_z_scale(split_chains(x))), _rhat(_z_scale(split_chains(folded))))


def ess_bulk(x: np.ndarray) -> float:
    """Bulk ESS: ESS of the rank-normalized split chains."""
    x = np.asarray(x, dtype=float)
    return float("nan") if _invalid(x) else _ess(_z_scale(split_chains(x)))


def ess_tail(x: np.ndarray) -> float:
    """Tail ESS: the smaller ESS of the indicators of the 5% and 95% quantiles."""
    x = np.asarray(x, dtype=float)
    if _invalid(x):
        return float("nan")
    q05, q95 = np.quantile(x, [0.05, 0.95])
    return min(_ess(split_chains((x <= q05).astype(float))),
               _ess(split_chains((x <= q95).astype(float))))


def ess_mean(x: np.ndarray) -> float:
    """ESS of the mean: on the split chains, not rank-normalized."""
    x = np.asarray(x, dtype=float)
    return float("nan") if _invalid(x) else _ess(split_chains(x))


def mcse_mean(x: np.ndarray) -> float:
    """Monte Carlo standard error of the mean: sd / sqrt(ESS of the mean)."""
    x = np.asarray(x, dtype=float)
    return float(np.std(x, ddof=1) / np.sqrt(ess_mean(x)))


def ebfmi(energy: np.ndarray) -> np.ndarray:
    """E-BFMI of each chain: summed squared energy changes over summed squared deviations."""
    energy = np.asarray(energy, dtype=float)
    deviations = energy - energy.mean(axis=1, keepdims=True)
    return np.square(np.diff(energy, axis=1)).sum(axis=1) / np.square(deviations).sum(axis=1)
