"""The checker: a parsed `Program` in, a `CheckedModel` out, or one `DslError` per failing pass.

Passes run in order and each reports every mistake it finds before the next
one starts, since later passes assume earlier ones succeeded:

0. nesting limits and constant arithmetic (``limits``, ``constants``);
1. collect definitions (``collect``);
2. names, calls, operators and types (``scope``, ``calls``, ``operators``);
3. ranks, plate reads and supports (``ranks``, ``plates``, ``supports``);
4. what loops build and what may index (``loops``, ``indices``);
5. the guide block, against the model (``guide``).

>>> from dslppl.syntax import parse
>>> model = check(parse("model m { data N: int\\n mu ~ Normal(0, 1) }"))
>>> [(v.name, v.kind.value) for v in model.variables.values()]
[('N', 'data'), ('mu', 'latent')]
"""
from __future__ import annotations

from ..diagnostics import Diagnostic, DiagnosticSink
from ..gcpause import collector_paused
from ..source import Source
from ..syntax import ast
from .calls import check_calls
from .collect import collect
from .constants import check_constants
from .limits import check_limits
from .discrete import check_discrete, enumerated
from .guide import check_guide
from .indices import check_indices, known_names
from .loops import check_loops
from .model import CheckedModel, Frame, Kind, Piece, Variable
from .operators import check_operators
from .plates import check_plate_reads
from .ranks import Ranks, check_ranks
from .scope import resolve
from .supports import bounded_flat, check_supports

__all__ = ["check", "CheckedModel", "Frame", "Kind", "Piece", "Ranks", "Variable"]


def check(program: ast.Program, source: Source | None = None) -> CheckedModel:
    """Check a parsed program; raise `DslError` with every diagnostic of the first failing pass."""
    with collector_paused():
        return _check(program, source)


def _check(program: ast.Program, source: Source | None) -> CheckedModel:
    sink = DiagnosticSink()
    variables, plates, ranks = _check_block(program.model.body, sink, source)
    model = CheckedModel(program.model.name.id, program, variables, plates, ranks=ranks)
    if program.guide is not None:
        model.guide = _check_guide_block(program, model, sink, source)
    model.warnings = tuple(sink.warnings) + tuple(_warnings(model))
    return model


def _check_block(body, sink: DiagnosticSink, source: Source | None, *, guide: bool = False,
                 outer: CheckedModel | None = None):
    check_limits(body, sink)
    sink.raise_if_errors(source)
    check_constants(body, sink)
    variables, plates = collect(body, sink, guide=guide)
    sink.raise_if_errors(source)
    outer_names = [v.name for v in outer.data] if outer else ()
    resolve(variables, sink, outer_names)
    check_calls(variables, sink)
    check_operators(variables, sink)
    sink.raise_if_errors(source)
    ranks = check_ranks(variables, sink, outer.ranks if outer else None)
    check_plate_reads(variables, sink)
    check_supports(variables, sink)
    check_discrete(variables, sink, outer_names)
    sink.raise_if_errors(source)
    check_loops(variables, sink)
    check_indices(variables, sink, outer_names, enumerated(variables))
    sink.raise_if_errors(source)
    return variables, plates, ranks


def _check_guide_block(program: ast.Program, model: CheckedModel, sink: DiagnosticSink,
                       source: Source | None) -> CheckedModel:
    variables, plates, ranks = _check_block(program.guide.body, sink, source, guide=True, outer=model)
    guide = CheckedModel(f"{model.name}.guide", program, variables, plates, ranks=ranks)
    check_guide(model, guide, program.guide, sink)
    sink.raise_if_errors(source)
    return guide


def _warnings(model: CheckedModel) -> list[Diagnostic]:
    known = known_names(model.variables)
    read = set().union(*(v.parents | v.sizes for v in model.variables.values()))
    if model.guide is not None:
        read |= set().union(*(v.parents | v.sizes for v in model.guide.variables.values()))
    found = []
    for variable in model.variables.values():
        if variable.kind is Kind.DATA and variable.name not in read:
            found.append(Diagnostic("W0102", f"data '{variable.name}' is declared but never used",
                                    variable.span, severity="warning"))
        if variable.kind is Kind.LATENT and variable.dist is None and not bounded_flat(variable, known):
            found.append(Diagnostic("W0103", f"'{variable.name}' has a flat (improper) prior",
                                    variable.span, hint="it can be fitted, but not drawn from the prior",
                                    severity="warning"))
    return found
