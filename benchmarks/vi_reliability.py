"""Variational fits against outside references: right, or flagged unreliable.

For each case of the reliability issue (full-rank collapse, trapping starts,
early stops, one-particle mean-field): the worst |mean error| (reference sds)
and |sd ratio - 1| over the reference's scalar parameters, the verdict
(``reliable``, k-hat, ``converged``), and the time. References: Pyro NUTS
(tests/infer/references/), Newton on all N = 200,000 rows (logistic), the
exact Gamma posterior. Writes results/accuracy/vi_reliability.md (accuracy,
not speed: the README's performance section quotes only results/*.md).

    python benchmarks/vi_reliability.py [CASE ...]
"""
from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path

import numpy as np

import dslppl
from _report import RESULTS, machine_facts, markdown_table

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "tests" / "infer" / "models"
REFS = ROOT / "tests" / "infer" / "references"


def nuts(name, keys):
    post = json.loads((REFS / f"{name}.json").read_text())["posterior"]
    return {k: post[k] for k in keys}


def logistic(n):
    rng = np.random.default_rng(0)
    x1, x2 = rng.standard_normal(n), rng.standard_normal(n)
    y = rng.random(n) < 1 / (1 + np.exp(-(-0.5 + 1.0 * x1 - 0.7 * x2)))
    X = np.column_stack([np.ones(n), x1, x2])
    w = np.zeros(3)
    for _ in range(30):
        p = 1 / (1 + np.exp(-X @ w))
        H = (X * (p * (1 - p))[:, None]).T @ X + np.eye(3) / 6.25
        w += np.linalg.solve(H, X.T @ (y - p) - w / 6.25)
    sd = np.sqrt(np.diag(np.linalg.inv(H)))
    ref = {k: {"mean": w[i], "sd": sd[i]} for i, k in enumerate(["alpha", "b1", "b2"])}
    return {"N": n, "x1": x1.tolist(), "x2": x2.tolist(), "y": y.tolist()}, ref


def gamma_poisson():
    rng = np.random.default_rng(1)
    y = rng.poisson(4.0, 24)
    y[0] += 96 - y.sum()
    ref = {"lam": {"mean": 98 / 25, "sd": math.sqrt(98) / 25}}
    return {"N": 24, "y": y.tolist()}, ref


def cases():
    rw = (ROOT / "examples" / "random_walk.ppl", ROOT / "examples" / "random_walk.json",
          lambda: nuts("random_walk", ["s", "obs_sd"]))
    ar1 = (MODELS / "ar1_latent.ppl", MODELS / "ar1_latent.json",
           lambda: nuts("ar1_latent", ["phi", "sigma", "obs_sd"]))
    sv = (MODELS / "stochastic_volatility.ppl", MODELS / "stochastic_volatility.json",
          lambda: nuts("stochastic_volatility", ["mu", "phi", "sigma2"]))
    gp = (MODELS / "latent_gp.ppl", MODELS / "latent_gp.json", lambda: nuts("latent_gp", ["rho", "alpha"]))
    yield "random_walk", "mvn", rw, {"guide": "mvn"}
    yield "random_walk", "normal", rw, {}
    yield "ar1_latent", "mvn", ar1, {"guide": "mvn"}
    yield "ar1_latent", "normal", ar1, {}
    yield "stochastic_volatility", "normal", sv, {}
    yield "stochastic_volatility", "mvn", sv, {"guide": "mvn"}
    yield "latent_gp", "normal", gp, {}
    yield "latent_gp", "mvn", gp, {"guide": "mvn"}
    yield "gamma_poisson_guide", "default", (MODELS / "gamma_poisson_guide.ppl", None, gamma_poisson), {}
    yield "gamma_poisson_guide", "lr 0.1, 4000 steps", (MODELS / "gamma_poisson_guide.ppl", None,
                                                        gamma_poisson), {"lr": 0.1, "steps": 4000}
    big = (MODELS / "logistic_plate.ppl", None, lambda: logistic(200_000))
    yield "logistic N=200,000 batch 1,024", "default", big, {"subsample": {"n": 1024}}
    yield "logistic N=200,000 batch 1,024", "8000 steps", big, {"subsample": {"n": 1024}, "steps": 8000}
    es = (ROOT / "examples" / "eight_schools.ppl", ROOT / "examples" / "eight_schools.json", None)
    yield "eight_schools (non-centred)", "normal", es, {}
    yield "eight_schools (non-centred)", "normal, 8 particles", es, {"num_particles": 8}


def run(model_path, data_path, reference, options):
    if data_path is None:
        data, ref = reference()
    else:
        data, ref = data_path, reference() if reference else None
    if ref is None:
        sys.path.insert(0, str(ROOT))
        from tests.posteriordb.catalog import load_reference
        full = load_reference("eight_schools-eight_schools_noncentered")
        ref = {k: full[k] for k in ("mu", "tau")}
    start = time.perf_counter()
    fit = dslppl.load(model_path).fit(data, seed=0, progress=False, **options)
    seconds = time.perf_counter() - start
    s = fit.summary(n=4000)
    mean_err = max(abs(s[k].mean - v["mean"]) / v["sd"] for k, v in ref.items())
    sd_err = max(abs(s[k].sd / v["sd"] - 1) for k, v in ref.items())
    v = fit.reliability
    khat = "-" if v.khat is None else f"{v.khat:.2f}"
    return [f"{mean_err:.2f}", f"{sd_err:.2f}", str(v.reliable), khat, str(fit.converged),
            f"{fit.final_loss:.4g}", f"{seconds:.0f}"]


def main(selected):
    rows = []
    for name, setting, (model, data, ref), options in cases():
        if selected and not any(s in name for s in selected):
            continue
        try:
            row = [name, setting, *run(model, data, ref, options)]
        except FileNotFoundError as error:   # a NUTS reference not made yet
            row = [name, setting, f"no reference ({error.filename})"] + [""] * 6
        print(" | ".join(row), flush=True)
        rows.append(row)
    table = markdown_table(["case", "setting", "mean err (sd)", "|sd ratio - 1|", "reliable", "k-hat",
                            "converged", "final loss", "s"], rows)
    text = f"# Variational fits: right or flagged\n\n{machine_facts()}\n\n{table}\n"
    if not selected:
        (RESULTS / "accuracy" / "vi_reliability.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main(sys.argv[1:])
