"""`fit` recovers posteriordb reference posteriors with the full-rank (`mvn`) guide.

Each fit runs the default pipeline (L-BFGS MAP, Laplace-whitened full-rank
SVI, decayed step size, iterate averaging, plateau stop) and is compared with
the reference draws' summaries, coordinate by coordinate:

- every posterior mean within 0.3 reference sd of the reference mean;
- where the catalog marks the posterior near-Gaussian, every sd within 35%
  of the reference sd (a Gaussian guide cannot match skewed marginals, so
  sds are not checked elsewhere).

Tolerances come from the references alone. The MC error of our summaries
(4000 draws) is about 0.016 sd, and the reference's own ``mcse_mean`` about
0.01 sd, both far inside 0.3.

Hierarchical posteriors (eight schools, the GP with a Poisson link) start
from a joint mode far from the bulk of the mass; plain single-draw SVI drifts
there slowly, so they get more particles (vectorised, cheap) and steps.

Not tested here (measured with the same pipeline, see docs/inference.md):
``eight_schools_centered`` (a funnel: no mode, so the fit starts unwhitened
and a Gaussian guide misses mu by ~1.1 sd), ``hmm_drive_0`` (L-BFGS from
``u = 0`` lands in a minor mode, hundreds of sds away) and ``hmm_drive_1``
(recovered to 0.05 sd, but its unrolled forward algorithm takes ~2 minutes).
"""
from __future__ import annotations

import warnings

import pytest

import dslppl
from dslppl.infer import fit

from .catalog import POSTERIORS, load_reference

MEAN_TOL = 0.3   # reference sds
SD_TOL = 0.35    # relative

# Every regression of the catalog: all near-Gaussian, each fitted with the defaults.
REGRESSIONS = sorted(name for name, p in POSTERIORS.items()
                     if p.near_gaussian and name.split("-")[0] in {
                         "kidiq", "kidiq_with_mom_work", "earnings", "kilpisjarvi_mod", "diamonds",
                         "sblrc", "sblri", "mesquite", *(f"nes{y}" for y in range(1972, 2001, 4))})
# name -> extra fit options
OTHERS = {
    "eight_schools-eight_schools_noncentered": {"num_particles": 8},
    "arK-arK": {},
    "arma-arma11": {"steps": 800},
    "garch-garch11": {"steps": 800},
    "low_dim_gauss_mix-low_dim_gauss_mix": {},
    "gp_pois_regr-gp_regr": {},
    "hmm_example-hmm_example": {"steps": 800},
}
# Sequential models whose potential is an unrolled loop (20-40 ms per evaluation).
SLOW = {"arma-arma11", "garch-garch11", "hmm_example-hmm_example"}


def _fit_and_compare(name: str, **options) -> tuple[dict[str, float], dict[str, float]]:
    """Fit ``name`` with mvn; per reference coordinate, |mean error| / sd and sd ratio."""
    posterior = POSTERIORS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dslppl.DataWarning)
        bound = dslppl.loads(posterior.source(), str(posterior.model_path)).bind(posterior.data())
    summary = fit(bound, guide="mvn", seed=0, progress=False, **options).summary()
    mean_err, sd_ratio = {}, {}
    for coord, ref in load_reference(name).items():
        ours = summary[posterior.our_coordinate(coord)]
        mean_err[coord] = abs(ours.mean - ref["mean"]) / ref["sd"]
        sd_ratio[coord] = ours.sd / ref["sd"]
    return mean_err, sd_ratio


def _check(name: str, mean_tol: float = MEAN_TOL, **options) -> None:
    mean_err, sd_ratio = _fit_and_compare(name, **options)
    worst = max(mean_err, key=mean_err.get)
    assert mean_err[worst] < mean_tol, f"{worst}: mean off by {mean_err[worst]:.3f} sd"
    if POSTERIORS[name].near_gaussian:
        off = {c: r for c, r in sd_ratio.items() if abs(r - 1) >= SD_TOL}
        assert not off, f"sd ratios outside 1 +- {SD_TOL}: {off}"


def _params(names):
    return [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in names]


@pytest.mark.parametrize("name", _params(REGRESSIONS))
def test_regression_posteriors(name):
    _check(name)


@pytest.mark.parametrize("name", _params(sorted(OTHERS)))
def test_other_posteriors(name):
    _check(name, **OTHERS[name])


@pytest.mark.slow
def test_gp_pois_regr():
    """Latent GP with a Poisson link: the posterior of alpha and f is skewed.

    A careful full-rank fit with Pyro misses alpha and f by 0.3-0.8 sd. Ours,
    measured with 16 vectorised particles and 3000 steps (seeds 0 and 1):
    worst mean error 0.07-0.08 sd (alpha), sd ratios 0.4-1.3 (rho is the
    worst: the Gaussian guide in log space is too narrow). With fewer
    particles it drifts towards the reference slowly (0.4-0.7 sd with 8
    particles and 2000 steps). The bound is 0.5 sd: the margin covers other
    seeds, while a fit stuck near the joint mode (1.0-1.2 sd) still fails.
    """
    _check("gp_pois_regr-gp_pois_regr", mean_tol=0.5, num_particles=16, steps=3000)
