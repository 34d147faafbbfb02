"""Expressions to Python source over torch tensors, laid out for plates.

Inside plates (and vectorized loops and comprehensions: *axes*), a value is
either *unplated* — only its own dimensions, its rank — or *plated*: one
leading dimension per axis of the context, outer first (size 1 where it does
not vary), then its own dimensions. Index tensors of the axes are shaped for
that layout, so ``y[n]``, ``a[county[n]]`` and ``y[t - 1 - k]`` are plain
tensor indexing and never a Python loop. Operands of lower rank are padded
with singleton dimensions after the axes, so a per-element scalar meets a
vector the way it would per element.

Every emitted value records which axes it varies over and whether it reads
data alone; data-only parts are hoisted into the bind-time prelude, so they are
computed once when data is bound (Stan's transformed data).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from ..check.model import Kind
from ..diagnostics import InternalError
from ..library import DISTRIBUTIONS, FUNCTIONS, Kind as FnKind
from ..syntax import ast
from .indexing import Indexing
from .symbols import Axis, Context, Symbols, Val

_ARITH = {"+": "+", "-": "-", "*": "*", "/": "/", "%": "%", "^": "**"}
_COMPARE = {"<", "<=", ">", ">=", "==", "!="}
_LOGIC = {"and": "torch.logical_and", "or": "torch.logical_or"}
_CHAIN = 40  # operations per generated expression before a temporary


@dataclass
class Emitter(Indexing):
    """Turns expressions into code in a `Context`; hoists data-only parts into ``symbols.prelude``."""

    symbols: Symbols
    pending: list[str] = field(default_factory=list)

    # --- entry points -----------------------------------------------------------
    def value(self, expr: ast.Expr, ctx: Context) -> Val:
        """Code for ``expr`` used as a value."""
        return self._emit(expr, ctx, index=False)

    def index(self, expr: ast.Expr, ctx: Context) -> Val:
        """Code for ``expr`` used as an index: integer (long) tensors or Python ints."""
        return self._emit(expr, ctx, index=True)

    def hoisted(self, val: Val, ctx: Context, tensor: bool = False) -> Val:
        """Move a data-only value into the bind-time prelude (once per distinct code);
        with ``tensor``, a Python number becomes a tensor of the model's dtype there."""
        if not val.data_only:
            return val
        if val.literal and not tensor:
            return val
        val = self.tensor(val)
        if _is_name(val.code):
            return val
        return replace(val, code=self.symbols.hoist(val.code))

    @staticmethod
    def numeric(val: Val) -> Val:
        """A boolean as 0/1 of the model's dtype, where arithmetic or a distribution meets it."""
        if not val.boolean or val.literal:
            return val
        return Val(f"{val.code}.to(_rt.dtype)", val.axes, val.rank, val.data_only)

    @staticmethod
    def _condition(val: Val) -> Val:
        """A value used as a condition: a boolean as it is, a number compared with 0."""
        return val if val.boolean else Val(f"({val.code} != 0)", val.axes, val.rank, val.data_only, boolean=True)

    @staticmethod
    def tensor(val: Val) -> Val:
        """A Python number as a tensor of the model's dtype (torch functions and
        distributions take tensors; a float would be float32 whatever the data)."""
        return Val(f"_rt.tensor({val.code})", val.axes, val.rank, val.data_only) if val.literal else val

    # --- dispatch -----------------------------------------------------------------
    def _emit(self, expr: ast.Expr, ctx: Context, index: bool) -> Val:
        match expr:
            case ast.Number(value=value):
                return Val(_number(value), literal=True)
            case ast.Bool(value=value):
                return Val("True" if value else "False", literal=True, boolean=True)
            case ast.Name(id=name):
                return self._name(expr, name, ctx, index)
            case ast.Unary(op=op, operand=operand):
                inner = self._emit(operand, ctx, index)
                if op == "not":
                    return Val(f"torch.logical_not({inner.code})", inner.axes, inner.rank, inner.data_only,
                               boolean=True)
                inner = self.numeric(inner)
                return Val(f"(-{inner.code})", inner.axes, inner.rank, inner.data_only, inner.literal)
            case ast.Binary():
                return self._binary(expr, ctx, index)
            case ast.Index():
                return self._indexing(expr, ctx, index)
            case ast.Call():
                if index and expr.func.id != "size":
                    raise self._error(expr, "an index must be integer data, a plate or loop index, "
                                            "or arithmetic on those")
                return self._call(expr, ctx)
            case ast.ArrayLit(items=items):
                array = self._array(expr, items, ctx)
                return Val(f"_rt.long({array.code})", array.axes, array.rank, array.data_only) if index else array
            case ast.Comprehension():
                return self._comprehension(expr, ctx)
        raise self._error(expr, f"cannot compile {type(expr).__name__}")

    def domain_axis(self, name: str, key: str, domain: ast.Domain, ctx: Context, batch: str | None = None) -> Axis:
        """An axis over ``lo..hi`` (bind-time sizes)."""
        lo = self.index(domain.lo, ctx).code if domain.lo is not None else "0"
        hi = self.index(domain.hi, ctx).code
        lo_name = lo if lo == "0" else self.symbols.hoist(f"_rt.size({lo})", "n")
        size = self.symbols.hoist(f"_rt.size({hi}) - {lo_name}" if lo != "0" else f"_rt.size({hi})", "n")
        return Axis(name, key, size, lo_name, batch)

    @staticmethod
    def _error(node: ast.Node, message: str, code: str = "") -> InternalError:
        """What `check` should have rejected: a bug, reported with the statement's place."""
        return InternalError(f"{message} (at {node.span}; check accepted it)")

    # --- names ----------------------------------------------------------------------
    def _name(self, node: ast.Name, name: str, ctx: Context, index: bool) -> Val:
        enum = ctx.enum(name)
        if enum is not None:  # a summed-out discrete latent: all its values along its axis
            return Val(self.symbols.axis_index(enum, ctx, as_float=not index), frozenset({enum.name}), 0)
        scalar = ctx.scalar(name)
        if scalar is not None:
            return Val(scalar, frozenset(), 0, data_only=False, literal=True)
        axis = ctx.axis(name)
        if axis is not None:
            code = self.symbols.axis_index(axis, ctx, as_float=not index)
            return Val(code, frozenset({name}), 0, data_only=not axis.per_call)
        symbol = self.symbols.get(name)
        if symbol.enums:
            return self._enum_read(symbol, ctx, self.symbols.ranks.full(name))
        if index:
            if not symbol.data_only and self._drawn_discrete(name):  # prior simulation: its drawn value
                return Val(f"_rt.long({symbol.py})", frozenset(), symbol.full_rank, False)
            if not symbol.data_only:
                raise self._error(node, f"'{name}' is not integer data, so it cannot be an index")
            return Val(self.symbols.long(symbol), frozenset(), symbol.full_rank, True)
        return Val(symbol.py, frozenset(), symbol.full_rank, symbol.data_only)

    def _drawn_discrete(self, name: str) -> bool:
        variable = self.symbols.checked.variables.get(name)
        return variable is not None and variable.kind is Kind.LATENT and variable.dist is not None \
            and DISTRIBUTIONS[variable.dist.func.id].discrete

    # --- operators ------------------------------------------------------------------
    def _binary(self, node: ast.Binary, ctx: Context, index: bool) -> Val:
        """A chain ``a + b + c ...`` (left-deep) is walked without recursion, and every
        `_CHAIN` operations the partial result goes to a temporary: Python's compiler
        rejects deeper expressions."""
        spine = []
        while isinstance(node, ast.Binary):
            spine.append(node)
            node = node.left
        acc = self._emit(node, ctx, index)
        for count, binary in enumerate(reversed(spine), start=1):
            acc = self._combine(binary, acc, self._emit(binary.right, ctx, index), ctx)
            if count % _CHAIN == 0 and count < len(spine):
                acc = self.spill(acc, ctx)
        return acc

    def spill(self, val: Val, ctx: Context) -> Val:
        """``val`` computed into a temporary: hoisted when it reads data only, else a
        line of the statement being written (see `take_pending`)."""
        if val.data_only:
            return self.hoisted(val, ctx)
        name = self.symbols.fresh("p")
        self.pending.append(f"{name} = {val.code}")
        return Val(name, val.axes, val.rank, val.data_only, val.literal)

    def take_pending(self) -> list[str]:
        """Temporaries the expressions emitted since the last call need, in order."""
        lines, self.pending = self.pending, []
        return lines

    def _combine(self, node: ast.Binary, left: Val, right: Val, ctx: Context) -> Val:
        if node.op == "@":
            return self._matmul(node, left, right, ctx)
        data_only = left.data_only and right.data_only
        if not data_only:
            left, right = self.hoisted(left, ctx), self.hoisted(right, ctx)
        op = node.op
        if op not in _LOGIC and op not in _COMPARE:
            left, right = self.numeric(left), self.numeric(right)
        elif op in _LOGIC:  # torch's logical functions take tensors, not Python numbers
            left, right = self.tensor(left), self.tensor(right)
        lc, rc = self._aligned(left, right, ctx)
        if op in _LOGIC:
            code = f"{_LOGIC[op]}({lc}, {rc})"
        elif op in _COMPARE:
            code = f"({lc} {op} {rc})"
        else:
            code = f"({lc} {_ARITH[op]} {rc})"
        return Val(code, left.axes | right.axes, max(left.rank, right.rank), data_only,
                   left.literal and right.literal, boolean=op in _LOGIC or op in _COMPARE)

    def _aligned(self, left: Val, right: Val, ctx: Context) -> tuple[str, str]:
        """Pad the plated operand of lower rank so that own dimensions meet own dimensions."""
        target = max(left.rank, right.rank)
        return self.pad(left, target, ctx), self.pad(right, target, ctx)

    def pad(self, val: Val, rank: int, ctx: Context) -> str:
        """``val`` with singleton dimensions inserted after the axes, up to ``rank`` own dimensions."""
        if not val.plated or val.rank >= rank:
            return val.code
        width = len(ctx.axes)
        return f"{val.code}[{', '.join([':'] * width + ['None'] * (rank - val.rank))}]"

    def _matmul(self, node: ast.Binary, left: Val, right: Val, ctx: Context) -> Val:
        if not (left.data_only and right.data_only):
            left, right = self.hoisted(left, ctx), self.hoisted(right, ctx)
        left, right = self.numeric(left), self.numeric(right)
        rank = self.symbols.ranks.of(node)
        a, b = left.code, right.code
        if not (left.plated or right.plated):
            code = f"({a} @ {b})"
        elif left.rank == 1 and right.rank == 1 and left.plated and right.plated:
            code = f"({a} * {b}).sum(-1)"
        elif left.rank == 1 and right.rank == 1:  # a per-element dot with a fixed vector: one gemv
            code = f"({a} @ {b})" if not right.plated else f"({b} @ {a})"
        elif right.rank == 1:
            code = f"({a} @ {b}.unsqueeze(-1)).squeeze(-1)"
        elif left.rank == 1:
            code = f"({a}.unsqueeze(-2) @ {b}).squeeze(-2)"
        else:
            code = f"({a} @ {b})"
        return Val(code, left.axes | right.axes, rank, left.data_only and right.data_only)

    def _array(self, node: ast.ArrayLit, items: tuple, ctx: Context) -> Val:
        vals = [self._emit(i, ctx, False) for i in items]
        rank = max((v.rank for v in vals), default=0)
        data_only = all(v.data_only for v in vals)
        if all(v.literal for v in vals):  # numbers, or unrolled loop indices (not data)
            return Val(f"_rt.tensor([{', '.join(v.code for v in vals)}])", frozenset(), 1, data_only)
        vals = [self.tensor(v) for v in vals]
        codes = [self.pad(self.hoisted(v, ctx) if not data_only else v, rank, ctx) for v in vals]
        axes = frozenset().union(*(v.axes for v in vals))
        code = f"_rt.stack([{', '.join(codes)}], {rank})"
        return Val(code, axes, rank + 1, data_only)

    # --- calls ----------------------------------------------------------------------
    def _call(self, node: ast.Call, ctx: Context) -> Val:
        name = node.func.id
        spec = FUNCTIONS[name]
        if name == "log_prob":
            return self._log_prob(node, ctx)
        if name == "size":
            return self._size(node, ctx)
        args = [self.value(a, ctx) for a in node.args]
        data_only = all(a.data_only for a in args)
        axes = frozenset().union(*(a.axes for a in args)) if args else frozenset()
        rank = self.symbols.ranks.of(node)
        fn = self.symbols.function(name)
        if not data_only:
            args = [self.hoisted(a, ctx, tensor=True) for a in args]
        if not spec.creates:  # creators take Python sizes; everything else tensors
            args = [self.tensor(a) for a in args]
        if spec.kind is FnKind.ELEMENTWISE:  # booleans count as 0/1; where's condition is a boolean
            args = [self._condition(a) if (name, i) == ("where", 0) else self.numeric(a) for i, a in enumerate(args)]
        if spec.kind is FnKind.REDUCTION and len(args) == 1:
            dims = self._reduce_dims(node, args[0])
            return Val(f"{fn}({args[0].code}, {dims})", axes, rank, data_only)
        if spec.kind is FnKind.REDUCTION:
            fn = self.symbols.function(name, pairwise=True)
        if spec.kind is FnKind.VECTOR:
            dim = self._keyword_int(node, "dim", default=args[0].rank - 1) - args[0].rank
            return Val(f"{fn}({args[0].code}, {dim})", axes, rank, data_only)
        top = max((a.rank for a in args), default=0)
        codes = [self.pad(a, top, ctx) if spec.kind is not FnKind.SPECIAL else a.code for a in args]
        if spec.creates:
            codes.append("dtype=_rt.dtype")
        return Val(f"{fn}({', '.join(codes)})", axes, rank, data_only)

    def _reduce_dims(self, node: ast.Call, arg: Val) -> str:
        if any(k.name.id == "dim" for k in node.kwargs):
            return f"({self._keyword_int(node, 'dim', 0) - arg.rank},)"
        return repr(tuple(range(-arg.rank, 0)))

    def _keyword_int(self, node: ast.Call, key: str, default: int) -> int:
        for keyword in node.kwargs:
            if keyword.name.id == key:
                value = keyword.value
                if isinstance(value, ast.Unary) and value.op == "-" and isinstance(value.operand, ast.Number):
                    return -int(value.operand.value)
                if isinstance(value, ast.Number) and isinstance(value.value, int):
                    return value.value
                raise self._error(value, f"'{key}=' must be a whole number written in the model")
        return default

    def _size(self, node: ast.Call, ctx: Context) -> Val:
        arg = self.value(node.args[0], ctx)
        dim = self._keyword_int(node, "dim", 0)
        position = dim - arg.rank
        return Val(f"{arg.code}.shape[{position}]", frozenset(), 0, arg.data_only, literal=True)

    def _log_prob(self, node: ast.Call, ctx: Context) -> Val:
        dist_call, value_expr = node.args
        value = self.value(value_expr, ctx)
        spec = DISTRIBUTIONS[dist_call.func.id]
        rank = self.symbols.ranks.of(node)
        dist = self.distribution(dist_call, ctx, batch_rank=rank)
        value = value if dist.data_only else self.hoisted(value, ctx)
        code = f"{dist.code}.log_prob({self.pad(value, rank + spec.event_rank, ctx)})"
        return Val(code, dist.axes | value.axes, rank, dist.data_only and value.data_only)

    def distribution(self, call: ast.Call, ctx: Context, batch_rank: int) -> Val:
        """A torch distribution object, arguments padded so that ``batch_rank`` own
        batch dimensions line up (plus each parameter's own event rank)."""
        spec = DISTRIBUTIONS[call.func.id]
        named = list(zip(spec.positional_params(), call.args)) + [(k.name.id, k.value) for k in call.kwargs]
        vals = [(param, self.value(expr, ctx)) for param, expr in named]
        data_only = all(v.data_only for _, v in vals)
        parts = []
        for param, val in vals:
            if param in spec.int_params:  # a size (LKJCholesky's dim, Multinomial's total_count)
                parts.append(f"{param}={self._int_argument(call, param, val)}")
                continue
            val = self.numeric(self.tensor(val) if data_only else self.hoisted(val, ctx, tensor=True))
            parts.append(f"{param}={self.pad(val, batch_rank + spec.param_event_rank.get(param, 0), ctx)}")
        parts.append("validate_args=False")
        axes = frozenset().union(*(v.axes for _, v in vals)) if vals else frozenset()
        code = f"{self.symbols.distribution_class(spec.name)}({', '.join(parts)})"
        if data_only:
            code = self.symbols.hoist(code, "d")
        return Val(code, axes, batch_rank + spec.event_rank, data_only)

    def _int_argument(self, call: ast.Call, param: str, val: Val) -> str:
        if not val.data_only or val.plated:
            raise self._error(call, f"{call.func.id}'s '{param}' must be a number fixed by the data")
        return val.code if val.literal else self.symbols.hoist(f"_rt.size({val.code})", "n")

    # --- comprehensions ------------------------------------------------------------
    def _comprehension(self, node: ast.Comprehension, ctx: Context) -> Val:
        axis = self.domain_axis(node.index.id, f"comprehension:{id(node)}", node.domain, ctx)
        inner = ctx.extend(axis)
        body = self.value(node.body, inner)
        fn = self.symbols.function(node.func.id)
        rank = self.symbols.ranks.of(node)
        position = len(ctx.axes)
        if not body.plated:
            code = f"_rt.reduce_constant({node.func.id!r}, {fn}, {self.numeric(self.tensor(body)).code}, {axis.size})"
            return Val(code, frozenset(), rank, body.data_only)
        code = f"{fn}({body.code}, ({position},))"
        axes = body.axes - {axis.name}
        if not axes and ctx.axes:  # varies over none of the outer axes: drop their singleton dimensions
            code = f"_rt.drop_axes({code}, {position})"
        return Val(code, axes, rank, body.data_only)


def target_read(piece) -> ast.Expr:
    """The expression reading what a definition's target names (``y[n]`` for ``y[n] ~ ...``)."""
    target = piece.target
    name = ast.Name(target.name.id, span=target.name.span)
    return ast.Index(name, target.indices, span=target.span) if target.indices else name


def _is_name(code: str) -> bool:
    return code.isidentifier()


def _number(value: int | float) -> str:
    """A literal as Python source: ``1e999`` is ``float('inf')``, not the name ``inf``
    (builtins are never user locals, see `mangle`)."""
    return repr(value) if value == value and abs(value) != float("inf") else f"float({str(value)!r})"
