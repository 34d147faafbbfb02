"""Code generation: a checked model to Python source over torch and the handler core.

Stage: codegen. Input: a `CheckedModel`. Output: `Generated` (source text and
what it defines), compiled once per model variant (`dslppl.binding.bind`).
"""
from .module import Generated, generate

__all__ = ["Generated", "generate"]
