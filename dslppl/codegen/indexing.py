"""Indexing under the plate layout: how ``x[i]`` compiles.

Three cases, tried in order:

- an element of an array being built by an unrolled loop: a Python list;
- an *aligned read*, ``theta[j]`` inside plate ``j`` where ``theta`` was
  defined over ``j``: the stored array itself, with singleton dimensions for the
  context's other axes (no gather);
- a *gather*: tensor indexing with the axes' index tensors, moving indexed
  dimensions to the front so the plate dimensions always lead.
"""
from __future__ import annotations

from ..check.discrete import chain_read
from ..syntax import ast
from .symbols import Context, Val


class Indexing:
    """The indexing half of `Emitter` (it needs ``symbols``, ``index`` and ``_emit``)."""

    def _indexing(self, node: ast.Index, ctx: Context, index: bool) -> Val:
        base = node.base
        if isinstance(base, ast.Name) and ctx.enum(base.id) is not None:  # z[n] in z's plate
            return self._name(base, base.id, ctx, index)
        if isinstance(base, ast.Name) and any(key.startswith(base.id + "@") for key, _ in ctx.enums):
            return self._chain_read(node, ctx, index)
        if isinstance(base, ast.Name) and base.id in self.symbols.symbols and self.symbols.get(base.id).sequence:
            return self._element(node, self.symbols.get(base.id), ctx)
        if isinstance(base, ast.Name) and ctx.axis(base.id) is None and not index:
            aligned = self._aligned_read(node, base.id, ctx)
            if aligned is not None:
                return aligned
        return self._gather(node, ctx, index)

    def _aligned_read(self, node: ast.Index, name: str, ctx: Context) -> Val | None:
        """``theta[j]`` inside plate ``j`` where ``theta`` was defined over ``j``: the stored
        array itself, with singleton dimensions for the context's other axes."""
        symbol = self.symbols.get(name)
        if not symbol.axes or len(node.indices) < len(symbol.axes):
            return None
        leading = node.indices[: len(symbol.axes)]
        if not all(isinstance(i, ast.Name) and i.id == a for i, a in zip(leading, symbol.axes)):
            return None
        positions = [ctx.position(a) for a in symbol.axes + symbol.enums]
        if None in positions or positions != sorted(positions):
            return None
        if any(ctx.axes[p].key != self.symbols.axis_key(symbol, a) for p, a in zip(positions, symbol.axes)):
            return None
        rest = node.indices[len(symbol.axes):]
        rest_vals = [self.index(i, ctx) if not isinstance(i, ast.Slice) else None for i in rest]
        if any(v is not None and v.plated for v in rest_vals):
            return None
        parts = [":" if i in positions else "None" for i in range(len(ctx.axes))]
        for item, val in zip(rest, rest_vals):
            parts.append(self._slice(item, ctx) if val is None else val.code)
        code = symbol.py if all(p == ":" for p in parts) else f"{symbol.py}[{', '.join(parts)}]"
        rank = self.symbols.ranks.of(node)
        return Val(code, frozenset(symbol.axes + symbol.enums), rank, symbol.data_only)

    def _chain_read(self, node: ast.Index, ctx: Context, index: bool) -> Val:
        """``z[t - 1]`` of a chain: the enum axis of that step."""
        read = chain_read(node, {a.name for a in ctx.axes})
        key = f"{read.name}@{read.offset}" if read.index else f"{read.name}@={read.offset.value}"
        axis = ctx.enum(key)
        return Val(self.symbols.axis_index(axis, ctx, as_float=not index), frozenset({axis.name}), 0)

    def _enum_read(self, symbol, ctx: Context, rank: int) -> Val:
        """A deterministic node over enum axes (and no plates), read whole: its axes placed in ``ctx``."""
        positions = [ctx.position(a) for a in symbol.enums]
        parts = [":" if i in positions else "None" for i in range(len(ctx.axes))]
        return Val(f"{symbol.py}[{', '.join(parts)}]", frozenset(symbol.enums), rank, symbol.data_only)

    def _element(self, node: ast.Index, symbol, ctx: Context) -> Val:
        """An element of an array being built by an unrolled loop: a Python list."""
        first = self.index(node.indices[0], ctx)
        if first.plated:
            raise self._error(node, f"inside its loop, '{symbol.name}' can only be read at single steps")
        code = f"_rt.step({symbol.sequence}, {first.code}, {symbol.name!r})"
        rest = [None if isinstance(i, ast.Slice) else self.index(i, ctx) for i in node.indices[1:]]
        axes = frozenset().union(*(v.axes for v in rest if v is not None)) if rest else frozenset()
        if rest:
            items = [(self._slice(i, ctx) if v is None else v.code, v) for i, v in zip(node.indices[1:], rest)]
            code = self._subscript(code, items, bool(axes))
        return Val(code, axes, self.symbols.ranks.of(node), False)

    def _slice(self, item: ast.Slice, ctx: Context, offset: str | None = None) -> str:
        if item.lo is None and item.hi is None:
            return ":"
        lo = self.index(item.lo, ctx).code if item.lo is not None else ""
        hi = self.index(item.hi, ctx).code if item.hi is not None else ""
        if offset:
            lo = f"{lo} - {offset}" if lo else ""
            hi = f"{hi} - {offset}" if hi else ""
        return f"{lo}:{hi}"

    def _gather(self, node: ast.Index, ctx: Context, index: bool) -> Val:
        base = self._emit(node.base, ctx, index)
        if base.plated:
            raise self._error(node, "indexing a value that varies over a plate is not supported here; "
                                    "index the variable directly")
        offsets = self.symbols.offsets_of(node.base)
        items: list[tuple[str, Val | None]] = []
        for position, item in enumerate(node.indices):
            offset = offsets[position] if position < len(offsets) else None
            if isinstance(item, ast.Slice):
                items.append((self._slice(item, ctx, offset), None))
            else:
                val = self.index(item, ctx)
                code = f"({val.code} - {offset})" if offset else val.code
                if val.data_only and not val.literal and not base.data_only and not code.isidentifier():
                    code = self.symbols.hoist(code, "i")  # a data-only index (county[n]): computed once
                items.append((code, val))
        advanced = [v for _, v in items if v is not None and not v.literal]
        axes = frozenset().union(*(v.axes for v in advanced)) if advanced else frozenset()
        data_only = base.data_only and all(v.data_only for _, v in items if v is not None)
        rank = self.symbols.ranks.of(node)
        if axes:
            items = self._widen_plated(items, ctx)
        code = self._subscript(base.code, items, bool(axes))
        return Val(code, axes, rank, data_only)

    def _widen_plated(self, items: list, ctx: Context) -> list:
        """Plated indices next to unplated index arrays: give the plated ones trailing
        singleton dimensions for the arrays' dimensions, so both broadcast per element."""
        extra = max((v.rank for _, v in items if v is not None and not v.plated and not v.literal), default=0)
        if extra == 0:
            return items
        return [(f"{code}[{', '.join([':'] * len(ctx.axes) + ['None'] * extra)}]"
                 if v is not None and v.plated else code, v) for code, v in items]

    @staticmethod
    def _subscript(base: str, items: list, plated: bool) -> str:
        """Index so that the dimensions of (plated) index tensors come first.

        Torch puts the broadcast dimensions of advanced indices in place when they
        are adjacent and first otherwise; moving the indexed dimensions to the front
        makes the layout the same in every case."""
        indexed = [p for p, (_, v) in enumerate(items) if v is not None]
        if plated and indexed != list(range(len(indexed))):
            moved = f"{base}.movedim({tuple(indexed)}, {tuple(range(len(indexed)))})"
            order = [code for code, v in items if v is not None] + [code for code, v in items if v is None]
            return f"{moved}[{', '.join(order)}]"
        return f"{base}[{', '.join(code for code, _ in items)}]"

