"""Exact queries against brute-force enumeration of the joint, and textbook networks.

Random Bayesian networks (5-8 binary or ternary nodes, random parents and
tables, seeded) are written as `.ppl` models whose conditional tables are
data; every query ``p(targets | evidence)`` must equal the ratio of sums over
all joint assignments, computed here by itertools, to 1e-10. The sprinkler and
Asia networks give their published numbers.
"""
from __future__ import annotations

import itertools
import random
from pathlib import Path

import pytest
import torch

import dslppl
from dslppl.diagnostics import DslError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def random_network(seed: int):
    rng = random.Random(seed)
    generator = torch.Generator().manual_seed(seed)
    count = rng.randint(5, 8)
    sizes = [rng.choice([2, 3]) for _ in range(count)]
    parents = [sorted(rng.sample(range(i), min(i, rng.randint(0, 3)))) for i in range(count)]
    tables = []
    for i in range(count):
        shape = [sizes[p] for p in parents[i]] + [sizes[i]]
        draws = torch.rand(shape, generator=generator, dtype=torch.float64) + 0.05
        tables.append(draws / draws.sum(-1, keepdim=True))
    lines = []
    for i in range(count):
        shape = ", ".join(str(s) for s in [sizes[p] for p in parents[i]] + [sizes[i]])
        lines.append(f"  data cpt{i}: real[{shape}]")
        index = f"[{', '.join(f'x{p}' for p in parents[i])}]" if parents[i] else ""
        lines.append(f"  x{i} ~ Categorical(cpt{i}{index})")
    text = f"model net{seed} {{\n" + "\n".join(lines) + "\n}"
    data = {f"cpt{i}": tables[i].tolist() for i in range(count)}
    return text, data, sizes, parents, tables


def brute_force(sizes, parents, tables, targets, evidence):
    """p(targets | evidence) by summing the joint over every assignment."""
    table = {}
    for assignment in itertools.product(*(range(s) for s in sizes)):
        if any(assignment[i] != v for i, v in evidence.items()):
            continue
        p = 1.0
        for i, cpt in enumerate(tables):
            p *= float(cpt[tuple(assignment[q] for q in parents[i]) + (assignment[i],)])
        key = tuple(assignment[i] for i in targets)
        table[key] = table.get(key, 0.0) + p
    total = sum(table.values())
    return {k: v / total for k, v in table.items()}, total


@pytest.mark.parametrize("seed", range(12))
def test_random_network_queries_equal_brute_force(seed):
    text, data, sizes, parents, tables = random_network(seed)
    model = dslppl.loads(text)
    rng = random.Random(100 + seed)
    for _ in range(4):
        nodes = rng.sample(range(len(sizes)), rng.randint(1, 4))
        targets, given = nodes[: rng.randint(1, min(2, len(nodes)))], nodes[2:]
        evidence = {i: rng.randrange(sizes[i]) for i in given}
        expected, mass = brute_force(sizes, parents, tables, targets, evidence)
        condition = " | " + ", ".join(f"x{i} = {v}" for i, v in evidence.items()) if evidence else ""
        result = model.query(f"p({', '.join(f'x{i}' for i in targets)}{condition})", data)
        assert result.names == tuple(f"x{i}" for i in targets)
        for values, p in result.as_dict().items():
            assert p == pytest.approx(expected.get(values, 0.0), abs=1e-10)
        if evidence:
            given_text = ", ".join(f"x{i} = {v}" for i, v in evidence.items())
            assert float(model.query(f"p({given_text})", data).probability) == pytest.approx(mass, abs=1e-10)


def test_sprinkler_gives_the_textbook_numbers():
    model = dslppl.load(EXAMPLES / "sprinkler.ppl")
    data = EXAMPLES / "sprinkler.json"  # wet = 1 observed
    # P(rain | wet) = 0.3577, P(sprinkler | wet) = 0.6467, P(wet) = 0.4484 (the network of
    # Wikipedia's "Bayesian network" article)
    joint = 0.2 * (0.01 * 0.99 + 0.99 * 0.8)  # p(rain = 1, wet = 1): the data is part of the evidence
    assert float(model.query("p(rain = 1)", data).probability) == pytest.approx(joint, abs=1e-12)
    rain = model.query("p(rain)", data).as_dict()
    assert rain[(1,)] == pytest.approx(0.3577, abs=5e-5)
    assert model.query("p(sprinkler)", data).as_dict()[(1,)] == pytest.approx(0.6467, abs=5e-5)
    assert float(model.query("p(wet = 1)").probability) == pytest.approx(0.44838, abs=1e-5)
    both = model.query("p(rain, sprinkler)", data).as_dict()
    assert sum(both.values()) == pytest.approx(1.0, abs=1e-12)
    assert both[(0, 0)] == pytest.approx(0.0, abs=1e-12)  # no rain, no sprinkler: never wet


ASIA = """
model asia {
  asia ~ Bernoulli(0.01)
  smoke ~ Bernoulli(0.5)
  tub ~ Bernoulli(where(asia == 1, 0.05, 0.01))
  lung ~ Bernoulli(where(smoke == 1, 0.1, 0.01))
  bronc ~ Bernoulli(where(smoke == 1, 0.6, 0.3))
  either = max(tub, lung)
  xray ~ Bernoulli(where(either == 1, 0.98, 0.05))
  dysp ~ Bernoulli(where(bronc == 1, where(either == 1, 0.9, 0.8), where(either == 1, 0.7, 0.1)))
}
"""


def test_asia_gives_the_textbook_marginals():
    """Lauritzen and Spiegelhalter (1988): the marginals every Bayes-net tool prints."""
    model = dslppl.loads(ASIA)
    marginal = {name: model.query(f"p({name})").as_dict()[(1,)] for name in
                ("tub", "lung", "bronc", "xray", "dysp")}
    assert marginal == pytest.approx({"tub": 0.0104, "lung": 0.055, "bronc": 0.45, "xray": 0.11029,
                                      "dysp": 0.43597}, abs=5e-5)
    # a classic diagnostic query: lung cancer given a positive x-ray and dyspnoea, for a smoker
    lung = model.query("p(lung | xray = 1, dysp = 1, smoke = 1)").as_dict()[(1,)]
    assert lung == pytest.approx(_asia_brute_force(), abs=1e-10)


def _asia_brute_force() -> float:
    probability = {}
    for asia, smoke, tub, lung, bronc in itertools.product(range(2), repeat=5):
        either = max(tub, lung)
        p = (0.01 if asia else 0.99) * 0.5 * (([0.99, 0.01], [0.95, 0.05])[asia][tub]) \
            * (([0.99, 0.01], [0.9, 0.1])[smoke][lung]) * (([0.7, 0.3], [0.4, 0.6])[smoke][bronc])
        p *= 0.98 if either else 0.05  # xray = 1
        p *= (0.9 if either else 0.8) if bronc else (0.7 if either else 0.1)  # dysp = 1
        if smoke:
            probability[lung] = probability.get(lung, 0.0) + p
    return probability[1] / (probability[0] + probability[1])


def test_a_global_variable_with_a_plated_child_equals_brute_force():
    """z picks a row of A; each x[n] is summed per element; y[n] is observed."""
    model = dslppl.loads("""
model m {
  data N: int
  data A: real[3, 2]
  data B: real[2, 2]
  data y: int[N]
  z ~ Categorical([0.2, 0.3, 0.5])
  plate n in N {
    x[n] ~ Categorical(A[z])
    y[n] ~ Categorical(B[x[n]])
  }
}""")
    A = [[0.9, 0.1], [0.5, 0.5], [0.2, 0.8]]
    B = [[0.7, 0.3], [0.1, 0.9]]
    y = [1, 0, 1]
    table = {}
    for z in range(3):
        for xs in itertools.product(range(2), repeat=3):
            p = [0.2, 0.3, 0.5][z]
            for x, obs in zip(xs, y):
                p *= A[z][x] * B[x][obs]
            table[z] = table.get(z, 0.0) + p
    total = sum(table.values())
    result = model.query("p(z)", {"N": 3, "A": A, "B": B, "y": y}).as_dict()
    assert result == pytest.approx({(z,): table[z] / total for z in range(3)}, abs=1e-12)
    assert float(model.query("p(z = 2)", {"N": 3, "A": A, "B": B, "y": y}).probability) == \
        pytest.approx(table[2], abs=1e-12)


@pytest.mark.parametrize("query, message", [
    ("p(rain | wet)", "expected '='"),
    ("p(rain | wet = 1", "expected ')'"),
    ("q(rain)", "expected 'p'"),
    ("p(rian)", "'rian' is no variable"),
    ("p(rain) extra", "expected the end"),
])
def test_bad_queries_are_located(query, message):
    model = dslppl.load(EXAMPLES / "sprinkler.ppl")
    with pytest.raises(DslError) as caught:
        model.query(query, EXAMPLES / "sprinkler.json")
    assert caught.value.codes == ["E0810"] and message in str(caught.value)
    assert "<query>:1:" in caught.value.render()


def test_a_model_with_continuous_latents_is_not_queried():
    with pytest.raises(DslError, match="all discrete"):
        dslppl.load(EXAMPLES / "mixture_labels.ppl").query("p(mu)", EXAMPLES / "mixture_labels.json")


def test_an_all_discrete_model_is_not_fitted():
    with pytest.raises(DslError) as caught:
        dslppl.load(EXAMPLES / "sprinkler.ppl").fit(EXAMPLES / "sprinkler.json", steps=5, progress=False)
    assert caught.value.codes == ["E0811"]


def test_marginal_is_query_with_python_values():
    model = dslppl.loads(ASIA)
    assert model.marginal(["lung"], given={"xray": 1}).as_dict() == \
        pytest.approx(model.query("p(lung | xray = 1)").as_dict(), abs=1e-15)


@pytest.mark.parametrize("seed", range(3))
def test_observed_nodes_condition_and_missing_ones_are_summed_out(seed):
    text, data, sizes, parents, tables = random_network(seed)
    last = len(sizes) - 1
    text = text.replace(f"  x{last} ~", f"  data x{last}: int\n  x{last} ~")  # the last node is data
    model = dslppl.loads(text)
    summed, _ = brute_force(sizes, parents, tables, [0, last], {})
    assert model.query(f"p(x0, x{last})", data).as_dict() == pytest.approx(summed, abs=1e-10)
    value = sizes[last] - 1
    observed, _ = brute_force(sizes, parents, tables, [0], {last: value})
    assert model.query("p(x0)", {**data, f"x{last}": value}).as_dict() == pytest.approx(observed, abs=1e-10)
