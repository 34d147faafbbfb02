"""Lowering: a checked model and its graph in, the ordered units code generation writes out.

Stage: lowering, between the graph and the code. Input: a `ModelGraph` (which
holds its `CheckedModel`). Output: a `Lowered` program: the model's variables
grouped into `Unit`s (one variable, or every array one `for` loop builds) in
the graph's dependency order, sizes and bounds included. Code generation
follows this order and derives none of its own.

Before that, inference may run on a rewritten program: `noncentred` writes
latents whose scale is random in non-centred form (see `reparam`).
"""
from .reparam import Rewrite, noncentred
from .units import Lowered, Unit, lower

__all__ = ["Lowered", "Rewrite", "Unit", "lower", "noncentred"]
