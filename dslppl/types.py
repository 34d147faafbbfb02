"""The one table of declared types: what each base type means to every stage.

The checker reads which types exist, take bounds, are data-only and need a
shape; code generation reads the support each type gives a latent (and so its
transform); binding reads the natural bounds and the validator that data of
that type must pass. Nothing here imports torch: validators receive tensors
and use their methods.

>>> TYPES["cov"].min_shape, TYPES["positive"].lower, TYPES["int"].data_only
(2, 0.0, True)
>>> sorted(name for name, t in TYPES.items() if t.bounded)
['int', 'positive', 'probability', 'real']
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

Validator = Callable[[Any], Any]  # a tensor of values -> a bool tensor marking bad elements


@dataclass(frozen=True)
class TypeSpec:
    """A base type: its bounds, shape needs, support and data check."""

    name: str
    meaning: str
    support: str                       # the support a latent of this type lives on (see codegen.sites)
    bounded: bool = False              # takes <lower=..., upper=...>
    data_only: bool = False            # integers and booleans: data, never latent or param
    min_shape: int = 0                 # trailing dimensions a value needs (1: a vector, 2: a square matrix)
    lower: float | None = None         # natural bounds (checked on data)
    upper: float | None = None
    strict_lower: bool = False
    invalid: Validator | None = None   # data of this type must not be marked by it

    @property
    def structured(self) -> bool:
        """The last ``min_shape`` dimensions form one value (a vector or matrix constraint)."""
        return self.min_shape > 0


def _spread(bad, value, event: int):
    """A per-value mark (over the last ``event`` dims) spread to every element of the value."""
    for _ in range(event):
        bad = bad.unsqueeze(-1)
    return bad.expand(value.shape)


def _not_simplex(value):
    return (value < 0) | _spread((value.sum(-1) - 1).abs() > 1e-6, value, 1)


def _not_ordered(value):
    steps = value[..., 1:] - value[..., :-1]
    return _spread((steps <= 0).any(-1), value, 1)


def _not_covariance(value):
    import torch  # binding time only

    symmetric = (value - value.transpose(-1, -2)).abs().amax((-1, -2)) <= 1e-8 * (1 + value.abs().amax((-1, -2)))
    _, info = torch.linalg.cholesky_ex(value)
    return _spread(~symmetric | (info != 0), value, 2)


def _not_corr_cholesky(value):
    import torch  # binding time only

    upper = torch.triu(value, diagonal=1).abs().amax((-1, -2)) > 0
    diagonal = (value.diagonal(dim1=-2, dim2=-1) <= 0).any(-1)
    unit_rows = ((value.pow(2).sum(-1) - 1).abs() > 1e-6).any(-1)
    return _spread(upper | diagonal | unit_rows, value, 2)


TYPES: dict[str, TypeSpec] = {t.name: t for t in (
    TypeSpec("real", "any real", "real", bounded=True),
    TypeSpec("int", "integer", "real", bounded=True, data_only=True),
    TypeSpec("bool", "0 or 1", "real", data_only=True, lower=0.0, upper=1.0),
    TypeSpec("positive", "real > 0", "positive", bounded=True, lower=0.0, strict_lower=True),
    TypeSpec("probability", "real in [0, 1]", "unit", bounded=True, lower=0.0, upper=1.0),
    TypeSpec("simplex", "non-negative entries summing to 1 along the last dimension", "simplex", min_shape=1,
             invalid=_not_simplex),
    TypeSpec("ordered", "strictly increasing along the last dimension", "ordered", min_shape=1,
             invalid=_not_ordered),
    TypeSpec("corr_cholesky", "the Cholesky factor of a correlation matrix: lower triangular, positive diagonal, rows of length 1", "corr_cholesky",
             min_shape=2, invalid=_not_corr_cholesky),
    TypeSpec("cov", "a symmetric positive-definite matrix", "cov", min_shape=2, invalid=_not_covariance),
)}

__all__ = ["TYPES", "TypeSpec"]
