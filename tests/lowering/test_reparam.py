"""Automatic non-centring: the rewritten model has the same posterior over the user's
variables, and fixes the funnel that traps a fit of the centred form."""
from __future__ import annotations

import math

import pytest
import torch

import dslppl
from dslppl import runtime

CENTRED = """model m {
  data J: int
  data y: real[J]
  data sigma: positive[J]
  mu ~ Normal(0, 5)
  tau ~ HalfCauchy(5)
  plate j in J {
    theta[j] ~ Normal(mu, tau)
    y[j] ~ Normal(theta[j], sigma[j])
  }
}
"""
DATA = {"J": 8, "y": [28, 8, -3, 7, -1, 1, 18, 12], "sigma": [15, 10, 16, 11, 9, 11, 10, 18]}


def _log_joint(bound, values):
    return runtime.trace(runtime.condition(bound.model, data=values)).get_trace().log_prob_sum()


def test_the_rewrite_is_reported_and_keeps_the_users_names():
    model = dslppl.loads(CENTRED)
    (rewrite,) = model.rewrites
    assert str(rewrite) == "theta[j] ~ Normal(mu, tau) becomes theta_raw[j] ~ Normal(0, 1); " \
                           "theta[j] = mu + tau * theta_raw[j]"
    bound = model.bind(DATA, reparam=True)
    assert [s.name for s in bound.latents] == ["mu", "tau", "theta_raw"] and bound.deterministic == ("theta",)
    assert [s.name for s in model.bind(DATA).latents] == ["mu", "tau", "theta"]


def test_the_rewritten_density_is_the_change_of_variables_of_the_original():
    """p'(mu, tau, raw) = p(mu, tau, theta(raw)) * |d theta / d raw| = p(...) * tau^J."""
    model = dslppl.loads(CENTRED)
    centred, noncentred = model.bind(DATA), model.bind(DATA, reparam=True)
    g = torch.Generator().manual_seed(0)
    mu, tau = torch.tensor(1.5, dtype=torch.float64), torch.tensor(2.5, dtype=torch.float64)
    raw = torch.randn(8, generator=g, dtype=torch.float64)
    theta = mu + tau * raw
    ours = _log_joint(noncentred, {"mu": mu, "tau": tau, "theta_raw": raw})
    expected = _log_joint(centred, {"mu": mu, "tau": tau, "theta": theta}) + 8 * math.log(2.5)
    assert float(ours) == pytest.approx(float(expected), rel=1e-12)


@pytest.mark.parametrize("family, scale_type", [
    ("StudentT(3, mu, tau)", ""), ("Cauchy(mu, tau)", ""), ("Laplace(mu, tau)", ""), ("LogNormal(mu, tau)", ""),
    ("Normal(mu, tau)", ": real[J]"),
])
def test_location_scale_families_are_rewritten(family, scale_type):
    text = CENTRED.replace("theta[j] ~ Normal(mu, tau)", "") \
        .replace("  plate j in J {", f"  theta{scale_type} ~ {family}\n  plate j in J {{") \
        if scale_type else CENTRED.replace("Normal(mu, tau)", family)
    model = dslppl.loads(text)
    assert [r.variable for r in model.rewrites] == ["theta"]
    bound = model.bind(DATA, reparam=True)
    u = 0.3 * torch.randn(bound.dim, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    assert torch.isfinite(bound.potential(u))


@pytest.mark.parametrize("text", [
    "model m { tau ~ HalfNormal(1)\n x: positive ~ Normal(0, tau) }",            # truncated by its type
    "model m { x ~ Normal(0, 2) }",                                                # scale is a constant
    "model m { data s: positive\n x ~ Normal(0, s) }",                             # scale is data
    "model m { tau ~ HalfNormal(1)\n m2 ~ Normal(0, 1)\n x ~ Gamma(m2 ^ 2 + 1, tau) }",  # not location-scale
])
def test_latents_that_are_not_funnels_are_left_alone(text):
    assert dslppl.loads(text).rewrites == ()


def test_fitting_the_centred_model_non_centred_recovers_the_reference():
    """Eight schools, centred, against the posteriordb reference (tau mean 3.60, sd 3.2)."""
    model = dslppl.loads(CENTRED)
    fit = model.fit(DATA, guide="mvn", steps=3000, seed=0, progress=False)
    tau = fit.summary().to_dict()["tau"]["mean"]
    assert abs(tau - 3.60) < 0.5 * 3.2
    assert "theta[0]" in fit.summary().to_dict()
