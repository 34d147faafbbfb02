"""Trace: log-densities with scale and mask, caching, node selections, shapes table."""
import pytest
import torch
from torch.distributions import Dirichlet, Normal

import dslppl.runtime as rt
from dslppl.runtime import scale_and_mask


def model():
    w = rt.param("w", torch.ones(2))
    z = rt.sample("z", Normal(0.0, 1.0))
    with rt.plate("n", 3):
        with rt.scale(scale=2.0), rt.mask(mask=torch.tensor([True, False, True])):
            rt.sample("x", Normal(z, 1.0), obs=torch.tensor([0.0, 1.0, 2.0]))
        rt.sample("pi", Dirichlet(torch.ones(4)))
    rt.deterministic("d", w * z)


def test_node_selections():
    tr = rt.trace(model).get_trace()
    assert tr.stochastic_nodes() == ["z", "pi"]
    assert tr.observation_nodes() == ["x"]
    assert tr.param_nodes() == ["w"] and tr.plate_nodes() == ["n"]
    assert len(tr) == 6 and "d" in tr and list(tr) == list(tr.nodes)


def test_compute_log_prob_applies_scale_and_mask():
    tr = rt.trace(model).get_trace()
    tr.compute_log_prob()
    x = tr.nodes["x"]
    raw = Normal(tr.nodes["z"].value, 1.0).log_prob(torch.tensor([0.0, 1.0, 2.0]))
    assert torch.allclose(x.unscaled_log_prob, raw)
    assert torch.allclose(x.log_prob, torch.stack([2 * raw[0], torch.tensor(0.0), 2 * raw[2]]))
    assert torch.allclose(x.log_prob_sum, x.log_prob.sum())
    assert tr.nodes["pi"].log_prob.shape == (3,)
    assert tr.nodes["d"].log_prob is None and tr.nodes["w"].log_prob is None
    total = sum(tr.nodes[n].log_prob_sum for n in ("z", "x", "pi"))
    assert torch.allclose(tr.log_prob_sum(), total)


def test_log_prob_is_cached():
    tr = rt.trace(model).get_trace()
    first = tr.log_prob_sum()
    cached = tr.nodes["z"].log_prob_sum
    assert tr.log_prob_sum() is not None and tr.nodes["z"].log_prob_sum is cached
    tr.compute_log_prob()
    log_prob = tr.nodes["x"].log_prob
    tr.compute_log_prob()
    assert tr.nodes["x"].log_prob is log_prob
    assert torch.allclose(tr.log_prob_sum(), first)


def test_site_filter():
    tr = rt.trace(model).get_trace()
    only_z = tr.log_prob_sum(lambda name, msg: name == "z")
    assert torch.allclose(only_z, Normal(0.0, 1.0).log_prob(tr.nodes["z"].value))
    latent = tr.log_prob_sum(lambda name, msg: not msg.is_observed)
    assert torch.allclose(latent, only_z + tr.log_prob_sum(lambda n, m: n == "pi"))


def test_empty_trace_has_zero_log_prob():
    assert rt.Trace().log_prob_sum().item() == 0.0


def test_scale_and_mask_helper():
    lp = torch.tensor([1.0, 2.0])
    assert scale_and_mask(lp) is lp
    assert scale_and_mask(lp, 3.0).tolist() == [3.0, 6.0]
    assert scale_and_mask(lp, 3.0, False).tolist() == [0.0, 0.0]
    assert scale_and_mask(lp, 1.0, torch.tensor([False, True])).tolist() == [0.0, 2.0]
    assert scale_and_mask(lp, torch.tensor(2.0), True).tolist() == [2.0, 4.0]


def test_log_prob_errors_name_the_site():
    tr = rt.trace(lambda: rt.sample("bad", Normal(0.0, 1.0), obs=torch.tensor(0.0))).get_trace()
    tr.nodes["bad"].value = torch.zeros(5, 2)
    tr.nodes["bad"].fn = Normal(torch.zeros(3), 1.0)
    with pytest.raises(ValueError) as info:
        tr.log_prob_sum()
    assert "'bad'" in info.value.__notes__[0]


def test_format_shapes():
    tr = rt.trace(model).get_trace()
    tr.compute_log_prob()
    assert tr.format_shapes() == "\n".join([
        "Trace Shapes:",
        " Param Sites:",
        "            w 2",
        "Sample Sites:",
        "       z dist   |",
        "        value   |",
        "     log_prob   |",
        "       x dist 3 |",
        "        value 3 |",
        "     log_prob 3 |",
        "      pi dist 3 | 4",
        "        value 3 | 4",
        "     log_prob 3 |",
        "      d value 2",
    ])
    assert tr.format_shapes(last_site="z").splitlines()[-1] == "     log_prob   |"


def test_copy_shares_messages():
    tr = rt.trace(model).get_trace()
    other = tr.copy()
    assert other.nodes == tr.nodes and other.nodes is not tr.nodes
    assert other.nodes["z"] is tr.nodes["z"]
    assert "z:sample" in repr(tr)
