"""Every guide fits a conjugate Gaussian regression to its exact posterior.

The posterior of ``fakes.linear_regression`` is N(mean, cov), known in closed
form. Tolerances come from it: the fitted means within 0.1 posterior sd, the
fitted sds within 10% of the family's optimum (the exact sds for full-rank and
low-rank families; ``1/sqrt(precision_ii)`` for mean-field, whose KL-optimal
variances those are), correlations within 0.05. MAP and Laplace are exact up
to the optimiser's tolerance (1e-6).
"""
from dataclasses import replace

import pytest
import torch
from torch.distributions import Independent, Normal, constraints

import fakes
from dslppl.infer import fit
from dslppl.runtime import param, sample

D = torch.float64
MEAN, COV = fakes.exact_posterior()
SD = COV.diagonal().sqrt()
MEAN_FIELD_SD = torch.linalg.inv(COV).diagonal().rsqrt()


def _loc_cov(result):
    p = result.params
    if "scale_tril" in p:
        L = p["scale_tril"]
        return p["loc"], L @ L.T
    if "cov_factor" in p:
        W = p["cov_factor"]
        return p["loc"], W @ W.T + torch.diag(p["cov_diag"])
    if "scale" in p:
        return p["loc"], torch.diag(p["scale"] ** 2)
    return p["loc"], torch.zeros(len(p["loc"]), len(p["loc"]), dtype=D)


def _corr(cov):
    sd = cov.diagonal().sqrt()
    return cov / (sd[:, None] * sd[None, :])


@pytest.mark.parametrize("kind", ["mvn", "lowrank"])
def test_full_and_low_rank_recover_the_posterior(kind):
    result = fit(fakes.linear_regression(), guide=kind, seed=0, progress=False)
    loc, cov = _loc_cov(result)
    assert ((loc - MEAN).abs() / SD).max() < 0.1
    assert ((cov.diagonal().sqrt() / SD - 1).abs()).max() < 0.1
    assert (_corr(cov) - _corr(COV)).abs().max() < 0.05


def test_mean_field_recovers_means_and_its_optimal_sds():
    result = fit(fakes.linear_regression(), guide="normal", seed=0, progress=False)
    loc, cov = _loc_cov(result)
    assert ((loc - MEAN).abs() / SD).max() < 0.1
    assert ((cov.diagonal().sqrt() / MEAN_FIELD_SD - 1).abs()).max() < 0.1


def test_delta_is_the_mode():
    result = fit(fakes.linear_regression(), guide="delta", progress=False)
    torch.testing.assert_close(result.params["loc"], MEAN, rtol=0, atol=1e-6 * float(SD.min()))
    assert result.map.found


def test_laplace_is_exact_on_a_gaussian_posterior():
    result = fit(fakes.linear_regression(), guide="laplace", progress=False)
    loc, cov = _loc_cov(result)
    torch.testing.assert_close(loc, MEAN, rtol=0, atol=1e-6 * float(SD.min()))
    torch.testing.assert_close(cov, COV, rtol=1e-6, atol=1e-9)


def regression_guide():
    k = len(MEAN)
    loc = param("beta_loc", torch.zeros(k, dtype=D))
    scale = param("beta_scale", torch.ones(k, dtype=D), constraints.positive)
    sample("beta", Independent(Normal(loc, scale), 1))


def test_dsl_guide_fits_with_trace_elbo():
    bound = replace(fakes.linear_regression(), guide=regression_guide)
    result = fit(bound, guide="guide", steps=2000, lr=0.03, seed=0, num_particles=8,
                 vectorize_particles=True, progress=False)
    p = result.params
    assert ((p["beta_loc"] - MEAN).abs() / SD).max() < 0.1
    assert ((p["beta_scale"] / MEAN_FIELD_SD - 1).abs()).max() < 0.1
    draws = result.sample_posterior(200, seed=1)
    assert draws["beta"].shape == (200, len(MEAN))


def test_positive_latent_matches_its_gamma_posterior():
    exact = fakes.gamma_posterior()
    result = fit(fakes.gamma_scale(), guide="mvn", seed=0, progress=False)
    s = result.summary()["s"]
    # log s is close to, not exactly, Gaussian: 0.1 sd on the mean, 10% on the sd.
    assert abs(s.mean - exact.mean.item()) < 0.1 * exact.stddev.item()
    assert abs(s.sd / exact.stddev.item() - 1) < 0.1
