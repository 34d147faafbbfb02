"""Binding: generated code plus checked data gives a `BoundModel`.

The generated module's ``bind`` runs with the data; any failure inside it (a
shape that does not broadcast, an index out of range) is traced back to the
model statement that produced the failing line and reported there, never as
a torch traceback.
"""
from __future__ import annotations

import traceback
from dataclasses import dataclass
from types import CodeType
from typing import Mapping

import torch
from torch.distributions import biject_to

from .. import runtime
from ..check.model import CheckedModel, Kind
from ..codegen.module import Generated
from ..codegen.elimination import TooLarge
from ..codegen.support import Initializer, Runtime, StepError
from ..runtime.problems import trace_problems
from ..diagnostics import Diagnostic, DslError, InternalError
from ..source import Source
from .bound import BoundModel, LatentSite
from .data import Inputs, evaluate, plate_sizes


@dataclass(frozen=True)
class Compiled:
    """Generated source compiled to a code object, once per model variant."""

    generated: Generated
    code: CodeType
    filename: str

    @classmethod
    def from_generated(cls, generated: Generated, name: str) -> "Compiled":
        filename = f"<dslppl model {name}>"
        return cls(generated, compile(generated.source, filename, "exec"), filename)


def bind(compiled: Compiled, checked: CheckedModel, inputs: Inputs, *, dtype: torch.dtype = torch.float64,
         subsample: Mapping[str, int] | None = None, source: Source | None = None) -> BoundModel:
    """Run the generated ``bind`` on checked inputs and package its programs."""
    namespace: dict = {}
    exec(compiled.code, namespace)  # defines bind(); runs nothing of the model yet
    rt = Runtime(dtype, dict(subsample or {}))
    try:
        model, potential, constrain, layout, guide = namespace["bind"](inputs.values, rt)
    except DslError:
        raise
    except Exception as error:  # noqa: BLE001 - every failure is mapped to a statement or reported as a bug
        raise _located(error, compiled, source) from None
    _check_initial_point(model, checked, dtype, source)
    generated = compiled.generated
    latents = tuple(
        LatentSite(name, layout.shapes[name], layout.blocks[name][1], layout.blocks[name][0].start,
                   layout.supports[name], name in generated.dynamic, layout.plates[name])
        for name in generated.latents)
    return BoundModel(
        name=checked.name, dtype=dtype, data=dict(inputs.values), model=model, potential=potential,
        constrain=constrain, unconstrain=_unconstrainer(model, latents, dtype), latents=latents, guide=guide,
        init=torch.zeros(layout.size, dtype=dtype), observed=generated.observed,
        deterministic=generated.deterministic, params=generated.params, subsample=dict(subsample or {}),
        plate_sizes=plate_sizes(checked, inputs), offsets=_offsets(checked, inputs),
        discrete=generated.discrete, draw_discrete=_discrete_drawer(model, rt), runtime=rt)


def _check_initial_point(model, checked: CheckedModel, dtype: torch.dtype, source: Source | None) -> None:
    """Every site must have a finite value and log-density at the initial point (each latent
    at its support's image of zero): otherwise an argument is invalid (a negative scale) or
    data lies outside a distribution's support (E0902)."""
    with torch.no_grad():
        problems = trace_problems(runtime.trace(_initial(model, dtype)).get_trace())
    if problems:
        raise DslError([Diagnostic(
            "E0902", f"{problem.detail} for '{problem.site}' at the initial point (latents at their "
            "supports' centres): an argument is invalid, or a value lies outside the support",
            _span_of(checked, problem.site),
            hint="check that scales are positive and observed values fit the distribution "
                 "(counts for Poisson, 0/1 for Bernoulli, ...)") for problem in problems], source)


def _span_of(checked: CheckedModel, site: str):
    variable = checked.variables.get(site.split("[")[0])
    return variable.span if variable is not None else None


def _initial(model, dtype: torch.dtype):
    def run():
        with Initializer(dtype=dtype):
            model()
    return run


def _offsets(checked: CheckedModel, inputs: Inputs) -> dict[str, tuple[int, ...]]:
    """First index of each plate dimension, for variables defined over ``plate t in LO..HI``."""
    offsets = {}
    for variable in checked.variables.values():
        if variable.sequential or variable.kind not in (Kind.LATENT, Kind.DETERMINISTIC):
            continue
        starts = tuple(int(evaluate(f.domain.lo, inputs.sizes) or 0) if f.domain.lo is not None else 0
                       for f in variable.piece.plates)
        if any(starts):
            offsets[variable.name] = starts
    return offsets


def _discrete_drawer(model, rt: Runtime):
    """``(values, generator, maximize) -> draws``: the model run at ``values``, its summed-out
    variables drawn from their exact conditional (see `Runtime.draw_discrete`)."""

    def draw(values: Mapping[str, torch.Tensor], generator=None, maximize: bool = False):
        values = {k: torch.as_tensor(v, dtype=rt.dtype) for k, v in values.items()}
        return rt.draw_discrete(runtime.substitute(model, data=values), generator, maximize)

    return draw


def _unconstrainer(model, latents: tuple[LatentSite, ...], dtype: torch.dtype):
    """``values -> u``: each latent through the inverse of its support's bijection,
    with supports read from a run of the model at those values (bounds may move)."""

    def unconstrain(values: Mapping[str, torch.Tensor]) -> torch.Tensor:
        values = {k: torch.as_tensor(v, dtype=dtype) for k, v in values.items()}
        tr = runtime.trace(runtime.condition(model, data=values)).get_trace()
        blocks = []
        for site in latents:
            msg = tr.nodes[site.name]
            blocks.append(biject_to(msg.fn.support).inv(msg.value).reshape(-1))
        return torch.cat(blocks) if blocks else torch.zeros(0, dtype=dtype)

    return unconstrain


def _located(error: Exception, compiled: Compiled, source: Source | None) -> Exception:
    """A DslError at the model statement whose generated line raised ``error``."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == compiled.filename]
    spans = compiled.generated.spans
    span = None
    for frame in reversed(frames):
        if frame.lineno and frame.lineno <= len(spans) and spans[frame.lineno - 1] is not None:
            span = spans[frame.lineno - 1]
            break
    if isinstance(error, TooLarge):
        return DslError([Diagnostic("E0905", str(error), span,
                                    hint="fewer discrete latents read together, fewer values each, or sum some "
                                         "out by hand")], source)
    if span is None or not isinstance(error, (RuntimeError, IndexError, ValueError, StepError, TooLarge)):
        where = f" (compiling {span})" if span else ""
        return InternalError(f"generated code failed{where}: {error!r}; this is a bug in dslppl, please report it")
    message = str(error).splitlines()[0] if str(error) else type(error).__name__
    if isinstance(error, StepError):
        return DslError([Diagnostic("E0406", str(error), span,
                                    hint="define every element exactly once: x[0] before the loop, "
                                         "x[t] for t in 1..T inside it")], source)
    return DslError([Diagnostic("E0901", f"this statement cannot be evaluated with the data given: {message}",
                                span, hint="check the shapes of the arrays it combines (sizes come from the data)")],
                    source)
