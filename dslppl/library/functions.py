"""The functions a model may call (LANGUAGE.md §7), as a typed table over torch.

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
the end, so that leading plate dimensions are never touched.

>>> FUNCTIONS["sd"].kind
<Kind.REDUCTION: 'reduction'>
>>> import torch
>>> FUNCTIONS["sd"].impl(torch.tensor([1.0, 2.0, 3.0]), (-1,))
tensor(1.)
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Callable, Sequence

import torch


class Kind(Enum):
    ELEMENTWISE = "elementwise"
    REDUCTION = "reduction"
    VECTOR = "vector"
    SPECIAL = "special"


RankRule = Callable[[Sequence[int]], int]


@dataclass(frozen=True)
class FunctionSpec:
    """A callable name: its torch implementation, arity and how its result's rank follows."""

    name: str
    kind: Kind
    impl: Callable
    min_args: int = 1
    max_args: int | None = 1
    keywords: tuple[str, ...] = ()
    rank: RankRule | None = None     # SPECIAL: result rank from argument ranks
    pairwise: Callable | None = None  # REDUCTION with two arguments (max, min)
    creates: bool = False            # builds a new tensor: called with dtype=

    def result_rank(self, arg_ranks: Sequence[int]) -> int:
        if self.kind is Kind.REDUCTION:
            return max(arg_ranks) if len(arg_ranks) == 2 else 0
        if self.kind is Kind.SPECIAL and self.rank is not None:
            return self.rank(arg_ranks)
        return max(arg_ranks, default=0)


def _reduce(op: Callable) -> Callable:
    def reduce(x: torch.Tensor, dims: tuple[int, ...]) -> torch.Tensor:
        return op(x, dims) if dims else x
    return reduce


def _sd(x, dims):
    return torch.std(x, dim=dims, correction=1)


def _var(x, dims):
    return torch.var(x, dim=dims, correction=1)


def _prod(x, dims):
    for d in sorted(dims):  # torch.prod takes one dim at a time
        x = torch.prod(x, dim=d, keepdim=True)
    return x.reshape(x.shape[: len(x.shape) - len(dims)]) if dims else x


def _amax(x, dims):
    return torch.amax(x, dim=dims)


def _amin(x, dims):
    return torch.amin(x, dim=dims)


def _dot(a, b):
    return (a * b).sum(-1)


def _diag(x):
    return torch.diag_embed(x) if x.dim() == 1 else torch.diagonal(x, dim1=-2, dim2=-1)


def _sizes(shape) -> list[int]:
    if isinstance(shape, torch.Tensor):
        return [int(s) for s in shape.reshape(-1)]
    if isinstance(shape, (list, tuple)):
        return [int(s) for s in shape]
    return [int(shape)]


def _zeros(*shape, dtype=None):
    return torch.zeros([n for s in shape for n in _sizes(s)], dtype=dtype)


def _ones(*shape, dtype=None):
    return torch.ones([n for s in shape for n in _sizes(s)], dtype=dtype)


def _full(shape, value, dtype=None):
    return torch.full(_sizes(shape), float(value), dtype=dtype)


def _eye(n, dtype=None):
    return torch.eye(int(n), dtype=dtype)


def _arange(lo, hi=None, dtype=None):
    return torch.arange(int(lo), dtype=dtype) if hi is None else torch.arange(int(lo), int(hi), dtype=dtype)


def _rbf_kernel(x, alpha, rho):
    """``alpha^2 exp(-|x_i - x_j|^2 / (2 rho^2))`` for points ``x`` (a vector, or rows of a matrix)."""
    points = x.unsqueeze(-1) if x.dim() == 1 else x
    sq_dist = (points.unsqueeze(-2) - points.unsqueeze(-3)).pow(2).sum(-1)
    return alpha**2 * torch.exp(-0.5 * sq_dist / rho**2)


def _where(cond, a, b):
    a, b = torch.as_tensor(a), torch.as_tensor(b)
    return torch.where(torch.as_tensor(cond).bool(), a, b)


def _pow(a, b):
    return torch.pow(a, b)


def _clamp(x, lo, hi):
    return torch.clamp(x, lo, hi)


def _unary(name: str, impl: Callable) -> FunctionSpec:
    return FunctionSpec(name, Kind.ELEMENTWISE, impl)


_ELEMENTWISE = {
    "exp": torch.exp, "log": torch.log, "log1p": torch.log1p, "expm1": torch.expm1,
    "sqrt": torch.sqrt, "square": torch.square, "abs": torch.abs, "sigmoid": torch.sigmoid,
    "logit": torch.logit, "softplus": torch.nn.functional.softplus, "tanh": torch.tanh,
    "sin": torch.sin, "cos": torch.cos, "lgamma": torch.lgamma,
}

FUNCTIONS: dict[str, FunctionSpec] = {name: _unary(name, impl) for name, impl in _ELEMENTWISE.items()}
FUNCTIONS.update({
    spec.name: spec for spec in [
        FunctionSpec("pow", Kind.ELEMENTWISE, _pow, 2, 2),
        FunctionSpec("clamp", Kind.ELEMENTWISE, _clamp, 3, 3),
        FunctionSpec("where", Kind.ELEMENTWISE, _where, 3, 3),
        FunctionSpec("sum", Kind.REDUCTION, _reduce(torch.sum), keywords=("dim",)),
        FunctionSpec("mean", Kind.REDUCTION, _reduce(torch.mean), keywords=("dim",)),
        FunctionSpec("sd", Kind.REDUCTION, _reduce(_sd), keywords=("dim",)),
        FunctionSpec("var", Kind.REDUCTION, _reduce(_var), keywords=("dim",)),
        FunctionSpec("prod", Kind.REDUCTION, _reduce(_prod), keywords=("dim",)),
        FunctionSpec("logsumexp", Kind.REDUCTION, _reduce(torch.logsumexp), keywords=("dim",)),
        FunctionSpec("max", Kind.REDUCTION, _reduce(_amax), 1, 2, ("dim",), pairwise=torch.maximum),
        FunctionSpec("min", Kind.REDUCTION, _reduce(_amin), 1, 2, ("dim",), pairwise=torch.minimum),
        FunctionSpec("softmax", Kind.VECTOR, lambda x, dim: torch.softmax(x, dim), keywords=("dim",)),
        FunctionSpec("log_softmax", Kind.VECTOR, lambda x, dim: torch.log_softmax(x, dim),
                     keywords=("dim",)),
        FunctionSpec("cumsum", Kind.VECTOR, lambda x, dim: torch.cumsum(x, dim), keywords=("dim",)),
        FunctionSpec("dot", Kind.SPECIAL, _dot, 2, 2, rank=lambda r: max(max(r) - 1, 0)),
        FunctionSpec("transpose", Kind.SPECIAL, lambda x: x.transpose(-1, -2), rank=lambda r: r[0]),
        FunctionSpec("diag", Kind.SPECIAL, _diag, rank=lambda r: 2 if r[0] == 1 else 1),
        FunctionSpec("cholesky", Kind.SPECIAL, torch.linalg.cholesky, rank=lambda r: 2),
        FunctionSpec("eye", Kind.SPECIAL, _eye, rank=lambda r: 2, creates=True),
        FunctionSpec("zeros", Kind.SPECIAL, _zeros, 1, None, creates=True),
        FunctionSpec("ones", Kind.SPECIAL, _ones, 1, None, creates=True),
        FunctionSpec("full", Kind.SPECIAL, _full, 2, 2, creates=True),
        FunctionSpec("arange", Kind.SPECIAL, _arange, 1, 2, rank=lambda r: 1, creates=True),
        FunctionSpec("size", Kind.SPECIAL, None, 1, 1, ("dim",), rank=lambda r: 0),
        FunctionSpec("rbf_kernel", Kind.SPECIAL, _rbf_kernel, 3, 3, rank=lambda r: 2),
        FunctionSpec("log_prob", Kind.SPECIAL, None, 2, 2),
    ]
})

COMPREHENSIBLE = frozenset(n for n, s in FUNCTIONS.items() if s.kind is Kind.REDUCTION)
"""Reductions that accept ``f(EXPR for k in LO..HI)``."""

def register_function(name: str, fn: Callable, *, min_args: int = 1, max_args: int | None = None,
                      rank: int | RankRule | None = None) -> FunctionSpec:
    """Make a Python function of torch tensors callable from models by ``name``.

    By default the function is taken to be elementwise (the result has the
    largest rank among the arguments); give ``rank`` (an int, or a function of
    the argument ranks) otherwise. ``max_args`` defaults to ``min_args``.

    >>> import torch
    >>> spec = register_function("cube", lambda x: x ** 3)
    >>> spec.impl(torch.tensor(2.0))
    tensor(8.)
    >>> unregister_function("cube")
    """
    if name in FUNCTIONS and name not in _USER:
        raise ValueError(f"'{name}' is a built-in function and cannot be replaced")
    max_args = min_args if max_args is None else max_args
    if rank is None:
        spec = FunctionSpec(name, Kind.ELEMENTWISE, fn, min_args, max_args)
    else:
        rule = rank if callable(rank) else (lambda r, fixed=rank: fixed)
        spec = FunctionSpec(name, Kind.SPECIAL, fn, min_args, max_args, rank=rule)
    FUNCTIONS[name] = spec
    _USER.add(name)
    return spec


def unregister_function(name: str) -> None:
    """Remove a function added by `register_function`."""
    if name in _USER:
        FUNCTIONS.pop(name)
        _USER.discard(name)


_USER: set[str] = set()
