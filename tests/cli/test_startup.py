"""What starting dslppl costs: checking, drawing and compiling a model never import torch
(nor numpy); checking and drawing not even networkx (the graph makes its networkx form on
demand), which only code generation needs.

Each case runs in a fresh interpreter, because this test process has torch
loaded already. Editors run ``dslppl check`` on every save, so a second of
torch import there would be paid again and again.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "examples" / "eight_schools.ppl"
HEAVY = ("torch", "numpy", "sympy", "networkx")


def run_python(code: str, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


def loaded_after(statements: str) -> set[str]:
    """The heavy modules loaded once ``statements`` ran in a fresh interpreter."""
    run = run_python(f"{statements}\nimport sys\nprint(' '.join(m for m in {HEAVY!r} if m in sys.modules))")
    assert run.returncode == 0, run.stderr
    return set(run.stdout.split())


def test_import_dslppl_loads_no_torch():
    assert loaded_after("import dslppl") == set()
    assert loaded_after("import dslppl.cli") == set()


def test_the_front_end_and_rendering_load_no_torch():
    statements = f"""
import dslppl
from dslppl.graph import build_graph
from dslppl.check import check
from dslppl.render import render
from dslppl.syntax import parse
text = open({str(MODEL)!r}).read()
graph = build_graph(check(parse(text)))
assert "theta_raw" in render(graph).source
model = dslppl.loads(text)
assert model.factorization().startswith("p(") and "y" in model.model_graph.markov_blanket("mu")
"""
    assert loaded_after(statements) == set()


def test_generating_code_loads_no_torch():
    statements = f"""
import dslppl
assert "def bind" in dslppl.load({str(MODEL)!r}).source
"""
    assert loaded_after(statements) <= {"networkx"}  # code generation orders statements with it


@pytest.mark.parametrize("command, allowed", [(["check"], ""), (["render", "-o", "OUT.dot"], ""),
                                              (["compile", "-o", "OUT.py"], "networkx")])
def test_commands_that_do_not_run_a_model_load_no_torch(command, allowed, tmp_path):
    command = [str(tmp_path / part) if part.startswith("OUT") else part for part in command]
    code = ("import runpy, sys\n"
            "try:\n    runpy.run_module('dslppl', run_name='__main__')\n"
            "finally:\n    print(' '.join(m for m in %r if m in sys.modules), file=sys.stderr)" % (HEAVY,))
    run = run_python(code, command[0], str(MODEL), *command[1:])
    assert run.returncode == 0, run.stderr
    assert set(run.stderr.split()) <= set(allowed.split())


def test_commands_that_run_a_model_still_work(tmp_path):
    out = tmp_path / "draws.json"
    run = run_python("import sys; from dslppl.cli import main; sys.exit(main())", "sample", str(MODEL),
                     "--data", str(ROOT / "examples" / "eight_schools.json"), "-n", "2", "--seed", "0",
                     "--dtype", "float32", "--out", str(out))
    assert run.returncode == 0, run.stderr
    assert '"theta"' in out.read_text()
