"""plate: dim allocation, frames, broadcasting, subsampling, minibatch reuse."""
import time

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.distributions import Dirichlet, Normal

import dslppl.runtime as rt
from dslppl.runtime import messenger


def frames_of(model, site):
    return rt.trace(model).get_trace().nodes[site].plates


def test_auto_dims_count_the_enclosing_plates():
    def model():
        with rt.plate("a", 2), rt.plate("b", 3), rt.plate("c", 4):
            return rt.sample("x", Normal(0.0, 1.0))

    frames = frames_of(model, "x")
    assert [(f.name, f.dim, f.size) for f in frames] == [("a", -1, 2), ("b", -2, 3), ("c", -3, 4)]
    assert model().shape == (4, 3, 2)


def test_explicit_dims_and_the_first_free_dim():
    def model():
        with rt.plate("a", 2, dim=-2), rt.plate("b", 3), rt.plate("c", 4):
            return rt.sample("x", Normal(0.0, 1.0))

    assert [f.dim for f in frames_of(model, "x")] == [-2, -1, -3]
    assert model().shape == (4, 2, 3)


def test_frames_are_outermost_first_and_record_subsampling():
    def model():
        with rt.plate("outer", 10, subsample_size=4), rt.plate("inner", 3, dim=-2):
            rt.sample("x", Normal(0.0, 1.0))

    outer, inner = frames_of(model, "x")
    assert outer == rt.PlateFrame("outer", 10, -1, 4) and outer.scale == 2.5
    assert inner == rt.PlateFrame("inner", 3, -2, 3)


def test_dim_collisions_and_self_nesting_are_errors():
    with pytest.raises(ValueError, match="collide at dim=-1"):
        with rt.plate("a", 2), rt.plate("b", 3, dim=-1):
            pass
    with pytest.raises(ValueError, match="nested inside itself"):
        with rt.plate("a", 2), rt.plate("a", 2):
            pass
    assert rt.plate("t", torch.tensor(3)).size == 3  # int-like sizes are fine
    for bad in [dict(dim=0), dict(dim=1), dict(size=0), dict(size=2.5)]:
        with pytest.raises(ValueError):
            rt.plate("a", **{"size": 2, **bad})
    assert messenger._STACK == []


def test_dims_are_freed_on_exit():
    with rt.plate("a", 2):
        pass
    with rt.plate("b", 3):
        assert rt.sample("x", Normal(0.0, 1.0)).shape == (3,)


def test_broadcasting_skips_expand_when_shapes_already_match():
    d = Normal(torch.zeros(3), 1.0)

    def model():
        with rt.plate("p", 3):
            rt.sample("x", d)
            rt.sample("y", Normal(0.0, 1.0))
            rt.sample("z", Normal(torch.zeros(2, 1), 1.0))

    tr = rt.trace(model).get_trace()
    assert tr.nodes["x"].fn is d
    assert tr.nodes["y"].fn.batch_shape == (3,)
    assert tr.nodes["z"].fn.batch_shape == (2, 3)  # size-1 dims broadcast


def test_broadcasting_keeps_event_shape():
    with rt.plate("p", 5):
        assert rt.sample("pi", Dirichlet(torch.ones(3))).shape == (5, 3)


def test_shape_mismatch_names_site_and_plate():
    with pytest.raises(ValueError, match="plate 'p' at site 'x'"):
        with rt.plate("p", 3):
            rt.sample("x", Normal(torch.zeros(4), 1.0))


def test_plate_yields_indices():
    with rt.plate("p", 4) as idx:
        assert torch.equal(idx, torch.arange(4))
    with rt.plate("q", 100, subsample=torch.tensor([3, 1])) as idx:
        assert idx.tolist() == [3, 1]
        assert rt.sample("x", Normal(0.0, 1.0)).shape == (2,)


def test_subsampling_scales_log_density():
    data = torch.randn(100)

    def model():
        with rt.plate("data", 100, subsample_size=10) as idx:
            rt.sample("x", Normal(0.0, 1.0), obs=data[idx])
        return idx

    tr = rt.trace(model).get_trace()
    idx = tr.return_value
    assert idx.shape == (10,) and len(set(idx.tolist())) == 10
    assert tr.nodes["x"].scale == 10.0
    expected = 10.0 * Normal(0.0, 1.0).log_prob(data[idx]).sum()
    assert torch.allclose(tr.log_prob_sum(), expected)


def test_no_subsampling_leaves_scale_untouched():
    # subsample_size >= size means no subsampling: no scale, all indices
    with rt.trace() as tracer, rt.plate("p", 3, subsample_size=5) as idx:
        rt.sample("x", Normal(0.0, 1.0))
    assert tracer.trace.nodes["x"].scale == 1.0 and torch.equal(idx, torch.arange(3))


def test_subsample_size_must_match_given_subsample():
    with pytest.raises(ValueError, match="subsample_size"):
        rt.plate("p", 10, subsample_size=3, subsample=torch.tensor([1, 2]))


@settings(max_examples=60, deadline=None)
@given(size=st.integers(1, 500), data=st.data())
def test_random_subsample_is_a_subset_of_the_right_size(size, data):
    k = data.draw(st.integers(1, size))
    idx = rt.random_subsample(size, k)
    assert idx.shape == (k,) and idx.dtype == torch.long
    assert len(set(idx.tolist())) == k
    assert 0 <= int(idx.min()) and int(idx.max()) < size


def test_random_subsample_is_cheap_for_huge_plates():
    start = time.perf_counter()
    idx = rt.random_subsample(10**12, 1000)
    assert time.perf_counter() - start < 1.0  # randperm(10**12) could not even allocate
    assert len(set(idx.tolist())) == 1000


def test_random_subsample_is_uniform():
    counts = torch.zeros(20)
    for _ in range(2000):
        counts[rt.random_subsample(20, 2)] += 1
    # each index is expected 200 times; 6 sigma is about 80
    assert (counts - 200).abs().max() < 80


def test_reopened_plate_reuses_its_minibatch_within_a_trace():
    def model():
        with rt.plate("data", 1000, subsample_size=5) as first:
            pass
        with rt.plate("data", 1000, subsample_size=5) as second:
            pass
        return first, second

    tr = rt.trace(model).get_trace()
    first, second = tr.return_value
    assert torch.equal(first, second) and tr.plate_nodes() == ["data"]

    def conflicting():
        with rt.plate("data", 10):
            pass
        with rt.plate("data", 11):
            pass

    with pytest.raises(ValueError, match="reopened"):
        rt.trace(conflicting).get_trace()


def test_one_plate_object_entered_twice_keeps_its_indices():
    p = rt.plate("data", 1000, subsample_size=5)
    with p as a:
        pass
    with p as b:
        assert rt.sample("x", Normal(0.0, 1.0)).shape == (5,)
    assert a is b


def test_replay_reuses_the_guides_minibatch():
    def guide():
        with rt.plate("data", 1000, subsample_size=7) as idx:
            rt.sample("z", Normal(0.0, 1.0))
        return idx

    def model():
        with rt.plate("data", 1000, subsample_size=7) as idx:
            rt.sample("z", Normal(0.0, 1.0))
        return idx

    guide_tr = rt.trace(guide).get_trace()
    model_tr = rt.trace(rt.replay(model, trace=guide_tr)).get_trace()
    assert torch.equal(model_tr.return_value, guide_tr.return_value)
    assert torch.equal(model_tr.nodes["z"].value, guide_tr.nodes["z"].value)


def test_model_without_subsample_size_takes_the_replayed_minibatch():
    guide_tr = rt.trace(lambda: rt.plate("data", 50, subsample_size=4)).get_trace()

    def model():
        with rt.plate("data", 50) as idx:
            return rt.sample("x", Normal(0.0, 1.0)), idx

    tr = rt.trace(rt.replay(model, trace=guide_tr)).get_trace()
    x, idx = tr.return_value
    assert x.shape == (4,) and tr.nodes["x"].scale == 12.5
    assert torch.equal(idx, guide_tr.nodes["data"].value)


def test_plates_are_vectorised_only():
    with pytest.raises(TypeError, match="vectorised"):
        for _ in rt.plate("p", 3):
            pass
