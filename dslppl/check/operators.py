"""Operators that inference cannot differentiate: ``a % b`` with ``b`` random.

torch has no derivative of the remainder with respect to its divisor, so a fit
would fail in its first backward pass. A divisor that reads a latent variable
or a param (directly or through deterministic nodes) is error E0308; data and
constants are fine, and so is a random dividend.

>>> from dslppl.syntax import parse
>>> from dslppl.check import check
>>> try:
...     check(parse("model m { a ~ Normal(0, 1)\\n z = 5 % a }"))
... except Exception as error:
...     print(error.codes)
['E0308']
"""
from __future__ import annotations

from ..diagnostics import DiagnosticSink
from ..syntax import ast
from .model import Kind, Variable
from .scope import free_names

_RANDOM = (Kind.LATENT, Kind.PARAM)


def check_operators(variables: dict[str, Variable], sink: DiagnosticSink) -> None:
    random = _random_names(variables)
    for variable in variables.values():
        for piece in variable.pieces:
            for expr in piece.expressions():
                for node in ast.walk(expr):
                    if isinstance(node, ast.Binary) and node.op == "%":
                        read = sorted({n.id for n in free_names(node.right)} & random)
                        if read:
                            sink.error("E0308", f"the divisor of '%' depends on '{read[0]}', which is random: "
                                       "a remainder has no gradient with respect to its divisor",
                                       node.right.span, hint="divide by data or a constant")


def _random_names(variables: dict[str, Variable]) -> set[str]:
    """Latents and params, and the deterministic nodes that read them (transitively)."""
    random = {name for name, v in variables.items() if v.kind in _RANDOM}
    grew = True
    while grew:
        grew = False
        for name, v in variables.items():
            if name not in random and v.kind is Kind.DETERMINISTIC and v.parents & random:
                random.add(name)
                grew = True
    return random
