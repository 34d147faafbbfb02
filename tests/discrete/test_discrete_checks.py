"""Static rules for discrete latents (check), and the ones data decide (binding)."""
from __future__ import annotations

import pytest

import dslppl
from dslppl.diagnostics import DslError


def _codes(text: str, data=None, **bind) -> tuple[list[str], str]:
    with pytest.raises(DslError) as caught:
        model = dslppl.loads(text)
        model.bind(data or {}, **bind)
    return caught.value.codes, str(caught.value)


@pytest.mark.parametrize("dist", ["Poisson(3)", "Geometric(0.5)", "NegativeBinomial(3, 0.5)"])
def test_an_unbounded_discrete_latent_is_refused_with_a_hint(dist):
    codes, message = _codes(f"model m {{ data y: real\n k ~ {dist}\n y ~ Normal(k, 1) }}")
    assert codes == ["E0502"] and "bound it" in message and "make it data" in message


@pytest.mark.parametrize("body, fragment", [
    ("plate n in N { z[n] ~ Bernoulli(0.5)\n y[n] ~ Normal(z[n], 1) }\n m = z[0]", "read only as z[n]"),
    ("z ~ Bernoulli(0.5)\n plate n in N { y[n] ~ Normal(z[n], 1) }", "cannot be indexed"),
    ("z ~ Bernoulli([0.5, 0.2])\n plate n in N { y[n] ~ Normal(z, 1) }", "one value per element"),
    ("z[0] ~ Bernoulli(0.5)\n for t in 1..N { z[t] ~ Bernoulli(where(z[t - 1] == 1, 0.9, 0.1)) }\n"
     " plate t in N { y[t] ~ Normal(z[t] + z[0], 1) }", "two neighbouring steps"),
    ("z[0] ~ Bernoulli(0.5)\n for t in 1..N { z[t] ~ Bernoulli(where(z[t - 1] == 1, 0.9, 0.1)) }\n"
     " plate t in N { m[t] = z[t] * 2\n y[t] ~ Normal(m[t], 1) }", "only the statements that draw"),
    ("z[0] ~ Bernoulli(0.5)\n for t in 1..N { z[t] ~ Bernoulli(where(z[t - 1] == 1, 0.9, 0.1)) }\n"
     " c ~ Bernoulli(0.3)\n plate t in N { y[t] ~ Normal(z[t] + c, 1) }", "cannot read another"),
])
def test_reads_that_exact_elimination_cannot_take_are_located(body, fragment):
    codes, message = _codes(f"model m {{ data N: int\n data y: real[N]\n {body} }}")
    assert "E0412" in codes and fragment in message


def test_the_values_of_a_summed_variable_come_from_the_data():
    codes, message = _codes("model m { data y: real\n n ~ Gamma(2, 1)\n k ~ DiscreteUniform(0, n)\n y ~ Normal(k, 1) }")
    assert codes == ["E0506"] and "'high' must be data" in message
    codes, message = _codes("model m { data y: real\n e ~ Normal(0, 1)\n k ~ Categorical(softmax(exp(e) * ones(3) + e))\n"
                            " y ~ Normal(k, 1) }")
    assert codes == ["E0506"] and "number of categories" in message


def test_a_plate_reading_a_summed_variable_is_not_subsampled():
    text = "model m { data N: int\n data y: int[N]\n s ~ DiscreteUniform(0, N - 1)\n e ~ Exponential(1)\n" \
           " plate t in N { y[t] ~ Poisson(where(t < s, e, 2 * e)) } }"
    codes, message = _codes(text, {"N": 4, "y": [1, 2, 0, 1]}, subsample={"t": 2})
    assert codes == ["E0405"] and "summed out" in message


def test_an_elimination_above_the_budget_is_reported_at_bind_time(monkeypatch):
    from dslppl.codegen import elimination

    monkeypatch.setattr(elimination, "BUDGET", 100)
    text = "model m { data N: int\n data y: real[N]\n a ~ Categorical(ones(20) / 20)\n b ~ Categorical(ones(20) / 20)\n" \
           " plate n in N { y[n] ~ Normal(a + b, 1) } }"
    codes, message = _codes(text, {"N": 3, "y": [1.0, 2.0, 3.0]})
    assert codes == ["E0906"] and "budget of 100" in message


def test_check_names_the_summed_variables_in_elimination_order(capsys):
    from pathlib import Path

    from dslppl.cli import main

    examples = Path(__file__).resolve().parents[2] / "examples"
    assert main(["check", str(examples / "mixture_labels.ppl")]) == 0
    assert "summed out:    z (per element of n)" in capsys.readouterr().out
    assert main(["check", str(examples / "hmm.ppl")]) == 0
    assert "summed out:    chain z (forward algorithm)" in capsys.readouterr().out


def test_render_draws_summed_variables_with_a_double_outline():
    from pathlib import Path

    examples = Path(__file__).resolve().parents[2] / "examples"
    source = dslppl.load(examples / "mixture_labels.ppl").render().source
    (z_line,) = [line for line in source.splitlines() if line.strip().startswith("z [")]
    (w_line,) = [line for line in source.splitlines() if line.strip().startswith("w [")]
    assert "peripheries=2" in z_line and "peripheries" not in w_line


def test_loop_built_arrays_may_not_read_a_summed_variable():
    codes, message = _codes("model m { data T: int\n data y: real[T]\n s ~ Bernoulli(0.5)\n x[0] ~ Normal(0, 1)\n"
                            " for t in 1..T { x[t] ~ Normal(x[t - 1] + s, 1) }\n plate t in T { y[t] ~ Normal(x[t], 1) } }")
    assert codes == ["E0412"] and "built by a 'for' loop" in message


GUIDED = """
model m {
  data N: int
  data y: real[N]
  mu ~ Normal(0, 5)
  plate n in N {
    z[n] ~ Bernoulli(0.5)
    y[n] ~ Normal(where(z[n] == 1, mu, -mu), 1)
  }
}
guide {
  param m_loc: real = 0.0
  mu ~ Normal(m_loc, 1)
  %s
}
"""


def test_a_guide_leaves_out_the_summed_variables():
    model = dslppl.loads(GUIDED % "")
    fit = model.fit({"N": 3, "y": [2.0, -2.1, 1.9]}, steps=50, seed=0, progress=False)
    draws = fit.sample_posterior(10, seed=0)
    assert draws["z"].shape == (10, 3) and draws["mu"].shape == (10,)
    with pytest.raises(DslError) as caught:
        dslppl.loads(GUIDED % "plate n in N { z[n] ~ Bernoulli(0.5) }")
    assert caught.value.codes == ["E0702"] and "sums out" in str(caught.value)


def test_an_int_latent_needs_data_bounds_and_a_discrete_distribution():
    codes, message = _codes("model m { data y: real\n n ~ Gamma(2, 1)\n k: int<lower=0, upper=n>\n y ~ Normal(k, 1) }")
    assert codes == ["E0506"] and "'upper' of 'k' must be data" in message
    codes, message = _codes("model m { data y: real\n k: int<lower=0, upper=3> ~ Normal(0, 1)\n y ~ Normal(k, 1) }")
    assert codes == ["E0506"] and "must be discrete" in message
    codes, _ = _codes("model m { data y: real\n k: int<lower=0> ~ Poisson(3)\n y ~ Normal(k, 1) }")
    assert codes == ["E0502"]
