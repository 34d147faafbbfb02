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

from contextlib import nullcontext
from pathlib import Path
from typing import Any, Mapping

import networkx as nx
import torch

from . import runtime
from .binding.bind import Compiled, bind
from .binding.bound import BoundModel
from .binding.data import load_json, plate_sizes, prepare
from .binding.variants import simulation_problems, subsample_problems
from .codegen.module import generate
from .diagnostics import Diagnostic, DslError
from .driver import front_end
from .lower import lower
from .source import Source

Data = Mapping[str, Any] | str | Path | None


class Model:
    """A model read from `.ppl` text: its graph, its generated code, and ways to run it.

    Build one with `dslppl.load` (a file) or `dslppl.loads` (text).
    """

    def __init__(self, text: str, filename: str | None = None):
        self.text = Source(text, filename)
        self.checked, self.model_graph = front_end(text, filename)
        self._compiled: dict[tuple, Compiled] = {}

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

    @property
    def lowered(self):
        """The model's units of code in dependency order (see `dslppl.lower`)."""
        return lower(self.model_graph)

    # --- code ---------------------------------------------------------------------
    @property
    def source(self) -> str:
        """The generated Python source of the model's programs (all data observed)."""
        return self.compiled().generated.source

    def compiled(self, simulated: frozenset[str] = frozenset(), subsampled: frozenset[str] = frozenset(),
                 draw: bool = False, summed: frozenset[str] = frozenset()) -> Compiled:
        """The generated code for one variant, compiled once and cached (``draw``: discrete
        latents are drawn, not summed out — a program for prior simulation; ``summed``:
        observed discrete variables without data, summed out)."""
        key = (simulated, subsampled, draw, summed)
        if key not in self._compiled:
            generated = generate(self.checked, lower(self.model_graph), simulated=simulated, subsampled=subsampled,
                                 source=self.text, draw=draw, summed=summed)
            self._compiled[key] = Compiled.from_generated(generated, self.name)
        return self._compiled[key]

    def bind(self, data: Data = None, *, dtype: torch.dtype = torch.float64,
             subsample: Mapping[str, int] | None = None, simulate_missing: bool = False,
             sum_missing: bool = False) -> BoundModel:
        """Check ``data`` and bind it: the programs inference runs (see `BoundModel`).

        ``data`` is a mapping or a path to a JSON file. With ``simulate_missing``,
        observed variables whose data is absent are sampled instead, and discrete latents are
        drawn rather than summed out (prior simulation); with ``sum_missing``, top-level
        observed discrete variables whose data is absent are summed out (exact queries)."""
        subsample = dict(subsample or {})
        self._check_subsample(subsample)
        inputs = prepare(self.checked, _read(data), dtype, self.text,
                         allow_missing_observed=simulate_missing or sum_missing)
        if sum_missing:
            self._check_summable(inputs.missing_observed)
            compiled = self.compiled(subsampled=frozenset(subsample), summed=frozenset(inputs.missing_observed))
            return bind(compiled, self.checked, inputs, dtype=dtype, subsample=subsample, source=self.text)
        self._check_simulable(inputs.missing_observed)
        compiled = self.compiled(frozenset(inputs.missing_observed), frozenset(subsample), draw=simulate_missing)
        return bind(compiled, self.checked, inputs, dtype=dtype, subsample=subsample, source=self.text)

    def _check_simulable(self, missing: list[str]) -> None:
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
        errors = subsample_problems(self.checked, subsample)
        if errors:
            raise DslError(errors, self.text)

    def _plate_sizes(self, data: Data) -> dict[str, int]:
        """Plate sizes from the data alone (no code is generated or run)."""
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
    def log_joint(self, values: Mapping[str, Any], data: Data = None, *, dtype: torch.dtype = torch.float64
                  ) -> torch.Tensor:
        """The log joint density at latent ``values`` (constrained), with ``data`` observed."""
        bound = self.bind(data, dtype=dtype)
        values = {k: torch.as_tensor(v, dtype=dtype) for k, v in values.items()}
        return runtime.trace(runtime.condition(bound.model, data=values)).get_trace().log_prob_sum()

    def sample_prior(self, data: Data = None, num_samples: int = 1, *, seed: int | None = None,
                     dtype: torch.dtype = torch.float64) -> dict[str, torch.Tensor]:
        """Draws from the prior (and prior predictive, for observed data left out).

        Returns every latent, deterministic and simulated variable, stacked over
        ``num_samples`` draws in the leading dimension."""
        self._check_drawable()
        bound = self.bind(data, dtype=dtype, simulate_missing=True)
        draws: dict[str, list[torch.Tensor]] = {}
        with runtime.seed(rng_seed=seed) if seed is not None else nullcontext():
            for _ in range(num_samples):
                tr = runtime.trace(bound.model).get_trace()
                for name, msg in tr.nodes.items():
                    if msg.kind in ("sample", "deterministic") and not msg.is_observed:
                        draws.setdefault(name, []).append(msg.value.detach())
        return {name: torch.stack(values) for name, values in draws.items()}

    def _check_drawable(self) -> None:
        flat = [v for v in self.checked.latents if v.dist is None]
        if flat:
            raise DslError([Diagnostic("E0505", f"'{v.name}' has a flat (improper) prior, so the model "
                                       "cannot be sampled from its prior", v.span,
                                       hint=f"give it a proper prior: {v.name} ~ ...") for v in flat], self.text)

    def fit(self, data: Data = None, guide: str | None = None, steps: int = 2000, lr: float = 0.01,
            seed: int | None = None, num_particles: int = 1, subsample: Mapping[str, int] | None = None,
            progress: bool = True, checkpoint: str | Path | None = None, *, dtype: torch.dtype = torch.float64,
            **options):
        """Fit the model to ``data`` by variational inference; returns a `Fit`.

        ``guide``: "normal" (mean-field), "mvn" (full-rank), "lowrank", "delta"
        (MAP), "laplace", or "guide" (the file's guide block). By default, the
        guide block when the file has one, else "normal"."""
        from .infer import fit as run_fit

        bound = self.bind(data, dtype=dtype, subsample=subsample)
        if bound.discrete and not bound.latents and not bound.params:
            raise DslError([Diagnostic("E0811", f"every latent of model '{self.name}' is discrete, so there is "
                                       "nothing to fit: its posterior is exact", self.checked.latents[0].span,
                                       hint='ask for it with model.query("p(a | b = 1)") or dslppl query')],
                           self.text)
        guide = guide or ("guide" if self.checked.guide is not None else "normal")
        return run_fit(bound, guide=guide, steps=steps, lr=lr, seed=seed, num_particles=num_particles,
                       progress=progress, checkpoint=checkpoint, **options)


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
        return load_json(data)
    return data


def load(path: str | Path) -> Model:
    """Read a model from a `.ppl` file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise DslError([Diagnostic("E0806", f"cannot read model file {path}: {error}")]) from None
    return Model(text, str(path))


def loads(text: str, filename: str | None = None) -> Model:
    """Read a model from `.ppl` text."""
    return Model(text, filename)


__all__ = ["Model", "load", "loads"]
