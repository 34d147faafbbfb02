"""Automatic non-centring: a rewrite of the program that inference runs on.

A latent drawn from a location-scale family whose scale is itself random,

    theta[j] ~ Normal(mu, tau)

puts the posterior in a funnel (tau small pulls every theta to mu), which
traps both variational fits and NUTS. Written non-centred,

    theta_raw[j] ~ Normal(0, 1)
    theta[j] = mu + tau * theta_raw[j]

the same model is a well-scaled one. `noncentred` finds every such latent in
the checked model and its graph and rewrites the program's AST; the checker
then reads the rewritten program like any other, so ``theta`` stays a
variable (now deterministic) under the user's name. The families: Normal,
StudentT, Cauchy, Laplace, Gumbel (``loc + scale * raw``) and LogNormal
(``exp(loc + scale * raw)``). A latent is left alone when its type narrows
the support (truncation), when it is built by a `for` loop, or when its
element is not a scalar and no declared shape says how many to draw.

>>> from dslppl.driver import front_end
>>> _, graph = front_end(
...     "model m { mu ~ Normal(0, 5)\\n tau ~ HalfCauchy(5)\\n theta ~ Normal(mu, tau) }")
>>> program, rewrites = noncentred(graph)
>>> [str(r) for r in rewrites]
['theta ~ Normal(mu, tau) becomes theta_raw ~ Normal(0, 1); theta = mu + tau * theta_raw']
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ..check.model import Kind, Variable
from ..graph import ModelGraph
from ..library import DISTRIBUTIONS
from ..syntax import ast
from ..syntax.pretty import pretty_expr

_AFFINE = {"Normal", "StudentT", "Cauchy", "Laplace", "Gumbel"}
_FAMILIES = _AFFINE | {"LogNormal"}


@dataclass(frozen=True)
class Rewrite:
    """One latent written non-centred: ``raw`` is drawn, ``variable`` is computed from it."""

    variable: str
    raw: str
    original: ast.Sample
    draw: ast.Sample
    value: ast.Assign

    def __str__(self) -> str:
        def show(stmt):
            target = stmt.target.name.id + (f"[{', '.join(pretty_expr(i) for i in stmt.target.indices)}]"
                                            if stmt.target.indices else "")
            body = pretty_expr(stmt.dist) if isinstance(stmt, ast.Sample) else pretty_expr(stmt.value)
            return f"{target} {'~' if isinstance(stmt, ast.Sample) else '='} {body}"
        return f"{show(self.original)} becomes {show(self.draw)}; {show(self.value)}"


def noncentred(graph: ModelGraph) -> tuple[ast.Program, tuple[Rewrite, ...]]:
    """The model's program with every eligible latent written non-centred, and the rewrites made.
    The rewritten program has no guide block: a hand-written guide describes the model as written."""
    program = graph.checked.program
    taken = set(graph.checked.variables)
    rewrites = []
    for variable in graph.checked.variables.values():
        if _eligible(variable, graph):
            raw = _fresh(f"{variable.name}_raw", taken)
            taken.add(raw)
            rewrites.append(_rewrite(variable, raw))
    if not rewrites:
        return program, ()
    replaced = {id(r.original): (r.draw, r.value) for r in rewrites}
    model = dataclasses.replace(program.model, body=_replace(program.model.body, replaced))
    return dataclasses.replace(program, model=model, guide=None), tuple(rewrites)


def _eligible(variable: Variable, graph: ModelGraph) -> bool:
    dist = variable.dist
    if variable.kind is not Kind.LATENT or variable.sequential or dist is None or dist.func.id not in _FAMILIES:
        return False
    declared = variable.type
    if declared is not None and (declared.base.id != "real" or declared.bounds):
        return False  # a narrower type truncates: an affine map of a standard draw would not
    if variable.rank != 0 and (declared is None or not declared.shape):
        return False  # the draw's shape comes from broadcasting the arguments
    scale = _arguments(dist).get("scale")
    return scale is not None and _reads_latent(scale, graph)


def _arguments(call: ast.Call) -> dict[str, ast.Expr]:
    named = dict(zip(DISTRIBUTIONS[call.func.id].positional_params(), call.args))
    named.update({k.name.id: k.value for k in call.kwargs})
    return named


def _reads_latent(expr: ast.Expr, graph: ModelGraph) -> bool:
    names = {n.id for n in ast.walk(expr) if isinstance(n, ast.Name) and n.id in graph.dag}
    for name in names:
        if graph.kind(name) is Kind.LATENT or any(graph.kind(a) is Kind.LATENT for a in graph.ancestors(name)):
            return True
    return False


def _fresh(name: str, taken: set[str]) -> str:
    candidate, k = name, 2
    while candidate in taken:
        candidate, k = f"{name}{k}", k + 1
    return candidate


def _rewrite(variable: Variable, raw: str) -> Rewrite:
    stmt: ast.Sample = variable.piece.stmt
    span = stmt.span
    dist = stmt.dist
    args = _arguments(dist)
    standard = [ast.Keyword(ast.Name("df", span=span), args["df"], span=span)] if dist.func.id == "StudentT" else []
    family = "Normal" if dist.func.id == "LogNormal" else dist.func.id
    numbers = [] if family == "StudentT" else [ast.Number(0, span=span), ast.Number(1, span=span)]
    draw_dist = ast.Call(ast.Name(family, span=dist.func.span), tuple(numbers), tuple(standard), span=dist.span)
    target = stmt.target
    raw_target = ast.Target(ast.Name(raw, span=target.name.span), target.indices, span=target.span)
    read = ast.Index(raw_target.name, target.indices, span=span) if target.indices else raw_target.name
    loc = args.get("loc", ast.Number(0, span=span))
    value = ast.Binary("+", loc, ast.Binary("*", args["scale"], read, span=span), span=span)
    if dist.func.id == "LogNormal":
        value = ast.Call(ast.Name("exp", span=span), (value,), span=span)
    draw = ast.Sample(raw_target, draw_dist, stmt.type, span=span)
    return Rewrite(variable.name, raw, stmt, draw, ast.Assign(target, value, stmt.type, span=span))


def _replace(body: tuple, replaced: dict[int, tuple]) -> tuple:
    out = []
    for stmt in body:
        if id(stmt) in replaced:
            out.extend(replaced[id(stmt)])
        elif isinstance(stmt, (ast.Plate, ast.For)):
            out.append(dataclasses.replace(stmt, body=_replace(stmt.body, replaced)))
        else:
            out.append(stmt)
    return tuple(out)
