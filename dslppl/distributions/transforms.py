"""Constraints and bijections torch lacks: ordered vectors and covariance matrices.

Registering them with ``biject_to`` lets every stage (the param store, the
automatic guides, the flat unconstrained vector) treat ``ordered`` and ``cov``
like any built-in support.

>>> import torch
>>> t = biject_to(ordered_vector)
>>> t(torch.tensor([0.0, 0.0, 1.0]))
tensor([0.0000, 1.0000, 3.7183])
"""
from __future__ import annotations

import math

import torch
from torch.distributions import biject_to, constraints
from torch.distributions.transforms import Transform


class _OrderedVector(constraints.Constraint):
    """Real vectors with strictly increasing entries along the last dimension."""

    event_dim = 1

    def check(self, value: torch.Tensor) -> torch.Tensor:
        increasing = (value[..., 1:] > value[..., :-1]).all(-1)
        return increasing & torch.isfinite(value).all(-1)


ordered_vector = _OrderedVector()


class OrderedTransform(Transform):
    """``y[0] = x[0]``, ``y[i] = y[i-1] + exp(x[i])``: R^K onto ordered vectors (Stan's transform)."""

    domain = constraints.real_vector
    codomain = ordered_vector
    bijective = True

    def __eq__(self, other):
        return isinstance(other, OrderedTransform)

    def _call(self, x):
        steps = torch.cat([x[..., :1], x[..., 1:].exp()], dim=-1)
        return torch.cumsum(steps, dim=-1)

    def _inverse(self, y):
        return torch.cat([y[..., :1], (y[..., 1:] - y[..., :-1]).log()], dim=-1)

    def log_abs_det_jacobian(self, x, y):
        return x[..., 1:].sum(-1)


class CovarianceTransform(Transform):
    """Unconstrained vectors of length K(K+1)/2 onto K x K covariance matrices.

    ``Sigma = L L^T`` with ``L`` lower triangular, its diagonal ``exp`` of the
    free entries; the log-Jacobian is Stan's:
    ``K log 2 + sum_k (K - k + 1) log L_kk`` (0-based ``k``), plus the ``exp``.
    """

    domain = constraints.real_vector
    codomain = constraints.positive_definite
    bijective = True

    def __eq__(self, other):
        return isinstance(other, CovarianceTransform)

    @staticmethod
    def _size(n: int) -> int:
        size = int(round((math.sqrt(8 * n + 1) - 1) / 2))
        if size * (size + 1) // 2 != n:
            raise ValueError(f"{n} free entries do not fill a lower triangle")
        return size

    def _cholesky(self, x):
        size = self._size(x.shape[-1])
        rows, cols = torch.tril_indices(size, size)
        diagonal = rows == cols
        entries = torch.where(diagonal, x.exp(), x)
        tril = x.new_zeros(x.shape[:-1] + (size, size))
        tril[..., rows, cols] = entries
        return tril

    def _call(self, x):
        tril = self._cholesky(x)
        return tril @ tril.transpose(-1, -2)

    def _inverse(self, y):
        tril = torch.linalg.cholesky(y)
        size = y.shape[-1]
        rows, cols = torch.tril_indices(size, size)
        entries = tril[..., rows, cols]
        return torch.where(rows == cols, entries.log(), entries)

    def log_abs_det_jacobian(self, x, y):
        size = self._size(x.shape[-1])
        rows, cols = torch.tril_indices(size, size)
        log_diag = x[..., rows == cols]  # log L_kk, k = 0 .. K-1
        weights = torch.arange(size + 1, 1, -1, dtype=x.dtype)  # K+1-k for 0-based k, plus 1 for exp
        return size * math.log(2.0) + (weights * log_diag).sum(-1)

    def forward_shape(self, shape):
        return shape[:-1] + (self._size(shape[-1]),) * 2

    def inverse_shape(self, shape):
        size = shape[-1]
        return shape[:-2] + (size * (size + 1) // 2,)


@biject_to.register(_OrderedVector)
def _ordered_bijection(constraint):
    return OrderedTransform()


@biject_to.register(type(constraints.positive_definite))
def _covariance_bijection(constraint):
    return CovarianceTransform()
