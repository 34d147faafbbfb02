"""The joint density as a formula: ``p(mu, tau, theta_raw, y) = p(mu) p(tau) ∏_j ...``.

Stage: graph. Input: a `ModelGraph`. Output: text (or LaTeX) of the
factorization the model's statements define. The conventions:

- The left side lists the latent and observed variables in topological order
  (``q(...)`` for a guide). Data and params are constants: they are not random,
  so they never appear on the left.
- Each latent or observed statement gives one factor ``p(x | ...)``, conditioned
  on the random variables and params it reads. Deterministic nodes are folded
  in: ``y[j] ~ Normal(theta[j], sigma[j])`` with ``theta[j] = mu + tau * z[j]``
  gives ``p(y[j] | mu, tau, z[j])``. Data covariates (``sigma``) are left out.
  Elements keep the index they are read with (``z[j]``, ``a[county[n]]``); an
  element read through a comprehension index stands for the whole array, and
  so do several constant elements (``beta[0]``, ``beta[1]`` give ``beta``).
- A ``factor lik[n] = EXPR`` statement contributes the potential
  ``ψ_lik[n] = exp(EXPR)``, written with what it reads: ``ψ_lik[n](mu, sigma)``.
  The right side is then unnormalized, so ``=`` becomes ``∝``.
- Factors outside plates come first, then one ``∏`` per plate (or loop) group;
  nested plates with nothing between them merge into ``∏_{i,k}``. A ``∏``
  reaches to the end of the formula, or to its closing parenthesis when more
  follows it. A ``for`` loop gives ``∏_{t=1}^{T-1}`` (its domain is half-open).
- A deterministic array defined recursively (``sigma[t]`` reading
  ``sigma[t - 1]``) is kept as the state element it reads, since folding it
  would never end: ``p(y[t] | mu, y[t - 1], sigma[t - 1])``.

>>> from dslppl.graph import build_graph
>>> from dslppl.check import check
>>> from dslppl.syntax import parse
>>> m = check(parse("model rw { data T: int\\n s ~ HalfNormal(1)\\n x[0] ~ Normal(0, 1)\\n"
...                 " for t in 1..T { x[t] ~ Normal(x[t - 1], s) } }"))
>>> print(factorization(build_graph(m)))
p(s, x) = p(s) p(x[0]) ∏_{t=1}^{T-1} p(x[t] | x[t - 1], s)
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..check.model import Frame, Kind, Piece, Variable
from ..syntax import ast
from ..syntax.pretty import pretty_expr
from .model_graph import ModelGraph
from .reads import Read, binding, mentions, reads_of, simplify, substitute

__all__ = ["factorization", "Term", "terms"]

_RANDOM = (Kind.LATENT, Kind.OBSERVED)


@dataclass(frozen=True)
class Term:
    """One factor of the joint: ``p(target | given)`` or, for a ``factor``, ``ψ_target(given)``."""

    target: Read
    given: tuple[Read, ...]
    frames: tuple[Frame, ...]
    potential: bool = False


def factorization(graph: ModelGraph, latex: bool = False) -> str:
    """The factorization of ``graph``'s joint density, as text or as LaTeX."""
    style = _Latex() if latex else _Text()
    density = "q" if graph.is_guide else "p"
    variables = [n for n in graph.topological_order() if graph.kind(n) in _RANDOM]
    found = terms(graph)
    relation = style.propto if any(t.potential for t in found) else "="
    left = f"{density}({', '.join(style.name(n) for n in variables)})"
    return f"{left} {relation} {_render(_group(found), style, density) or '1'}"


def terms(graph: ModelGraph) -> list[Term]:
    """The factors of the joint, one per defining statement of each random variable or factor.

    >>> from dslppl.graph import build_graph
    >>> from dslppl.graph.model_graph import _example
    >>> [(t.target.text(), [r.text() for r in t.given]) for t in terms(build_graph(_example()))]
    [('a', []), ('b', []), ('y', ['a', 'b'])]
    """
    found = []
    for name in graph.topological_order():
        variable = graph.variable(name)
        if variable.kind not in (*_RANDOM, Kind.FACTOR):
            continue
        for piece in variable.pieces:
            target = Read(name, piece.target.indices or None) if piece.target is not None else Read(name)
            found.append(Term(target, _conditioning(graph, variable, piece), piece.frames,
                              variable.kind is Kind.FACTOR))
    return found


# --- conditioning sets --------------------------------------------------------------

def _conditioning(graph: ModelGraph, variable: Variable, piece: Piece) -> tuple[Read, ...]:
    out = _expand(graph, reads_of(piece.expressions(), graph.nodes), variable.name)
    whole = {r.name for r in out if r.index is None}
    constant: dict[str, set[str]] = {}
    for read in out:  # beta[0], beta[1], ... read as coefficients: show 'beta'
        if read.index is not None and all(isinstance(i, ast.Number) for i in read.index):
            constant.setdefault(read.name, set()).add(read.text())
    whole |= {name for name, texts in constant.items() if len(texts) > 1}
    unique: dict[str, Read] = {}
    for read in out:
        read = read.whole if read.name in whole else read
        unique.setdefault(read.text(), read)
    return tuple(unique.values())


def _expand(graph: ModelGraph, reads: list[Read], owner: str) -> list[Read]:
    """The random variables and params behind ``reads``, in order, with deterministic
    nodes folded in (depth first, with an explicit stack; each element folded once)."""
    out: list[Read] = []
    folded: set[str] = set()
    work = [(read, (owner,)) for read in reversed(reads)]
    while work:
        read, chain = work.pop()
        kind = graph.kind(read.name)
        if kind in (*_RANDOM, Kind.PARAM):
            out.append(read)
        elif kind is Kind.DATA:
            continue
        elif read.name in chain:  # a recursively defined array: keep the state element it reads
            if read.index is not None:
                out.append(read)
        elif read.text() not in folded:
            folded.add(read.text())
            inner = _unfold(graph, read)
            work.extend((r, chain + (read.name,)) for r in reversed(inner))
    return out


def _unfold(graph: ModelGraph, read: Read) -> list[Read]:
    """What a deterministic node (or factor) reads, as seen from ``read``: ``theta[g[n]]``
    with ``theta[j] = mu + z[j]`` reads ``mu`` and ``z[g[n]]``."""
    found = []
    for piece in _pieces_for(graph.variable(read.name), read):
        frames = {f.index for f in piece.frames}
        mapping = binding(piece.target, frames, read.index) if read.index and piece.target else {}
        free = frames - set(mapping)
        for inner in reads_of(piece.expressions(), graph.nodes):
            found.append(inner.whole if mentions(inner, free) else substitute(inner, mapping))
    return found


def _pieces_for(variable: Variable, read: Read) -> list[Piece]:
    """The pieces of a (possibly piecewise) array that an element read can reach."""
    if read.index is None or len(variable.pieces) == 1:
        return list(variable.pieces)
    exact = [p for p in variable.pieces if p.target is not None and tuple(p.target.indices) == tuple(read.index)]
    looped = [p for p in variable.pieces if p.loops]
    return exact or looped or list(variable.pieces)


# --- grouping under products ----------------------------------------------------------

@dataclass
class _Group:
    frame: Frame | None = None
    terms: list[Term] = field(default_factory=list)
    children: dict[Frame, "_Group"] = field(default_factory=dict)


def _group(found: list[Term]) -> _Group:
    root = _Group()
    for term in found:
        node = root
        for frame in term.frames:
            node = node.children.setdefault(frame, _Group(frame))
        node.terms.append(term)
    return root


def _render(group: _Group, style: "_Text", density: str) -> str:
    items = [style.term(t, density) for t in group.terms]
    children = list(group.children.values())
    for i, child in enumerate(children):
        frames = [child.frame]
        while not child.terms and len(child.children) == 1 and _plain(child.frame) and \
                _plain(next(iter(child.children.values())).frame):
            child = next(iter(child.children.values()))
            frames.append(child.frame)
        body = _render(child, style, density)
        single = len(child.terms) == 1 and not child.children
        if i < len(children) - 1 and not single:
            body = style.parens(body)
        items.append(f"{style.product(frames)} {body}")
    return style.join(items)


def _plain(frame: Frame) -> bool:
    return frame.domain.lo is None and not frame.sequential


def _upper(hi: ast.Expr) -> ast.Expr:
    return simplify(ast.Binary("-", hi, ast.Number(1)))


# --- text and LaTeX ---------------------------------------------------------------------

class _Text:
    propto = "∝"

    def name(self, name: str) -> str:
        return name

    def read(self, read: Read) -> str:
        return read.text()

    def expr(self, expr: ast.Expr) -> str:
        return pretty_expr(expr).replace(" ", "")

    def term(self, term: Term, density: str) -> str:
        given = ", ".join(self.read(r) for r in term.given)
        if term.potential:
            return f"{self.potential(term.target)}({given})" if given else self.potential(term.target)
        return f"{density}({self.read(term.target)}{self.mid if given else ''}{given})"

    mid = " | "

    def potential(self, target: Read) -> str:
        return f"ψ_{self.read(target)}"

    def product(self, frames: list[Frame]) -> str:
        if len(frames) == 1 and not _plain(frames[0]):
            frame = frames[0]
            return f"∏_{{{frame.index}={self.expr(frame.domain.lo)}}}^{{{self.expr(_upper(frame.domain.hi))}}}"
        sub = ",".join(f.index for f in frames)
        return f"∏_{sub}" if len(sub) == 1 else f"∏_{{{sub}}}"

    def parens(self, body: str) -> str:
        return f"({body})"

    def join(self, items: list[str]) -> str:
        return " ".join(items)


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPERATORS = {"*": r" \cdot ", "%": r" \bmod ", "!=": r" \neq ", "==": " = ", "^": r"\hat{}",
              "<=": r" \leq ", ">=": r" \geq ", "@": r" \cdot "}
_OPERATOR = re.compile("|".join(re.escape(o) for o in sorted(_OPERATORS, key=len, reverse=True)))


class _Latex(_Text):
    propto = r"\propto"
    mid = r" \mid "

    def name(self, name: str) -> str:
        return name if len(name) == 1 else r"\mathrm{" + name.replace("_", r"\_") + "}"

    def read(self, read: Read) -> str:
        return self.math(read.text())

    def expr(self, expr: ast.Expr) -> str:
        return self.math(pretty_expr(expr).replace(" ", ""))

    def math(self, text: str) -> str:
        """Source text with names set upright and operators in LaTeX."""
        out, last = [], 0
        for match in _IDENT.finditer(text):
            out.append(_OPERATOR.sub(lambda m: _OPERATORS[m.group()], text[last:match.start()]))
            out.append(self.name(match.group()))
            last = match.end()
        out.append(_OPERATOR.sub(lambda m: _OPERATORS[m.group()], text[last:]))
        return "".join(out)

    def potential(self, target: Read) -> str:
        return rf"\psi_{{{self.read(target)}}}"

    def product(self, frames: list[Frame]) -> str:
        if len(frames) == 1 and not _plain(frames[0]):
            frame = frames[0]
            return (rf"\prod_{{{self.name(frame.index)}={self.expr(frame.domain.lo)}}}"
                    rf"^{{{self.expr(_upper(frame.domain.hi))}}}")
        return r"\prod_{" + ",".join(self.name(f.index) for f in frames) + "}"

    def parens(self, body: str) -> str:
        return rf"\left({body}\right)"

    def join(self, items: list[str]) -> str:
        return r" \, ".join(items)
