"""The step-size schedule of a fit: optimise, detect the plateau, then decay and average.

A fit runs in two phases:

1. *optimise* at the base learning rate. Every ``window`` steps the mean loss
   of the last window is compared with that of the window ``lag`` windows
   earlier; once it has fallen by less than twice its standard error at two
   checks in a row (the smoothed ELBO is flat up to noise; slow drifts over
   the lag still count as progress), or when only ``tail`` steps are left,
   the fit moves on;
2. the *tail*: ``tail`` more steps while the learning rate decays
   geometrically to ``final_lr_factor`` times the base rate, and the
   parameters are averaged (Polyak-Ruppert); the average is the result.

Averaging removes the jitter that a constant step size leaves around the
optimum; the decay makes the last iterates, and so the average, settle.

>>> s = Schedule(steps=1000, lr=0.01)
>>> s.window, s.tail, s.end
(50, 250, 1000)
>>> for t in (200, 250):  # a flat loss, twice: the tail starts
...     s.observe([1.0] * t, t)
>>> s.tail_start, s.end, round(s.lr_at(375), 4)
(250, 500, 0.0032)
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

__all__ = ["Schedule"]


@dataclass
class Schedule:
    """Phase, learning rate and end of a fit of at most ``steps`` steps (module docstring)."""

    steps: int
    lr: float
    final_lr_factor: float = 0.1
    window: int = 0          # 0: max(50, steps // 20)
    lag: int = 3             # windows between the two compared
    tail: int = 0            # 0: max(50, steps // 4)
    min_steps: int = 0       # 0: lag + 1 windows
    tail_start: int | None = None
    end: int = 0
    flat_checks: int = 0     # consecutive checks that found the loss flat

    def __post_init__(self) -> None:
        self.window = self.window or max(50, self.steps // 20)
        self.tail = min(self.tail or max(50, self.steps // 4), self.steps)
        self.min_steps = self.min_steps or (self.lag + 1) * self.window
        self.end = self.end or self.steps

    @property
    def in_tail(self) -> bool:
        return self.tail_start is not None

    def observe(self, losses: list[float], step: int) -> None:
        """Called after ``step`` steps (a multiple of ``window``): maybe start the tail."""
        if self.in_tail:
            return
        flat = step >= self.min_steps and _flat(losses, self.window, self.lag * self.window)
        self.flat_checks = self.flat_checks + 1 if flat else 0
        if step >= self.steps - self.tail or self.flat_checks >= 2:
            self.tail_start = step
            self.end = min(self.steps, step + self.tail)

    def lr_at(self, step: int) -> float:
        """The learning rate of step ``step``."""
        if not self.in_tail:
            return self.lr
        progress = (step - self.tail_start) / max(1, self.end - self.tail_start)
        return self.lr * self.final_lr_factor ** progress

    def state_dict(self) -> dict:
        return asdict(self)


def _flat(losses: list[float], w: int, lag: int) -> bool:
    """Whether the last window's mean loss is within 2 standard errors of the one ``lag`` earlier."""
    if len(losses) < lag + w:
        return False
    prev, cur = losses[-lag - w:-lag], losses[-w:]
    m_prev, m_cur = sum(prev) / w, sum(cur) / w
    var = (sum((x - m_prev) ** 2 for x in prev) + sum((x - m_cur) ** 2 for x in cur)) / (w - 1)
    return m_prev - m_cur <= 2 * math.sqrt(var / w)
