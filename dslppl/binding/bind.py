"""Binding: generated code plus checked data gives a `BoundModel`.

The generated module's ``bind`` runs with the data; any failure inside it (a
shape that does not broadcast, an index out of range) is traced back to the
model statement that produced the failing line and reported there, never as
a torch traceback.
"""
from __future__ import annotations

import re
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
    try:
        _check_initial_point(model, checked, dtype, source)
    except (ValueError, RuntimeError) as error:  # a draw refusing its arguments (prior simulation)
        located = evaluation_error(error, compiled, source, "drawing the initial point")
        if located is None:
            raise
        raise located from None
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
        text=source.text if source is not None else compiled.generated.source,
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


# torch's samplers refusing an argument (a NaN or negative scale reaching a C++ kernel).
_ARGUMENT_ERROR = re.compile(r"expects all elements of|must be (positive|non-negative|finite|in )|"
                             r"Expected p_in >= 0 && p_in <= 1|"  # torch's samplers (bernoulli) on a bad probability
                             r"invalid (probability|value)|out of range|contains (nan|inf)", re.IGNORECASE)


def evaluation_error(error: Exception, compiled: Compiled, source: Source | None,
                     doing: str) -> DslError | None:
    """E0902 at the model statement whose generated line raised ``error`` while ``doing``
    (drawing from the prior, fitting): a distribution refusing its arguments (a negative
    scale drawn from a prior) or a covariance matrix that is not positive definite. None
    when ``error`` did not come from running the model's code (then it is a bug)."""
    if isinstance(error, StepError):
        located = _located(error, compiled, source)
        return located if isinstance(located, DslError) else None
    if not isinstance(error, (ValueError, torch.linalg.LinAlgError)) and not (
            isinstance(error, RuntimeError) and _ARGUMENT_ERROR.search(str(error))):
        return None
    span = _generated_span(error, compiled)
    if span is None:
        return None
    message = str(error).splitlines()[0] if str(error) else type(error).__name__
    if isinstance(error, torch.linalg.LinAlgError):
        message = "a matrix is not positive definite (" + message.split(": ", 1)[-1] + ")"
    return DslError([Diagnostic(
        "E0902", f"invalid value while {doing}: {message}", span,
        hint="bound the latents this statement reads (a scale must stay positive, a covariance "
             "positive definite whatever values they take)")], source)


def check_draw(tr, checked: CheckedModel, source: Source | None) -> None:
    """E0902 for a prior draw that is NaN or has a NaN log-density: a distribution was given
    invalid arguments (torch does not validate them in generated code). Infinities are not
    errors here: a heavy-tailed or tiny-shape prior may draw them."""
    invalid = [p for p in trace_problems(tr) if "nan" in p.detail or "failed" in p.detail]
    if invalid:
        raise DslError([Diagnostic(
            "E0902", f"{p.detail} for '{p.site}' in a draw from the prior: an argument is invalid for "
            "the values its parents drew", _span_of(checked, p.site),
            hint="bound the latents this statement reads (a scale must stay positive whatever values "
                 "they take)") for p in invalid], source)


def _generated_span(error: Exception, compiled: Compiled):
    """The model statement of the innermost generated line in ``error``'s traceback."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == compiled.filename]
    spans = compiled.generated.spans
    for frame in reversed(frames):
        if frame.lineno and frame.lineno <= len(spans) and spans[frame.lineno - 1] is not None:
            return spans[frame.lineno - 1]
    return None


def _located(error: Exception, compiled: Compiled, source: Source | None) -> Exception:
    """A DslError at the model statement whose generated line raised ``error``."""
    span = _generated_span(error, compiled)
    if isinstance(error, TooLarge):
        return DslError([Diagnostic("E0906", str(error), span,
                                    hint="fewer discrete latents read together, fewer values each, or sum some "
                                         "out by hand")], source)
    if span is None or not isinstance(error, (RuntimeError, IndexError, ValueError, StepError)):
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
