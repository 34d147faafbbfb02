"""Write the JSON data of every example (cmdstan style: an object of numbers and nested lists).

    python examples/make_data.py

Synthetic data sets are simulated with fixed numpy seeds, so the files are
reproducible byte for byte; the eight-schools examples copy posteriordb's data
from tests/posteriordb/data/. The true parameter values are listed in TRUTH
(and printed) so a fit can be checked against them.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
EIGHT_SCHOOLS = HERE.parent / "tests" / "posteriordb" / "data" / "eight_schools-eight_schools_noncentered" / "data.json"

TRUTH: dict[str, dict] = {}


def _round(values: np.ndarray, digits: int = 4) -> list:
    return np.round(np.asarray(values, dtype=float), digits).tolist()


def eight_schools() -> dict:
    with open(EIGHT_SCHOOLS, encoding="utf-8") as handle:
        return json.load(handle)


def radon(seed: int = 1) -> dict:
    rng = np.random.RandomState(seed)
    J, N = 20, 300
    mu_a, sigma_a, beta, sigma_y = 1.5, 0.4, -0.7, 0.7
    # uneven county sizes, every county seen at least 3 times
    sizes = 3 + rng.multinomial(N - 3 * J, rng.dirichlet(np.full(J, 1.5)))
    county = np.repeat(np.arange(J), sizes)
    rng.shuffle(county)
    a = rng.normal(mu_a, sigma_a, size=J)
    floor = (rng.uniform(size=N) < 0.3).astype(float)
    log_radon = rng.normal(a[county] + beta * floor, sigma_y)
    TRUTH["radon"] = {"mu_a": mu_a, "sigma_a": sigma_a, "beta": beta, "sigma_y": sigma_y}
    return {"N": N, "J": J, "county": county.tolist(), "floor": floor.astype(int).tolist(),
            "log_radon": _round(log_radon)}


def logistic_regression(seed: int = 2) -> dict:
    rng = np.random.RandomState(seed)
    N, K = 200, 3
    alpha, beta = -0.5, np.array([1.0, -2.0, 0.5])
    X = rng.normal(size=(N, K))
    p = 1.0 / (1.0 + np.exp(-(X @ beta + alpha)))
    y = (rng.uniform(size=N) < p).astype(int)
    TRUTH["logistic_regression"] = {"alpha": alpha, "beta": beta.tolist()}
    return {"N": N, "K": K, "X": _round(X), "y": y.tolist()}


def linear_regression(seed: int = 3) -> dict:
    rng = np.random.RandomState(seed)
    N = 100
    alpha, beta, sigma = 1.0, 2.0, 0.5
    x = rng.uniform(-2, 2, size=N)
    y = rng.normal(alpha + beta * x, sigma)
    TRUTH["linear_regression"] = {"alpha": alpha, "beta": beta, "sigma": sigma}
    return {"N": N, "x": _round(x), "y": _round(y)}


def coin(seed: int = 4) -> dict:
    rng = np.random.RandomState(seed)
    n, p = 50, 0.6
    heads = int(rng.binomial(n, p))
    TRUTH["coin"] = {"p": p, "posterior": f"Beta({2 + heads}, {2 + n - heads})"}
    return {"n": n, "heads": heads}


def random_walk(seed: int = 5) -> dict:
    rng = np.random.RandomState(seed)
    T, s, obs_sd = 60, 0.3, 0.5
    x = np.cumsum(np.concatenate([[rng.normal(0, 1)], rng.normal(0, s, size=T - 1)]))
    y = rng.normal(x, obs_sd)
    TRUTH["random_walk"] = {"s": s, "obs_sd": obs_sd}
    return {"T": T, "y": _round(y)}


def mixture(seed: int = 6) -> dict:
    rng = np.random.RandomState(seed)
    N = 200
    mu, sigma, w = np.array([-2.0, 2.0]), np.array([0.7, 1.0]), np.array([0.4, 0.6])
    z = rng.choice(2, size=N, p=w)
    y = rng.normal(mu[z], sigma[z])
    TRUTH["mixture"] = {"mu": mu.tolist(), "sigma": sigma.tolist(), "w": w.tolist()}
    return {"N": N, "y": _round(y)}


def prior_predictive() -> dict:
    # covariates and sizes only: y is left out on purpose (see prior_predictive.ppl)
    N = 20
    return {"N": N, "x": _round(np.linspace(-1.0, 1.0, N))}


def ar_k(seed: int = 7) -> dict:
    rng = np.random.RandomState(seed)
    K, T, burn = 3, 150, 100
    alpha, beta, sigma = 0.2, np.array([0.5, -0.3, 0.2]), 0.3
    y = np.zeros(T + burn)
    for t in range(K, T + burn):
        y[t] = alpha + beta @ y[t - K:t][::-1] + rng.normal(0, sigma)
    TRUTH["ar_k"] = {"alpha": alpha, "beta": beta.tolist(), "sigma": sigma}
    return {"K": K, "T": T, "y": _round(y[burn:])}


def gp_regression(seed: int = 8) -> dict:
    rng = np.random.RandomState(seed)
    N, sigma = 30, 0.2
    x = np.sort(rng.uniform(-4, 4, size=N))
    y = np.sin(x) + rng.normal(0, sigma, size=N)
    TRUTH["gp_regression"] = {"f": "sin(x)", "sigma": sigma}
    return {"N": N, "x": _round(x), "y": _round(y)}


def change_point(seed: int = 9) -> dict:
    rng = np.random.RandomState(seed)
    T, switch, early, late = 60, 24, 4.0, 1.0
    y = rng.poisson(np.where(np.arange(T) < switch, early, late))
    TRUTH["change_point"] = {"s": switch, "early": early, "late": late}
    return {"T": T, "y": y.tolist()}


def zero_inflated(seed: int = 10) -> dict:
    rng = np.random.RandomState(seed)
    N, theta, rate = 150, 0.3, 3.0
    zero = rng.uniform(size=N) < theta
    y = np.where(zero, 0, rng.poisson(rate, size=N))
    TRUTH["zero_inflated"] = {"theta": theta, "rate": rate}
    return {"N": N, "y": y.tolist()}


def hmm(seed: int = 11) -> dict:
    rng = np.random.RandomState(seed)
    T, K = 100, 2
    P = np.array([[0.9, 0.1], [0.15, 0.85]])
    mu, sigma = np.array([-1.0, 2.0]), 0.6
    z = [rng.choice(K)]
    for _ in range(T - 1):
        z.append(rng.choice(K, p=P[z[-1]]))
    y = rng.normal(mu[np.array(z)], sigma)
    TRUTH["hmm"] = {"P": P.tolist(), "mu": mu.tolist(), "sigma": sigma}
    return {"T": T, "K": K, "y": _round(y)}


def sprinkler() -> dict:
    return {"wet": 1}


EXAMPLES = {
    "eight_schools": eight_schools,
    "eight_schools_guide": eight_schools,
    "radon": radon,
    "logistic_regression": logistic_regression,
    "linear_regression": linear_regression,
    "coin": coin,
    "random_walk": random_walk,
    "mixture": mixture,
    "prior_predictive": prior_predictive,
    "ar_k": ar_k,
    "gp_regression": gp_regression,
    "mixture_labels": mixture,
    "change_point": change_point,
    "zero_inflated": zero_inflated,
    "hmm": hmm,
    "sprinkler": sprinkler,
}


def main() -> None:
    for name, make in EXAMPLES.items():
        path = HERE / f"{name}.json"
        path.write_text(json.dumps(make(), separators=(", ", ": ")) + "\n", encoding="utf-8")
        print(f"wrote {path.relative_to(HERE.parent)}", TRUTH.get(name, ""))


if __name__ == "__main__":
    main()
