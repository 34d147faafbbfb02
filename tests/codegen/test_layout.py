"""Plates, indexing, comprehensions and arrays: compiled log joints against values
computed by hand with torch.distributions, and the shapes of every site."""
from __future__ import annotations

import math

import pytest
import torch
from torch.distributions import Bernoulli, Normal

import dslppl
from dslppl import runtime

F64 = torch.float64


def t(x) -> torch.Tensor:
    return torch.as_tensor(x, dtype=F64)


def traced(model: dslppl.Model, data: dict, values: dict):
    bound = model.bind(data)
    values = {k: t(v) for k, v in values.items()}
    return runtime.trace(runtime.condition(bound.model, data=values)).get_trace()


def test_nested_plates_index_outer_first_and_broadcast():
    model = dslppl.loads("""
    model m {
      data I: int
      data K: int
      a: real[I] ~ Normal(0, 1)
      b: real[K] ~ Normal(0, 1)
      plate i in I {
        plate k in K {
          z[i, k] ~ Normal(a[i] + b[k], 1)
        }
      }
    }""")
    a, b = t([0.5, -1.0]), t([0.1, 0.2, 0.3])
    z = torch.arange(6, dtype=F64).reshape(2, 3) / 10
    tr = traced(model, {"I": 2, "K": 3}, {"a": a, "b": b, "z": z})
    assert tr.nodes["z"].value.shape == (2, 3)
    expected = (Normal(0, 1).log_prob(a).sum() + Normal(0, 1).log_prob(b).sum()
                + Normal(a[:, None] + b[None, :], 1).log_prob(z).sum())
    assert torch.allclose(tr.log_prob_sum(), expected)


def test_group_index_gathers():
    model = dslppl.loads("""
    model m {
      data N: int
      data J: int
      data county: int<lower=0, upper=J - 1>[N]
      data y: real[N]
      a: real[J] ~ Normal(0, 1)
      plate n in N {
        y[n] ~ Normal(a[county[n]], 1)
      }
    }""")
    county, y, a = [0, 2, 2, 1], t([1.0, 2.0, 3.0, 4.0]), t([0.1, 0.2, 0.3])
    tr = traced(model, {"N": 4, "J": 3, "county": county, "y": y}, {"a": a})
    expected = Normal(0, 1).log_prob(a).sum() + Normal(a[torch.tensor(county)], 1).log_prob(y).sum()
    assert torch.allclose(tr.log_prob_sum(), expected)


def test_range_plate_with_lagged_data_and_a_comprehension():
    model = dslppl.loads("""
    model ar {
      data T: int
      data K: int
      data y: real[T]
      alpha ~ Normal(0, 10)
      beta: real[K] ~ Normal(0, 10)
      plate t in K..T {
        y[t] ~ Normal(alpha + sum(beta[k] * y[t - 1 - k] for k in 0..K), 1)
      }
    }""")
    y, beta, alpha = t([0.3, -0.2, 0.5, 0.1, 0.7, -0.4]), t([0.5, -0.25]), t(0.1)
    tr = traced(model, {"T": 6, "K": 2, "y": y}, {"alpha": alpha, "beta": beta})
    means = torch.stack([alpha + beta[0] * y[s - 1] + beta[1] * y[s - 2] for s in range(2, 6)])
    expected = (Normal(0, 10).log_prob(alpha) + Normal(0, 10).log_prob(beta).sum()
                + Normal(means, 1).log_prob(y[2:]).sum())
    assert torch.allclose(tr.log_prob_sum(), expected)
    assert tr.nodes["y"].fn.batch_shape == (4,)


def test_mixture_by_logsumexp_of_log_prob():
    model = dslppl.loads("""
    model mix {
      data N: int
      data y: real[N]
      w: simplex[2] ~ Dirichlet([1, 1])
      mu: ordered[2] ~ Normal(0, 5)
      plate n in N {
        factor lik[n] = logsumexp(log(w[k]) + log_prob(Normal(mu[k], 1), y[n]) for k in 0..2)
      }
    }""")
    y, w, mu = t([-1.0, 0.5, 2.0]), t([0.3, 0.7]), t([-1.0, 1.5])
    tr = traced(model, {"N": 3, "y": y}, {"w": w, "mu": mu})
    per_point = torch.logsumexp(w.log() + Normal(mu, 1).log_prob(y[:, None]), dim=-1)
    expected = (torch.distributions.Dirichlet(t([1.0, 1.0])).log_prob(w) + Normal(0, 5).log_prob(mu).sum()
                + per_point.sum())
    assert torch.allclose(tr.log_prob_sum(), expected)


def test_whole_array_statements_and_matrix_products():
    model = dslppl.loads("""
    model reg {
      data N: int
      data K: int
      data X: real[N, K]
      data y: bool[N]
      beta: real[K] ~ Normal(0, 1)
      y ~ Bernoulli(logits=X @ beta)
    }""")
    X = t([[1.0, 0.0], [0.5, -1.0], [2.0, 1.0]])
    y, beta = t([1, 0, 1]), t([0.3, -0.7])
    tr = traced(model, {"N": 3, "K": 2, "X": X, "y": y}, {"beta": beta})
    assert tr.nodes["y"].fn.event_shape == (3,)  # one site for the whole array
    expected = Normal(0, 1).log_prob(beta).sum() + Bernoulli(logits=X @ beta).log_prob(y).sum()
    assert torch.allclose(tr.log_prob_sum(), expected)


def test_row_products_inside_a_plate_match_the_whole_array_form():
    plated = dslppl.loads("""
    model reg {
      data N: int
      data K: int
      data X: real[N, K]
      data y: real[N]
      beta: real[K] ~ Normal(0, 1)
      plate n in N { y[n] ~ Normal(X[n, :] @ beta, 1) }
    }""")
    X, y, beta = t([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]), t([1.0, 0.0, -1.0]), t([0.1, 0.2])
    tr = traced(plated, {"N": 3, "K": 2, "X": X, "y": y}, {"beta": beta})
    expected = Normal(0, 1).log_prob(beta).sum() + Normal(X @ beta, 1).log_prob(y).sum()
    assert torch.allclose(tr.log_prob_sum(), expected)


def test_a_deterministic_that_ignores_its_plate_is_still_a_full_array():
    model = dslppl.loads("""
    model m {
      data J: int
      mu ~ Normal(0, 1)
      plate j in J { theta[j] = mu * 2 }
      total = sum(theta)
    }""")
    tr = traced(model, {"J": 4}, {"mu": 0.5})
    assert tr.nodes["theta"].value.shape == (4,)
    assert float(tr.nodes["total"].value) == pytest.approx(4.0)


def test_reductions_inside_plates_act_on_each_element():
    model = dslppl.loads("""
    model m {
      data N: int
      data K: int
      data X: real[N, K]
      plate n in N { row_mean[n] = mean(X[n, :]) }
      col_sd = sd(X, dim=0)
    }""")
    X = t([[1.0, 2.0, 3.0], [2.0, 4.0, 9.0]])
    tr = traced(model, {"N": 2, "K": 3, "X": X}, {})
    assert torch.allclose(tr.nodes["row_mean"].value, X.mean(-1))
    assert torch.allclose(tr.nodes["col_sd"].value, X.std(0, correction=1))


def test_comprehension_whose_body_ignores_the_index():
    model = dslppl.loads("""
    model m {
      mu ~ Normal(0, 1)
      s = sum(mu for k in 0..3)
      l = logsumexp(mu for k in 0..3)
    }""")
    tr = traced(model, {}, {"mu": 0.25})
    assert float(tr.nodes["s"].value) == pytest.approx(0.75)
    assert float(tr.nodes["l"].value) == pytest.approx(0.25 + math.log(3))


def test_names_that_clash_with_python_compile():
    model = dslppl.loads("""
    model m {
      data sum: real
      lambda ~ Normal(0, 1)
      torch ~ Normal(lambda, 1)
      _x = torch + sum
      len = exp(_x)
    }""")
    tr = traced(model, {"sum": 1.0}, {"lambda": 0.5, "torch": 1.5})
    assert float(tr.nodes["_x"].value) == pytest.approx(2.5)
    assert float(tr.nodes["len"].value) == pytest.approx(math.exp(2.5))
    assert "lambda" in tr.nodes and "torch" in tr.nodes


def test_float32_binding_keeps_constants_in_float32():
    model = dslppl.loads("model m { data y: real\n mu ~ Normal(0, 5)\n y ~ Normal(mu, 1.5) }")
    bound = model.bind({"y": 1}, dtype=torch.float32)
    lp = bound.potential(torch.zeros(bound.dim, dtype=torch.float32))
    assert lp.dtype == torch.float32
    assert bound.data["y"].dtype == torch.float32


def test_truncated_prior_draws_stay_on_the_declared_support():
    model = dslppl.loads("model m { sigma: positive ~ Normal(0, 1)\n b: real<lower=-1, upper=2> ~ Cauchy(0, 1) }")
    draws = model.sample_prior(num_samples=500, seed=0)
    assert bool((draws["sigma"] > 0).all())
    assert bool(((draws["b"] > -1) & (draws["b"] < 2)).all())
    # a half-normal's mean is sqrt(2/pi)
    assert float(draws["sigma"].mean()) == pytest.approx(math.sqrt(2 / math.pi), abs=0.1)


def test_flat_priors_cannot_be_drawn():
    model = dslppl.loads("model m { beta: real\n sigma ~ HalfNormal(1) }")
    with pytest.raises(dslppl.DslError) as error:
        model.sample_prior(num_samples=1)
    assert error.value.codes == ["E0505"]


def test_sequential_latent_array_is_one_site():
    model = dslppl.loads("""
    model rw {
      data T: int
      s ~ HalfNormal(1)
      x[0] ~ Normal(0, 1)
      for t in 1..T { x[t] ~ Normal(x[t - 1], s) }
    }""")
    x, s = t([0.1, 0.3, -0.2, 0.0]), t(0.5)
    tr = traced(model, {"T": 4}, {"x": x, "s": s})
    expected = (torch.distributions.HalfNormal(1).log_prob(s) + Normal(0, 1).log_prob(x[0])
                + Normal(x[:-1], s).log_prob(x[1:]).sum())
    assert torch.allclose(tr.log_prob_sum(), expected)
    draws = model.sample_prior({"T": 4}, num_samples=3, seed=1)
    assert draws["x"].shape == (3, 4)


def test_deterministic_recursion_is_unrolled_in_order():
    model = dslppl.loads("""
    model m {
      data T: int
      rho ~ Normal(0, 1)
      m[0] = 1
      for t in 1..T { m[t] = rho * m[t - 1] + 1 }
    }""")
    tr = traced(model, {"T": 4}, {"rho": 0.5})
    assert torch.allclose(tr.nodes["m"].value, t([1.0, 1.5, 1.75, 1.875]))


def test_missing_piece_of_a_loop_array_is_reported_at_bind_time():
    model = dslppl.loads("""
    model m {
      data T: int
      m[0] = 1
      for t in 2..T { m[t] = m[t - 1] }
    }""")
    with pytest.raises(dslppl.DslError) as error:
        model.bind({"T": 4})
    assert error.value.codes == ["E0406"]


def test_a_drawn_array_beside_a_deterministic_recursion():
    model = dslppl.loads("""
    model m {
      data T: int
      s ~ HalfNormal(1)
      m[0] = 0
      x[0] ~ Normal(0, 1)
      for t in 1..T {
        m[t] = 0.5 * m[t - 1] + x[t - 1]
        x[t] ~ Normal(m[t], s)
      }
    }""")
    x, s = t([0.2, -0.1, 0.4, 0.3]), t(0.7)
    tr = traced(model, {"T": 4}, {"x": x, "s": s})
    m = [t(0.0)]
    for k in range(1, 4):
        m.append(0.5 * m[-1] + x[k - 1])
    m = torch.stack(m)
    expected = (torch.distributions.HalfNormal(1).log_prob(s) + Normal(0, 1).log_prob(x[0])
                + Normal(m[1:], s).log_prob(x[1:]).sum())
    assert torch.allclose(tr.log_prob_sum(), expected)
    assert torch.allclose(tr.nodes["m"].value, m)
    draws = model.sample_prior({"T": 4}, num_samples=2, seed=0)
    assert draws["x"].shape == (2, 4) and draws["m"].shape == (2, 4)
