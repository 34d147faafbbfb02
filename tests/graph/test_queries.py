"""ModelGraph queries: parents, children, ancestors, Markov blankets, d-separation, order."""
from __future__ import annotations

import pytest
from graph_helpers import EIGHT_SCHOOLS, ROOT, graph_of


@pytest.fixture(scope="module")
def eight():
    return graph_of(EIGHT_SCHOOLS)


def test_parents_children_ancestors(eight):
    assert eight.parents("theta") == ["mu", "tau", "theta_raw"]
    assert eight.children("theta") == ["y"]
    assert eight.parents("y") == ["sigma", "theta"]
    assert eight.ancestors("y") == ["sigma", "mu", "tau", "theta_raw", "theta"]
    assert eight.descendants("mu") == ["y", "theta"]  # source order: y is declared first
    assert eight.ancestors("mu") == []


def test_unknown_name_is_a_key_error(eight):
    with pytest.raises(KeyError, match="'nope' is not a variable of model 'eight_schools'"):
        eight.parents("nope")
    with pytest.raises(KeyError):
        eight.d_separated("mu", "nope")


def test_stochastic_parents_fold_deterministic_nodes(eight):
    assert eight.stochastic_parents("y") == ["mu", "tau", "theta_raw"]
    assert eight.stochastic_children("mu") == ["y"]


# --- Markov blankets -------------------------------------------------------------------------

def test_markov_blanket_of_a_chain():
    graph = graph_of("a ~ Normal(0, 1)\n b ~ Normal(a, 1)\n c ~ Normal(b, 1)")
    assert graph.markov_blanket("a") == ["b"]
    assert graph.markov_blanket("b") == ["a", "c"]
    assert graph.markov_blanket("c") == ["b"]


def test_markov_blanket_includes_co_parents():
    graph = graph_of("data y: real\n a ~ Normal(0, 1)\n b ~ Normal(0, 1)\n c ~ Normal(0, 1)\n y ~ Normal(a + b, 1)")
    assert graph.markov_blanket("a") == ["y", "b"]
    assert graph.markov_blanket("c") == []


def test_markov_blanket_through_deterministic_nodes(eight):
    # theta = mu + tau * theta_raw is folded: y's density reads mu, tau and theta_raw
    assert eight.markov_blanket("mu") == ["y", "tau", "theta_raw"]
    assert eight.markov_blanket("theta_raw") == ["y", "mu", "tau"]
    assert eight.markov_blanket("y") == ["mu", "tau", "theta_raw"]
    # a deterministic node's blanket: what it is computed from, what reads it, and co-parents
    assert eight.markov_blanket("theta") == ["y", "mu", "tau", "theta_raw"]


def test_markov_blanket_leaves_out_data_and_keeps_params():
    graph = graph_of("data x: real\n data y: real\n param w: real = 0\n a ~ Normal(x, 1)\n y ~ Normal(a * w + x, 1)")
    assert graph.markov_blanket("a") == ["y", "w"]


def test_markov_blanket_through_a_factor():
    graph = graph_of((ROOT / "examples/mixture.ppl").read_text())
    # the factor lik reads mu, sigma and w: they are each other's blanket, lik itself is no variable
    assert graph.markov_blanket("mu") == ["sigma", "w"]
    assert graph.markov_blanket("w") == ["mu", "sigma"]


# --- d-separation ------------------------------------------------------------------------------

def test_d_separation_chain_fork_collider():
    chain = graph_of("a ~ Normal(0, 1)\n b ~ Normal(a, 1)\n c ~ Normal(b, 1)")
    assert not chain.d_separated("a", "c")
    assert chain.d_separated("a", "c", given="b")
    fork = graph_of("a ~ Normal(0, 1)\n b ~ Normal(a, 1)\n c ~ Normal(a, 1)")
    assert not fork.d_separated("b", "c")
    assert fork.d_separated("b", "c", given=["a"])
    collider = graph_of("a ~ Normal(0, 1)\n b ~ Normal(0, 1)\n c ~ Normal(a + b, 1)")
    assert collider.d_separated("a", "b")
    assert not collider.d_separated("a", "b", given="c")


def test_d_separation_conditions_on_data():
    # a shared covariate is a constant, not a common cause
    graph = graph_of("data x: real\n a ~ Normal(x, 1)\n b ~ Normal(x, 1)")
    assert graph.d_separated("a", "b")


def test_d_separation_in_eight_schools(eight):
    assert eight.d_separated("mu", "tau")
    assert not eight.d_separated("mu", "tau", given="y")
    assert not eight.d_separated("theta_raw", "mu", given=["y"])
    assert eight.d_separated(["mu", "tau"], "theta_raw")
    assert eight.d_separated("y", "mu", given=["theta"])


# --- topological order -------------------------------------------------------------------------------

def test_topological_order_ties_follow_source_order():
    graph = graph_of("c = a + b\n b ~ Normal(0, 1)\n a ~ Normal(0, 1)")
    assert graph.topological_order() == ["b", "a", "c"]


def test_topological_order_puts_sizes_first():
    graph = graph_of("plate n in N { z[n] ~ Normal(0, 1) }\n data N: int")
    assert graph.topological_order() == ["N", "z"]
