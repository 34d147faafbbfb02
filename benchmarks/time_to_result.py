"""Time to result: a whole process, from model source to a printed posterior summary.

Each system gets a fresh Python process (interpreter start and imports count)
that reads eight schools, fits it for 2,000 steps with a mean-field normal
guide and Adam (lr 0.01) and prints posterior means and sds from 1,000 draws:
dslppl from the ``.ppl`` text, Pyro from the same model written in Pyro, and
NumPyro when it is installed (optional ``bench`` extra). Wall times are
medians of three runs, taken in one sitting.

Run: ``.venv/bin/python benchmarks/time_to_result.py``; writes
``benchmarks/results/time_to_result.md``.
"""
from __future__ import annotations

import importlib.util
import statistics
import subprocess
import sys
import time

from _report import write_result

DATA = "{'J': 8, 'y': [28., 8., -3., 7., -1., 1., 18., 12.], 'sigma': [15., 10., 16., 11., 9., 11., 10., 18.]}"

DSLPPL = f'''
import dslppl
model = dslppl.loads("""
model eight_schools {{
  data J: int
  data y: real[J]
  data sigma: positive[J]
  mu ~ Normal(0, 5)
  tau ~ HalfCauchy(5)
  plate j in J {{
    theta_raw[j] ~ Normal(0, 1)
    theta[j] = mu + tau * theta_raw[j]
    y[j] ~ Normal(theta[j], sigma[j])
  }}
}}""")
fit = model.fit({DATA}, guide="normal", steps=2000, seed=0, progress=False)
print(fit.summary(n=1000))
print("steps", fit.steps)
'''

PYRO = f'''
import torch, pyro, pyro.distributions as dist
from pyro.infer import SVI, Trace_ELBO, Predictive
from pyro.infer.autoguide import AutoNormal
data = {{k: torch.tensor(v) for k, v in {DATA}.items()}}
def model(J, y, sigma):
    mu = pyro.sample("mu", dist.Normal(0., 5.))
    tau = pyro.sample("tau", dist.HalfCauchy(5.))
    with pyro.plate("j", 8):
        theta_raw = pyro.sample("theta_raw", dist.Normal(0., 1.))
        theta = pyro.deterministic("theta", mu + tau * theta_raw)
        pyro.sample("y", dist.Normal(theta, sigma), obs=y)
pyro.set_rng_seed(0)
guide = AutoNormal(model)
svi = SVI(model, guide, pyro.optim.Adam({{"lr": 0.01}}), Trace_ELBO())
for _ in range(2000):
    svi.step(**data)
draws = Predictive(model, guide=guide, num_samples=1000)(**data)
for name in ("mu", "tau", "theta"):
    print(name, draws[name].mean(0), draws[name].std(0))
'''

NUMPYRO = f'''
import jax, jax.numpy as jnp, numpyro, numpyro.distributions as dist
from numpyro.infer import SVI, Trace_ELBO, Predictive
from numpyro.infer.autoguide import AutoNormal
data = {{k: jnp.array(v) for k, v in {DATA}.items()}}
def model(J, y, sigma):
    mu = numpyro.sample("mu", dist.Normal(0., 5.))
    tau = numpyro.sample("tau", dist.HalfCauchy(5.))
    with numpyro.plate("j", 8):
        theta_raw = numpyro.sample("theta_raw", dist.Normal(0., 1.))
        theta = numpyro.deterministic("theta", mu + tau * theta_raw)
        numpyro.sample("y", dist.Normal(theta, sigma), obs=y)
guide = AutoNormal(model)
svi = SVI(model, guide, numpyro.optim.Adam(0.01), Trace_ELBO())
result = svi.run(jax.random.PRNGKey(0), 2000, progress_bar=False, **data)
draws = Predictive(model, guide=guide, params=result.params, num_samples=1000)(jax.random.PRNGKey(1), **data)
for name in ("mu", "tau", "theta"):
    print(name, draws[name].mean(0), draws[name].std(0))
'''


def wall_time(code: str, runs: int = 3) -> tuple[float, str]:
    times, out = [], ""
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"})
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise RuntimeError(done.stderr[-2000:])
        out = done.stdout
    return statistics.median(times), out


def main() -> None:
    systems = [("dslppl", DSLPPL), ("Pyro", PYRO)]
    if importlib.util.find_spec("numpyro") is not None:
        systems.append(("NumPyro", NUMPYRO))
    results = {name: wall_time(code) for name, code in systems}
    base = results["Pyro"][0]
    rows = [[name, f"{seconds:.2f} s", f"{seconds / base:.2f}"] for name, (seconds, _) in results.items()]
    steps = next((line for line in results["dslppl"][1].splitlines() if line.startswith("steps")), "")
    notes = [f"dslppl's fit ran `{steps}` (it stops early once the loss has converged; at most 2,000).",
             "Target: dslppl's time to result at most a third of Pyro's."]
    if "NumPyro" not in results:
        notes.append("NumPyro is not installed (optional bench extra), so it is not timed.")
    write_result("time_to_result", "Time to result: eight schools, source to posterior summary",
                 ["system", "wall time (median of 3)", "relative to Pyro"], rows, notes)


if __name__ == "__main__":
    main()
