"""Explaining a non-finite loss: which sites' values or log-densities broke.

When a fit meets a non-finite loss it stops with :class:`NonFiniteLoss` (a
``DslError`` with code E0903). To name the culprits the model is traced at
the draw that failed (or, for a DSL guide, guide and model are traced at the
last parameters), and every site whose value or log-density is not finite,
or whose distribution refused its arguments, is reported.

>>> import torch
>>> from torch.distributions import Normal
>>> from dslppl.runtime import sample, trace
>>> tr = trace(lambda: sample("y", Normal(0.0, 1.0), obs=torch.tensor(float("inf")))).get_trace()
>>> [str(p) for p in trace_problems(tr)]
["site 'y': value is inf"]
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import torch

from ..binding.bound import BoundModel
from ..diagnostics import Diagnostic, DslError
from ..runtime import Trace, substitute, trace

__all__ = ["NonFiniteLoss", "SiteProblem", "trace_problems", "problems_at"]


@dataclass(frozen=True)
class SiteProblem:
    """One site whose value or log-density is not finite."""

    site: str
    detail: str

    def __str__(self) -> str:
        return f"site {self.site!r}: {self.detail}"


class NonFiniteLoss(DslError):
    """The loss went non-finite at ``step``; ``problems`` names the sites.

    ``fit`` holds the result at the last finite parameters (also written to
    the checkpoint, when the fit has one).
    """

    def __init__(self, step: int, problems: list[SiteProblem], note: str = "") -> None:
        self.step = step
        self.problems = problems
        self.fit = None
        if problems:
            what = "; ".join(str(p) for p in problems[:8])
            if len(problems) > 8:
                what += f"; ... and {len(problems) - 8} more"
        else:
            what = note or "no model site is non-finite at the failing draw"
        message = f"non-finite loss at step {step}: {what}"
        hint = ("the last finite parameters are kept (error.fit, and the checkpoint if any); "
                "try a smaller lr, another seed, or tighter priors")
        super().__init__([Diagnostic("E0903", message, hint=hint)])


def trace_problems(tr: Trace) -> list[SiteProblem]:
    """Sites of ``tr`` with a non-finite value or log-density (or a refused argument)."""
    problems = []
    for name, msg in tr.nodes.items():
        if msg.kind not in ("sample", "deterministic"):
            continue
        bad = _describe_nonfinite(msg.value)
        if bad:
            problems.append(SiteProblem(name, f"value is {bad}"))
            continue
        if msg.kind == "sample":
            try:
                lp = msg.fn.log_prob(msg.value)
            except (ValueError, RuntimeError) as e:
                problems.append(SiteProblem(name, f"log-density failed: {_first_line(e)}"))
                continue
            bad = _describe_nonfinite(lp)
            if bad:
                problems.append(SiteProblem(name, f"log-density is {bad}"))
    return problems


def problems_at(bound: BoundModel, u: torch.Tensor,
                params: Mapping[str, Any] | None = None) -> tuple[list[SiteProblem], str]:
    """The sites that break at the flat vector ``u``, plus a note when none is a model site.

    ``params`` are the values of the model's ``param`` sites.
    """
    bad = [s.name for s in bound.latents if not bool(torch.isfinite(u[s.block]).all())]
    if bad:
        return [SiteProblem(n, "unconstrained value is not finite (the guide diverged)")
                for n in bad], ""
    try:
        with torch.no_grad():
            values = bound.constrain(u)
            tr = trace(substitute(bound.model, data={**(params or {}), **values})).get_trace()
    except (ValueError, RuntimeError) as e:
        return [], f"the model failed at the failing draw: {_first_line(e)}"
    problems = trace_problems(tr)
    note = "" if problems else ("every model site is finite at the failing draw: the "
                                "log-Jacobian or the guide's log-density overflowed")
    return problems, note


def _describe_nonfinite(x: Any) -> str:
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        return ""
    finite = torch.isfinite(x)
    if bool(finite.all()):
        return ""
    kinds = []
    if bool(torch.isnan(x).any()):
        kinds.append("nan")
    if bool((x == float("inf")).any()):
        kinds.append("inf")
    if bool((x == -float("inf")).any()):
        kinds.append("-inf")
    where = "" if x.dim() == 0 else f" at {int((~finite).sum())} of {x.numel()} elements"
    return "/".join(kinds) + where


def _first_line(e: BaseException) -> str:
    return str(e).splitlines()[0] if str(e) else type(e).__name__
