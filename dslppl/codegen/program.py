"""Statements to the three generated functions, in dependency order.

For each variable, in a topological order of the model graph (`for` loops as
one unit), the writer emits:

- into ``model()``: the sample-site program (``sample``, ``plate``,
  ``deterministic``, ``factor``, ``param``);
- into ``potential(_u)``: the same log joint, read off one flat unconstrained
  vector, plus the log-Jacobian of each latent's transform — no handlers;
- into ``constrain(_u)``: the latents' values from the flat vector.

Data-only work goes to the bind-time prelude (see `Symbols`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..check.model import CheckedModel, Frame, Kind, Piece, Variable
from ..diagnostics import InternalError
from ..library import DISTRIBUTIONS
from ..syntax import ast
from .enumerate import Enumeration
from .loops import LoopWriter
from .sites import Support, UnsupportedLatent, constraint_code, is_truncated, support_of, transform_lines
from .symbols import Axis, Context, Symbol, Symbols
from .values import Emitter, Val, target_read


@dataclass
class Lines:
    """Indented lines of one generated function, each with the statement it comes from."""

    lines: list[str] = field(default_factory=list)
    spans: list = field(default_factory=list)
    current_span: object = None

    def add(self, depth: int, text: str) -> None:
        self.lines.append("    " * depth + text)
        self.spans.append(self.current_span)


@dataclass
class Output:
    model: Lines = field(default_factory=Lines)
    potential: Lines = field(default_factory=Lines)
    constrain: Lines = field(default_factory=Lines)
    latents: list[str] = field(default_factory=list)        # flat-vector order
    deterministic: list[str] = field(default_factory=list)
    observed: list[str] = field(default_factory=list)
    params: list[str] = field(default_factory=list)
    simulated: list[str] = field(default_factory=list)
    batches: list[str] = field(default_factory=list)      # minibatch draws at the top of potential
    dynamic: list[str] = field(default_factory=list)      # latents whose bounds read other latents
    scalars: set[str] = field(default_factory=set)        # latents that are one number
    enumerated: bool = False                               # factors over summed-out latents (`_ef`)


@dataclass(frozen=True)
class Bounds:
    """The emitted lower and upper bounds of a support (None where absent)."""

    lower: Val | None = None
    upper: Val | None = None

    @property
    def codes(self) -> tuple[str | None, str | None]:
        return (self.lower.code if self.lower else None, self.upper.code if self.upper else None)

    @property
    def data_only(self) -> bool:
        return all(b is None or b.data_only for b in (self.lower, self.upper))


class ProgramWriter:
    """Writes the statements of one checked model (see the module docstring)."""

    def __init__(self, checked: CheckedModel, symbols: Symbols, simulated: frozenset[str],
                 subsampled: frozenset[str], enumeration: Enumeration | None = None):
        self.checked = checked
        self.enumeration = enumeration  # None: discrete latents are drawn (prior simulation)
        self.symbols = symbols
        self.simulated = simulated
        self.subsampled = subsampled
        self.emit = Emitter(symbols)
        self.out = Output()
        self._axes: dict[tuple, Axis] = {}
        self._open: list[tuple[Axis, int]] = []  # plates open in model(), with their dims
        self._drawn: set[str] = set()  # subsampled plates whose minibatch model() has drawn
        self.loops = LoopWriter(self)

    # --- axes ----------------------------------------------------------------------
    def axis(self, frame: Frame) -> Axis:
        """The axis of a plate (one per plate name) or vectorized loop (one per loop)."""
        key = (frame.index, frame.span) if frame.sequential else frame.index
        if key not in self._axes:
            batch = None
            if not frame.sequential and frame.index in self.subsampled:
                batch = self.symbols.fresh("s")
            tag = f"loop:{frame.index}:{id(frame.span)}" if frame.sequential else frame.index
            axis = self.emit.domain_axis(frame.index, tag, frame.domain, Context())
            if batch is not None:
                full = axis.size
                size = self.symbols.hoist(f"_rt.batch_size({frame.index!r}, {full})", "n")
                scale = self.symbols.hoist(f"{full} / {size}", "k")
                axis = Axis(axis.name, axis.key, size, axis.lo, batch, full, scale)
                self.out.batches.append(f"{batch} = _rt.random_subsample({full}, {size})")
            self._axes[key] = axis
        return self._axes[key]

    def context(self, frames: tuple[Frame, ...]) -> Context:
        return Context(tuple(self.axis(f) for f in frames))

    def sizes(self, ctx: Context) -> str:
        return "(" + "".join(f"{a.size}, " for a in ctx.axes) + ")"

    def scale(self, ctx: Context) -> str:
        factors = [a.scale for a in ctx.axes if a.per_call]
        return " * ".join(factors)

    # --- symbols ----------------------------------------------------------------------
    def declare(self, variable: Variable) -> None:
        """Record how generated code reads ``variable``."""
        py = self.symbols.names[variable.name]
        kind = variable.kind
        known = kind in (Kind.DATA, Kind.OBSERVED) and variable.name not in self.simulated
        plates = () if known or variable.sequential else tuple(f for f in variable.frames if not f.sequential)
        axes = tuple(self.axis(f) for f in plates)
        offsets = tuple(a.lo if a.lo != "0" else None for a in axes)
        # A loop-built array is computed where its loop is written (not in the prelude), and may
        # read latents at earlier steps: never data-only.
        data_only = known or (kind is Kind.DETERMINISTIC and not variable.sequential and all(
            self.symbols.get(p).data_only for p in variable.parents if p in self.symbols.symbols))
        full_rank = self.symbols.ranks.full(variable.name)
        enums = ()
        if self.enumeration is not None and variable.name in self.enumeration.found:
            plates, axes, offsets, data_only = (), (), (), True  # read through its enum axis
        elif self.enumeration is not None and kind is Kind.DETERMINISTIC:
            enums = tuple(f"#{n}" for n in self.enumeration.scope.get(variable.name, ()))
        self.symbols.symbols[variable.name] = Symbol(
            variable.name, py, kind, tuple(f.index for f in plates), tuple(a.key for a in axes),
            full_rank, data_only, offsets, enums=enums)

    # --- plates in model() ----------------------------------------------------------
    def enter(self, ctx: Context) -> int:
        """Open/close ``with plate(...)`` blocks so that exactly ``ctx``'s plates are open,
        then write the temporaries the statement's expressions need; returns the depth."""
        depth = self._open_plates(ctx)
        for line in self.emit.take_pending():
            self.out.model.add(depth, line)
            self.out.potential.add(1, line)
        return depth

    def _open_plates(self, ctx: Context) -> int:
        width = len(ctx.axes)
        # Outer plates take the leftmost dims, so a plate's dim depends on how many are open:
        # a block reopens any plate whose dim changes.
        wanted = [(axis, position - width) for position, axis in enumerate(ctx.axes)]
        common = 0
        while common < min(len(wanted), len(self._open)) and wanted[common] == self._open[common]:
            common += 1
        del self._open[common:]
        for position in range(common, width):
            axis, dim = wanted[position]
            depth = 1 + position
            if axis.per_call and axis.name not in self._drawn:
                # The first block of a subsampled plate draws the minibatch (or takes a
                # replayed one); later blocks of the same plate reuse it.
                self._drawn.add(axis.name)
                self.out.model.add(depth, f"with plate({axis.name!r}, {axis.full}, subsample_size={axis.size}, "
                                          f"dim={dim}) as {axis.batch}:")
            elif axis.per_call:
                self.out.model.add(depth, f"with plate({axis.name!r}, {axis.full}, subsample={axis.batch}, "
                                          f"dim={dim}):")
            else:
                self.out.model.add(depth, f"with plate({axis.name!r}, {axis.size}, dim={dim}):")
            self._open.append((axis, dim))
        return 1 + width

    # --- statements -------------------------------------------------------------------
    def locate(self, span) -> None:
        """Attribute the lines written next to the statement at ``span`` (for error messages)."""
        self.symbols.current_span = span
        for lines in (self.out.model, self.out.potential, self.out.constrain):
            lines.current_span = span

    def write(self, variable: Variable) -> None:
        if self.enumeration is not None and self.enumeration.chain_of(variable):
            if variable.kind is Kind.OBSERVED:
                self.observed_data(variable)
            for piece in variable.pieces:
                self.chain_piece(variable, piece)
            return
        if self.enumeration is not None and self.enumeration.scope.get(variable.name):
            self.enumerated_statement(variable)
            return
        handler = {
            Kind.DATA: self._data,
            Kind.LATENT: self._latent,
            Kind.OBSERVED: self._observed,
            Kind.DETERMINISTIC: self._deterministic,
            Kind.FACTOR: self._factor,
            Kind.PARAM: self._param,
        }[variable.kind]
        handler(variable)

    def _data(self, variable: Variable) -> None:
        decl = variable.decl
        py = self.symbols.names[variable.name]
        if decl.default is None:
            self.symbols.add_prelude(f"{py} = _in[{variable.name!r}]")
            return
        default = self.emit.value(decl.default, Context())
        self.symbols.add_prelude(
            f"{py} = _in[{variable.name!r}] if {variable.name!r} in _in else "
            f"_rt.tensor({default.code})")

    def _observed(self, variable: Variable) -> None:
        if variable.name in self.simulated:
            self.out.simulated.append(variable.name)
            self._latent(variable)
            return
        self.observed_data(variable)
        self.observed_piece(variable, variable.piece, variable.name)

    def observed_data(self, variable: Variable) -> None:
        """Bind an observed variable's data (once, however many pieces observe it)."""
        self._data(variable)
        self.out.observed.append(variable.name)

    def observed_piece(self, variable: Variable, piece: Piece, site: str) -> None:
        """One observation statement: a sample site with ``obs=`` and its log-density."""
        ctx = self.context(piece.frames)
        dist = self.distribution(variable, piece, ctx)
        obs = self.emit.hoisted(self.emit.value(target_read(piece), ctx), ctx)
        depth = self.enter(ctx)
        self.out.model.add(depth, f"sample({site!r}, {self._site(variable, dist, ctx)}, obs={obs.code})")
        self._add_log_prob(dist, obs, ctx)

    def distribution(self, variable: Variable, piece: Piece, ctx: Context) -> Val:
        dist = piece.stmt.dist
        return self.emit.distribution(dist, ctx, variable.rank - DISTRIBUTIONS[dist.func.id].event_rank)

    def _latent(self, variable: Variable) -> None:
        piece = variable.piece
        ctx = self.context(piece.frames)
        py = self.symbols.names[variable.name]
        flat = isinstance(piece.stmt, ast.Declare)
        dist = None if flat else self.distribution(variable, piece, ctx)
        if variable.dist is not None and DISTRIBUTIONS[variable.dist.func.id].discrete:  # drawn, not fitted
            site = self._site(variable, dist, ctx)
            if variable.kind is Kind.LATENT and variable.type is not None:  # int<lower=A, upper=B>: truncated
                bounds = [self.emit.hoisted(self.emit.value(b.value, ctx), ctx, tensor=True).code
                          for b in sorted(variable.type.bounds, key=lambda b: b.name.id)]
                site = f"_rt.Truncated({site}, _rt.constraints.integer_interval({bounds[0]}, {bounds[1]}))"
            depth = self.enter(ctx)
            self.out.model.add(depth, f"{py} = sample({variable.name!r}, {site})")
            return
        support = self.support(variable)
        bounds = self.bounds(support, ctx)
        depth = self.enter(ctx)
        site = self._site(variable, dist, ctx, support, bounds)
        self.out.model.add(depth, f"{py} = sample({variable.name!r}, {site})")
        if variable.name in self.simulated:
            return
        self.read_latent(variable, support, bounds, ctx)
        if not bounds.data_only:
            self.out.dynamic.append(variable.name)
        if dist is not None:
            value = Val(py, dist.axes, variable.rank, data_only=False)
            self._add_log_prob(dist, value, ctx, scalar=self.symbols.ranks.full(variable.name) == 0)

    def support(self, variable: Variable) -> Support:
        try:
            return support_of(variable)
        except UnsupportedLatent:
            raise InternalError(f"'{variable.name}' has no continuous support (check accepted it)") from None

    def bounds(self, support: Support, ctx: Context) -> Bounds:
        vals = [None if b is None else self.emit.hoisted(self.emit.value(b, ctx), ctx, tensor=True)
                for b in (support.lower, support.upper)]
        return Bounds(*vals)

    def constraint(self, support: Support, bounds: "Bounds") -> str:
        """Code for the torch constraint of a support (hoisted when its bounds are data)."""
        code = constraint_code(support, bounds.codes)
        return self.symbols.hoist(code, "c") if bounds.data_only else code

    def _site(self, variable: Variable, dist: Val | None, ctx: Context, support: Support | None = None,
              bounds: "Bounds | None" = None) -> str:
        """The distribution object a site carries in model(): truncated or flat where the
        type says so, expanded over the plates, own dimensions made event dimensions."""
        bounds = bounds or Bounds()
        elem_shape = self._element_shape(variable)
        if dist is None:
            code = f"_rt.flat({self.constraint(support, bounds)}, {self.sizes(ctx)} + {elem_shape}, " \
                   f"{variable.rank})"
        else:
            spec = DISTRIBUTIONS[variable.dist.func.id]
            code = f"_rt.site({dist.code}, {self.sizes(ctx)}, {elem_shape}, {variable.rank - spec.event_rank})"
            if support is not None and is_truncated(variable):
                code = f"_rt.Truncated({code}, {self.constraint(support, bounds)})"
        static = (dist is None or dist.data_only) and bounds.data_only and not any(a.per_call for a in ctx.axes)
        return self.symbols.hoist(code, "d") if static else code

    def _element_shape(self, variable: Variable) -> str:
        """Code for the declared shape of one element (a tuple), or None to take it from the arguments."""
        type_ = variable.type
        if type_ is None:
            return "()" if variable.kind is Kind.LATENT and variable.rank == 0 else "None"
        shape = type_.shape[variable.dims:] if variable.kind in (Kind.DATA, Kind.OBSERVED) else type_.shape
        codes = [self.emit.index(s, Context()).code for s in shape]
        return self.symbols.hoist(f"_rt.shape({', '.join(codes)})", "z") if codes else "()"

    def read_latent(self, variable: Variable, support: Support, bounds, ctx: Context) -> None:
        """potential/constrain: the latent's block of the flat vector, transformed."""
        if any(a.per_call for a in ctx.axes):
            raise InternalError(f"'{variable.name}' is a latent inside a subsampled plate (binding accepted it)")
        py = self.symbols.names[variable.name]
        self.out.latents.append(variable.name)
        # Blocks and shapes come from one bind-time tuple each (`_B`, `_S`): a closure cell per
        # latent would make Python's compiler quadratic in the number of latents.
        position = len(self.out.latents) - 1
        block, shape = f"_B[{position}]", f"_S[{position}]"
        untransformed = support.kind == "real"  # read straight into the variable
        raw = py if untransformed else self.symbols.fresh("x")
        bijection = None
        if support.structured:
            bijection = self.symbols.hoist(f"_rt.biject_to({constraint_code(support, bounds.codes)})", "t")
        # The fewest ops on the hot path: a scalar is one element, a vector one slice.
        rank = self.symbols.ranks.full(variable.name) - (support.kind in ("corr_cholesky", "cov"))
        lines, jacobian = transform_lines(support, raw, py, bounds.codes, bijection, scalar=rank == 0)
        if rank == 0:
            self.out.scalars.add(variable.name)
        read = f"_u[{block}]" if rank <= 1 else f"_u[{block}].view({shape})"
        for target in (self.out.potential, self.out.constrain):
            target.add(1, f"{raw} = {read}")
            for line in ([] if untransformed else lines):
                target.add(1, line)
        if jacobian:
            self.out.potential.add(1, f"_lp = _lp + {jacobian}")

    def _add_log_prob(self, dist: Val, value: Val, ctx: Context, scalar: bool = False) -> None:
        term = f"{dist.code}.log_prob({value.code})" + ("" if scalar else ".sum()")
        scale = self.scale(ctx)
        if dist.data_only and value.data_only and not scale:  # a constant: computed once
            term = self.symbols.hoist(term)
        self.out.potential.add(1, f"_lp = _lp + {term}" + (f" * {scale}" if scale else ""))

    def _deterministic(self, variable: Variable) -> None:
        ctx = self.context(variable.piece.frames)
        py = self.symbols.names[variable.name]
        # a site's value is a tensor, and a comparison's is stored as 0/1 (booleans count as numbers)
        val = self.emit.numeric(self.emit.tensor(self.emit.value(variable.value, ctx)))
        code = self._fill(val, ctx)
        symbol = self.symbols.get(variable.name)
        if symbol.data_only:
            self.symbols.add_prelude(f"{py} = {code}")
            depth = self.enter(ctx)
            self.out.model.add(depth, f"deterministic({variable.name!r}, {py})")
            return
        depth = self.enter(ctx)
        self.out.model.add(depth, f"{py} = deterministic({variable.name!r}, {code})")
        self.out.potential.add(1, f"{py} = {code}")
        self.out.deterministic.append(variable.name)

    def _fill(self, val: Val, ctx: Context) -> str:
        """Expand a value to every axis of its context (a deterministic defined in plates is a full array)."""
        missing = {a.name for a in ctx.axes} - val.axes
        if not ctx.axes or not missing:
            return val.code
        return f"_rt.fill({val.code}, {self.sizes(ctx)}, {len(ctx.axes) if val.plated else 0})"

    def _factor(self, variable: Variable) -> None:
        self.factor_piece(variable, variable.piece, variable.name)

    def factor_piece(self, variable: Variable, piece: Piece, site: str) -> None:
        """A log-density term: summed over its own dimensions, one per element of its plates."""
        ctx = self.context(piece.frames)
        val = self.emit.value(piece.stmt.value, ctx)
        val = self.emit.hoisted(val, ctx) if not val.data_only else val
        summed = val.code if val.rank == 0 else f"{val.code}.sum({tuple(range(-val.rank, 0))})"
        depth = self.enter(ctx)
        self.out.model.add(depth, f"factor({site!r}, {summed})")
        total = self._fill(Val(summed, val.axes, 0, val.data_only), ctx)
        term = total if not ctx.axes else f"({total}).sum()"  # one number already, outside plates
        scale = self.scale(ctx)
        self.out.potential.add(1, f"_lp = _lp + {term}" + (f" * {scale}" if scale else ""))

    # --- statements over summed-out discrete latents (see `enumerate`) ----------------------
    def enumerated_statement(self, variable: Variable, piece: Piece | None = None) -> None:
        """A statement over summed-out latents (``piece``: one piece of a loop's observed array)."""
        enumeration = self.enumeration
        piece = piece or variable.piece
        if variable.name in enumeration.found:
            enumeration.add(variable, self.emit, self.axis)
        base = self.context(piece.frames)
        ctx = enumeration.context(base, enumeration.scope[variable.name])
        if variable.kind is Kind.DETERMINISTIC:
            self._enum_deterministic(variable, ctx)
            return
        if variable.kind is Kind.FACTOR:
            val = self.emit.value(piece.stmt.value, ctx)
            self._enum_factor(val.code, val.rank, val.data_only, ctx)
            return
        if variable.dist is None:  # a flat int<lower=A, upper=B>: every value weighs 1
            self._enum_factor("_rt.zero", 0, True, ctx)
            return
        dist = self.distribution(variable, piece, ctx)
        if variable.name in enumeration.found:
            value = self.emit.value(ast.Name(variable.name, span=variable.span), ctx)
        elif variable.kind is Kind.OBSERVED:
            if not variable.sequential:  # a loop's observed array is bound with its loop
                self.observed_data(variable)
            value = self.emit.value(target_read(piece), ctx)
        else:
            value = self._enum_continuous(variable, base, ctx)
        code = dist.code
        if variable.kind is Kind.LATENT and variable.name not in enumeration.found and is_truncated(variable):
            support = self.support(variable)
            code = f"_rt.Truncated({code}, {self.constraint(support, self.bounds(support, base))})"
        own = variable.rank - DISTRIBUTIONS[piece.stmt.dist.func.id].event_rank
        term = f"_rt.enum_log_prob({code}, {self._value_for(value, dist, ctx)})"
        self._enum_factor(term, own, dist.data_only and value.data_only, ctx)

    def _value_for(self, value: Val, dist: Val, ctx: Context) -> str:
        """A value laid out for its distribution's log_prob (own dimensions after the axes)."""
        return self.emit.pad(value, dist.rank, ctx) if value.plated else value.code

    def _enum_continuous(self, variable: Variable, base: Context, ctx: Context) -> Val:
        """A continuous latent whose prior reads a summed-out variable: a flat site in model()
        (its density is part of the enumerated factor), read off the flat vector as usual."""
        py = self.symbols.names[variable.name]
        support = self.support(variable)
        bounds = self.bounds(support, base)
        depth = self.enter(base)
        self.out.model.add(depth, f"{py} = sample({variable.name!r}, {self._site(variable, None, base, support, bounds)})")
        self.read_latent(variable, support, bounds, base)
        if not base.axes:
            return Val(py, frozenset(), variable.rank, data_only=False)
        parts = [":" if i < len(base.axes) else "None" for i in range(len(ctx.axes))]
        return Val(f"{py}[{', '.join(parts)}]", frozenset(a.name for a in base.axes), variable.rank, data_only=False)

    def chain_piece(self, variable: Variable, piece: Piece) -> None:
        """A statement reading a chain at one or two neighbouring steps: a factor over (time,
        previous, current) given to the chain's forward algorithm (see `chains`)."""
        chain = self.enumeration.chains[self.enumeration.chain_of(variable)]
        base = self.context(piece.frames)
        ctx, time, start, cur, prev = self.enumeration.chain_context(chain, piece, base)
        if variable.kind is Kind.FACTOR:
            val = self.emit.value(piece.stmt.value, ctx)
            term, own, constant = val.code, val.rank, val.data_only
        else:
            dist = self.distribution(variable, piece, ctx)
            value = self.emit.value(target_read(piece), ctx)
            term = f"_rt.enum_log_prob({dist.code}, {self._value_for(value, dist, ctx)})"
            own = variable.rank - DISTRIBUTIONS[piece.stmt.dist.func.id].event_rank
            constant = dist.data_only and value.data_only
        table = self._enum_table(term, own, constant, ctx)
        dims = tuple(a.key for a in ctx.axes)
        self._write_enumerated(f"_rt.chain_factor({chain.factors}, {table}, {dims!r}, {time!r}, {start}, {cur!r}, "
                               f"{prev!r})")

    def _enum_deterministic(self, variable: Variable, ctx: Context) -> None:
        py = self.symbols.names[variable.name]
        val = self.emit.tensor(self.emit.value(variable.value, ctx))
        code = f"_rt.fill({val.code}, {self.sizes(ctx)}, {len(ctx.axes) if val.plated else 0})"
        if self.symbols.get(variable.name).data_only:
            self.symbols.add_prelude(f"{py} = {code}")
            return
        self.enter(Context())
        self.out.model.add(1, f"{py} = {code}")
        self.out.potential.add(1, f"{py} = {code}")

    def _enum_factor(self, term: str, own: int, constant: bool, ctx: Context) -> None:
        table = self._enum_table(term, own, constant, ctx)
        self._write_enumerated(f"_ef.append(({table}, {tuple(a.key for a in ctx.axes)!r}))")

    def _enum_table(self, term: str, own: int, constant: bool, ctx: Context) -> str:
        """A log-density term as a full table over the context's plates and enum axes (its own
        dimensions summed; computed once when it reads data alone)."""
        if own:
            term = f"{term}.sum({tuple(range(-own, 0))})"
        if constant:
            term = self.symbols.hoist(term)
        return f"_rt.fill({term}, {self.sizes(ctx)}, {len(ctx.axes)})"

    def _write_enumerated(self, line: str) -> None:
        """A line of factor bookkeeping, outside every plate, in model() and potential."""
        self.enter(Context())
        self.out.model.add(1, line)
        self.out.potential.add(1, line)
        self.out.enumerated = True

    def _param(self, variable: Variable) -> None:
        stmt: ast.ParamDecl = variable.piece.stmt
        py = self.symbols.names[variable.name]
        init = self.emit.value(stmt.init, Context())
        shape = [self.emit.index(s, Context()).code for s in stmt.type.shape]
        support = self.support(variable)
        constraint = self.constraint(support, self.bounds(support, Context()))
        # A callable: the initial value is computed once, when the param store creates it.
        init_code = f"lambda: _rt.param_init({init.code}, _rt.shape({', '.join(shape)}))"
        line = f"{py} = param({variable.name!r}, {init_code}, {constraint})"
        self.enter(Context())
        self.out.model.add(1, line)
        self.out.potential.add(1, line)
        self.out.params.append(variable.name)
