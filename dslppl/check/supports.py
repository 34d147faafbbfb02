"""Pass 6: declared types against the supports of the distributions they carry.

Discrete latents are checked in ``discrete`` (they are summed out).

A count distribution cannot produce `real` data, a `simplex` cannot be drawn
from a `Normal`, and so on (E0501). Narrower continuous types are fine: they
truncate the distribution, as in Stan (``sigma: positive ~ Normal(0, 1)``).
"""
from __future__ import annotations

from ..diagnostics import DiagnosticSink
from ..library import DISTRIBUTIONS, Support
from .model import Kind, Variable

_CONTINUOUS_SCALAR = {Support.REAL, Support.POSITIVE, Support.UNIT_INTERVAL, Support.INTERVAL,
                      Support.REAL_VECTOR}

# For each type, the supports a distribution on a variable of that type may have.
COMPATIBLE: dict[str, set[Support]] = {
    "real": _CONTINUOUS_SCALAR,
    "positive": _CONTINUOUS_SCALAR,
    "probability": _CONTINUOUS_SCALAR,
    "ordered": _CONTINUOUS_SCALAR,
    "simplex": {Support.SIMPLEX},
    "corr_cholesky": {Support.CORR_CHOLESKY},
    "cov": {Support.POSITIVE_DEFINITE},
    "int": set(Support),
    "bool": {Support.BOOLEAN, *_CONTINUOUS_SCALAR},
}


def check_supports(variables: dict[str, Variable], sink: DiagnosticSink) -> None:
    for variable in variables.values():
        if variable.kind not in (Kind.LATENT, Kind.OBSERVED) or variable.type is None:
            continue
        base = variable.base_type
        for piece in variable.pieces:
            dist = getattr(piece.stmt, "dist", None)
            spec = DISTRIBUTIONS.get(dist.func.id) if dist is not None else None
            if spec is None or base not in COMPATIBLE or spec.support in COMPATIBLE[base]:
                continue
            role = "data" if variable.kind is Kind.OBSERVED else "declared"
            sink.error("E0501", f"{spec.name} is a distribution over {spec.support.value}, but "
                       f"'{variable.name}' is {role} as '{base}'", dist.func.span,
                       hint=_hint(base, spec.support))


def _hint(base: str, support: Support) -> str:
    if support.discrete:
        return f"declare '{'int' if support is not Support.BOOLEAN else 'bool'}' data for counts and categories"
    return f"choose a distribution over {base} values"
