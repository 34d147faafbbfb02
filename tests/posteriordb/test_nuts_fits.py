"""NUTS recovers posteriordb reference posteriors (a fast subset; benchmarks/nuts_posteriordb.py runs all).

Reduced runs (4 chains x 200 + 200): the mean tolerance is MCSE-derived
(tests/posteriordb/nuts_reference.py), so it widens with fewer draws; R-hat
over 100-draw half-chains is noisier, so its limit is 1.05 here, not 1.01.
"""
import pytest

from .nuts_reference import sample_and_compare

FAST = ["mesquite-logmesquite_logvolume"]  # the quickest; the benchmark runs every posterior


@pytest.mark.parametrize("name", FAST)
def test_nuts_recovers_reference(name):
    result = sample_and_compare(name, rhat_limit=1.05, chains=4, warmup=200, draws=200, seed=0)
    assert result.passed, result.failures
    assert result.divergences == 0
