"""User extensions, subsampling rules, and the guarantee that model text never runs as Python."""
from __future__ import annotations

import pytest
import torch
from torch.distributions import Gumbel, Normal

import dslppl
from dslppl import runtime
from dslppl.library import unregister_distribution, unregister_function


def test_registered_function_and_distribution_compile_and_run():
    dslppl.register_function("cube", lambda x: x ** 3)
    dslppl.register_distribution("MyGumbel", Gumbel)
    try:
        model = dslppl.loads("model m { data y: real\n mu ~ Normal(0, 1)\n y ~ MyGumbel(cube(mu), 1) }")
        bound = model.bind({"y": 0.3})
        values = {"mu": torch.tensor(0.5, dtype=torch.float64)}
        lp = runtime.trace(runtime.condition(bound.model, data=values)).get_trace().log_prob_sum()
        expected = Normal(0.0, 1.0).log_prob(torch.tensor(0.5)) + Gumbel(0.125, 1.0).log_prob(torch.tensor(0.3))
        assert float(lp) == pytest.approx(float(expected), rel=1e-6)
    finally:
        unregister_function("cube")
        unregister_distribution("MyGumbel")


def test_builtins_cannot_be_replaced():
    with pytest.raises(ValueError):
        dslppl.register_function("exp", lambda x: x)


PLATED = """
model m {
  data N: int
  data y: real[N]
  mu ~ Normal(0, 1)
  plate n in N { z[n] = y[n] - mu }
  plate n in N { y[n] ~ Normal(mu, 1) }
  total = sum(z)
}
"""


def test_only_plates_nothing_outside_reads_can_be_subsampled():
    model = dslppl.loads(PLATED)
    with pytest.raises(dslppl.DslError) as error:
        model.bind({"y": [1.0, 2.0, 3.0]}, subsample={"n": 2})
    assert error.value.codes == ["E0405"]
    with pytest.raises(dslppl.DslError) as error:
        model.bind({"y": [1.0, 2.0, 3.0]}, subsample={"m": 2})
    assert error.value.codes == ["E0408"]


def test_subsampled_plates_scale_the_likelihood_and_share_one_minibatch():
    model = dslppl.loads("""
    model m {
      data N: int
      data x: real[N]
      data y: real[N]
      mu ~ Normal(0, 1)
      plate n in N { r[n] = x[n] - mu }
      plate n in N { y[n] ~ Normal(mu + 0 * r[n], 1) }
    }""")
    y = torch.arange(10, dtype=torch.float64)
    bound = model.bind({"x": y, "y": y}, subsample={"n": 4})
    tr = runtime.trace(bound.model).get_trace()
    assert tr.nodes["y"].value.shape == (4,)
    assert tr.nodes["y"].scale == pytest.approx(10 / 4)
    batch = tr.nodes["n"].value
    assert torch.equal(tr.nodes["y"].value, y[batch])          # the observations of the minibatch
    assert torch.allclose(tr.nodes["r"].value, y[batch] - tr.nodes["mu"].value)  # the same minibatch


def test_model_text_cannot_run_python():
    hostile = """
    model m {
      data __import__: real
      __class__ ~ Normal(__import__, 1)
      eval = exp(__class__)
    }"""
    model = dslppl.loads(hostile)
    assert "import os" not in model.source
    bound = model.bind({"__import__": 0.0})
    tr = runtime.trace(bound.model).get_trace()
    assert set(tr.nodes) == {"__class__", "eval"}
