"""Supports and site distributions: what the declared type and the distribution
say a latent's values are, and the code that maps unconstrained numbers there.

The same `Support` decides three things that must agree: the distribution a
site carries in the sample-site program (wrapped in `Truncated` when the type
is narrower than the distribution, or `ImproperUniform` for a flat prior), the
transform the flat unconstrained vector goes through in ``potential`` (written
inline for the common scalar cases), and the transform ``biject_to`` picks for
that distribution's support (automatic guides use it).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..check.model import Variable
from ..library import DISTRIBUTIONS, Support as DistSupport
from ..syntax import ast
from ..types import TYPES

_FROM_DIST = {DistSupport.REAL: "real", DistSupport.REAL_VECTOR: "real", DistSupport.POSITIVE: "positive",
              DistSupport.UNIT_INTERVAL: "unit", DistSupport.SIMPLEX: "simplex",
              DistSupport.CORR_CHOLESKY: "corr_cholesky", DistSupport.POSITIVE_DEFINITE: "cov"}


@dataclass(frozen=True)
class Support:
    """Where a continuous variable lives.

    kind: ``real``, ``positive``, ``lower``, ``upper``, ``interval``, ``unit``,
    or a structured one (``simplex``, ``ordered``, ``corr_cholesky``, ``cov``).
    ``lower``/``upper`` are bound expressions (for ``lower``/``upper``/``interval``).
    """

    kind: str
    lower: ast.Expr | None = None
    upper: ast.Expr | None = None

    @property
    def structured(self) -> bool:
        return self.kind in ("simplex", "ordered", "corr_cholesky", "cov")


class UnsupportedLatent(Exception):
    """A latent without a continuous support (a discrete distribution)."""


def support_of(variable: Variable) -> Support:
    """The support of a latent: its declared type where that narrows the distribution's."""
    declared = _declared(variable.type) if variable.type is not None else None
    natural = _natural(variable.dist) if variable.dist is not None else None
    if declared is None and natural is None:
        raise UnsupportedLatent(variable.name)
    if declared is None or (declared.kind == "real" and natural is not None):
        return natural
    return declared


def is_truncated(variable: Variable) -> bool:
    """The declared type is narrower than the distribution's support (Stan truncation)."""
    if variable.dist is None or variable.type is None:
        return False
    natural = _natural(variable.dist)
    return natural is not None and support_of(variable) != natural


def _declared(type_: ast.Type) -> Support | None:
    base = type_.base.id
    if TYPES[base].structured:
        return Support(TYPES[base].support)
    bounds = {b.name.id: b.value for b in type_.bounds}
    lower, upper = bounds.get("lower"), bounds.get("upper")
    if base == "positive" and lower is None:
        lower = ast.Number(0)
    if base == "probability":
        lower = lower if lower is not None else ast.Number(0)
        upper = upper if upper is not None else ast.Number(1)
        if bounds == {}:
            return Support("unit")
    if lower is not None and upper is not None:
        return Support("interval", lower, upper)
    if upper is not None:
        return Support("upper", upper=upper)
    if lower is not None:
        return Support("positive") if lower == ast.Number(0) else Support("lower", lower)
    return Support("real")


def _natural(call: ast.Call) -> Support | None:
    spec = DISTRIBUTIONS.get(call.func.id)
    if spec is None or spec.discrete:
        return None
    if spec.support is DistSupport.INTERVAL:
        named = dict(zip(spec.positional_params(), call.args))
        named.update({k.name.id: k.value for k in call.kwargs})
        return Support("interval", named["low"], named["high"])
    return Support(_FROM_DIST[spec.support])


def transform_lines(support: Support, raw: str, out: str, bounds: tuple[str | None, str | None],
                    bijection: str | None, scalar: bool = False) -> tuple[list[str], str | None]:
    """Lines mapping unconstrained ``raw`` onto the support as ``out``, and the log-Jacobian code.

    ``bounds`` is the code of the lower and upper bounds; ``bijection`` names a
    bind-time ``biject_to`` transform for structured supports; a ``scalar`` needs no sum.
    """
    lower, upper = bounds
    total = raw if scalar else f"{raw}.sum()"
    match support.kind:
        case "real":
            return [f"{out} = {raw}"], None
        case "positive":
            return [f"{out} = {raw}.exp()"], total
        case "lower":
            return [f"{out} = {lower} + {raw}.exp()"], total
        case "upper":
            return [f"{out} = {upper} - {raw}.exp()"], total
        case "unit":
            return [f"{out} = torch.sigmoid({raw})"], f"_rt.logit_jacobian({raw})"
        case "interval":
            return ([f"{out} = {lower} + ({upper} - {lower}) * torch.sigmoid({raw})"],
                    f"_rt.interval_jacobian({raw}, {lower}, {upper})")
    return [f"{out} = {bijection}({raw})"], f"{bijection}.log_abs_det_jacobian({raw}, {out}).sum()"


def constraint_code(support: Support, bounds: tuple[str | None, str | None]) -> str:
    """Code building the torch constraint object for a support."""
    lower, upper = bounds
    return {
        "real": "_rt.constraints.real",
        "positive": "_rt.constraints.positive",
        "unit": "_rt.constraints.unit_interval",
        "lower": f"_rt.constraints.greater_than({lower})",
        "upper": f"_rt.constraints.less_than({upper})",
        "interval": f"_rt.constraints.interval({lower}, {upper})",
        "simplex": "_rt.constraints.simplex",
        "ordered": "_rt.ordered_vector",
        "corr_cholesky": "_rt.constraints.corr_cholesky",
        "cov": "_rt.constraints.positive_definite",
    }[support.kind]
