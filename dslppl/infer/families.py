"""Guide families over the model's flat unconstrained vector ``u``.

A family turns one flat parameter vector ``phi`` and standard-normal noise
``eps`` (shape ``[P, noise_dim]``, one row per particle) into draws ``u``
(``[P, D]``) and their log-density ``log q(u)``. This is all the fused fast
path of :func:`~dslppl.infer.fit.fit` needs: ELBO = mean over particles of
``potential(u) - log q(u)``.

Every family is *whitened*: it is written around a centre ``mode`` and a
fixed preconditioner from the Laplace approximation (a Cholesky factor ``L0``
or a diagonal ``s0``), so that the trained parameters live where the
posterior is close to a standard normal:

- ``normal``:  u = mode + s0 * (m + exp(rho) * eps)             (mean-field)
- ``mvn``:     u = mode + L0 @ (m + S eps),  S = tril(R, -1) + diag(exp(rho))
- ``lowrank``: u = mode + s0 * (m + W z + exp(rho) * eps)
- ``delta``:   u = phi                                            (a point)
- ``laplace``: u = mode + L0 @ eps                                (nothing trained)

A poorly scaled posterior (a regression on unscaled covariates, intercept and
slope almost collinear) is then well scaled for the optimizer, which is why
the same learning rate works on all of them.

Gradients use the path estimator ("sticking the landing", Roeder et al.
2017) unless ``path_gradient=False``: the gradient of ``log q(u)`` is taken
with the parameters held fixed, which drops the score term (expectation
zero) whose variance does not vanish at the optimum, so the iterates settle
faster and closer. The loss *value* is always the exact ``log q`` of the
draw, computed from the noise (``log N(eps) - log|det S|``), never from
``u`` re-solved through the scale: that re-solve returns garbage once ``S``
is near singular, and an optimiser that sees garbage values follows them to
a loss of -1e11 (a latent random walk did). The path term needs
``Cov^-1 (u - m)``, a solve against the scale; it is used only when the solve
checks out (residual below 1e-8 of the right-hand side). Otherwise, for
that step, the gradient is the plain reparameterised one, whose ``log q``
part is the gradient of ``-log|det S|``: no solve, and a collapsing scale
only raises the loss. ``lowrank`` uses minus its analytic entropy in that case.

>>> import torch
>>> fam = FullRank(torch.zeros(2), torch.eye(2))
>>> u, log_q = fam.rsample(fam.init_params(), torch.zeros(1, 2))
>>> u, round(log_q.item(), 4)
(tensor([[0., 0.]]), -1.8379)
"""
from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import ClassVar

import torch
from torch.distributions import (Distribution, Independent, LowRankMultivariateNormal,
                                 MultivariateNormal, Normal)

from ..distributions import Delta

__all__ = ["Family", "MeanField", "FullRank", "LowRank", "PointMass", "Laplace",
           "family_from_state"]

_LOG_2PI = math.log(2 * math.pi)


class Family(ABC):
    """The interface of a flat-vector guide family (see the module docstring)."""

    kind: ClassVar[str]
    path_gradient = False

    def __init__(self, mode: torch.Tensor) -> None:
        self.mode = mode.detach()
        self.dim = mode.numel()

    @property
    def noise_dim(self) -> int:
        """Columns of ``eps`` that :meth:`rsample` reads."""
        return self.dim

    @abstractmethod
    def init_params(self) -> torch.Tensor:
        """The starting ``phi`` (a fresh tensor; the caller makes it a leaf)."""

    @abstractmethod
    def rsample(self, phi: torch.Tensor, eps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Draws ``u`` (``[P, D]``) and ``log q(u)`` (``[P]``) from noise ``eps``.

        ``eps`` of shape ``[noise_dim]`` gives one draw ``[D]`` and a scalar.
        """

    @abstractmethod
    def distribution(self, phi: torch.Tensor) -> Distribution:
        """q as a torch distribution over ``u`` (event shape ``[D]``)."""

    @abstractmethod
    def named_params(self, phi: torch.Tensor) -> dict[str, torch.Tensor]:
        """q's parameters in ``u``-space, for people (``Fit.params``)."""

    def state(self) -> dict:
        """Plain tensors and numbers that rebuild the family (``weights_only`` safe)."""
        return {"kind": self.kind, "mode": self.mode}

    def _standard_log_prob(self, eps: torch.Tensor) -> torch.Tensor:
        return -0.5 * eps.pow(2).sum(-1) - 0.5 * eps.shape[-1] * _LOG_2PI


class MeanField(Family):
    """``normal``: independent normals, scaled by ``s0`` (e.g. ``1/sqrt(diag H)``)."""

    kind = "normal"

    def __init__(self, mode: torch.Tensor, scale: torch.Tensor, init_scale: float = 1.0,
                 path_gradient: bool = True) -> None:
        super().__init__(mode)
        self.scale = scale.detach()
        self.init_scale = float(init_scale)
        self.path_gradient = path_gradient
        self._log_det = self.scale.log().sum()
        self._const = -0.5 * self.dim * _LOG_2PI - self._log_det.item()   # log q's constant part

    def init_params(self) -> torch.Tensor:
        d = self.dim
        return torch.cat([self.mode.new_zeros(d), self.mode.new_full((d,), math.log(self.init_scale))])

    def rsample(self, phi, eps):
        d = self.dim
        m, rho = phi[:d], phi[d:]
        sd = rho.exp()
        w = m + sd * eps
        if self.path_gradient:
            rho = rho.detach()
            eps = (w - m.detach()) / sd.detach()
        return self.mode + self.scale * w, self._const - 0.5 * (eps * eps).sum(-1) - rho.sum()

    def named_params(self, phi):
        d = self.dim
        return {"loc": self.mode + self.scale * phi[:d], "scale": self.scale * phi[d:].exp()}

    def distribution(self, phi):
        p = self.named_params(phi)
        return Independent(Normal(p["loc"], p["scale"]), 1)

    def state(self):
        return {**super().state(), "scale": self.scale, "init_scale": self.init_scale,
                "path_gradient": self.path_gradient}


class FullRank(Family):
    """``mvn``: a full-rank normal whitened by ``L0`` (the Laplace covariance's Cholesky factor)."""

    kind = "mvn"

    def __init__(self, mode: torch.Tensor, scale_tril: torch.Tensor, init_scale: float = 1.0,
                 path_gradient: bool = True) -> None:
        super().__init__(mode)
        self.scale_tril = scale_tril.detach()
        self.init_scale = float(init_scale)
        self.path_gradient = path_gradient
        self._log_det = self.scale_tril.diagonal().log().sum()
        self._const = -0.5 * self.dim * _LOG_2PI - self._log_det.item()   # log q's constant part
        self._tril_T = self.scale_tril.T.contiguous()
        # S = R * mask + diag(exp(rho)). A multiply by a fixed mask, not tril():
        # torch's tril dispatches to its thread pool even for tiny matrices.
        self._mask = torch.ones(self.dim, self.dim, dtype=mode.dtype).tril(-1)

    def init_params(self) -> torch.Tensor:
        d = self.dim
        return torch.cat([self.mode.new_zeros(d), self.mode.new_full((d,), math.log(self.init_scale)),
                          self.mode.new_zeros(d * d)])

    def rsample(self, phi, eps):
        d = self.dim
        m, rho = phi[:d], phi[d:2 * d]
        lower = phi[2 * d:].view(d, d) * self._mask
        diag = rho.exp()
        w = m + eps @ lower.T + diag * eps
        log_q = self._const - 0.5 * (eps * eps).sum(-1)   # log q(u) = log N(eps) - log|det L0 S|
        if self.path_gradient:
            S = lower.detach() + torch.diag(diag.detach())
            v = _solve_checked(lambda b: torch.linalg.solve_triangular(S.T, b, upper=True),
                               lambda x: S.T @ x, eps)   # Cov^-1 (w - m) = S^-T eps
            if v is not None:
                path = (v * (w - w.detach())).sum(-1)  # value 0, gradient -d log q / dw . dw
                return self.mode + w @ self._tril_T, log_q - rho.detach().sum() - path
        return self.mode + w @ self._tril_T, log_q - rho.sum()

    def named_params(self, phi):
        d = self.dim
        S = phi[2 * d:].view(d, d) * self._mask + torch.diag(phi[d:2 * d].exp())
        return {"loc": self.mode + self.scale_tril @ phi[:d], "scale_tril": self.scale_tril @ S}

    def distribution(self, phi):
        p = self.named_params(phi)
        return MultivariateNormal(p["loc"], scale_tril=p["scale_tril"])

    def state(self):
        return {**super().state(), "scale_tril": self.scale_tril, "init_scale": self.init_scale,
                "path_gradient": self.path_gradient}


class LowRank(Family):
    """``lowrank``: a diagonal-plus-rank-``r`` covariance, scaled by ``s0``.

    ``init_factor`` (``[D, r]``) starts W, e.g. at the leading directions of
    the Laplace covariance in ``s0``-scaled coordinates.
    """

    kind = "lowrank"

    def __init__(self, mode: torch.Tensor, scale: torch.Tensor, init_factor: torch.Tensor,
                 init_scale: float = 1.0, path_gradient: bool = True) -> None:
        super().__init__(mode)
        self.scale = scale.detach()
        self.path_gradient = path_gradient
        self.init_factor = init_factor.detach()
        self.rank = init_factor.shape[1]
        self.init_scale = float(init_scale)
        self._log_det = self.scale.log().sum()
        self._eye = torch.eye(self.rank, dtype=mode.dtype)

    @property
    def noise_dim(self) -> int:
        return self.rank + self.dim

    def init_params(self) -> torch.Tensor:
        d = self.dim
        return torch.cat([self.mode.new_zeros(d), self.mode.new_full((d,), math.log(self.init_scale)),
                          self.init_factor.reshape(-1)])

    def _parts(self, phi):
        d = self.dim
        return phi[:d], phi[d:2 * d], phi[2 * d:].view(d, self.rank)

    def rsample(self, phi, eps):
        m, rho, W = self._parts(phi)
        z, e = eps[..., :self.rank], eps[..., self.rank:]
        d = rho.exp()
        x = z @ W.T + d * e                        # w - m, covariance W W' + diag(d^2)
        w = m + x
        # log det (W W' + D^2) = 2 sum log d + log det (I + A'A), A = W / d (the
        # determinant lemma); I + A'A has eigenvalues >= 1: its Cholesky is safe.
        A = W / d[:, None]
        chol = torch.linalg.cholesky(self._eye + A.T @ A)
        log_det = 2 * rho.sum() + 2 * chol.diagonal().log().sum()
        const = -0.5 * (log_det + self.dim * _LOG_2PI) - self._log_det
        if self.path_gradient:
            Wd, dd, Ad, Cd = W.detach(), d.detach(), A.detach(), chol.detach()

            def solve(b):   # Woodbury: Cov^-1 b = D^-2 b - D^-1 A C^-1 A' D^-1 b
                y = b / dd[:, None]
                return (y - Ad @ torch.cholesky_solve(Ad.T @ y, Cd)) / dd[:, None]
            g = _solve_checked(solve, lambda v: Wd @ (Wd.T @ v) + dd[:, None] ** 2 * v, x.detach())
            if g is not None:
                log_q = const.detach() - 0.5 * (g * x.detach()).sum(-1) - (g * (w - w.detach())).sum(-1)
                return self.mode + self.scale * w, log_q
        # No usable solve: log q by its expectation, minus the entropy (Stan ADVI's estimator).
        return self.mode + self.scale * w, (const - 0.5 * self.dim).expand(w.shape[:-1])

    def named_params(self, phi):
        m, rho, W = self._parts(phi)
        return {"loc": self.mode + self.scale * m, "cov_factor": self.scale[:, None] * W,
                "cov_diag": (self.scale * rho.exp()).pow(2)}

    def distribution(self, phi):
        p = self.named_params(phi)
        return LowRankMultivariateNormal(p["loc"], p["cov_factor"], p["cov_diag"])

    def state(self):
        return {**super().state(), "scale": self.scale, "init_factor": self.init_factor,
                "init_scale": self.init_scale, "path_gradient": self.path_gradient}


class PointMass(Family):
    """``delta``: a point estimate; ``phi`` is ``u`` itself (started at ``mode``)."""

    kind = "delta"

    @property
    def noise_dim(self) -> int:
        return 0

    def init_params(self):
        return self.mode.clone()

    def rsample(self, phi, eps):
        batch = eps.shape[:-1]
        return phi.expand(batch + (self.dim,)), phi.new_zeros(batch)

    def named_params(self, phi):
        return {"loc": phi}

    def distribution(self, phi):
        return Delta(phi, event_dim=1)


class Laplace(Family):
    """``laplace``: N(mode, H^-1), H the Hessian of -potential at the mode; nothing trained."""

    kind = "laplace"

    def __init__(self, mode: torch.Tensor, scale_tril: torch.Tensor) -> None:
        super().__init__(mode)
        self.scale_tril = scale_tril.detach()
        self._log_det = self.scale_tril.diagonal().log().sum()

    def init_params(self):
        return self.mode.new_zeros(0)

    def rsample(self, phi, eps):
        return self.mode + eps @ self.scale_tril.T, self._standard_log_prob(eps) - self._log_det

    def named_params(self, phi):
        return {"loc": self.mode, "scale_tril": self.scale_tril}

    def distribution(self, phi):
        return MultivariateNormal(self.mode, scale_tril=self.scale_tril)

    def state(self):
        return {**super().state(), "scale_tril": self.scale_tril}


def _solve_checked(solve, apply, rhs: torch.Tensor) -> torch.Tensor | None:
    """``solve(rhs)`` for rows of ``rhs``, or None when ``apply`` of it misses ``rhs`` by over 1e-8.

    A backward-stable solve always has a small residual relative to |A| |x|;
    relative to |rhs| it is small only while A is well conditioned (below ~1e8).
    """
    b = rhs.reshape(-1, rhs.shape[-1]).T
    x = solve(b)
    residual = (apply(x) - b).abs().max()
    if not bool(torch.isfinite(x).all()) or residual > 1e-8 * b.abs().max().clamp(min=1.0):
        return None
    return x.T.reshape(rhs.shape)


_KINDS: dict[str, type[Family]] = {cls.kind: cls for cls in (MeanField, FullRank, LowRank,
                                                             PointMass, Laplace)}


def family_from_state(state: dict) -> Family:
    """Rebuild a family from :meth:`Family.state`.

    >>> fam = MeanField(torch.zeros(3), torch.ones(3))
    >>> type(family_from_state(fam.state())).__name__
    'MeanField'
    """
    kwargs = {k: v for k, v in state.items() if k != "kind"}
    return _KINDS[state["kind"]](**kwargs)
