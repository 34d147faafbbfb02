"""User names to Python identifiers, through an explicit one-to-one table.

Any name the language allows is a legal model name, including Python keywords
(``lambda``), builtins (``sum``), module names (``torch``) and names with a
leading underscore. Generated code keeps a user's name where it is safe, and
otherwise appends ``_`` (or prefixes ``u_`` for a leading underscore) until it
clashes with nothing. Internal names of generated code all start with ``_`` and
a letter, which no mangled user name does, so the two never meet. Sites keep the
user's names; only Python locals are mangled.

>>> table = mangle(["mu", "lambda", "sum", "_x", "lambda_", "potential"])
>>> table["lambda"], table["sum"], table["_x"], table["lambda_"], table["potential"]
('lambda__', 'sum_', 'u__x', 'lambda_', 'potential_')
"""
from __future__ import annotations

import builtins
import keyword
from typing import Iterable

# Every name generated code defines without a leading underscore (see codegen.module):
# its globals, and the functions ``bind`` defines and returns. Never a user local.
GENERATED_GLOBALS = frozenset({"torch", "sample", "plate", "deterministic", "param", "factor", "math",
                               "bind", "model", "guide", "potential", "constrain"})

_UNSAFE = (frozenset(keyword.kwlist) | frozenset(keyword.softkwlist) | frozenset(dir(builtins))
           | GENERATED_GLOBALS)


def mangle(names: Iterable[str], reserved: Iterable[str] = ()) -> dict[str, str]:
    """A one-to-one map from user names to safe Python identifiers, avoiding ``reserved``."""
    names = list(dict.fromkeys(names))
    reserved = set(reserved)
    kept = {n for n in names if _safe(n) and n not in reserved}
    table: dict[str, str] = {n: n for n in kept}
    used = set(kept) | reserved
    for name in names:
        if name in kept:
            continue
        candidate = f"u_{name}" if name.startswith("_") else f"{name}_"
        while candidate in used or not _safe(candidate):
            candidate += "_"
        table[name] = candidate
        used.add(candidate)
    assert len(set(table.values())) == len(table), "name mangling must be one-to-one"
    return table


def _safe(name: str) -> bool:
    return name.isidentifier() and not name.startswith("_") and name not in _UNSAFE
