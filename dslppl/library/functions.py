"""The functions a model may call (LANGUAGE.md §7), as a table of plain data.

Functions come in kinds that tell the code generator how values laid out with
plate dimensions in front of their own (event) dimensions must be handled:

- ``ELEMENTWISE``: applied entry by entry after broadcasting (``exp``, ``pow``).
- ``REDUCTION``: reduce a value's own dimensions, all of them or ``dim=``
  (``sum``, ``logsumexp``); with two arguments ``max``/``min`` are elementwise.
  These also take a comprehension: ``sum(x[k] for k in 0..K)``.
- ``VECTOR``: act along one of the value's own dimensions, the last by default
  (``softmax``, ``cumsum``).
- ``SPECIAL``: anything else, with an explicit rule for the rank of the result.

Reductions and vector functions receive *negative* dimensions, counted from
the end, so that leading plate dimensions are never touched. The checker reads
this table without importing torch; an entry's torch implementation (``impl``,
``pairwise``) lives in `implementations`, imported when code is bound.

>>> FUNCTIONS["sd"].kind
<Kind.REDUCTION: 'reduction'>
>>> FUNCTIONS["sd"].min_args, FUNCTIONS["sd"].keywords
(1, ('dim',))
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Callable, Sequence


class Kind(Enum):
    ELEMENTWISE = "elementwise"
    REDUCTION = "reduction"
    VECTOR = "vector"
    SPECIAL = "special"


RankRule = Callable[[Sequence[int]], int]


@dataclass(frozen=True)
class FunctionSpec:
    """A callable name: its arity, keywords and how its result's rank follows."""

    name: str
    kind: Kind
    min_args: int = 1
    max_args: int | None = 1
    keywords: tuple[str, ...] = ()
    rank: RankRule | None = None     # SPECIAL: result rank from argument ranks
    creates: bool = False            # builds a new tensor: called with dtype=
    fn: Callable | None = field(default=None, repr=False)  # a registered function; None: built-in

    @property
    def impl(self) -> Callable | None:
        """What generated code calls: the registered function, or the built-in torch one."""
        if self.fn is not None:
            return self.fn
        from .implementations import IMPLEMENTATIONS

        return IMPLEMENTATIONS.get(self.name)

    @property
    def pairwise(self) -> Callable | None:
        """A REDUCTION's elementwise form for two arguments (``max(a, b)``), if it has one."""
        from .implementations import PAIRWISE

        return PAIRWISE.get(self.name) if self.fn is None else None

    def result_rank(self, arg_ranks: Sequence[int]) -> int:
        if self.kind is Kind.REDUCTION:
            return max(arg_ranks) if len(arg_ranks) == 2 else 0
        if self.kind is Kind.SPECIAL and self.rank is not None:
            return self.rank(arg_ranks)
        return max(arg_ranks, default=0)


_ELEMENTWISE = ("exp", "log", "log1p", "expm1", "sqrt", "square", "abs", "sigmoid", "logit", "softplus",
                "tanh", "sin", "cos", "lgamma")
_REDUCTIONS = ("sum", "mean", "sd", "var", "prod", "logsumexp")
_VECTOR = ("softmax", "log_softmax", "cumsum")

BUILTIN_FUNCTIONS: dict[str, FunctionSpec] = {
    spec.name: spec for spec in [
        *(FunctionSpec(name, Kind.ELEMENTWISE) for name in _ELEMENTWISE),
        FunctionSpec("pow", Kind.ELEMENTWISE, 2, 2),
        FunctionSpec("clamp", Kind.ELEMENTWISE, 3, 3),
        FunctionSpec("where", Kind.ELEMENTWISE, 3, 3),
        *(FunctionSpec(name, Kind.REDUCTION, keywords=("dim",)) for name in _REDUCTIONS),
        FunctionSpec("max", Kind.REDUCTION, 1, 2, ("dim",)),
        FunctionSpec("min", Kind.REDUCTION, 1, 2, ("dim",)),
        *(FunctionSpec(name, Kind.VECTOR, keywords=("dim",)) for name in _VECTOR),
        FunctionSpec("dot", Kind.SPECIAL, 2, 2, rank=lambda r: max(max(r) - 1, 0)),
        FunctionSpec("transpose", Kind.SPECIAL, rank=lambda r: r[0]),
        FunctionSpec("diag", Kind.SPECIAL, rank=lambda r: 2 if r[0] == 1 else 1),
        FunctionSpec("cholesky", Kind.SPECIAL, rank=lambda r: 2),
        FunctionSpec("eye", Kind.SPECIAL, rank=lambda r: 2, creates=True),
        FunctionSpec("zeros", Kind.SPECIAL, 1, None, creates=True),
        FunctionSpec("ones", Kind.SPECIAL, 1, None, creates=True),
        FunctionSpec("full", Kind.SPECIAL, 2, 2, creates=True),
        FunctionSpec("arange", Kind.SPECIAL, 1, 2, rank=lambda r: 1, creates=True),
        FunctionSpec("size", Kind.SPECIAL, 1, 1, ("dim",), rank=lambda r: 0),
        FunctionSpec("rbf_kernel", Kind.SPECIAL, 3, 3, rank=lambda r: 2),
        FunctionSpec("log_prob", Kind.SPECIAL, 2, 2),
    ]
}
FUNCTIONS: dict[str, FunctionSpec] = dict(BUILTIN_FUNCTIONS)

COMPREHENSIBLE = frozenset(n for n, s in FUNCTIONS.items() if s.kind is Kind.REDUCTION)
"""Reductions that accept ``f(EXPR for k in LO..HI)``."""


def register_function(name: str, fn: Callable, *, min_args: int = 1, max_args: int | None = None,
                      rank: int | RankRule | None = None, replace: bool = False) -> FunctionSpec:
    """Make a Python function of torch tensors callable from models by ``name``.

    By default the function is taken to be elementwise (the result has the
    largest rank among the arguments); give ``rank`` (an int, or a function of
    the argument ranks) otherwise. ``max_args`` defaults to ``min_args``. A
    built-in function is replaced only with ``replace=True`` (`unregister_function`
    brings it back).

    >>> import torch
    >>> spec = register_function("cube", lambda x: x ** 3)
    >>> spec.impl(torch.tensor(2.0))
    tensor(8.)
    >>> unregister_function("cube")
    """
    if name in BUILTIN_FUNCTIONS and not replace:
        raise ValueError(f"'{name}' is a built-in function: pass replace=True to replace it")
    max_args = min_args if max_args is None else max_args
    if rank is None:
        spec = FunctionSpec(name, Kind.ELEMENTWISE, min_args, max_args, fn=fn)
    else:
        rule = rank if callable(rank) else (lambda r, fixed=rank: fixed)
        spec = FunctionSpec(name, Kind.SPECIAL, min_args, max_args, rank=rule, fn=fn)
    FUNCTIONS[name] = spec
    return spec


def unregister_function(name: str) -> None:
    """Remove a function added by `register_function` (a replaced built-in comes back)."""
    if name in BUILTIN_FUNCTIONS:
        FUNCTIONS[name] = BUILTIN_FUNCTIONS[name]
    else:
        FUNCTIONS.pop(name, None)
