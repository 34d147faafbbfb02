"""The compiled log joint of each translated posteriordb model against its
hand-written Pyro oracle (test-only), at random parameter points.

Flat priors, truncation and dropped normalizers add constants, so what must
agree is the *difference* of log joints between two points: to 1e-5 relative.
The flat-vector `potential` must equal the traced log joint plus the log-Jacobian.
"""
from __future__ import annotations

import warnings

import pytest
import torch

import dslppl
from dslppl import runtime

from .catalog import POSTERIORS
from .oracles import ORACLES, log_joint, tensor_data

NAMES = sorted(ORACLES)


@pytest.fixture(scope="module")
def bound_models():
    cache = {}

    def get(name):
        if name not in cache:
            posterior = POSTERIORS[name]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", dslppl.DataWarning)  # keys other models use
                model = dslppl.load(posterior.model_path)
                cache[name] = model.bind(posterior.data())
        return cache[name]

    return get


def _ours(bound, point) -> torch.Tensor:
    values = {k: v.to(torch.float64) for k, v in point.items()}
    return runtime.trace(runtime.condition(bound.model, data=values)).get_trace().log_prob_sum()


@pytest.mark.parametrize("name", NAMES)
def test_log_joint_differences_match_the_pyro_oracle(name, bound_models):
    bound = bound_models(name)
    data = tensor_data(POSTERIORS[name].data())
    generator = torch.Generator().manual_seed(0)
    points = [ORACLES[name].random_point(data, generator) for _ in range(3)]
    ours = [_ours(bound, p) for p in points]
    theirs = [log_joint(name, data, p) for p in points]
    for i in (1, 2):
        expected = theirs[i] - theirs[0]
        assert float(ours[i] - ours[0]) == pytest.approx(float(expected), rel=1e-5, abs=1e-8), name


@pytest.mark.parametrize("name", NAMES)
def test_potential_is_the_log_joint_plus_the_jacobian(name, bound_models):
    bound = bound_models(name)
    generator = torch.Generator().manual_seed(1)
    u = 0.3 * torch.randn(bound.dim, generator=generator, dtype=torch.float64)
    values = bound.constrain(u)
    jacobian = bound.potential(u) - _ours(bound, values)
    # the same u through the inverse: the transforms are bijections
    assert torch.allclose(bound.unconstrain(values), u, atol=1e-8)
    # the Jacobian term is what the transforms add: check it against autograd on a second point
    u2 = u + 0.1
    jacobian2 = bound.potential(u2) - _ours(bound, bound.constrain(u2))
    assert torch.isfinite(jacobian) and torch.isfinite(jacobian2)
    # float64 cancellation: a log joint of -5e11 (earnings in dollars) leaves ~1e-4 of precision
    noise = 1e-12 * float(abs(bound.potential(u)))
    assert float(jacobian2 - jacobian) == pytest.approx(float(_log_det(bound, u2) - _log_det(bound, u)),
                                                        rel=1e-6, abs=1e-8 + noise)


def _log_det(bound, u: torch.Tensor) -> torch.Tensor:
    """log |det d constrain(u) / du| by autograd, block by block (each latent's own map)."""
    total = torch.zeros((), dtype=torch.float64)
    for site in bound.latents:
        def block(x, site=site):
            full = u.clone()
            full[site.block] = x
            return bound.constrain(full)[site.name].reshape(-1)
        jac = torch.autograd.functional.jacobian(block, u[site.block].clone())
        if jac.shape[0] != jac.shape[1]:  # fewer free numbers than values (simplex, corr_cholesky)
            jac = jac.T @ jac
            total = total + 0.5 * torch.linalg.slogdet(jac)[1]
        else:
            total = total + torch.linalg.slogdet(jac)[1]
    return total
