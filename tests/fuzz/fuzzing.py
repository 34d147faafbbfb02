"""A grammar-aware fuzzer for the whole pipeline: parse, check, compile, bind, prior draws, a short fit.

Cases come from two sources, chosen by a seeded RNG:

- *generated*: a random model from the language's grammar (data, latents with
  distributions, plates, loops, comprehensions, deterministic nodes, edge-case
  literals, risky distribution arguments);
- *mutated*: a file of the corpus (tests/golden, examples, tests/e2e/programs,
  tests/posteriordb/models) with a few token-level mutations (numbers replaced by
  edge values, operators swapped, names replaced, lines dropped or repeated,
  brackets nested).

Each case goes through ``loads`` -> ``model.source`` -> ``bind`` with small
generated data -> ``sample_prior`` -> a 5-step ``fit``. A `DslError` at any stage
is a correct answer (a located user error); any other exception, or a case that
runs past its time budget, is a failure. Failures are grouped by *signature*
(exception type and message with numbers and names blanked).

>>> case = make_case(random.Random(0), [])
>>> case.text.startswith("model ")
True
"""
from __future__ import annotations

import math
import random
import re
import signal
import time
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORPUS_DIRS = ("tests/golden", "examples", "tests/e2e/programs", "tests/posteriordb/models")
CASE_BUDGET_S = 30.0  # a case slower than this is a failure (a hang)


# --- corpus --------------------------------------------------------------------------

def load_corpus() -> list[str]:
    """Every .ppl text of the corpus, in a stable order."""
    paths = sorted(p for d in CORPUS_DIRS for p in (ROOT / d).rglob("*.ppl"))
    return [p.read_text(encoding="utf-8") for p in paths]


# --- generated programs ----------------------------------------------------------------

EDGE_NUMBERS = ["0", "1", "2", "0.5", "1e-300", "1e300", "1e999", "2.5", "3", "100", "1e20",
                "0.0", "(0 - 1)", "(0 - 2.5)", "99999999999", "(1 / 3)", "10 ^ 2"]
UNARY_FUNCTIONS = ["exp", "log", "sqrt", "softplus", "sigmoid", "abs", "tanh", "log1p", "expm1",
                   "square", "lgamma", "sin", "cos", "logit"]
REDUCTIONS = ["sum", "mean", "logsumexp", "max", "min", "prod"]
BINARY = ["+", "-", "*", "/", "^", "%"]
RESERVED_LOOKING = ["potential", "constrain", "model_", "inf", "nan", "torch", "sample", "plate_",
                    "sum", "lambda", "_x", "bind", "math", "float", "guide_", "u", "self", "None"]


@dataclass
class Scope:
    scalars: list[str] = field(default_factory=list)      # real-valued scalar names in scope
    positives: list[str] = field(default_factory=list)    # positive scalar names in scope
    vectors: list[tuple[str, str]] = field(default_factory=list)  # (name, size name) real vectors
    indices: list[tuple[str, str]] = field(default_factory=list)  # (index, size) plate/loop indices


class Generator:
    """A random model, statement by statement, from the grammar of docs/language.md."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.lines: list[str] = []
        self.counter = 0

    def name(self, stem: str) -> str:
        self.counter += 1
        if self.rng.random() < 0.08:
            return self.rng.choice(RESERVED_LOOKING) + str(self.counter)
        return f"{stem}{self.counter}"

    def number(self) -> str:
        if self.rng.random() < 0.3:
            return self.rng.choice(EDGE_NUMBERS)
        return self.rng.choice(["0", "1", "2", "0.5", "1.5", "3", "10"])

    def expr(self, scope: Scope, depth: int = 0) -> str:
        rng = self.rng
        leaf = depth > 3 or rng.random() < 0.35
        if leaf:
            options = [self.number]
            if scope.scalars:
                options += [lambda: rng.choice(scope.scalars)] * 3
            if scope.indices and scope.vectors:
                options += [lambda: self.indexed(scope)] * 3
            return rng.choice(options)()
        kind = rng.random()
        if kind < 0.4:
            return f"{self.expr(scope, depth + 1)} {rng.choice(BINARY)} {self.expr(scope, depth + 1)}"
        if kind < 0.55:
            return f"({self.expr(scope, depth + 1)})"
        if kind < 0.65:
            return f"-{self.expr(scope, depth + 1)}"
        if kind < 0.85:
            return f"{rng.choice(UNARY_FUNCTIONS)}({self.expr(scope, depth + 1)})"
        if kind < 0.93 and scope.vectors:
            vector, size = rng.choice(scope.vectors)
            return f"{rng.choice(REDUCTIONS)}({vector})"
        k = f"k{self.counter}"
        self.counter += 1
        inner = Scope(scope.scalars + [k], scope.positives, scope.vectors, scope.indices)
        return f"{rng.choice(REDUCTIONS)}({self.expr(inner, depth + 1)} for {k} in 0..{rng.choice(['3', 'N', '0', 'N - 1'])})"

    def indexed(self, scope: Scope) -> str:
        index, size = self.rng.choice(scope.indices)
        vectors = [v for v, s in scope.vectors if s == size] or [v for v, _ in scope.vectors]
        offset = self.rng.choice(["", "", "", " - 1", " + 1"])
        return f"{self.rng.choice(vectors)}[{index}{offset}]"

    def positive(self, scope: Scope) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < 0.3 and scope.positives:
            return rng.choice(scope.positives)
        if roll < 0.6:
            return rng.choice(["1", "2", "0.5", "10"]) if rng.random() < 0.8 else self.number()
        if roll < 0.9:
            return f"{rng.choice(['exp', 'softplus'])}({self.expr(scope, 2)})"
        return self.expr(scope, 1)  # sometimes not positive at all: E0902 expected

    def distribution(self, scope: Scope) -> tuple[str, bool]:
        """A continuous prior and whether its support is positive."""
        rng = self.rng
        loc, scale = self.expr(scope, 1), self.positive(scope)
        choices = [
            (f"Normal({loc}, {scale})", False), (f"HalfNormal({scale})", True),
            (f"Exponential({scale})", True), (f"Gamma({scale}, {self.positive(scope)})", True),
            (f"LogNormal({loc}, {scale})", True), (f"Cauchy({loc}, {scale})", False),
            (f"StudentT({self.positive(scope)}, {loc}, {scale})", False),
            (f"Laplace({loc}, {scale})", False), (f"HalfCauchy({scale})", True),
            (f"Beta({scale}, {self.positive(scope)})", True), (f"VonMises({loc}, {scale})", False),
            (f"Gumbel({loc}, {scale})", False), (f"InverseGamma({scale}, {self.positive(scope)})", True),
            (f"Uniform({self.number()}, {self.number()})", False),
        ]
        return rng.choice(choices)

    def program(self) -> str:
        rng = self.rng
        scope = Scope()
        out = [f"model fz{rng.randrange(100)} {{", "  data N: int"]
        data_vectors = []
        for _ in range(rng.randint(0, 2)):
            name = self.name("x")
            bound = rng.choice(["", "", "<lower=0>", "<lower=exp(1)>", "<upper=N>"])
            out.append(f"  data {name}: {rng.choice(['real', 'real', 'positive'])}{bound}[N]")
            data_vectors.append(name)
        scope.vectors += [(v, "N") for v in data_vectors]
        for _ in range(rng.randint(1, 3)):
            name = self.name("a")
            dist, positive = self.distribution(scope)
            out.append(f"  {name} ~ {dist}")
            (scope.positives if positive else scope.scalars).append(name)
            if positive:
                scope.scalars.append(name)
        if rng.random() < 0.5:
            name = self.name("d")
            out.append(f"  {name} = {self.expr(scope)}")
            scope.scalars.append(name)
        observed = self.name("y")
        kind = rng.choice(["real", "int", "bool"])
        out.insert(2, f"  data {observed}: {kind}[N]")
        plate = f"i{self.counter}"
        inner = Scope(list(scope.scalars), list(scope.positives), list(scope.vectors), [(plate, "N")])
        body = []
        if rng.random() < 0.6:
            z = self.name("z")
            dist, positive = self.distribution(inner)
            body.append(f"    {z}[{plate}] ~ {dist}")
            inner.scalars.append(f"{z}[{plate}]")
        likelihood = {"real": lambda: f"Normal({self.expr(inner)}, {self.positive(inner)})",
                      "int": lambda: f"Poisson({self.positive(inner)})",
                      "bool": lambda: f"Bernoulli(logits={self.expr(inner)})"}[kind]()
        body.append(f"    {observed}[{plate}] ~ {likelihood}")
        out.append(f"  plate {plate} in {rng.choice(['N', 'N', '1..N', '2', 'N - 1'])} {{")
        out += body
        out.append("  }")
        if rng.random() < 0.3:
            t = f"t{self.counter}"
            w = self.name("w")
            out.append(f"  {w}[0] ~ Normal(0, 1)")
            out.append(f"  for {t} in 1..N {{")
            out.append(f"    {w}[{t}] ~ Normal({w}[{t} - 1] * {self.expr(scope, 2)}, {self.positive(scope)})")
            out.append("  }")
        out.append("}")
        return "\n".join(out) + "\n"


# --- mutations ---------------------------------------------------------------------------

_TOKEN = re.compile(r"\d+\.?\d*(?:[eE][-+]?\d+)?|[A-Za-z_]\w*|\S")


def mutate(text: str, rng: random.Random, count: int) -> str:
    """``text`` with ``count`` random token- or line-level mutations."""
    for _ in range(count):
        text = rng.choice(_MUTATIONS)(text, rng)
    return text


def _replace_token(text: str, rng: random.Random, pattern: str, choices) -> str:
    matches = [m for m in _TOKEN.finditer(text) if re.fullmatch(pattern, m.group())]
    if not matches:
        return text
    m = rng.choice(matches)
    return text[:m.start()] + rng.choice(choices) + text[m.end():]


def _number(text, rng):
    return _replace_token(text, rng, r"\d.*", EDGE_NUMBERS)


def _operator(text, rng):
    return _replace_token(text, rng, r"[-+*/^%]", BINARY + ["<", "==", "and", ","])


def _name(text, rng):
    names = sorted(set(re.findall(r"\b[a-z_]\w*\b", text)))
    return _replace_token(text, rng, r"[A-Za-z_]\w*", names + RESERVED_LOOKING) if names else text


def _lines(text, rng):
    lines = text.split("\n")
    i = rng.randrange(len(lines))
    match rng.randrange(3):
        case 0:
            del lines[i]
        case 1:
            lines.insert(i, lines[rng.randrange(len(lines))])
        case _:
            j = rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
    return "\n".join(lines)


def _nest(text, rng):
    """Wrap a name or number in a deep stack of one construct (nesting limits)."""
    matches = [m for m in _TOKEN.finditer(text) if re.fullmatch(r"[A-Za-z_]\w*|\d.*", m.group())]
    if not matches:
        return text
    m = rng.choice(matches)
    depth = rng.choice([3, 10, 70, 200])
    before, after = rng.choice([("-", ""), ("exp(", ")"), ("(", ")"), ("[", "]"), ("sum(", " for q in 0..2)")])
    core = m.group()
    if before == "-":
        wrapped = "(" + "-" * depth + core + ")"
    else:
        wrapped = before * depth + core + after * depth
    if rng.random() < 0.3:
        wrapped = core + "[0]" * depth
    return text[:m.start()] + wrapped + text[m.end():]


def _splice(text, rng):
    """Insert a random character or keyword."""
    at = rng.randrange(len(text) + 1)
    piece = rng.choice(["(", ")", "[", "]", "{", "}", ",", "~", "=", "\n", " plate ", " for ", " data ",
                        "\x1b[2J", "\t", "..", "<lower=0>", "1e999", ":", "\ufeff", "#"])
    return text[:at] + piece + text[at:]


def _size(text, rng):
    return _replace_token(text, rng, r"[A-Z]\w*", ["2.5", "0", "N ^ 1000000000", "100000000000", "(0 - 3)",
                                                   "1 / 0", "N / 2"])


_MUTATIONS = [_number, _number, _operator, _name, _lines, _nest, _splice, _size]


# --- data ----------------------------------------------------------------------------------

def make_data(model, rng: random.Random) -> dict:
    """Small data for ``model``'s declared inputs: sizes 1 to 4, values in their types' ranges."""
    from dslppl.binding.data import evaluate
    from dslppl.check import Kind

    declared = [v for v in model.checked.variables.values() if v.kind in (Kind.DATA, Kind.OBSERVED)
                and v.type is not None]
    sizes, data = {}, {}
    for variable in declared:
        if variable.base_type == "int" and not variable.type.shape and variable.decl.default is None:
            sizes[variable.name] = data[variable.name] = rng.randint(1, 4)
    for variable in declared:
        if variable.name in data or (variable.decl is not None and variable.decl.default is not None):
            continue
        if rng.random() < 0.03:
            continue  # a missing input: E0801 (or simulated when sampling)
        shape = []
        for expr in variable.type.shape:
            value = evaluate(expr, sizes)
            shape.append(int(value) if isinstance(value, (int, float)) and math.isfinite(value)
                         and 0 <= value <= 6 else rng.randint(1, 3))
        data[variable.name] = _values(variable.base_type, shape, rng)
    return data


def _values(base: str, shape: list[int], rng: random.Random):
    if shape:
        if base == "simplex" and len(shape) == 1:
            weights = [rng.random() + 0.1 for _ in range(shape[0])]
            return [w / sum(weights) for w in weights]
        if base == "ordered" and len(shape) == 1:
            return sorted(rng.gauss(0, 1) for _ in range(shape[0]))
        if base in ("corr_cholesky", "cov") and len(shape) == 2 and shape[0] == shape[1]:
            return [[float(i == j) for j in range(shape[1])] for i in range(shape[0])]
        return [_values(base, shape[1:], rng) for _ in range(shape[0])]
    return {"int": lambda: rng.randint(0, 3), "bool": lambda: rng.randint(0, 1),
            "positive": lambda: rng.random() * 3 + 0.1, "probability": lambda: rng.random(),
            }.get(base, lambda: round(rng.gauss(0, 2), 3))()


# --- running -----------------------------------------------------------------------------

@dataclass
class Case:
    text: str
    origin: str


@dataclass
class Outcome:
    case: Case
    stage: str                     # the last stage reached
    error: BaseException | None    # None: every stage passed or a DslError ended the case
    seconds: float
    trace: str = ""

    @property
    def failed(self) -> bool:
        return self.error is not None

    @property
    def signature(self) -> str:
        return signature(self.error) if self.error is not None else ""


class _FrontEndDone(Exception):
    """Ends a front-end-only case after compilation."""


class CaseTimeout(Exception):
    """The case ran past `CASE_BUDGET_S`."""


def signature(error: BaseException) -> str:
    """``Type: message`` with numbers, quoted names and file positions blanked, for grouping."""
    message = str(error).splitlines()[0] if str(error) else ""
    message = re.sub(r"'[^']*'|\"[^\"]*\"", "'_'", message)
    message = re.sub(r"\d+(\.\d+)?(e[-+]?\d+)?", "#", message)
    return f"{type(error).__name__}: {message[:160]}"


def make_case(rng: random.Random, corpus: list[str]) -> Case:
    if not corpus or rng.random() < 0.5:
        return Case(Generator(rng).program(), "generated")
    index = rng.randrange(len(corpus))
    return Case(mutate(corpus[index], rng, rng.choice([1, 1, 2, 3])), f"corpus[{index}]")


def run_case(case: Case, seed: int, budget_s: float = CASE_BUDGET_S, full: bool = True) -> Outcome:
    """The case through every stage (only to compilation unless ``full``); a DslError ends
    it as a success."""
    from dslppl import DslError, loads
    from dslppl.runtime import clear_param_store

    rng = random.Random(seed)
    stage, start = "parse+check", time.perf_counter()

    def on_alarm(signum, frame):
        raise CaseTimeout(f"case ran past {budget_s:g} s in stage {stage}")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, budget_s)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = loads(case.text, "fuzz.ppl")
            stage = "compile"
            model.source
            if not full:
                raise _FrontEndDone
            data = make_data(model, rng)
            stage = "bind"
            model.bind(data)
            stage = "sample_prior"
            if not any(v.dist is None for v in model.checked.latents):
                model.sample_prior(data, num_samples=2, seed=seed)
            stage = "fit"
            model.fit(data, steps=5, seed=seed, progress=False)
            stage = "done"
        error = None
    except (DslError, _FrontEndDone):
        error = None
    except BaseException as caught:  # noqa: BLE001 - the fuzzer's whole point
        if isinstance(caught, KeyboardInterrupt):
            raise
        error = caught
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        clear_param_store()
    seconds = time.perf_counter() - start
    trace = "".join(traceback.format_exception(error)) if error is not None else ""
    return Outcome(case, stage, error, seconds, trace)


def fuzz(count: int, seed: int = 0, corpus: list[str] | None = None, budget_s: float = CASE_BUDGET_S,
         full_every: int = 1):
    """Run ``count`` cases from ``seed``; yields each `Outcome`. Every ``full_every``-th case
    goes through every stage, the others through compilation only."""
    corpus = load_corpus() if corpus is None else corpus
    rng = random.Random(seed)
    for i in range(count):
        case_seed = rng.randrange(2 ** 31)
        case = make_case(random.Random(case_seed), corpus)
        yield run_case(case, case_seed, budget_s, full=i % full_every == 0)


# --- known failures inside code generation --------------------------------------------------

@dataclass(frozen=True)
class Known:
    """A crash inside dslppl/codegen/ that is fixed there, not here (see KNOWN_CODEGEN.md)."""

    kind: str       # exception type name
    message: str    # a regular expression the first line of the message must match


KNOWN_CODEGEN: tuple[Known, ...] = (
    # 1. a comprehension over a constant integer body gives a Long tensor
    Known("NotImplementedError", r"not implemented for 'Long'"),
    Known("InternalError", r"generated code failed .*torch\.finfo\(\) requires a floating point input type"),
    Known("TypeError", r"^torch\.finfo\(\) requires a floating point input type"),
    # 2. `and` / `or` with a number literal operand
    Known("InternalError", r"generated code failed .*logical_(and|or)\(\): argument '\w+' \(position \d\) "
                           r"must be Tensor, not (int|float|bool)"),
    # 3. a size declared after the variable whose shape reads it (a symbol looked up too early)
    Known("KeyError", r"^'\w+'$"),
    # 4. a comparison (a bool tensor) in arithmetic on latents
    Known("RuntimeError", r"^Subtraction, the `-` operator, with a bool tensor is not supported"),
)


def known(error: BaseException) -> Known | None:
    """The known code-generation failure ``error`` is, if any."""
    first = str(error).splitlines()[0] if str(error) else ""
    for entry in KNOWN_CODEGEN:
        if type(error).__name__ == entry.kind and re.search(entry.message, first):
            return entry
    return None
