"""The library tables against torch, and the rules for registering names.

The tables are plain data so that checking a model needs no torch; these tests
hold them to the torch objects binding looks up.
"""
from __future__ import annotations

import inspect

import pytest
import torch
import torch.distributions as D

import dslppl
from dslppl.library import DISTRIBUTIONS, FUNCTIONS, Kind, unregister_distribution, unregister_function
from dslppl.library.distributions import BUILTIN_DISTRIBUTIONS
from dslppl.library.functions import BUILTIN_FUNCTIONS


@pytest.mark.parametrize("name", sorted(BUILTIN_DISTRIBUTIONS))
def test_builtin_distribution_matches_its_torch_class(name):
    spec = BUILTIN_DISTRIBUTIONS[name]
    cls = getattr(D, name, spec.factory)  # torch's class, or ours where torch has none (DiscreteUniform)
    assert spec.factory is cls or issubclass(spec.factory, cls)  # a subclass where ours guards torch's (VonMises)
    torch_params = tuple(p for p in inspect.signature(cls.__init__).parameters if p not in ("self", "validate_args"))
    assert spec.params == torch_params
    # a parameter a call may leave out must have a default in torch
    defaults = inspect.signature(cls.__init__).parameters
    grouped = {p for group in spec.alternatives for p in group}
    optional = [p for p in spec.params if p not in spec.required and p not in grouped]
    assert all(defaults[p].default is not inspect.Parameter.empty for p in optional)


def test_builtin_functions_have_implementations_written_inline_or_in_torch():
    inline = {"size", "log_prob"}  # generated code writes these itself
    for name, spec in BUILTIN_FUNCTIONS.items():
        assert (spec.impl is None) == (name in inline), name
    assert FUNCTIONS["max"].pairwise is torch.maximum and FUNCTIONS["min"].pairwise is torch.minimum
    assert all(spec.pairwise is None for name, spec in FUNCTIONS.items() if name not in ("max", "min"))
    x = torch.tensor([[1.0, 2.0], [3.0, 5.0]])
    assert torch.equal(FUNCTIONS["prod"].impl(x, (-1,)), torch.tensor([2.0, 15.0]))
    assert torch.equal(FUNCTIONS["sum"].impl(x, ()), x)  # nothing to reduce


def test_register_distribution_refuses_a_builtin_unless_asked():
    with pytest.raises(ValueError, match="replace=True"):
        dslppl.register_distribution("Normal", D.Cauchy)
    assert DISTRIBUTIONS["Normal"].factory is D.Normal
    try:
        dslppl.register_distribution("Normal", D.Cauchy, replace=True)
        model = dslppl.loads("model m { x ~ Normal(0, 1) }")
        value = torch.tensor(3.0, dtype=torch.float64)
        assert float(model.log_joint({"x": value})) == pytest.approx(float(D.Cauchy(0.0, 1.0).log_prob(value)))
    finally:
        unregister_distribution("Normal")
    assert DISTRIBUTIONS["Normal"] is BUILTIN_DISTRIBUTIONS["Normal"]  # the built-in is back


def test_register_function_refuses_a_builtin_unless_asked():
    with pytest.raises(ValueError, match="replace=True"):
        dslppl.register_function("exp", lambda x: x)
    try:
        spec = dslppl.register_function("exp", lambda x: x + 1, replace=True)
        assert spec.kind is Kind.ELEMENTWISE and float(FUNCTIONS["exp"].impl(torch.tensor(1.0))) == 2.0
    finally:
        unregister_function("exp")
    assert FUNCTIONS["exp"] is BUILTIN_FUNCTIONS["exp"] and FUNCTIONS["exp"].impl is torch.exp


def test_a_registered_name_may_be_registered_again():
    try:
        dslppl.register_distribution("MyNormal", D.Normal)
        assert dslppl.register_distribution("MyNormal", D.Laplace).factory is D.Laplace
    finally:
        unregister_distribution("MyNormal")
    assert "MyNormal" not in DISTRIBUTIONS
