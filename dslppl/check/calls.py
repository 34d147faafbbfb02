"""Pass 3: calls and types against the library of distributions and functions.

Input: the resolved variables. Reports unknown distributions (E0301) and
functions (E0302), unknown keywords (E0303), argument counts (E0304),
conflicting or repeated arguments (E0305), distributions used as values or
functions used as distributions (E0306), reductions that cannot take a
comprehension (E0307), unknown types (E0204), bad bounds (E0205) and
non-continuous types on latents (E0502).
"""
from __future__ import annotations

from ..diagnostics import DiagnosticSink, did_you_mean
from ..library import COMPREHENSIBLE, DISTRIBUTIONS, FUNCTIONS
from ..library.distributions import DistributionSpec
from ..library.functions import FunctionSpec
from ..syntax import ast
from ..types import TYPES
from .model import Kind, Variable



def check_calls(variables: dict[str, Variable], sink: DiagnosticSink) -> None:
    for variable in variables.values():
        for piece in variable.pieces:
            stmt = piece.stmt
            if isinstance(stmt, ast.Sample):
                check_distribution(stmt.dist, sink)
            for node in piece.expressions(shape=True, target=True):
                _check_calls_in(node, sink, skip=getattr(stmt, "dist", None))
        if variable.type is not None:
            check_type(variable.type, sink)
            _check_kind_allows_type(variable, sink)


def _check_calls_in(node: ast.Node, sink: DiagnosticSink, skip: ast.Call | None) -> None:
    calls = [sub for sub in ast.walk(node) if isinstance(sub, (ast.Call, ast.Comprehension))]
    # ``Normal(..)`` in ``log_prob(Normal(..), x)`` is checked as a distribution by log_prob.
    dist_args = {id(c.args[0]) for c in calls if isinstance(c, ast.Call) and c.func.id == "log_prob" and c.args}
    for sub in calls:
        if isinstance(sub, ast.Comprehension):
            _check_comprehension(sub, sink)
        elif sub is not skip and id(sub) not in dist_args:
            check_function(sub, sink)


def check_distribution(call: ast.Call, sink: DiagnosticSink) -> DistributionSpec | None:
    name = call.func.id
    spec = DISTRIBUTIONS.get(name)
    if spec is None:
        if name in FUNCTIONS:
            sink.error("E0306", f"'{name}' is a function, not a distribution", call.func.span,
                       hint=did_you_mean(name, DISTRIBUTIONS))
        else:
            sink.error("E0301", f"unknown distribution '{name}'", call.func.span,
                       hint=did_you_mean(name, DISTRIBUTIONS) or _list_hint(DISTRIBUTIONS))
        return None
    _check_arguments(call, spec, sink)
    return spec


def _list_hint(names) -> str:
    return "known: " + ", ".join(sorted(names))


def _check_arguments(call: ast.Call, spec: DistributionSpec, sink: DiagnosticSink) -> None:
    name = spec.name
    positional = spec.positional_params()
    if len(call.args) > len(positional):
        sink.error("E0304", f"{name} takes at most {len(positional)} positional argument"
                   f"{'s' if len(positional) != 1 else ''} ({', '.join(positional)}), got {len(call.args)}",
                   call.args[len(positional)].span, hint=_signature(spec))
        return
    given = {p: call.func.span for p in positional[: len(call.args)]}
    for keyword in call.kwargs:
        key = keyword.name.id
        if key not in spec.params:
            sink.error("E0303", f"{name} has no argument '{key}'", keyword.name.span,
                       hint=did_you_mean(key, spec.params) or _signature(spec))
        elif key in given:
            sink.error("E0305", f"argument '{key}' of {name} is given twice", keyword.name.span,
                       hint=_signature(spec))
        given[key] = keyword.span
    missing = [p for p in spec.required if p not in given]
    if missing:
        sink.error("E0304", f"{name} needs {', '.join(repr(m) for m in missing)}", call.span,
                   hint=_signature(spec))
    for group in spec.alternatives:
        chosen = [p for p in group if p in given]
        if len(chosen) != 1:
            how = "only one of" if chosen else "one of"
            sink.error("E0305", f"{name} takes {how} {' or '.join(g + '=' for g in group)}", call.span,
                       hint=_signature(spec))


def _signature(spec: DistributionSpec) -> str:
    parts = list(spec.required)
    parts += [" | ".join(f"{p}=" for p in group) for group in spec.alternatives]
    parts += [f"{p}=..." for p in spec.params if p not in spec.required
              and not any(p in g for g in spec.alternatives)]
    return f"{spec.name}({', '.join(parts)})"


def check_function(call: ast.Call, sink: DiagnosticSink) -> FunctionSpec | None:
    name = call.func.id
    spec = FUNCTIONS.get(name)
    if spec is None:
        if name in DISTRIBUTIONS:
            sink.error("E0306", f"distribution '{name}' used as a value", call.func.span,
                       hint=f"draw from it with '~', or take a density with log_prob({name}(...), x)")
        else:
            sink.error("E0302", f"unknown function '{name}'", call.func.span,
                       hint=did_you_mean(name, FUNCTIONS))
        return None
    count = len(call.args)
    high = spec.max_args
    if count < spec.min_args or (high is not None and count > high):
        expected = (str(spec.min_args) if high == spec.min_args else
                    f"{spec.min_args} or more" if high is None else f"{spec.min_args} to {high}")
        sink.error("E0304", f"{name} takes {expected} argument{'s' if expected != '1' else ''}, got {count}",
                   call.span)
    for keyword in call.kwargs:
        if keyword.name.id not in spec.keywords:
            sink.error("E0303", f"{name} has no argument '{keyword.name.id}'", keyword.name.span,
                       hint=did_you_mean(keyword.name.id, spec.keywords))
    if name == "log_prob" and call.args:
        first = call.args[0]
        if isinstance(first, ast.Call) and first.func.id in DISTRIBUTIONS:
            check_distribution(first, sink)
        else:
            sink.error("E0306", "log_prob needs a distribution as its first argument", first.span,
                       hint="e.g. log_prob(Normal(mu, sigma), y)")
    return spec


def _check_comprehension(comp: ast.Comprehension, sink: DiagnosticSink) -> None:
    if comp.func.id not in COMPREHENSIBLE:
        code, what = ("E0307", f"'{comp.func.id}' does not take a comprehension") if comp.func.id in FUNCTIONS \
            else ("E0302", f"unknown function '{comp.func.id}'")
        sink.error(code, what, comp.func.span,
                   hint=did_you_mean(comp.func.id, COMPREHENSIBLE) or _list_hint(COMPREHENSIBLE))


def check_type(type_: ast.Type, sink: DiagnosticSink) -> None:
    base = type_.base.id
    if base not in TYPES:
        sink.error("E0204", f"unknown type '{base}'", type_.base.span,
                   hint=did_you_mean(base, TYPES) or _list_hint(TYPES))
        return
    seen: set[str] = set()
    for bound in type_.bounds:
        key = bound.name.id
        if not TYPES[base].bounded:
            sink.error("E0205", f"type '{base}' takes no bounds", bound.span)
        elif key not in ("lower", "upper"):
            sink.error("E0205", f"unknown bound '{key}'", bound.name.span,
                       hint=did_you_mean(key, ("lower", "upper")) or "bounds are lower= and upper=")
        elif key in seen:
            sink.error("E0205", f"bound '{key}' given twice", bound.name.span)
        seen.add(key)
    needed = TYPES[base].min_shape
    if len(type_.shape) < needed:
        sink.error("E0503", f"type '{base}' needs a shape of at least {needed} dimension"
                   f"{'s' if needed > 1 else ''}", type_.span,
                   hint=f"e.g. {base}[K]" if needed == 1 else f"e.g. {base}[K, K]")
    elif needed == 2 and type_.shape[-1] != type_.shape[-2]:
        sink.error("E0503", f"a '{base}' matrix must be square", type_.span, hint=f"e.g. {base}[K, K]")


def _check_kind_allows_type(variable: Variable, sink: DiagnosticSink) -> None:
    spec = TYPES.get(variable.base_type)
    bounded = {b.name.id for b in variable.type.bounds} >= {"lower", "upper"} if variable.type else False
    if variable.kind is Kind.LATENT and variable.base_type == "int" and bounded:
        return  # a discrete latent over lower..upper, summed out (see `discrete`)
    if variable.kind in (Kind.LATENT, Kind.PARAM) and spec is not None and spec.data_only:
        sink.error("E0502", f"'{variable.name}' is a {variable.kind.value} and cannot have type "
                   f"'{variable.base_type}'", variable.type.span,
                   hint="int and bool are for data, params are continuous; a discrete latent is "
                        "int<lower=A, upper=B> or has a finite distribution (Bernoulli, Categorical, ...)")
