"""Trace_ELBO against Pyro's: the same model and guide bodies, the same draws.

Each program takes a backend namespace ``B`` (as in the runtime's oracle
tests), so dslppl and Pyro run literally the same code. With the same seed
both draw the same values (Pyro's distributions are torch's), so losses and
surrogate gradients must agree to rounding: reparameterised sites, vectorised
particles, and score-function terms for discrete guide sites (with Pyro's
per-plate Rao-Blackwellisation).
"""
from types import SimpleNamespace

import pytest
import torch
from torch.distributions import Independent, constraints

import dslppl.runtime as rt
from dslppl.infer import Trace_ELBO

pyro = pytest.importorskip("pyro")
import pyro.distributions as pdist  # noqa: E402
from pyro.infer import Trace_ELBO as PyroTraceELBO  # noqa: E402

D = torch.float64

DSL = SimpleNamespace(sample=rt.sample, param=rt.param, plate=rt.plate, dist=torch.distributions,
                      to_event=lambda d, n: Independent(d, n), deterministic=rt.deterministic)
PYRO = SimpleNamespace(sample=pyro.sample, param=pyro.param, plate=pyro.plate, dist=pdist,
                       to_event=lambda d, n: d.to_event(n), deterministic=pyro.deterministic)

Y = torch.tensor([28.0, 8, -3, 7, -1, 1, 18, 12], dtype=D)
SIGMA = torch.tensor([15.0, 10, 16, 11, 9, 11, 10, 18], dtype=D)


def eight_schools(B):
    mu = B.sample("mu", B.dist.Normal(torch.tensor(0.0, dtype=D), 5.0))
    tau = B.sample("tau", B.dist.HalfCauchy(torch.tensor(5.0, dtype=D)))
    with B.plate("j", 8):
        raw = B.sample("raw", B.dist.Normal(torch.tensor(0.0, dtype=D), 1.0))
        B.sample("y", B.dist.Normal(mu + tau * raw, SIGMA), obs=Y)


def eight_schools_guide(B):
    m = B.param("m", torch.tensor(1.0, dtype=D))
    log_s = B.param("log_s", torch.tensor(0.5, dtype=D))
    t = B.param("t", torch.tensor(1.0, dtype=D))
    s = B.param("s", torch.tensor(0.3, dtype=D), constraint=constraints.positive)
    r = B.param("r", torch.linspace(-1, 1, 8, dtype=D))
    B.sample("mu", B.dist.Normal(m, log_s.exp()))
    B.sample("tau", B.dist.LogNormal(t, s))
    with B.plate("j", 8):
        B.sample("raw", B.dist.Normal(r, 0.7))


X = torch.tensor([-2.1, -1.7, 1.9, 2.4, -2.2, 2.0], dtype=D)


def mixture(B):
    """A global location and a discrete label per point: the labels are non-reparameterisable."""
    loc = B.sample("loc", B.dist.Normal(torch.tensor(0.0, dtype=D), 3.0))
    with B.plate("n", len(X)):
        z = B.sample("z", B.dist.Bernoulli(torch.tensor(0.5, dtype=D)))
        B.sample("x", B.dist.Normal((2 * z - 1) * loc, 1.0), obs=X)


def mixture_guide(B):
    m = B.param("m", torch.tensor(0.5, dtype=D))
    logits = B.param("logits", torch.linspace(-1, 1, len(X), dtype=D))
    B.sample("loc", B.dist.Normal(m, 0.5))
    with B.plate("n", len(X)):
        B.sample("z", B.dist.Bernoulli(logits=logits))


def coin(B):
    p = B.sample("p", B.dist.Beta(torch.tensor(2.0, dtype=D), 2.0))
    B.sample("heads", B.dist.Binomial(10, p), obs=torch.tensor(7.0, dtype=D))


def coin_guide(B):
    a = B.param("a", torch.tensor(2.0, dtype=D), constraint=constraints.positive)
    B.sample("p", B.dist.Beta(a, 3.0))


def _dsl_run(model, guide, elbo, seed):
    torch.manual_seed(seed)
    loss = elbo.loss_and_grads(lambda: model(DSL), lambda: guide(DSL))
    store = rt.get_param_store()
    grads = {n: store.get_unconstrained(n).grad.clone() for n in store.keys()}
    return loss, grads


def _pyro_run(model, guide, elbo, seed):
    pyro.clear_param_store()
    torch.manual_seed(seed)
    loss = elbo.loss_and_grads(lambda: model(PYRO), lambda: guide(PYRO))
    store = pyro.get_param_store()
    grads = {n: store._params[n].grad.clone() for n in store.keys()}
    return loss, grads


CASES = [(eight_schools, eight_schools_guide), (mixture, mixture_guide), (coin, coin_guide)]


@pytest.mark.parametrize("model,guide", CASES, ids=["eight_schools", "mixture", "coin"])
@pytest.mark.parametrize("particles", [1, 4])
def test_loss_and_gradients_match_pyro(model, guide, particles):
    vectorize = particles > 1
    ours = Trace_ELBO(particles, vectorize_particles=vectorize, max_plate_nesting=1)
    theirs = PyroTraceELBO(num_particles=particles, vectorize_particles=vectorize, max_plate_nesting=1)
    loss, grads = _dsl_run(model, guide, ours, seed=7)
    pyro_loss, pyro_grads = _pyro_run(model, guide, theirs, seed=7)
    assert loss == pytest.approx(pyro_loss, rel=1e-9, abs=1e-9)
    assert grads.keys() == pyro_grads.keys()
    for name, grad in grads.items():
        torch.testing.assert_close(grad, pyro_grads[name], rtol=1e-8, atol=1e-10)


def test_particles_loop_equals_mean_of_single_particles():
    elbo = Trace_ELBO(3, vectorize_particles=False)
    torch.manual_seed(2)
    together = elbo.loss(lambda: eight_schools(DSL), lambda: eight_schools_guide(DSL))
    torch.manual_seed(2)
    single = Trace_ELBO()
    each = [single.loss(lambda: eight_schools(DSL), lambda: eight_schools_guide(DSL)) for _ in range(3)]
    assert together == pytest.approx(sum(each) / 3, rel=1e-12)


def test_guessed_plate_nesting_leaves_rng_alone():
    guessed = Trace_ELBO(4)
    given = Trace_ELBO(4, max_plate_nesting=1)
    torch.manual_seed(5)
    a = guessed.loss(lambda: eight_schools(DSL), lambda: eight_schools_guide(DSL))
    torch.manual_seed(5)
    b = given.loss(lambda: eight_schools(DSL), lambda: eight_schools_guide(DSL))
    assert guessed.max_plate_nesting == 1 and a == b


def test_guide_missing_a_latent_is_named():
    def guide():
        rt.sample("mu", torch.distributions.Normal(torch.tensor(0.0, dtype=D), 1.0))
    with pytest.raises(ValueError, match=r"\['raw', 'tau'\]"):
        Trace_ELBO().loss(lambda: eight_schools(DSL), guide)


def test_guide_extra_site_is_named():
    def guide():
        eight_schools_guide(DSL)
        rt.sample("extra", torch.distributions.Normal(torch.tensor(0.0, dtype=D), 1.0))
    with pytest.raises(ValueError, match="extra"):
        Trace_ELBO().loss(lambda: eight_schools(DSL), guide)
