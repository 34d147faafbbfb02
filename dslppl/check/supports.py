"""Pass 6: declared types against the supports of the distributions they carry.

Discrete latents are checked in ``discrete`` (they are summed out).

A count distribution cannot produce `real` data, a `simplex` cannot be drawn
from a `Normal`, and so on (E0501). Narrower continuous types are fine: they
truncate the distribution, as in Stan (``sigma: positive ~ Normal(0, 1)``).
"""
from __future__ import annotations

from ..diagnostics import DiagnosticSink
from ..library import DISTRIBUTIONS, Support
from ..syntax import ast
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
        _warn_observed_bounds(variable, sink)
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


# The bounds each continuous support has already: declaring them on observed data narrows nothing.
_NATURAL = {Support.REAL: set(), Support.REAL_VECTOR: set(), Support.POSITIVE: {("lower", 0)},
            Support.UNIT_INTERVAL: {("lower", 0), ("upper", 1)}}


def _warn_observed_bounds(variable: Variable, sink: DiagnosticSink) -> None:
    """Bounds declared on observed data are checked against the data, as in Stan; they do
    not truncate the distribution that observes it. Say so where they are narrower."""
    if variable.kind is not Kind.OBSERVED or variable.dist is None:
        return
    spec = DISTRIBUTIONS.get(variable.dist.func.id)
    if spec is None or spec.support not in _NATURAL:
        return
    declared = {(b.name.id, b.value.value if isinstance(b.value, ast.Number) else None)
                for b in variable.type.bounds}
    if variable.base_type in ("positive", "probability"):
        declared |= {("lower", 0)} | ({("upper", 1)} if variable.base_type == "probability" else set())
    if declared - _NATURAL[spec.support]:
        sink.warning("W0104", f"the bounds of observed '{variable.name}' are checked against its data; they do "
                     f"not truncate {spec.name}, as in Stan", variable.decl.span,
                     hint="to model truncated data, add its normalising term with a 'factor', or choose a "
                          "distribution on the bounded support")


def _hint(base: str, support: Support) -> str:
    if support.discrete:
        return f"declare '{'int' if support is not Support.BOOLEAN else 'bool'}' data for counts and categories"
    return f"choose a distribution over {base} values"


def bounded_flat(variable: Variable, known: set[str]) -> bool:
    """A flat prior between two bounds that the data fixes: a proper uniform, which can be drawn.

    ``known`` are the names known once data is bound (`indices.known_names`)."""
    type_ = variable.type
    if variable.dist is not None or type_ is None:
        return False
    bounds = {b.name.id: b.value for b in type_.bounds}
    fixed = all(n.id in known for b in bounds.values() for n in ast.walk(b) if isinstance(n, ast.Name))
    return fixed and (type_.base.id == "probability" or {"lower", "upper"} <= set(bounds))
