"""User mistakes that used to crash later stages: each is now a located error (or simply works)."""
import pytest
import torch

import dslppl
from dslppl.check.limits import MAX_ARRAY_NESTING, MAX_BLOCK_NESTING, MAX_EXPRESSION_DEPTH


def _codes(text: str) -> list[str]:
    with pytest.raises(dslppl.DslError) as info:
        dslppl.loads(text)
    return info.value.codes


@pytest.mark.parametrize("name", ["potential", "constrain", "model_", "bind", "inf", "float", "torch"])
def test_generated_names_are_reserved(name):
    model = dslppl.loads(f"model m {{ data {name}: real\n mu ~ Normal({name}, 1)\n data y: real\n"
                         " y ~ Normal(mu, 1) }")
    expected = torch.distributions.Normal(1.0, 1.0).log_prob(torch.tensor(0.5)) \
        + torch.distributions.Normal(0.5, 1.0).log_prob(torch.tensor(3.0))
    assert float(model.log_joint({"mu": 0.5}, {name: 1.0, "y": 3.0})) == pytest.approx(float(expected))


def test_an_infinite_literal_is_infinity_not_a_name():
    model = dslppl.loads("model m { inf ~ Normal(0, 1)\n z = clamp(inf, 0 - 1e999, 1e999) }")
    draws = model.sample_prior(num_samples=3, seed=0)
    assert torch.equal(draws["z"], draws["inf"])


def test_limits_are_exact():
    def unary(n):
        return "model m { mu ~ Normal(0, 1)\n z = " + "-" * n + "mu }"

    def arrays(n):
        return "model m { z = " + "[" * n + "1" + "]" * n + " }"

    def plates(n):
        opened = "".join(f"plate i{k} in 2 {{\n" for k in range(n))
        return (f"model m {{ {opened} x[{', '.join(f'i{k}' for k in range(n))}] ~ Normal(0, 1)\n"
                + "}\n" * n + "}")

    for build, limit in ((unary, MAX_EXPRESSION_DEPTH), (arrays, MAX_ARRAY_NESTING), (plates, MAX_BLOCK_NESTING)):
        dslppl.loads(build(limit)).source  # at the limit: checked and compiled
        assert _codes(build(limit + 1)) == ["E0110"]


def test_a_long_flat_sum_is_not_deep():
    model = dslppl.loads("model m { mu ~ Normal(0, 1)\n z = " + " + ".join(["mu"] * 500) + " }")
    assert model.sample_prior(seed=0)["z"].item() == pytest.approx(500 * model.sample_prior(seed=0)["mu"].item())


def test_nothing_to_fit():
    model = dslppl.loads("model m { data y: real\n y ~ Normal(0, 1) }")
    with pytest.raises(dslppl.DslError) as info:
        model.fit({"y": 1.0}, progress=False)
    assert info.value.codes == ["E0905"]


def test_a_flat_model_without_likelihood_fits_without_a_crash():
    model = dslppl.loads("model m { beta: real[2]\n sigma: positive }")
    with pytest.raises(dslppl.DslError):  # no mode, nothing to learn from: located, not a crash
        model.fit({}, guide="laplace", progress=False)


@pytest.mark.parametrize("expr", ["y[0][0]", "0[0]", "y[0[0][0]]", "true[1]"])
def test_indexing_past_a_known_rank(expr):
    assert "E0403" in _codes(f"model m {{ data N: int\n data y: real[N]\n z = {expr} }}")


def test_a_guide_without_params_has_nothing_to_fit():
    model = dslppl.loads("model m { mu ~ Normal(0, 1)\n data y: real\n y ~ Normal(mu, 1) }\n"
                         "guide { mu ~ Normal(0, 1) }")
    with pytest.raises(dslppl.DslError) as info:
        model.fit({"y": 1.0}, progress=False)
    assert info.value.codes == ["E0905"]


def test_an_infinite_bound_is_a_bound():
    model = dslppl.loads("model m { data N: int<lower=(0 - 1e999)>\n mu ~ Normal(0, 1) }")
    model.bind({"N": 3})


def test_a_constant_index_beyond_the_largest_size():
    assert _codes("model m { data T: int\n x[99999999999] = 1\n for t in 1..T { x[t] = x[t - 1] } }") == ["E0404"]
