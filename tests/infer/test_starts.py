"""Where a fit starts: trapping MAPs are recognised, ``init`` and ``map_start`` are obeyed."""
import json
from pathlib import Path

import pytest
import torch

import dslppl
import fakes
from dslppl.infer import find_map, fit
from dslppl.infer.starts import initial_point, trap

MODELS = Path(__file__).parent / "models"


def test_a_collapsed_variance_is_a_trap():
    # Stochastic volatility with an InverseGamma(0.001, 0.001) variance: the joint
    # mode in u has sigma2 ~ 0 and every h equal (the funnel's neck).
    y = json.loads((MODELS / "stochastic_volatility.json").read_text())["y"][:20]
    bound = dslppl.load(MODELS / "stochastic_volatility.ppl").bind({"T": len(y), "y": y})
    result = find_map(bound.potential, bound.init)
    assert bound.constrain(result.mode)["sigma2"] < 1e-3
    assert trap(bound, result) is not None


def test_a_regression_mode_is_a_fine_start():
    bound = fakes.linear_regression()
    assert trap(bound, find_map(bound.potential, bound.init)) is None


def test_init_and_no_map_start_set_the_guide_centre():
    bound = fakes.gamma_scale()
    name = bound.latents[0].name
    result = fit(bound, guide="normal", steps=100, init={name: 2.0}, map_start=False, progress=False)
    assert result.map is None
    torch.testing.assert_close(bound.constrain(result.family.mode)[name],
                               torch.tensor(2.0, dtype=bound.dtype).expand(bound.latents[0].shape))


def test_init_names_must_be_latents():
    bound = fakes.gamma_scale()
    with pytest.raises(ValueError, match="not latents"):
        initial_point(bound, {"nope": 1.0})
    with pytest.raises(ValueError, match="outside its support"):
        initial_point(bound, {bound.latents[0].name: -1.0})
