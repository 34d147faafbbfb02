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
from pathlib import Path
from typing import Any, Mapping

import networkx as nx
import torch

from . import runtime
from .binding.bind import Compiled, bind, check_draw, evaluation_error
from .binding.bound import BoundModel
from .binding.data import load_json, plate_sizes, prepare
from .codegen.module import generate
from .codegen.support import StepError
from .diagnostics import Diagnostic, DslError
from .driver import front_end
from .source import Source, UnreadableFile, read_text_file
from .check import Kind
from .syntax import ast

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

    # --- code ---------------------------------------------------------------------
    @property
    def source(self) -> str:
        """The generated Python source of the model's programs (all data observed)."""
        return self.compiled().generated.source

    def compiled(self, simulated: frozenset[str] = frozenset(), subsampled: frozenset[str] = frozenset()
                 ) -> Compiled:
        """The generated code for one variant, compiled once and cached."""
        key = (simulated, subsampled)
        if key not in self._compiled:
            generated = generate(self.checked, simulated=simulated, subsampled=subsampled, source=self.text)
            self._compiled[key] = Compiled.from_generated(generated, self.name)
        return self._compiled[key]

    def bind(self, data: Data = None, *, dtype: torch.dtype = torch.float64,
             subsample: Mapping[str, int] | None = None, simulate_missing: bool = False) -> BoundModel:
        """Check ``data`` and bind it: the programs inference runs (see `BoundModel`).

        ``data`` is a mapping or a path to a JSON file. With ``simulate_missing``,
        observed variables whose data is absent are sampled instead."""
        subsample = dict(subsample or {})
        self._check_subsample(subsample)
        inputs = prepare(self.checked, _read(data), dtype, self.text, allow_missing_observed=simulate_missing)
        self._check_simulable(inputs.missing_observed)
        compiled = self.compiled(frozenset(inputs.missing_observed), frozenset(subsample))
        return bind(compiled, self.checked, inputs, dtype=dtype, subsample=subsample, source=self.text)

    def _check_simulable(self, missing: list[str]) -> None:
        """Observed variables left out are drawn instead, unless their distribution reads
        their own other elements (an AR likelihood over a plate needs the data)."""
        errors = []
        for name in missing:
            variable = self.checked.variables[name]
            reads_itself = any(isinstance(n, ast.Name) and n.id == name
                               for piece in variable.pieces for n in ast.walk(piece.stmt.dist))
            if reads_itself and not variable.sequential:
                errors.append(Diagnostic(
                    "E0801", f"missing data: '{name}' was not supplied, and it cannot be simulated: its "
                    f"distribution reads other elements of '{name}'", variable.span,
                    hint=f"supply \"{name}\", or write its recursion as a 'for' loop to simulate it"))
        if errors:
            raise DslError(errors, self.text)

    def _check_subsample(self, subsample: Mapping[str, int]) -> None:
        errors = []
        for plate in subsample:
            if plate not in self.checked.plates:
                errors.append(Diagnostic("E0408", f"the model has no plate '{plate}' to subsample",
                                         hint=f"plates: {', '.join(self.checked.plates) or 'none'}"))
                continue
            inside = {v.name for v in self.checked.variables.values() if plate in v.plates}
            for variable in self.checked.variables.values():
                read = (variable.parents & inside) - {variable.name}
                if read and plate not in variable.plates:
                    errors.append(Diagnostic(
                        "E0405", f"plate '{plate}' cannot be subsampled: '{variable.name}' reads "
                        f"{', '.join(sorted(read))} from outside it", variable.span))
        if errors:
            raise DslError(errors, self.text)

    def _plate_sizes(self, data: Data) -> dict[str, int]:
        """Plate sizes from the data alone (no code is generated or run)."""
        return plate_sizes(self.checked, prepare(self.checked, _read(data), source=self.text,
                                                 allow_missing_observed=True))

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
        simulated = {v.name for v in self.checked.variables.values() if v.kind is Kind.OBSERVED} - set(bound.observed)
        compiled = self.compiled(frozenset(simulated), frozenset())
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
        from .infer import NonFiniteLoss, fit as run_fit

        bound = self.bind(data, dtype=dtype, subsample=subsample)
        guide = guide or ("guide" if self.checked.guide is not None else "normal")
        with self._evaluating(self.compiled(frozenset(), frozenset(subsample or {})), "fitting"):
            try:
                return run_fit(bound, guide=guide, steps=steps, lr=lr, seed=seed, num_particles=num_particles,
                               progress=progress, checkpoint=checkpoint, **options)
            except NonFiniteLoss as error:
                raise self._located_loss(error) from None

    def _located_loss(self, error):
        """E0903 at the statement of the first site that broke (the error keeps ``fit``)."""
        sites = [self.checked.variables.get(p.site.split("[")[0]) for p in error.problems]
        span = next((v.span for v in sites if v is not None), None)
        if span is not None:
            error.diagnostics = tuple(replace(d, span=span) for d in error.diagnostics)
            error.source = self.text
            error.args = (error.render(),)
        return error

    @contextmanager
    def _evaluating(self, compiled: Compiled, doing: str):
        """Errors the model's own code raises while running (invalid distribution arguments,
        a matrix that is not positive definite) as E0902 at their statement."""
        try:
            yield
        except (ValueError, RuntimeError, StepError) as error:  # LinAlgError is a RuntimeError
            located = evaluation_error(error, compiled, self.text, doing)
            if located is None:
                raise
            raise located from None


def _read(data: Data) -> Mapping[str, Any]:
    if data is None:
        return {}
    if isinstance(data, (str, Path)):
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
