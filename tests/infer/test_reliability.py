"""Variational fits are right or say they are not: each failure once seen, against outside references.

For every case the default fit is either within 0.3 reference sd on every
mean and within 25% on every sd, or it reports ``reliable: False`` with a
warning in words. References come from outside dslppl: the exact conjugate
posterior (Gamma-Poisson), Newton's method on the full data (the N = 20,000
logistic regression, whose posterior is Gaussian to within its own MC error)
and Pyro's NUTS (tests/infer/references/, made by make_references.py there).
The long versions (N = 200,000, the stochastic volatility and latent GP
models) are in benchmarks/vi_reliability.py.
"""
import json
import math
from pathlib import Path

import numpy as np
import pytest

import dslppl
from dslppl.infer.reliability import ABSURD

ROOT = Path(__file__).resolve().parents[2]
MODELS = Path(__file__).parent / "models"
REFERENCES = Path(__file__).parent / "references"
MEAN_TOL, SD_TOL = 0.3, 0.25


def errors(fit, reference: dict[str, dict[str, float]]) -> tuple[float, float]:
    """Worst |mean error| in reference sds, and worst |sd ratio - 1|, over the reference's coordinates."""
    summary = fit.summary(n=4000)
    mean_err = max(abs(summary[k].mean - v["mean"]) / v["sd"] for k, v in reference.items())
    sd_err = max(abs(summary[k].sd / v["sd"] - 1) for k, v in reference.items())
    return mean_err, sd_err


def right_or_honest(fit, reference) -> tuple[float, float]:
    """The claim of this file, for one fit; returns the errors for further checks."""
    mean_err, sd_err = errors(fit, reference)
    verdict = fit.reliability
    if verdict.reliable:
        assert mean_err < MEAN_TOL and sd_err < SD_TOL, (mean_err, sd_err, verdict)
    else:
        assert verdict.warnings and all(isinstance(w, str) and len(w) > 40 for w in verdict.warnings)
    out = fit.to_json()
    assert out["reliable"] == verdict.reliable and out["converged"] == fit.converged
    return mean_err, sd_err


def _nuts(name: str) -> dict:
    return json.loads((REFERENCES / f"{name}.json").read_text())["posterior"]


# --- 1. full-rank guide on a latent random walk: once -2.3e11 with s 4 sd off -------------
def test_random_walk_full_rank_stays_finite_and_says_it_is_off():
    model = dslppl.load(ROOT / "examples" / "random_walk.ppl")
    fit = model.fit(ROOT / "examples" / "random_walk.json", guide="mvn", seed=0, progress=False)
    assert ABSURD < fit.final_loss < 1e4
    reference = {k: v for k, v in _nuts("random_walk").items() if k in ("s", "obs_sd")}
    mean_err, _ = right_or_honest(fit, reference)
    if mean_err > MEAN_TOL:
        assert not fit.reliability.reliable and fit.reliability.khat > 0.7


# --- 3. stopping rule: a hand-written guide for a conjugate model ---------------------------
def _gamma_poisson():
    rng = np.random.default_rng(1)
    y = rng.poisson(4.0, 24)
    y[0] += 96 - y.sum()             # sum y = 96: the posterior is Gamma(2 + 96, 1 + 24)
    return dslppl.load(MODELS / "gamma_poisson_guide.ppl"), {"N": 24, "y": y.tolist()}


def _gamma_errors(fit) -> tuple[float, float]:
    shape, rate = fit.params["shape"].item(), fit.params["rate"].item()
    mean, sd = 98 / 25, math.sqrt(98) / 25
    return abs(shape / rate - mean) / sd, abs(math.sqrt(shape) / rate / sd - 1)


def test_user_guide_that_stopped_early_now_says_it_has_not_converged():
    model, data = _gamma_poisson()
    fit = model.fit(data, seed=0, progress=False)
    mean_err, sd_err = _gamma_errors(fit)
    if fit.reliability.reliable:
        assert mean_err < MEAN_TOL and sd_err < SD_TOL
    else:
        assert not fit.converged and any("did not converge" in w for w in fit.reliability.warnings)


def test_user_guide_with_a_larger_step_size_reaches_the_exact_posterior():
    model, data = _gamma_poisson()
    fit = model.fit(data, seed=0, lr=0.1, steps=4000, progress=False)
    mean_err, sd_err = _gamma_errors(fit)
    assert mean_err < MEAN_TOL and sd_err < SD_TOL
    assert fit.reliability.reliable


# --- 3. stopping rule: subsampled logistic regression ---------------------------------------
N_LOGISTIC = 20_000


def _logistic():
    rng = np.random.default_rng(0)
    x1, x2 = rng.standard_normal(N_LOGISTIC), rng.standard_normal(N_LOGISTIC)
    y = rng.random(N_LOGISTIC) < 1 / (1 + np.exp(-(-0.5 + 1.0 * x1 - 0.7 * x2)))
    X = np.column_stack([np.ones(N_LOGISTIC), x1, x2])
    w = np.zeros(3)
    for _ in range(30):   # Newton on the full data, priors Normal(0, 2.5)
        p = 1 / (1 + np.exp(-X @ w))
        H = (X * (p * (1 - p))[:, None]).T @ X + np.eye(3) / 6.25
        w += np.linalg.solve(H, X.T @ (y - p) - w / 6.25)
    sd = np.sqrt(np.diag(np.linalg.inv(H)))
    reference = {n: {"mean": w[i], "sd": sd[i]} for i, n in enumerate(["alpha", "b1", "b2"])}
    data = {"N": N_LOGISTIC, "x1": x1.tolist(), "x2": x2.tolist(), "y": y.tolist()}
    return dslppl.load(MODELS / "logistic_plate.ppl"), data, reference


def test_subsampled_logistic_regression_is_right_or_says_so():
    model, data, reference = _logistic()
    fit = model.fit(data, subsample={"n": 256}, seed=0, progress=False)
    right_or_honest(fit, reference)


# --- 4. one-particle mean-field on a hierarchical model -------------------------------------
def test_eight_schools_mean_field_is_right_or_says_so():
    from tests.posteriordb.catalog import load_reference
    model = dslppl.load(ROOT / "examples" / "eight_schools.ppl")
    fit = model.fit(ROOT / "examples" / "eight_schools.json", seed=0, progress=False)
    reference = load_reference("eight_schools-eight_schools_noncentered")
    right_or_honest(fit, {k: reference[k] for k in ("mu", "tau") if k in reference})
