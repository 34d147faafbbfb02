"""Every construct of LANGUAGE.md §2–§9 parses to the expected AST."""
from __future__ import annotations

import pytest

from dslppl.syntax import ast, parse
from dslppl.syntax.ast import (ArrayLit, Assign, Binary, Bool, Call, Comprehension, DataDecl, Declare, Domain,
                               Factor, For, GuideBlock, Index, Keyword, ModelBlock, Name, Number, ParamDecl,
                               Plate, Program, Sample, Slice, Target, Type, Unary)
from syntax_helpers import CORPUS, corpus_files, same_tree

N = Name


def body(text: str) -> tuple:
    """The statements of ``model m { text }``."""
    return parse(f"model m {{\n{text}\n}}\n").model.body


def expr(text: str) -> ast.Node:
    return body(f"x = {text}")[0].value


def T(base: str, bounds=(), shape=()) -> Type:
    return Type(N(base), tuple(Keyword(N(k), v) for k, v in bounds), tuple(shape))


def tgt(name: str, *indices) -> Target:
    return Target(N(name), tuple(indices))


def call(func: str, *args, **kwargs) -> Call:
    return Call(N(func), args, tuple(Keyword(N(k), v) for k, v in kwargs.items()))


# --- statements (§4) ------------------------------------------------------------------

STATEMENTS = [
    ("data J: int", DataDecl(N("J"), T("int"))),
    ("data y: real[J]", DataDecl(N("y"), T("real", shape=[N("J")]))),
    ("data s: real = 2", DataDecl(N("s"), T("real"), Number(2))),
    ("data X: real<lower=0>[N, K] = zeros(N, K)",
     DataDecl(N("X"), T("real", [("lower", Number(0))], [N("N"), N("K")]), call("zeros", N("N"), N("K")))),
    ("param loc: real[J] = 0.5", ParamDecl(N("loc"), T("real", shape=[N("J")]), Number(0.5))),
    ("mu ~ Normal(0, 5)", Sample(tgt("mu"), call("Normal", Number(0), Number(5)))),
    ("theta[j] ~ Normal(0, 1)", Sample(tgt("theta", N("j")), call("Normal", Number(0), Number(1)))),
    ("beta: real[K] ~ Normal(0, 1)",
     Sample(tgt("beta"), call("Normal", Number(0), Number(1)), T("real", shape=[N("K")]))),
    ("y ~ Bernoulli(logits=eta)", Sample(tgt("y"), call("Bernoulli", logits=N("eta")))),
    ("y ~ Binomial(n, probs=p)", Sample(tgt("y"), call("Binomial", N("n"), probs=N("p")))),
    ("beta: real", Declare(tgt("beta"), T("real"))),
    ("z[i, k]: positive", Declare(tgt("z", N("i"), N("k")), T("positive"))),
    ("theta = mu + 1", Assign(tgt("theta"), Binary("+", N("mu"), Number(1)))),
    ("L: cov[K, K] = eye(K)", Assign(tgt("L"), call("eye", N("K")), T("cov", shape=[N("K"), N("K")]))),
    ("factor lp = f(x)", Factor(tgt("lp"), call("f", N("x")))),
    ("factor lik[n] = g(n)", Factor(tgt("lik", N("n")), call("g", N("n")))),
    ("plate j in J { a[j] ~ N(0) }",
     Plate(N("j"), Domain(None, N("J")), (Sample(tgt("a", N("j")), call("N", Number(0))),))),
    ("plate t in K..T { }", Plate(N("t"), Domain(N("K"), N("T")), ())),
    ("for t in 1..T {\n x[t] ~ N(x[t - 1])\n}",
     For(N("t"), Domain(Number(1), N("T")),
         (Sample(tgt("x", N("t")), call("N", Index(N("x"), (Binary("-", N("t"), Number(1)),)))),))),
    ("beta1: real<lower=0, upper=1 - alpha1> ~ Uniform(0, 1)",
     Sample(tgt("beta1"), call("Uniform", Number(0), Number(1)),
            T("real", [("lower", Number(0)), ("upper", Binary("-", Number(1), N("alpha1")))]))),
]


@pytest.mark.parametrize("text,expected", STATEMENTS, ids=[s for s, _ in STATEMENTS])
def test_statement(text, expected):
    assert body(text) == (expected,)


def test_nested_plates():
    (outer,) = body("plate i in I {\n  plate k in K {\n    z[i, k] ~ N(0)\n  }\n}")
    assert outer == Plate(N("i"), Domain(None, N("I")), (
        Plate(N("k"), Domain(None, N("K")), (Sample(tgt("z", N("i"), N("k")), call("N", Number(0))),)),))


def test_model_and_guide():
    program = parse("model m {\n  a ~ N(0)\n}\nguide {\n  param p: real = 1\n  a ~ N(p)\n}\n")
    assert program == Program(
        ModelBlock(N("m"), (Sample(tgt("a"), call("N", Number(0))),)),
        GuideBlock((ParamDecl(N("p"), T("real"), Number(1)), Sample(tgt("a"), call("N", N("p"))))),
    )


def test_empty_blocks():
    assert parse("model m {}") == Program(ModelBlock(N("m"), ()))
    assert parse("model m {\n}\nguide {\n}\n").guide == GuideBlock(())


# --- expressions (§7) -----------------------------------------------------------------

def B(op, a, b):
    return Binary(op, a, b)


a, b, c, d = N("a"), N("b"), N("c"), N("d")

EXPRESSIONS = [
    ("a or b and c", B("or", a, B("and", b, c))),
    ("not a and b", B("and", Unary("not", a), b)),
    ("not a == b", Unary("not", B("==", a, b))),
    ("a + b < c * d", B("<", B("+", a, b), B("*", c, d))),
    ("a - b - c", B("-", B("-", a, b), c)),
    ("a / b * c % d", B("%", B("*", B("/", a, b), c), d)),
    ("X @ b + c", B("+", B("@", N("X"), b), c)),
    ("-a * b", B("*", Unary("-", a), b)),
    ("-2 ^ 2", Unary("-", B("^", Number(2), Number(2)))),
    ("a ^ -b", B("^", a, Unary("-", b))),
    ("a ^ b ^ c", B("^", a, B("^", b, c))),
    ("a ** b", B("^", a, b)),
    ("a ** -b ^ c", B("^", a, Unary("-", B("^", b, c)))),
    ("- -a", Unary("-", Unary("-", a))),
    ("(a + b) * c", B("*", B("+", a, b), c)),
    ("a <= b", B("<=", a, b)), ("a >= b", B(">=", a, b)), ("a != b", B("!=", a, b)),
    ("a > b", B(">", a, b)),
    ("beta * (age == 2)", B("*", N("beta"), B("==", N("age"), Number(2)))),
    ("f()", call("f")),
    ("f(a, b=c)", call("f", a, b=c)),
    ("f(a,\n  b,\n)", call("f", a, b)),
    ("x[i]", Index(N("x"), (N("i"),))),
    ("X[n, :]", Index(N("X"), (N("n"), Slice(None, None)))),
    ("x[a..b]", Index(N("x"), (Slice(a, b),))),
    ("x[i][j]", Index(Index(N("x"), (N("i"),)), (N("j"),))),
    ("a[county[n]]", Index(a, (Index(N("county"), (N("n"),)),))),
    ("f(x)[0]", Index(call("f", N("x")), (Number(0),))),
    ("[1, 2, 3]", ArrayLit((Number(1), Number(2), Number(3)))),
    ("[]", ArrayLit(())),
    ("[[1], [2]]", ArrayLit((ArrayLit((Number(1),)), ArrayLit((Number(2),))))),
    ("sum(x[k] for k in 0..K)", Comprehension(N("sum"), Index(N("x"), (N("k"),)), N("k"), Domain(Number(0), N("K")))),
    ("prod(k for k in N)", Comprehension(N("prod"), N("k"), N("k"), Domain(None, N("N")))),
    ("log_prob(Normal(m, s), y)", call("log_prob", call("Normal", N("m"), N("s")), N("y"))),
    ("true", Bool(True)), ("false", Bool(False)),
    ("not true or false", B("or", Unary("not", Bool(True)), Bool(False))),
]


@pytest.mark.parametrize("text,expected", EXPRESSIONS, ids=[s for s, _ in EXPRESSIONS])
def test_expression(text, expected):
    assert expr(text) == expected


@pytest.mark.parametrize("text,value", [
    ("3", 3), ("0", 0), ("0.5", 0.5), ("1e-3", 0.001), ("2.5E+4", 25000.0), ("1e5", 1e5),
    ("12345678901234567890", 12345678901234567890), ("1.0", 1.0), ("1e999", float("inf")),
])
def test_numbers(text, value):
    node = expr(text)
    assert node == Number(value) and type(node.value) is type(value)


def test_negative_number_is_unary_minus():
    assert expr("-2") == Unary("-", Number(2))


# --- lexical rules (§2) -------------------------------------------------------------------

def test_comments_blank_lines_and_semicolons():
    text = "# top\n\nmodel m { # open\n\n  # only a comment\n  a ~ N(0) ; ;\n\n  b = 1 # end\n;}\n# bottom"
    assert parse(text).model.body == (Sample(tgt("a"), call("N", Number(0))), Assign(tgt("b"), Number(1)))


def test_newlines_inside_brackets_do_not_end_statements():
    (stmt,) = body("y ~ Normal(\n  a +\n    b,  # comment\n  X[\n0,\n :]\n)")
    assert stmt == Sample(tgt("y"), call("Normal", B("+", a, b), Index(N("X"), (Number(0), Slice()))))


def test_brace_may_follow_newlines():
    program = parse("model m\n{\n  plate j in J\n  {\n    a[j] ~ N(0)\n  }\n}\nguide\n{\n}\n")
    assert program.model.body[0].domain == Domain(None, N("J"))
    assert program.guide == GuideBlock(())


def test_windows_line_endings_and_tabs():
    assert parse("model m {\r\n\ta ~ N(0)\r\n\tb = a\r\n}\r\n").model.body[1] == Assign(tgt("b"), a)


def test_keyword_prefixes_are_names():
    assert body("models = inx + data_ + for1 + notx") == (
        Assign(tgt("models"), B("+", B("+", B("+", N("inx"), N("data_")), N("for1")), N("notx"))),)


def test_python_keywords_and_builtins_are_names():
    (stmt,) = body("lambda = sum(list[k] for k in range) + import + torch")
    assert stmt.target.name == N("lambda")


def test_names_are_case_sensitive():
    assert body("Data = In") == (Assign(tgt("Data"), N("In")),)


# --- the corpus ------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(CORPUS))
def test_corpus_parses(name):
    program = parse(CORPUS[name], f"{name}.ppl")
    assert isinstance(program, Program)
    assert all(isinstance(node, ast.Node) for node in ast.walk(program))


@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: p.name)
def test_repository_models_parse(path):
    assert isinstance(parse(path.read_text(), path.name), Program)


def test_eight_schools_shape():
    program = parse(CORPUS["eight_schools"])
    assert program.model.name == N("eight_schools")
    kinds = [type(s).__name__ for s in program.model.body]
    assert kinds == ["DataDecl", "DataDecl", "DataDecl", "Sample", "Sample", "Plate"]
    plate = program.model.body[-1]
    assert plate.body[1] == Assign(tgt("theta", N("j")),
                                   B("+", N("mu"), B("*", N("tau"), Index(N("theta_raw"), (N("j"),)))))


def test_deep_expressions_do_not_recurse():
    n = 5000
    chain = parse("model m {\n  x = " + " + ".join(f"a{i}" for i in range(n)) + "\n}").model.body[0].value
    expected = N("a0")
    for i in range(1, n):
        expected = Binary("+", expected, N(f"a{i}"))
    assert same_tree(chain, expected)
    nested = expr("(" * n + "a" + ")" * n)
    assert nested == a
    power = expr(" ^ ".join(["a"] * n))
    depth = 0
    while isinstance(power, Binary):
        power, depth = power.right, depth + 1
    assert depth == n - 1
    minus = expr("-" * n + "a")
    assert isinstance(minus, Unary)
