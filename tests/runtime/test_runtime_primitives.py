"""sample, param, deterministic, factor: fast path and behaviour under handlers."""
import pytest
import torch
from torch.distributions import Bernoulli, Normal, constraints

import dslppl.runtime as rt
from dslppl.runtime import primitives


def test_fast_path_builds_no_message(monkeypatch):
    def fail(msg):
        raise AssertionError("apply_stack called without handlers")

    monkeypatch.setattr(primitives, "apply_stack", fail)
    assert rt.sample("x", Normal(0.0, 1.0)).shape == ()
    obs = torch.tensor(2.0)
    assert rt.sample("x", Normal(0.0, 1.0), obs=obs) is obs
    assert rt.deterministic("d", obs) is obs
    assert rt.factor("f", torch.tensor(1.0)) is None
    assert rt.param("p", torch.tensor(1.0)).item() == 1.0


def test_reparameterised_draws_carry_gradients_on_both_paths():
    loc = torch.tensor(0.5, requires_grad=True)
    assert rt.sample("x", Normal(loc, 1.0)).requires_grad
    tr = rt.trace(lambda: rt.sample("x", Normal(loc, 1.0))).get_trace()
    assert tr.nodes["x"].value.requires_grad
    assert not rt.sample("b", Bernoulli(torch.tensor(0.5, requires_grad=True))).requires_grad


def test_sample_needs_a_distribution():
    with pytest.raises(TypeError, match="'x'"):
        rt.sample("x", lambda: 1.0)


@pytest.mark.parametrize("second", [
    lambda: rt.sample("x", Normal(0.0, 1.0)),
    lambda: rt.sample("x", Normal(0.0, 1.0), obs=torch.tensor(0.0)),
    lambda: rt.deterministic("x", torch.tensor(1.0)),
    lambda: rt.param("x", torch.tensor(1.0)),
])
def test_duplicate_site_names_are_an_error_naming_the_site(second):
    def model():
        rt.sample("x", Normal(0.0, 1.0))
        second()

    with pytest.raises(ValueError, match="'x'"):
        rt.trace(model).get_trace()


def test_param_created_once_and_reused():
    calls = []

    def init():
        calls.append(1)
        return torch.tensor([1.0, 2.0])

    def model():
        return rt.param("w", init, constraint=constraints.positive)

    tr = rt.trace(model).get_trace()
    assert torch.allclose(tr.nodes["w"].value, torch.tensor([1.0, 2.0]))
    assert tr.param_nodes() == ["w"]
    model()
    assert len(calls) == 1
    # a param read twice in one run is fine (latest record kept)
    tr = rt.trace(lambda: (model(), model())).get_trace()
    assert tr.param_nodes() == ["w"]


def test_param_without_init_value_must_exist():
    with pytest.raises(KeyError, match="'nope'"):
        rt.param("nope")


def test_param_value_is_differentiable_wrt_the_store_leaf():
    value = rt.param("s", torch.tensor(2.0), constraints.positive)
    value.backward()
    leaf = rt.get_param_store().get_unconstrained("s")
    assert leaf.grad is not None and torch.allclose(leaf.grad, torch.tensor(2.0))


def test_deterministic_site():
    def model():
        x = rt.sample("x", Normal(0.0, 1.0))
        with rt.plate("p", 3):
            return rt.deterministic("y", x * torch.ones(3))

    tr = rt.trace(model).get_trace()
    node = tr.nodes["y"]
    assert node.kind == "deterministic" and node.value is tr.return_value
    assert [f.name for f in node.plates] == ["p"]
    assert tr.stochastic_nodes() == ["x"] and "y" not in tr.observation_nodes()
    assert torch.equal(tr.log_prob_sum(), tr.nodes["x"].fn.log_prob(tr.nodes["x"].value))


def test_factor_adds_its_log_factor():
    def model():
        rt.factor("f", torch.tensor([1.0, 2.0]))
        rt.factor("g", -0.5)

    tr = rt.trace(model).get_trace()
    assert tr.log_prob_sum().item() == pytest.approx(2.5)
    assert tr.observation_nodes() == ["f", "g"]
    assert tr.nodes["f"].infer == {"is_auxiliary": True}
    assert isinstance(tr.nodes["f"].fn, rt.Unit) and tr.nodes["f"].value.numel() == 0


def test_factor_inside_plate_broadcasts_and_scales():
    def model():
        with rt.plate("p", 4):
            rt.factor("f", torch.tensor(1.0))

    assert rt.trace(model).get_trace().log_prob_sum().item() == 4.0
    assert rt.trace(rt.scale(model, scale=0.5)).get_trace().log_prob_sum().item() == 2.0


def test_infer_is_copied_into_the_message():
    hints = {"enumerate": "parallel"}
    tr = rt.trace(lambda: rt.sample("x", Bernoulli(0.5), infer=hints)).get_trace()
    assert tr.nodes["x"].infer == hints and tr.nodes["x"].infer is not hints
