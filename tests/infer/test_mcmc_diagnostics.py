"""The MCMC diagnostics agree with ArviZ's on the same draws (to 1e-6)."""
import numpy as np
import pytest

from dslppl.infer import diagnostics as diag

az = pytest.importorskip("arviz")


def _draws():
    rng = np.random.default_rng(3)
    ar = np.zeros((4, 301))
    for t in range(1, ar.shape[1]):  # autocorrelated chains with a shifted chain
        ar[:, t] = 0.8 * ar[:, t - 1] + rng.normal(size=4)
    ar[3] += 0.5
    return {
        "ar1": ar,
        "heavy": rng.standard_cauchy(size=(4, 200)),
        "ties": rng.integers(0, 5, size=(3, 120)).astype(float),
        "iid": rng.normal(size=(2, 1000)),
    }


@pytest.mark.parametrize("name", sorted(_draws()))
def test_estimators_match_arviz(name):
    x = _draws()[name]
    assert diag.rhat(x) == pytest.approx(float(az.rhat(x, method="rank")), abs=1e-6)
    assert diag.ess_bulk(x) == pytest.approx(float(az.ess(x, method="bulk")), abs=1e-6)
    assert diag.ess_tail(x) == pytest.approx(float(az.ess(x, method="tail")), abs=1e-6)
    assert diag.ess_mean(x) == pytest.approx(float(az.ess(x, method="mean")), abs=1e-6)
    assert diag.mcse_mean(x) == pytest.approx(float(az.mcse(x, method="mean")), abs=1e-6)


def test_ebfmi_matches_arviz():
    energy = _draws()["ar1"]
    expected = az.bfmi(az.from_dict(sample_stats={"energy": energy}))
    np.testing.assert_allclose(diag.ebfmi(energy), expected, atol=1e-6)


def test_constant_draws():
    x = np.ones((4, 100))
    assert np.isnan(diag.rhat(x))
    assert diag.ess_bulk(x) == 400
