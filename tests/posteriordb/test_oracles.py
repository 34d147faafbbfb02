"""Self-tests of the posteriordb catalog, model files and Pyro oracles (no dslppl needed).

The oracles are checked against the reference draws, independently of dslppl:
the log joint at the reference posterior mean must beat points 3 reference
sds away along each coordinate. For an exactly Gaussian posterior the drop is
at least 3^2 / 2 = 4.5 (more where coordinates correlate), so near-Gaussian
posteriors must drop by more than 3 everywhere; the others (funnels, skewed
scales, simplexes) must drop almost everywhere.
"""
from __future__ import annotations

import re
import statistics

import pytest
import torch
from pyro import poutine
from pyro.distributions import constraints

from .catalog import (DATA_DIR, POSTERIORS, SKIPPED, Posterior, declared_data, load_data, load_index,
                      load_reference, parse_coordinate)
from .oracles import ORACLES, Data, Point, log_joint, point_from_reference, tensor_data

REQUIRED_MODELS = [
    "eight_schools-eight_schools_noncentered", "eight_schools-eight_schools_centered", "arK-arK",
    "arma-arma11", "garch-garch11", "low_dim_gauss_mix-low_dim_gauss_mix", "gp_pois_regr-gp_pois_regr",
    "gp_pois_regr-gp_regr", "kidiq-kidscore_momhs", "kidiq-kidscore_momiq", "kidiq-kidscore_interaction",
    "kidiq_with_mom_work-kidscore_mom_work", "kidiq_with_mom_work-kidscore_interaction_z",
    "earnings-logearn_interaction_z", "earnings-logearn_height_male", "kilpisjarvi_mod-kilpisjarvi",
    "mesquite-logmesquite_logva", "nes1972-nes", "sblrc-blr", "diamonds-diamonds", "hmm_example-hmm_example",
]
REQUIRED_ORACLES = [
    "arK-arK", "garch-garch11", "low_dim_gauss_mix-low_dim_gauss_mix", "gp_pois_regr-gp_pois_regr",
    "eight_schools-eight_schools_noncentered", "kidiq-kidscore_momhs", "diamonds-diamonds", "arma-arma11",
]
NAMES = sorted(POSTERIORS)


def _trace(name: str, data: Data, point: Point) -> poutine.Trace:
    return poutine.trace(poutine.condition(ORACLES[name].model, data=point)).get_trace(data)


def _valid(name: str, data: Data, point: Point) -> poutine.Trace | None:
    """The trace at ``point``, or None when a latent lies outside its site's support."""
    try:
        trace = _trace(name, data, point)
    except ValueError:  # e.g. a negative scale reaches a distribution's constructor
        return None
    for site in ORACLES[name].latents:
        if not bool(trace.nodes[site]["fn"].support.check(point[site]).all()):
            return None
    return trace


@pytest.fixture(scope="module")
def tensors() -> dict[str, Data]:
    return {name: tensor_data(POSTERIORS[name].data()) for name in NAMES}


# --- the data copy and the catalog ---------------------------------------------------

def test_data_copy_is_complete():
    index = load_index()
    assert index["source_commit"] == "28f8d3d6e975315f42aa274a8399f21e07a43b30"
    names = {entry["posterior_name"] for entry in index["posteriors"]}
    for name in names:
        assert (DATA_DIR / name / "data.json").is_file(), name
        assert (DATA_DIR / name / "reference.json").is_file(), name
    assert (DATA_DIR / "NOTICE.md").is_file() and (DATA_DIR / "README.md").is_file()
    assert names == set(POSTERIORS) | set(SKIPPED), "every posterior is translated or listed as skipped"


def test_required_translations_and_oracles_exist():
    assert set(REQUIRED_MODELS) <= set(POSTERIORS)
    for name in REQUIRED_MODELS:
        assert POSTERIORS[name].model_file == f"{name}.ppl"
    assert set(REQUIRED_ORACLES) <= set(ORACLES)
    assert set(ORACLES) == set(POSTERIORS)


@pytest.mark.parametrize("name", NAMES)
def test_model_file_declares_existing_data(name: str):
    posterior = POSTERIORS[name]
    text = posterior.source()
    assert re.search(r"^model [A-Za-z_][A-Za-z0-9_]* \{$", text, re.MULTILINE), "one model block"
    declared = declared_data(posterior)
    assert declared, "the model declares its data"
    missing = set(declared) - set(load_data(name))
    assert not missing, f"declared data not in data.json: {missing}"


def _defined_names(text: str) -> set[str]:
    """Names on the left of ``~``, ``=`` or ``: TYPE`` (outside ``data``/``param`` lines)."""
    pattern = re.compile(r"^\s*(?:factor\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*(?:\[[^\]]*\])?\s*(?::|=(?!=)|~)",
                         re.MULTILINE)
    return {m.group(1) for m in pattern.finditer(text)} - {"data", "param", "model", "plate", "for"}


@pytest.mark.parametrize("name", NAMES)
def test_reference_coordinates_map_to_model_nodes(name: str):
    posterior = POSTERIORS[name]
    defined = _defined_names(posterior.source())
    mapping = posterior.coordinate_map()
    assert len(set(mapping.values())) == len(mapping), "the map is one-to-one"
    for ours in mapping.values():
        base, indices = parse_coordinate(ours)
        assert base in defined, f"{ours} has no node in {posterior.model_file}"
        assert all(i >= 0 for i in indices)
    assert set(posterior.latents) <= defined
    for base in posterior.derived:
        assert re.search(rf"^\s*{base}\s*(\[[^\]]*\])?\s*=(?!=)", posterior.source(), re.MULTILINE), \
            f"derived {base} must be a deterministic node"


def test_coordinate_shift_is_zero_based():
    posterior = POSTERIORS["diamonds-diamonds"]
    mapping = posterior.coordinate_map()
    assert mapping["b[1]"] == "b[0]" and mapping["b[24]"] == "b[23]" and mapping["sigma"] == "sigma"
    dims = {"b": 24, "Intercept": 1, "sigma": 1}
    assert len(mapping) == sum(dims.values())


@pytest.mark.parametrize("name", NAMES)
def test_near_gaussian_flag_agrees_with_reference_quantiles(name: str):
    """Skewness proxy |q05 + q95 - 2 q50| / (q95 - q05): about 0 for a Gaussian marginal."""
    skew = max(abs(s["q05"] + s["q95"] - 2 * s["q50"]) / (s["q95"] - s["q05"])
               for s in load_reference(name).values())
    assert POSTERIORS[name].near_gaussian == (skew < 0.2), f"skew proxy {skew:.3f}"


# --- the oracles -------------------------------------------------------------------------

@pytest.mark.parametrize("name", NAMES)
def test_oracle_sites_match_catalog(name: str, tensors: dict[str, Data]):
    oracle, posterior = ORACLES[name], POSTERIORS[name]
    assert oracle.latents == posterior.latents
    point = oracle.random_point(tensors[name], torch.Generator().manual_seed(1))
    trace = _trace(name, tensors[name], point)
    latent_sites = {n for n, site in trace.nodes.items()
                    if site["type"] == "sample" and n in point and not site["infer"].get("_deterministic")}
    assert latent_sites == set(oracle.latents)
    for base in posterior.derived:
        assert trace.nodes[base]["infer"].get("_deterministic"), f"{base} is a deterministic site"


@pytest.mark.parametrize("name", NAMES)
def test_oracle_finite_at_random_points(name: str, tensors: dict[str, Data]):
    data = tensors[name]
    for seed in range(3):
        point = ORACLES[name].random_point(data, torch.Generator().manual_seed(seed))
        assert all(v.dtype == torch.float64 for v in point.values())
        assert _valid(name, data, point) is not None, f"seed {seed}: point outside the support"
        value = log_joint(name, data, point)
        assert value.dtype == torch.float64 and value.dim() == 0
        assert torch.isfinite(value), f"seed {seed}"


@pytest.mark.parametrize("name", NAMES)
def test_oracle_finite_at_reference_means(name: str, tensors: dict[str, Data]):
    posterior = POSTERIORS[name]
    means = posterior.reference_means()
    point = point_from_reference(name, tensors[name], means)
    trace = _valid(name, tensors[name], point)
    assert trace is not None, "the reference mean lies in the support"
    assert torch.isfinite(trace.log_prob_sum())
    # derived nodes recomputed from the latents give back the reference values
    for coord, mean in means.items():
        base, index = parse_coordinate(coord)
        assert float(trace.nodes[base]["value"][index]) == pytest.approx(mean, rel=1e-6, abs=1e-9), coord


def _perturbed(posterior: Posterior, simplexes: set[str], coord: str, delta: float) -> dict[str, float]:
    """The reference means with ``coord`` moved by ``delta``; a simplex coordinate's
    siblings move the other way so that the point stays on the simplex."""
    values = dict(posterior.reference_means())
    values[coord] += delta
    base, _ = parse_coordinate(coord)
    if base in simplexes:
        siblings = [c for c in values if parse_coordinate(c)[0] == base and c != coord]
        for sibling in siblings:
            values[sibling] -= delta / len(siblings)
    return values


@pytest.mark.parametrize("name", NAMES)
def test_reference_mean_beats_three_sd_perturbations(name: str, tensors: dict[str, Data]):
    posterior, data = POSTERIORS[name], tensors[name]
    means, sds = posterior.reference_means(), posterior.reference_sds()
    centre = _valid(name, data, point_from_reference(name, data, means))
    assert centre is not None
    lp_centre = float(centre.log_prob_sum())
    simplexes = {site for site in posterior.latents if centre.nodes[site]["fn"].support is constraints.simplex}
    drops: dict[str, list[float]] = {}
    for coord in means:
        # 3 sd each way; out-of-support moves (sigma - 3 sd < 0) are skipped, and a
        # coordinate boxed in at 3 sd both ways (garch's beta1) is moved by 2 sd
        for k in (3.0, 2.0):
            for sign in (1.0, -1.0):
                values = _perturbed(posterior, simplexes, coord, k * sign * sds[coord])
                trace = _valid(name, data, point_from_reference(name, data, values))
                if trace is not None:
                    drops.setdefault(coord, []).append(lp_centre - float(trace.log_prob_sum()))
            if coord in drops:
                break
    assert set(drops) == set(means), f"no valid move for {set(means) - set(drops)}"
    flat = [d for ds in drops.values() for d in ds]
    if posterior.near_gaussian:
        low = {c: min(ds) for c, ds in drops.items() if min(ds) <= 3.0}
        assert not low, f"log joint drops by <= 3 at 3 sd: {low}"
    else:
        assert sum(d > 0 for d in flat) >= 0.9 * len(flat), drops
        assert statistics.median(flat) > 2.0, drops
