"""Pareto smoothing and k-hat agree with ArviZ's ``psislw`` on the same log weights."""
import numpy as np
import pytest

from dslppl.infer.psis import psis

arviz = pytest.importorskip("arviz")


def _cases():
    rng = np.random.default_rng(1)
    yield "gaussian", -0.5 * rng.standard_normal(4000) ** 2
    yield "student", 3.0 * np.log1p(rng.standard_t(3, 2000) ** 2 / 3)
    yield "pareto", 0.9 * np.log(rng.pareto(1.0, 1000) + 1)
    yield "narrow guide", 0.5 * (1 - 1 / 0.3 ** 2) * rng.standard_normal(3000) ** 2 * -1
    yield "small", rng.standard_normal(100)


@pytest.mark.parametrize("name,log_weights", list(_cases()), ids=[c[0] for c in _cases()])
def test_matches_arviz(name, log_weights):
    smoothed, khat = psis(log_weights)
    expected, expected_k = arviz.psislw(log_weights.copy())
    assert khat == pytest.approx(float(expected_k), abs=1e-10)
    np.testing.assert_allclose(smoothed, expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("sd,dim,bad", [(0.95, 2, False), (0.5, 10, True)])
def test_a_guide_narrower_than_the_posterior_has_a_large_khat(sd, dim, bad):
    # q = N(0, sd^2 I), p = N(0, I): the weights' tail is heavy once q is much narrower.
    rng = np.random.default_rng(2)
    x = sd * rng.standard_normal((4000, dim))
    log_w = (-0.5 * x ** 2 - (-0.5 * (x / sd) ** 2 - np.log(sd))).sum(1)
    assert (psis(log_w)[1] > 0.7) == bad
