"""Pass 1: gather the statements of a block into one `Variable` per name.

Input: the statements of a model or guide block. Output: variables with their
kinds and pieces, and the plates. Reports duplicate definitions (E0202),
assignments to data (E0203), types given twice (E0207), misplaced statements
(E0208), plates with two domains (E0409) and definitions whose target does
not match the frames around it (E0401, E0407).
"""
from __future__ import annotations

from collections import defaultdict

from ..diagnostics import DiagnosticSink, Note
from ..syntax import ast
from ..syntax.pretty import pretty_expr
from .model import Frame, Kind, Piece, Variable
from .steps import step_offset

_STOCHASTIC = (ast.Sample, ast.Declare)


def collect(body: tuple[ast.Stmt, ...], sink: DiagnosticSink, *, guide: bool = False
            ) -> tuple[dict[str, Variable], dict[str, Frame]]:
    """Variables (in source order) and plates (index -> frame) of one block."""
    pieces: dict[str, list[Piece]] = defaultdict(list)
    plates: dict[str, Frame] = {}
    stack: list[tuple[ast.Stmt, tuple[Frame, ...]]] = [(s, ()) for s in reversed(body)]
    while stack:
        stmt, frames = stack.pop()
        if isinstance(stmt, (ast.Plate, ast.For)):
            frame = Frame(stmt.index.id, stmt.domain, isinstance(stmt, ast.For), stmt.index.span)
            if not frame.sequential:
                _record_plate(frame, plates, sink)
            stack.extend((s, frames + (frame,)) for s in reversed(stmt.body))
            continue
        if isinstance(stmt, ast.DataDecl) and (guide or frames):
            where = "a guide (it reads the model's data)" if guide else f"{frames[-1].keyword} '{frames[-1].index}'"
            sink.error("E0208", f"'data' cannot be declared inside {where}", stmt.span,
                       hint="declare data at the top of the model block")
            continue
        if isinstance(stmt, ast.ParamDecl) and frames:
            sink.error("E0208", "'param' cannot be declared inside a plate or loop", stmt.span,
                       hint="declare it at the top of the block with an array type, e.g. real[J]")
            continue
        pieces[_name_of(stmt)].append(Piece(stmt, frames))
    variables = {}
    for name, group in pieces.items():
        variable = _classify(name, group, sink)
        if variable is not None:
            _check_targets(variable, sink)
            variables[name] = variable
    return variables, plates


def _name_of(stmt: ast.Stmt) -> str:
    if isinstance(stmt, (ast.DataDecl, ast.ParamDecl)):
        return stmt.name.id
    return stmt.target.name.id


def _record_plate(frame: Frame, plates: dict[str, Frame], sink: DiagnosticSink) -> None:
    known = plates.setdefault(frame.index, frame)
    if known.domain != frame.domain:
        sink.error("E0409", f"plate '{frame.index}' ranges over {_domain(frame.domain)} here "
                   f"but over {_domain(known.domain)} elsewhere", frame.span,
                   notes=(Note("first defined here", known.span),),
                   hint="use another index name for a different plate")


def _domain(domain: ast.Domain) -> str:
    hi = pretty_expr(domain.hi)
    return f"'{hi}'" if domain.lo is None else f"'{pretty_expr(domain.lo)}..{hi}'"


def _classify(name: str, group: list[Piece], sink: DiagnosticSink) -> Variable | None:
    """Decide the kind of ``name`` from its statements, reporting clashes."""
    decls = [p for p in group if isinstance(p.stmt, ast.DataDecl)]
    params = [p for p in group if isinstance(p.stmt, ast.ParamDecl)]
    rest = [p for p in group if p not in decls and p not in params]
    first = group[0]
    if len(decls) + len(params) > 1:
        _duplicate(name, (decls + params)[1], first, sink)
        return None
    if params:
        if rest:
            _duplicate(name, rest[0], params[0], sink)
            return None
        return Variable(name, Kind.PARAM, tuple(params), type=params[0].stmt.type)
    if decls:
        return _data_variable(name, decls[0], rest, sink)
    kinds = {_stmt_kind(p.stmt) for p in rest}
    if len(kinds) > 1 or _defined_twice(rest):
        _duplicate(name, rest[1], rest[0], sink)
        return None
    kind = kinds.pop()
    declared = next((p.stmt.type for p in rest if getattr(p.stmt, "type", None) is not None), None)
    return Variable(name, kind, tuple(rest), type=declared, sequential=len(rest) > 1 or bool(rest[0].loops))


def _data_variable(name: str, decl: Piece, rest: list[Piece], sink: DiagnosticSink) -> Variable | None:
    stmt: ast.DataDecl = decl.stmt
    for piece in rest:
        if isinstance(piece.stmt, ast.Assign):
            sink.error("E0203", f"'{name}' is data and cannot be assigned", piece.stmt.span,
                       notes=(Note("declared as data here", stmt.span),),
                       hint=f"observe it with '{name} ~ ...', or give the data declaration a default")
            return None
        if not isinstance(piece.stmt, ast.Sample):
            _duplicate(name, piece, decl, sink)
            return None
        if piece.stmt.type is not None:
            sink.error("E0207", f"'{name}' already has a type from its data declaration", piece.stmt.type.span,
                       notes=(Note("declared here", stmt.span),), hint=f"write '{pretty_target(piece.target)} ~ ...'")
            return None
    if _defined_twice(rest):
        _duplicate(name, rest[1], rest[0], sink)
        return None
    if not rest:
        return Variable(name, Kind.DATA, (decl,), type=stmt.type, decl=stmt)
    return Variable(name, Kind.OBSERVED, tuple(rest), type=stmt.type, decl=stmt,
                    sequential=len(rest) > 1 or bool(rest[0].loops))


def _defined_twice(pieces: list[Piece]) -> bool:
    """Several definitions that are not the pieces of one array around a `for` loop: none
    in a loop, or one of them defines the whole array."""
    if len(pieces) < 2:
        return False
    whole = any(p.target is not None and not p.target.indices for p in pieces)
    return whole or not any(p.loops for p in pieces)


def _stmt_kind(stmt: ast.Stmt) -> Kind:
    if isinstance(stmt, _STOCHASTIC):
        return Kind.LATENT
    return Kind.DETERMINISTIC if isinstance(stmt, ast.Assign) else Kind.FACTOR


def _duplicate(name: str, again: Piece, first: Piece, sink: DiagnosticSink) -> None:
    sink.error("E0202", f"'{name}' is defined more than once", _name_span(again.stmt),
               notes=(Note("first defined here", _name_span(first.stmt)),),
               hint="every name is defined exactly once; arrays piecewise only around a 'for' loop")


def _name_span(stmt: ast.Stmt):
    target = getattr(stmt, "target", None)
    return (target.name.span if target is not None else stmt.name.span) or stmt.span


def pretty_target(target: ast.Target) -> str:
    if not target.indices:
        return target.name.id
    return f"{target.name.id}[{', '.join(pretty_expr(i) for i in target.indices)}]"


def _check_targets(variable: Variable, sink: DiagnosticSink) -> None:
    """Each piece is indexed by its frames' indices, outer first; only pieces of an
    array built around a `for` loop may also use constant indices (``x[0]``)."""
    for piece in variable.pieces:
        target = piece.target
        if target is None:
            continue
        expected = [f.index for f in piece.frames]
        written = [_frame_index(i, piece.frames) for i in target.indices]
        used = [w for w in written if w is not None]
        constants = len(written) - len(used)
        if used == expected and (constants == 0 or variable.sequential):
            continue
        if used == expected:
            names = [i.id for i in target.indices if isinstance(i, ast.Name)]
            if names:
                sink.error("E0407", f"'{names[0]}' in '{pretty_target(target)}' is no index of an enclosing "
                           "plate or loop", target.span,
                           hint=f"to define one element per {names[0]}, put the statement inside "
                                f"'plate {names[0]} in SIZE {{ ... }}'")
            else:
                sink.error("E0407", f"'{pretty_target(target)}' defines single elements outside any loop",
                           target.span, hint="define an array element by element only around a 'for' loop, "
                           "e.g. x[0] ~ ... and for t in 1..T { x[t] ~ ... }")
            continue
        wanted = f"{variable.name}[{', '.join(expected)}]" if expected else variable.name
        where = ", ".join(f"{f.keyword} '{f.index}'" for f in piece.frames)
        message = (f"'{variable.name}' is defined inside {where}, so it must be written '{wanted}'"
                   if expected else f"'{pretty_target(target)}' is indexed by a name that is no enclosing index")
        code = "E0407" if piece.loops else "E0401"
        sink.error(code, message, target.span,
                   hint="index a definition by the indices of its plates and loops, outer first"
                        + (" (a loop index may be shifted by a constant: x[t + 1])" if piece.loops else ""))


def _frame_index(index: ast.Expr, frames: tuple[Frame, ...]) -> str | None:
    """The frame an index expression of a target stands for (``j``, or ``t ± constant`` in a loop)."""
    for frame in frames:
        offset = step_offset(index, frame.index)
        if offset == 0 or (offset is not None and frame.sequential):
            return frame.index
    if any(isinstance(n, ast.Name) and n.id in {f.index for f in frames} for n in ast.walk(index)):
        return "?"  # reads a frame index in some other way: never a valid target index
    return None
