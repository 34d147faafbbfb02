"""ModelGraph.factorization: the joint density as text and as LaTeX.

The expected strings are worked out from each model by hand (which variables
are random, what each density reads once deterministic nodes are folded in),
not copied from the output.
"""
from __future__ import annotations

import re

import pytest
from graph_helpers import EIGHT_SCHOOLS, MODEL_PATHS, ROOT, graph_of, model_id

from dslppl.check import Kind
from dslppl.graph import Read, terms
from dslppl.graph.reads import binding, reads_of
from dslppl.syntax import ast

NESTED = """
data I: int
data K: int
data x: real[I, K]
data y: real[I, K]
mu ~ Normal(0, 1)
sigma: positive ~ HalfNormal(1)
plate i in I {
  a[i] ~ Normal(mu, 1)
  plate k in K {
    z[i, k] ~ Normal(a[i] + x[i, k], 1)
    y[i, k] ~ Normal(z[i, k], sigma)
  }
}
"""


def test_eight_schools_language_reference():
    # LANGUAGE.md §1, verbatim
    assert graph_of(EIGHT_SCHOOLS).factorization() == (
        "p(mu, tau, theta_raw, y) = p(mu) p(tau) ∏_j p(theta_raw[j]) p(y[j] | mu, tau, theta_raw[j])")


def test_nested_plates():
    assert graph_of(NESTED).factorization() == (
        "p(mu, sigma, a, z, y) = p(mu) p(sigma) ∏_i p(a[i] | mu) "
        "∏_k p(z[i, k] | a[i]) p(y[i, k] | z[i, k], sigma)")


def test_nested_plates_with_nothing_between_merge():
    graph = graph_of("data I: int\n data K: int\n data y: real[I, K]\n mu ~ Normal(0, 1)\n"
                     " plate i in I { plate k in K { y[i, k] ~ Normal(mu, 1) } }")
    assert graph.factorization() == "p(mu, y) = p(mu) ∏_{i,k} p(y[i, k] | mu)"


def test_overlapping_plates_are_parenthesized():
    graph = graph_of("data I: int\n data K: int\n data y: real[I, K]\n"
                     " plate i in I { a[i] ~ Normal(0, 1) }\n plate k in K { b[k] ~ Normal(0, 1) }\n"
                     " plate i in I { plate k in K { y[i, k] ~ Normal(a[i] + b[k], 1) } }")
    assert graph.factorization() == "p(a, b, y) = ∏_i (p(a[i]) ∏_k p(y[i, k] | a[i], b[k])) ∏_k p(b[k])"


def test_sequential_loop():
    graph = graph_of((ROOT / "examples/random_walk.ppl").read_text())
    assert graph.factorization() == (
        "p(s, obs_sd, x, y) = p(s) p(obs_sd) p(x[0]) ∏_{t=1}^{T-1} p(x[t] | x[t - 1], s) "
        "∏_t p(y[t] | x[t], obs_sd)")


def test_sequential_deterministic_state_is_kept():
    # sigma[t] reads sigma[t - 1]: folding it would never end, so the state element stays
    graph = graph_of((ROOT / "tests/posteriordb/models/garch-garch11.ppl").read_text())
    assert graph.factorization() == (
        "p(mu, alpha0, alpha1, beta1, y) = p(mu) p(alpha0) p(alpha1) p(beta1 | alpha1) p(y[0] | mu) "
        "∏_{t=1}^{T-1} p(y[t] | mu, alpha0, alpha1, y[t - 1], beta1, sigma[t - 1])")


def test_factor_is_a_potential():
    graph = graph_of((ROOT / "examples/mixture.ppl").read_text())
    assert graph.factorization() == "p(mu, sigma, w) ∝ p(mu) p(sigma) p(w) ∏_n ψ_lik[n](w, mu, sigma)"


def test_factor_outside_plates():
    graph = graph_of("data y: real\n mu ~ Normal(0, 1)\n factor lik = log_prob(Normal(mu, 1), y)")
    assert graph.factorization() == "p(mu) ∝ p(mu) ψ_lik(mu)"


def test_params_are_conditioned_on_but_not_random():
    graph = graph_of("data y: real\n param w: real = 0.5\n s ~ HalfNormal(1)\n y ~ Normal(w, s)")
    assert graph.factorization() == "p(s, y) = p(s) p(y | w, s)"


def test_flat_prior_is_a_factor():
    graph = graph_of("data y: real\n mu: real\n y ~ Normal(mu, 1)")
    assert graph.factorization() == "p(mu, y) = p(mu) p(y | mu)"


def test_gathered_elements_keep_their_index():
    graph = graph_of((ROOT / "examples/radon.ppl").read_text())
    assert graph.factorization() == (
        "p(mu_a, sigma_a, beta, sigma_y, a, log_radon) = p(mu_a) p(sigma_a) p(beta) p(sigma_y) "
        "∏_j p(a[j] | mu_a, sigma_a) ∏_n p(log_radon[n] | a[county[n]], beta, sigma_y)")


def test_deterministic_element_read_through_a_gather():
    # theta[j] = mu + z[j] read as theta[g[n]] reads z[g[n]]
    graph = graph_of("data J: int\n data N: int\n data g: int[N]\n data y: real[N]\n mu ~ Normal(0, 1)\n"
                     " plate j in J { z[j] ~ Normal(0, 1)\n theta[j] = mu + z[j] }\n"
                     " plate n in N { y[n] ~ Normal(theta[g[n]], 1) }")
    assert graph.factorization() == "p(mu, z, y) = p(mu) ∏_j p(z[j]) ∏_n p(y[n] | mu, z[g[n]])"


def test_whole_array_read_of_a_plated_deterministic():
    graph = graph_of("data J: int\n data y: real\n plate j in J { z[j] ~ Normal(0, 1)\n e[j] = exp(z[j]) }\n"
                     " y ~ Normal(sum(e), 1)")
    assert graph.factorization() == "p(z, y) = p(y | z) ∏_j p(z[j])"


def test_range_plate_and_comprehension():
    graph = graph_of((ROOT / "examples/ar_k.ppl").read_text())
    # beta[k] and y[t - 1 - k] use the comprehension index k: they stand for the whole arrays
    assert graph.factorization() == (
        "p(alpha, beta, sigma, y) = p(alpha) p(beta) p(sigma) ∏_{t=K}^{T-1} p(y[t] | alpha, beta, y, sigma)")


def test_coefficients_read_by_constant_index_collapse():
    graph = graph_of("data x: real\n data y: real\n beta: real[2] ~ Normal(0, 1)\n"
                     " y ~ Normal(beta[0] + beta[1] * x, 1)")
    assert graph.factorization() == "p(beta, y) = p(beta) p(y | beta)"
    single = graph_of("data y: real\n beta: real[2] ~ Normal(0, 1)\n y ~ Normal(beta[0], 1)")
    assert single.factorization() == "p(beta, y) = p(beta) p(y | beta[0])"


def test_guide_factorization_uses_q():
    graph = graph_of((ROOT / "examples/eight_schools_guide.ppl").read_text())
    assert graph.guide.factorization() == (
        "q(mu, tau, theta_raw) = q(mu | mu_loc, mu_scale) q(tau | tau_loc, tau_scale) "
        "∏_j q(theta_raw[j] | theta_loc[j], theta_scale[j])")


def test_terms_are_structured():
    (mu, tau, theta_raw, y) = terms(graph_of(EIGHT_SCHOOLS))
    assert y.target == Read("y", (ast.Name("j"),))
    assert [r.text() for r in y.given] == ["mu", "tau", "theta_raw[j]"]
    assert [f.index for f in y.frames] == ["j"] and not y.potential


# --- LaTeX --------------------------------------------------------------------------------------

def test_eight_schools_latex():
    assert graph_of(EIGHT_SCHOOLS).factorization(latex=True) == (
        r"p(\mathrm{mu}, \mathrm{tau}, \mathrm{theta\_raw}, y) = p(\mathrm{mu}) \, p(\mathrm{tau}) \, "
        r"\prod_{j} p(\mathrm{theta\_raw}[j]) \, p(y[j] \mid \mathrm{mu}, \mathrm{tau}, \mathrm{theta\_raw}[j])")


def test_latex_of_loops_factors_and_groups():
    graph = graph_of((ROOT / "examples/random_walk.ppl").read_text())
    assert r"\prod_{t=1}^{T-1} p(x[t] \mid x[t - 1], s)" in graph.factorization(latex=True)
    mixture = graph_of((ROOT / "examples/mixture.ppl").read_text()).factorization(latex=True)
    assert r"\propto" in mixture and r"\psi_{\mathrm{lik}[n]}(w, \mathrm{mu}, \mathrm{sigma})" in mixture


_COMMANDS = {r"\mathrm", r"\prod", r"\mid", r"\propto", r"\psi", r"\left", r"\right", r"\,", r"\_",
             r"\cdot", r"\bmod", r"\neq", r"\leq", r"\geq", r"\hat"}


@pytest.mark.parametrize("path", MODEL_PATHS, ids=model_id)
def test_latex_is_well_formed(path):
    graph = graph_of(path.read_text(), str(path))
    for part in (graph, graph.guide):
        if part is None:
            continue
        latex = part.factorization(latex=True)
        assert latex.isascii()
        depth = 0
        for char in latex.replace(r"\_", ""):
            depth += {"{": 1, "}": -1}.get(char, 0)
            assert depth >= 0, latex
        assert depth == 0, latex
        assert latex.count(r"\left(") == latex.count(r"\right)")
        assert set(re.findall(r"\\[A-Za-z]+|\\[,_]", latex)) <= _COMMANDS, latex
        assert "_" not in latex.replace(r"\_", "").replace("_{", ""), latex  # every subscript braced


@pytest.mark.parametrize("path", MODEL_PATHS, ids=model_id)
def test_every_random_variable_has_one_factor_per_statement(path):
    graph = graph_of(path.read_text(), str(path))
    text = graph.factorization()
    random = [n for n in graph.topological_order() if graph.kind(n) in (Kind.LATENT, Kind.OBSERVED)]
    assert text.startswith(f"p({', '.join(random)}) ")
    found = terms(graph)
    for name in random:
        assert sum(t.target.name == name for t in found) == len(graph.variable(name).pieces)
    for term in found:  # data is never conditioned on
        assert all(graph.kind(r.name) is not Kind.DATA for r in term.given)


# --- reads ------------------------------------------------------------------------------------------

def test_binding_undoes_a_shifted_target():
    target = ast.Target(ast.Name("x"), (ast.Binary("+", ast.Name("t"), ast.Number(1)),))
    mapping = binding(target, {"t"}, (ast.Name("s"),))
    assert mapping == {"t": ast.Binary("-", ast.Name("s"), ast.Number(1))}


def test_reads_skip_function_and_keyword_names():
    call = ast.Call(ast.Name("Bernoulli"), (), (ast.Keyword(ast.Name("logits"), ast.Name("eta")),))
    assert reads_of([call], {"Bernoulli", "logits", "eta"}) == [Read("eta")]
