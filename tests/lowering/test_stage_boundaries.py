"""User errors come from `check` (static) and `binding` (data): code generation
raises only internal errors, so `dslppl check` sees every static mistake."""
from __future__ import annotations

import ast
import math
from pathlib import Path

import pytest
import torch

import dslppl

CODEGEN = Path(dslppl.__file__).parent / "codegen"
USER_ERRORS = {"Diagnostic", "DslError", "DiagnosticSink"}


@pytest.mark.parametrize("path", sorted(CODEGEN.glob("*.py")), ids=lambda p: p.name)
def test_codegen_constructs_no_user_diagnostic(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    used = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    used |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) for alias in node.names}
    assert not used & USER_ERRORS


@pytest.mark.parametrize("text, code", [
    ("model m { k ~ Poisson(3) }", "E0502"),
    ("model m { data T: int\n a[0] ~ Normal(0, 1)\n b[0] ~ Normal(0, 1)\n"
     " for t in 1..T { a[t] ~ Normal(a[t - 1], 1)\n b[t] ~ Normal(b[t - 1], 1) } }", "E0407"),
    ("model m { data N: int\n data y: real[N]\n z ~ Normal(0, 1)\n"
     " plate n in N { y[n] ~ Normal(y[z], 1) } }", "E0410"),
    ("model m { data N: int\n data y: real[N]\n plate n in N { y[n] ~ Normal(y[exp(n)], 1) } }", "E0410"),
    ("model m { s ~ Exponential(1)\n L ~ LKJCholesky(s, 1) }", "E0410"),
    ("model m { data x: real[3]\n s = sum(x, dim=1.5) }", "E0410"),
    ("model m { data T: int\n x[0] ~ Normal(0, 1)\n for t in 1..T { x[t] ~ Normal(sum(x[k] for k in 0..t), 1) } }",
     "E0407"),
    ("model m { data T: int\n x[0] ~ Normal(0, 1)\n for t in 1..T { x[t] ~ Normal(x[t - 1], 1) }\n"
     " x ~ Normal(0, 1) }", "E0202"),
])
def test_check_reports_what_compilation_cannot_do(text, code):
    with pytest.raises(dslppl.DslError) as caught:
        dslppl.loads(text)
    assert code in {d.code for d in caught.value.diagnostics}


def test_what_the_fuzzer_found_in_code_generation_compiles_and_runs():
    """Comprehensions over integer constants, logical operators on numbers, and a
    comparison stored in a deterministic node and used in arithmetic and as a condition."""
    model = dslppl.loads("""model m {
  data N: int
  data x: int[N]
  data y: real[N]
  b ~ Normal(0, 1)
  a ~ Normal(sum(0 for q in 0..2), 5)
  g ~ Gumbel(prod(1 for k in 0..3), 10)
  s ~ HalfNormal(10 and 2)
  w = x == 2
  y ~ Normal(b ^ w + where(w, a, g), s)
}""")
    data = {"N": 3, "x": [1, 2, 3], "y": [0.1, 0.2, 0.3]}
    bound = model.bind(data)
    values = {"b": 2.0, "a": 0.5, "g": -1.0, "s": 1.5}
    mean = [2.0 ** 0 - 1.0, 2.0 ** 1 + 0.5, 2.0 ** 0 - 1.0]
    normal = sum(-0.5 * ((v - m) / 1.5) ** 2 - math.log(1.5) - 0.5 * math.log(2 * math.pi)
                 for v, m in zip(data["y"], mean))
    prior = (torch.distributions.Normal(0.0, 1.0).log_prob(torch.tensor(2.0)) +
             torch.distributions.Normal(0.0, 5.0).log_prob(torch.tensor(0.5)) +
             torch.distributions.Gumbel(1.0, 10.0).log_prob(torch.tensor(-1.0)) +
             torch.distributions.HalfNormal(1.0).log_prob(torch.tensor(1.5)))  # 10 and 2 is true: 1
    assert float(model.log_joint(values, data)) == pytest.approx(normal + float(prior), rel=1e-6)
    assert bound.dim == 4
    assert set(model.sample_prior(data, num_samples=2, seed=0)) >= {"a", "g", "s", "w"}


def test_a_guide_drawing_another_shape_is_a_check_error():
    text = "model m {\n  mu ~ Normal(0, 5)\n}\nguide {\n  param mu_loc: real = 0\n  mu ~ Normal([[mu_loc]], 1)\n}"
    with pytest.raises(dslppl.DslError) as caught:
        dslppl.loads(text, "m.ppl")
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.code == "E0503" and diagnostic.span.line == 6
