"""Programs beyond the examples, written to LANGUAGE.md as a user would: each one
checks, compiles, draws from its prior (where it has one) and fits briefly."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

import dslppl

PROGRAMS = Path(__file__).resolve().parent / "programs"


def _data() -> dict[str, dict]:
    g = torch.Generator().manual_seed(0)
    randn = lambda *shape: torch.randn(*shape, generator=g).tolist()  # noqa: E731
    return {
        "sv": {"T": 50, "y": (0.5 * torch.randn(50, generator=g)).tolist()},
        "varying": {"N": 40, "J": 5, "g": [i % 5 for i in range(40)], "x": randn(40), "y": randn(40)},
        "nested": {"S": 3, "C": 4, "N": 5, "y": randn(3, 4, 5)},
        "categorical": {"N": 30, "K": 3, "D": 2, "X": randn(30, 2), "y": [i % 3 for i in range(30)]},
        "zip": {"N": 20, "y": [0, 0, 1, 2, 0, 3, 0, 0, 1, 0, 5, 0, 0, 2, 0, 0, 1, 0, 0, 4]},
        "changepoint": {"T": 10, "counts": [3, 4, 2, 5, 3, 9, 8, 10, 7, 9]},
        "negbin": {"N": 20, "x": randn(20), "y": [1, 0, 3, 2, 5, 1, 0, 2, 8, 1, 0, 3, 2, 1, 0, 4, 2, 1, 0, 6]},
    }


DATA = _data()
OBSERVED = {"sv": "y", "varying": "y", "nested": "y", "categorical": "y", "negbin": "y"}


def test_every_program_has_data():
    assert sorted(p.stem for p in PROGRAMS.glob("*.ppl")) == sorted(DATA)


@pytest.mark.parametrize("name", sorted(DATA))
def test_program_compiles_draws_and_fits(name):
    model = dslppl.load(PROGRAMS / f"{name}.ppl")
    data = DATA[name]
    if name in OBSERVED:  # the prior predictive simulates the observations
        covariates = {k: v for k, v in data.items() if k != OBSERVED[name]}
        draws = model.sample_prior(covariates, num_samples=3, seed=0)
        assert draws[OBSERVED[name]].shape[1:] == torch.tensor(data[OBSERVED[name]]).shape
    fit = model.fit(data, guide="normal", steps=200, seed=0, progress=False)
    assert all(torch.isfinite(torch.tensor(fit.losses)))
    summary = fit.summary(n=100).to_dict()
    for site in model.bind(data).latents:
        assert any(key == site.name or key.startswith(site.name + "[") for key in summary)
