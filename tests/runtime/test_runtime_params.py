"""The param store: constraints, persistence with weights_only, atomic writes."""
import os

import pytest
import torch
from torch.distributions import constraints

import dslppl.runtime as rt
from dslppl.runtime import params as params_module
from dslppl.runtime.params import ParamStore, build_constraint, describe_constraint

CONSTRAINED = [
    (constraints.real, torch.tensor([-1.0, 3.0])),
    (constraints.positive, torch.tensor([0.5, 2.0])),
    (constraints.greater_than(1.5), torch.tensor(4.0)),
    (constraints.greater_than(torch.tensor([0.0, -1.0])), torch.tensor([1.0, 0.0])),
    (constraints.less_than(2.0), torch.tensor(-3.0)),
    (constraints.interval(-2.0, 3.0), torch.tensor([0.0, 2.5])),
    (constraints.unit_interval, torch.tensor(0.25)),
    (constraints.interval(torch.tensor(0.0), torch.tensor([1.0, 5.0])), torch.tensor([0.5, 4.0])),
    (constraints.half_open_interval(0.0, 1.0), torch.tensor(0.5)),
    (constraints.simplex, torch.tensor([0.2, 0.3, 0.5])),
    (constraints.real_vector, torch.tensor([1.0, 2.0])),
    (constraints.independent(constraints.positive, 1), torch.tensor([1.0, 2.0])),
    (constraints.lower_cholesky, torch.tensor([[2.0, 0.0], [0.5, 1.0]])),
    (constraints.corr_cholesky, torch.tensor([[1.0, 0.0], [0.6, 0.8]])),
    (constraints.positive_definite, torch.tensor([[2.0, 0.3], [0.3, 1.0]])),
]
IDS = [f"{type(c).__name__}{i}" for i, (c, _) in enumerate(CONSTRAINED)]


def same(a, b):
    """Equality of constraint descriptions, tensors compared by value."""
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return torch.equal(torch.as_tensor(a), torch.as_tensor(b))
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=False))
    return a == b


@pytest.mark.parametrize("constraint, value", CONSTRAINED, ids=IDS)
def test_constrained_values_round_trip(constraint, value):
    out = rt.param("p", value, constraint)
    assert torch.allclose(out, value, atol=1e-5)
    leaf = rt.get_param_store().get_unconstrained("p")
    assert leaf.requires_grad and leaf.is_leaf
    with torch.no_grad():
        leaf.add_(0.1)  # an optimiser step in unconstrained space ...
    assert bool(constraint.check(rt.param("p")).all())  # ... keeps the value valid


@pytest.mark.parametrize("constraint, value", CONSTRAINED, ids=IDS)
def test_save_load_round_trip(tmp_path, constraint, value):
    store = rt.get_param_store()
    rt.param("p", value, constraint)
    rt.param("q", torch.tensor(1.0))
    path = tmp_path / "params.pt"
    store.save(path)
    raw = torch.load(path, weights_only=True)  # plain tensors and descriptions only
    assert set(raw["params"]) == {"p", "q"}
    fresh = ParamStore()
    fresh.load(path)
    assert torch.allclose(fresh["p"], store["p"]) and torch.equal(fresh["q"], store["q"])
    assert type(fresh.get_constraint("p")) is type(constraint)
    assert same(describe_constraint(fresh.get_constraint("p")), describe_constraint(constraint))
    assert fresh.get_unconstrained("p").requires_grad


def test_interval_bounds_survive_save_and_load(tmp_path):
    store = rt.get_param_store()
    rt.param("a", torch.tensor(0.5), constraints.interval(-1.0, 4.0))
    rt.param("b", torch.tensor(3.0), constraints.greater_than(torch.tensor(2.0)))
    store.save(tmp_path / "s.pt")
    rt.clear_param_store()
    store.load(tmp_path / "s.pt")
    a, b = store.get_constraint("a"), store.get_constraint("b")
    assert (a.lower_bound, a.upper_bound) == (-1.0, 4.0)
    assert torch.equal(b.lower_bound, torch.tensor(2.0))
    assert store["a"].item() == pytest.approx(0.5) and store["b"].item() == pytest.approx(3.0)


def test_constraint_descriptions():
    c = constraints.independent(constraints.interval(0.0, 2.0), 1)
    assert describe_constraint(c) == ("independent", ("interval", 0.0, 2.0), 1)
    rebuilt = build_constraint(describe_constraint(c))
    assert rebuilt.base_constraint.upper_bound == 2.0 and rebuilt.reinterpreted_batch_ndims == 1
    with pytest.raises(ValueError, match="cannot save"):
        describe_constraint(constraints.boolean)
    with pytest.raises(ValueError, match="unknown"):
        build_constraint(("nonsense",))


def test_save_is_atomic(tmp_path, monkeypatch):
    store = rt.get_param_store()
    rt.param("p", torch.tensor(1.0))
    path = tmp_path / "params.pt"
    store.save(path)
    before = path.read_bytes()

    def broken_save(obj, f):
        f.write(b"partial garbage")
        raise OSError("disk full")

    rt.param("p2", torch.tensor(2.0))
    monkeypatch.setattr(params_module.torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        store.save(path)
    assert path.read_bytes() == before  # the old file is intact
    assert os.listdir(tmp_path) == ["params.pt"]  # and no temp file is left


def test_save_writes_a_temp_file_in_the_same_directory(tmp_path, monkeypatch):
    moves = []
    real_replace = os.replace

    def spy(src, dst):
        moves.append((os.path.dirname(src), os.fspath(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(params_module.os, "replace", spy)
    rt.param("p", torch.tensor(1.0))
    rt.get_param_store().save(tmp_path / "x.pt")
    assert moves == [(str(tmp_path), str(tmp_path / "x.pt"))]


def test_unsavable_constraint_fails_before_writing(tmp_path):
    store = ParamStore()
    store.get_param("b", torch.tensor(1.0), constraints.real)
    store._constraints["b"] = constraints.boolean  # not a parameter constraint
    with pytest.raises(ValueError, match="cannot save"):
        store.save(tmp_path / "p.pt")
    assert os.listdir(tmp_path) == []


def test_store_mapping_api():
    store = ParamStore()
    store.get_param("a", lambda: torch.tensor([1.0, 2.0]), constraints.positive)
    store["b"] = torch.tensor(3.0)
    store["a"] = torch.tensor([5.0, 6.0])  # keeps the positive constraint
    assert "a" in store and len(store) == 2 and list(store) == ["a", "b"]
    assert torch.allclose(store["a"], torch.tensor([5.0, 6.0]))
    assert store.get_constraint("a") is constraints.positive
    assert [n for n, _ in store.items()] == ["a", "b"] and list(store.keys()) == ["a", "b"]
    assert all(p.is_leaf and p.requires_grad for _, p in store.named_parameters())
    del store["b"]
    assert "b" not in store
    store.clear()
    assert len(store) == 0


def test_load_rejects_unknown_format(tmp_path):
    torch.save({"version": 99, "params": {}, "constraints": {}}, tmp_path / "p.pt")
    with pytest.raises(ValueError, match="format"):
        ParamStore().load(tmp_path / "p.pt")


def test_clear_param_store_keeps_the_same_object():
    store = rt.get_param_store()
    rt.param("x", torch.tensor(0.0))
    rt.clear_param_store()
    assert rt.get_param_store() is store and len(store) == 0
