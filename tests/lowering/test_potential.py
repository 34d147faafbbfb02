"""``potential(u)`` is the traced log joint at ``constrain(u)`` plus the log-Jacobian
of the transforms, on every model in the repository (autograd gives the Jacobian)."""
from __future__ import annotations

import pytest
import torch
from torch.distributions import constraints

import dslppl
from dslppl import runtime
from dslppl.check import Kind

from ppl_corpus import CORPUS


def _traced(bound, values) -> torch.Tensor:
    return runtime.trace(runtime.condition(bound.model, data=values)).get_trace().log_prob_sum()


def _log_det(bound, u: torch.Tensor) -> torch.Tensor:
    """log |det d chart(constrain(u)) / du|, block by block (each latent's own map), by
    autograd; a structured value is read in its chart (free coordinates), as Stan does."""
    total = torch.zeros((), dtype=torch.float64)
    for site in bound.latents:
        def block(x, site=site):
            full = u.clone()
            full[site.block] = x
            return _chart(site, bound.constrain(full)[site.name])
        jacobian = torch.autograd.functional.jacobian(block, u[site.block].clone())
        total = total + torch.linalg.slogdet(jacobian)[1]
    return total


def _chart(site, value: torch.Tensor) -> torch.Tensor:
    """The free coordinates of a value: a simplex without its last entry, the strict lower
    triangle of a correlation Cholesky factor, the lower triangle of a covariance matrix."""
    support = site.support
    while isinstance(support, constraints.independent):
        support = support.base_constraint
    if support is constraints.simplex:
        return value[..., :-1].reshape(-1)
    if support in (constraints.corr_cholesky, constraints.positive_definite):
        k = value.shape[-1]
        rows, cols = torch.tril_indices(k, k, offset=-1 if support is constraints.corr_cholesky else 0)
        return value[..., rows, cols].reshape(-1)
    return value.reshape(-1)


@pytest.mark.filterwarnings("ignore::dslppl.binding.data.DataWarning")
@pytest.mark.parametrize("name", sorted(CORPUS))
def test_potential_is_the_traced_log_joint_plus_the_jacobian(name):
    text, data = CORPUS[name]
    model = dslppl.loads(text, name)
    if any(v.name not in data for v in model.checked.of_kind(Kind.OBSERVED)):
        pytest.skip("simulated observations are random draws, not part of the potential")
    bound = model.bind(data)
    generator = torch.Generator().manual_seed(1)
    points = [0.3 * torch.randn(bound.dim, generator=generator, dtype=torch.float64) for _ in range(2)]
    for u in points:
        expected = _traced(bound, bound.constrain(u)) + _log_det(bound, u)
        noise = 1e-11 * float(abs(expected))  # float64 cancellation on large log joints
        assert float(bound.potential(u)) == pytest.approx(float(expected), rel=1e-8, abs=1e-8 + noise)
    assert torch.allclose(bound.unconstrain(bound.constrain(points[0])), points[0], atol=1e-8)
