"""The step-size schedule of a fit: optimise, detect convergence, then decay and average.

A fit runs in two phases:

1. *optimise* at the base learning rate. Every ``window`` steps the loss
   (-ELBO) is estimated with common random numbers: the same ``EVAL_PARTICLES``
   draws of noise (and the same minibatch, for a subsampled model) at every
   check, so that two checks differ by what the parameters did, not by the
   noise of the draws (the one-draw training loss is far too noisy to tell a
   plateau from a slow climb: a subsampled logistic regression "plateaued"
   with its sds 4-7 times too wide). The fit has *converged* when the estimate
   improved by less than ``tol`` nats over the last ``lag`` windows, at two
   checks in a row (Stan ADVI's idea of a relative-tolerance check on the
   ELBO, with an absolute tolerance: the ELBO's scale grows with the data, a
   KL in nats does not). When only ``tail`` steps are left and it has not
   converged, the fit moves on anyway and says so (``converged`` stays False);
2. the *tail*: ``tail`` more steps while the learning rate decays
   geometrically to ``final_lr_factor`` times the base rate, and the
   parameters are averaged (Polyak-Ruppert); the average is the result.

Averaging removes the jitter that a constant step size leaves around the
optimum; the decay makes the last iterates, and so the average, settle.

>>> s = Schedule(steps=1000, lr=0.01)
>>> s.window, s.tail, s.end
(50, 250, 1000)
>>> for t, value in [(150, 9.0), (200, 5.0), (250, 5.0), (300, 5.0), (350, 5.0)]:
...     s.observe(value, t)    # no gain over 3 windows: at 350 for the first time
>>> s.tail_start, s.converged
(None, False)
>>> s.observe(5.0, 400)
>>> s.tail_start, s.end, s.converged, round(s.lr_at(525), 4)
(400, 650, True, 0.0032)
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

__all__ = ["Schedule", "EVAL_PARTICLES"]

EVAL_PARTICLES = 32   # draws of the common-random-numbers loss estimate at each check


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
    tol: float = 0.01        # nats of improvement over lag windows that count as none
    tail_start: int | None = None
    end: int = 0
    flat_checks: int = 0     # consecutive checks that found the loss flat
    converged: bool = False
    checks: list[float] = field(default_factory=list)   # the loss estimate at each check

    def __post_init__(self) -> None:
        self.window = self.window or max(50, self.steps // 20)
        self.tail = min(self.tail or max(50, self.steps // 4), self.steps)
        self.min_steps = self.min_steps or (self.lag + 1) * self.window
        self.end = self.end or self.steps

    @property
    def in_tail(self) -> bool:
        return self.tail_start is not None

    def observe(self, loss: float, step: int) -> None:
        """Called after ``step`` steps (a multiple of ``window``) with the loss estimate."""
        self.checks.append(loss)
        if self.in_tail:
            return
        flat = (step >= self.min_steps and len(self.checks) > self.lag
                and self.checks[-1 - self.lag] - loss < self.tol)
        self.flat_checks = self.flat_checks + 1 if flat else 0
        if self.flat_checks >= 2 or step >= self.steps - self.tail:
            self.converged = self.flat_checks >= 2
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

