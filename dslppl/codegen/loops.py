"""Sequential `for` loops: which arrays they build, and code that builds them.

The arrays one loop defines (with their pieces outside it, ``x[0] = ...``)
form one *unit* of the program. Within a unit:

- deterministic arrays are built step by step: an unrolled Python loop over
  the loop's range (their recursion, ``nu[t] = ... err[t - 1]``, needs it),
  after which they are complete tensors;
- observed arrays and factors then need no loop at all: every value they read
  is known, so each piece is vectorized over the loop's range like a plate;
- a latent array is one site, drawn step by step when sampled and scored all
  at once given its values (`Chain`).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..check.model import Kind, Piece, Variable
from ..check.steps import step_offset
from ..diagnostics import InternalError
from ..library import DISTRIBUTIONS
from ..syntax import ast
from ..syntax.pretty import pretty_expr
from .sites import is_truncated
from .symbols import Context
from .values import target_read

if TYPE_CHECKING:
    from ..lower import Unit
    from .program import ProgramWriter


class LoopWriter:
    """Emits one loop unit through its `ProgramWriter`."""

    def __init__(self, writer: "ProgramWriter"):
        self.writer = writer
        self._sizes: dict[str, str] = {}  # array -> code of its length

    def write(self, unit: "Unit") -> None:
        ordered = list(unit.variables)  # in same-step dependency order
        self.writer.enter(Context())  # a loop is written outside every plate
        simulated = self.writer.simulated
        built = [v for v in ordered if v.kind is Kind.DETERMINISTIC]
        drawn = [v for v in ordered if v.kind is Kind.LATENT or (v.kind is Kind.OBSERVED and v.name in simulated)]
        if len(drawn) > 1:
            self._unsupported(drawn[1], "one 'for' loop can build only one latent array")
        for variable in ordered:  # observed values first: any step may read them
            if variable.kind is Kind.OBSERVED and variable not in drawn:
                self.writer.observed_data(variable)
        enumeration = self.writer.enumeration
        if drawn and enumeration is not None and drawn[0].name in enumeration.found:
            self._enumerated_chain(drawn[0], ordered, built)
            return
        score: list[str] = []
        if drawn:
            score = self._chain(drawn[0], [v for v in ordered if v in built or v in drawn])
        if built:
            self._unrolled(built)
        for line in score:  # a drawn array's log-density may read the arrays built beside it
            self.writer.out.potential.add(1, line)
        for variable in ordered:
            if variable not in built and variable not in drawn:
                self._vectorized(variable)

    def _enumerated_chain(self, chain: Variable, ordered: list[Variable], built: list[Variable]) -> None:
        """A discrete latent chain: its statements (and those of its loop reading it) become
        factors of the forward algorithm; the rest of the loop is written as usual."""
        writer = self.writer
        loop = self._single_loop([chain])
        writer.enumeration.add_chain(chain, writer.emit, self._array_size(chain, loop))
        if built:
            self._unrolled(built)
        for variable in ordered:
            if variable in built:
                continue
            if writer.enumeration.chain_of(variable):
                for piece in variable.pieces:
                    writer.chain_piece(variable, piece)
            else:
                self._vectorized(variable)

    @staticmethod
    def _unsupported(variable: Variable, message: str) -> None:
        raise InternalError(f"{message}: '{variable.name}' (check and binding accepted it)")

    # --- vectorized pieces -------------------------------------------------------------
    def _vectorized(self, variable: Variable) -> None:
        """Each piece of an observed array or factor, as if its loop were a plate."""
        writer = self.writer
        enumeration = writer.enumeration
        if enumeration is not None and enumeration.scope.get(variable.name):  # reads a summed-out latent
            for piece in variable.pieces:
                writer.enumerated_statement(variable, piece)
            return
        for piece in variable.pieces:
            label = variable.name if len(variable.pieces) == 1 else _piece_label(piece)
            if variable.kind is Kind.OBSERVED:
                writer.observed_piece(variable, piece, label)
            elif variable.kind is Kind.FACTOR:
                writer.factor_piece(variable, piece, label)
            else:
                self._unsupported(variable, f"'{variable.name}' cannot be defined in a 'for' loop")

    # --- latent arrays ---------------------------------------------------------------------
    def _chain(self, variable: Variable, members: list[Variable]) -> list[str]:
        """One site for the whole array: drawn step by step (with the deterministic arrays
        of its loop), scored all at once given its values. Returns potential's score lines."""
        writer = self.writer
        symbols = writer.symbols
        loop = self._single_loop(members)
        py = symbols.names[variable.name]
        draw, score = symbols.fresh("g"), symbols.fresh("g")
        discrete = DISTRIBUTIONS[variable.dist.func.id].discrete  # drawn for prior simulation only
        support = None if discrete else writer.support(variable)
        bounds = None if discrete else writer.bounds(support, Context())
        # drawing: an unrolled loop over Python lists of elements
        lists = self._start_lists(members)
        step_of = {v.name: (lambda piece, ctx, v=v: self._draw_step(v, piece, ctx, support, bounds))
                   if v is variable else (lambda piece, ctx, v=v: self._assign(v, piece, ctx)) for v in members}
        lines = [f"def {draw}():"] + ["    " + line for line in self._loop_lines(members, loop, lists, step_of)]
        lines.append(f"    return _rt.stack_pieces({lists[variable.name]}, {variable.name!r})")
        self._end_lists(members)
        # scoring: the deterministic arrays rebuilt from the given array, then every piece vectorized
        built = [v for v in members if v is not variable]
        rebuild = self._rebuild_lines(built, loop) if built else []
        terms = []
        for piece in variable.pieces:
            ctx = writer.context(piece.frames)
            dist = writer.distribution(variable, piece, ctx)
            value = writer.emit.value(target_read(piece), ctx)
            terms.append(f"{dist.code}.log_prob({value.code}).sum()")
        temporaries = writer.emit.take_pending()
        lines += [f"def {score}({py}):"] + [f"    {line}" for line in rebuild + temporaries]
        lines.append(f"    return {' + '.join(terms)}")
        for line in lines:
            writer.out.model.add(1, line)
        size = self._array_size(variable, loop)
        element = "_rt.constraints.nonnegative_integer" if discrete else writer.constraint(support, bounds)
        site = f"_rt.Chain({draw}, {score}, {element}, _rt.shape({size}), {variable.rank})"
        writer.out.model.add(1, f"{py} = sample({variable.name!r}, {site})")
        if not discrete:
            writer.read_latent(variable, support, bounds, Context())
        return temporaries + [f"_lp = _lp + {' + '.join(terms)}"]

    def _start_lists(self, members: list[Variable]) -> dict[str, str]:
        """A Python list per array, read element by element while the loop runs."""
        lists = {v.name: self.writer.symbols.fresh("l") for v in members}
        for variable in members:
            self.writer.symbols.get(variable.name).sequence = lists[variable.name]
        return lists

    def _end_lists(self, members: list[Variable]) -> None:
        for variable in members:
            self.writer.symbols.get(variable.name).sequence = None

    def _loop_lines(self, members: list[Variable], loop, lists: dict[str, str], step_of) -> list[str]:
        """The lists, the pieces before the loop, then the loop over the others, in step order."""
        writer = self.writer
        lines = [f"{lists[v.name]} = [None] * {self._array_size(v, loop)}" for v in members]
        for variable in members:
            for piece in variable.pieces:
                if not piece.loops:
                    lines += step_of[variable.name](piece, Context())
        step = writer.symbols.fresh("t")
        lo, hi = self._range(loop)
        lines.append(f"for {step} in range({lo}, {hi}):")
        ctx = Context((), ((loop.index, step),))
        for variable in members:
            for piece in variable.pieces:
                if piece.loops:
                    lines += ["    " + line for line in step_of[variable.name](piece, ctx)]
        return lines

    def _draw_step(self, variable: Variable, piece: Piece, ctx: Context, support, bounds) -> list[str]:
        """One element drawn: ``x[t] = <its distribution>.sample()``, after any temporaries."""
        emit = self.writer.emit
        target = self._element(variable, piece, ctx)
        dist = self._piece_distribution(variable, piece, ctx, support, bounds)
        return emit.take_pending() + [f"{target} = {dist}.sample()"]

    def _piece_distribution(self, variable: Variable, piece: Piece, ctx: Context, support, bounds) -> str:
        code = self.writer.distribution(variable, piece, ctx).code
        if is_truncated(variable):
            code = f"_rt.Truncated({code}, {self.writer.constraint(support, bounds)})"
        return code

    def _single_loop(self, variables: list[Variable]):
        loops = {(f.index, id(f.span)): f for v in variables for p in v.pieces for f in p.loops}
        if len(loops) != 1 or any(p.plates for v in variables for p in v.pieces):
            self._unsupported(variables[0], "an array must be built by one 'for' loop outside any plate")
        return next(iter(loops.values()))

    # --- unrolled deterministic arrays ---------------------------------------------------
    def _unrolled(self, built: list[Variable]) -> None:
        """Deterministic arrays computed step by step, then recorded as sites."""
        writer = self.writer
        loop = self._single_loop(built)
        for line in self._rebuild_lines(built, loop):
            writer.out.model.add(1, line)
            writer.out.potential.add(1, line)
        for variable in built:
            py = writer.symbols.names[variable.name]
            writer.out.model.add(1, f"{py} = deterministic({variable.name!r}, {py})")
            writer.out.deterministic.append(variable.name)

    def _rebuild_lines(self, built: list[Variable], loop) -> list[str]:
        """Lines computing deterministic arrays into their Python names (no sites)."""
        lists = self._start_lists(built)
        step_of = {v.name: (lambda piece, ctx, v=v: self._assign(v, piece, ctx)) for v in built}
        lines = self._loop_lines(built, loop, lists, step_of)
        self._end_lists(built)
        names = self.writer.symbols.names
        return lines + [f"{names[v.name]} = _rt.stack_pieces({lists[v.name]}, {v.name!r})" for v in built]

    def _element(self, variable: Variable, piece: Piece, ctx: Context) -> str:
        emit = self.writer.emit
        return f"{emit.symbols.get(variable.name).sequence}[{emit.index(piece.target.indices[0], ctx).code}]"

    def _assign(self, variable: Variable, piece: Piece, ctx: Context) -> list[str]:
        emit = self.writer.emit
        target = self._element(variable, piece, ctx)
        value = emit.value(piece.stmt.value, ctx)
        value = emit.hoisted(value, ctx, tensor=True) if value.data_only else value
        return emit.take_pending() + [f"{target} = {value.code}"]

    def _range(self, loop) -> tuple[str, str]:
        """The loop's first and past-the-end index: ints computed once, at bind time."""
        emit, symbols = self.writer.emit, self.writer.symbols
        lo = emit.index(loop.domain.lo, Context()).code if loop.domain.lo is not None else "0"
        hi = emit.index(loop.domain.hi, Context()).code
        return symbols.hoist(f"_rt.size({lo})", "n"), symbols.hoist(f"_rt.size({hi})", "n")

    def _array_size(self, variable: Variable, loop) -> str:
        """The array's length, one past the largest index any piece defines; checks at
        bind time that the pieces cover every element exactly once."""
        if variable.name in self._sizes:
            return self._sizes[variable.name]
        emit = self.writer.emit
        ranges = []
        for piece in variable.pieces:
            first = piece.target.indices[0]
            if piece.loops:
                lo, hi = self._range(loop)
                shift = step_offset(first, loop.index) or 0
                ranges.append((f"{lo} + {shift}", f"{hi} + {shift}"))
            else:
                start = f"_rt.size({emit.index(first, Context()).code})"
                ranges.append((start, f"{start} + 1"))
        stops = [stop for _, stop in ranges]
        size = self.writer.symbols.hoist(f"max({', '.join(stops)})" if len(stops) > 1 else stops[0], "n")
        pieces = ", ".join(f"({start}, {stop})" for start, stop in ranges)
        self.writer.symbols.add_prelude(f"_rt.check_cover({variable.name!r}, {size}, [{pieces}])")
        self._sizes[variable.name] = size
        return size


def _piece_label(piece: Piece) -> str:
    """A site name for one piece of an array: ``y[0]``, ``y[1..T]``."""
    domains = {f.index: f.domain for f in piece.frames}
    parts = []
    for index in piece.target.indices:
        if isinstance(index, ast.Name) and index.id in domains:
            domain = domains[index.id]
            lo = pretty_expr(domain.lo) if domain.lo is not None else "0"
            parts.append(f"{lo}..{pretty_expr(domain.hi)}")
        else:
            parts.append(pretty_expr(index))
    return f"{piece.target.name.id}[{', '.join(parts)}]"
