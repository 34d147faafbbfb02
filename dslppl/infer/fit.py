"""``fit``: variational inference on a ``BoundModel``, with defaults that converge.

The pipeline for the automatic guides (``normal``, ``mvn``, ``lowrank``,
``delta``, ``laplace``):

1. **MAP.** L-BFGS (:mod:`~dslppl.infer.lbfgs`) maximises ``potential(u)`` from
   ``bound.init``; Newton steps polish the mode; the Hessian of
   ``-potential`` there gives the Laplace approximation N(mode, H^-1).
   ``laplace`` stops here; so does ``delta`` (its answer is the mode).
2. **Whitening.** The guide is written around the mode and scaled by the
   Laplace covariance (:mod:`~dslppl.infer.families`): ``mvn`` is
   ``u = mode + L0 (m + S eps)`` with ``L0 L0' = H^-1`` and ``m = 0, S = I`` at
   the start, so the optimiser sees a posterior that is close to N(0, I)
   however badly the model is scaled.
3. **SVI** on the fused objective ``potential(u) - log q(u)``: one flat
   parameter vector, Adam (:class:`~dslppl.infer.adam.LeanAdam`: torch's
   arithmetic without its per-step hooks), the learning rate constant until the loss,
   checked on common random numbers, stops falling, then decayed tenfold while the iterates are averaged
   (:mod:`~dslppl.infer.schedule`).

A MAP that is no place to start (no mode, a near-singular Hessian, a mode
outside the prior's range: a funnel's neck) is replaced by the best of
several short runs from other starts (:mod:`~dslppl.infer.starts`). With
subsampled plates (the potential is then a noisy minibatch estimate) or
``map_start=False``, step 1 is skipped: the guide starts at ``bound.init``
with the identity preconditioner and scale ``init_scale``, as Pyro's
autoguides do.

Every fit ends with a reliability check (:mod:`~dslppl.infer.reliability`):
Pareto k-hat of the guide against the model, importance-weighted moments,
convergence; ``Fit.reliability`` holds the verdict and warnings in words.

``guide="guide"`` fits the model's own ``guide { }`` block with
``Trace_ELBO`` on a private param store, under the same schedule.
"""
from __future__ import annotations

import dataclasses
import math
import os
from typing import Callable, Mapping

import torch

from ..binding.bound import BoundModel
from ..diagnostics import Diagnostic, DslError, did_you_mean
from ..runtime import ParamStore, replay, trace
from .adam import LeanAdam
from .checkpoint import FORMAT, load_checkpoint, remove_stale_temporaries, save_atomic
from .elbo import Trace_ELBO
from .families import Family, family_from_state
from .laplace import MapResult, build_family, find_map
from .loop import FusedStep, TraceStep, Trainer
from .nonfinite import NonFiniteLoss
from .reliability import assess, guide_log_weights, program_log_weights
from .result import Fit, MapInfo
from .schedule import Schedule
from .starts import SCORE_PARTICLES, STARTS, initial_point, random_inits, trap
from .svi import param_scope
from .threads import auto_threads
from .threads import threads as use_threads

__all__ = ["fit", "GUIDES"]

GUIDES = ("normal", "mvn", "lowrank", "delta", "laplace", "guide")
DIAGNOSTIC_DRAWS = 1000   # guide draws for k-hat (a DSL guide, traced one by one: a fifth)
DIAGNOSTIC_SEED = 20250101


def fit(bound: BoundModel, guide: str = "normal", steps: int = 2000, lr: float = 0.01,
        seed: int | None = None, num_particles: int = 1, progress: bool = True,
        checkpoint: str | os.PathLike | None = None, checkpoint_every: int = 500,
        resume: bool = True, clip_norm: float | None = None, rank: int | None = None,
        init_scale: float = 0.1, vectorize_particles: bool = False,
        callback: Callable[[int, float], None] | None = None, threads: int | None = None,
        compile: bool = False, full: BoundModel | None = None, init: Mapping[str, object] | None = None,
        map_start: bool = True) -> Fit:
    """Fit ``bound`` with ``guide`` (one of :data:`GUIDES`); see the module docstring.

    ``steps`` is the most SVI steps (fewer when the loss plateaus early);
    ``lr`` Adam's base learning rate; ``seed`` seeds torch's RNG first;
    ``num_particles`` draws per step; ``checkpoint`` a file written every
    ``checkpoint_every`` steps, from which a fit with the same arguments
    resumes (``resume=False`` ignores it); ``clip_norm`` clips gradients;
    ``rank`` is the ``lowrank`` guide's rank (default ``round(sqrt(D))``);
    ``init_scale`` the starting scale when no MAP is used;
    ``vectorize_particles`` runs a DSL guide's particles in one particle
    plate (the programs must broadcast over it); ``callback(step, loss)``
    runs after every step; ``threads`` sets torch's intra-op threads during
    the fit (default: 1 when the data is small, where the thread pool costs
    more than it saves; otherwise torch's setting); ``compile`` puts an
    automatic guide's step through ``torch.compile`` (see
    ``dslppl.infer.compiled``); ``full`` is the model
    bound to all its data, for the reliability check of a subsampled fit
    (:mod:`~dslppl.infer.reliability`); ``init`` maps latent names to
    constrained starting values (the others start at ``bound.init``);
    ``map_start=False`` skips the MAP: the guide starts at ``init`` with the
    identity preconditioner (:mod:`~dslppl.infer.starts` says when the
    default start leaves the MAP for the best of several short runs).
    A non-finite loss raises :class:`NonFiniteLoss`.

    >>> import torch
    >>> from torch.distributions import Normal
    >>> from dslppl.runtime import sample
    >>> from dslppl.infer import bind_program
    >>> def model():
    ...     mu = sample("mu", Normal(0.0, 1.0))
    ...     sample("y", Normal(mu, 1.0), obs=torch.tensor(2.0))
    >>> result = fit(bind_program(model), guide="laplace", progress=False)
    >>> round(result.summary()["mu"].mean, 1), round(result.params["scale_tril"].item() ** 2, 6)
    (1.0, 0.5)
    """
    if guide not in GUIDES:
        hint = did_you_mean(guide, GUIDES)
        raise ValueError(f"unknown guide {guide!r}: use one of {', '.join(GUIDES)}"
                         + (f" ({hint})" if hint else ""))
    if guide == "guide" and bound.guide is None:
        raise ValueError(f"model {bound.name!r} has no guide block; use an automatic guide "
                         f"({', '.join(GUIDES[:-1])})")
    if compile and guide == "guide":
        raise ValueError("compile=True compiles the step of an automatic guide, not of a guide block")
    if bound.dim == 0 and not bound.params and guide != "guide":
        raise DslError([Diagnostic("E0905", f"model {bound.name!r} has no latent variables or params: "
                                   "there is nothing to fit",
                                   hint="draw from it with sample_prior, or score it with log_joint")])
    if seed is not None:
        torch.manual_seed(seed)
    if init is not None:
        bound = dataclasses.replace(bound, init=initial_point(bound, init))
    config = {"model": bound.name, "guide": guide, "steps": steps, "lr": lr, "seed": seed,
              "num_particles": num_particles, "dim": bound.dim, "clip_norm": clip_norm,
              "rank": rank, "init_scale": init_scale, "vectorize_particles": vectorize_particles,
              "map_start": map_start, "init": None if init is None else bound.init.tolist(),
              **bound.fingerprint()}
    if checkpoint is not None:
        remove_stale_temporaries(checkpoint)
    saved = load_checkpoint(checkpoint, config) if checkpoint is not None and resume else None
    run = _Run(bound, guide, config, steps, lr, num_particles, clip_norm, progress,
               checkpoint, checkpoint_every, callback,
               full if full is not None and full.dim == bound.dim else None, map_start, compile)
    with use_threads(auto_threads(bound) if threads is None else threads):
        if guide == "guide":
            return run.program(saved, vectorize_particles)
        return run.automatic(saved, rank, init_scale)


class _Run:
    """One call of :func:`fit`: its settings, and the two ways to carry it out."""

    def __init__(self, bound, kind, config, steps, lr, num_particles, clip_norm, progress,
                 checkpoint, checkpoint_every, callback, full, map_start, compile=False) -> None:
        self.bound, self.kind, self.config, self.full = bound, kind, config, full
        self.map_start = map_start
        self.steps, self.lr, self.num_particles, self.clip_norm = steps, lr, num_particles, clip_norm
        self.progress = f"{bound.name} [{kind}]" if progress else False
        self.checkpoint, self.checkpoint_every, self.callback = checkpoint, checkpoint_every, callback
        self.compile = compile
        self.store = ParamStore()  # the fit's own params: the global store is left alone

    # --- automatic guides: the fused path -------------------------------------------
    def automatic(self, saved: dict | None, rank: int | None, init_scale: float) -> Fit:
        bound, potential = self.bound, self._potential()
        if saved is not None:
            family = family_from_state(saved["family"])
            info = None if saved["map"] is None else MapInfo(**saved["map"])
        else:
            seek = self.map_start and not bound.subsample and bound.dim > 0  # only params: no mode to seek
            map_result = find_map(potential, bound.init) if seek else None
            info = None if map_result is None else _info(map_result)
            if self.kind == "laplace" and not (map_result and map_result.found):
                raise _no_mode(bound, map_result)
            family = build_family(self.kind, bound.dim, bound.init, map_result, rank, init_scale)
            if self.kind == "laplace" or (self.kind == "delta" and info is not None and info.found):
                return self._fit(family, family.init_params(), map_result.losses, info, True)
            start = family.init_params()
            reason = (trap(bound, map_result) if map_result is not None and not bound.params
                      and self.kind != "delta" else None)
            if reason is not None:
                family, start = self._best_start(family, map_result, rank, init_scale)
                if info.found:
                    info = dataclasses.replace(info, message=f"found, but not the start: {reason}")
        phi = (family.init_params() if saved is not None else start).requires_grad_(True)
        extra = self._model_params()
        optimizer = LeanAdam([phi, *extra], lr=self.lr)
        step = FusedStep(bound, family, phi, extra, optimizer, potential, self.num_particles,
                         self.clip_norm, params=self._param_values,
                         check_potential=self._scoped(self.full.potential) if self.full else None)
        if self.compile:
            from .compiled import compile_step

            step = compile_step(step)
        trainer = self._trainer(step, {"family": family.state(),
                                       "map": None if info is None else vars(info)})
        if saved is not None:
            trainer.load_state_dict(saved["trainer"])
        make_fit = lambda: self._fit(family, phi.detach().clone(), trainer.losses, info,  # noqa: E731
                                     trainer.schedule.converged)
        return self._train(trainer, make_fit)

    def _best_start(self, family: Family, map_result: MapResult, rank, init_scale):
        """The best of several short fits (see :mod:`~dslppl.infer.starts`): (family, phi)."""
        bound, potential = self.bound, self._potential()
        inits = [bound.init, *random_inits(bound, STARTS, int(torch.randint(2 ** 31, ())))]
        families = ([family] if map_result.found else []) + [
            build_family(self.kind, bound.dim, init, None, rank, init_scale) for init in inits]
        best, best_score = (family, family.init_params()), math.inf
        for candidate in families:
            phi = candidate.init_params().requires_grad_(True)
            step = FusedStep(bound, candidate, phi, [], LeanAdam([phi], lr=self.lr), potential,
                             self.num_particles, self.clip_norm)
            try:
                Trainer(step, Schedule(max(100, self.steps // 10), self.lr), False).run()
            except NonFiniteLoss:
                continue
            value = step.evaluate(SCORE_PARTICLES)
            if math.isfinite(value) and value < best_score:
                best, best_score = (candidate, phi.detach().clone()), value
        return best

    def _potential(self) -> Callable[[torch.Tensor], torch.Tensor]:
        return self._scoped(self.bound.potential)

    def _scoped(self, potential: Callable[[torch.Tensor], torch.Tensor]) -> Callable:
        if not self.bound.params:
            return potential

        def scoped(u: torch.Tensor) -> torch.Tensor:
            # The model's `param` sites read the fit's own store.
            with param_scope(self.store):
                return potential(u)
        return scoped

    def _model_params(self) -> list[torch.Tensor]:
        if not self.bound.params:
            return []
        with torch.no_grad(), param_scope(self.store):
            self.bound.potential(self.bound.init)  # creates the model's params in the store
        leaves = [leaf for _, leaf in self.store.named_parameters()]
        for leaf in leaves:
            leaf.grad = None  # the MAP search back-propagated into them
        return leaves

    # --- DSL guides: Trace_ELBO -----------------------------------------------------
    def program(self, saved: dict | None, vectorize_particles: bool) -> Fit:
        bound = self.bound
        elbo = Trace_ELBO(self.num_particles, vectorize_particles=vectorize_particles)
        with torch.random.fork_rng(devices=[]), param_scope(self.store), torch.no_grad():
            # One trial run creates every param from its declared initial value.
            guide_tr = trace(bound.guide).get_trace()
            trace(replay(bound.model, trace=guide_tr)).get_trace()
        leaves = [leaf for _, leaf in self.store.named_parameters()]
        if not leaves:
            raise DslError([Diagnostic("E0905", f"the guide block of model {bound.name!r} has no params: "
                                       "there is nothing to fit",
                                       hint="give the guide `param` statements, or use an automatic guide")])
        optimizer = LeanAdam(leaves, lr=self.lr)
        step = TraceStep(bound.model, bound.guide, elbo, self.store, optimizer, self.clip_norm,
                         self.full.model if self.full else None)
        trainer = self._trainer(step, {"params": list(self.store.keys())})
        if saved is not None:
            trainer.load_state_dict(saved["trainer"])
        make_fit = lambda: self._fit(None, None, trainer.losses, None,  # noqa: E731
                                     trainer.schedule.converged)
        return self._train(trainer, make_fit)

    # --- shared ----------------------------------------------------------------------
    def _trainer(self, step, extra_state: dict) -> Trainer:
        def save(trainer: Trainer) -> None:
            save_atomic({"format": FORMAT, "config": self.config, **extra_state,
                         "trainer": trainer.state_dict()}, self.checkpoint)
        return Trainer(step, Schedule(self.steps, self.lr), self.progress,
                       save if self.checkpoint is not None else None,
                       self.checkpoint_every, self.callback)

    def _train(self, trainer: Trainer, make_fit: Callable[[], Fit]) -> Fit:
        try:
            trainer.run()
        except NonFiniteLoss as error:
            error.fit = make_fit()
            raise
        return make_fit()

    def _param_values(self) -> dict[str, torch.Tensor]:
        return {name: value.detach() for name, value in self.store.items()}

    def _fit(self, family: Family | None, phi, losses, info, converged: bool) -> Fit:
        result = Fit(self.bound.name, self.kind, list(losses), family, phi, self._param_values(),
                     info, converged, self.bound)
        weights, draws = self._log_weights(family, phi)
        result.reliability = assess(weights, draws, self.kind, converged, self.steps,
                                    result.final_loss)
        return result

    def _log_weights(self, family: Family | None, phi) -> tuple[torch.Tensor | None, ...]:
        """Log importance weights of the guide's draws against the full-data model, and the draws."""
        if self.kind == "delta":
            return None, None
        with torch.random.fork_rng(devices=[]), param_scope(self.store):
            torch.manual_seed(DIAGNOSTIC_SEED)
            if family is None:
                model = self.full.model if self.full is not None else self.bound.model
                return program_log_weights(model, self.bound.guide, DIAGNOSTIC_DRAWS // 5)
            model = self.full if self.full is not None else self.bound
            return guide_log_weights(family, phi, model.potential, DIAGNOSTIC_DRAWS)


def _info(result: MapResult) -> MapInfo:
    return MapInfo(result.found, result.log_density, result.iterations, result.message)


def _no_mode(bound: BoundModel, result: MapResult | None) -> DslError:
    why = (result.message if result is not None
           else "its plates are subsampled (the potential is a minibatch estimate)" if bound.subsample
           else "the MAP search is off (map_start=False)")
    return DslError([Diagnostic(
        "E0904", f"model {bound.name!r} has no posterior mode for the Laplace approximation: {why}",
        hint="use guide='mvn' or 'normal', which do not need one")])
