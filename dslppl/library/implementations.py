"""The torch implementations of the language's functions (the table is `functions.FUNCTIONS`).

Imported when generated code is bound, never by the checker: `FunctionSpec.impl`
and `FunctionSpec.pairwise` look names up here. Reductions receive a tuple of
negative dimensions (possibly empty: nothing to reduce); vector functions one.

>>> import torch
>>> IMPLEMENTATIONS["sd"](torch.tensor([1.0, 2.0, 3.0]), (-1,))
tensor(1.)
"""
from __future__ import annotations

from typing import Callable

import torch


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


IMPLEMENTATIONS: dict[str, Callable] = {
    "exp": torch.exp, "log": torch.log, "log1p": torch.log1p, "expm1": torch.expm1,
    "sqrt": torch.sqrt, "square": torch.square, "abs": torch.abs, "sigmoid": torch.sigmoid,
    "logit": torch.logit, "softplus": torch.nn.functional.softplus, "tanh": torch.tanh,
    "sin": torch.sin, "cos": torch.cos, "lgamma": torch.lgamma,
    "pow": _pow, "clamp": _clamp, "where": _where,
    "sum": _reduce(torch.sum), "mean": _reduce(torch.mean), "sd": _reduce(_sd), "var": _reduce(_var),
    "prod": _reduce(_prod), "logsumexp": _reduce(torch.logsumexp),
    "max": _reduce(_amax), "min": _reduce(_amin),
    "softmax": lambda x, dim: torch.softmax(x, dim),
    "log_softmax": lambda x, dim: torch.log_softmax(x, dim),
    "cumsum": lambda x, dim: torch.cumsum(x, dim),
    "dot": _dot, "transpose": lambda x: x.transpose(-1, -2), "diag": _diag,
    "cholesky": torch.linalg.cholesky, "eye": _eye, "zeros": _zeros, "ones": _ones, "full": _full,
    "arange": _arange, "rbf_kernel": _rbf_kernel,
}
"""Every built-in function but ``size`` and ``log_prob``, which generated code writes inline."""

PAIRWISE: dict[str, Callable] = {"max": torch.maximum, "min": torch.minimum}
"""Reductions that, given two arguments, are elementwise."""
