"""``sample``: NUTS (or static HMC) on a ``BoundModel``, with Stan's warm-up, batched over chains.

The run: initial points (uniform(-2, 2) in unconstrained space as Stan
draws them, or given), Stan's initial step-size search, ``warmup``
iterations of dual averaging and windowed metric adaptation
(:mod:`~dslppl.infer.adaptation`), then ``draws`` iterations at fixed step
size and metric. All randomness comes from one ``torch.Generator`` seeded
with ``seed``, so a seed means the same run everywhere, and a run resumed
from its checkpoint (written atomically after warm-up and every
``checkpoint_every`` draws) gives the same draws as an uninterrupted one.
"""
from __future__ import annotations

import os
import time
import warnings
from typing import Any, Mapping

import torch
from tqdm.auto import tqdm

from ..binding.bound import BoundModel
from .adaptation import DualAveraging, MetricEstimator, Windows
from .checkpoint import FORMAT, load_checkpoint, save_atomic
from .nuts import HMC, NUTS, LogDensity, Metric, Point, initial_step_size
from .posterior import STAT_NAMES, Posterior, SamplingWarning
from .threads import auto_threads
from .threads import threads as use_threads

__all__ = ["sample", "METRICS", "ALGORITHMS"]

METRICS = ("diag", "dense")
ALGORITHMS = ("nuts", "hmc")
INIT_RADIUS = 2.0   # Stan's uniform(-2, 2) initial points
INIT_TRIES = 100
REPORT_EVERY = 10   # iterations between progress-bar updates
COMPILE_ITERATIONS = 1000  # warm-up + draws from which compiling the potential pays off


def sample(bound: BoundModel, chains: int = 4, warmup: int = 1000, draws: int = 1000,
           seed: int | None = None, adapt_delta: float = 0.8, metric: str = "diag",
           init: Any = None, progress: bool | str = True, max_tree_depth: int = 10,
           algorithm: str = "nuts", num_steps: int = 10, step_size: float = 1.0,
           checkpoint: str | os.PathLike | None = None, checkpoint_every: int = 100,
           resume: bool = True, threads: int | None = None, warn: bool = True,
           compile: bool | None = None) -> Posterior:
    """Draw ``draws`` posterior draws per chain after ``warmup`` adaptation iterations.

    ``init``: None (uniform(-2, 2) on the unconstrained scale), a mapping of
    constrained values by name (every chain starts there), a tensor of
    unconstrained vectors ``[D]`` or ``[chains, D]``, or a variational
    :class:`~dslppl.infer.result.Fit` (each chain starts at one of its draws).
    ``metric``: "diag" or "dense". ``algorithm``: "nuts", or "hmc" with
    ``num_steps`` leapfrog steps per iteration. ``checkpoint``: a file the
    run's state is written to after warm-up and every ``checkpoint_every``
    draws, and resumed from. With ``warn``, each problem
    :meth:`Posterior.warnings` finds is issued as a :class:`SamplingWarning`.
    ``compile``: evaluate the potential and its gradient as one
    ``torch.compile``d graph (seconds to compile, then several times faster);
    by default only for runs of at least :data:`COMPILE_ITERATIONS` iterations.

    >>> import torch
    >>> from torch.distributions import Normal
    >>> from dslppl.runtime import sample as site
    >>> from dslppl.infer import bind_program
    >>> def model():
    ...     mu = site("mu", Normal(0.0, 1.0))
    ...     site("y", Normal(mu, 1.0), obs=torch.tensor(2.0))
    >>> post = sample(bind_program(model), chains=2, warmup=200, draws=300, seed=1, progress=False)
    >>> abs(post.summary()["mu"].mean - 1.0) < 0.15
    True
    """
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}: use one of {', '.join(METRICS)}")
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {algorithm!r}: use one of {', '.join(ALGORITHMS)}")
    if bound.params:
        raise ValueError(f"model {bound.name!r} has param statements ({', '.join(bound.params)}), "
                         "which MCMC cannot sample; fit it with variational inference")
    if bound.subsample:
        raise ValueError("MCMC needs the exact log density: do not subsample plates")
    if seed is None:
        seed = int.from_bytes(os.urandom(6), "little")
    if compile is None:
        compile = warmup + draws >= COMPILE_ITERATIONS
    config = {"model": bound.name, "dim": bound.dim, "chains": chains, "warmup": warmup, "draws": draws,
              "seed": seed, "adapt_delta": adapt_delta, "metric": metric, "max_tree_depth": max_tree_depth,
              "algorithm": algorithm, "num_steps": num_steps}
    saved = load_checkpoint(checkpoint, config) if checkpoint is not None and resume else None
    with use_threads(auto_threads(bound) if threads is None else threads):
        run = _Run(bound, config, progress, checkpoint, checkpoint_every, compile)
        if saved is not None:
            run.load_state_dict(saved)
        else:
            start = time.perf_counter()
            run.start(init, step_size)
            run.seconds["setup"] = time.perf_counter() - start
        posterior = run.finish()
        if warn:
            for message in posterior.warnings():
                warnings.warn(message, SamplingWarning, stacklevel=2)
    return posterior


class _Run:
    """One call of :func:`sample`: the sampler's whole state, advanced one iteration at a time."""

    def __init__(self, bound: BoundModel, config: dict, progress: bool | str,
                 checkpoint: str | os.PathLike | None, checkpoint_every: int, compile: bool) -> None:
        self.bound, self.config = bound, config
        self.progress = f"{bound.name} [{config['algorithm']}]" if progress is True else progress
        self.checkpoint, self.checkpoint_every = checkpoint, checkpoint_every
        chains, dim, dtype = config["chains"], bound.dim, bound.dtype
        self.log_density = LogDensity(bound.potential, compile)
        self.kernel = (NUTS(self.log_density, config["max_tree_depth"]) if config["algorithm"] == "nuts"
                       else HMC(self.log_density, config["num_steps"]))
        self.generator = torch.Generator().manual_seed(config["seed"])
        self.windows = Windows(config["warmup"])
        self.estimator = MetricEstimator(chains, dim, config["metric"] == "dense", dtype)
        self.iteration = 0
        self.u = torch.empty(chains, config["draws"], dim, dtype=dtype)
        self.stats = {name: torch.empty(chains, config["draws"], dtype=kind)
                      for name, kind in STAT_NAMES.items()}
        self.warmup_divergences = torch.zeros(chains, dtype=torch.long)
        # Wall time per phase; "setup" (initial points and step size) includes compiling.
        self.seconds = {"setup": 0.0, "warmup": 0.0, "sampling": 0.0}

    # --- setting up --------------------------------------------------------------------
    def start(self, init: Any, step_size: float) -> None:
        chains, dim, dtype = self.config["chains"], self.bound.dim, self.bound.dtype
        self.z = self.kernel.start(self._initial_points(init))
        if not bool((torch.isfinite(self.z.logp) & torch.isfinite(self.z.grad).all(-1)).all()):
            raise ValueError("the initial values give a log density or gradient that is not finite; "
                             "check that they lie inside each variable's support")
        eye = torch.eye(dim, dtype=dtype).expand(chains, dim, dim).clone()
        self.metric = Metric(eye if self.config["metric"] == "dense" else torch.ones(chains, dim, dtype=dtype))
        eps = torch.full((chains,), step_size, dtype=dtype)
        self.step_size = initial_step_size(self.log_density, self.z, eps, self.metric, self.generator)
        self.adapter = DualAveraging(self.step_size, self.config["adapt_delta"])

    def _initial_points(self, init: Any) -> torch.Tensor:
        chains, dim, dtype = self.config["chains"], self.bound.dim, self.bound.dtype
        if init is None:
            return self._uniform_points(chains, dim, dtype)
        if isinstance(init, torch.Tensor):
            return init.to(dtype).expand(chains, dim).clone()
        if isinstance(init, Mapping):
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(self.config["seed"])
                return self.bound.unconstrain(init).expand(chains, dim).clone()
        if hasattr(init, "distribution"):   # a variational Fit
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(self.config["seed"])
                return init.distribution().sample((chains,)).to(dtype)
        raise TypeError(f"init must be None, a mapping of values, a tensor or a Fit, not {type(init).__name__}")

    def _uniform_points(self, chains: int, dim: int, dtype: torch.dtype) -> torch.Tensor:
        """uniform(-2, 2) draws, redrawn for chains whose log density or gradient is not finite."""
        q = torch.empty(chains, dim, dtype=dtype)
        todo = torch.ones(chains, dtype=torch.bool)
        for _ in range(INIT_TRIES):
            fresh = (torch.rand(chains, dim, generator=self.generator, dtype=dtype) * 2 - 1) * INIT_RADIUS
            q = torch.where(todo[:, None], fresh, q)
            logp, grad = self.log_density(q)
            todo = ~(torch.isfinite(logp) & torch.isfinite(grad).all(-1))
            if not bool(todo.any()):
                return q
        raise ValueError(f"no initial point with a finite log density in {INIT_TRIES} tries of "
                         "uniform(-2, 2) on the unconstrained scale; pass init= values")

    # --- running -----------------------------------------------------------------------
    def finish(self) -> Posterior:
        warmup, total = self.config["warmup"], self.config["warmup"] + self.config["draws"]
        bar = tqdm(total=total, initial=self.iteration, desc=self.progress, leave=False,
                   disable=not self.progress, dynamic_ncols=True)
        with bar:
            while self.iteration < total:
                start = time.perf_counter()
                self._iterate(warmup)
                self.seconds["warmup" if self.iteration <= warmup else "sampling"] += time.perf_counter() - start
                if self.iteration % REPORT_EVERY == 0 or self.iteration == total:
                    bar.update(self.iteration - bar.n)
                    bar.set_postfix_str(self._progress_note(warmup), refresh=False)
                if self.checkpoint is not None and self._checkpoint_due(warmup):
                    save_atomic(self.state_dict(), self.checkpoint)
        self.seconds["compile"] = self.log_density.compile_seconds
        return Posterior(self.bound.name, self.config, self.u, self.stats, self.step_size,
                         self.metric.inverse, self.warmup_divergences, self.bound, timing=dict(self.seconds))

    def _iterate(self, warmup: int) -> None:
        i = self.iteration
        z, stats = self.kernel.transition(self.z, self.step_size, self.metric, self.generator)
        self.z = z
        if i < warmup:
            self._adapt(i, stats)
            self.warmup_divergences += stats["diverging"].long()
        else:
            self.u[:, i - warmup] = z.q
            for name in STAT_NAMES:
                value = z.logp if name == "lp" else self.step_size if name == "step_size" else stats[name]
                self.stats[name][:, i - warmup] = value
        self.iteration += 1

    def _adapt(self, i: int, stats: dict[str, torch.Tensor]) -> None:
        self.step_size = self.adapter.update(stats["accept_stat"])
        if self.windows.in_window(i):
            self.estimator.add(self.z.q)
        if self.windows.ends_window(i):
            self.metric = Metric(self.estimator.inverse_metric())
            self.estimator.restart()
            self.step_size = initial_step_size(self.log_density, self.z, self.step_size, self.metric,
                                               self.generator)
            self.adapter.restart(self.step_size)
        if i == self.config["warmup"] - 1:
            self.step_size = self.adapter.final()

    def _checkpoint_due(self, warmup: int) -> bool:
        done = self.iteration - warmup
        return done == 0 or (done > 0 and done % self.checkpoint_every == 0)

    def _progress_note(self, warmup: int) -> str:
        phase = "warmup" if self.iteration <= warmup else "sampling"
        divergent = int(self.stats["diverging"][:, :max(self.iteration - warmup, 0)].sum())
        divergent += int(self.warmup_divergences.sum())
        eps = ", ".join(f"{float(e):.2g}" for e in self.step_size)
        return f"{phase}, {self.config['chains']} chains, {divergent} divergent, step size {eps}"

    # --- checkpoints ---------------------------------------------------------------------
    def state_dict(self) -> dict:
        z = self.z
        return {"format": FORMAT, "config": self.config, "iteration": self.iteration,
                "z": {"q": z.q, "logp": z.logp, "grad": z.grad},
                "step_size": self.step_size, "inverse_metric": self.metric.inverse,
                "adapter": self.adapter.state_dict(), "estimator": self.estimator.state_dict(),
                "generator": self.generator.get_state(), "u": self.u, "stats": self.stats,
                "warmup_divergences": self.warmup_divergences}

    def load_state_dict(self, state: dict) -> None:
        z = state["z"]
        self.z = Point(z["q"], torch.zeros_like(z["q"]), z["logp"], z["grad"])
        self.iteration = state["iteration"]
        self.step_size = state["step_size"]
        self.metric = Metric(state["inverse_metric"])
        self.adapter = DualAveraging(self.step_size, self.config["adapt_delta"])
        self.adapter.load_state_dict(state["adapter"])
        self.estimator.load_state_dict(state["estimator"])
        self.generator.set_state(state["generator"])
        self.u, self.stats = state["u"], state["stats"]
        self.warmup_divergences = state["warmup_divergences"]

