"""``fit(..., compile=True)``: the compiled step computes what the eager step does.

Inductor's code generation takes most of a minute on a small CPU, so these
tests compile with ``aot_eager`` (the same Dynamo graphs and AOTAutograd
backward, run without generated code); benchmarks/svi_speed.py --compile checks
Inductor's step against the eager one.
"""
from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest
import torch

import dslppl
from dslppl.infer import compiled

ROOT = Path(__file__).resolve().parents[2]
EIGHT_SCHOOLS = ROOT / "examples" / "eight_schools.ppl"
DATA = ROOT / "examples" / "eight_schools.json"


@pytest.fixture
def quick_compile(monkeypatch, tmp_path):
    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(compiled, "compile_step", partial(compiled.compile_step, backend="aot_eager"))


@pytest.mark.parametrize("guide", ["normal", "mvn"])
def test_a_compiled_fit_follows_the_eager_fit(guide, quick_compile):
    model = dslppl.load(EIGHT_SCHOOLS)
    eager = model.fit(DATA, guide=guide, steps=150, seed=0, progress=False)
    fast = model.fit(DATA, guide=guide, steps=150, seed=0, progress=False, compile=True)
    assert len(fast.losses) == len(eager.losses)
    torch.testing.assert_close(torch.tensor(fast.losses), torch.tensor(eager.losses), rtol=0, atol=1e-6)
    for name, value in eager.params.items():
        torch.testing.assert_close(fast.params[name], value, rtol=0, atol=1e-6)


def test_the_compile_time_is_recorded_and_the_trial_changes_nothing(quick_compile):
    from dslppl.infer import build_family
    from dslppl.infer.adam import LeanAdam
    from dslppl.infer.loop import FusedStep

    bound = dslppl.load(EIGHT_SCHOOLS).bind(DATA)
    family = build_family("normal", bound.dim, bound.init, None, None, 0.1)
    phi = family.init_params().requires_grad_(True)
    step = FusedStep(bound, family, phi, [], LeanAdam([phi], lr=0.01), bound.potential)
    before, state = phi.detach().clone(), torch.get_rng_state()
    validate = torch.distributions.Distribution._validate_args
    compiled.compile_step(step, backend="aot_eager")
    assert step.compile_seconds > 0
    assert torch.equal(phi.detach(), before) and phi.grad is None
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.distributions.Distribution._validate_args == validate  # torch.compile turns it off


def test_a_guide_block_is_not_compiled():
    model = dslppl.loads("model m { mu ~ Normal(0, 1) }\nguide {\n param m_loc: real = 0\n mu ~ Normal(m_loc, 1) }")
    with pytest.raises(ValueError, match="automatic guide"):
        model.fit(steps=5, progress=False, compile=True)
