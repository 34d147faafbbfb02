"""The typed AST of a `.ppl` program: frozen dataclasses, built by the parser only.

Every node carries a `Span` that equality ignores (stanc3's ``[@compare.ignore]``),
so trees compare by structure alone and ``parse(pretty(tree)) == tree`` holds.
Identifiers that a user wrote (definitions, calls, indices) are `Name` nodes so
that each keeps its own span for diagnostics.

>>> Binary("+", Name("mu"), Number(1)) == Binary("+", Name("mu", span=None), Number(1))
True
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Iterator, Union

from ..source import Span


@dataclass(frozen=True, slots=True)
class Node:
    span: Span | None = field(default=None, compare=False, repr=False, kw_only=True)


# --- expressions -------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Name(Node):
    id: str


@dataclass(frozen=True, slots=True)
class Number(Node):
    value: int | float  # int for literals written without '.', 'e' or 'E'


@dataclass(frozen=True, slots=True)
class Bool(Node):
    value: bool


@dataclass(frozen=True, slots=True)
class Unary(Node):
    op: str  # '-' or 'not'
    operand: "Expr"


@dataclass(frozen=True, slots=True)
class Binary(Node):
    """``op`` is one of ``+ - * / % @ ^ and or < <= > >= == !=`` (``**`` is read as ``^``)."""

    op: str
    left: "Expr"
    right: "Expr"


@dataclass(frozen=True, slots=True)
class Keyword(Node):
    name: Name
    value: "Expr"


@dataclass(frozen=True, slots=True)
class Call(Node):
    """A function or distribution call: ``Normal(0, 1)``, ``Bernoulli(logits=eta)``."""

    func: Name
    args: tuple["Expr", ...] = ()
    kwargs: tuple[Keyword, ...] = ()


@dataclass(frozen=True, slots=True)
class Slice(Node):
    """``:`` (both ends None) or the half-open range ``lo..hi`` inside an index."""

    lo: "Expr | None" = None
    hi: "Expr | None" = None


@dataclass(frozen=True, slots=True)
class Index(Node):
    """``base[i, j]``; each index is an expression or a `Slice`."""

    base: "Expr"
    indices: tuple["Expr | Slice", ...]


@dataclass(frozen=True, slots=True)
class ArrayLit(Node):
    items: tuple["Expr", ...]


@dataclass(frozen=True, slots=True)
class Domain(Node):
    """What an index ranges over: ``N`` (lo is None, meaning 0) or ``lo..hi`` (half-open)."""

    lo: "Expr | None"
    hi: "Expr"


@dataclass(frozen=True, slots=True)
class Comprehension(Node):
    """``sum(body for index in domain)``; ``func`` is a reduction name."""

    func: Name
    body: "Expr"
    index: Name
    domain: Domain


Expr = Union[Name, Number, Bool, Unary, Binary, Call, Index, ArrayLit, Comprehension]


# --- types -------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Type(Node):
    """``base<bounds>[shape]``, e.g. ``real<lower=0, upper=1 - a>[N, K]``."""

    base: Name
    bounds: tuple[Keyword, ...] = ()
    shape: tuple["Expr", ...] = ()


# --- statements --------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Target(Node):
    """The left-hand side of a definition: ``mu``, ``theta[j]``, ``x[0]``, ``z[i, k]``."""

    name: Name
    indices: tuple["Expr", ...] = ()


@dataclass(frozen=True, slots=True)
class DataDecl(Node):
    """``data NAME: TYPE`` or ``data NAME: TYPE = DEFAULT``."""

    name: Name
    type: Type
    default: "Expr | None" = None


@dataclass(frozen=True, slots=True)
class ParamDecl(Node):
    """``param NAME: TYPE = INIT``: a learnable point parameter."""

    name: Name
    type: Type
    init: "Expr"


@dataclass(frozen=True, slots=True)
class Sample(Node):
    """``TARGET ~ DIST(...)`` or ``TARGET: TYPE ~ DIST(...)``."""

    target: Target
    dist: Call
    type: Type | None = None


@dataclass(frozen=True, slots=True)
class Declare(Node):
    """``TARGET: TYPE``: a latent with a flat (improper) prior on the type's support."""

    target: Target
    type: Type


@dataclass(frozen=True, slots=True)
class Assign(Node):
    """``TARGET = EXPR`` (or ``TARGET: TYPE = EXPR``): a deterministic node."""

    target: Target
    value: "Expr"
    type: Type | None = None


@dataclass(frozen=True, slots=True)
class Factor(Node):
    """``factor TARGET = EXPR``: adds a log-density term to the joint."""

    target: Target
    value: "Expr"


@dataclass(frozen=True, slots=True)
class Plate(Node):
    """``plate INDEX in DOMAIN { ... }``: conditionally independent replication."""

    index: Name
    domain: Domain
    body: tuple["Stmt", ...]


@dataclass(frozen=True, slots=True)
class For(Node):
    """``for INDEX in DOMAIN { ... }``: sequential (Markov) dependence."""

    index: Name
    domain: Domain
    body: tuple["Stmt", ...]


Stmt = Union[DataDecl, ParamDecl, Sample, Declare, Assign, Factor, Plate, For]


# --- blocks ------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ModelBlock(Node):
    name: Name
    body: tuple[Stmt, ...]


@dataclass(frozen=True, slots=True)
class GuideBlock(Node):
    body: tuple[Stmt, ...]


@dataclass(frozen=True, slots=True)
class Program(Node):
    model: ModelBlock
    guide: GuideBlock | None = None


_FIELDS: dict[type, tuple[str, ...]] = {}


_LEAF_TYPES = {"str", "bool", "int | float"}  # annotations of fields that never hold nodes


def _child_fields(cls: type) -> tuple[str, ...]:
    """Names of the fields that may hold nodes (cached: ``fields`` is slow on hot paths)."""
    if cls not in _FIELDS:
        _FIELDS[cls] = tuple(f.name for f in fields(cls) if f.name != "span" and f.type not in _LEAF_TYPES)
    return _FIELDS[cls]


def children(node: Node) -> list[Node]:
    """The direct child nodes of ``node``, in field order.

    >>> [c.id for c in children(Binary("+", Name("a"), Name("b")))]
    ['a', 'b']
    """
    found = []
    for name in _child_fields(type(node)):
        value = getattr(node, name)
        if isinstance(value, Node):
            found.append(value)
        elif type(value) is tuple:
            found.extend(v for v in value if isinstance(v, Node))
    return found


def walk(node: Node) -> Iterator[Node]:
    """``node`` and all its descendants, depth first, without recursion."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(children(current)))
