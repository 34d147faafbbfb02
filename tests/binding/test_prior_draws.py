"""Prior draws follow the model that is fitted, or refuse with a located error."""
from __future__ import annotations

import math

import pytest

import dslppl


def test_a_flat_prior_between_data_bounds_is_a_uniform_draw():
    model = dslppl.loads("model m {\n data lo: real\n p: real<lower=lo, upper=lo + 2>\n q: probability\n}")
    assert not [w for w in model.checked.warnings if w.code == "W0103"]
    draws = model.sample_prior({"lo": 1.0}, num_samples=4000, seed=0)
    # Uniform(1, 3): mean 2, sd 2 / sqrt(12); Uniform(0, 1): mean 1/2; bounds 4 standard errors
    for name, low, high in (("p", 1.0, 3.0), ("q", 0.0, 1.0)):
        x = draws[name]
        se = (high - low) / math.sqrt(12) / math.sqrt(len(x))
        assert abs(float(x.mean()) - (low + high) / 2) < 4 * se
        assert float(x.min()) >= low and float(x.max()) <= high


@pytest.mark.parametrize("text, line, words", [
    ("model m {\n x ~ Normal(0, 1)\n factor f = -x ^ 2\n}", 3, "factor 'f'"),
    ("model m {\n a ~ Normal(0, 1)\n b: real<lower=a> ~ Normal(0, 1)\n}", 3, "bounds that read a"),
    ("model m {\n a ~ Normal(0, 1)\n b: real<lower=0>\n}", 3, "flat (improper) prior"),
])
def test_what_prior_draws_cannot_follow_is_a_located_error(text, line, words):
    model = dslppl.loads(text, "m.ppl")
    with pytest.raises(dslppl.DslError) as caught:
        model.sample_prior(num_samples=2, seed=0)
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.code == "E0505" and diagnostic.span.line == line and words in diagnostic.message


def test_bounds_on_observed_data_are_checks_not_truncation_and_check_says_so():
    """Stan's semantics: y's lower bound validates the data; the likelihood stays Normal's."""
    text = "model m {\n data N: int\n data y: real<lower=0>[N]\n mu ~ Normal(0, 1)\n y ~ Normal(mu, 1)\n}"
    model = dslppl.loads(text, "m.ppl")
    (warning,) = [w for w in model.checked.warnings if w.code == "W0104"]
    assert warning.span.line == 3
    y = [0.5, 1.5]
    untruncated = sum(-0.5 * (v - 0.3) ** 2 - 0.5 * math.log(2 * math.pi) for v in y) \
        - 0.5 * 0.3 ** 2 - 0.5 * math.log(2 * math.pi)
    assert float(model.log_joint({"mu": 0.3}, {"N": 2, "y": y})) == pytest.approx(untruncated, rel=1e-12)
    natural = "model m {\n data N: int\n data y: positive[N]\n mu ~ Normal(0, 1)\n y ~ Gamma(2, exp(mu))\n}"
    assert not [w for w in dslppl.loads(natural).checked.warnings if w.code == "W0104"]
