"""The training loop of a fit: one step function, run under the schedule.

Two step functions exist. :class:`FusedStep` is the fast path of automatic
guides: noise, ``u`` and ``log q(u)`` from the family, ``potential(u)``,
backward, one optimizer step on one flat parameter vector; no handlers, no
dicts, no per-site Python. :class:`TraceStep` runs ``Trace_ELBO`` on a model
and a guide program (DSL guides) over a private param store.

:class:`Trainer` owns everything around the step: the :class:`Schedule`
(plateau detection, learning-rate decay, iterate averaging), the losses,
the throttled progress bar, checkpoints and the non-finite stop. A step
function checks its loss *before* it steps, so a non-finite loss leaves the
parameters as they were; it also keeps a copy of the parameters before each
update, for the case where a finite loss had a non-finite gradient.
"""
from __future__ import annotations

import math
from abc import ABC, abstractmethod
from contextlib import contextmanager
from typing import Callable, Iterator

import torch
from tqdm.auto import tqdm

from ..binding.bound import BoundModel
from ..runtime import ParamStore
from .adam import LeanAdam
from .elbo import Trace_ELBO
from .families import Family
from ..runtime.problems import trace_problems
from .nonfinite import NonFiniteLoss, problems_at
from .rows import over_rows
from .schedule import EVAL_PARTICLES, Schedule
from .svi import param_scope

__all__ = ["FusedStep", "TraceStep", "Trainer"]

REPORT_EVERY = 25  # steps between progress-bar updates
EVAL_SEED = 7      # the common random numbers of the loss checks


class _Step(ABC):
    """What :class:`Trainer` needs of a step function."""

    leaves: list[torch.Tensor]         # the tensors the optimizer updates
    prev: list[torch.Tensor]           # their values before the last update
    optimizer: LeanAdam
    clip_norm: float | None

    @abstractmethod
    def __call__(self) -> float:
        """One step; returns the loss before it."""

    @abstractmethod
    def evaluate(self, particles: int = EVAL_PARTICLES) -> float:
        """The loss at the current parameters, averaged over ``particles`` draws that are
        the same at every call (common random numbers; torch's RNG stream is left as it was)."""

    @abstractmethod
    def diagnose(self, step: int) -> NonFiniteLoss:
        """The error to raise when step ``step`` met a non-finite loss."""

    def _update(self, loss: torch.Tensor) -> None:
        loss.backward()
        if self.clip_norm is not None:
            torch.nn.utils.clip_grad_norm_(self.leaves, self.clip_norm)
        for p, q in zip(self.leaves, self.prev):
            q.copy_(p.detach())
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)


class FusedStep(_Step):
    """One ELBO step of ``family`` on ``potential`` (see the module docstring)."""

    def __init__(self, bound: BoundModel, family: Family, phi: torch.Tensor,
                 extra: list[torch.Tensor], optimizer: LeanAdam,
                 potential: Callable[[torch.Tensor], torch.Tensor] | None = None,
                 num_particles: int = 1, clip_norm: float | None = None,
                 params: Callable[[], dict] | None = None,
                 check_potential: Callable[[torch.Tensor], torch.Tensor] | None = None) -> None:
        self.bound = bound
        self.rsample = family.rsample
        self.phi = phi
        self.leaves = [phi, *extra]
        self.prev = [p.detach().clone() for p in self.leaves]
        self.optimizer = optimizer
        # One particle: 1-D noise and no particle dim, a few ops fewer per step.
        self.shape = (family.noise_dim,) if num_particles == 1 else (num_particles, family.noise_dim)
        self.dtype = phi.dtype
        potential = bound.potential if potential is None else potential
        self.potential = potential if num_particles == 1 else over_rows(potential)
        # The loss checks of a subsampled model read all the data: with one fixed
        # minibatch, the best guide sits sqrt(N / batch) posterior sds off.
        self.check_potential = over_rows(potential if check_potential is None else check_potential)
        self.single = num_particles == 1
        self.noise_dim = family.noise_dim
        self.clip_norm = clip_norm
        self.params = params
        self.failed_u: torch.Tensor | None = None

    def __call__(self) -> float:
        eps = torch.randn(self.shape, dtype=self.dtype)
        u, log_q = self.rsample(self.phi, eps)
        loss = log_q - self.potential(u) if self.single else (log_q - self.potential(u)).mean()
        value = loss.item()
        if not math.isfinite(value):
            self.failed_u = u.detach()
            return value
        self._update(loss)
        return value

    def evaluate(self, particles: int = EVAL_PARTICLES) -> float:
        with torch.no_grad(), _common_random_numbers():
            eps = torch.randn((particles, self.noise_dim), dtype=self.dtype)
            u, log_q = self.rsample(self.phi, eps)
            return (log_q - self.check_potential(u)).mean().item()

    def diagnose(self, step: int) -> NonFiniteLoss:
        problems, note = [], ""
        params = self.params() if self.params is not None else {}
        for u in self.failed_u.reshape(-1, self.failed_u.shape[-1]):
            problems, note = problems_at(self.bound, u, params)
            if problems:
                break
        return NonFiniteLoss(step, problems, note)


class TraceStep(_Step):
    """One ``Trace_ELBO`` step of ``model`` and ``guide`` over ``store``'s leaves."""

    def __init__(self, model: Callable, guide: Callable, elbo: Trace_ELBO, store: ParamStore,
                 optimizer: LeanAdam, clip_norm: float | None = None,
                 check_model: Callable | None = None) -> None:
        self.model, self.guide, self.elbo, self.store = model, guide, elbo, store
        self.check_model = model if check_model is None else check_model   # all the data
        self.leaves = [leaf for _, leaf in store.named_parameters()]
        self.prev = [p.detach().clone() for p in self.leaves]
        self.optimizer = optimizer
        self.clip_norm = clip_norm
        self.failed: list = []  # the traces of the step whose loss was not finite

    def __call__(self) -> float:
        with param_scope(self.store):
            pairs = self.elbo.get_traces(self.model, self.guide)
        elbo, surrogate = self.elbo.terms(pairs)
        value = -elbo.item()
        if math.isfinite(value):
            self._update(-surrogate)
        else:
            self.failed = pairs
        return value

    def evaluate(self, particles: int = EVAL_PARTICLES) -> float:
        elbo = Trace_ELBO(particles, vectorize_particles=False)
        with _common_random_numbers(), param_scope(self.store):
            return elbo.loss(self.check_model, self.guide)

    def diagnose(self, step: int) -> NonFiniteLoss:
        problems, seen = [], set()
        with torch.no_grad():
            for model_tr, guide_tr in self.failed:
                for p in trace_problems(guide_tr) + trace_problems(model_tr):
                    if p.site not in seen:
                        seen.add(p.site)
                        problems.append(p)
        return NonFiniteLoss(step, problems)


class Trainer:
    """Runs a step function until the schedule ends (see the module docstring)."""

    def __init__(self, step_fn: _Step, schedule: Schedule, progress: bool | str = True,
                 checkpoint: Callable[["Trainer"], None] | None = None,
                 checkpoint_every: int = 500,
                 callback: Callable[[int, float], None] | None = None) -> None:
        self.step_fn = step_fn
        self.schedule = schedule
        self.step = 0
        self.losses: list[float] = []
        self.average: list[torch.Tensor] | None = None
        self.averaged = 0
        self.progress = progress
        self.checkpoint = checkpoint
        self.checkpoint_every = checkpoint_every
        self.callback = callback

    def run(self) -> None:
        """Step until the schedule's end; then the parameters are the tail's average."""
        step_fn, sched, losses = self.step_fn, self.schedule, self.losses
        groups = step_fn.optimizer.param_groups
        bar = _bar(self.progress, sched.end, self.step)
        try:
            while self.step < sched.end:
                if sched.in_tail:
                    lr = sched.lr_at(self.step)
                    for group in groups:
                        group["lr"] = lr
                value = step_fn()
                if not math.isfinite(value):
                    self._fail()
                losses.append(value)
                self.step += 1
                self._after_step(bar)
        finally:
            if bar is not None:
                bar.close()
        self._finish()

    def _after_step(self, bar) -> None:
        t, sched = self.step, self.schedule
        if sched.in_tail:
            self._accumulate()
        elif t % sched.window == 0:
            sched.observe(self.step_fn.evaluate(), t)
            if bar is not None and sched.in_tail:
                bar.total = sched.end
        if bar is not None and (t % REPORT_EVERY == 0 or t == sched.end):
            recent = self.losses[-REPORT_EVERY:]
            bar.set_postfix_str(f"loss {sum(recent) / len(recent):.5g}", refresh=False)
            bar.update(t - bar.n)
        if self.checkpoint is not None and (t % self.checkpoint_every == 0 or t == sched.end):
            self.checkpoint(self)
        if self.callback is not None:
            self.callback(t, self.losses[-1])

    def _accumulate(self) -> None:
        # Running mean of the iterates of the tail (Polyak-Ruppert averaging).
        leaves = self.step_fn.leaves
        if self.average is None:
            self.average = [p.detach().clone() for p in leaves]
            self.averaged = 1
            return
        self.averaged += 1
        for a, p in zip(self.average, leaves):
            a.add_(p.detach() - a, alpha=1.0 / self.averaged)

    def _finish(self) -> None:
        if self.average is not None:
            with torch.no_grad():
                for p, a in zip(self.step_fn.leaves, self.average):
                    p.copy_(a)

    def _fail(self) -> None:
        leaves, prev = self.step_fn.leaves, self.step_fn.prev
        if not all(bool(torch.isfinite(p).all()) for p in leaves):
            with torch.no_grad():
                for p, q in zip(leaves, prev):
                    p.copy_(q)
        error = self.step_fn.diagnose(self.step)
        if self.checkpoint is not None:
            self.checkpoint(self)
        raise error

    # --- checkpoints ---------------------------------------------------------
    def state_dict(self) -> dict:
        return {
            "step": self.step,
            "losses": torch.tensor(self.losses, dtype=torch.float64),
            "schedule": self.schedule.state_dict(),
            "average": self.average,
            "averaged": self.averaged,
            "leaves": [p.detach().clone() for p in self.step_fn.leaves],
            "optimizer": self.step_fn.optimizer.state_dict(),
            "rng": torch.get_rng_state(),
        }

    def load_state_dict(self, state: dict) -> None:
        self.step = state["step"]
        self.losses = state["losses"].tolist()
        self.schedule = Schedule(**state["schedule"])
        self.average = state["average"]
        self.averaged = state["averaged"]
        with torch.no_grad():
            for p, saved in zip(self.step_fn.leaves, state["leaves"]):
                p.copy_(saved)
        self.step_fn.optimizer.load_state_dict(state["optimizer"])
        torch.set_rng_state(state["rng"])


@contextmanager
def _common_random_numbers() -> Iterator[None]:
    """The same draws (noise, minibatch) at every use; the caller's RNG stream untouched."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(EVAL_SEED)
        yield


def _bar(progress: bool | str, total: int, start: int):
    if not progress:
        return None
    desc = progress if isinstance(progress, str) else "fit"
    return tqdm(total=total, initial=start, desc=desc, mininterval=0.25, dynamic_ncols=True)
