"""Each handler on its own, both forms, and compositions where order matters."""
import pytest
import torch
from torch.distributions import Normal, constraints

import dslppl.runtime as rt
from dslppl.runtime import messenger


def model(y=None):
    mu = rt.sample("mu", Normal(0.0, 5.0))
    with rt.plate("data", 3):
        rt.sample("y", Normal(mu, 1.0), obs=y)
    return mu


Y = torch.tensor([0.5, -1.0, 2.0])


# --- trace ------------------------------------------------------------------
def test_trace_records_sites_in_order_with_inputs_and_output():
    tracer = rt.trace(model)
    tr = tracer.get_trace(Y)
    assert list(tr.nodes) == ["mu", "data", "y"]
    assert tr.args == (Y,) and tr.return_value is tr.nodes["mu"].value
    assert tracer.get_trace(Y) is not tr  # a fresh trace per run


def test_trace_as_context_manager():
    with rt.trace() as tracer:
        model(Y)
    assert tracer.trace.observation_nodes() == ["y"]


def test_trace_adds_shapes_to_errors():
    def bad():
        rt.sample("a", Normal(torch.zeros(2), 1.0))
        with rt.plate("p", 3):
            rt.sample("b", Normal(torch.zeros(4), 1.0))

    with pytest.raises(ValueError) as info:
        rt.trace(rt.trace(bad)).get_trace()
    notes = info.value.__notes__
    assert len(notes) == 1 and "a dist 2 |" in notes[0]


# --- replay -----------------------------------------------------------------
def test_replay_uses_guide_values_for_latents_only():
    guide_tr = rt.trace(lambda: rt.sample("mu", Normal(3.0, 0.1))).get_trace()
    tr = rt.trace(rt.replay(model, trace=guide_tr)).get_trace(Y)
    assert tr.nodes["mu"].value is guide_tr.nodes["mu"].value and tr.nodes["mu"].done
    assert tr.nodes["y"].value is Y  # observed sites keep their data
    assert tr.nodes["mu"].fn.loc == 0.0  # the model's distribution is kept


def test_replay_rejects_a_site_observed_in_the_trace():
    observed_tr = rt.trace(lambda: rt.sample("mu", Normal(0.0, 1.0), obs=torch.tensor(1.0))).get_trace()
    with pytest.raises(ValueError, match="'mu'"):
        rt.trace(rt.replay(model, trace=observed_tr)).get_trace(Y)
    with pytest.raises(ValueError):
        rt.replay(model)


def test_elbo_pattern_replay_guide_into_model():
    loc = rt.param("loc", torch.tensor(0.3))

    def guide(y):
        return rt.sample("mu", Normal(rt.param("loc", torch.tensor(0.3)), 0.5))

    guide_tr = rt.trace(guide).get_trace(Y)
    model_tr = rt.trace(rt.replay(model, trace=guide_tr)).get_trace(Y)
    elbo = model_tr.log_prob_sum() - guide_tr.log_prob_sum()
    mu = guide_tr.nodes["mu"].value
    expected = (Normal(0.0, 5.0).log_prob(mu) + Normal(mu, 1.0).log_prob(Y).sum()
                - Normal(loc, 0.5).log_prob(mu))
    assert torch.allclose(elbo, expected)
    elbo.backward()  # gradients reach the param through the reparameterised draw
    assert rt.get_param_store().get_unconstrained("loc").grad is not None


# --- condition / substitute ---------------------------------------------------
def test_condition_observes_sites():
    tr = rt.trace(rt.condition(model, data={"mu": torch.tensor(1.0), "y": Y})).get_trace()
    assert tr.stochastic_nodes() == [] and tr.observation_nodes() == ["mu", "y"]
    assert tr.nodes["mu"].value.item() == 1.0 and tr.nodes["y"].value is Y


def test_condition_on_a_trace_and_on_none():
    source = rt.trace(model).get_trace(Y)
    tr = rt.trace(rt.condition(model, data=source)).get_trace(Y)
    assert torch.equal(tr.nodes["mu"].value, source.nodes["mu"].value) and tr.nodes["mu"].is_observed
    tr = rt.trace(rt.condition(model, data={"y": None})).get_trace(Y)
    assert not tr.nodes["y"].is_observed and tr.nodes["y"].value is not Y


def test_substitute_keeps_sites_latent_and_sets_params_and_plates():
    def m():
        w = rt.param("w", torch.tensor(1.0), constraints.positive)
        with rt.plate("data", 100, subsample_size=2) as idx:
            x = rt.sample("x", Normal(w, 1.0))
        return idx, x

    data = {"w": torch.tensor(5.0), "data": torch.tensor([4, 9]), "x": torch.tensor([0.0, 1.0])}
    tr = rt.trace(rt.substitute(m, data=data)).get_trace()
    assert tr.stochastic_nodes() == ["x"] and tr.nodes["x"].value is data["x"]
    assert tr.nodes["w"].value is data["w"] and "w" not in rt.get_param_store()
    assert tr.return_value[0] is data["data"]
    tr = rt.trace(rt.substitute(m, substitute_fn=lambda msg: data.get(msg.name))).get_trace()
    assert tr.nodes["x"].value is data["x"]
    with pytest.raises(ValueError, match="exactly one"):
        rt.substitute(m)


# --- block --------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, visible", [
    ({}, []),
    ({"hide": ["mu"]}, ["data", "y"]),
    ({"expose": ["mu"]}, ["mu"]),
    ({"hide_fn": lambda msg: msg.kind == "plate"}, ["mu", "y"]),
])
def test_block_hides_sites_from_outer_handlers(kwargs, visible):
    assert list(rt.trace(rt.block(model, **kwargs)).get_trace(Y).nodes) == visible


def test_block_inside_trace_versus_trace_inside_block():
    inner = rt.trace(model)
    outer = rt.trace(rt.block(inner, hide=["mu"]))
    assert "mu" not in outer.get_trace(Y)
    assert "mu" in inner.trace  # the trace inside the block saw everything
    with pytest.raises(ValueError, match="at most one"):
        rt.block(model, hide=["a"], expose=["b"])


# --- seed ---------------------------------------------------------------------
def test_seed_fixes_draws_and_restores_the_rng():
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    first = rt.seed(model, rng_seed=7)()
    assert torch.equal(torch.rand(3), expected_next)  # outer stream untouched
    assert torch.equal(rt.seed(model, rng_seed=7)(), first)
    assert not torch.equal(rt.seed(model, rng_seed=8)(), first)


def test_seed_restores_the_rng_after_an_exception():
    torch.manual_seed(5)
    expected = torch.rand(2)
    torch.manual_seed(5)
    with pytest.raises(KeyError):
        with rt.seed(rng_seed=0):
            torch.rand(10)
            raise KeyError("x")
    assert torch.equal(torch.rand(2), expected)


def test_nested_seeds():
    with rt.seed(rng_seed=1):
        a = torch.rand(1)
        with rt.seed(rng_seed=2):
            torch.rand(5)
        b = torch.rand(1)
    with rt.seed(rng_seed=1):
        assert torch.equal(torch.rand(2), torch.cat([a, b]))


# --- scale and mask -------------------------------------------------------------
def lp(fn, *args):
    return rt.trace(fn).get_trace(*args).log_prob_sum()


def conditioned(y=Y):
    return rt.condition(model, data={"mu": torch.tensor(0.2)})(y)


def test_scales_multiply_and_commute_with_masks():
    base = lp(conditioned)
    assert torch.allclose(lp(rt.scale(rt.scale(conditioned, scale=2.0), scale=3.0)), 6 * base)
    keep = torch.tensor([True, False, True])
    a = lp(rt.scale(rt.mask(conditioned, mask=keep), scale=2.0))
    b = lp(rt.mask(rt.scale(conditioned, scale=2.0), mask=keep))
    assert torch.allclose(a, b)
    tr = rt.trace(rt.mask(conditioned, mask=keep)).get_trace()
    # the mask broadcasts against every site's log_prob, the scalar mu too (as in Pyro)
    manual = 2 * Normal(0.0, 5.0).log_prob(torch.tensor(0.2)) + Normal(0.2, 1.0).log_prob(Y)[keep].sum()
    assert torch.allclose(tr.log_prob_sum(), manual)


def test_tensor_scale_and_nested_masks_combine():
    with rt.trace() as tracer, rt.mask(mask=torch.tensor([True, True, False])):
        with rt.mask(mask=torch.tensor([False, True, True])), rt.scale(scale=torch.tensor(2.0)):
            conditioned()
    node = tracer.trace.nodes["y"]
    assert node.mask.tolist() == [False, True, False] and node.scale.item() == 2.0


def test_scale_and_mask_validate_their_arguments():
    for bad in [0.0, -1.0, torch.tensor([1.0, 0.0])]:
        with pytest.raises(ValueError, match="scale"):
            rt.scale(scale=bad)
    for bad in [1, torch.tensor([1.0])]:
        with pytest.raises(ValueError, match="mask"):
            rt.mask(mask=bad)


# --- do / uncondition -----------------------------------------------------------
def test_do_fixes_the_value_and_hides_the_intervened_site():
    with rt.trace() as outer:
        with rt.do(data={"mu": 10.0}):
            with rt.trace() as inner:
                mu = model(Y)
    assert mu.item() == 10.0
    assert list(outer.trace.nodes) == ["mu", "data", "y"]
    assert not outer.trace.nodes["mu"].is_observed and outer.trace.nodes["mu"].value.item() != 10.0
    assert set(inner.trace.nodes) == {"mu", "mu__CF", "data", "y"}
    assert inner.trace.nodes["mu__CF"].is_observed


def test_do_copy_is_scaled_once():
    with rt.trace() as tracer, rt.do(data={"mu": 1.0}), rt.scale(scale=3.0):
        model()
    assert tracer.trace.nodes["mu"].scale == 3.0


def test_uncondition_samples_observed_sites_but_not_factors():
    def m():
        rt.factor("f", torch.tensor(-1.0))
        return model(Y)

    tr = rt.trace(rt.uncondition(m)).get_trace()
    node = tr.nodes["y"]
    assert not node.is_observed and node.infer["was_observed"] and node.infer["obs"] is Y
    assert not torch.equal(node.value, Y)
    assert tr.observation_nodes() == ["f"]


# --- composition orders ---------------------------------------------------------
def test_trace_condition_seed_in_any_order():
    data = {"y": Y}
    traces = [
        rt.trace(rt.condition(rt.seed(model, rng_seed=3), data=data)).get_trace(),
        rt.trace(rt.seed(rt.condition(model, data=data), rng_seed=3)).get_trace(),
    ]
    # the trace innermost: a condition outside it still reaches it, because
    # trace records in postprocess, after every process phase has run
    tracer = rt.trace(model)
    rt.seed(rt.condition(tracer, data=data), rng_seed=3)()
    traces.append(tracer.trace)
    with rt.seed(rng_seed=3), rt.condition(data=data):
        traces.append(rt.trace(model).get_trace())
    for tr in traces:
        assert tr.observation_nodes() == ["y"] and tr.nodes["y"].value is Y
        assert torch.equal(tr.nodes["mu"].value, traces[0].nodes["mu"].value)


def test_block_outside_condition_still_conditions():
    tr = rt.trace(rt.block(rt.condition(model, data={"y": Y}), hide=["mu"])).get_trace()
    assert list(tr.nodes) == ["data", "y"] and tr.nodes["y"].is_observed
    # a block inside the condition: the condition never sees y
    tr = rt.trace(rt.condition(rt.block(model, hide=["y"]), data={"y": Y})).get_trace()
    assert "y" not in tr


@pytest.mark.parametrize("make", [
    lambda fn: rt.trace(fn), lambda fn: rt.replay(fn, trace=rt.trace(model).get_trace()),
    lambda fn: rt.condition(fn, data={}), lambda fn: rt.substitute(fn, data={}),
    lambda fn: rt.block(fn), lambda fn: rt.seed(fn, rng_seed=0), lambda fn: rt.scale(fn, scale=2.0),
    lambda fn: rt.mask(fn, mask=True), lambda fn: rt.do(fn, data={}), lambda fn: rt.uncondition(fn),
])
def test_every_handler_wraps_and_is_a_context_manager(make):
    wrapped = make(model)
    assert wrapped(Y).shape == ()
    handler = make(None)
    with handler:
        assert model(Y).shape == ()
        assert messenger._STACK[-1] is handler
    assert messenger._STACK == []
