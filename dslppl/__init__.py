"""dslppl: a small declarative probabilistic programming language on torch.

Write a model in a `.ppl` file, look at its factor graph, fit it:

>>> import dslppl
>>> model = dslppl.loads("model m { data y: real\\n mu ~ Normal(0, 1)\\n y ~ Normal(mu, 1) }")
>>> model.factorization()
'p(mu, y) = p(mu) p(y | mu)'
"""
from importlib import import_module

from .diagnostics import Diagnostic, DslError, InternalError

# Public names and the modules that define them, imported on first use so that
# ``import dslppl.syntax`` (or the parser alone) does not pay for importing torch.
_LAZY = {
    "DataWarning": "binding.data", "check": "check", "build_graph": "graph",
    "register_distribution": "library", "register_function": "library",
    "Model": "model", "load": "model", "loads": "model", "parse": "syntax",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'dslppl' has no attribute {name!r}")


__all__ = [
    "DataWarning", "Diagnostic", "DslError", "InternalError", "Model", "build_graph", "check", "load",
    "loads", "parse", "register_distribution", "register_function",
]
__version__ = "0.1.0"
