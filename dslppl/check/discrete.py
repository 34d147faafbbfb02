"""Pass 6b: discrete latent variables, which inference sums out exactly.

A latent with finite support (`FINITE`: ``Bernoulli``, ``Categorical``,
``Binomial`` with a data ``total_count``, ``DiscreteUniform`` with data
bounds; or a latent of type ``int<lower=A, upper=B>`` with data bounds, flat
or with a discrete distribution truncated there) is *enumerated*: the fitted density is the sum over its values. One
with unbounded support (``Poisson`` ...) cannot be summed (E0502).

What exact elimination needs (E0412):

- an enumerated variable is one value per element (``z[n] ~ Bernoulli(p)``
  in plate ``n``, or a top-level ``s ~ DiscreteUniform(0, T - 1)``);
- a plated one is read only as ``z[n]`` inside its plates (each element is
  summed on its own);
- a *chain* (built by a ``for`` loop, ``z[t] ~ Categorical(P[z[t - 1]])``) is
  read at ``z[t + c]`` for a loop or plate index ``t`` (two neighbouring steps
  at most per statement, a hidden Markov model of order one) or at a constant
  step, by statements that read no other enumerated variable, and not
  through a deterministic node.

The number of values comes from the data (E0506): ``Categorical``'s
probabilities are data or a variable with a declared shape.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..diagnostics import DiagnosticSink
from ..library import DISTRIBUTIONS
from ..syntax import ast
from .indices import known_names
from .model import Kind, Variable
from .steps import step_offset

FINITE = ("Bernoulli", "Categorical", "Binomial", "DiscreteUniform")


def is_enumerated(variable: Variable) -> bool:
    """A latent with a finite discrete distribution, or of type ``int<lower=A, upper=B>``:
    summed out by inference."""
    if variable.kind is not Kind.LATENT:
        return False
    if variable.base_type == "int":  # both bounds (`calls` requires them on a latent)
        return True
    dist = variable.dist
    return variable.type is None and dist is not None and dist.func.id in FINITE


def enumerated(variables: dict[str, Variable]) -> dict[str, Variable]:
    return {name: v for name, v in variables.items() if is_enumerated(v)}


@dataclass(frozen=True)
class ChainRead:
    """A read of a chain ``z`` at ``index + offset`` (``index`` a frame index), or at a constant step."""

    name: str
    index: str | None
    offset: int | ast.Expr


def chain_read(node: ast.Index, frames: set[str]) -> ChainRead | None:
    """``z[t - 1]`` with ``t`` among ``frames``, or ``z[0]``; None for any other index."""
    if len(node.indices) != 1:
        return None
    item = node.indices[0]
    for index in frames:
        offset = step_offset(item, index)
        if offset is not None:
            return ChainRead(node.base.id, index, offset)
    if isinstance(item, ast.Number) and isinstance(item.value, int):
        return ChainRead(node.base.id, None, item)
    return None


def check_discrete(variables: dict[str, Variable], sink: DiagnosticSink, outer=()) -> None:
    found = enumerated(variables)
    known = known_names(variables, outer)
    for variable in variables.values():
        spec = DISTRIBUTIONS.get(variable.dist.func.id) if variable.dist is not None else None
        if variable.kind is Kind.LATENT and variable.type is None and spec is not None and spec.discrete \
                and variable.name not in found:
            sink.error("E0502", f"'{variable.name}' has a {spec.name} distribution, whose values are unbounded, "
                       "so it cannot be summed out", variable.span,
                       hint="bound it (Binomial, Categorical or DiscreteUniform), make it data, or sum it "
                            "out by hand with logsumexp over a range of values")
    for variable in found.values():
        _check_shape(variable, variables, known, sink)
    for variable in variables.values():
        for piece in variable.pieces:
            _check_reads(variable, piece, found, variables, sink)


def _check_shape(variable: Variable, variables: dict[str, Variable], known: set[str], sink: DiagnosticSink) -> None:
    if variable.rank != 0:
        sink.error("E0412", f"'{variable.name}' is summed out, so it must be one value per element", variable.span,
                   hint=f"draw one value per element inside a plate: {variable.name}[n] ~ ...")
    for piece in variable.pieces:
        if piece.loops and any(f.sequential for f in piece.frames[:-1]):
            sink.error("E0412", f"'{variable.name}' is summed out along one loop only", piece.stmt.span)
        target = piece.target
        if variable.sequential and target is not None and chain_read(
                ast.Index(target.name, target.indices, span=target.span), {f.index for f in piece.frames}) is None:
            sink.error("E0412", f"a piece of the chain '{variable.name}' is indexed by its loop index (plus a "
                       "whole number) or, outside the loop, by a whole number", target.span,
                       hint=f"e.g. {variable.name}[0] ~ ... and for t in 1..T {{ {variable.name}[t] ~ ... }}")
    if variable.type is not None:
        _check_declared_range(variable, known, sink)
        return
    dist = variable.dist
    name = dist.func.id
    named = dict(zip(DISTRIBUTIONS[name].positional_params(), dist.args))
    named.update({k.name.id: k.value for k in dist.kwargs})
    fixed = {"Binomial": ("total_count",), "DiscreteUniform": ("low", "high")}.get(name, ())
    for param in fixed:
        if not _reads_only(named[param], known):
            sink.error("E0506", f"{name}'s '{param}' must be data, since the values of '{variable.name}' are "
                       "summed over", named[param].span, hint="use a number or data here")
    if name == "Categorical" and categories(dist, variables, known) is None:
        sink.error("E0506", f"the number of categories of '{variable.name}' must be known from the data",
                   dist.span, hint="give the probabilities as data, or as a variable with a declared shape "
                                   "(w: simplex[K] ~ Dirichlet(...))")


def _check_declared_range(variable: Variable, known: set[str], sink: DiagnosticSink) -> None:
    """``k: int<lower=A, upper=B> ~ D``: A and B are data, D (if any) a discrete distribution
    (truncated to A..B, unnormalized, as for continuous types)."""
    for bound in variable.type.bounds:
        if not _reads_only(bound.value, known):
            sink.error("E0506", f"the bound '{bound.name.id}' of '{variable.name}' must be data, since its values "
                       "are summed over", bound.value.span, hint="use a number or data here")
    spec = DISTRIBUTIONS.get(variable.dist.func.id) if variable.dist is not None else None
    if spec is not None and not spec.discrete:
        sink.error("E0506", f"'{variable.name}' is an int, so its distribution must be discrete, not {spec.name}",
                   variable.dist.span)


def categories(dist: ast.Call, variables: dict[str, Variable], known: set[str]) -> tuple[str, ast.Expr] | None:
    """How a ``Categorical``'s number of categories is found: ``("shape", expr)`` — the last
    dimension of data ``expr`` — or ``("size", expr)``, a size known from the data; None when
    neither can be told."""
    return _categories(dist.args[0] if dist.args else dist.kwargs[0].value, variables, known)


def _categories(arg: ast.Expr, variables: dict[str, Variable], known: set[str]):
    if _reads_only(arg, known):
        return ("shape", arg)
    if isinstance(arg, ast.ArrayLit) and not any(isinstance(i, ast.ArrayLit) for i in arg.items):
        return ("size", ast.Number(len(arg.items)))
    if isinstance(arg, ast.Call) and arg.func.id in ("where", "softmax", "log_softmax", "exp", "log"):
        for inner in reversed(arg.args):  # where(c, a, b): a's categories (or b's)
            found = _categories(inner, variables, known)
            if found is not None:
                return found
        return None
    base = arg
    while isinstance(base, ast.Index):
        base = base.base
    if isinstance(base, ast.Name) and base.id in variables:
        declared = variables[base.id].type
        if declared is not None and declared.shape:
            return ("size", declared.shape[-1])
    return None


def _reads_only(expr: ast.Expr, known: set[str]) -> bool:
    labels = {id(n.func) for n in ast.walk(expr) if isinstance(n, ast.Call)}
    return all(n.id in known for n in ast.walk(expr) if isinstance(n, ast.Name) and id(n) not in labels)


def _check_reads(variable: Variable, piece, found: dict[str, Variable], variables: dict[str, Variable],
                 sink: DiagnosticSink) -> None:
    frames = {f.index for f in piece.frames}
    plates = {f.index for f in piece.plates}
    chains, others = set(), set()
    for expr in piece.expressions(shape=True):
        for node in ast.walk(expr):
            target = node.base if isinstance(node, ast.Index) else node
            if not isinstance(target, ast.Name) or target.id not in found:
                continue
            if isinstance(node, ast.Name) and _indexed(node, expr):
                continue  # checked as part of its Index node
            read = found[target.id]
            if read.sequential:
                chains.add(read.name)
                _check_chain_read(variable, read, node, frames, sink)
            else:
                others.add(read.name)
                _check_plated_read(read, node, plates, sink)
    if variable.name in found:
        (chains if variable.sequential else others).add(variable.name)
    for name in chains:
        _check_steps(name, piece, sink)
    if chains and (len(chains) > 1 or others):
        sink.error("E0412", f"a statement reading the chain '{sorted(chains)[0]}' cannot read another summed-out "
                   f"variable ({', '.join(sorted((chains | others) - {sorted(chains)[0]}))})", piece.stmt.span)
    if (chains or others) and variable.sequential and variable.kind in (Kind.LATENT, Kind.DETERMINISTIC) \
            and variable.name not in found:
        sink.error("E0412", f"'{variable.name}' is built by a 'for' loop and reads the summed-out "
                   f"'{sorted(chains | others)[0]}': only observations and factors inside a loop may read one",
                   piece.stmt.span)
    elif chains and variable.kind is Kind.LATENT and variable.name not in found:
        sink.error("E0412", f"'{variable.name}' reads the chain '{sorted(chains)[0]}': only observations, factors "
                   "and the chain itself may", piece.stmt.span)
    if chains and variable.kind is Kind.DETERMINISTIC:
        sink.error("E0412", f"'{variable.name}' reads the chain '{sorted(chains)[0]}': only the statements that "
                   "draw or observe may read a chain", piece.stmt.span,
                   hint="write the expression inside the distribution that uses it")


def _check_steps(name: str, piece, sink: DiagnosticSink) -> None:
    """One statement reads a chain at one step, or at two neighbouring steps of one index."""
    reads = {(r.index, r.offset if r.index else r.offset.value) for r in chain_offsets(piece, name) if r is not None}
    indices = {index for index, _ in reads}
    offsets = sorted(offset for _, offset in reads)
    if len(reads) > 1 and (len(indices) > 1 or None in indices or len(reads) > 2 or offsets[1] - offsets[0] != 1):
        sink.error("E0412", f"a statement may read the chain '{name}' at two neighbouring steps at most "
                   f"({name}[t - 1] and {name}[t])", piece.stmt.span,
                   hint="a chain is a Markov chain of order one")


def _indexed(name: ast.Name, expr: ast.Expr) -> bool:
    return any(isinstance(n, ast.Index) and n.base is name for n in ast.walk(expr))


def _check_plated_read(read: Variable, node: ast.Node, plates: set[str], sink: DiagnosticSink) -> None:
    own = read.plates
    if not own:
        if isinstance(node, ast.Index):
            sink.error("E0412", f"'{read.name}' is one value: it cannot be indexed", node.span)
        return
    indices = node.indices if isinstance(node, ast.Index) else ()
    aligned = len(indices) == len(own) and all(isinstance(i, ast.Name) and i.id == p for i, p in zip(indices, own))
    if not aligned or not set(own) <= plates:
        sink.error("E0412", f"'{read.name}' is summed out per element of plate {', '.join(own)}, so it can be read "
                   f"only as {read.name}[{', '.join(own)}] inside that plate", node.span,
                   hint="reading it across elements would couple them; model the coupling with a 'for' chain")


def _check_chain_read(variable: Variable, read: Variable, node: ast.Node, frames: set[str],
                      sink: DiagnosticSink) -> None:
    if not isinstance(node, ast.Index) or chain_read(node, frames) is None:
        sink.error("E0412", f"the chain '{read.name}' is read one step at a time: {read.name}[t], "
                   f"{read.name}[t - 1] or {read.name}[0]", node.span)


def chain_offsets(piece, name: str) -> list[ChainRead]:
    """The reads of chain ``name`` by one piece, and its own target when it defines ``name``."""
    frames = {f.index for f in piece.frames}
    reads = []
    for expr in piece.expressions():
        for node in ast.walk(expr):
            if isinstance(node, ast.Index) and isinstance(node.base, ast.Name) and node.base.id == name:
                reads.append(chain_read(node, frames))
    target = piece.target
    if target is not None and target.name.id == name:
        reads.append(chain_read(ast.Index(target.name, target.indices, span=target.span), frames))
    return reads
