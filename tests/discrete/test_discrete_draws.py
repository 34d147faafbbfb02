"""Discrete latents drawn from their exact conditional given the continuous values, the most
probable assignment (Viterbi), posterior summaries and prior simulation.

Each conditional is computed here by brute force over every assignment; the
draws' frequencies must agree within five standard errors.
"""
from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import torch
from torch.distributions import Normal

import dslppl
from dslppl.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
D = torch.float64
DRAWS = 2000

HMM = """
model hmm {
  data T: int
  data y: real[T]
  z[0] ~ Categorical([0.6, 0.4])
  for t in 1..T {
    z[t] ~ Categorical(where(z[t - 1] == 0, [0.8, 0.2], [0.3, 0.7]))
  }
  mu ~ Normal(0, 1)
  plate t in T {
    y[t] ~ Normal(where(z[t] == 1, mu + 1, mu - 1), 1)
  }
}
"""


def _paths(y: list[float], mu: float) -> dict[tuple, float]:
    """The exact posterior over every path of the chain above."""
    start, move = [0.6, 0.4], [[0.8, 0.2], [0.3, 0.7]]
    weights = {}
    for path in itertools.product(range(2), repeat=len(y)):
        p = start[path[0]]
        for a, b in zip(path, path[1:]):
            p *= move[a][b]
        for z, obs in zip(path, y):
            p *= math.exp(float(Normal(torch.tensor(mu + (1 if z else -1), dtype=D), 1.0).log_prob(
                torch.tensor(obs, dtype=D))))
        weights[path] = p
    total = sum(weights.values())
    return {k: v / total for k, v in weights.items()}


def _assert_frequencies(draws: list[tuple], exact: dict[tuple, float]) -> None:
    for key, p in exact.items():
        frequency = sum(1 for d in draws if d == key) / len(draws)
        assert abs(frequency - p) <= 5 * math.sqrt(p * (1 - p) / len(draws)) + 1e-9, key


def test_chain_paths_are_drawn_from_their_exact_conditional():
    y = [0.3, -1.2, 2.0, 0.5]
    bound = dslppl.loads(HMM).bind({"T": 4, "y": y})
    values = {"mu": torch.tensor(0.2, dtype=D)}
    exact = _paths(y, 0.2)
    generator = torch.Generator().manual_seed(0)
    draws = [tuple(int(v) for v in bound.sample_discrete(values, generator)["z"]) for _ in range(DRAWS)]
    _assert_frequencies(draws, exact)
    best = tuple(int(v) for v in bound.sample_discrete(values, maximize=True)["z"])
    assert best == max(exact, key=exact.get)


MIXED = """
model m {
  data N: int
  data y: real[N]
  s ~ Bernoulli(0.4)
  plate n in N {
    x[n] ~ Categorical(where(s == 1, [0.1, 0.2, 0.7], [0.5, 0.3, 0.2]))
    y[n] ~ Normal(x[n] + s, 0.8)
  }
}
"""


def test_a_global_and_plated_variables_are_drawn_jointly():
    y = [0.4, 2.5]
    bound = dslppl.loads(MIXED).bind({"N": 2, "y": y})
    exact = {}
    for s in range(2):
        for xs in itertools.product(range(3), repeat=2):
            p = (0.4 if s else 0.6)
            for x, obs in zip(xs, y):
                p *= ([0.1, 0.2, 0.7] if s else [0.5, 0.3, 0.2])[x]
                p *= math.exp(float(Normal(torch.tensor(float(x + s), dtype=D), 0.8).log_prob(torch.tensor(obs, dtype=D))))
            exact[(s, *xs)] = p
    total = sum(exact.values())
    exact = {k: v / total for k, v in exact.items()}
    generator = torch.Generator().manual_seed(1)
    draws = []
    for _ in range(DRAWS):
        drawn = bound.sample_discrete({}, generator)
        draws.append((int(drawn["s"]), *(int(v) for v in drawn["x"])))
    _assert_frequencies(draws, exact)
    best = bound.sample_discrete({}, maximize=True)
    assert (int(best["s"]), *(int(v) for v in best["x"])) == max(exact, key=exact.get)


def test_a_fit_summarises_the_discrete_latents(tmp_path, capsys):
    out = tmp_path / "fit.json"
    assert main(["fit", str(EXAMPLES / "change_point.ppl"), "--data", str(EXAMPLES / "change_point.json"),
                 "--steps", "300", "--seed", "0", "--num-samples", "200", "--no-progress", "--out", str(out)]) == 0
    summary = json.loads(out.read_text())["summary"]
    assert abs(summary["s"]["mean"] - 24) < 3  # the data switch rate at t = 24 (examples/make_data.py)
    model = dslppl.load(EXAMPLES / "hmm.ppl")
    fit = model.fit(EXAMPLES / "hmm.json", steps=100, seed=0, progress=False)
    draws = fit.sample_posterior(20, seed=0)
    assert draws["z"].shape == (20, 100) and set(draws["z"].unique().tolist()) <= {0.0, 1.0}


def test_prior_simulation_draws_the_discrete_latents():
    model = dslppl.load(EXAMPLES / "change_point.ppl")
    draws = model.sample_prior({"T": 10}, num_samples=400, seed=0)
    assert draws["s"].shape == (400,) and set(draws["s"].tolist()) == set(range(10))
    rate = draws["rate"]
    t = torch.arange(10)
    switched = torch.where(t[None, :] < draws["s"][:, None], draws["early"][:, None], draws["late"][:, None])
    assert torch.equal(rate, switched)
    chain = dslppl.load(EXAMPLES / "hmm.ppl").sample_prior({"T": 30, "K": 3}, num_samples=5, seed=0)
    assert chain["z"].shape == (5, 30) and chain["y"].shape == (5, 30)
