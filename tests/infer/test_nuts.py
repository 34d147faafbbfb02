"""NUTS against the truth: exact conjugate posteriors, simulation-based calibration,
Pyro's leapfrog integrator, Stan's adaptation windows, and bit-for-bit resumption."""
import numpy as np
import pytest
import torch
from scipy import stats

import dslppl
from dslppl.infer import diagnostics as diag
from dslppl.infer.mcmc import _Run, sample
from dslppl.infer.nuts import LogDensity, Metric, Point, _Integrator
from dslppl.infer.adaptation import Windows

CONJUGATE = dslppl.loads('''
model conjugate {
  data n: int
  data y: real[n]
  data trials: int
  data k: int
  data m: int
  data counts: int[m]
  mu ~ Normal(0, 10)
  plate i in n { y[i] ~ Normal(mu, 2) }
  p ~ Beta(2, 3)
  k ~ Binomial(trials, p)
  lam ~ Gamma(3, 2)
  plate j in m { counts[j] ~ Poisson(lam) }
}''')
DATA = {"n": 5, "y": [1.0, 2.0, 0.5, 3.0, 1.5], "trials": 20, "k": 7, "m": 4, "counts": [3, 1, 4, 2]}


def _exact():
    precision = 1 / 100 + 5 / 4
    return {"mu": stats.norm(sum(DATA["y"]) / 4 / precision, precision ** -0.5),
            "p": stats.beta(2 + 7, 3 + 13),
            "lam": stats.gamma(3 + 10, scale=1 / (2 + 4))}


def _check_moments(draws: np.ndarray, exact) -> None:
    """Mean and variance within 4 Monte Carlo standard errors of the truth."""
    mean, var = exact.mean(), exact.var()
    assert abs(draws.mean() - mean) < 4 * diag.mcse_mean(draws)
    squared = (draws - mean) ** 2
    assert abs(squared.mean() - var) < 4 * diag.mcse_mean(squared)


@pytest.mark.parametrize("metric", ["diag", "dense"])
def test_conjugate_posteriors_are_exact(metric):
    post = CONJUGATE.sample(DATA, chains=4, warmup=150, draws=250, seed=1, metric=metric, progress=False,
                            warn=False)
    draws = post.draws()
    for name, exact in _exact().items():
        _check_moments(draws[name].numpy(), exact)
    summary = post.summary()
    assert max(r.r_hat for r in summary) < 1.02
    assert post.diagnostics()["divergences"] == 0


@pytest.mark.slow
def test_simulation_based_calibration():
    """Ranks of the true values among posterior draws are uniform (Talts et al. 2018).

    The replicates are independent blocks of one model, so one run samples
    every replicate's posterior at once."""
    model = dslppl.loads('''
    model sbc {
      data R: int
      data n: int
      data y: real[R, n]
      plate r in R {
        mu[r] ~ Normal(0, 1)
        sigma[r] ~ LogNormal(0, 0.5)
        plate i in n { y[r, i] ~ Normal(mu[r], sigma[r]) }
      }
    }''')
    gen = torch.Generator().manual_seed(7)
    R, n = 100, 3
    mu = torch.randn(R, generator=gen, dtype=torch.float64)
    sigma = torch.exp(0.5 * torch.randn(R, generator=gen, dtype=torch.float64))
    y = mu[:, None] + sigma[:, None] * torch.randn(R, n, generator=gen, dtype=torch.float64)
    post = model.sample({"R": R, "n": n, "y": y.tolist()}, chains=4, warmup=150, draws=200, seed=3,
                        progress=False, warn=False)
    draws = post.draws()
    for name, truth in (("mu", mu), ("sigma", sigma)):
        thinned = draws[name][:, ::8].reshape(-1, R)            # 100 nearly independent draws
        ranks = (thinned < truth).sum(0).numpy()                # 0..100
        counts = np.bincount(ranks * 10 // 101, minlength=10)  # 10 equal bins
        assert stats.chisquare(counts).pvalue > 1e-3, (name, counts)


def test_leapfrog_matches_pyro():
    from pyro.ops.integrator import velocity_verlet

    cov = torch.tensor([[2.0, 0.5, 0.0], [0.5, 1.0, 0.3], [0.0, 0.3, 0.5]], dtype=torch.float64)
    prec = torch.linalg.inv(cov)

    def log_density(u):
        return -0.5 * u @ prec @ u - (u ** 4).sum() / 20

    inverse = torch.tensor([[1.5, 0.2, 0.0], [0.2, 0.8, 0.1], [0.0, 0.1, 0.6]], dtype=torch.float64)
    q0 = torch.tensor([0.3, -1.0, 0.7], dtype=torch.float64)
    p0 = torch.tensor([1.0, 0.5, -0.2], dtype=torch.float64)
    for inv in (inverse, torch.diagonal(inverse)):
        density = LogDensity(log_density)
        integrator = _Integrator(density, Metric(inv[None]))
        logp, grad = density(q0[None])
        z = Point(q0[None], p0[None], logp, grad)
        for _ in range(7):
            z = integrator.leapfrog(z, torch.tensor([0.1], dtype=torch.float64))

        def kinetic_grad(r, inv=inv):
            return {"x": inv @ r["x"] if inv.dim() == 2 else inv * r["x"]}

        q, p, _, _ = velocity_verlet({"x": q0}, {"x": p0}, lambda s: -log_density(s["x"]), kinetic_grad,
                                     0.1, num_steps=7)
        torch.testing.assert_close(z.q[0], q["x"])
        torch.testing.assert_close(z.p[0], p["x"])


def test_stan_windows_for_short_warmup():
    windows = Windows(150)  # 75 + 25 + 50 = 150: the slow window is one window of 25
    assert [i for i in range(150) if windows.ends_window(i)] == [99]
    assert [i for i in range(100) if Windows(100).ends_window(i)] == [89]  # 15 / 75 / 10
    assert not Windows(10).ends_window(5)


def test_resumed_run_gives_the_same_draws(tmp_path, monkeypatch):
    bound = CONJUGATE.bind(DATA)
    options = dict(chains=2, warmup=40, draws=30, seed=5, progress=False, warn=False)
    whole = sample(bound, **options)

    path = tmp_path / "run.ckpt"
    iterate = _Run._iterate

    def interrupted(self, warmup):
        if self.iteration == 55:
            raise KeyboardInterrupt
        iterate(self, warmup)

    monkeypatch.setattr(_Run, "_iterate", interrupted)
    with pytest.raises(KeyboardInterrupt):
        sample(bound, checkpoint=path, checkpoint_every=10, **options)
    monkeypatch.setattr(_Run, "_iterate", iterate)
    resumed = sample(bound, checkpoint=path, checkpoint_every=10, **options)
    assert torch.equal(resumed.u, whole.u)
    assert torch.equal(resumed.stats["tree_depth"], whole.stats["tree_depth"])


def test_static_hmc_is_exact():
    post = CONJUGATE.sample(DATA, chains=4, warmup=150, draws=250, seed=2, progress=False,
                            algorithm="hmc", num_steps=5, warn=False)
    for name, exact in _exact().items():
        _check_moments(post.draws()[name].numpy(), exact)


def test_init_values_and_posterior_interface(tmp_path):
    post = CONJUGATE.sample(DATA, chains=2, warmup=50, draws=50, seed=0, progress=False, warn=False,
                            init={"mu": 1.0, "p": 0.3, "lam": 2.0})
    assert post.sample_posterior()["mu"].shape == (100,)
    assert post.sample_posterior(50, seed=1)["lam"].shape == (50,)
    predictive = post.predictive(10, seed=0)
    assert predictive["counts"].shape == (10, 4) and predictive["y"].shape == (10, 5)
    post.save(tmp_path / "post.pt")
    loaded = type(post).load(tmp_path / "post.pt")
    assert loaded.summary().to_dict() == post.summary().to_dict()
    assert set(post.to_json()["summary"]["mu"]) >= {"mean", "sd", "q5", "q50", "q95", "r_hat", "ess_bulk"}


def test_to_arviz_names_dimensions_after_plates():
    az = pytest.importorskip("arviz")
    post = CONJUGATE.sample(DATA, chains=2, warmup=30, draws=20, seed=0, progress=False, warn=False)
    idata = post.to_arviz()
    assert isinstance(idata, az.InferenceData)
    assert idata.posterior["mu"].dims == ("chain", "draw")
    assert idata.posterior_predictive["y"].dims == ("chain", "draw", "i")
    assert list(idata.observed_data["counts"].coords["j"].values) == [0, 1, 2, 3]
    assert {"diverging", "tree_depth", "energy", "step_size"} <= set(idata.sample_stats.data_vars)
    assert float(az.rhat(idata)["mu"]) == pytest.approx(post.summary()["mu"].r_hat, abs=1e-6)


def test_cli_fit_with_nuts(tmp_path):
    import csv
    import json

    from dslppl.cli import main

    model, data = tmp_path / "m.ppl", tmp_path / "d.json"
    model.write_text(CONJUGATE.text.text)
    data.write_text(json.dumps(DATA))
    init = tmp_path / "init.json"
    init.write_text(json.dumps({"mu": 0.5, "p": 0.5, "lam": 1.0}))
    out, draws = tmp_path / "fit.json", tmp_path / "draws.csv"
    status = main(["fit", str(model), "--data", str(data), "--method", "nuts", "--chains", "2",
                   "--warmup", "40", "--draws", "30", "--seed", "3", "--init", str(init),
                   "--out", str(out), "--draws-out", str(draws), "--no-progress"])
    assert status == 0
    result = json.loads(out.read_text())
    assert result["method"] == "nuts" and set(result["summary"]) == {"mu", "p", "lam"}
    assert {"r_hat", "ess_bulk", "ess_tail", "mcse_mean", "mean", "q50"} <= set(result["summary"]["mu"])
    assert "divergences" in result["diagnostics"] and isinstance(result["warnings"], list)
    with open(draws) as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 60 and {"chain", "draw", "lp__", "divergent__", "treedepth__", "mu"} <= set(rows[0])


def test_potential_that_vmap_cannot_run_is_evaluated_per_chain():
    def batchable(u):
        return -0.5 * (u * u).sum() - torch.log1p(u[0] ** 2)

    def stepwise(u):  # branches on a value: vmap refuses, the loop runs it
        total = -0.5 * (u * u).sum()
        return total - torch.log1p(u[0] ** 2) if bool(u[0].detach() == u[0].detach()) else total

    q = torch.randn(3, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    rows = torch.tensor([True, False, True])
    expected, looped = LogDensity(batchable), LogDensity(stepwise)
    for mask in (None, rows):
        zeros = (torch.zeros(3, dtype=torch.float64), torch.zeros(3, 4, dtype=torch.float64))
        for a, b in zip(expected(q, mask, *zeros), looped(q, mask, *zeros)):
            torch.testing.assert_close(a, b)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # raised inside torch's compiler stack
def test_compiled_leapfrog_agrees_with_eager():
    def potential(u):
        return -0.5 * (u * u).sum() - torch.log1p(u[0] ** 2) + torch.distributions.Gamma(3.0, 2.0).log_prob(u[1].exp())

    gen = torch.Generator().manual_seed(1)
    q, p = (torch.randn(4, 3, generator=gen, dtype=torch.float64) for _ in range(2))
    eager, compiled = LogDensity(potential), LogDensity(potential, compile=True)
    metric = Metric(torch.tensor([1.0, 0.5, 2.0], dtype=torch.float64).expand(4, 3))
    step = torch.tensor([0.1, -0.2, 0.3, 0.1], dtype=torch.float64)
    rows = torch.tensor([True, False, True, True])
    moved = []
    for density in (eager, compiled):
        logp, grad = density(q)
        moved.append(_Integrator(density, metric).leapfrog(Point(q, p, logp, grad), step, rows))
    for name in ("q", "p", "logp", "grad"):
        torch.testing.assert_close(getattr(moved[0], name), getattr(moved[1], name))
    assert compiled.leapfrog is not None  # it compiled rather than falling back
