"""Data binding: user inputs checked against the model's `data` declarations.

Input: a mapping of names to numbers, nested lists, numpy arrays, torch
tensors or pandas Series (or a cmdstan-style JSON file, `load_json`). Output:
`Inputs`, every supplied value as a tensor of the model's dtype (integers too:
index tensors are made where they are used), sizes inferred from array shapes
where not given, and the observed variables left to simulate. Every mistake is
a `DslError` naming the variable, what was expected and what came, located at
the declaration.

>>> from dslppl.syntax import parse
>>> from dslppl.check import check
>>> model = check(parse("model m { data N: int\\n data y: real[N]\\n y ~ Normal(0, 1) }"))
>>> inputs = prepare(model, {"y": [1, 2, 3]})
>>> inputs.values["N"], inputs.values["y"].dtype
(tensor(3., dtype=torch.float64), torch.float64)
"""
from __future__ import annotations

import json
import math
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import torch

from ..check.constants import INT_MAX, MAX_EXTENT, ConstantError, arithmetic
from ..check.model import CheckedModel, Kind, Variable
from ..diagnostics import Diagnostic, DslError, Note
from ..library import FUNCTIONS
from ..library.functions import Kind as FunctionKind
from ..source import Source, Span, UnreadableFile, read_text_file
from ..syntax import ast
from ..types import TYPES
from ..syntax.pretty import pretty_expr


class DataWarning(UserWarning):
    """A data key the model does not declare (it is ignored)."""


@dataclass
class Inputs:
    """Checked data, ready for a generated ``bind``."""

    values: dict[str, torch.Tensor] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)     # every size known, supplied or inferred
    missing_observed: list[str] = field(default_factory=list)


def load_json(path: str | Path) -> dict[str, Any]:
    """Read a cmdstan-style JSON data file (an object of numbers and nested lists)."""
    path = Path(path)
    try:
        text = read_text_file(path)
    except UnreadableFile as error:
        raise DslError([Diagnostic("E0806", f"cannot read data file: {error}", error.span)]) from None
    try:
        data = json.loads(text, object_pairs_hook=_unique_keys)
    except _DuplicateKey as error:
        source = Source(text, str(path))
        raise DslError([Diagnostic("E0806", f"key '{error.key}' appears twice in one JSON object",
                                   _key_span(source, error.key))], source) from None
    except json.JSONDecodeError as error:
        source = Source(text, str(path))
        at_end = error.pos >= len(text.rstrip())
        span = source.end_span() if at_end else source.span_at(error.pos)
        raise DslError([Diagnostic("E0806", f"invalid JSON: {error.msg}", span,
                                   hint="the file ends early: check for unclosed brackets" if at_end else None)],
                       source) from None
    if not isinstance(data, dict):
        raise DslError([Diagnostic("E0806", "a data file must hold a JSON object of named values",
                                   Span(str(path), 1, 1, 1, 2))], Source(text, str(path)))
    return data


class _DuplicateKey(Exception):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object; a key given twice is an error rather than silently the last value."""
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _DuplicateKey(key)
        seen[key] = value
    return seen


def _key_span(source: Source, key: str) -> Span:
    """The second occurrence of ``"key"`` in the text (the first one that clashes)."""
    quoted = json.dumps(key)
    first = source.text.find(quoted)
    second = source.text.find(quoted, first + 1)
    at = second if second >= 0 else max(first, 0)
    return source.span_at(at, len(quoted))


def prepare(model: CheckedModel, data: Mapping[str, Any], dtype: torch.dtype = torch.float64,
            source: Source | None = None, allow_missing_observed: bool = False) -> Inputs:
    """Check ``data`` against ``model``'s declarations (see the module docstring)."""
    checker = _Checker(model, dtype, source)
    inputs = checker.run(data, allow_missing_observed)
    checker.raise_if_errors()
    return inputs


class _Checker:
    def __init__(self, model: CheckedModel, dtype: torch.dtype, source: Source | None):
        self.model = model
        self.dtype = dtype
        self.source = source
        self.errors: list[Diagnostic] = []
        self.inferred_from: dict[str, str] = {}  # size -> the array it was inferred from
        self.clashed: set[str] = set()           # arrays already reported in a size clash
        self.scalars: dict[str, float] = {}      # supplied single numbers, for bounds

    def raise_if_errors(self) -> None:
        if self.errors:
            raise DslError(self.errors, self.source)

    def error(self, code: str, variable: Variable, message: str, hint: str | None = None, notes=()) -> None:
        self.errors.append(Diagnostic(code, message, _decl_span(variable), hint, tuple(notes)))

    def run(self, data: Mapping[str, Any], allow_missing_observed: bool) -> Inputs:
        declared = {v.name: v for v in self.model.data}
        for key in data:
            if key not in declared:
                warnings.warn(f"data key '{key}' is not declared by model '{self.model.name}'; "
                              "it is ignored [W0101]", DataWarning, stacklevel=4)
        inputs = Inputs()
        supplied = {}
        unreadable = set()
        for name, variable in declared.items():
            if name in data:
                value = self._convert(variable, data[name])
                if value is not None:
                    supplied[name] = value
                else:
                    unreadable.add(name)
        inputs.sizes = self._sizes(declared, supplied)
        self._check_extents(inputs.sizes)
        self.scalars = {name: float(v) for name, v in supplied.items() if v.dim() == 0}
        for name, variable in declared.items():  # constant defaults, for the bounds that read them
            if name not in supplied and variable.decl.default is not None and not variable.type.shape:
                value = evaluate(variable.decl.default, inputs.sizes, self.scalars)
                if value is not None:
                    self.scalars[name] = float(value)
        for name, variable in declared.items():
            if name in supplied:
                if name not in self.clashed:
                    self._check(variable, supplied[name], inputs.sizes)
                inputs.values[name] = supplied[name]
            elif name in inputs.sizes:
                inputs.values[name] = torch.tensor(float(inputs.sizes[name]), dtype=self.dtype)
            elif variable.decl.default is not None or name in unreadable:
                continue  # computed by the generated prelude, or reported already
            elif variable.kind is Kind.OBSERVED and allow_missing_observed:
                inputs.missing_observed.append(name)
            else:
                what = "observed variable" if variable.kind is Kind.OBSERVED else "data input"
                self.error("E0801", variable, f"missing data: {what} '{name}' was not supplied",
                           hint=f"add \"{name}\" to the data" + (
                               ", or sample the model's prior predictive to simulate it"
                               if variable.kind is Kind.OBSERVED else ""))
        return inputs

    # --- conversion ---------------------------------------------------------------
    def _convert(self, variable: Variable, raw: Any) -> torch.Tensor | None:
        if variable.base_type != "bool" and _holds_bool(raw):
            self.error("E0803", variable, f"data '{variable.name}' should hold numbers "
                       f"({variable.base_type}), but holds true/false")
            return None
        try:
            if hasattr(raw, "to_numpy"):  # pandas: a copy, since its arrays may be read-only
                raw = raw.to_numpy(copy=True)
            if isinstance(raw, torch.Tensor):
                value = raw.detach().to(self.dtype)
            else:
                value = torch.as_tensor(raw, dtype=self.dtype)
        except (TypeError, ValueError, RuntimeError) as error:
            self.error("E0806", variable, f"data '{variable.name}' is not a number or a rectangular "
                       f"array of numbers ({error})")
            return None
        return value

    # --- sizes ----------------------------------------------------------------------
    def _sizes(self, declared: dict[str, Variable], supplied: dict[str, torch.Tensor]) -> dict[str, int]:
        """Supplied integer scalars, and sizes read off the shapes of supplied arrays."""
        sizes: dict[str, int] = {}
        for name, value in supplied.items():
            if value.dim() == 0 and declared[name].base_type == "int" and _integral(value):
                sizes[name] = int(value)
        for name, value in supplied.items():
            shape_exprs = declared[name].type.shape
            if value.dim() != len(shape_exprs):
                continue
            for expr, length in zip(shape_exprs, value.shape):
                if isinstance(expr, ast.Name) and expr.id in declared and expr.id not in supplied:
                    self._infer(expr.id, int(length), name, declared, sizes)
        return sizes

    def _infer(self, size: str, length: int, array: str, declared, sizes: dict[str, int]) -> None:
        known = sizes.get(size)
        if known is None:
            sizes[size] = length
            self.inferred_from[size] = array
        elif known != length:
            first = self.inferred_from[size]
            self.clashed.add(array)
            self.error("E0805", declared[array], f"sizes disagree: '{first}' gives {size} = {known}, "
                       f"but '{array}' gives {size} = {length}",
                       notes=(Note(f"'{first}' is declared here", _decl_span(declared[first])),))

    def _check_extents(self, sizes: dict[str, int]) -> None:
        """Every size and domain the data determines is a whole number within `MAX_EXTENT`, and
        no variable would need more memory than the machine has: errors before allocating."""
        extents: dict[int, int] = {}
        for node in _sized_expressions(self.model):
            try:
                value = evaluate(node, sizes, strict=True)
            except ArithmeticError as error:
                self._extent_error(node, f"this size cannot be computed: {error}")
                continue
            if value is None:
                continue
            if not (math.isfinite(value) and value == math.floor(value)):
                self._extent_error(node, f"a size must be a whole number, but this one is {value:g}")
            elif abs(value) > MAX_EXTENT:
                self._extent_error(node, f"a size may be at most {MAX_EXTENT} (2**31 - 1), "
                                         f"but this one is {_number(value)}")
            else:
                extents[id(node)] = int(value)
        if not self.errors:
            self._check_memory(extents)
            self._check_empty_extremes(extents)

    def _check_empty_extremes(self, extents: dict[int, int]) -> None:
        """``max``/``min`` over an empty range has no value (a sum of none is 0; a maximum is not)."""
        for node in _comprehensions(self.model):
            if node.func.id in ("max", "min") and _extent(node.domain, extents) == 0:
                self.errors.append(Diagnostic("E0807", f"{node.func.id}() over an empty range has no value",
                                              node.domain.span, hint="the range's end must exceed its start"))

    def _check_memory(self, extents: dict[int, int]) -> None:
        budget = _memory_bytes()
        itemsize = torch.empty((), dtype=self.dtype).element_size()
        for variable in self.model.variables.values():
            lengths = [_extent(f.domain, extents) for f in variable.frames]
            if variable.type is not None:
                lengths += [extents.get(id(e)) for e in variable.type.shape]
            known = [n for n in lengths if n is not None]
            need = math.prod(known) * itemsize
            if need > budget:
                self.error("E0807", variable, f"'{variable.name}' would need {need / 2 ** 30:.3g} GiB, "
                           f"more than this machine's {budget / 2 ** 30:.3g} GiB of memory")

    def _extent_error(self, node: ast.Expr, message: str) -> None:
        self.errors.append(Diagnostic("E0807", message, node.span))

    # --- checks -----------------------------------------------------------------------
    def _check(self, variable: Variable, value: torch.Tensor, sizes: dict[str, int]) -> None:
        type_ = variable.type
        expected = [evaluate(s, sizes) for s in type_.shape]
        described = _describe(type_, expected)
        if value.dim() != len(expected) or any(e is not None and e != n for e, n in zip(expected, value.shape)):
            got = "a number" if value.dim() == 0 else f"an array of shape [{', '.join(map(str, value.shape))}]"
            self.error("E0802", variable, f"data '{variable.name}' should be {described}, but got {got}")
            return
        base = type_.base.id
        if base in ("int", "bool") and not _integral(value):
            self.error("E0803", variable, f"data '{variable.name}' should hold integers ({described}), "
                       f"but holds {_first_bad(value, ~_integral_mask(value))}")
            return
        self._check_bounds(variable, value, sizes, described)

    def _check_bounds(self, variable: Variable, value: torch.Tensor, sizes, described: str) -> None:
        base = variable.type.base.id
        bounds = {b.name.id: evaluate(b.value, sizes, self.scalars) for b in variable.type.bounds}
        lower, upper = bounds.get("lower"), bounds.get("upper")
        spec = TYPES[base]
        bad = torch.zeros(value.shape, dtype=torch.bool)
        for low, strict in ((lower, False), (spec.lower, spec.strict_lower)):
            if low is not None:
                bad |= (value <= low) if strict else (value < low)
        for high in (upper, spec.upper):
            if high is not None:
                bad |= value > high
        bad |= torch.isnan(value)
        if bool(bad.any()):
            self.error("E0804", variable, f"data '{variable.name}' should be {described}, "
                       f"but holds {_first_bad(value, bad)}")
        elif spec.invalid is not None and bool((invalid := spec.invalid(value)).any()):
            where = tuple(int(i) for i in invalid.nonzero()[0][:value.dim() - spec.min_shape])
            which = f"the value at [{', '.join(map(str, where))}]" if where else "it"
            self.error("E0804", variable, f"data '{variable.name}' should be {described} ({spec.meaning}), "
                       f"but {which} is not")



def _sized_expressions(model: CheckedModel) -> list[ast.Expr]:
    """Every expression that gives a size: declared shapes and the ends of every domain
    (plates, loops, comprehensions), in the model and its guide."""
    blocks = [model.program.model.body] + ([model.program.guide.body] if model.program.guide else [])
    found = []
    for body in blocks:
        for stmt in body:
            for node in ast.walk(stmt):
                if isinstance(node, ast.Type):
                    found += node.shape
                elif isinstance(node, ast.Domain):
                    found += [e for e in (node.lo, node.hi) if e is not None]
    return found


def _comprehensions(model: CheckedModel) -> list[ast.Comprehension]:
    blocks = [model.program.model.body] + ([model.program.guide.body] if model.program.guide else [])
    return [node for body in blocks for stmt in body for node in ast.walk(stmt)
            if isinstance(node, ast.Comprehension)]


def _extent(domain: ast.Domain, extents: dict[int, int]) -> int | None:
    hi = extents.get(id(domain.hi))
    lo = 0 if domain.lo is None else extents.get(id(domain.lo))
    return None if hi is None or lo is None else max(hi - lo, 0)


def _memory_bytes() -> int:
    """The machine's physical memory (a generous bound: a model needs several copies)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 2 ** 40


def plate_sizes(checked: CheckedModel, inputs: Inputs) -> dict[str, int]:
    """Each plate's number of elements, where the data determines it."""
    sizes = {}
    for name, frame in checked.plates.items():
        lo = evaluate(frame.domain.lo, inputs.sizes) if frame.domain.lo is not None else 0
        hi = evaluate(frame.domain.hi, inputs.sizes)
        if lo is not None and hi is not None:
            sizes[name] = int(hi) - int(lo)
    return sizes


def _holds_bool(raw: Any) -> bool:
    """Whether JSON-like ``raw`` holds a true/false (which torch would silently read as 1/0)."""
    if isinstance(raw, bool):
        return True
    if isinstance(raw, (list, tuple)):
        return any(_holds_bool(item) for item in raw)
    return False


def _decl_span(variable: Variable) -> Span | None:
    decl = variable.decl
    return decl.span if decl is not None else variable.span


def _integral_mask(value: torch.Tensor) -> torch.Tensor:
    return torch.isfinite(value) & (value == value.round())


def _integral(value: torch.Tensor) -> bool:
    return bool(_integral_mask(value).all())


def _first_bad(value: torch.Tensor, bad: torch.Tensor) -> str:
    if value.dim() == 0:
        return _number(float(value))
    position = tuple(int(i) for i in bad.nonzero()[0])
    return f"{_number(float(value[position]))} at [{', '.join(map(str, position))}]"


def _number(x: float) -> str:
    return str(int(x)) if math.isfinite(x) and x == int(x) else f"{x:g}"


def _describe(type_: ast.Type, sizes: list[int | None]) -> str:
    base = type_.base.id
    bounds = "".join(f"<{', '.join(f'{b.name.id}={pretty_expr(b.value)}' for b in type_.bounds)}>"
                     for _ in [0] if type_.bounds)
    if not type_.shape:
        return f"a single {base}{bounds} value" if base != "int" else f"a single integer{bounds}"
    dims = ", ".join(f"{pretty_expr(e)}" + (f" = {n}" if n is not None and not isinstance(e, ast.Number) else "")
                     for e, n in zip(type_.shape, sizes))
    return f"an array of {base}{bounds} values of shape [{dims}]"


def evaluate(expr: ast.Expr, sizes: Mapping[str, int], scalars: Mapping[str, float] | None = None,
             strict: bool = False):
    """The value of a size or bound written with numbers, sizes and arithmetic; None if unknown
    (or, with ``strict``, `ConstantError` where the arithmetic has no value)."""
    try:
        return _evaluate(expr, {**(scalars or {}), **sizes})
    except ConstantError:
        if strict:
            raise
        return None


def _evaluate(expr: ast.Expr, scalars: Mapping[str, float]):
    match expr:
        case ast.Number(value=value):
            return value
        case ast.Name(id=name):
            return scalars.get(name)
        case ast.Unary(op="-", operand=operand):
            inner = _evaluate(operand, scalars)
            return None if inner is None else -inner
        case ast.Binary(op=op, left=left, right=right) if op in "+-*/%^":
            a, b = _evaluate(left, scalars), _evaluate(right, scalars)
            if a is None or b is None:
                return None
            if isinstance(a, float) and math.isfinite(a) and a == int(a) and abs(a) <= INT_MAX:
                a = int(a)  # supplied scalars are floats; sizes are exact integers
            if isinstance(b, float) and math.isfinite(b) and b == int(b) and abs(b) <= INT_MAX:
                b = int(b)
            return arithmetic(op, a, b)
        case ast.Call(func=ast.Name(id=name), args=args, kwargs=()) if _elementwise(name) and len(args) >= 1:
            values = [_evaluate(a, scalars) for a in args]
            if any(v is None for v in values):
                return None
            result = float(FUNCTIONS[name].impl(*(torch.tensor(float(v), dtype=torch.float64) for v in values)))
            if math.isnan(result):
                raise ConstantError(f"{name}() of these arguments has no value")
            return result
    return None


def _elementwise(name: str) -> bool:
    spec = FUNCTIONS.get(name)
    return spec is not None and spec.kind is FunctionKind.ELEMENTWISE
