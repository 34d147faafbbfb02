"""Reads: which elements of which model variables a definition uses.

Stage: graph (a helper of `build` and `factorization`). Input: the pieces of a
checked `Variable`. Output: `Read`s, in the order they appear in the source
(``theta[j]``, ``x[t - 1]``, ``a[county[n]]``, or a whole array ``beta``).

A read keeps its index expressions when every index can be evaluated outside
the definition's own comprehensions; a read indexed by a comprehension index
(``beta[k]`` inside ``sum(... for k in 0..K)``) stands for the whole array.

>>> from dslppl.syntax.ast import Binary, Index, Name
>>> [r.text() for r in reads_of([Binary("*", Name("tau"), Index(Name("z"), (Name("j"),)))], {"tau", "z"})]
['tau', 'z[j]']
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Collection, Iterable, Iterator, Mapping

from ..check.steps import step_offset
from ..syntax import ast
from ..syntax.pretty import pretty_expr

Indices = tuple["ast.Expr | ast.Slice", ...]


@dataclass(frozen=True)
class Read:
    """One use of a model variable: the whole of ``name`` (``index`` None) or some elements."""

    name: str
    index: Indices | None = None

    def text(self) -> str:
        """The read as source text, e.g. ``theta_raw[j]``."""
        if self.index is None:
            return self.name
        return pretty_expr(ast.Index(ast.Name(self.name), self.index))

    @property
    def whole(self) -> "Read":
        return Read(self.name)


def reads_of(nodes: Iterable[ast.Node], names: Collection[str], *, local: bool = False) -> list[Read]:
    """The reads of ``names`` in ``nodes``, in source order (duplicates kept).

    With ``local=True`` a read indexed by a comprehension index keeps its
    indices (``x[t - 1, k]``), as the dependency analysis needs. The walk uses
    an explicit stack: expressions may nest deeper than Python's recursion limit.
    """
    found: list[Read] = []
    stack: list[tuple[ast.Node, frozenset[str]]] = [(n, frozenset()) for n in reversed(list(nodes))]
    while stack:
        node, bound = stack.pop()
        match node:
            case ast.Name(id=name):
                if name in names and name not in bound:
                    found.append(Read(name))
                continue
            case ast.Index(base=ast.Name(id=name), indices=indices) if name in names and name not in bound:
                inner = any(n.id in bound for i in indices for n in _names(i))
                found.append(Read(name) if inner and not local else Read(name, indices))
                parts = [(i, bound) for i in indices]
            case ast.Call(args=args, kwargs=kwargs):  # not the function's name
                parts = [(a, bound) for a in (*args, *(k.value for k in kwargs))]
            case ast.Keyword(value=value):            # not the keyword's name
                parts = [(value, bound)]
            case ast.Comprehension(body=body, index=index, domain=domain):
                parts = [(domain, bound), (body, bound | {index.id})]
            case _:
                parts = [(child, bound) for child in ast.children(node)]
        stack.extend(reversed(parts))
    return found


def _names(node: ast.Node) -> Iterator[ast.Name]:
    return (n for n in ast.walk(node) if isinstance(n, ast.Name))


def mentions(read: Read, indices: Collection[str]) -> bool:
    """Whether ``read``'s index expressions use any of ``indices``."""
    return read.index is not None and any(n.id in indices for i in read.index for n in _names(i))


def earlier(read: Read, shifts: Mapping[str, int]) -> bool:
    """Whether a read inside ``for`` loops can only reach elements built before the current
    step. ``shifts`` maps each loop index to the shift of the definition's own target
    (``x[t + 1] = ...``: 1): ``x[t + c]`` is earlier when ``c`` is below it; ``x[0]``
    is earlier; the whole ``x`` is not.

    >>> earlier(Read("x", (ast.Binary("-", ast.Name("t"), ast.Number(1)),)), {"t": 0})
    True
    >>> earlier(Read("x", (ast.Name("t"),)), {"t": 1})
    True
    """
    if read.index is None or not shifts:
        return False
    for index in read.index:
        for loop, shift in shifts.items():
            offset = step_offset(index, loop)
            if offset is not None and offset >= shift:
                return False
    return True


# --- substitution ------------------------------------------------------------------

def binding(target: ast.Target, frames: Collection[str], read: Indices) -> dict[str, ast.Expr]:
    """How a definition's frame indices map to a reader's index expressions.

    ``theta[j] = ...`` read as ``theta[county[n]]`` binds ``j`` to ``county[n]``;
    ``x[t + 1] = ...`` read as ``x[s]`` binds ``t`` to ``s - 1``.
    """
    out: dict[str, ast.Expr] = {}
    for written, used in zip(target.indices, read):
        if isinstance(used, ast.Slice):
            continue
        match written:
            case ast.Name(id=name) if name in frames:
                out[name] = used
            case ast.Binary(op="+" | "-" as op, left=ast.Name(id=name), right=ast.Number() as shift) if name in frames:
                out[name] = simplify(ast.Binary("-" if op == "+" else "+", used, shift))
    return out


def substitute(read: Read, mapping: Mapping[str, ast.Expr]) -> Read:
    """``read`` with frame indices replaced by ``mapping`` (and constants folded)."""
    if read.index is None or not mapping:
        return read
    return Read(read.name, tuple(simplify(_replace(i, mapping)) for i in read.index))


_NOT_READ = {(ast.Call, "func"), (ast.Keyword, "name"), (ast.Comprehension, "index")}


def _replace(node, mapping: Mapping[str, ast.Expr]):
    if isinstance(node, ast.Name):
        return mapping.get(node.id, node)
    if not isinstance(node, ast.Node):
        return node
    changes = {}
    for f in fields(node):
        if f.name == "span" or (type(node), f.name) in _NOT_READ:
            continue
        value = getattr(node, f.name)
        if isinstance(value, ast.Node):
            changes[f.name] = _replace(value, mapping)
        elif isinstance(value, tuple):
            changes[f.name] = tuple(_replace(v, mapping) for v in value)
    return replace(node, **changes) if changes else node


def simplify(node):
    """Fold ``(t - 1) + 1`` to ``t`` and ``t + 0`` to ``t``: integer shifts only.

    >>> pretty_expr(simplify(ast.Binary("+", ast.Binary("-", ast.Name("t"), ast.Number(1)), ast.Number(1))))
    't'
    """
    if not (isinstance(node, ast.Binary) and node.op in "+-" and isinstance(node.right, ast.Number)
            and isinstance(node.right.value, int)):
        return node
    shift = node.right.value if node.op == "+" else -node.right.value
    left = simplify(node.left)
    if (isinstance(left, ast.Binary) and left.op in "+-" and isinstance(left.right, ast.Number)
            and isinstance(left.right.value, int)):
        shift += left.right.value if left.op == "+" else -left.right.value
        left = left.left
    if isinstance(left, ast.Number) and isinstance(left.value, int):
        return ast.Number(left.value + shift)
    if shift == 0:
        return left
    return ast.Binary("+" if shift > 0 else "-", left, ast.Number(abs(shift)))
