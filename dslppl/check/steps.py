"""Steps of a `for` loop: which element of a loop-built array an index reaches.

Inside ``for t in 1..T``, the index ``t + c`` (``t``, ``t - 1``, ``t + 1``) is
``c`` steps from the current one. A definition ``x[t + 1] = ...`` builds the
element one ahead of ``t``; a read of ``x[t]`` there is of an *earlier* step.

>>> from dslppl.syntax.ast import Binary, Name, Number
>>> step_offset(Binary("-", Name("t"), Number(1)), "t"), step_offset(Name("t"), "t"), step_offset(Number(0), "t")
(-1, 0, None)
"""
from __future__ import annotations

from ..syntax import ast


def step_offset(index: ast.Expr, loop: str) -> int | None:
    """``c`` when ``index`` is ``loop + c`` (integer ``c``, nested shifts folded), else None."""
    shift = 0
    while isinstance(index, ast.Binary) and index.op in "+-" and isinstance(index.right, ast.Number) \
            and isinstance(index.right.value, int):
        shift += index.right.value if index.op == "+" else -index.right.value
        index = index.left
    if isinstance(index, ast.Name) and index.id == loop:
        return shift
    return None
