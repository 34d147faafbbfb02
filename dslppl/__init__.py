"""dslppl: a small declarative probabilistic programming language on torch."""
from .diagnostics import Diagnostic, DslError

__all__ = ["Diagnostic", "DslError"]
__version__ = "0.1.0"
