"""User errors come from `check` (static) and `binding` (data): code generation
raises only internal errors, so `dslppl check` sees every static mistake."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

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
