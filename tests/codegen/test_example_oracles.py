"""Every example's compiled log joint against a hand-written Pyro model (test-only),
at random parameter points: differences between points agree to 1e-5 relative."""
from __future__ import annotations

import json
from pathlib import Path

import pyro
import pyro.distributions as dist
import pytest
import torch
from pyro import poutine

import dslppl
from dslppl import runtime

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
F64 = torch.float64


def _t(x):
    return torch.as_tensor(x, dtype=F64)


def ar_k(d):
    alpha = pyro.sample("alpha", dist.Normal(_t(0.), 1.))
    beta = pyro.sample("beta", dist.Normal(_t(0.), 1.).expand([int(d["K"])]).to_event(1))
    sigma = pyro.sample("sigma", dist.HalfNormal(_t(1.)))
    K, T, y = int(d["K"]), int(d["T"]), d["y"]
    mean = torch.stack([alpha + sum(beta[k] * y[t - 1 - k] for k in range(K)) for t in range(K, T)])
    pyro.sample("y", dist.Normal(mean, sigma).to_event(1), obs=y[K:])


def coin(d):
    p = pyro.sample("p", dist.Beta(_t(2.), _t(2.)))
    pyro.sample("heads", dist.Binomial(d["n"], p), obs=d["heads"])


def eight_schools(d):
    mu = pyro.sample("mu", dist.Normal(_t(0.), 5.))
    tau = pyro.sample("tau", dist.HalfCauchy(_t(5.)))
    with pyro.plate("j", int(d["J"])):
        theta_raw = pyro.sample("theta_raw", dist.Normal(_t(0.), 1.))
        pyro.sample("y", dist.Normal(mu + tau * theta_raw, d["sigma"]), obs=d["y"])


def gp_regression(d):
    rho = pyro.sample("rho", dist.InverseGamma(_t(5.), _t(5.)))
    alpha = pyro.sample("alpha", dist.HalfNormal(_t(1.)))
    sigma = pyro.sample("sigma", dist.HalfNormal(_t(1.)))
    x = d["x"]
    cov = alpha ** 2 * torch.exp(-0.5 * (x[:, None] - x[None, :]) ** 2 / rho ** 2)
    cov = cov + (sigma ** 2 + 1e-6) * torch.eye(len(x), dtype=F64)
    pyro.sample("y", dist.MultivariateNormal(torch.zeros(len(x), dtype=F64), covariance_matrix=cov), obs=d["y"])


def linear_regression(d):
    alpha = pyro.sample("alpha", dist.Normal(_t(0.), 10.))
    beta = pyro.sample("beta", dist.Normal(_t(0.), 10.))
    sigma = pyro.sample("sigma", dist.HalfNormal(_t(5.)))
    with pyro.plate("n", int(d["N"])):
        pyro.sample("y", dist.Normal(alpha + beta * d["x"], sigma), obs=d["y"])


def logistic_regression(d):
    alpha = pyro.sample("alpha", dist.Normal(_t(0.), 2.5))
    beta = pyro.sample("beta", dist.Normal(_t(0.), 1.).expand([int(d["K"])]).to_event(1))
    pyro.sample("y", dist.Bernoulli(logits=d["X"] @ beta + alpha).to_event(1), obs=d["y"])


def mixture(d):
    mu = pyro.sample("mu", dist.ImproperUniform(dist.constraints.real_vector, (), (2,)))  # ordered: below
    pyro.factor("mu_prior", dist.Normal(_t(0.), 5.).log_prob(mu).sum())
    sigma = pyro.sample("sigma", dist.HalfNormal(_t(2.)).expand([2]).to_event(1))
    w = pyro.sample("w", dist.Dirichlet(_t([2., 2.])))
    with pyro.plate("n", int(d["N"])):
        lik = torch.logsumexp(w.log() + dist.Normal(mu, sigma).log_prob(d["y"][:, None]), dim=-1)
        pyro.factor("lik", lik)


def prior_predictive(d):
    alpha = pyro.sample("alpha", dist.Normal(_t(1.), 0.5))
    beta = pyro.sample("beta", dist.Normal(_t(0.), 0.5))
    pyro.sample("y", dist.Poisson(torch.exp(alpha + beta * d["x"])).to_event(1), obs=d["y"])


def radon(d):
    mu_a = pyro.sample("mu_a", dist.Normal(_t(0.), 5.))
    sigma_a = pyro.sample("sigma_a", dist.HalfNormal(_t(1.)))
    beta = pyro.sample("beta", dist.Normal(_t(0.), 2.))
    sigma_y = pyro.sample("sigma_y", dist.HalfNormal(_t(1.)))
    with pyro.plate("j", int(d["J"])):
        a = pyro.sample("a", dist.Normal(mu_a, sigma_a))
    with pyro.plate("n", int(d["N"])):
        mean = a[d["county"].long()] + beta * d["floor"]
        pyro.sample("log_radon", dist.Normal(mean, sigma_y), obs=d["log_radon"])


def random_walk(d):
    s = pyro.sample("s", dist.HalfNormal(_t(1.)))
    obs_sd = pyro.sample("obs_sd", dist.HalfNormal(_t(1.)))
    T = int(d["T"])
    x = pyro.sample("x", dist.ImproperUniform(dist.constraints.real_vector, (), (T,)))
    pyro.factor("x_chain", dist.Normal(_t(0.), 2.).log_prob(x[0]) + dist.Normal(x[:-1], s).log_prob(x[1:]).sum())
    with pyro.plate("t", T):
        pyro.sample("y", dist.Normal(x, obs_sd), obs=d["y"])


def _summed(inner, *args) -> torch.Tensor:
    """log p(observations | continuous values), the discrete sites of ``inner`` summed out by
    Pyro's own enumeration (TraceEnum_ELBO with an empty guide is exact then)."""
    elbo = pyro.infer.TraceEnum_ELBO(max_plate_nesting=1)
    with poutine.block():
        return _t(-elbo.loss(pyro.infer.config_enumerate(inner), lambda *a: None, *args))


def mixture_labels(d):
    mu = pyro.sample("mu", dist.ImproperUniform(dist.constraints.real_vector, (), (2,)))  # ordered: below
    pyro.factor("mu_prior", dist.Normal(_t(0.), 5.).log_prob(mu).sum())
    sigma = pyro.sample("sigma", dist.HalfNormal(_t(2.)).expand([2]).to_event(1))
    w = pyro.sample("w", dist.Dirichlet(_t([2., 2.])))

    def labels():
        with pyro.plate("n", int(d["N"])):
            z = pyro.sample("z", dist.Categorical(w))
            pyro.sample("y", dist.Normal(mu[z], sigma[z]), obs=d["y"])
    pyro.factor("marginal", _summed(labels))


def change_point(d):
    early = pyro.sample("early", dist.Exponential(_t(0.5)))
    late = pyro.sample("late", dist.Exponential(_t(0.5)))
    T = int(d["T"])

    def switch():
        s = pyro.sample("s", dist.Categorical(torch.ones(T, dtype=F64) / T))
        with pyro.plate("t", T):
            t = torch.arange(T)
            pyro.sample("y", dist.Poisson(torch.where(t < s, early, late)), obs=d["y"])
    pyro.factor("marginal", _summed(switch))


def zero_inflated(d):
    theta = pyro.sample("theta", dist.Beta(_t(1.), _t(1.)))
    rate = pyro.sample("rate", dist.Gamma(_t(2.), _t(0.5)))

    def indicators():
        with pyro.plate("n", int(d["N"])):
            zero = pyro.sample("zero", dist.Bernoulli(theta))
            pyro.sample("y", dist.Poisson(torch.where(zero == 1, _t(1e-10), rate)), obs=d["y"])
    pyro.factor("marginal", _summed(indicators))


def hmm(d):
    K, T = int(d["K"]), int(d["T"])
    start = pyro.sample("start", dist.Dirichlet(torch.ones(K, dtype=F64)))
    P = pyro.sample("P", dist.Dirichlet(torch.ones(K, K, dtype=F64)).to_event(1))
    mu = pyro.sample("mu", dist.ImproperUniform(dist.constraints.real_vector, (), (K,)))  # ordered: below
    pyro.factor("mu_prior", dist.Normal(_t(0.), 5.).log_prob(mu).sum())
    sigma = pyro.sample("sigma", dist.HalfNormal(_t(2.)))

    def chain():
        z = pyro.sample("z_0", dist.Categorical(start))
        pyro.sample("y_0", dist.Normal(mu[z], sigma), obs=d["y"][0])
        for t in pyro.markov(range(1, T)):
            z = pyro.sample(f"z_{t}", dist.Categorical(P[z]))
            pyro.sample(f"y_{t}", dist.Normal(mu[z], sigma), obs=d["y"][t])
    pyro.factor("marginal", _summed(chain))


def sprinkler(d):
    def network():
        rain = pyro.sample("rain", dist.Bernoulli(_t(0.2)))
        sprinkler = pyro.sample("sprinkler", dist.Bernoulli(torch.where(rain == 1, 0.01, 0.4).to(F64)))
        wet = torch.where(sprinkler == 1, torch.where(rain == 1, 0.99, 0.9), torch.where(rain == 1, 0.8, 0.0))
        pyro.sample("wet", dist.Bernoulli(wet.to(F64)), obs=d["wet"])
    pyro.factor("marginal", _summed(network))


ORACLES = {
    "ar_k": ar_k, "coin": coin, "eight_schools": eight_schools, "eight_schools_guide": eight_schools,
    "gp_regression": gp_regression, "linear_regression": linear_regression,
    "logistic_regression": logistic_regression, "mixture": mixture, "prior_predictive": prior_predictive,
    "radon": radon, "random_walk": random_walk, "mixture_labels": mixture_labels, "change_point": change_point,
    "zero_inflated": zero_inflated, "hmm": hmm, "sprinkler": sprinkler,
}
PRIOR_PREDICTIVE_Y = {"y": [1, 0, 3, 2, 5, 1, 2, 2, 4, 0, 1, 3, 2, 6, 1, 0, 2, 3, 1, 2]}


def test_every_example_has_an_oracle():
    assert sorted(p.stem for p in EXAMPLES.glob("*.ppl")) == sorted(ORACLES)


@pytest.mark.parametrize("name", sorted(ORACLES))
def test_example_log_joint_matches_pyro(name):
    data = json.loads((EXAMPLES / f"{name}.json").read_text())
    if name == "prior_predictive":
        data.update(PRIOR_PREDICTIVE_Y)
    bound = dslppl.load(EXAMPLES / f"{name}.ppl").bind(data)
    tensors = {k: _t(v) for k, v in data.items()}
    generator = torch.Generator().manual_seed(0)
    ours, theirs = [], []
    for _ in range(3):
        u = 0.5 * torch.randn(bound.dim, generator=generator, dtype=F64)
        values = bound.constrain(u)
        ours.append(runtime.trace(runtime.condition(bound.model, data=values)).get_trace().log_prob_sum())
        pyro_trace = poutine.trace(poutine.condition(ORACLES[name], data=values)).get_trace(tensors)
        theirs.append(pyro_trace.log_prob_sum())
    for i in (1, 2):
        assert float(ours[i] - ours[0]) == pytest.approx(float(theirs[i] - theirs[0]), rel=1e-5, abs=1e-8)
