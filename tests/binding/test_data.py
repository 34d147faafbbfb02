"""Data binding: conversions, size inference, and every kind of data mistake,
reported at the declaration with what was expected and what came."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import dslppl

MODEL = """
model m {
  data N: int
  data K: int<lower=1>
  data X: real[N, K]
  data counts: int<lower=0>[N]
  data p: probability
  data y: real[N]
  beta: real[K] ~ Normal(0, 1)
  plate n in N { y[n] ~ Normal(X[n, :] @ beta, 1) }
}
"""


def good(**changes):
    data = {"N": 3, "K": 2, "X": [[1, 2], [3, 4], [5, 6]], "counts": [0, 1, 2], "p": 0.5, "y": [1, 2, 3]}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture(scope="module")
def model():
    return dslppl.loads(MODEL, "m.ppl")


def codes(model, data):
    with pytest.raises(dslppl.DslError) as error:
        model.bind(data)
    return error.value


def test_numbers_lists_numpy_torch_and_pandas_bind_alike(model):
    pandas = pytest.importorskip("pandas", reason="pandas is optional")
    for y in ([1, 2, 3], np.array([1.0, 2.0, 3.0]), torch.tensor([1, 2, 3]), pandas.Series([1, 2, 3])):
        bound = model.bind(good(y=y))
        assert bound.data["y"].dtype == torch.float64
        assert bound.data["y"].tolist() == [1.0, 2.0, 3.0]


def test_json_integers_are_read_as_reals(model, tmp_path):
    path = tmp_path / "data.json"
    path.write_text(json.dumps(good()))
    bound = model.bind(str(path))
    assert bound.data["X"].dtype == torch.float64


def test_sizes_are_inferred_from_array_shapes(model):
    bound = model.bind(good(N=None, K=None))
    assert int(bound.data["N"]) == 3 and int(bound.data["K"]) == 2


def test_a_size_clash_names_both_arrays(model):
    error = codes(model, good(N=None, y=[1, 2]))
    assert error.codes == ["E0805"]
    assert "'X' gives N = 3" in error.render() and "'y' gives N = 2" in error.render()


def test_wrong_shape_names_expectation_and_what_came(model):
    error = codes(model, good(y=[[1, 2, 3]]))
    assert error.codes == ["E0802"]
    message = error.diagnostics[0].message
    assert "'y'" in message and "[N = 3]" in message and "[1, 3]" in message
    assert error.diagnostics[0].span.line == 8  # the declaration of y


def test_integers_are_checked(model):
    assert codes(model, good(counts=[0, 1.5, 2])).codes == ["E0803"]


def test_bounds_and_supports_are_checked(model):
    assert codes(model, good(counts=[0, -1, 2])).codes == ["E0804"]
    assert codes(model, good(p=1.5)).codes == ["E0804"]
    assert codes(model, good(K=0)).codes[0] == "E0804"


def test_missing_data_is_named(model):
    error = codes(model, good(counts=None))
    assert error.codes == ["E0801"] and "'counts'" in error.render()


def test_missing_observed_data_suggests_prior_predictive(model):
    error = codes(model, good(y=None))
    assert error.codes == ["E0801"] and "prior predictive" in error.render()


def test_undeclared_keys_are_ignored_with_a_warning(model):
    with pytest.warns(dslppl.DataWarning, match="'extra'"):
        model.bind(good(extra=[1, 2]))


def test_invalid_json_is_located(model, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"N": 3,\n "y": [1, 2,]}')
    error = codes(model, str(path))
    assert error.codes == ["E0806"] and error.diagnostics[0].span.line == 2


def test_shape_errors_inside_the_model_point_at_the_statement():
    model = dslppl.loads("""model m {
  data N: int
  data K: int
  data X: real[N, K]
  data y: real[N]
  beta: real[3] ~ Normal(0, 1)
  y ~ Normal(X @ beta, 1)
}""", "m.ppl")
    with pytest.raises(dslppl.DslError) as error:
        model.bind({"X": [[1, 2], [3, 4]], "y": [1, 2]})
    assert error.value.codes == ["E0901"]
    assert error.value.diagnostics[0].span.line == 7


def test_data_defaults_are_computed_from_other_data():
    model = dslppl.loads("model m { data x: real[3]\n data total: real = sum(x)\n mu ~ Normal(total, 1) }")
    bound = model.bind({"x": [1, 2, 3]})
    assert float(bound.data.get("total", torch.tensor(6.0))) == 6.0


def test_bounds_may_read_other_data():
    model = dslppl.loads("model m { data hi: real\n data x: real<upper=hi>[3]\n mu ~ Normal(0, 1) }")
    model.bind({"hi": 2.5, "x": [1, 2, 2.5]})
    with pytest.raises(dslppl.DslError) as error:
        model.bind({"hi": 2.5, "x": [1, 2, 3]})
    assert error.value.codes == ["E0804"] and "3 at [2]" in error.value.render()


@pytest.mark.parametrize("declared, value", [
    ("ordered[3]", [3.0, 2.0, 1.0]),
    ("ordered[3]", [1.0, 1.0, 2.0]),
    ("simplex[3]", [0.2, 0.3, 0.6]),
    ("cov[2, 2]", [[1.0, 2.0], [2.0, 1.0]]),          # symmetric, not positive definite
    ("cov[2, 2]", [[1.0, 0.5], [0.0, 1.0]]),          # not symmetric
    ("corr_cholesky[2, 2]", [[1.0, 0.0], [0.5, 0.5]]),  # second row not of length 1
    ("corr_cholesky[2, 2]", [[1.0, 0.2], [0.0, 1.0]]),  # not lower triangular
])
def test_structured_data_types_are_validated_at_their_declaration(declared, value):
    model = dslppl.loads(f"model m {{\n  data v: {declared}\n  mu ~ Normal(0, 1)\n}}", "m.ppl")
    with pytest.raises(dslppl.DslError) as caught:
        model.bind({"v": value})
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.code == "E0804" and diagnostic.span.line == 2


@pytest.mark.parametrize("declared, value", [
    ("ordered[3]", [1.0, 2.0, 3.5]),
    ("simplex[3]", [0.2, 0.3, 0.5]),
    ("cov[2, 2]", [[1.0, 0.3], [0.3, 2.0]]),
    ("corr_cholesky[2, 2]", [[1.0, 0.0], [0.6, 0.8]]),
])
def test_valid_structured_data_binds(declared, value):
    model = dslppl.loads(f"model m {{\n  data v: {declared}\n  mu ~ Normal(0, 1)\n}}", "m.ppl")
    assert model.bind({"v": value}).data["v"].shape == torch.tensor(value).shape


def test_a_variable_larger_than_memory_is_refused_before_allocating(monkeypatch):
    import dslppl.binding.data as data_module

    monkeypatch.setattr(data_module, "_memory_bytes", lambda: 2 ** 20)  # 1 MiB
    model = dslppl.loads("model m { data N: int\n mu ~ Normal(0, 1)\n"
                         " plate i in N { plate j in N { x[i, j] ~ Normal(mu, 1) } } }")
    with pytest.raises(dslppl.DslError) as info:
        model.bind({"N": 400})  # 400 * 400 * 8 bytes = 1.2 MiB
    assert info.value.codes == ["E0807"] and "'x' would need" in str(info.value)
    model.bind({"N": 300})  # 0.7 MiB fits
