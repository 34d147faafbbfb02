"""Ranks: how many dimensions of its own a value has, per element of its frames.

Inside ``plate n in N``, ``X[n, :]`` is a vector (rank 1) for each ``n``; the
code generator lays values out as plate dimensions first, then these own
dimensions, and needs the rank of every expression to line operands up and to
reduce only over own dimensions. Ranks follow from declared types, the
distributions' event ranks and each function's rule. Reports indices beyond a
value's rank (E0403), constant indices outside a literal size (E0404) and
matrix products of scalars (E0503).

>>> from dslppl.syntax.ast import Name, Index, Slice
>>> ranks = Ranks({})
>>> ranks.of(Name("n"))
0
"""
from __future__ import annotations

from ..diagnostics import DiagnosticSink
from ..library import DISTRIBUTIONS, FUNCTIONS
from ..library.functions import Kind as FnKind
from ..syntax import ast
from .model import Kind, Variable

_CREATORS = {"zeros", "ones", "full"}


class Ranks:
    """Rank inference over the variables of one block (memoised per AST node)."""

    def __init__(self, variables: dict[str, Variable], sink: DiagnosticSink | None = None,
                 outer: "Ranks | None" = None):
        self.variables = variables
        self.sink = sink or DiagnosticSink()
        self.outer = outer
        self._element: dict[str, int] = {}
        self._computing: set[str] = set()
        self._memo: dict[int, int] = {}

    # --- variables ----------------------------------------------------------
    def full(self, name: str) -> int:
        """Rank of the whole array a name denotes when read without indices."""
        variable = self.variables.get(name)
        if variable is None:
            return self.outer.full(name) if self.outer and name in self.outer.variables else 0
        if variable.kind in (Kind.DATA, Kind.OBSERVED, Kind.PARAM) and variable.type is not None:
            return len(variable.type.shape)
        return variable.dims + self.element(variable)

    def element(self, variable: Variable) -> int:
        """Rank of one element of a variable (beyond its plates and loops)."""
        if variable.name in self._computing:
            # a sequential array reading itself (its rank so far), or a cycle the graph reports
            return self._element.get(variable.name, 0)
        if variable.name in self._element:
            return self._element[variable.name]
        self._computing.add(variable.name)
        try:
            rank = self._element_rank(variable)
        finally:
            self._computing.discard(variable.name)
        self._element[variable.name] = rank
        return rank

    def _element_rank(self, variable: Variable) -> int:
        if variable.type is not None:
            declared = len(variable.type.shape)
            if variable.kind in (Kind.DATA, Kind.OBSERVED):
                return max(declared - variable.dims, 0)
            return declared
        if variable.sequential:
            # Pieces outside the loop first: the loop's own pieces read earlier elements.
            pieces = sorted(variable.pieces, key=lambda p: bool(p.loops))
            rank = 0
            for piece in pieces:
                rank = max(rank, self._piece_rank(piece))
                self._element[variable.name] = rank
            return rank
        return self._piece_rank(variable.piece)

    def _piece_rank(self, piece) -> int:
        stmt = piece.stmt
        if isinstance(stmt, ast.Sample):
            return self.distribution(stmt.dist)
        value = getattr(stmt, "value", None)
        return self.of(value) if value is not None else 0

    # --- expressions --------------------------------------------------------
    def distribution(self, call: ast.Call) -> int:
        """Rank of one draw: broadcast batch rank of the arguments plus the event rank."""
        return self._dist_batch(call) + self._dist_event(call)

    def _dist_event(self, call: ast.Call) -> int:
        spec = DISTRIBUTIONS.get(call.func.id)
        return spec.event_rank if spec else 0

    def _dist_batch(self, call: ast.Call) -> int:
        spec = DISTRIBUTIONS.get(call.func.id)
        if spec is None:
            return 0
        named = list(zip(spec.positional_params(), call.args))
        named += [(k.name.id, k.value) for k in call.kwargs]
        return max((self.of(arg) - spec.param_event_rank.get(param, 0) for param, arg in named), default=0)

    def of(self, expr: ast.Node) -> int:
        """Rank of an expression, computed without recursion (expressions may be very deep)."""
        if id(expr) in self._memo:
            return self._memo[id(expr)]
        stack: list[tuple[ast.Node, bool]] = [(expr, False)]
        while stack:
            node, ready = stack.pop()
            if id(node) in self._memo:
                continue
            kids = self._operands(node)
            if ready or not kids:
                self._memo[id(node)] = max(self._rank(node), 0)
            else:
                stack.append((node, True))
                stack.extend((k, False) for k in kids if id(k) not in self._memo)
        return self._memo[id(expr)]

    def _operands(self, node: ast.Node) -> list[ast.Node]:
        match node:
            case ast.Call(args=args, kwargs=kwargs):
                return [*args, *(k.value for k in kwargs)]
            case ast.Comprehension(body=body):
                return [body]
            case ast.Index(base=base, indices=indices):
                return [base, *(i for i in indices if not isinstance(i, ast.Slice))]
            case ast.Unary() | ast.Binary() | ast.ArrayLit():
                return list(ast.children(node))
        return []

    def _rank(self, node: ast.Node) -> int:
        get = self._memo.__getitem__
        match node:
            case ast.Name(id=name):
                return self.full(name)
            case ast.Number() | ast.Bool():
                return 0
            case ast.Unary(operand=operand):
                return get(id(operand))
            case ast.Binary(op="@", left=left, right=right):
                return self._matmul(node, get(id(left)), get(id(right)))
            case ast.Binary(left=left, right=right):
                return max(get(id(left)), get(id(right)))
            case ast.ArrayLit(items=items):
                return 1 + max((get(id(i)) for i in items), default=0)
            case ast.Comprehension(body=body):
                return get(id(body))
            case ast.Index():
                return self._index(node)
            case ast.Call():
                return self._call(node)
        return 0

    def _matmul(self, node: ast.Binary, left: int, right: int) -> int:
        if left == 0 or right == 0:
            self.sink.error("E0503", "'@' needs vectors or matrices on both sides", node.span,
                            hint="use '*' to multiply by a scalar")
            return max(left, right)
        if left == 1 and right == 1:
            return 0
        if left == 1 or right == 1:
            return max(left, right) - 1
        return max(left, right)

    def _index(self, node: ast.Index) -> int:
        base = self._memo[id(node.base)]
        if len(node.indices) > base and self._known_rank(node.base):
            name = node.base.id if isinstance(node.base, ast.Name) else "this value"
            self.sink.error("E0403", f"'{name}' has {base} dimension{'s' if base != 1 else ''} "
                            f"but is indexed with {len(node.indices)}", node.span)
        slices = sum(isinstance(i, ast.Slice) for i in node.indices)
        advanced = [self._memo[id(i)] for i in node.indices if not isinstance(i, ast.Slice)]
        self._check_constant_indices(node)
        return base - len(node.indices) + slices + max(advanced, default=0)

    def _known_rank(self, base: ast.Node) -> bool:
        if isinstance(base, ast.Index):  # y[0][0]: known when y's rank is
            return self._known_rank(base.base)
        if isinstance(base, (ast.Number, ast.Bool)):  # 0[0]
            return True
        return isinstance(base, ast.Name) and (base.id in self.variables or
                                               bool(self.outer and base.id in self.outer.variables))

    def _check_constant_indices(self, node: ast.Index) -> None:
        if not isinstance(node.base, ast.Name) or node.base.id not in self.variables:
            return
        declared = self.variables[node.base.id].type
        if declared is None or self.variables[node.base.id].kind not in (Kind.DATA, Kind.OBSERVED, Kind.PARAM):
            return
        for size, index in zip(declared.shape, node.indices):
            if isinstance(size, ast.Number) and isinstance(index, ast.Number) and index.value >= size.value:
                self.sink.error("E0404", f"index {index.value} is out of range for '{node.base.id}', "
                                f"whose size is {size.value}", index.span,
                                hint=f"indices are 0-based: 0 .. {size.value - 1}")

    def _call(self, node: ast.Call) -> int:
        name = node.func.id
        spec = FUNCTIONS.get(name)
        ranks = [self._memo[id(a)] for a in node.args]
        if spec is None:
            return 0
        if name == "log_prob" and len(node.args) == 2 and isinstance(node.args[0], ast.Call):
            dist = node.args[0]
            return max(self._dist_batch(dist), ranks[1] - self._dist_event(dist))
        if name in _CREATORS:
            return self._created_rank(node)
        if spec.kind is FnKind.REDUCTION and len(ranks) == 1:
            return ranks[0] - 1 if any(k.name.id == "dim" for k in node.kwargs) else 0
        return spec.result_rank(ranks) if ranks else 0

    def _created_rank(self, node: ast.Call) -> int:
        shape_args = node.args[:1] if node.func.id == "full" else node.args
        if len(shape_args) == 1 and isinstance(shape_args[0], ast.ArrayLit):
            return len(shape_args[0].items)
        if len(shape_args) == 1 and self._memo.get(id(shape_args[0]), 0) == 1:
            return 1  # a shape vector of unknown length: assume one dimension
        return len(shape_args)


def check_ranks(variables: dict[str, Variable], sink: DiagnosticSink, outer: Ranks | None = None) -> Ranks:
    """Compute every variable's element rank, reporting index and product errors."""
    ranks = Ranks(variables, sink, outer)
    for variable in _dependency_order(variables):  # parents first: no recursion along chains
        variable.rank = ranks.element(variable)
    for variable in variables.values():
        for piece in variable.pieces:
            for expr in piece.expressions(shape=True, target=True):
                ranks.of(expr)
    return ranks


def _dependency_order(variables: dict[str, Variable]) -> list[Variable]:
    """Parents before children, generation by generation in source order; source order
    when there is a cycle (the graph stage reports it)."""
    waiting = {name: len(set(v.parents) & variables.keys()) for name, v in variables.items()}
    children: dict[str, list[str]] = {name: [] for name in variables}
    for variable in variables.values():
        for parent in set(variable.parents) & variables.keys():
            children[parent].append(variable.name)
    order = [name for name, count in waiting.items() if count == 0]
    for name in order:  # grows while it is read
        for child in children[name]:
            waiting[child] -= 1
            if waiting[child] == 0:
                order.append(child)
    if len(order) != len(variables):
        return list(variables.values())
    return [variables[name] for name in order]
