"""Hand-built `BoundModel`s for the inference tests.

Each fake is a handler program plus a hand-written potential / constrain /
unconstrain, the contract the compiler's bound models follow:

- `linear_regression`: beta ~ N(0, 2^2 I), y ~ N(X beta, 0.5^2) with sigma
  known, so the posterior is exactly Gaussian (`exact_posterior`);
- `eight_schools`: non-centred, with a positive latent (tau) and a
  deterministic node (theta);
- `gamma_scale`: a positive latent with a conjugate posterior
  (s ~ Gamma(a, b) as a precision, y ~ N(0, 1/sqrt(s))).

`from_program` builds the same kind of object from any program through
`dslppl.infer.bind_program` (subsampled plates, factors, ...).
"""
from __future__ import annotations

import math
import torch
from torch.distributions import Gamma, HalfCauchy, Independent, Normal, constraints

from dslppl.binding.bound import BoundModel, LatentSite
from dslppl.infer import bind_program
from dslppl.runtime import deterministic, plate, sample

D = torch.float64


def _t(x) -> torch.Tensor:
    return torch.as_tensor(x, dtype=D)


# --- Gaussian linear regression (exact posterior) ------------------------------------
def regression_data(n: int = 30, k: int = 3, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, k, generator=g, dtype=D)
    X[:, 1] += 0.8 * X[:, 0]  # correlated columns: a correlated posterior
    y = X @ _t([1.0, -2.0, 0.5]) + 0.5 * torch.randn(n, generator=g, dtype=D)
    return X, y


PRIOR_SD, NOISE_SD = 2.0, 0.5


def linear_regression() -> BoundModel:
    X, y = regression_data()
    k = X.shape[1]

    def model():
        beta = sample("beta", Independent(Normal(torch.zeros(k, dtype=D), PRIOR_SD), 1))
        with plate("n", len(y)):
            # (X * beta).sum(-1), not X @ beta: it broadcasts over a particle dim.
            sample("y", Normal((X * beta).sum(-1), NOISE_SD), obs=y)

    def potential(u):
        return (Normal(0.0, PRIOR_SD).log_prob(u).sum()
                + Normal(X @ u, NOISE_SD).log_prob(y).sum())

    site = LatentSite("beta", torch.Size([k]), torch.Size([k]), 0,
                      constraints.independent(constraints.real, 1), plates=())
    return BoundModel("linear_regression", D, {"X": X, "y": y}, model, potential,
                      lambda u: {"beta": u}, lambda v: _t(v["beta"]).reshape(-1), (site,),
                      torch.zeros(k, dtype=D), observed=("y",))


def exact_posterior() -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and covariance of beta in `linear_regression`."""
    X, y = regression_data()
    precision = torch.eye(X.shape[1], dtype=D) / PRIOR_SD ** 2 + X.T @ X / NOISE_SD ** 2
    cov = torch.linalg.inv(precision)
    return cov @ (X.T @ y) / NOISE_SD ** 2, cov


# --- eight schools, non-centred ---------------------------------------------------------
Y8 = _t([28, 8, -3, 7, -1, 1, 18, 12])
SIGMA8 = _t([15, 10, 16, 11, 9, 11, 10, 18])


def eight_schools_model():
    mu = sample("mu", Normal(_t(0.0), 5.0))
    tau = sample("tau", HalfCauchy(_t(5.0)))
    with plate("j", 8):
        theta_raw = sample("theta_raw", Normal(_t(0.0), 1.0))
        theta = deterministic("theta", mu + tau * theta_raw)
        sample("y", Normal(theta, SIGMA8), obs=Y8)


def eight_schools() -> BoundModel:
    def potential(u):
        mu, log_tau, raw = u[0], u[1], u[2:]
        tau = log_tau.exp()
        return (Normal(0.0, 5.0).log_prob(mu) + HalfCauchy(5.0).log_prob(tau) + log_tau
                + Normal(0.0, 1.0).log_prob(raw).sum()
                + Normal(mu + tau * raw, SIGMA8).log_prob(Y8).sum())

    def constrain(u):
        return {"mu": u[0], "tau": u[1].exp(), "theta_raw": u[2:]}

    def unconstrain(v):
        return torch.cat([_t(v["mu"]).reshape(1), _t(v["tau"]).log().reshape(1),
                          _t(v["theta_raw"]).reshape(-1)])

    latents = (
        LatentSite("mu", torch.Size(), torch.Size(), 0, constraints.real),
        LatentSite("tau", torch.Size(), torch.Size(), 1, constraints.positive),
        LatentSite("theta_raw", torch.Size([8]), torch.Size([8]), 2, constraints.real, plates=("j",)),
    )
    return BoundModel("eight_schools", D, {"y": Y8, "sigma": SIGMA8}, eight_schools_model,
                      potential, constrain, unconstrain, latents, torch.zeros(10, dtype=D),
                      observed=("y",), deterministic=("theta",), plate_sizes={"j": 8})


# --- a positive latent with a conjugate posterior ----------------------------------------
GAMMA_A, GAMMA_B = 3.0, 2.0
GAMMA_Y = _t([0.3, -1.2, 0.8, 0.1, -0.5, 1.5, -0.9, 0.4])


def gamma_scale() -> BoundModel:
    """s ~ Gamma(a, b) is the precision of y; the posterior is Gamma(a + n/2, b + sum y^2 / 2)."""
    def model():
        s = sample("s", Gamma(_t(GAMMA_A), _t(GAMMA_B)))
        with plate("n", len(GAMMA_Y)):
            sample("y", Normal(_t(0.0), s.rsqrt()), obs=GAMMA_Y)

    def potential(u):
        s = u[0].exp()
        return (Gamma(GAMMA_A, GAMMA_B).log_prob(s) + u[0]
                + Normal(0.0, s.rsqrt()).log_prob(GAMMA_Y).sum())

    site = LatentSite("s", torch.Size(), torch.Size(), 0, constraints.positive)
    return BoundModel("gamma_scale", D, {"y": GAMMA_Y}, model, potential,
                      lambda u: {"s": u[0].exp()}, lambda v: _t(v["s"]).log().reshape(1),
                      (site,), torch.zeros(1, dtype=D), observed=("y",))


def gamma_posterior() -> Gamma:
    n = len(GAMMA_Y)
    return Gamma(GAMMA_A + n / 2, GAMMA_B + float((GAMMA_Y ** 2).sum()) / 2)


# --- programs bound generically -------------------------------------------------------------
def normal_mean(n: int = 1000, batch: int | None = None, seed: int = 3) -> BoundModel:
    """mu ~ N(0, 10), y_i ~ N(mu, 1), optionally with the data plate subsampled."""
    g = torch.Generator().manual_seed(seed)
    y = 1.5 + torch.randn(n, generator=g, dtype=D)

    def model():
        mu = sample("mu", Normal(_t(0.0), 10.0))
        with plate("data", n, subsample_size=batch) as idx:
            sample("y", Normal(mu, 1.0), obs=y[idx])

    return bind_program(model, name="normal_mean")


def normal_mean_posterior(n: int = 1000, seed: int = 3) -> tuple[float, float]:
    g = torch.Generator().manual_seed(seed)
    y = 1.5 + torch.randn(n, generator=g, dtype=D)
    precision = 1 / 100 + n
    return float(y.sum()) / precision, math.sqrt(1 / precision)
