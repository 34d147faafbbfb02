"""Sites of a trace whose values or log-densities are not finite.

Binding reports them at the initial point (an invalid argument, data outside
a support); a fit that meets a non-finite loss names them.

>>> import torch
>>> from torch.distributions import Normal
>>> from dslppl.runtime import sample, trace
>>> tr = trace(lambda: sample("y", Normal(0.0, 1.0), obs=torch.tensor(float("inf")))).get_trace()
>>> [str(p) for p in trace_problems(tr)]
["site 'y': value is inf"]
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from .trace import Trace

__all__ = ["SiteProblem", "trace_problems", "first_line"]


@dataclass(frozen=True)
class SiteProblem:
    """One site whose value or log-density is not finite."""

    site: str
    detail: str

    def __str__(self) -> str:
        return f"site {self.site!r}: {self.detail}"


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
            except (ValueError, RuntimeError, IndexError) as e:  # IndexError: a read outside an array
                problems.append(SiteProblem(name, f"log-density failed: {first_line(e)}"))
                continue
            bad = _describe_nonfinite(lp)
            if bad:
                problems.append(SiteProblem(name, f"log-density is {bad}"))
    return problems


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


def first_line(e: BaseException) -> str:
    return str(e).splitlines()[0] if str(e) else type(e).__name__
