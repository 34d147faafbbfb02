"""The syntax stage: `.ppl` text to the AST (`parse`) and back (`pretty`, `pretty_expr`).

>>> from dslppl.syntax import parse, pretty
>>> program = parse("model m { mu ~ Normal(0, 1) }")
>>> parse(pretty(program)) == program
True
"""
from .parser import parse
from .pretty import pretty, pretty_expr

__all__ = ["parse", "pretty", "pretty_expr"]
