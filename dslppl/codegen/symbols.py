"""What generated code calls things: variables, axes, hoisted values, library names.

`Symbols` is the one table a compilation writes to: the mangled Python name
of every model variable, the bind-time *prelude* (data unpacked, sizes, axis
index tensors, hoisted data-only values, distribution classes), and fresh
internal names (``_h1``, ``_n2`` ...: an underscore and a letter, which no
mangled user name has). `Context` is where an expression sits: its axes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from itertools import count

from ..check.model import CheckedModel, Kind
from ..check.ranks import Ranks
from ..source import Source
from ..syntax import ast


@dataclass(frozen=True)
class Axis:
    """A leading dimension of plated values: a plate, a vectorized loop or a comprehension index."""

    name: str            # the index name in the model
    key: str             # identity (a plate's name; loops and comprehensions get unique keys)
    size: str            # code for its length (a bind-time int)
    lo: str              # code for its first index (a bind-time int)
    batch: str | None = None  # per-call subsample positions (a subsampled plate)
    full: str | None = None   # the plate's full size, when subsampled
    scale: str | None = None  # full size / batch size, when subsampled

    @property
    def per_call(self) -> bool:
        return self.batch is not None


@dataclass(frozen=True)
class Context:
    """The axes an expression sits in, outer first."""

    axes: tuple[Axis, ...] = ()
    scalars: tuple[tuple[str, str], ...] = ()  # unrolled loop indices: (name, Python int variable)
    enums: tuple[tuple[str, str], ...] = ()    # summed-out discrete latents: (name, its axis's name)

    def enum(self, name: str) -> Axis | None:
        """The enum axis standing for discrete latent ``name`` here (see `enumerate`)."""
        axis = dict(self.enums).get(name)
        return self.axis(axis) if axis is not None else None

    def scalar(self, name: str) -> str | None:
        return dict(self.scalars).get(name)

    def axis(self, name: str) -> Axis | None:
        for axis in self.axes:
            if axis.name == name:
                return axis
        return None

    def position(self, name: str) -> int | None:
        for p, axis in enumerate(self.axes):
            if axis.name == name:
                return p
        return None

    def extend(self, axis: Axis) -> "Context":
        return Context(self.axes + (axis,), self.scalars, self.enums)


@dataclass(frozen=True)
class Val:
    """An emitted expression: its code, the axes it varies over, its rank, and whether it reads data only."""

    code: str
    axes: frozenset[str] = frozenset()
    rank: int = 0
    data_only: bool = True
    literal: bool = False  # a Python number, not a tensor
    boolean: bool = False  # a comparison or logical value (a bool tensor, or True/False)

    @property
    def plated(self) -> bool:
        return bool(self.axes)


@dataclass
class Symbol:
    """A model variable as generated code sees it."""

    name: str
    py: str                            # its Python local
    kind: Kind
    axes: tuple[str, ...] = ()         # plate names of its leading dimensions (aligned reads)
    axis_keys: tuple[str, ...] = ()
    full_rank: int = 0
    data_only: bool = False            # known when data is bound
    offsets: tuple[str | None, ...] = ()  # code of each leading dimension's first index
    sequence: str | None = None        # while its loop is unrolled: the Python list of its elements
    enums: tuple[str, ...] = ()        # enum axes after its plate dimensions (a deterministic over them)


@dataclass
class Symbols:
    checked: CheckedModel
    ranks: Ranks
    names: dict[str, str]              # user name -> Python identifier
    source: Source | None = None
    symbols: dict[str, Symbol] = field(default_factory=dict)
    prelude: list[str] = field(default_factory=list)
    prelude_spans: list = field(default_factory=list)  # the statement each prelude line comes from
    current_span: object = None                        # the statement being compiled
    _hoisted: dict[str, str] = field(default_factory=dict)
    _counter: count = field(default_factory=lambda: count(1))

    def fresh(self, letter: str = "h") -> str:
        return f"_{letter}{next(self._counter)}"

    def get(self, name: str) -> Symbol:
        return self.symbols[name]

    def hoist(self, code: str, letter: str = "h") -> str:
        """A bind-time name for ``code``, computed once in the prelude."""
        if code not in self._hoisted:
            name = self.fresh(letter)
            self.add_prelude(f"{name} = {code}")
            self._hoisted[code] = name
        return self._hoisted[code]

    def add_prelude(self, line: str) -> None:
        self.prelude.append(line)
        self.prelude_spans.append(self.current_span)

    def long(self, symbol: Symbol) -> str:
        return self.hoist(f"_rt.long({symbol.py})")

    def function(self, name: str, pairwise: bool = False) -> str:
        attr = "pairwise" if pairwise else "impl"
        return self.hoist(f"_rt.functions[{name!r}].{attr}", "f")

    def distribution_class(self, name: str) -> str:
        return self.hoist(f"_rt.distributions[{name!r}].factory", "D")

    def axis_index(self, axis: Axis, ctx: Context, as_float: bool) -> str:
        """The axis's index tensor, shaped for its position among the context's axes."""
        position, width = ctx.position(axis.name), len(ctx.axes)
        if axis.per_call:
            plain = width == 1 and axis.lo == "0"
            code = axis.batch if plain else f"_rt.layout({axis.batch}, {axis.lo}, {position}, {width})"
            return f"{code}.to(_rt.dtype)" if as_float else code
        index = self.hoist(f"_rt.layout(_rt.arange({axis.size}), {axis.lo}, {position}, {width})", "i")
        return self.hoist(f"{index}.to(_rt.dtype)", "i") if as_float else index

    def axis_key(self, symbol: Symbol, axis_name: str) -> str:
        return symbol.axis_keys[symbol.axes.index(axis_name)]

    def offsets_of(self, base: ast.Expr) -> tuple[str | None, ...]:
        if isinstance(base, ast.Name) and base.id in self.symbols:
            return self.symbols[base.id].offsets
        return ()
