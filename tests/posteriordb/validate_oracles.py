"""Manual check that each oracle reproduces its posteriordb reference (slow; not a test).

Runs Pyro's NUTS on the oracle's log joint (on its own unconstrained space, with
the Jacobians of the transforms) and compares the posterior means with the
reference: ``|mean_nuts - mean_ref| / sd_ref`` per coordinate. A translation
error (an off-by-one lag, a swapped mixture weight, a transposed transition
matrix) shows up as a shift of several sds.

    .venv/bin/python -m tests.posteriordb.validate_oracles [NAME ...] [--samples 400]

Supports that depend on other latents (garch's ``beta1 < 1 - alpha1``,
``phi_hi > phi_lo``) are handled by constraining the latents in order, each
with the support its site reports given the earlier ones.
"""
from __future__ import annotations

import argparse
import math
import sys
import time

import torch
from pyro import poutine
from pyro.distributions.transforms import biject_to
from pyro.infer import MCMC, NUTS
from pyro.poutine.runtime import NonlocalExit

from .catalog import POSTERIORS
from .oracles import ORACLES, Data, Point, log_joint, point_from_reference, tensor_data


def _supports(name: str, data: Data, point: Point) -> dict:
    model = ORACLES[name].model
    trace = poutine.trace(poutine.condition(model, data=point)).get_trace(data)
    return {site: trace.nodes[site]["fn"].support for site in ORACLES[name].latents}


def _support_at(name: str, data: Data, values: Point, site: str):
    """The support of ``site`` given ``values``, running the model only up to that site."""
    model = poutine.condition(ORACLES[name].model, data=values)
    try:
        poutine.escape(model, escape_fn=lambda msg: msg["name"] == site)(data)
    except NonlocalExit as exit_:
        return exit_.site["fn"].support
    raise LookupError(f"{name}: no site {site!r}")


def _constrain(name: str, data: Data, unconstrained: Point, anchor: Point) -> tuple[Point, torch.Tensor]:
    """Latents in order; each site's support is read with the earlier latents already set."""
    values = dict(anchor)
    log_det = torch.zeros((), dtype=torch.float64)
    for site in ORACLES[name].latents:
        support = _support_at(name, data, values, site)
        transform = biject_to(support)
        x = transform(unconstrained[site])
        log_det = log_det + transform.log_abs_det_jacobian(unconstrained[site], x).sum()
        values[site] = x
    return values, log_det


def _unconstrain(name: str, data: Data, point: Point) -> Point:
    supports = _supports(name, data, point)
    return {site: biject_to(supports[site]).inv(point[site]) for site in ORACLES[name].latents}


def check(name: str, samples: int, warmup: int, seed: int = 0) -> float:
    """Run NUTS and print the largest |mean shift| in reference sds; returns it."""
    posterior = POSTERIORS[name]
    data = tensor_data(posterior.data())
    anchor = point_from_reference(name, data, posterior.reference_means())

    def potential(unconstrained: Point) -> torch.Tensor:
        values, log_det = _constrain(name, data, unconstrained, anchor)
        return -(log_joint(name, data, values) + log_det)

    torch.manual_seed(seed)
    kernel = NUTS(potential_fn=potential, max_tree_depth=8)
    mcmc = MCMC(kernel, num_samples=samples, warmup_steps=warmup,
                initial_params=_unconstrain(name, data, anchor), disable_progbar=True)
    start = time.time()
    mcmc.run()
    draws = mcmc.get_samples()
    # back to constrained space, then to the reference's coordinates
    n = next(iter(draws.values())).shape[0]
    coords: dict[str, list[float]] = {}
    for i in range(n):
        values, _ = _constrain(name, data, {k: v[i] for k, v in draws.items()}, anchor)
        trace = poutine.trace(poutine.condition(ORACLES[name].model, data=values)).get_trace(data)
        for coord in posterior.reference_means():
            base, _, rest = coord.partition("[")
            value = trace.nodes[base]["value"]
            index = tuple(int(j) for j in rest.rstrip("]").split(",")) if rest else ()
            coords.setdefault(coord, []).append(float(value[index]))
    means, sds = posterior.reference_means(), posterior.reference_sds()
    worst = 0.0
    for coord, xs in coords.items():
        shift = abs(sum(xs) / len(xs) - means[coord]) / sds[coord]
        worst = max(worst, shift)
    print(f"{name:48s} worst |mean shift| = {worst:.2f} sd  ({time.time() - start:.0f} s, {n} draws)")
    sys.stdout.flush()
    return worst


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="posterior names (default: every oracle)")
    parser.add_argument("--samples", type=int, default=400)
    parser.add_argument("--warmup", type=int, default=400)
    args = parser.parse_args(argv)
    names = args.names or list(ORACLES)
    bad = [n for n in names if check(n, args.samples, args.warmup) > 0.5 * math.sqrt(400 / args.samples)]
    print("shifted:", bad or "none")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
