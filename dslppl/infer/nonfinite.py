"""Explaining a non-finite loss: which sites' values or log-densities broke.

When a fit meets a non-finite loss it stops with :class:`NonFiniteLoss` (a
``DslError`` with code E0903). To name the culprits the model is traced at
the draw that failed (or, for a DSL guide, guide and model are traced at the
last parameters), and every site whose value or log-density is not finite,
or whose distribution refused its arguments, is reported
(:func:`~dslppl.runtime.problems.trace_problems`).
"""
from __future__ import annotations

from typing import Any, Mapping

import torch

from ..binding.bound import BoundModel
from ..diagnostics import Diagnostic, DslError
from ..runtime import substitute, trace
from ..runtime.problems import SiteProblem, first_line, trace_problems

__all__ = ["NonFiniteLoss", "problems_at"]


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
        return [], f"the model failed at the failing draw: {first_line(e)}"
    problems = trace_problems(tr)
    note = "" if problems else ("every model site is finite at the failing draw: the "
                                "log-Jacobian or the guide's log-density overflowed")
    return problems, note
