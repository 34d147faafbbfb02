"""Every `examples/*.ppl` (found by glob, so a new example is picked up) checks, draws and fits.

For each example, with its data `NAME.json`:

- ``dslppl check`` succeeds and prints the summary and the factorization;
- the factor graph renders to DOT (and to SVG when Graphviz's ``dot`` exists);
- a short fit (200 steps, fixed seed, no progress bar) has finite losses and a
  summary row for every scalar coordinate of every latent variable;
- an example whose JSON leaves out observed data (the prior-predictive one) is
  not fitted: `Model.sample_prior` simulates the missing observations instead,
  and the draws' shapes are checked.

The fits are short: they test that the pipeline runs end to end, not what it
converges to (tests/posteriordb compares posteriors with references).
"""
from __future__ import annotations

import functools
import json
import math
import shutil
from pathlib import Path

import pytest

import dslppl
from dslppl.binding.data import evaluate
from dslppl.check import Kind
from dslppl.check.discrete import FINITE
from dslppl.cli import main
from dslppl.infer.summary import coordinate_names

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.ppl"))
STEPS = 200
DRAWS = 5

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' is not installed")


@functools.cache
def model_of(path: Path) -> dslppl.Model:
    return dslppl.load(path)


def data_of(path: Path) -> dict:
    return json.loads(path.with_suffix(".json").read_text())


def missing_observed(path: Path) -> list[str]:
    """Observed variables the example's JSON leaves out (simulated by `sample_prior`)."""
    data = data_of(path)
    return [v.name for v in model_of(path).checked.of_kind(Kind.OBSERVED) if v.name not in data]


def all_discrete(path: Path) -> bool:
    """Every latent is a discrete one (queried exactly, not fitted)."""
    return all(v.dist is not None and v.dist.func.id in FINITE for v in model_of(path).checked.latents)


FITTED = [p for p in EXAMPLES if not missing_observed(p) and not all_discrete(p)]
QUERIED = [p for p in EXAMPLES if all_discrete(p)]
SIMULATED = [p for p in EXAMPLES if missing_observed(p)]


def test_examples_are_found():
    assert len(EXAMPLES) >= 10
    assert "prior_predictive" in [p.stem for p in SIMULATED]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_data_file_sits_beside_the_model(path):
    assert path.with_suffix(".json").is_file(), f"{path.name} has no {path.stem}.json"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_check(path, capsys):
    assert main(["check", str(path)]) == 0
    out, err = capsys.readouterr()
    assert out.startswith(f"model {model_of(path).name}: ok\n")
    assert model_of(path).factorization() in out
    assert "Traceback" not in out + err


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_render_dot(path, tmp_path, capsys):
    out = tmp_path / f"{path.stem}.dot"
    assert main(["render", str(path), "--data", str(path.with_suffix(".json")), "-o", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert text.startswith("digraph")
    for variable in model_of(path).checked.variables.values():
        if variable.kind is not Kind.DATA:
            assert variable.name in text


@needs_dot
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_render_svg(path, tmp_path, capsys):
    out = tmp_path / f"{path.stem}.svg"
    assert main(["render", str(path), "--data", str(path.with_suffix(".json")), "-o", str(out)]) == 0
    assert "<svg" in out.read_text(encoding="utf-8")


@pytest.mark.parametrize("path", FITTED, ids=lambda p: p.stem)
def test_short_fit(path):
    model = model_of(path)
    fit = model.fit(data_of(path), steps=STEPS, seed=0, progress=False)
    assert 0 < len(fit.losses) <= STEPS
    assert all(math.isfinite(loss) for loss in fit.losses)
    bound = model.bind(data_of(path))
    expected = [name for site in bound.latents
                for name in coordinate_names(site.name, tuple(site.shape), bound.offsets.get(site.name, ()))]
    summary = fit.summary(n=200)
    missing = [name for name in expected if name not in summary.names()]
    assert not missing, f"summary lacks latent coordinates {missing}"
    for name in expected:
        row = summary[name]
        assert all(math.isfinite(x) for x in (row.mean, row.sd, row.q5, row.q50, row.q95))
        assert row.q5 <= row.q50 <= row.q95


@pytest.mark.parametrize("path", SIMULATED, ids=lambda p: p.stem)
def test_prior_predictive_simulates_the_missing_observations(path):
    model = model_of(path)
    data = data_of(path)
    draws = model.sample_prior(data, num_samples=DRAWS, seed=0)
    bound = model.bind(data, simulate_missing=True)
    sizes = {k: int(v) for k, v in bound.data.items() if v.dim() == 0}
    for site in bound.latents:
        assert tuple(draws[site.name].shape) == (DRAWS, *site.shape)
    for name in missing_observed(path):
        variable = model.checked.variables[name]
        shape = tuple(evaluate(size, sizes) for size in variable.type.shape)
        assert tuple(draws[name].shape) == (DRAWS, *shape)
        if variable.base_type in ("int", "bool"):
            assert bool((draws[name] == draws[name].round()).all())
    again = model.sample_prior(data, num_samples=DRAWS, seed=0)
    assert all(bool((again[k] == v).all()) for k, v in draws.items())


@pytest.mark.parametrize("path", QUERIED, ids=lambda p: p.stem)
def test_query(path, capsys):
    first = model_of(path).checked.latents[0].name
    assert main(["query", str(path), "--data", str(path.with_suffix(".json")), f"p({first})"]) == 0
    rows = capsys.readouterr().out.splitlines()[1:]
    assert sum(float(row.split()[-1]) for row in rows) == pytest.approx(1.0)
