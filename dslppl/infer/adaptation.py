"""Stan's warm-up, batched over chains: step-size dual averaging and windowed metric adaptation.

- :class:`DualAveraging` tunes each chain's step size so that its mean
  acceptance statistic approaches ``delta`` (Hoffman and Gelman 2014, with
  Stan's constants ``gamma=0.05, kappa=0.75, t0=10``).
- :class:`Windows` is Stan's schedule: an initial buffer (75 iterations),
  slow windows doubling from 25, a terminal buffer (50); the metric is
  re-estimated at the end of each slow window.
- :class:`MetricEstimator` accumulates each chain's draws in the current
  window (Welford) and returns the regularized variance (``diag``) or
  covariance (``dense``), shrunk towards 1e-3 as Stan does.

>>> w = Windows(1000)
>>> [i for i in range(1000) if w.ends_window(i)]
[99, 149, 249, 449, 949]
"""
from __future__ import annotations

import math

import torch

__all__ = ["DualAveraging", "Windows", "MetricEstimator"]


class DualAveraging:
    """Nesterov dual averaging of ``log(step size)``, one per chain."""

    gamma, kappa, t0 = 0.05, 0.75, 10.0

    def __init__(self, step_size: torch.Tensor, delta: float) -> None:
        self.delta = delta
        self.restart(step_size)

    def restart(self, step_size: torch.Tensor) -> None:
        self.mu = torch.log(10 * step_size)
        self.counter = 0
        self.s_bar = torch.zeros_like(step_size)
        self.x_bar = torch.zeros_like(step_size)

    def update(self, accept_stat: torch.Tensor) -> torch.Tensor:
        """Learn from one iteration's acceptance statistics; returns the next step sizes."""
        self.counter += 1
        eta = 1.0 / (self.counter + self.t0)
        self.s_bar = (1 - eta) * self.s_bar + eta * (self.delta - accept_stat.clamp(max=1.0))
        x = self.mu - self.s_bar * math.sqrt(self.counter) / self.gamma
        weight = self.counter ** -self.kappa
        self.x_bar = (1 - weight) * self.x_bar + weight * x
        return torch.exp(x)

    def final(self) -> torch.Tensor:
        """The step sizes to sample with once warm-up ends."""
        return torch.exp(self.x_bar)

    def state_dict(self) -> dict:
        return {"mu": self.mu, "counter": self.counter, "s_bar": self.s_bar, "x_bar": self.x_bar}

    def load_state_dict(self, state: dict) -> None:
        self.mu, self.counter = state["mu"], state["counter"]
        self.s_bar, self.x_bar = state["s_bar"], state["x_bar"]


class Windows:
    """Stan's adaptation windows for ``warmup`` iterations (0-based iteration numbers)."""

    def __init__(self, warmup: int, init_buffer: int = 75, term_buffer: int = 50, base_window: int = 25):
        self.warmup = warmup
        self.adapt = warmup >= 20
        if init_buffer + base_window + term_buffer > warmup:
            init_buffer, term_buffer = int(0.15 * warmup), int(0.1 * warmup)
            base_window = warmup - (init_buffer + term_buffer)
        self.init_buffer, self.term_buffer = init_buffer, term_buffer
        self.ends = self._ends(base_window)

    def _ends(self, size: int) -> frozenset[int]:
        """The last iteration of each slow window (Stan's compute_next_window)."""
        last = self.warmup - self.term_buffer - 1
        end, ends = self.init_buffer + size - 1, set()
        while self.adapt:
            ends.add(end)
            if end >= last:
                break
            size *= 2
            end += size
            if end != last and end + 2 * size >= self.warmup - self.term_buffer:
                end = last
        return frozenset(ends)

    def in_window(self, i: int) -> bool:
        return self.adapt and self.init_buffer <= i < self.warmup - self.term_buffer

    def ends_window(self, i: int) -> bool:
        return self.adapt and i in self.ends


class MetricEstimator:
    """Per-chain running mean and (co)variance of the draws in the current window."""

    def __init__(self, chains: int, dim: int, dense: bool, dtype: torch.dtype) -> None:
        self.dense, self.shape = dense, (chains, dim)
        self.dtype = dtype
        self.restart()

    def restart(self) -> None:
        chains, dim = self.shape
        self.n = 0
        self.mean = torch.zeros(chains, dim, dtype=self.dtype)
        self.m2 = torch.zeros((chains, dim, dim) if self.dense else (chains, dim), dtype=self.dtype)

    def add(self, q: torch.Tensor) -> None:
        self.n += 1
        delta = q - self.mean
        self.mean += delta / self.n
        after = q - self.mean
        self.m2 += delta[:, :, None] * after[:, None, :] if self.dense else delta * after

    def inverse_metric(self) -> torch.Tensor:
        """The regularized window (co)variance: Stan's ``n/(n+5) var + 1e-3 * 5/(n+5)``."""
        n = self.n
        var = self.m2 / (n - 1)
        shrink = 1e-3 * 5.0 / (n + 5.0)
        eye = torch.eye(self.shape[1], dtype=self.dtype) if self.dense else 1.0
        return (n / (n + 5.0)) * var + shrink * eye

    def state_dict(self) -> dict:
        return {"n": self.n, "mean": self.mean, "m2": self.m2}

    def load_state_dict(self, state: dict) -> None:
        self.n, self.mean, self.m2 = state["n"], state["mean"], state["m2"]
