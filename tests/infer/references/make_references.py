"""Data and NUTS reference posteriors for tests/infer/test_reliability.py (not from dslppl).

Run once from the repository root: ``python tests/infer/references/make_references.py [NAME ...]``.
Each model of tests/infer/models/ (and examples/random_walk) is written again in
Pyro and sampled with Pyro's NUTS (pyro-ppl 1.9.2, one chain, 700 warm-up
and 1,500 kept draws); the posterior mean and sd of every scalar coordinate go
to NAME.json here. Sequential latents (x[t] ~ Normal(x[t-1], s)) are written
as a flat improper site plus factors, the same density.
"""
import json
import sys
from pathlib import Path

import numpy as np
import pyro
import pyro.distributions as dist
import torch
from pyro.infer import MCMC, NUTS

ROOT = Path(__file__).resolve().parents[3]
MODELS = ROOT / "tests" / "infer" / "models"
HERE = Path(__file__).parent


def flat(name, n):
    return pyro.sample(name, dist.Normal(0.0, 1.0).expand([n]).mask(False).to_event(1))


def random_walk(T, y):
    y = torch.tensor(y)
    s = pyro.sample("s", dist.HalfNormal(1.0))
    obs_sd = pyro.sample("obs_sd", dist.HalfNormal(1.0))
    x = flat("x", T)
    pyro.factor("x0", dist.Normal(0.0, 2.0).log_prob(x[0]))
    pyro.factor("walk", dist.Normal(x[:-1], s).log_prob(x[1:]).sum())
    pyro.factor("y", dist.Normal(x, obs_sd).log_prob(y).sum())


def ar1_latent(T, y):
    y = torch.tensor(y)
    phi = pyro.sample("phi", dist.Uniform(-1.0, 1.0))
    sigma = pyro.sample("sigma", dist.HalfNormal(1.0))
    obs_sd = pyro.sample("obs_sd", dist.HalfNormal(1.0))
    x = flat("x", T)
    pyro.factor("x0", dist.Normal(0.0, 1.0).log_prob(x[0]))
    pyro.factor("ar", dist.Normal(phi * x[:-1], sigma).log_prob(x[1:]).sum())
    pyro.factor("y", dist.Normal(x, obs_sd).log_prob(y).sum())


def stochastic_volatility(T, y):
    y = torch.tensor(y)
    mu = pyro.sample("mu", dist.Normal(0.0, 10.0))
    phi = pyro.sample("phi", dist.Uniform(-1.0, 1.0))
    sigma2 = pyro.sample("sigma2", dist.InverseGamma(0.001, 0.001))
    sigma = sigma2.sqrt()
    h = flat("h", T)
    pyro.factor("h0", dist.Normal(mu, sigma / (1 - phi ** 2).sqrt()).log_prob(h[0]))
    pyro.factor("ar", dist.Normal(mu + phi * (h[:-1] - mu), sigma).log_prob(h[1:]).sum())
    pyro.factor("y", dist.Normal(0.0, (h / 2).exp()).log_prob(y).sum())


def latent_gp(N, x, k):
    x, k = torch.tensor(x), torch.tensor(k, dtype=torch.float64)
    rho = pyro.sample("rho", dist.InverseGamma(5.0, 5.0))
    alpha = pyro.sample("alpha", dist.HalfNormal(2.0))
    cov = alpha ** 2 * torch.exp(-(x[:, None] - x[None, :]) ** 2 / (2 * rho ** 2)) + 1e-6 * torch.eye(N)
    f = pyro.sample("f", dist.MultivariateNormal(torch.zeros(N), scale_tril=torch.linalg.cholesky(cov)))
    pyro.factor("k", dist.Poisson(f.exp()).log_prob(k).sum())


def make_data():
    rng = np.random.default_rng(20251203)
    data = {}
    T = 60
    x = np.zeros(T)
    for t in range(1, T):
        x[t] = 0.8 * x[t - 1] + 0.5 * rng.standard_normal()
    data["ar1_latent"] = {"T": T, "y": np.round(x + 0.5 * rng.standard_normal(T), 4).tolist()}
    T = 100
    h = np.zeros(T)
    h[0] = -1 + 0.35 / np.sqrt(1 - 0.95 ** 2) * rng.standard_normal()
    for t in range(1, T):
        h[t] = -1 + 0.95 * (h[t - 1] + 1) + 0.35 * rng.standard_normal()
    data["stochastic_volatility"] = {"T": T, "y": np.round(np.exp(h / 2) * rng.standard_normal(T), 4).tolist()}
    N = 20
    xs = np.linspace(0, 10, N)
    K = np.exp(-(xs[:, None] - xs[None, :]) ** 2 / (2 * 2.0 ** 2)) + 1e-6 * np.eye(N)
    f = np.linalg.cholesky(K) @ rng.standard_normal(N) + 1.0
    data["latent_gp"] = {"N": N, "x": np.round(xs, 4).tolist(), "k": rng.poisson(np.exp(f)).tolist()}
    for name, d in data.items():
        (MODELS / f"{name}.json").write_text(json.dumps(d))


def reference(name):
    path = ROOT / "examples" / "random_walk.json" if name == "random_walk" else MODELS / f"{name}.json"
    data = json.loads(path.read_text())
    pyro.set_rng_seed(0)
    mcmc = MCMC(NUTS(globals()[name], jit_compile=True, ignore_jit_warnings=True, target_accept_prob=0.9),
                num_samples=1500, warmup_steps=700, disable_progbar=True)
    mcmc.run(**data)
    out = {}
    for site, draws in mcmc.get_samples().items():
        draws = draws.reshape(draws.shape[0], -1)
        for i in range(draws.shape[1]):
            key = site if draws.shape[1] == 1 else f"{site}[{i}]"
            out[key] = {"mean": draws[:, i].mean().item(), "sd": draws[:, i].std().item()}
    diverging = int(mcmc.diagnostics()["divergences"]["chain 0"].__len__())
    (HERE / f"{name}.json").write_text(json.dumps({"divergences": diverging, "posterior": out}, indent=0))
    print(name, {k: out[k] for k in list(out)[:4]}, "divergences", diverging)


if __name__ == "__main__":
    torch.set_default_dtype(torch.float64)   # here, not at import: pytest imports this file for doctests
    names = sys.argv[1:] or ["random_walk", "ar1_latent", "stochastic_volatility", "latent_gp"]
    if not (MODELS / "latent_gp.json").exists():
        make_data()
    for name in names:
        reference(name)
