"""The checker's output: the model as a set of typed variables, one per name.

`CheckedModel` is what the graph builder and the code generator read. Each
`Variable` gathers the statement(s) that define one name (several only for an
array defined piecewise around a `for` loop), the frames (plates and loops)
they sit in, and what the checker learned: its kind, declared type, the rank
of one element, and the names it reads.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from enum import Enum

from ..source import Span
from ..syntax import ast


class Kind(Enum):
    """What role a variable plays in the joint density."""

    DATA = "data"                    # an input never on the left of `~` (covariate, size)
    LATENT = "latent"                # sampled, not observed
    OBSERVED = "observed"            # `data` on the left of `~`
    DETERMINISTIC = "deterministic"  # NAME = EXPR
    PARAM = "param"                  # a learnable point parameter
    FACTOR = "factor"                # a term added to the log joint


@dataclass(frozen=True)
class Frame:
    """A plate or a sequential loop around a definition: ``plate j in J`` or ``for t in 1..T``."""

    index: str
    domain: ast.Domain
    sequential: bool = False
    span: Span | None = field(default=None, compare=False, repr=False)

    @property
    def keyword(self) -> str:
        return "for" if self.sequential else "plate"


@dataclass(frozen=True)
class Piece:
    """One defining statement of a variable, with the frames around it (outer first)."""

    stmt: ast.Stmt
    frames: tuple[Frame, ...] = ()

    @property
    def target(self) -> ast.Target | None:
        return getattr(self.stmt, "target", None)

    @property
    def plates(self) -> tuple[Frame, ...]:
        return tuple(f for f in self.frames if not f.sequential)

    def expressions(self, *, shape: bool = False, target: bool = False) -> list[ast.Node]:
        """The statement's expressions, in source order of importance: its distribution or
        value (or a param's init, a data default), then its type's bounds; with ``shape``,
        the sizes of the type's shape; with ``target``, the target's indices."""
        stmt = self.stmt
        found = [getattr(stmt, a) for a in ("dist", "value", "init", "default") if getattr(stmt, a, None) is not None]
        declared = getattr(stmt, "type", None)
        if declared is not None:
            found += [b.value for b in declared.bounds] + (list(declared.shape) if shape else [])
        if target and self.target is not None:
            found += list(self.target.indices)
        return found

    @cached_property
    def loops(self) -> tuple[Frame, ...]:
        return tuple(f for f in self.frames if f.sequential)


@dataclass
class Variable:
    """Everything the later stages need to know about one name of the model."""

    name: str
    kind: Kind
    pieces: tuple[Piece, ...]
    type: ast.Type | None = None          # declared type (from `data`, `param`, `x: T ~ ...`)
    decl: ast.DataDecl | None = None      # the `data` declaration of an observed variable
    rank: int = 0                         # rank of one element (beyond its frames)
    parents: frozenset[str] = frozenset()  # model names read by its definition, bounds or shape
    sizes: frozenset[str] = frozenset()    # names read only as sizes of its plates and loops
    lagged: frozenset[str] = frozenset()   # arrays of its loop read at an earlier step (err[t - 1])
    sequential: bool = False              # defined piecewise around a `for` loop

    @cached_property
    def piece(self) -> Piece:
        """The main defining piece (the loop piece of a sequential array)."""
        loop = [p for p in self.pieces if p.loops]
        return loop[0] if loop else self.pieces[-1]

    @property
    def frames(self) -> tuple[Frame, ...]:
        return self.piece.frames

    @property
    def plates(self) -> tuple[str, ...]:
        return tuple(f.index for f in self.piece.plates)

    @property
    def dims(self) -> int:
        """How many leading dimensions index the elements (plates and loops)."""
        target = self.piece.target
        return len(target.indices) if target is not None else 0

    @property
    def dist(self) -> ast.Call | None:
        stmt = self.piece.stmt
        return stmt.dist if isinstance(stmt, ast.Sample) else None

    @property
    def value(self) -> ast.Expr | None:
        """The defining expression: a deterministic's value, a factor's term, a param's init, a data default."""
        stmt = self.piece.stmt
        for attr in ("value", "init", "default"):
            if hasattr(stmt, attr):
                return getattr(stmt, attr)
        return None

    @property
    def span(self) -> Span | None:
        return self.piece.stmt.span

    @property
    def base_type(self) -> str | None:
        return self.type.base.id if self.type is not None else None


@dataclass
class CheckedModel:
    """A model (or guide) whose names, calls, plates and types have been checked."""

    name: str
    program: ast.Program
    variables: dict[str, Variable]       # in source order
    plates: dict[str, Frame]             # plate index -> frame (one domain per plate name)
    guide: "CheckedModel | None" = None
    warnings: tuple = ()
    ranks: object = None  # the checker's `Ranks`, memoised per AST node; the code generator reuses it

    def of_kind(self, *kinds: Kind) -> list[Variable]:
        return [v for v in self.variables.values() if v.kind in kinds]

    @property
    def data(self) -> list[Variable]:
        """Inputs supplied at fit time: covariates, sizes and observations."""
        return self.of_kind(Kind.DATA, Kind.OBSERVED)

    @property
    def latents(self) -> list[Variable]:
        return self.of_kind(Kind.LATENT)
