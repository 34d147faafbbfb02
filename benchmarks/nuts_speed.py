"""NUTS speed: dslppl against NumPyro, 4 chains x (1000 warm-up + 1000 draws), default settings.

For each model and system, a fresh Python process runs text -> posterior
summary. Reported: the wall time of the whole process (imports, model
building, JIT compilation for NumPyro, sampling, summary), the sampling time
alone, compilation excluded (dslppl: warm-up + draws, after the setup that
compiles the potential; NumPyro: a second run of the already compiled
sampler), and the smallest bulk ESS over all coordinates divided by the
sampling time. Both systems' ESS are computed by dslppl.infer.diagnostics
(which matches ArviZ). NumPyro runs its chains vectorized (one device).

Models: eight schools (non-centred, examples/eight_schools.ppl), a radon-like
hierarchical regression (examples/radon.ppl, N=919 houses, J=85 counties,
simulated with seed 0), logistic regression (N=10,000, K=20, simulated), and
posteriordb's arK.

    python benchmarks/nuts_speed.py [MODEL ...]

Writes benchmarks/results/nuts_speed.md. NumPyro comes with the `bench` extra.
"""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from _report import write_result

ROOT = Path(__file__).resolve().parents[1]
ARK = ROOT / "tests" / "posteriordb" / "data" / "arK-arK" / "data.json"


def _datasets() -> dict[str, dict]:
    rng = np.random.default_rng(0)
    J, N = 85, 919
    county = np.concatenate([np.arange(J), rng.integers(0, J, N - J)])
    a = 1.5 + 0.3 * rng.normal(size=J)
    floor = (rng.random(N) < 0.2).astype(float)
    radon = a[county] - 0.7 * floor + 0.75 * rng.normal(size=N)
    K, M = 20, 10_000
    X = rng.normal(size=(M, K))
    beta = rng.normal(size=K) * 0.5
    y = rng.random(M) < 1 / (1 + np.exp(-(X @ beta + 0.3)))
    return {
        "eight_schools": json.loads((ROOT / "examples" / "eight_schools.json").read_text()),
        "radon": {"N": N, "J": J, "county": county.tolist(), "floor": floor.tolist(),
                  "log_radon": radon.tolist()},
        "logistic": {"N": M, "K": K, "X": X.tolist(), "y": y.astype(int).tolist()},
        "arK": json.loads(ARK.read_text()),
    }


MODELS = {
    "eight_schools": ROOT / "examples" / "eight_schools.ppl",
    "radon": ROOT / "examples" / "radon.ppl",
    "logistic": ROOT / "examples" / "logistic_regression.ppl",
    "arK": ROOT / "tests" / "posteriordb" / "models" / "arK-arK.ppl",
}

DSLPPL = '''
import json, sys, time
start = time.perf_counter()
import dslppl
from dslppl.infer import diagnostics
model = dslppl.load(sys.argv[1])
data = json.load(open(sys.argv[2]))
post = model.sample(data, chains=4, warmup=1000, draws=1000, seed=0, progress=False, warn=False)
# Warm-up and sampling wall time; compiling happens before, in the setup.
sampling = post.timing["warmup"] + post.timing["sampling"]
summary = post.summary()
total = time.perf_counter() - start
print(json.dumps({"total": total, "sampling": sampling, "min_ess": min(r.ess_bulk for r in summary),
                  "leapfrogs": int(post.stats["n_leapfrog"].sum())}))
'''

NUMPYRO_MODELS = '''
import jax.numpy as jnp, numpyro, numpyro.distributions as dist

def eight_schools(d):
    mu = numpyro.sample("mu", dist.Normal(0, 5))
    tau = numpyro.sample("tau", dist.HalfCauchy(5))
    with numpyro.plate("J", d["J"]):
        theta_raw = numpyro.sample("theta_raw", dist.Normal(0, 1))
        numpyro.sample("y", dist.Normal(mu + tau * theta_raw, jnp.array(d["sigma"], dtype=float)),
                       obs=jnp.array(d["y"], dtype=float))

def radon(d):
    mu_a = numpyro.sample("mu_a", dist.Normal(0, 5))
    sigma_a = numpyro.sample("sigma_a", dist.HalfNormal(1))
    beta = numpyro.sample("beta", dist.Normal(0, 2))
    sigma_y = numpyro.sample("sigma_y", dist.HalfNormal(1))
    with numpyro.plate("J", d["J"]):
        a = numpyro.sample("a", dist.Normal(mu_a, sigma_a))
    county, floor = jnp.array(d["county"]), jnp.array(d["floor"])
    with numpyro.plate("N", d["N"]):
        numpyro.sample("y", dist.Normal(a[county] + beta * floor, sigma_y), obs=jnp.array(d["log_radon"]))

def logistic(d):
    X = jnp.array(d["X"])
    alpha = numpyro.sample("alpha", dist.Normal(0, 2.5))
    beta = numpyro.sample("beta", dist.Normal(0, 1).expand([d["K"]]).to_event(1))
    numpyro.sample("y", dist.Bernoulli(logits=X @ beta + alpha), obs=jnp.array(d["y"]))

def arK(d):
    K, T, y = d["K"], d["T"], jnp.array(d["y"])
    alpha = numpyro.sample("alpha", dist.Normal(0, 10))
    beta = numpyro.sample("beta", dist.Normal(0, 10).expand([K]).to_event(1))
    sigma = numpyro.sample("sigma", dist.HalfCauchy(2.5))
    lags = jnp.stack([y[K - 1 - k:T - 1 - k] for k in range(K)], -1)
    numpyro.sample("obs", dist.Normal(alpha + lags @ beta, sigma), obs=y[K:])
'''

NUMPYRO = '''
import json, sys, time
start = time.perf_counter()
import numpy as np
import jax
jax.config.update("jax_enable_x64", True)
from numpyro.infer import MCMC, NUTS
from dslppl.infer import diagnostics
''' + NUMPYRO_MODELS + '''
name, data = sys.argv[1], json.load(open(sys.argv[2]))
def run(seed):
    mcmc = MCMC(NUTS(globals()[name]), num_warmup=1000, num_samples=1000, num_chains=4,
                chain_method="vectorized", progress_bar=False)
    mcmc.run(jax.random.PRNGKey(seed), data)
    samples = mcmc.get_samples(group_by_chain=True)
    jax.block_until_ready(samples)
    return mcmc, samples
mcmc, samples = run(0)
columns = [np.asarray(v).reshape(4, 1000, -1) for v in samples.values()]
min_ess = min(diagnostics.ess_bulk(c[:, :, i]) for c in columns for i in range(c.shape[2]))
total = time.perf_counter() - start
t0 = time.perf_counter()
run(1)
sampling = time.perf_counter() - t0
print(json.dumps({"total": total, "sampling": sampling, "min_ess": min_ess}))
'''


def _run(code: str, *args: str) -> dict:
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "JAX_PLATFORMS": "cpu"})
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["wall"] = time.perf_counter() - started
    return result


def main() -> None:
    names = sys.argv[1:] or list(MODELS)
    datasets = _datasets()
    have_numpyro = importlib.util.find_spec("numpyro") is not None
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            data = Path(tmp) / f"{name}.json"
            data.write_text(json.dumps(datasets[name]))
            ours = _run(DSLPPL, str(MODELS[name]), str(data))
            row = [name, f"{ours['wall']:.1f}", f"{ours['sampling']:.1f}", f"{ours['min_ess']:.0f}",
                   f"{ours['min_ess'] / ours['sampling']:.1f}"]
            if have_numpyro:
                theirs = _run(NUMPYRO, name, str(data))
                row += [f"{theirs['wall']:.1f}", f"{theirs['sampling']:.1f}", f"{theirs['min_ess']:.0f}",
                        f"{theirs['min_ess'] / theirs['sampling']:.1f}",
                        f"{ours['wall'] / theirs['wall']:.2f}",
                        f"{(theirs['min_ess'] / theirs['sampling']) / (ours['min_ess'] / ours['sampling']):.2f}"]
            rows.append(row)
            print(row, flush=True)
            _write(rows)  # after every model, so a long run reports as it goes


def _write(rows: list[list[str]]) -> None:
    write_result("nuts_speed", "NUTS speed: dslppl vs NumPyro (4 chains x 1000 + 1000)",
                 ["model", "dslppl wall s", "dslppl sampling s", "dslppl min ESS", "dslppl ESS/s",
                  "NumPyro wall s (incl. JIT)", "NumPyro sampling s (excl. JIT)", "NumPyro min ESS",
                  "NumPyro ESS/s", "wall ratio (ours/NumPyro)", "ESS/s ratio (NumPyro/ours)"][:len(rows[0])],
                 rows, notes=["Wall: a fresh process from start to summary (imports included). "
                              "Sampling (compilation excluded): dslppl's warm-up + draws iterations (compiling "
                              "happens before them); NumPyro's second run of the compiled sampler. "
                              "Targets: wall ratio <= 0.5; ESS/s ratio <= 3 on eight schools and radon."])


if __name__ == "__main__":
    main()
