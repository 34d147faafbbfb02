"""`Model`: a checked `.ppl` model, and everything a user does with it.

>>> import dslppl
>>> model = dslppl.loads('''
... model coin {
...   data n: int
...   data heads: int
...   p ~ Beta(2, 2)
...   heads ~ Binomial(n, probs=p)
... }''')
>>> model.factorization()
'p(p, heads) = p(p) p(heads | p)'
>>> float(model.log_joint({"p": 0.5}, {"n": 10, "heads": 5})) < 0
True
"""
from __future__ import annotations

from contextlib import contextmanager, nullcontext
from dataclasses import replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from .diagnostics import Diagnostic, DslError
from .check import CheckedModel, Kind, check
from .driver import front_end
from .graph import ModelGraph, build_graph
from .lower import Lowered, Rewrite, lower, noncentred
from .source import Source, UnreadableFile, read_text_file

if TYPE_CHECKING:  # torch and code generation are imported by the methods that need them
    import networkx as nx
    import torch

    from .binding.bind import Compiled
    from .binding.bound import BoundModel
    from .codegen.module import Generated

Data = Mapping[str, Any] | str | Path | None


class Model:
    """A model read from `.ppl` text: its graph, its generated code, and ways to run it.

    Build one with `dslppl.load` (a file) or `dslppl.loads` (text).
    """

    def __init__(self, text: str, filename: str | None = None):
        self.text = Source(text, filename)
        self.checked, self.model_graph = front_end(text, filename)
        self._generated: dict[tuple, Generated] = {}
        self._compiled: dict[tuple, Compiled] = {}
        self._rewritten: tuple[CheckedModel, ModelGraph] | None = None

    # --- structure ---------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.checked.name

    @property
    def graph(self) -> nx.DiGraph:
        """The networkx DAG: one node per variable (``graph.nodes[n]["var"]``), edges parent -> child."""
        return self.model_graph.dag

    def factorization(self, latex: bool = False) -> str:
        """The joint density as a product of conditional factors."""
        return self.model_graph.factorization(latex=latex)

    def render(self, data: Data = None, *, distributions: bool = True, guide: bool = False):
        """The factor graph as a `graphviz.Digraph` (plate sizes shown when data is given)."""
        from .render import render

        sizes = self._plate_sizes(data) if data is not None else None
        return render(self.model_graph, sizes=sizes, distributions=distributions, guide=guide)

    def _repr_mimebundle_(self, include=None, exclude=None):
        return self.render()._repr_mimebundle_(include, exclude)

    @cached_property
    def lowered(self) -> Lowered:
        """The model's units of code in dependency order (see `dslppl.lower`)."""
        return lower(self.model_graph)

    # --- code ---------------------------------------------------------------------
    @property
    def source(self) -> str:
        """The generated Python source of the model's programs (all data observed)."""
        return self.generated().source

    def generated(self, simulated: frozenset[str] = frozenset(), subsampled: frozenset[str] = frozenset(),
                  reparam: bool = False, draw: bool = False, summed: frozenset[str] = frozenset()) -> Generated:
        """The generated code for one variant, generated once and cached: which observed
        variables are simulated, which plates subsampled, whether latents are written
        non-centred (``reparam``), whether discrete latents are drawn rather than summed out
        (``draw``, for prior simulation), and which observed discrete variables without data
        are summed out (``summed``, for exact queries)."""
        from .codegen.module import generate

        key = (simulated, subsampled, reparam, draw, summed)
        if key not in self._generated:
            checked, graph = self._variant(reparam)
            self._generated[key] = generate(checked, lower(graph), simulated=simulated, subsampled=subsampled,
                                            source=self.text, draw=draw, summed=summed)
        return self._generated[key]

    def compiled(self, simulated: frozenset[str] = frozenset(), subsampled: frozenset[str] = frozenset(),
                 reparam: bool = False, draw: bool = False, summed: frozenset[str] = frozenset()) -> Compiled:
        """The generated code for one variant (see `generated`), compiled once and cached."""
        from .binding.bind import Compiled

        key = (simulated, subsampled, reparam, draw, summed)
        if key not in self._compiled:
            self._compiled[key] = Compiled.from_generated(self.generated(*key), self.name)
        return self._compiled[key]

    @cached_property
    def rewrites(self) -> tuple[Rewrite, ...]:
        """The latents inference writes non-centred (see `dslppl.lower.reparam`)."""
        return noncentred(self.model_graph)[1]

    def _variant(self, reparam: bool) -> tuple[CheckedModel, ModelGraph]:
        """The checked model and graph code is generated from: the model as written, or
        (``reparam``) with its `rewrites` made."""
        if not reparam or not self.rewrites:
            return self.checked, self.model_graph
        if self._rewritten is None:
            program, _ = noncentred(self.model_graph)
            checked = check(program, self.text)
            self._rewritten = checked, build_graph(checked, self.text)
        return self._rewritten

    def bind(self, data: Data = None, *, dtype: torch.dtype | None = None,
             subsample: Mapping[str, int] | None = None, simulate_missing: bool = False,
             sum_missing: bool = False, reparam: bool = False) -> BoundModel:
        """Check ``data`` and bind it: the programs inference runs (see `BoundModel`).

        ``data`` is a mapping or a path to a JSON file. ``dtype`` defaults to
        ``torch.float64``. With ``simulate_missing``, observed variables whose
        data is absent are sampled instead, and discrete latents are drawn rather
        than summed out (prior simulation); with ``sum_missing``, top-level observed
        discrete variables whose data is absent are summed out (exact queries). With
        ``reparam``, the programs are those of the model with its `rewrites` made
        (same posterior, non-centred latents; as `fit` and `sample` run by default)."""
        import torch

        from .binding.bind import bind
        from .binding.data import prepare

        dtype = torch.float64 if dtype is None else dtype
        subsample = dict(subsample or {})
        self._check_subsample(subsample)
        inputs = prepare(self.checked, _read(data), dtype, self.text,
                         allow_missing_observed=simulate_missing or sum_missing)
        if sum_missing:
            self._check_summable(inputs.missing_observed)
            compiled = self.compiled(subsampled=frozenset(subsample), summed=frozenset(inputs.missing_observed))
            return bind(compiled, self.checked, inputs, dtype=dtype, subsample=subsample, source=self.text)
        self._check_simulable(inputs.missing_observed)
        compiled = self.compiled(frozenset(inputs.missing_observed), frozenset(subsample), reparam,
                                 draw=simulate_missing)
        checked, _ = self._variant(reparam)
        return bind(compiled, checked, inputs, dtype=dtype, subsample=subsample, source=self.text)

    def _check_simulable(self, missing: list[str]) -> None:
        from .binding.variants import simulation_problems

        errors = simulation_problems(self.checked, missing)
        if errors:
            raise DslError(errors, self.text)

    def _check_summable(self, missing: list[str]) -> None:
        errors = [Diagnostic("E0801", f"missing data: '{name}' was not supplied, and only a single discrete value "
                             "(Bernoulli, Categorical with data probabilities, Binomial, DiscreteUniform) can be "
                             "summed out", self.checked.variables[name].span, hint=f"supply \"{name}\"")
                  for name in missing if not _summable(self.checked, self.checked.variables[name])]
        if errors:
            raise DslError(errors, self.text)

    def _check_subsample(self, subsample: Mapping[str, int]) -> None:
        from .binding.variants import subsample_problems

        errors = subsample_problems(self.checked, subsample)
        if errors:
            raise DslError(errors, self.text)

    def _plate_sizes(self, data: Data) -> dict[str, int]:
        """Plate sizes from the data alone (no code is generated or run)."""
        from .binding.data import plate_sizes, prepare

        return plate_sizes(self.checked, prepare(self.checked, _read(data), source=self.text,
                                                 allow_missing_observed=True))

    def query(self, text: str, data: Data = None):
        """Exact probabilities in a model whose latents are all discrete: ``"p(a, b | c = 1)"``
        gives the table of ``a, b`` given ``c = 1`` (and the data), ``"p(c = 1)"`` the
        probability of the evidence. Returns a `dslppl.query.Table`."""
        from .query import run_query

        return run_query(self, text, data, _read)

    def marginal(self, names: list[str], given: Mapping[str, int] | None = None, data: Data = None):
        """``query`` with the variables and the evidence as Python values:
        ``marginal(["rain"], given={"wet": 1})`` is ``query("p(rain | wet = 1)")``."""
        evidence = ", ".join(f"{name} = {int(value)}" for name, value in (given or {}).items())
        return self.query(f"p({', '.join(names)}{' | ' + evidence if evidence else ''})", data)

    # --- running --------------------------------------------------------------------
    def log_joint(self, values: Mapping[str, Any], data: Data = None, *, dtype: torch.dtype | None = None
                  ) -> torch.Tensor:
        """The log joint density at latent ``values`` (constrained), with ``data`` observed."""
        import torch

        from . import runtime

        bound = self.bind(data, dtype=dtype)
        values = {k: torch.as_tensor(v, dtype=bound.dtype) for k, v in values.items()}
        return runtime.trace(runtime.condition(bound.model, data=values)).get_trace().log_prob_sum()

    def sample_prior(self, data: Data = None, num_samples: int = 1, *, seed: int | None = None,
                     dtype: torch.dtype | None = None) -> dict[str, torch.Tensor]:
        """Draws from the prior (and prior predictive, for observed data left out).

        Returns every latent, deterministic and simulated variable, stacked over
        ``num_samples`` draws in the leading dimension."""
        import torch

        from . import runtime
        from .binding.bind import check_draw

        self._check_drawable()
        bound = self.bind(data, dtype=dtype, simulate_missing=True)
        draws: dict[str, list[torch.Tensor]] = {}
        simulated = {v.name for v in self.checked.variables.values() if v.kind is Kind.OBSERVED} - set(bound.observed)
        compiled = self.compiled(frozenset(simulated), frozenset(), draw=True)
        with runtime.seed(rng_seed=seed) if seed is not None else nullcontext(), \
                self._evaluating(compiled, "drawing from the prior"):
            for _ in range(num_samples):
                tr = runtime.trace(bound.model).get_trace()
                check_draw(tr, self.checked, self.text)
                for name, msg in tr.nodes.items():
                    if msg.kind in ("sample", "deterministic") and not msg.is_observed:
                        draws.setdefault(name, []).append(msg.value.detach())
        return {name: torch.stack(values) for name, values in draws.items()}

    def _check_drawable(self) -> None:
        from .binding.variants import draw_problems

        errors = draw_problems(self.checked)
        if errors:
            raise DslError(errors, self.text)

    def fit(self, data: Data = None, guide: str | None = None, steps: int = 2000, lr: float = 0.01,
            seed: int | None = None, num_particles: int = 1, subsample: Mapping[str, int] | None = None,
            progress: bool = True, checkpoint: str | Path | None = None, *, dtype: torch.dtype | None = None,
            reparam: bool = True, **options):
        """Fit the model to ``data`` by variational inference; returns a `Fit`.

        ``guide``: "normal" (mean-field), "mvn" (full-rank), "lowrank", "delta"
        (MAP), "laplace", or "guide" (the file's guide block). By default, the
        guide block when the file has one, else "normal". An automatic guide
        fits the model with its `rewrites` made (``reparam=False``: as written)."""
        from .infer import NonFiniteLoss, fit as run_fit

        guide = guide or ("guide" if self.checked.guide is not None else "normal")
        init = options.get("init")
        rewritten = {r.variable for r in self.rewrites}
        # values given by the model's own names start the model as written
        reparam = reparam and guide != "guide" and not (init and rewritten & set(init))
        bound = self.bind(data, dtype=dtype, subsample=subsample, reparam=reparam)
        self._check_continuous(bound)
        full = self.bind(data, dtype=dtype, reparam=reparam) if subsample else None  # for the reliability check
        with self._evaluating(self.compiled(frozenset(), frozenset(subsample or {}), reparam), "fitting"):
            try:
                return run_fit(bound, guide=guide, steps=steps, lr=lr, seed=seed, num_particles=num_particles,
                               progress=progress, checkpoint=checkpoint, full=full, **options)
            except NonFiniteLoss as error:
                raise self._located_loss(error, reparam) from None

    def _located_loss(self, error, reparam: bool):
        """E0903 at the statement of the first site that broke (the error keeps ``fit``)."""
        checked, _ = self._variant(reparam)
        sites = [checked.variables.get(p.site.split("[")[0]) for p in error.problems]
        span = next((v.span for v in sites if v is not None), None)
        if span is not None:
            error.diagnostics = tuple(replace(d, span=span) for d in error.diagnostics)
            error.source = self.text
            error.args = (error.render(),)
        return error

    def _check_continuous(self, bound: BoundModel) -> None:
        """A model whose latents are all discrete has an exact posterior: nothing to fit or sample.
        A flat prior that nothing reads leaves an improper posterior: nothing to fit it to."""
        from .check.indices import known_names
        from .check.supports import bounded_flat

        known = known_names(self.checked.variables)
        improper = [v for v in self.checked.latents if v.dist is None and not bounded_flat(v, known)
                    and not self.model_graph.children(v.name)]
        if improper:
            raise DslError([Diagnostic("E0907", f"'{v.name}' has a flat prior and nothing reads it, so its "
                                       "posterior is flat too (improper): there is nothing to fit", v.span,
                                       hint=f"give it a proper prior ({v.name} ~ ...), or use it in the model")
                            for v in improper], self.text)
        if bound.discrete and not bound.latents and not bound.params:
            raise DslError([Diagnostic("E0811", f"every latent of model '{self.name}' is discrete, so there is "
                                       "nothing to fit: its posterior is exact", self.checked.latents[0].span,
                                       hint='ask for it with model.query("p(a | b = 1)") or dslppl query')],
                           self.text)

    @contextmanager
    def _evaluating(self, compiled: Compiled, doing: str):
        """Errors the model's own code raises while running (invalid distribution arguments,
        a matrix that is not positive definite) as E0902 at their statement."""
        from .binding.bind import evaluation_error
        from .codegen.support import StepError

        try:
            yield
        except (ValueError, RuntimeError, StepError) as error:  # LinAlgError is a RuntimeError
            located = evaluation_error(error, compiled, self.text, doing)
            if located is None:
                raise
            raise located from None

    def sample(self, data: Data = None, chains: int = 4, warmup: int = 1000, draws: int = 1000,
               seed: int | None = None, adapt_delta: float = 0.8, metric: str = "diag", init: Any = None,
               progress: bool = True, max_tree_depth: int = 10, *, dtype: torch.dtype | None = None,
               reparam: bool = True, **options):
        """Draw from the posterior given ``data`` with NUTS; returns a `Posterior`.

        ``chains`` run together, each with ``warmup`` iterations of Stan's
        adaptation (step size toward acceptance ``adapt_delta``, a ``"diag"`` or
        ``"dense"`` metric) and then ``draws`` draws. ``init``: a mapping of
        starting values by name, or a variational `Fit`; by default uniform(-2, 2)
        on the unconstrained scale, as Stan. Latents whose scale is random are
        sampled non-centred (`rewrites`; ``reparam=False``: as written). ``options``
        go to `dslppl.infer.mcmc.sample` (``checkpoint``, ``algorithm="hmc"``, ...).

        >>> import dslppl
        >>> model = dslppl.loads("model m { data y: real\\n mu ~ Normal(0, 1)\\n y ~ Normal(mu, 1) }")
        >>> posterior = model.sample({"y": 1.0}, chains=4, warmup=400, draws=400, seed=0, progress=False)
        >>> abs(posterior.summary().to_dict()["mu"]["mean"] - 0.5) < 0.25
        True
        """
        from .infer.mcmc import sample as run_sample

        if isinstance(init, (str, Path)):
            init = _read(init)
        rewritten = {r.variable for r in self.rewrites}
        named = init if isinstance(init, Mapping) else {}
        reparam = reparam and not rewritten & set(named)  # values by the model's own names: as written
        bound = self.bind(data, dtype=dtype, reparam=reparam)
        self._check_continuous(bound)
        with self._evaluating(self.compiled(frozenset(), frozenset(), reparam), "sampling"):
            return run_sample(bound, chains=chains, warmup=warmup, draws=draws, seed=seed,
                              adapt_delta=adapt_delta, metric=metric, init=init, progress=progress,
                              max_tree_depth=max_tree_depth, **options)


def _summable(checked, variable) -> bool:
    """An observed variable that may be summed out when its data is missing: one value, not in a
    plate or loop, with a finite distribution whose values the data fixes."""
    from .check.discrete import FINITE, categories
    from .check.indices import known_names

    dist = variable.dist
    if dist is None or dist.func.id not in FINITE or variable.plates or variable.sequential or variable.rank:
        return False
    known = known_names(checked.variables)
    return dist.func.id != "Categorical" or categories(dist, checked.variables, known) is not None


def _read(data: Data) -> Mapping[str, Any]:
    if data is None:
        return {}
    if isinstance(data, (str, Path)):
        from .binding.data import load_json

        return load_json(data)
    return data


def load(path: str | Path) -> Model:
    """Read a model from a `.ppl` file."""
    try:
        text = read_text_file(path)
    except UnreadableFile as error:
        raise DslError([Diagnostic("E0109", f"cannot read model file {path}: {error}", error.span)]) from None
    return Model(text, str(path))


def loads(text: str, filename: str | None = None) -> Model:
    """Read a model from `.ppl` text."""
    return Model(text, filename)


__all__ = ["Model", "load", "loads"]
