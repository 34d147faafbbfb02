"""Handler overhead: one traced run of an 8-site model, dslppl vs Pyro.

The model is eight schools (non-centred) with a plate, eight sites besides
the plate: latents mu, tau, sigma_scale, eta; deterministic theta; observed
obs; a factor; a replicated y_rep. Both libraries run the same model body
(parametrised over a backend namespace). Reported: the median time of one run
over many repeats, single-threaded, for

- ``torch only``: the same draws with plain torch distributions, no PPL
  (the floor both libraries share),
- ``traced``: ``trace(model).get_trace(...)`` / ``poutine.trace(model).get_trace(...)``,
- ``traced + log_prob_sum``: the same, then the trace's joint log-density
  (what an ELBO evaluation does per trace).

Run: ``.venv/bin/python benchmarks/handler_overhead.py`` (writes
``benchmarks/results/handler_overhead.md``).
"""
from __future__ import annotations

import os
import platform
import statistics
import time
from pathlib import Path
from types import SimpleNamespace

import torch

import dslppl.runtime as rt

REPEATS = 400  # timed batches; the median of these is reported
BATCH = 10  # runs per timed batch, to get above timer resolution
RESULTS = Path(__file__).parent / "results" / "handler_overhead.md"

Y = torch.tensor([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0])
SIGMA = torch.tensor([15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0])


def model(B, y, sigma):
    mu = B.sample("mu", B.dist.Normal(0.0, 5.0))
    tau = B.sample("tau", B.dist.HalfCauchy(5.0))
    sigma_scale = B.sample("sigma_scale", B.dist.LogNormal(0.0, 0.1))
    with B.plate("school", len(y)):
        eta = B.sample("eta", B.dist.Normal(0.0, 1.0))
        theta = B.deterministic("theta", mu + tau * eta)
        B.sample("obs", B.dist.Normal(theta, sigma * sigma_scale), obs=y)
        B.sample("y_rep", B.dist.Normal(theta, sigma))
    B.factor("tau_penalty", -0.5 * tau ** 2)


def torch_only(y, sigma):
    """The same draws and densities-to-be without any PPL machinery."""
    D = torch.distributions
    mu = D.Normal(0.0, 5.0).rsample()
    tau = D.HalfCauchy(5.0).rsample()
    sigma_scale = D.LogNormal(0.0, 0.1).rsample()
    eta = D.Normal(0.0, 1.0).expand((8,)).rsample()
    theta = mu + tau * eta
    D.Normal(theta, sigma * sigma_scale)
    D.Normal(theta, sigma).rsample()
    return -0.5 * tau ** 2


def backends():
    import pyro
    from pyro import poutine

    dsl = SimpleNamespace(sample=rt.sample, plate=rt.plate, deterministic=rt.deterministic,
                          factor=rt.factor, dist=torch.distributions, trace=rt.trace)
    pyr = SimpleNamespace(sample=pyro.sample, plate=pyro.plate, deterministic=pyro.deterministic,
                          factor=pyro.factor, dist=pyro.distributions, trace=poutine.trace)
    return dsl, pyr, pyro.__version__


def medians_us(*fns) -> list[float]:
    """Median µs per call of each function. Batches of the contenders are
    interleaved, so load on the machine hits them alike and the ratio holds."""
    for fn in fns:
        for _ in range(50):  # warm-up
            fn()
    samples: list[list[float]] = [[] for _ in fns]
    for _ in range(REPEATS):
        for fn, out in zip(fns, samples, strict=True):
            start = time.perf_counter_ns()
            for _ in range(BATCH):
                fn()
            out.append((time.perf_counter_ns() - start) / BATCH / 1e3)
    return [statistics.median(s) for s in samples]


def measure() -> list[tuple[str, float, float]]:
    dsl, pyr, _ = backends()

    def traced(B):
        fn = B.trace(lambda y, s: model(B, y, s))
        return lambda: fn.get_trace(Y, SIGMA)

    def traced_lp(B):
        fn = B.trace(lambda y, s: model(B, y, s))
        return lambda: fn.get_trace(Y, SIGMA).log_prob_sum()

    base, ours, theirs, ours_lp, theirs_lp = medians_us(
        lambda: torch_only(Y, SIGMA), traced(dsl), traced(pyr), traced_lp(dsl), traced_lp(pyr))
    return [("torch only (no PPL)", base, base), ("traced", ours, theirs),
            ("traced + log_prob_sum", ours_lp, theirs_lp)]


def report(rows) -> str:
    _, _, pyro_version = backends()
    lines = [
        "# Handler overhead: dslppl vs Pyro",
        "",
        "One run of an 8-site eight-schools model (plus its plate), median of "
        f"{REPEATS} batches of {BATCH} runs, `torch.set_num_threads(1)`.",
        f"torch {torch.__version__}, pyro-ppl {pyro_version}, Python "
        f"{platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f} at the end of the run (batches of the "
        "contenders are interleaved, so load skews the absolute times more than the ratios).",
        "",
        "| run | dslppl (µs) | Pyro (µs) | dslppl / Pyro |",
        "| --- | ---: | ---: | ---: |",
    ]
    for label, ours, theirs in rows:
        lines.append(f"| {label} | {ours:.1f} | {theirs:.1f} | {ours / theirs:.2f} |")
    base = rows[0][1]
    lines += ["", "Overhead above the torch-only floor (traced run): "
              f"dslppl {rows[1][1] - base:.1f} µs, Pyro {rows[1][2] - base:.1f} µs.", ""]
    return "\n".join(lines)


def main() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    text = report(measure())
    print(text)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)


if __name__ == "__main__":
    main()
