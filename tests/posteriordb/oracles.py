"""Hand-written Pyro versions of the posteriordb models: test oracles for the log joint.

Each oracle model is written to the *Stan* program's semantics (not from the
`.ppl` file), in float64, with plain ``pyro.sample``/``pyro.plate``/
``pyro.factor``. Its latent sites carry the `.ppl` model's names (0-based
arrays), so for a constrained parameter point ``values``::

    trace = poutine.trace(poutine.condition(model, data=values)).get_trace(data)
    trace.log_prob_sum()

is the log joint at ``values`` up to a constant (`log_joint` does exactly this).
Conventions, as in Stan:

- a flat prior contributes nothing (`ImproperUniform` on the declared support);
- a declared type narrower than the prior's support keeps the untruncated
  density on that support (`OnSupport`): half-Cauchy as ``Cauchy`` on (0, inf);
- constants that Stan's ``~`` drops may differ from the `.ppl` model's, so only
  *differences* of log joints between two points are comparable; where a
  `.ppl` model observes ``earn ~ LogNormal(...)`` the oracle keeps Stan's
  ``log(earn) ~ Normal(...)`` (the same up to a constant Jacobian).

Deterministic nodes that the reference reports (``theta``, ``f``, ``phi``) are
``pyro.deterministic`` sites; condition only on latent values (`Oracle.latents`).

>>> from .catalog import load_data
>>> data = tensor_data(load_data("eight_schools-eight_schools_noncentered"))
>>> point = ORACLES["eight_schools-eight_schools_noncentered"].random_point(data, torch.Generator().manual_seed(0))
>>> sorted(point)
['mu', 'tau', 'theta_raw']
>>> bool(torch.isfinite(log_joint("eight_schools-eight_schools_noncentered", data, point)))
True
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import pyro
import pyro.distributions as dist
import torch
from pyro import poutine
from pyro.distributions import constraints

Data = dict[str, torch.Tensor]
Point = dict[str, torch.Tensor]
DTYPE = torch.float64


def tensor_data(raw: Mapping[str, Any]) -> Data:
    """JSON data (numbers and nested lists) as float64 tensors; integer codes stay exact."""
    return {key: torch.as_tensor(value, dtype=DTYPE) for key, value in raw.items()}


def _f(x: float | list) -> torch.Tensor:
    return torch.as_tensor(x, dtype=DTYPE)


class OnSupport(dist.TorchDistribution):
    """``base``'s density, unnormalized, on a narrower declared support (Stan's truncation
    by a declared type). Only for scoring: it has no sampler."""

    arg_constraints: dict = {}
    has_rsample = False

    def __init__(self, base: dist.TorchDistribution, support: constraints.Constraint):
        self.base = base
        self._declared = support
        super().__init__(base.batch_shape, base.event_shape, validate_args=False)

    @property
    def support(self) -> constraints.Constraint:  # type: ignore[override]
        return self._declared

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        return self.base.log_prob(value)


def _flat(support: constraints.Constraint, event_shape: tuple[int, ...] = ()) -> dist.ImproperUniform:
    return dist.ImproperUniform(support, (), event_shape)


def _flat_real(n: int | None = None) -> dist.ImproperUniform:
    return _flat(constraints.real) if n is None else _flat(constraints.real_vector, (n,))


def _positive(base: dist.TorchDistribution) -> OnSupport:
    support = constraints.positive if not base.event_shape else constraints.independent(constraints.positive, 1)
    return OnSupport(base, support)


# --- random points ------------------------------------------------------------

def _randn(g: torch.Generator, *shape: int) -> torch.Tensor:
    return torch.randn(shape, generator=g, dtype=DTYPE)


def _rand(g: torch.Generator, *shape: int) -> torch.Tensor:
    return torch.rand(shape, generator=g, dtype=DTYPE)


def _pos(g: torch.Generator, scale: float = 1.0, *shape: int) -> torch.Tensor:
    """A positive value around ``scale`` (log-normal, sd 0.5 on the log scale)."""
    return scale * torch.exp(0.5 * _randn(g, *shape))


def _ordered(g: torch.Generator, k: int, start: float = 0.0, step: float = 1.0) -> torch.Tensor:
    """A strictly increasing vector: ``start`` plus cumulated positive steps."""
    return start + torch.cumsum(torch.cat([_randn(g, 1), _pos(g, step, k - 1)]), 0)


def _simplex(g: torch.Generator, k: int) -> torch.Tensor:
    """A uniform draw on the simplex (normalized exponentials)."""
    e = -torch.log(_rand(g, k).clamp_min(1e-12))
    return e / e.sum()


def _unit(g: torch.Generator, lo: float = 0.05, hi: float = 0.95) -> torch.Tensor:
    return lo + (hi - lo) * _rand(g)


# --- hierarchical ---------------------------------------------------------------

def eight_schools_noncentered(data: Data) -> None:
    J, y, sigma = int(data["J"]), data["y"], data["sigma"]
    mu = pyro.sample("mu", dist.Normal(_f(0.0), _f(5.0)))
    tau = pyro.sample("tau", _positive(dist.Cauchy(_f(0.0), _f(5.0))))
    with pyro.plate("schools", J):
        theta_raw = pyro.sample("theta_raw", dist.Normal(_f(0.0), _f(1.0)))
        theta = pyro.deterministic("theta", mu + tau * theta_raw, event_dim=0)
        pyro.sample("y", dist.Normal(theta, sigma), obs=y)


def eight_schools_centered(data: Data) -> None:
    J, y, sigma = int(data["J"]), data["y"], data["sigma"]
    mu = pyro.sample("mu", dist.Normal(_f(0.0), _f(5.0)))
    tau = pyro.sample("tau", _positive(dist.Cauchy(_f(0.0), _f(5.0))))
    with pyro.plate("schools", J):
        theta = pyro.sample("theta", dist.Normal(mu, tau))
        pyro.sample("y", dist.Normal(theta, sigma), obs=y)


def _eight_schools_point(centered: bool) -> Callable[[Data, torch.Generator], Point]:
    def point(data: Data, g: torch.Generator) -> Point:
        J = int(data["J"])
        out = {"mu": 5.0 * _randn(g), "tau": _pos(g, 3.0)}
        raw = _randn(g, J)
        out["theta" if centered else "theta_raw"] = out["mu"] + out["tau"] * raw if centered else raw
        return out
    return point


def _noncentered_from_reference(data: Data, ref: Point) -> Point:
    return {"mu": ref["mu"], "tau": ref["tau"], "theta_raw": (ref["theta"] - ref["mu"]) / ref["tau"]}


# --- sequential -------------------------------------------------------------------

def ar_k(data: Data) -> None:
    K, T, y = int(data["K"]), int(data["T"]), data["y"]
    alpha = pyro.sample("alpha", dist.Normal(_f(0.0), _f(10.0)))
    beta = pyro.sample("beta", dist.Normal(_f(0.0), _f(10.0)).expand([K]).to_event(1))
    sigma = pyro.sample("sigma", _positive(dist.Cauchy(_f(0.0), _f(2.5))))
    # lags[i, k] = y[t - 1 - k] for t = K + i: Stan's y[t - k] for 1-based t, k
    lags = torch.stack([y[K - 1 - k: T - 1 - k] for k in range(K)], dim=-1)
    with pyro.plate("time", T - K):
        pyro.sample("y", dist.Normal(alpha + lags @ beta, sigma), obs=y[K:])


def _ar_k_point(data: Data, g: torch.Generator) -> Point:
    K = int(data["K"])
    return {"alpha": 0.1 * _randn(g), "beta": 0.3 * _randn(g, K), "sigma": _pos(g, 0.2)}


def arma11(data: Data) -> None:
    T, y = int(data["T"]), data["y"]
    mu = pyro.sample("mu", dist.Normal(_f(0.0), _f(10.0)))
    phi = pyro.sample("phi", dist.Normal(_f(0.0), _f(2.0)))
    theta = pyro.sample("theta", dist.Normal(_f(0.0), _f(2.0)))
    sigma = pyro.sample("sigma", _positive(dist.Cauchy(_f(0.0), _f(2.5))))
    errors = [y[0] - (mu + phi * mu)]  # the error before the first step is 0
    for t in range(1, T):
        errors.append(y[t] - (mu + phi * y[t - 1] + theta * errors[-1]))
    pyro.factor("lik", dist.Normal(_f(0.0), sigma).log_prob(torch.stack(errors)).sum())


def _arma11_point(data: Data, g: torch.Generator) -> Point:
    return {"mu": 0.1 * _randn(g), "phi": _unit(g, 0.5, 0.99), "theta": 0.2 * _randn(g),
            "sigma": _pos(g, 0.2)}


def garch11(data: Data) -> None:
    T, y, sigma1 = int(data["T"]), data["y"], data["sigma1"]
    mu = pyro.sample("mu", _flat_real())
    alpha0 = pyro.sample("alpha0", _flat(constraints.positive))
    alpha1 = pyro.sample("alpha1", _flat(constraints.unit_interval))
    beta1 = pyro.sample("beta1", _flat(constraints.interval(_f(0.0), 1.0 - alpha1)))
    variances = [sigma1 ** 2]
    for t in range(1, T):
        variances.append(alpha0 + alpha1 * (y[t - 1] - mu) ** 2 + beta1 * variances[-1])
    scale = torch.sqrt(torch.stack(variances))
    with pyro.plate("time", T):
        pyro.sample("y", dist.Normal(mu, scale), obs=y)


def _garch11_point(data: Data, g: torch.Generator) -> Point:
    alpha1 = _unit(g, 0.05, 0.9)
    return {"mu": data["y"].mean() + 0.2 * _randn(g), "alpha0": _pos(g, 1.0), "alpha1": alpha1,
            "beta1": (1.0 - alpha1) * _unit(g, 0.05, 0.95)}


# --- discrete latent ------------------------------------------------------------------

def low_dim_gauss_mix(data: Data) -> None:
    N, y = int(data["N"]), data["y"]
    mu = pyro.sample("mu", OnSupport(dist.Normal(_f(0.0), _f(2.0)).expand([2]).to_event(1),
                                     constraints.ordered_vector))
    sigma = pyro.sample("sigma", _positive(dist.Normal(_f(0.0), _f(2.0)).expand([2]).to_event(1)))
    theta = pyro.sample("theta", dist.Beta(_f(5.0), _f(5.0)))
    # Stan's log_mix(theta, N(y | mu1, s1), N(y | mu2, s2)): weight theta on component 1
    mixing = dist.Categorical(probs=torch.stack([theta, 1.0 - theta]))
    with pyro.plate("obs", N):
        pyro.sample("y", dist.MixtureSameFamily(mixing, dist.Normal(mu, sigma)), obs=y)


def _gauss_mix_point(data: Data, g: torch.Generator) -> Point:
    return {"mu": _ordered(g, 2, -2.0, 3.0), "sigma": _pos(g, 1.0, 2), "theta": _unit(g)}


def _forward(log_theta: torch.Tensor, emit: torch.Tensor) -> torch.Tensor:
    """log p(observations) of an HMM with a uniform initial state (dropped constant):
    ``log_theta[j, k] = log P(next = k | now = j)``, ``emit[t, k]`` = emission log-density."""
    acc = emit[0]
    for t in range(1, emit.shape[0]):
        acc = torch.logsumexp(acc.unsqueeze(-1) + log_theta, dim=0) + emit[t]
    return torch.logsumexp(acc, dim=0)


def hmm_example(data: Data) -> None:
    K, y = int(data["K"]), data["y"]
    theta1 = pyro.sample("theta1", _flat(constraints.simplex, (K,)))
    theta2 = pyro.sample("theta2", _flat(constraints.simplex, (K,)))
    mu = pyro.sample("mu", OnSupport(dist.Normal(_f([3.0, 10.0]), _f(1.0)).to_event(1),
                                     constraints.positive_ordered_vector))
    emit = dist.Normal(mu, _f(1.0)).log_prob(y.unsqueeze(-1))
    pyro.factor("lik", _forward(torch.log(torch.stack([theta1, theta2])), emit))


def _hmm_example_point(data: Data, g: torch.Generator) -> Point:
    K = int(data["K"])
    return {"theta1": _simplex(g, K), "theta2": _simplex(g, K), "mu": torch.stack(_sorted_positive(g, 3.0, 5.0))}


def _sorted_positive(g: torch.Generator, lo: float, hi: float) -> tuple[torch.Tensor, torch.Tensor]:
    a = _pos(g, lo)
    return a, a + _pos(g, hi)


def hmm_drive_0(data: Data) -> None:
    K, u, v, alpha = int(data["K"]), data["u"], data["v"], data["alpha"]
    theta1 = pyro.sample("theta1", dist.Dirichlet(alpha[0]))
    theta2 = pyro.sample("theta2", dist.Dirichlet(alpha[1]))
    # Stan's positive_ordered[2] phi with phi[1] ~ N(0, 1), phi[2] ~ N(3, 1), in two scalars
    phi_lo = pyro.sample("phi_lo", _positive(dist.Normal(_f(0.0), _f(1.0))))
    phi_hi = pyro.sample("phi_hi", OnSupport(dist.Normal(_f(3.0), _f(1.0)), constraints.greater_than(phi_lo)))
    lambda_lo = pyro.sample("lambda_lo", _positive(dist.Normal(_f(0.0), _f(1.0))))
    lambda_hi = pyro.sample("lambda_hi", OnSupport(dist.Normal(_f(3.0), _f(1.0)),
                                                   constraints.greater_than(lambda_lo)))
    phi = pyro.deterministic("phi", torch.stack([phi_lo, phi_hi]))
    lam = pyro.deterministic("lambda", torch.stack([lambda_lo, lambda_hi]))
    emit = (dist.Exponential(phi).log_prob(u.unsqueeze(-1))
            + dist.Exponential(lam).log_prob(v.unsqueeze(-1)))
    assert emit.shape[-1] == K
    pyro.factor("lik", _forward(torch.log(torch.stack([theta1, theta2])), emit))


def _hmm_drive_0_point(data: Data, g: torch.Generator) -> Point:
    K = int(data["K"])
    phi_lo, phi_hi = _sorted_positive(g, 2.0, 4.0)
    lambda_lo, lambda_hi = _sorted_positive(g, 0.03, 0.05)
    return {"theta1": _simplex(g, K), "theta2": _simplex(g, K), "phi_lo": phi_lo, "phi_hi": phi_hi,
            "lambda_lo": lambda_lo, "lambda_hi": lambda_hi}


def _hmm_drive_0_from_reference(data: Data, ref: Point) -> Point:
    return {"theta1": ref["theta1"], "theta2": ref["theta2"], "phi_lo": ref["phi"][0], "phi_hi": ref["phi"][1],
            "lambda_lo": ref["lambda"][0], "lambda_hi": ref["lambda"][1]}


def hmm_drive_1(data: Data) -> None:
    u, v, alpha, tau, rho = data["u"], data["v"], data["alpha"], data["tau"], data["rho"]
    theta1 = pyro.sample("theta1", dist.Dirichlet(alpha[0]))
    theta2 = pyro.sample("theta2", dist.Dirichlet(alpha[1]))
    prior = dist.Normal(_f([0.0, 3.0]), _f(1.0)).to_event(1)
    phi = pyro.sample("phi", OnSupport(prior, constraints.ordered_vector))
    lam = pyro.sample("lambda", OnSupport(prior, constraints.ordered_vector))
    emit = dist.Normal(phi, tau).log_prob(u.unsqueeze(-1)) + dist.Normal(lam, rho).log_prob(v.unsqueeze(-1))
    pyro.factor("lik", _forward(torch.log(torch.stack([theta1, theta2])), emit))


def _hmm_drive_1_point(data: Data, g: torch.Generator) -> Point:
    K = int(data["K"])
    return {"theta1": _simplex(g, K), "theta2": _simplex(g, K), "phi": _ordered(g, K, -2.0, 1.5),
            "lambda": _ordered(g, K, 2.5, 1.0)}


# --- Gaussian processes ------------------------------------------------------------------

def _sq_exp_cov(x: torch.Tensor, alpha: torch.Tensor, rho: torch.Tensor) -> torch.Tensor:
    """Stan's gp_exp_quad_cov for 1-D inputs."""
    diff = x.unsqueeze(-1) - x.unsqueeze(-2)
    return alpha ** 2 * torch.exp(-diff ** 2 / (2.0 * rho ** 2))


def _gp_pois_cholesky(x: torch.Tensor, alpha: torch.Tensor, rho: torch.Tensor) -> torch.Tensor:
    n = x.shape[0]
    return torch.linalg.cholesky(_sq_exp_cov(x, alpha, rho) + 1e-10 * torch.eye(n, dtype=DTYPE))


def gp_pois_regr(data: Data) -> None:
    N, x, k = int(data["N"]), data["x"], data["k"]
    rho = pyro.sample("rho", dist.Gamma(_f(25.0), _f(4.0)))
    alpha = pyro.sample("alpha", _positive(dist.Normal(_f(0.0), _f(2.0))))
    f_tilde = pyro.sample("f_tilde", dist.Normal(_f(0.0), _f(1.0)).expand([N]).to_event(1))
    f = pyro.deterministic("f", _gp_pois_cholesky(x, alpha, rho) @ f_tilde, event_dim=1)
    with pyro.plate("obs", N):
        pyro.sample("k", dist.Poisson(torch.exp(f)), obs=k)


def _gp_pois_point(data: Data, g: torch.Generator) -> Point:
    N = int(data["N"])
    return {"rho": _pos(g, 6.0), "alpha": _pos(g, 2.0), "f_tilde": _randn(g, N)}


def _gp_pois_from_reference(data: Data, ref: Point) -> Point:
    L = _gp_pois_cholesky(data["x"], ref["alpha"], ref["rho"])
    f_tilde = torch.linalg.solve_triangular(L, ref["f"].unsqueeze(-1), upper=False).squeeze(-1)
    return {"rho": ref["rho"], "alpha": ref["alpha"], "f_tilde": f_tilde}


def gp_regr(data: Data) -> None:
    N, x, y = int(data["N"]), data["x"], data["y"]
    rho = pyro.sample("rho", dist.Gamma(_f(25.0), _f(4.0)))
    alpha = pyro.sample("alpha", _positive(dist.Normal(_f(0.0), _f(2.0))))
    sigma = pyro.sample("sigma", _positive(dist.Normal(_f(0.0), _f(1.0))))
    cov = _sq_exp_cov(x, alpha, rho) + sigma * torch.eye(N, dtype=DTYPE)  # sigma, not sigma^2
    pyro.sample("y", dist.MultivariateNormal(torch.zeros(N, dtype=DTYPE), covariance_matrix=cov), obs=y)


def _gp_regr_point(data: Data, g: torch.Generator) -> Point:
    return {"rho": _pos(g, 6.0), "alpha": _pos(g, 2.0), "sigma": _pos(g, 1.5)}


# --- regressions ----------------------------------------------------------------------------

def _regression(response: str, y: torch.Tensor, columns: list[torch.Tensor], *,
                sigma_prior: dist.TorchDistribution | None = None,
                beta_prior: dist.TorchDistribution | None = None) -> None:
    """``y ~ Normal(beta[0] + sum_i beta[i + 1] * columns[i], sigma)``; flat priors unless given."""
    K = len(columns) + 1
    beta = pyro.sample("beta", beta_prior.expand([K]).to_event(1) if beta_prior else _flat_real(K))
    sigma = pyro.sample("sigma", _positive(sigma_prior) if sigma_prior else _flat(constraints.positive))
    mean = beta[0] + sum(beta[i + 1] * column for i, column in enumerate(columns))
    with pyro.plate("obs", y.shape[0]):
        pyro.sample(response, dist.Normal(mean, sigma), obs=y)


def _half_cauchy_2_5() -> dist.TorchDistribution:
    return dist.Cauchy(_f(0.0), _f(2.5))


def _regression_point(K: int, loc0: float = 0.0, scale0: float = 1.0, sigma: float = 1.0
                      ) -> Callable[[Data, torch.Generator], Point]:
    def point(data: Data, g: torch.Generator) -> Point:
        beta = 0.1 * _randn(g, K)
        beta[0] = loc0 + scale0 * _randn(g)
        return {"beta": beta, "sigma": _pos(g, sigma)}
    return point


def kidscore_momhs(d: Data) -> None:
    _regression("kid_score", d["kid_score"], [d["mom_hs"]], sigma_prior=_half_cauchy_2_5())


def kidscore_momiq(d: Data) -> None:
    _regression("kid_score", d["kid_score"], [d["mom_iq"]], sigma_prior=_half_cauchy_2_5())


def kidscore_momhsiq(d: Data) -> None:
    _regression("kid_score", d["kid_score"], [d["mom_hs"], d["mom_iq"]], sigma_prior=_half_cauchy_2_5())


def kidscore_interaction(d: Data) -> None:
    hs, iq = d["mom_hs"], d["mom_iq"]
    _regression("kid_score", d["kid_score"], [hs, iq, hs * iq], sigma_prior=_half_cauchy_2_5())


def kidscore_mom_work(d: Data) -> None:
    work = d["mom_work"]
    _regression("kid_score", d["kid_score"], [(work == code).to(DTYPE) for code in (2, 3, 4)])


def kidscore_interaction_c(d: Data) -> None:
    hs, iq = d["mom_hs"] - d["mom_hs"].mean(), d["mom_iq"] - d["mom_iq"].mean()
    _regression("kid_score", d["kid_score"], [hs, iq, hs * iq])


def kidscore_interaction_c2(d: Data) -> None:
    hs, iq = d["mom_hs"] - 0.5, d["mom_iq"] - 100.0
    _regression("kid_score", d["kid_score"], [hs, iq, hs * iq])


def _z2(x: torch.Tensor) -> torch.Tensor:
    return (x - x.mean()) / (2.0 * x.std(correction=1))


def kidscore_interaction_z(d: Data) -> None:
    hs, iq = _z2(d["mom_hs"]), _z2(d["mom_iq"])
    _regression("kid_score", d["kid_score"], [hs, iq, hs * iq])


def earn_height(d: Data) -> None:
    _regression("earn", d["earn"], [d["height"]])


def log10earn_height(d: Data) -> None:
    _regression("log10_earn", torch.log10(d["earn"]), [d["height"]])


def logearn_height(d: Data) -> None:
    _regression("log_earn", torch.log(d["earn"]), [d["height"]])


def logearn_height_male(d: Data) -> None:
    _regression("log_earn", torch.log(d["earn"]), [d["height"], d["male"]])


def logearn_interaction(d: Data) -> None:
    _regression("log_earn", torch.log(d["earn"]), [d["height"], d["male"], d["height"] * d["male"]])


def logearn_interaction_z(d: Data) -> None:
    h = d["height"]
    z = (h - h.mean()) / h.std(correction=1)
    _regression("log_earn", torch.log(d["earn"]), [z, d["male"], z * d["male"]])


def logearn_logheight_male(d: Data) -> None:
    _regression("log_earn", torch.log(d["earn"]), [torch.log(d["height"]), d["male"]])


def mesquite(d: Data) -> None:
    names = ("diam1", "diam2", "canopy_height", "total_height", "density", "group")
    _regression("weight", d["weight"], [d[n] for n in names])


def logmesquite(d: Data) -> None:
    logs = [torch.log(d[n]) for n in ("diam1", "diam2", "canopy_height", "total_height", "density")]
    _regression("log_weight", torch.log(d["weight"]), logs + [d["group"]])


def _canopy(d: Data) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    volume = torch.log(d["diam1"] * d["diam2"] * d["canopy_height"])
    area = torch.log(d["diam1"] * d["diam2"])
    shape = torch.log(d["diam1"] / d["diam2"])
    return volume, area, shape


def logmesquite_logva(d: Data) -> None:
    volume, area, _ = _canopy(d)
    _regression("log_weight", torch.log(d["weight"]), [volume, area, d["group"]])


def logmesquite_logvas(d: Data) -> None:
    volume, area, shape = _canopy(d)
    _regression("log_weight", torch.log(d["weight"]),
                [volume, area, shape, torch.log(d["total_height"]), torch.log(d["density"]), d["group"]])


def logmesquite_logvash(d: Data) -> None:
    volume, area, shape = _canopy(d)
    _regression("log_weight", torch.log(d["weight"]),
                [volume, area, shape, torch.log(d["total_height"]), d["group"]])


def logmesquite_logvolume(d: Data) -> None:
    volume, _, _ = _canopy(d)
    _regression("log_weight", torch.log(d["weight"]), [volume])


def nes(d: Data) -> None:
    age = d["age_discrete"]
    columns = [d["real_ideo"], d["race_adj"], *((age == code).to(DTYPE) for code in (2, 3, 4)),
               d["educ1"], d["gender"], d["income"]]
    _regression("partyid7", d["partyid7"], columns)


def blr(d: Data) -> None:
    N, D, X, y = int(d["N"]), int(d["D"]), d["X"], d["y"]
    beta = pyro.sample("beta", dist.Normal(_f(0.0), _f(10.0)).expand([D]).to_event(1))
    sigma = pyro.sample("sigma", _positive(dist.Normal(_f(0.0), _f(10.0))))
    with pyro.plate("obs", N):
        pyro.sample("y", dist.Normal(X @ beta, sigma), obs=y)


def _blr_point(d: Data, g: torch.Generator) -> Point:
    return {"beta": 1.0 + 0.01 * _randn(g, int(d["D"])), "sigma": _pos(g, 1.0)}


def diamonds(d: Data) -> None:
    N, K, X, Y = int(d["N"]), int(d["K"]), d["X"], d["Y"]
    Xc = X[:, 1:] - X[:, 1:].mean(dim=0)  # brms: drop the intercept column, centre the rest
    b = pyro.sample("b", dist.Normal(_f(0.0), _f(1.0)).expand([K - 1]).to_event(1))
    intercept = pyro.sample("Intercept", dist.StudentT(_f(3.0), _f(8.0), _f(10.0)))
    sigma = pyro.sample("sigma", _positive(dist.StudentT(_f(3.0), _f(0.0), _f(10.0))))
    with pyro.plate("obs", N):
        pyro.sample("Y", dist.Normal(intercept + Xc @ b, sigma), obs=Y)


def _diamonds_point(d: Data, g: torch.Generator) -> Point:
    return {"b": 0.1 * _randn(g, int(d["K"]) - 1), "Intercept": 7.8 + 0.1 * _randn(g), "sigma": _pos(g, 0.5)}


def kilpisjarvi(d: Data) -> None:
    x, y = d["x"], d["y"]
    alpha = pyro.sample("alpha", dist.Normal(d["pmualpha"], d["psalpha"]))
    beta = pyro.sample("beta", dist.Normal(d["pmubeta"], d["psbeta"]))
    sigma = pyro.sample("sigma", _flat(constraints.positive))
    with pyro.plate("obs", x.shape[0]):
        pyro.sample("y", dist.Normal(alpha + beta * x, sigma), obs=y)


def _kilpisjarvi_point(d: Data, g: torch.Generator) -> Point:
    beta = 0.02 * _randn(g)
    # keep the line near the data: alpha + beta * mean(x) close to mean(y)
    alpha = d["y"].mean() - beta * d["x"].mean() + 0.5 * _randn(g)
    return {"alpha": alpha, "beta": beta, "sigma": _pos(g, 1.0)}


# --- the table ----------------------------------------------------------------------------------

def _identity(data: Data, ref: Point) -> Point:
    return dict(ref)


@dataclass(frozen=True)
class Oracle:
    """A Stan-semantics Pyro model, a sampler of valid points, and the reference-to-latent map."""

    model: Callable[[Data], None]
    random_point: Callable[[Data, torch.Generator], Point]
    latents: tuple[str, ...]
    # Reference values by our base names (theta, mu, ...) -> latent point; undoes derived nodes.
    from_reference: Callable[[Data, Point], Point] = _identity


_REG = ("beta", "sigma")


def _kid(K: int) -> Callable[[Data, torch.Generator], Point]:
    return _regression_point(K, 80.0, 10.0, 20.0)


def _log_earn(K: int) -> Callable[[Data, torch.Generator], Point]:
    return _regression_point(K, 9.0, 1.0, 1.0)


def _log_weight(K: int) -> Callable[[Data, torch.Generator], Point]:
    return _regression_point(K, 5.0, 1.0, 0.5)


ORACLES: dict[str, Oracle] = {
    "eight_schools-eight_schools_noncentered": Oracle(
        eight_schools_noncentered, _eight_schools_point(centered=False), ("mu", "tau", "theta_raw"),
        _noncentered_from_reference),
    "eight_schools-eight_schools_centered": Oracle(
        eight_schools_centered, _eight_schools_point(centered=True), ("mu", "tau", "theta")),
    "arK-arK": Oracle(ar_k, _ar_k_point, ("alpha", "beta", "sigma")),
    "arma-arma11": Oracle(arma11, _arma11_point, ("mu", "phi", "theta", "sigma")),
    "garch-garch11": Oracle(garch11, _garch11_point, ("mu", "alpha0", "alpha1", "beta1")),
    "low_dim_gauss_mix-low_dim_gauss_mix": Oracle(low_dim_gauss_mix, _gauss_mix_point, ("mu", "sigma", "theta")),
    "hmm_example-hmm_example": Oracle(hmm_example, _hmm_example_point, ("theta1", "theta2", "mu")),
    "bball_drive_event_0-hmm_drive_0": Oracle(
        hmm_drive_0, _hmm_drive_0_point,
        ("theta1", "theta2", "phi_lo", "phi_hi", "lambda_lo", "lambda_hi"), _hmm_drive_0_from_reference),
    "bball_drive_event_1-hmm_drive_1": Oracle(hmm_drive_1, _hmm_drive_1_point, ("theta1", "theta2", "phi", "lambda")),
    "gp_pois_regr-gp_pois_regr": Oracle(gp_pois_regr, _gp_pois_point, ("rho", "alpha", "f_tilde"),
                                        _gp_pois_from_reference),
    "gp_pois_regr-gp_regr": Oracle(gp_regr, _gp_regr_point, ("rho", "alpha", "sigma")),
    "diamonds-diamonds": Oracle(diamonds, _diamonds_point, ("b", "Intercept", "sigma")),
    "kilpisjarvi_mod-kilpisjarvi": Oracle(kilpisjarvi, _kilpisjarvi_point, ("alpha", "beta", "sigma")),
    "sblrc-blr": Oracle(blr, _blr_point, _REG),
    "sblri-blr": Oracle(blr, _blr_point, _REG),
    "kidiq-kidscore_momhs": Oracle(kidscore_momhs, _kid(2), _REG),
    "kidiq-kidscore_momiq": Oracle(kidscore_momiq, _kid(2), _REG),
    "kidiq-kidscore_momhsiq": Oracle(kidscore_momhsiq, _kid(3), _REG),
    "kidiq-kidscore_interaction": Oracle(kidscore_interaction, _kid(4), _REG),
    "kidiq_with_mom_work-kidscore_mom_work": Oracle(kidscore_mom_work, _kid(4), _REG),
    "kidiq_with_mom_work-kidscore_interaction_c": Oracle(kidscore_interaction_c, _kid(4), _REG),
    "kidiq_with_mom_work-kidscore_interaction_c2": Oracle(kidscore_interaction_c2, _kid(4), _REG),
    "kidiq_with_mom_work-kidscore_interaction_z": Oracle(kidscore_interaction_z, _kid(4), _REG),
    "earnings-earn_height": Oracle(earn_height, _regression_point(2, 0.0, 1e4, 2e4), _REG),
    "earnings-log10earn_height": Oracle(log10earn_height, _regression_point(2, 4.0, 0.5, 0.4), _REG),
    "earnings-logearn_height": Oracle(logearn_height, _log_earn(2), _REG),
    "earnings-logearn_height_male": Oracle(logearn_height_male, _log_earn(3), _REG),
    "earnings-logearn_interaction": Oracle(logearn_interaction, _log_earn(4), _REG),
    "earnings-logearn_interaction_z": Oracle(logearn_interaction_z, _log_earn(4), _REG),
    "earnings-logearn_logheight_male": Oracle(logearn_logheight_male, _log_earn(3), _REG),
    "mesquite-mesquite": Oracle(mesquite, _regression_point(7, 0.0, 300.0, 300.0), _REG),
    "mesquite-logmesquite": Oracle(logmesquite, _log_weight(7), _REG),
    "mesquite-logmesquite_logva": Oracle(logmesquite_logva, _log_weight(4), _REG),
    "mesquite-logmesquite_logvas": Oracle(logmesquite_logvas, _log_weight(7), _REG),
    "mesquite-logmesquite_logvash": Oracle(logmesquite_logvash, _log_weight(6), _REG),
    "mesquite-logmesquite_logvolume": Oracle(logmesquite_logvolume, _log_weight(2), _REG),
    **{f"nes{year}-nes": Oracle(nes, _regression_point(9, 2.0, 1.0, 2.0), _REG)
       for year in (1972, 1976, 1980, 1984, 1988, 1992, 1996, 2000)},
}
"""Oracles by posteriordb name."""


def log_joint(name: str, data: Data, point: Point) -> torch.Tensor:
    """The oracle's log joint (up to a constant) at a constrained latent ``point``."""
    model = ORACLES[name].model
    trace = poutine.trace(poutine.condition(model, data=point)).get_trace(data)
    return trace.log_prob_sum()


def group_coordinates(values: Mapping[str, float]) -> Point:
    """Scalar coordinates by our names (``beta[0]``, ``sigma``) -> tensors by base name.

    >>> group_coordinates({"beta[1]": 2.0, "beta[0]": 1.0, "sigma": 3.0})
    {'beta': tensor([1., 2.], dtype=torch.float64), 'sigma': tensor(3., dtype=torch.float64)}
    """
    from .catalog import parse_coordinate

    grouped: dict[str, dict[tuple[int, ...], float]] = {}
    for coord, value in values.items():
        name, index = parse_coordinate(coord)
        grouped.setdefault(name, {})[index] = float(value)
    out: Point = {}
    for name, entries in grouped.items():
        if list(entries) == [()]:
            out[name] = _f(entries[()])
            continue
        shape = tuple(max(index[d] for index in entries) + 1 for d in range(len(next(iter(entries)))))
        tensor = torch.full(shape, math.nan, dtype=DTYPE)
        for index, value in entries.items():
            tensor[index] = value
        out[name] = tensor
    return out


def point_from_reference(name: str, data: Data, values: Mapping[str, float]) -> Point:
    """A latent point from reference-style values keyed by our coordinate names
    (e.g. `catalog.Posterior.reference_means()`), undoing derived nodes."""
    oracle = ORACLES[name]
    return oracle.from_reference(data, group_coordinates(values))
