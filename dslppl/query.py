"""Exact queries on models whose latents are all discrete: ``p(a, b | c = 1)``.

The model's summed-out variables are contracted as in ``potential`` (see
``codegen.elimination``), keeping the queried variables and adding an
indicator factor per piece of evidence on a latent (evidence on a ``data``
variable is data; an observed discrete variable whose data is left out is
summed out like a latent, and may be queried). ``p(a, b | c = 1)`` gives the table of ``a, b`` given the
evidence and the data; ``p(c = 1)`` the probability of the evidence (and the
data).

>>> import dslppl
>>> net = dslppl.loads('''
... model sprinkler {
...   rain ~ Bernoulli(0.2)
...   sprinkler ~ Bernoulli(where(rain == 1, 0.01, 0.4))
...   wet ~ Bernoulli(where(sprinkler == 1, where(rain == 1, 0.99, 0.9), where(rain == 1, 0.8, 0.0)))
... }''')
>>> round(float(net.query("p(rain = 1 | wet = 1)").probability), 4)
0.3577
>>> print(net.query("p(rain | wet = 1)"))
rain  probability
   0     0.642312
   1     0.357688
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import product

import torch

from .check.model import Kind
from .codegen.elimination import contract
from .codegen.enumerate import PREFIX
from .diagnostics import Diagnostic, DslError
from .source import Source

_TOKEN = re.compile(r"\s*(?:(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<number>-?\d+)|(?P<sym>[(),|=]))")


@dataclass(frozen=True)
class Query:
    """A parsed ``p(targets | evidence)``: targets may carry a value (``p(a = 1 | ...)``)."""

    targets: tuple[tuple[str, int | None], ...]
    evidence: tuple[tuple[str, int], ...]
    spans: dict


@dataclass(frozen=True)
class Table:
    """Exact probabilities: one entry per joint value of ``names`` (or one number)."""

    names: tuple[str, ...]
    values: tuple[tuple[int, ...], ...]    # the value of each name, per entry
    probabilities: torch.Tensor             # one per entry (a 0-d tensor when no name is free)

    @property
    def probability(self) -> torch.Tensor:
        """The single probability of a query whose every variable has a value."""
        return self.probabilities.reshape(-1)[0] if self.probabilities.numel() == 1 else self.probabilities

    def as_dict(self) -> dict[tuple[int, ...], float]:
        return {v: float(p) for v, p in zip(self.values, self.probabilities.reshape(-1))}

    def __str__(self) -> str:
        if not self.names:
            return f"{float(self.probabilities):.6g}"
        width = [max(len(n), 3) for n in self.names]
        lines = ["  ".join(n.rjust(w) for n, w in zip(self.names, width)) + "  probability"]
        for value, p in zip(self.values, self.probabilities.reshape(-1)):
            lines.append("  ".join(str(v).rjust(w) for v, w in zip(value, width)) + f"  {float(p):11.6f}")
        return "\n".join(lines)


def parse_query(text: str) -> Query:
    """``p(a, b = 1 | c = 1, d = 0)`` into targets and evidence; E0810 at the offending token."""
    source = Source(text, "<query>")
    tokens = []
    position = 0
    while position < len(text.rstrip()):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            _fail(source, position, f"unexpected character {text[position]!r} in the query")
        kind = match.lastgroup
        tokens.append((kind, match.group(kind), match.start(kind)))
        position = match.end()
    tokens.append(("end", "", len(text)))
    reader = _Reader(tokens, source)
    reader.expect("name", "p")
    reader.expect("sym", "(")
    targets, spans = [], {}
    if reader.peek() != ("sym", "|"):
        targets = reader.assignments(required=False, spans=spans)
    evidence = []
    if reader.peek() == ("sym", "|"):
        reader.take()
        evidence = reader.assignments(required=True, spans=spans)
    reader.expect("sym", ")")
    reader.expect("end", "")
    return Query(tuple(targets), tuple(evidence), spans)


class _Reader:
    def __init__(self, tokens, source: Source):
        self.tokens, self.source, self.at = tokens, source, 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.at][:2]

    def take(self):
        token = self.tokens[self.at]
        self.at += 1
        return token

    def expect(self, kind: str, value: str | None):
        token = self.take()
        if token[0] != kind or (value is not None and token[1] != value):
            wanted = {"end": "the end of the query"}.get(kind, repr(value) if value else f"a {kind}")
            found = "the end" if token[0] == "end" else repr(token[1])
            _fail(self.source, token[2], f"expected {wanted} in the query, found {found}",
                  hint='write p(a, b | c = 1), or p(c = 1) for the probability of evidence')
        return token

    def assignments(self, required: bool, spans: dict) -> list:
        items = []
        while True:
            name = self.expect("name", None)
            spans[name[1]] = self.source.span_at(name[2], len(name[1]))
            value = None
            if self.peek() == ("sym", "=") or required:
                self.expect("sym", "=")
                value = int(self.expect("number", None)[1])
            items.append((name[1], value))
            if self.peek() != ("sym", ","):
                return items
            self.take()


def _fail(source: Source, offset: int, message: str, hint: str | None = None):
    raise DslError([Diagnostic("E0810", message, source.span_at(offset), hint=hint)], source)


def run_query(model, text: str, data, read_data) -> Table:
    """``model.query(text, data)``: see the module docstring."""
    query = parse_query(text)
    variables = model.checked.variables
    evidence_data, evidence_latent = {}, {}
    for name, value in query.evidence + tuple((n, v) for n, v in query.targets if v is not None):
        variable = variables.get(name)
        if variable is not None and variable.kind in (Kind.DATA, Kind.OBSERVED):
            evidence_data[name] = value
        elif (name, value) in query.evidence:
            evidence_latent[name] = value
    data = {**read_data(data), **evidence_data}
    bound = model.bind(data, sum_missing=True)  # discrete data left out is summed out
    problems = _problems(model, query, bound, evidence_data)
    if problems:
        raise DslError(problems, Source(text, "<query>"))
    free = tuple(n for n, v in query.targets if v is None)
    keep = tuple(PREFIX + n for n in free) + tuple(PREFIX + n for n, v in query.targets
                                                    if v is not None and n not in evidence_data)
    if not bound.discrete:
        keep = ()
    rt = bound.runtime
    plans = []

    def contraction(factors, plan):
        plans.append(plan)
        extra = [(_indicator(plan, PREFIX + n, v), (PREFIX + n,)) for n, v in evidence_latent.items()]
        return contract(list(factors) + extra, plan, keep=keep).to(rt.dtype)

    rt.contraction = contraction
    try:
        with torch.no_grad():
            log_table = bound.potential(bound.init)
    finally:
        rt.contraction = None
    return _table(query, free, log_table, plans[-1] if plans else None, evidence_data)


def _indicator(plan, key: str, value: int) -> torch.Tensor:
    table = torch.full((plan.sizes[key],), -torch.inf, dtype=torch.float64)
    position = value - plan.lows[key]
    if 0 <= position < plan.sizes[key]:
        table[position] = 0.0
    return table


def _table(query: Query, free: tuple[str, ...], log_table: torch.Tensor, plan, evidence_data: dict) -> Table:
    """Normalised over the kept variables when something is conditioned on or left free; the
    entries at the values given to targets picked last (they are the last kept dimensions)."""
    fixed = [n for n, v in query.targets if v is not None and n not in evidence_data]
    if (query.evidence or free) and log_table.dim():
        log_table = log_table - log_table.logsumexp(tuple(range(log_table.dim())))
    table = log_table.exp()
    for name in reversed(fixed):
        table = table.select(-1, dict(query.targets)[name] - plan.lows[PREFIX + name])
    sizes = [plan.sizes[PREFIX + n] for n in free]
    lows = [plan.lows[PREFIX + n] for n in free]
    values = tuple(tuple(v + low for v, low in zip(combo, lows)) for combo in product(*(range(s) for s in sizes)))
    return Table(free, values, table)


def _problems(model, query: Query, bound, evidence_data: dict) -> list[Diagnostic]:
    problems = []
    variables = model.checked.variables
    continuous = [s.name for s in bound.latents]
    if continuous:
        problems.append(Diagnostic("E0810", f"exact queries need a model whose latents are all discrete; "
                                   f"{', '.join(continuous)} {'is' if len(continuous) == 1 else 'are'} continuous",
                                   hint="fit the model instead, and read the discrete latents' posterior draws"))
    for name, _ in query.targets + query.evidence:
        variable = variables.get(name)
        span = query.spans.get(name)
        if variable is None:
            problems.append(Diagnostic("E0810", f"'{name}' is no variable of model '{model.name}'", span))
        elif name in evidence_data:
            continue
        elif name not in bound.discrete:
            problems.append(Diagnostic("E0810", f"'{name}' is not a discrete latent variable", span,
                                       hint="query the model's discrete latents; give data as evidence"))
        elif variable.plates or variable.sequential:
            problems.append(Diagnostic("E0810", f"'{name}' is an array (one value per element); queries name "
                                       "single variables", span))
    return problems
