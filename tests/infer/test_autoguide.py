"""Automatic guides: the fused path's ELBO is the Trace_ELBO of the same guide program.

For every family, the flat-vector draw ``u`` and ``log q(u)`` of the fused
path are fed to the handler-program guide (``AutoGuide``) as its auxiliary
site's value; ``Trace_ELBO`` of that guide against the model program must
equal ``potential(u) - log q(u)`` to 1e-6, and (with the plain
reparameterised estimator) so must the gradients; a scale too close to
singular for the path estimator's solve falls back to the plain estimator
(for ``lowrank``: minus the entropy). Covered: hand-written
bound models, a positive latent, bounds that read other latents, and a
particle-vectorised run.
"""
from dataclasses import replace

import pytest
import torch
from torch.distributions import Normal, Uniform

import fakes
from dslppl.infer import AutoGuide, SVI, Trace_ELBO, bind_program, build_family, find_map
from dslppl.runtime import ParamStore, sample, substitute

KINDS = ["normal", "mvn", "lowrank", "delta", "laplace"]
D = torch.float64


def bounded_pair():
    """b's upper bound reads a: a dynamic support."""
    def model():
        a = sample("a", Uniform(torch.tensor(0.0, dtype=D), 1.0))
        b = sample("b", Uniform(torch.tensor(0.0, dtype=D), 1 - a))
        sample("y", Normal(a + b, 0.2), obs=torch.tensor(0.7, dtype=D))
    bound = bind_program(model, name="bounded_pair")
    return replace(bound, latents=tuple(replace(s, dynamic_support=s.name == "b")
                                        for s in bound.latents))


BOUNDS = {"eight_schools": fakes.eight_schools, "gamma_scale": fakes.gamma_scale,
          "regression": fakes.linear_regression, "bounded_pair": bounded_pair}


def _family(bound, kind, path_gradient=True):
    family = build_family(kind, bound.dim, bound.init, find_map(bound.potential, bound.init))
    family.path_gradient = path_gradient
    return family


def _both(bound, family, seed=0):
    """(fused ELBO, Trace_ELBO) on one draw, both differentiable in phi."""
    torch.manual_seed(seed)
    phi = family.init_params()
    phi = (phi + 0.05 * torch.randn(phi.shape, dtype=D)).requires_grad_(True)
    eps = torch.randn(1, family.noise_dim, dtype=D)
    u, log_q = family.rsample(phi, eps)
    fused = bound.potential(u[0]) - log_q[0]
    guide = AutoGuide(bound, family)
    fixed = substitute(guide, data={guide.param_name: phi, guide.latent_name: u[0]})
    traced = -Trace_ELBO().differentiable_loss(bound.model, fixed)
    return phi, fused, traced


@pytest.mark.parametrize("name", sorted(BOUNDS))
@pytest.mark.parametrize("kind", KINDS)
def test_fused_elbo_equals_trace_elbo(name, kind):
    bound = BOUNDS[name]()
    phi, fused, traced = _both(bound, _family(bound, kind))
    assert fused.item() == pytest.approx(traced.item(), abs=1e-6)


@pytest.mark.parametrize("kind", ["normal", "mvn", "delta"])
def test_fused_gradient_equals_trace_elbo_gradient(kind):
    bound = fakes.eight_schools()
    phi, fused, traced = _both(bound, _family(bound, kind, path_gradient=False))
    g_fused, = torch.autograd.grad(fused, phi, retain_graph=True)
    g_traced, = torch.autograd.grad(traced, phi)
    torch.testing.assert_close(g_fused, g_traced, rtol=1e-6, atol=1e-8)


def test_plain_lowrank_log_q_is_minus_the_entropy():
    bound = fakes.eight_schools()
    family = _family(bound, "lowrank", path_gradient=False)
    phi = (family.init_params() + 0.05 * torch.randn(family.init_params().shape, dtype=D))
    phi.requires_grad_(True)
    _, log_q = family.rsample(phi, torch.randn(3, family.noise_dim, dtype=D))
    entropy = family.distribution(phi).entropy()
    torch.testing.assert_close(log_q, -entropy.expand(3))
    g_ours, = torch.autograd.grad(log_q[0], phi)
    g_torch, = torch.autograd.grad(-family.distribution(phi).entropy(), phi)
    torch.testing.assert_close(g_ours, g_torch)


@pytest.mark.parametrize("kind", ["normal", "mvn"])
def test_path_gradient_keeps_the_value(kind):
    bound = fakes.eight_schools()
    _, plain, _ = _both(bound, _family(bound, kind, path_gradient=False))
    _, path, _ = _both(bound, _family(bound, kind, path_gradient=True))
    assert plain.item() == pytest.approx(path.item(), abs=1e-9)


@pytest.mark.parametrize("kind", ["mvn", "lowrank"])
def test_a_near_singular_scale_falls_back_to_the_plain_gradient(kind):
    # Scale nearly singular: a path-gradient solve would return garbage (the
    # value of the loss was once driven to -1e11 this way).
    bound = fakes.eight_schools()
    family = _family(bound, kind)
    d = family.dim
    phi = family.init_params()
    phi[d:2 * d] = -40.0                       # diagonal e^-40
    phi[2 * d:] = torch.randn(phi.numel() - 2 * d, dtype=D)
    phi.requires_grad_(True)
    eps = torch.randn(4, family.noise_dim, dtype=D)
    _, log_q = family.rsample(phi, eps)
    q = family.distribution(phi.detach())
    if kind == "mvn":   # log N(eps) - log|det|: exact on the draw, no solve
        log_det = q.scale_tril.diagonal().log().sum()
        exact = Normal(0.0, 1.0).log_prob(eps).sum(-1) - log_det
        torch.testing.assert_close(log_q.detach(), exact)
    else:               # minus the entropy
        torch.testing.assert_close(log_q.detach(), -q.entropy().expand(4))
    assert bool(torch.isfinite(torch.autograd.grad(log_q.sum(), phi)[0]).all())


def test_guide_values_match_constrain():
    bound = bounded_pair()
    family = _family(bound, "mvn")
    u = family.distribution(family.init_params()).sample()
    values = {site.name: value for site, value, _ in AutoGuide(bound, family).transform(u)}
    expected = bound.constrain(u)
    for name in expected:
        torch.testing.assert_close(values[name], expected[name])


def test_vectorised_particles_match_a_loop():
    bound = fakes.eight_schools()
    guide = AutoGuide(bound, _family(bound, "mvn"))
    elbo = Trace_ELBO(5, vectorize_particles=True)
    torch.manual_seed(1)
    pairs = elbo.get_traces(bound.model, guide)
    model_tr, guide_tr = pairs[0]
    u = guide_tr.nodes[guide.latent_name].value.reshape(5, -1)
    expected = torch.stack([bound.potential(row) for row in u]) - guide.family.distribution(
        guide.init_phi).log_prob(u)
    model_tr.compute_log_prob()
    guide_tr.compute_log_prob()
    total = model_tr.log_prob_sum() - guide_tr.log_prob_sum()
    assert total.item() / 5 == pytest.approx(expected.mean().item(), abs=1e-6)


def test_autoguide_fits_under_svi():
    bound = fakes.linear_regression()
    family = _family(bound, "normal")
    guide = AutoGuide(bound, family)
    store = ParamStore()
    svi = SVI(bound.model, guide, Trace_ELBO(), optim_args={"lr": 0.01}, param_store=store)
    for _ in range(300):
        svi.step()
    mean, cov = fakes.exact_posterior()
    loc = family.named_params(store[guide.param_name])["loc"]
    assert ((loc - mean).abs() / cov.diagonal().sqrt()).max() < 0.2
