"""dslppl: a small declarative probabilistic programming language on torch.

Write a model in a `.ppl` file, look at its factor graph, fit it:

>>> import dslppl
>>> model = dslppl.loads("model m { data y: real\\n mu ~ Normal(0, 1)\\n y ~ Normal(mu, 1) }")
>>> model.factorization()
'p(mu, y) = p(mu) p(y | mu)'
"""
from .binding.data import DataWarning
from .check import check
from .diagnostics import Diagnostic, DslError, InternalError
from .graph import build_graph
from .library import register_distribution, register_function
from .model import Model, load, loads
from .syntax import parse

__all__ = [
    "DataWarning", "Diagnostic", "DslError", "InternalError", "Model", "build_graph", "check", "load",
    "loads", "parse", "register_distribution", "register_function",
]
__version__ = "0.1.0"
