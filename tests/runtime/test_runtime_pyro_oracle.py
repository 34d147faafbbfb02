"""Pyro as oracle: the same model bodies run on dslppl and on Pyro must agree.

Each model takes a backend namespace ``B`` first (like Pyro's own
tests/contrib/test_minipyro.py), so both libraries run literally the same
code. Compared: the sites and their kinds, value shapes (nested, automatic and
explicit-dim plates), observed flags, and ``log_prob_sum`` with identical
values under condition / scale / mask (to 1e-6).
"""
from contextlib import ExitStack
from types import SimpleNamespace

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.distributions import Independent, constraints

import dslppl.runtime as rt

pyro = pytest.importorskip("pyro")
import pyro.distributions as pdist  # noqa: E402
from pyro import poutine  # noqa: E402

DSL = SimpleNamespace(
    name="dslppl", sample=rt.sample, param=rt.param, plate=rt.plate, factor=rt.factor,
    deterministic=rt.deterministic, dist=torch.distributions,
    to_event=lambda d, n: Independent(d, n),
    trace=rt.trace, condition=rt.condition, scale=rt.scale, mask=rt.mask, do=rt.do,
    clear_param_store=rt.clear_param_store,
)
PYRO = SimpleNamespace(
    name="pyro", sample=pyro.sample, param=pyro.param, plate=pyro.plate, factor=pyro.factor,
    deterministic=pyro.deterministic, dist=pdist,
    to_event=lambda d, n: d.to_event(n),
    trace=poutine.trace, condition=poutine.condition, scale=poutine.scale, mask=poutine.mask,
    do=poutine.do, clear_param_store=pyro.clear_param_store,
)
BACKENDS = [DSL, PYRO]


# --- the models ---------------------------------------------------------------
def eight_schools(B, y, sigma):
    mu = B.sample("mu", B.dist.Normal(0.0, 5.0))
    tau = B.sample("tau", B.dist.HalfCauchy(5.0))
    with B.plate("schools", len(y)):
        eta = B.sample("eta", B.dist.Normal(0.0, 1.0))
        theta = B.deterministic("theta", mu + tau * eta)
        B.sample("obs", B.dist.Normal(theta, sigma), obs=y)
    return theta


def nested_plates(B, data):
    cols = B.plate("cols", 4, dim=-1)
    with cols:
        beta = B.sample("beta", B.dist.Normal(0.0, 1.0))
    with B.plate("rows", 3, dim=-2):
        alpha = B.sample("alpha", B.dist.Normal(0.0, 1.0))
        with cols:
            B.sample("y", B.dist.Normal(alpha + beta, 1.0), obs=data)
    # an explicit dim with a gap, and an automatic dim inside it
    with B.plate("groups", 2, dim=-3), B.plate("k", 5):
        B.sample("w", B.dist.Normal(0.0, 1.0))
        B.sample("pi", B.dist.Dirichlet(torch.ones(3)))
        B.sample("v", B.to_event(B.dist.Normal(torch.zeros(6), 1.0), 1))
    # automatic dims only: the inner plate takes the next free dim, -2
    with B.plate("outer", 2), B.plate("inner", 3):
        B.sample("u", B.dist.Normal(0.0, 1.0))


def subsampled(B, data, idx):
    loc = B.sample("loc", B.dist.Normal(0.0, 1.0))
    sd = B.sample("sd", B.dist.LogNormal(0.0, 1.0))
    with B.plate("data", len(data), subsample=idx) as ind:
        B.sample("x", B.dist.Normal(loc, sd), obs=data[ind])
    with B.plate("local", len(data), subsample_size=len(idx), subsample=idx):
        B.sample("z", B.dist.Normal(0.0, 1.0))


def masked_scaled_factor(B, data, keep):
    z = B.sample("z", B.dist.Normal(0.0, 1.0))
    s = B.param("s", torch.tensor(0.7), constraint=constraints.positive)
    with B.scale(scale=2.5):
        B.sample("a", B.dist.Normal(z, s), obs=torch.tensor(0.3))
    with B.plate("n", len(data)):
        with B.mask(mask=keep):
            B.sample("x", B.dist.Normal(z, 1.0), obs=data)
        B.factor("f", -0.5 * (data - z) ** 2)
        B.factor("f_scalar", -z.abs())  # broadcast over the plate
    with B.mask(mask=False):
        B.sample("ignored", B.dist.Normal(z, 1.0), obs=torch.tensor(100.0))
    B.factor("g", -z ** 2)


def _args():
    y = torch.tensor([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0])
    sigma = torch.tensor([15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0])
    data10 = torch.linspace(-2.0, 2.0, 10)
    return {
        "eight_schools": (eight_schools, (y, sigma)),
        "nested_plates": (nested_plates, (torch.randn(3, 4),)),
        "subsampled": (subsampled, (data10, torch.tensor([7, 2, 5]))),
        "masked_scaled_factor": (masked_scaled_factor,
                                 (data10, torch.arange(10) % 3 != 0)),
    }


MODELS = list(_args())


@pytest.fixture(autouse=True)
def clean_pyro():
    pyro.clear_param_store()
    yield
    pyro.clear_param_store()


# --- normalising traces -------------------------------------------------------
def summarize(B, tr):
    """{name: (kind, value shape, is_observed)} with Pyro's site encodings mapped
    onto dslppl kinds (its plates are _Subsample sample sites, its
    deterministic sites masked observed Delta sample sites)."""
    out = {}
    for name, site in tr.nodes.items():
        if B is DSL:
            kind, value, obs = site.kind, site.value, site.is_observed
        else:
            if site["type"] not in ("sample", "param"):
                continue  # _INPUT / _RETURN
            kind, value, obs = site["type"], site["value"], site.get("is_observed", False)
            if kind == "sample" and type(site["fn"]).__name__ == "_Subsample":
                kind = "plate"
            elif kind == "sample" and site["infer"].get("_deterministic"):
                kind = "deterministic"
        obs = obs if kind == "sample" else None
        out[name] = (kind, tuple(value.shape), obs)
    return out


def run(B, model, args, *wrappers):
    fn = lambda *a: model(B, *a)  # noqa: E731
    for wrap in wrappers:
        fn = wrap(B, fn)
    return B.trace(fn).get_trace(*args)


def value_of(B, tr, name):
    node = tr.nodes[name]
    return node.value if B is DSL else node["value"]


def latent_values(model, args):
    """Latent values drawn once (by Pyro), to be fed to both backends."""
    tr = run(PYRO, model, args)
    return {name: value_of(PYRO, tr, name) for name, (kind, _, obs) in summarize(PYRO, tr).items()
            if kind == "sample" and not obs}


# --- the comparisons ----------------------------------------------------------
@pytest.mark.parametrize("name", MODELS)
def test_same_sites_kinds_and_shapes(name):
    model, args = _args()[name]
    summaries = {B.name: summarize(B, run(B, model, args)) for B in BACKENDS}
    assert summaries["dslppl"] == summaries["pyro"]
    assert list(summaries["dslppl"]) == list(summaries["pyro"])  # same order


def test_nested_plate_shapes_are_the_expected_ones():
    model, args = _args()["nested_plates"]
    shapes = {n: s for n, (_, s, _) in summarize(DSL, run(DSL, model, args)).items()}
    assert shapes["beta"] == (4,) and shapes["alpha"] == (3, 1) and shapes["y"] == (3, 4)
    assert shapes["w"] == (2, 1, 5) and shapes["pi"] == (2, 1, 5, 3)
    assert shapes["v"] == (2, 1, 5, 6) and shapes["u"] == (3, 2)


WRAPPERS = {
    "condition": [],
    "scale": [lambda B, fn: B.scale(fn, scale=3.0)],
    "mask_false": [lambda B, fn: B.mask(fn, mask=False)],
    "mask_tensor": [lambda B, fn: B.mask(fn, mask=torch.tensor(True))],
    "scale_and_mask": [lambda B, fn: B.mask(fn, mask=torch.tensor(True)),
                       lambda B, fn: B.scale(fn, scale=0.5)],
}


@pytest.mark.parametrize("wrapping", list(WRAPPERS))
@pytest.mark.parametrize("name", MODELS)
def test_log_prob_sum_agrees(name, wrapping):
    model, args = _args()[name]
    values = latent_values(model, args)
    # condition is applied innermost, then the wrappers around it
    wrappers = [lambda B, fn: B.condition(fn, data=values), *WRAPPERS[wrapping]]
    totals = {}
    for B in BACKENDS:
        B.clear_param_store()
        tr = run(B, model, args, *wrappers)
        totals[B.name] = tr.log_prob_sum()
    expected = totals["pyro"]
    assert torch.allclose(totals["dslppl"], torch.as_tensor(expected), atol=1e-6, rtol=1e-6)
    if wrapping == "mask_false":
        assert totals["dslppl"].item() == 0.0
    else:
        assert totals["dslppl"].item() != 0.0


@pytest.mark.parametrize("name", MODELS)
def test_per_site_log_probs_agree(name):
    model, args = _args()[name]
    values = latent_values(model, args)
    wrap = [lambda B, fn: B.condition(fn, data=values)]
    dsl_tr, pyro_tr = run(DSL, model, args, *wrap), run(PYRO, model, args, *wrap)
    dsl_tr.compute_log_prob()
    pyro_tr.compute_log_prob()
    for site in dsl_tr.nodes.values():
        if site.kind == "sample":
            expected = pyro_tr.nodes[site.name]["log_prob"]
            assert site.log_prob.shape == expected.shape, site.name
            assert torch.allclose(site.log_prob, expected, atol=1e-6), site.name


def test_subsample_scale_matches_pyro():
    model, args = _args()["subsampled"]
    values = latent_values(model, args)
    dsl_tr = run(DSL, model, args, lambda B, fn: B.condition(fn, data=values))
    pyro_tr = run(PYRO, model, args, lambda B, fn: B.condition(fn, data=values))
    for site in ("x", "z"):
        assert dsl_tr.nodes[site].scale == pytest.approx(pyro_tr.nodes[site]["scale"])
        assert dsl_tr.nodes[site].scale == pytest.approx(10 / 3)


@pytest.mark.parametrize("site", ["mu", "eta"])
def test_do_gives_the_same_sites_as_pyro(site):
    model, args = _args()["eight_schools"]
    value = torch.tensor(1.0) if site == "mu" else torch.ones(8)
    wrap = lambda B, fn: B.do(fn, data={site: value})  # noqa: E731
    traces = {B.name: run(B, model, args, wrap) for B in BACKENDS}
    assert summarize(DSL, traces["dslppl"]) == summarize(PYRO, traces["pyro"])
    # the intervened value reaches theta; the traced site holds a fresh draw
    for B in BACKENDS:
        mu, tau, eta, theta = (value_of(B, traces[B.name], n) for n in ("mu", "tau", "eta", "theta"))
        expected = 1.0 + tau * eta if site == "mu" else mu + tau
        assert torch.allclose(theta, expected)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(st.none(), st.integers(-4, -1)), min_size=1, max_size=4))
def test_plate_dim_allocation_matches_pyro(dims):
    """Random nests of automatic and explicit-dim plates: same shapes, same collisions."""
    def model(B):
        with ExitStack() as stack:
            for i, dim in enumerate(dims):
                stack.enter_context(B.plate(f"p{i}", i + 2, dim=dim))
            B.sample("x", B.dist.Normal(0.0, 1.0))

    outcomes = {}
    for B in BACKENDS:
        try:
            outcomes[B.name] = summarize(B, run(B, model, ()))["x"][1]
        except ValueError as e:
            outcomes[B.name] = "collision" if "collide" in str(e) else str(e)
    assert outcomes["dslppl"] == outcomes["pyro"]
