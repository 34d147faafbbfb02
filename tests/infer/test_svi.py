"""SVI over the param store: optimizers, schedulers, clipping, late params, private stores."""
import pytest
import torch
from torch.distributions import Normal, constraints

from dslppl.infer import SVI, Trace_ELBO
from dslppl.runtime import ParamStore, get_param_store, param, sample

D = torch.float64
Y = torch.tensor(2.0, dtype=D)


def model():
    mu = sample("mu", Normal(torch.tensor(0.0, dtype=D), 1.0))
    sample("y", Normal(mu, 1.0), obs=Y)


def guide():
    loc = param("loc", torch.tensor(0.0, dtype=D))
    scale = param("scale", torch.tensor(1.0, dtype=D), constraints.positive)
    sample("mu", Normal(loc, scale))


def test_svi_converges_to_the_conjugate_posterior():
    svi = SVI(model, guide, Trace_ELBO(num_particles=8), optim_args={"lr": 0.05},
              scheduler=lambda opt: torch.optim.lr_scheduler.StepLR(opt, 500, 0.1))
    for _ in range(1500):
        svi.step()
    store = get_param_store()
    assert store["loc"].item() == pytest.approx(1.0, abs=0.05)        # posterior N(1, 1/2)
    assert store["scale"].item() == pytest.approx(0.5 ** 0.5, abs=0.05)
    assert svi.optimizer.param_groups[0]["lr"] == pytest.approx(0.05 * 0.1 ** 3)  # 1500 steps of StepLR(500)


def test_clipping_bounds_each_step():
    svi = SVI(model, guide, optimizer=torch.optim.SGD, optim_args={"lr": 1.0}, clip_norm=1e-3)
    before = get_param_store()["loc"].item() if "loc" in get_param_store() else 0.0
    svi.step()
    after = get_param_store()["loc"].item()
    assert abs(after - before) <= 1e-3 + 1e-12


def test_params_that_appear_later_join_the_optimizer():
    calls = []

    def growing_guide():
        guide()
        if calls:
            param("late", torch.tensor(0.0, dtype=D))
        calls.append(1)

    svi = SVI(model, growing_guide)
    svi.step()
    svi.step()
    assert len(svi.optimizer.param_groups) == 2


def test_private_store_and_evaluate_loss():
    store = ParamStore()
    svi = SVI(model, guide, param_store=store)
    svi.step()
    assert "loc" in store and "loc" not in get_param_store()
    assert isinstance(svi.evaluate_loss(), float)


def test_lean_adam_is_torch_adam_bit_for_bit():
    from dslppl.infer.adam import LeanAdam
    torch.manual_seed(0)
    a = torch.randn(7, dtype=D, requires_grad=True)
    b = a.detach().clone().requires_grad_(True)
    theirs, ours = torch.optim.Adam([a], lr=0.03, foreach=False), LeanAdam([b], lr=0.03)
    for i in range(300):
        for p, opt in ((a, theirs), (b, ours)):
            opt.zero_grad()
            (p.sin() * p).sum().backward()
            opt.step()
        if i == 150:
            theirs.param_groups[0]["lr"] = ours.param_groups[0]["lr"] = 0.01
    assert torch.equal(a, b)
    state = ours.state_dict()
    again = LeanAdam([b.detach().clone().requires_grad_(True)], lr=0.5)
    again.load_state_dict(state)
    assert again.steps == 300 and again.param_groups[0]["lr"] == 0.01
