"""VonMises draws end for every concentration and follow the density (scipy as the oracle)."""
import pytest
import torch
from scipy import stats

from dslppl.distributions import VonMises


@pytest.mark.parametrize("k", [1e-300, 1e-12, 0.3, 0.999, 1.0, 4.0, 1e5, 1e7, 1e20])
def test_draws_follow_scipy(k):
    torch.manual_seed(0)
    loc = 0.0  # scipy's support is loc +- pi; ours is [-pi, pi]
    d = VonMises(torch.tensor(loc, dtype=torch.float64), torch.tensor(k, dtype=torch.float64))
    x = d.sample((4000,)).numpy()
    assert ((x >= -torch.pi) & (x <= torch.pi)).all()
    if k > 1e6:  # scipy's CDF is not reliable there: compare with the normal limit
        z = (x - loc) * k ** 0.5
        assert stats.kstest(z, "norm").pvalue > 1e-3
    else:
        assert stats.kstest(x, stats.vonmises(k, loc=loc).cdf).pvalue > 1e-3


def test_a_model_with_a_vanishing_concentration_samples():
    import dslppl

    model = dslppl.loads("model m { a ~ Exponential(1e6)\n z ~ VonMises(0, a) }")
    assert model.sample_prior(num_samples=50, seed=0)["z"].shape == (50,)
    flat = dslppl.loads("model m { z ~ VonMises(0, 0) }")  # the uniform distribution on the circle
    assert flat.sample_prior(num_samples=50, seed=0)["z"].abs().max() <= torch.pi
