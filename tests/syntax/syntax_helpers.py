"""Shared by the syntax tests: hypothesis strategies for ASTs, a corpus, a deep-tree comparison."""
from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from hypothesis import strategies as st

from dslppl.syntax import ast

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"model", "guide", "data", "param", "plate", "for", "in", "factor", "true", "false",
            "and", "or", "not"}
BINARY_OPS = ["or", "and", "<", "<=", ">", ">=", "==", "!=", "+", "-", "*", "/", "%", "@", "^"]

# Programs that exercise every construct of LANGUAGE.md §2–§9.
CORPUS = {
    "eight_schools": """\
# Eight schools, non-centred.
model eight_schools {
  data J: int
  data y: real[J]
  data sigma: positive[J]

  mu ~ Normal(0, 5)
  tau ~ HalfCauchy(5)
  plate j in J {
    theta_raw[j] ~ Normal(0, 1)
    theta[j] = mu + tau * theta_raw[j]
    y[j] ~ Normal(theta[j], sigma[j])
  }
}
""",
    "guide": """\
model eight_schools {
  data J: int
  mu ~ Normal(0, 5)
  tau ~ HalfCauchy(5)
  plate j in J { theta_raw[j] ~ Normal(0, 1) }
}

guide {
  param mu_loc: real = 0
  param mu_scale: positive = 1
  param tau_loc: real = 0
  param tau_scale: positive = 0.5
  param theta_loc: real[J] = 0
  param theta_scale: positive[J] = 1
  mu ~ Normal(mu_loc, mu_scale)
  tau ~ LogNormal(tau_loc, tau_scale)
  plate j in J {
    theta_raw[j] ~ Normal(theta_loc[j], theta_scale[j])
  }
}
""",
    "ar_k": """\
model ar_k {
  data K: int
  data T: int
  data y: real[T]
  alpha ~ Normal(0, 1)
  beta: real[K] ~ Normal(0, 1)
  sigma ~ HalfNormal(1)
  plate t in K..T {
    y[t] ~ Normal(alpha + sum(beta[k] * y[t - 1 - k] for k in 0..K), sigma)
  }
}
""",
    "mixture": """\
model mixture {
  data N: int
  data y: real[N]
  mu: ordered[2] ~ Normal(0, 5)
  sigma: positive[2] ~ HalfNormal(2)
  w: simplex[2] ~ Dirichlet([2, 2])
  plate n in N {
    factor lik[n] = logsumexp(log(w[k]) + log_prob(Normal(mu[k], sigma[k]), y[n]) for k in 0..2)
  }
}
""",
    "bounds_and_loops": """\
model garch {
  data T: int
  data J: int<lower=0>
  data county: int<lower=0, upper=J - 1>[T]
  data X: real[T, 3]
  data scale: positive = 2.5E+4
  alpha1 ~ Uniform(0, 1)
  beta1: real<lower=0, upper=1 - alpha1> ~ Uniform(0, 1 - alpha1)
  flat: real[3]
  x[0] ~ Normal(0, 1)
  for t in 1..T {
    x[t] ~ Normal(x[t - 1], 1e-3)
  }
  eta: real[T] = X @ flat + a[county] * (age == 2)
  y ~ Bernoulli(logits=eta)
  z = -2 ^ 2 + a ^ -b ** c - (not p or q and r) * X[0, :] + x[1..T]
  factor f = sum(x[t] for t in T) + max(0.5, 3 % 2) / [1, 2, 3][0]
}
""",
    "one_line": "model m { a ~ N(0, 1); b = a; c: real; factor d = b }\n",
}


def corpus_files() -> list[Path]:
    """Model files elsewhere in the repository (examples, posteriordb), if present."""
    return sorted(ROOT.glob("examples/*.ppl")) + sorted(ROOT.glob("tests/posteriordb/models/*.ppl"))


# --- hypothesis strategies for ASTs --------------------------------------------------

# A fixed pool: generating names from a regex costs more than everything else together.
names = st.sampled_from(["a", "b", "mu", "x_1", "_t", "In", "lambda", "models", "sum", "Normal", "K9", "data_"])
name_nodes = st.builds(ast.Name, names)
numbers = st.one_of(
    st.integers(min_value=0, max_value=10**30),
    st.floats(min_value=0, allow_nan=False, allow_infinity=True),
)
atoms = st.one_of(name_nodes, st.builds(ast.Number, numbers), st.builds(ast.Bool, st.booleans()))


def _small_tuple(elements, min_size=0, max_size=3):
    return st.lists(elements, min_size=min_size, max_size=max_size).map(tuple)


def _domains(exprs):
    return st.builds(ast.Domain, st.none() | exprs, exprs)


def _extend(exprs):
    index_items = exprs | st.just(ast.Slice(None, None)) | st.builds(ast.Slice, exprs, exprs)
    return st.one_of(
        st.builds(ast.Binary, st.sampled_from(BINARY_OPS), exprs, exprs),
        st.builds(ast.Unary, st.sampled_from(["-", "not"]), exprs),
        st.builds(ast.Call, name_nodes, _small_tuple(exprs), _small_tuple(st.builds(ast.Keyword, name_nodes, exprs))),
        st.builds(ast.Index, exprs, _small_tuple(index_items, min_size=1)),
        st.builds(ast.ArrayLit, _small_tuple(exprs)),
        st.builds(ast.Comprehension, name_nodes, exprs, name_nodes, _domains(exprs)),
    )


expressions = st.recursive(atoms, _extend, max_leaves=12)
# Statements take smaller expressions: `expressions` alone covers the deep ones.
_exprs = st.recursive(atoms, _extend, max_leaves=3)
_pairs = _small_tuple(st.builds(ast.Keyword, name_nodes, _exprs), max_size=2)
calls = st.builds(ast.Call, name_nodes, _small_tuple(_exprs, max_size=2), _pairs)
types = st.builds(ast.Type, name_nodes, _pairs, _small_tuple(_exprs, max_size=2))
targets = st.builds(ast.Target, name_nodes, _small_tuple(_exprs, max_size=2))
simple_statements = st.one_of(
    st.builds(ast.DataDecl, name_nodes, types, st.none() | _exprs),
    st.builds(ast.ParamDecl, name_nodes, types, _exprs),
    st.builds(ast.Sample, targets, calls, st.none() | types),
    st.builds(ast.Declare, targets, types),
    st.builds(ast.Assign, targets, _exprs, st.none() | types),
    st.builds(ast.Factor, targets, _exprs),
)


def _nest(statements):
    bodies = _small_tuple(statements)
    return st.builds(ast.Plate, name_nodes, _domains(_exprs), bodies) | st.builds(
        ast.For, name_nodes, _domains(_exprs), bodies)


statements = st.recursive(simple_statements, _nest, max_leaves=4)
programs = st.builds(
    ast.Program,
    st.builds(ast.ModelBlock, name_nodes, _small_tuple(statements)),
    st.none() | st.builds(ast.GuideBlock, _small_tuple(statements)),
)


# --- comparing trees too deep for the dataclass __eq__ -------------------------------

def same_tree(a: ast.Node, b: ast.Node) -> bool:
    """``a == b`` without recursion (dataclass equality recurses once per level)."""
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        if type(x) is not type(y):
            return False
        if not isinstance(x, ast.Node):
            if isinstance(x, tuple):
                if len(x) != len(y):
                    return False
                stack.extend(zip(x, y))
            elif x != y:
                return False
            continue
        for f in fields(x):
            if f.name != "span":
                stack.append((getattr(x, f.name), getattr(y, f.name)))
    return True


# --- seeded random ASTs: cheaper than hypothesis strategies for whole programs -------

_POOL = ["a", "b", "mu", "x_1", "_t", "In", "lambda", "models", "sum", "Normal", "K9", "data_"]


def random_expr(rng, depth: int = 3) -> ast.Node:
    """A random expression tree (any shape the grammar can produce)."""
    if depth <= 0 or rng.random() < 0.25:
        kind = rng.randrange(4)
        if kind == 0:
            return ast.Number(rng.choice([0, 1, 7, 10**20, 0.5, 1e-10, 2.5e4, 1.0, float("inf")]))
        if kind == 1:
            return ast.Bool(rng.random() < 0.5)
        return _random_name(rng)
    sub = lambda: random_expr(rng, depth - 1)  # noqa: E731
    kind = rng.randrange(7)
    if kind <= 1:
        return ast.Binary(rng.choice(BINARY_OPS), sub(), sub())
    if kind == 2:
        return ast.Unary(rng.choice(["-", "not"]), sub())
    if kind == 3:
        return ast.Call(_random_name(rng), tuple(sub() for _ in range(rng.randrange(3))),
                        tuple(ast.Keyword(_random_name(rng), sub()) for _ in range(rng.randrange(2))))
    if kind == 4:
        items = [rng.choice([sub(), ast.Slice(None, None), ast.Slice(sub(), sub())]) for _ in range(1 + rng.randrange(2))]
        return ast.Index(sub(), tuple(items))
    if kind == 5:
        return ast.ArrayLit(tuple(sub() for _ in range(rng.randrange(3))))
    return ast.Comprehension(_random_name(rng), sub(), _random_name(rng), _random_domain(rng, depth - 1))


def random_program(rng, size: int = 6) -> ast.Program:
    """A random program of about ``size`` statements, with a guide half of the time."""
    model = ast.ModelBlock(_random_name(rng), _random_body(rng, size, 2))
    guide = ast.GuideBlock(_random_body(rng, size // 2, 1)) if rng.random() < 0.5 else None
    return ast.Program(model, guide)


def _random_name(rng) -> ast.Name:
    return ast.Name(rng.choice(_POOL))


def _random_domain(rng, depth: int) -> ast.Domain:
    lo = random_expr(rng, depth) if rng.random() < 0.5 else None
    return ast.Domain(lo, random_expr(rng, depth))


def _random_type(rng) -> ast.Type:
    bounds = tuple(ast.Keyword(_random_name(rng), random_expr(rng, 2)) for _ in range(rng.randrange(3)))
    shape = tuple(random_expr(rng, 1) for _ in range(rng.randrange(3)))
    return ast.Type(_random_name(rng), bounds, shape)


def _random_body(rng, size: int, depth: int) -> tuple:
    return tuple(_random_statement(rng, depth) for _ in range(rng.randrange(size + 1)))


def _random_statement(rng, depth: int) -> ast.Node:
    target = ast.Target(_random_name(rng), tuple(random_expr(rng, 1) for _ in range(rng.randrange(3))))
    maybe_type = _random_type(rng) if rng.random() < 0.4 else None
    dist = ast.Call(_random_name(rng), tuple(random_expr(rng, 2) for _ in range(rng.randrange(3))),
                    tuple(ast.Keyword(_random_name(rng), random_expr(rng, 2)) for _ in range(rng.randrange(2))))
    kind = rng.randrange(8 if depth > 0 else 6)
    if kind == 0:
        default = random_expr(rng) if rng.random() < 0.5 else None
        return ast.DataDecl(_random_name(rng), _random_type(rng), default)
    if kind == 1:
        return ast.ParamDecl(_random_name(rng), _random_type(rng), random_expr(rng))
    if kind == 2:
        return ast.Sample(target, dist, maybe_type)
    if kind == 3:
        return ast.Declare(target, _random_type(rng))
    if kind == 4:
        return ast.Assign(target, random_expr(rng), maybe_type)
    if kind == 5:
        return ast.Factor(target, random_expr(rng))
    node = ast.Plate if kind == 6 else ast.For
    return node(_random_name(rng), _random_domain(rng, 2), _random_body(rng, 3, depth - 1))
