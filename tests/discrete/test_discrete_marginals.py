"""The potential of a model with discrete latents is the exact marginal over them.

Each model is compared with its hand-marginalized form at random points: the
repository's logsumexp mixture (examples/mixture.ppl) against the latent-label
form, and for the change point, zero-inflated Poisson and HMMs (2 and 3 states,
T = 100), the potential of the same model without its discrete part (the
same flat layout) plus the marginal likelihood written out in torch (sum over
the change point, mixture of a zero and a Poisson, the forward recursion).
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from torch.distributions import Beta, Normal, Poisson

import dslppl
from dslppl import runtime

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
D = torch.float64


def _points(bound, count: int = 3, seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    return [torch.randn(bound.dim, generator=generator, dtype=D) for _ in range(count)]


def _data(name: str) -> dict:
    return json.loads((EXAMPLES / f"{name}.json").read_text())


def _assert_marginal(bound, prior_only, likelihood, seed: int = 0):
    """potential(u) == prior-only potential(u) + log marginal likelihood(constrain(u)), and the
    trace of model() carries the same density (its factor site)."""
    for u in _points(bound, seed=seed):
        values = bound.constrain(u)
        expected = prior_only.potential(u) + likelihood(values)
        assert float(bound.potential(u)) == pytest.approx(float(expected), abs=1e-6, rel=1e-12)
        traced = runtime.trace(runtime.condition(bound.model, data=values)).get_trace().log_prob_sum()
        prior_traced = runtime.trace(runtime.condition(prior_only.model, data=values)).get_trace().log_prob_sum()
        assert float(traced) == pytest.approx(float(prior_traced + likelihood(values)), abs=1e-6, rel=1e-12)


def test_mixture_labels_equal_the_logsumexp_mixture():
    data = _data("mixture")
    labels = dslppl.load(EXAMPLES / "mixture_labels.ppl").bind(data)
    summed = dslppl.load(EXAMPLES / "mixture.ppl").bind(data)
    assert labels.dim == summed.dim and labels.discrete == ("z",)
    for u in _points(labels):
        assert float(labels.potential(u)) == pytest.approx(float(summed.potential(u)), abs=1e-6, rel=1e-12)
    u = _points(labels, 1, seed=3)[0].requires_grad_()
    (grad_labels,) = torch.autograd.grad(labels.potential(u), u)
    (grad_summed,) = torch.autograd.grad(summed.potential(u), u)
    assert torch.allclose(grad_labels, grad_summed, atol=1e-8)


PRIORS = {
    "change_point": "model p { early ~ Exponential(0.5)\n late ~ Exponential(0.5) }",
    "zero_inflated": "model p { theta ~ Beta(1, 1)\n rate ~ Gamma(2, 0.5) }",
}


def test_change_point_sums_over_every_switch_time():
    data = _data("change_point")
    bound = dslppl.load(EXAMPLES / "change_point.ppl").bind(data)
    y = torch.tensor(data["y"], dtype=D)
    T = data["T"]

    def likelihood(values):
        t = torch.arange(T)
        terms = [Poisson(torch.where(t < s, values["early"], values["late"])).log_prob(y).sum() for s in range(T)]
        return torch.logsumexp(torch.stack(terms), 0) - torch.log(torch.tensor(float(T), dtype=D))

    _assert_marginal(bound, dslppl.loads(PRIORS["change_point"]).bind({}), likelihood)


def test_zero_inflated_poisson_mixes_a_zero_and_a_poisson():
    data = _data("zero_inflated")
    bound = dslppl.load(EXAMPLES / "zero_inflated.ppl").bind(data)
    y = torch.tensor(data["y"], dtype=D)

    def likelihood(values):
        theta, rate = values["theta"], values["rate"]
        zero = torch.log(theta) + Poisson(torch.tensor(1e-10, dtype=D)).log_prob(y)
        count = torch.log1p(-theta) + Poisson(rate).log_prob(y)
        return torch.logaddexp(zero, count).sum()

    _assert_marginal(bound, dslppl.loads(PRIORS["zero_inflated"]).bind({}), likelihood)


HMM_PRIOR = """
model p {
  data K: int
  start: simplex[K] ~ Dirichlet(ones(K))
  P: simplex[K, K] ~ Dirichlet(ones(K))
  mu: ordered[K] ~ Normal(0, 5)
  sigma ~ HalfNormal(2)
}
"""


def forward(values, y: torch.Tensor) -> torch.Tensor:
    """The forward recursion, one step at a time (the textbook form)."""
    emission = Normal(values["mu"], values["sigma"]).log_prob(y[:, None])
    alpha = values["start"].log() + emission[0]
    for t in range(1, len(y)):
        alpha = torch.logsumexp(alpha[:, None] + values["P"].log(), 0) + emission[t]
    return torch.logsumexp(alpha, 0)


@pytest.mark.parametrize("states", [2, 3])
def test_hmm_sums_over_every_path(states):
    generator = torch.Generator().manual_seed(states)
    T = 100
    y = torch.randn(T, generator=generator, dtype=D) * 2
    data = {"T": T, "K": states, "y": y.tolist()}
    bound = dslppl.load(EXAMPLES / "hmm.ppl").bind(data)
    prior = dslppl.loads(HMM_PRIOR).bind({"K": states})
    assert bound.dim == prior.dim
    _assert_marginal(bound, prior, lambda values: forward(values, y), seed=states)


def test_a_continuous_latent_whose_prior_reads_a_discrete_one():
    """x ~ Normal(m[z], 1) with z summed out: x's density is a mixture."""
    model = dslppl.loads("""
model m {
  data y: real
  z ~ Bernoulli(0.3)
  x ~ Normal(where(z == 1, 2.0, -1.0), 1)
  y ~ Normal(x, 0.5)
}""")
    bound = model.bind({"y": 0.7})
    for u in _points(bound):
        x = bound.constrain(u)["x"]
        one = torch.tensor(1.0, dtype=D)
        mixture = torch.logaddexp(torch.log(0.3 * one) + Normal(2.0 * one, one).log_prob(x),
                                  torch.log(0.7 * one) + Normal(-1.0 * one, one).log_prob(x))
        expected = mixture + Normal(x, 0.5 * one).log_prob(0.7 * one)
        assert float(bound.potential(u)) == pytest.approx(float(expected), abs=1e-9)


def test_binomial_and_categorical_latents_inside_a_plate_and_at_the_top():
    """A global Categorical class and per-element Binomial counts, against explicit sums."""
    model = dslppl.loads("""
model m {
  data N: int
  data y: real[N]
  data w: real[3]
  c ~ Categorical(w)
  q ~ Beta(2, 2)
  plate n in N {
    k[n] ~ Binomial(4, q)
    y[n] ~ Normal(k[n] + c, 1)
  }
}""")
    w = torch.tensor([0.2, 0.5, 0.3], dtype=D)
    y = torch.tensor([1.0, 3.5, 2.0], dtype=D)
    bound = model.bind({"N": 3, "y": y.tolist(), "w": w.tolist()})
    for u in _points(bound):
        q = bound.constrain(u)["q"]
        k = torch.arange(5, dtype=D)
        per_class = []
        for c in range(3):
            inner = torch.distributions.Binomial(4, q).log_prob(k)[None, :] \
                + Normal(k[None, :] + c, torch.ones((), dtype=D)).log_prob(y[:, None])
            per_class.append(w[c].log() + torch.logsumexp(inner, 1).sum())
        two = torch.tensor(2.0, dtype=D)
        expected = torch.logsumexp(torch.stack(per_class), 0) + Beta(two, two).log_prob(q) \
            + torch.log(q) + torch.log1p(-q)
        assert float(bound.potential(u)) == pytest.approx(float(expected), abs=1e-9)


def test_observations_inside_the_chain_loop_equal_a_plate_of_them():
    """y[0] beside z[0] and y[t] inside the loop: the same density as examples/hmm.ppl."""
    inside = dslppl.loads("""
model hmm_inside {
  data T: int
  data K: int
  data y: real[T]
  start: simplex[K] ~ Dirichlet(ones(K))
  P: simplex[K, K] ~ Dirichlet(ones(K))
  mu: ordered[K] ~ Normal(0, 5)
  sigma ~ HalfNormal(2)
  z[0] ~ Categorical(start)
  y[0] ~ Normal(mu[z[0]], sigma)
  for t in 1..T {
    z[t] ~ Categorical(P[z[t - 1]])
    y[t] ~ Normal(mu[z[t]], sigma)
  }
}""")
    data = _data("hmm")
    ours, reference = inside.bind(data), dslppl.load(EXAMPLES / "hmm.ppl").bind(data)
    for u in _points(ours):
        assert float(ours.potential(u)) == pytest.approx(float(reference.potential(u)), abs=1e-9)


def test_observations_in_a_for_loop_may_read_a_summed_variable():
    """The change point with its observations in a `for` loop (vectorized like a plate)."""
    looped = dslppl.loads("""
model change_point_loop {
  data T: int
  data y: int[T]
  early ~ Exponential(0.5)
  late ~ Exponential(0.5)
  s ~ DiscreteUniform(0, T - 1)
  y[0] ~ Poisson(where(0 < s, early, late))
  for t in 1..T {
    y[t] ~ Poisson(where(t < s, early, late))
  }
}""")
    data = _data("change_point")
    ours, reference = looped.bind(data), dslppl.load(EXAMPLES / "change_point.ppl").bind(data)
    for u in _points(ours):
        assert float(ours.potential(u)) == pytest.approx(float(reference.potential(u)), abs=1e-9)


def test_a_bounded_int_latent_is_summed_over_its_range():
    """int<lower=A, upper=B>: flat (the change point up to log T) or a truncated Poisson."""
    flat = dslppl.loads("""
model flat_switch {
  data T: int
  data y: int[T]
  early ~ Exponential(0.5)
  late ~ Exponential(0.5)
  s: int<lower=0, upper=T - 1>
  plate t in T { y[t] ~ Poisson(where(t < s, early, late)) }
}""")
    data = _data("change_point")
    ours, reference = flat.bind(data), dslppl.load(EXAMPLES / "change_point.ppl").bind(data)
    for u in _points(ours):
        assert float(ours.potential(u) - reference.potential(u)) == pytest.approx(math.log(data["T"]), abs=1e-9)
    truncated = dslppl.loads("model m { data y: real\n k: int<lower=1, upper=6> ~ Poisson(2)\n y ~ Normal(k, 1) }")
    k = torch.arange(1, 7, dtype=D)
    one = torch.ones((), dtype=D)
    expected = torch.logsumexp(Poisson(2 * one).log_prob(k) + Normal(k, one).log_prob(2.5 * one), 0)
    assert float(truncated.bind({"y": 2.5}).potential(torch.zeros(0, dtype=D))) == pytest.approx(float(expected), abs=1e-12)
    draws = truncated.sample_prior({}, num_samples=300, seed=0)["k"]
    assert set(draws.tolist()) <= set(range(1, 7)) and len(set(draws.tolist())) >= 4
