"""The ``dslppl`` command line, through ``dslppl.cli.main(argv)`` (and once as the installed script).

Exit statuses: 0 success; 1 a mistake in the model, the data or the command
line, reported as diagnostics on stderr and never as a Python traceback;
2 a usage error found by argparse; 3 a bug in dslppl.
"""
from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import dslppl.model
from dslppl.cli import main

ROOT = Path(__file__).resolve().parents[2]
EIGHT = ROOT / "examples" / "eight_schools.ppl"
EIGHT_DATA = ROOT / "examples" / "eight_schools.json"
PRIOR = ROOT / "examples" / "prior_predictive.ppl"
PRIOR_DATA = ROOT / "examples" / "prior_predictive.json"
COIN = ROOT / "examples" / "coin.ppl"
COIN_DATA = ROOT / "examples" / "coin.json"

BROKEN = """\
model eight_schools {
  data J: int
  data y: real[J]
  data sigma: positive[J]

  mu ~ Normel(0, 5)
  tau ~ HalfCauchy(5)
  plate j in J {
    theta_raw[j] ~ Normal(0, 1)
    theta[j] = mu + tau * theta_raw[j]
    y[j] ~ Normal(theta[j], sigm[j])
  }
}
"""

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' is not installed")


def run(capsys, *argv) -> tuple[int, str, str]:
    """``main(argv)``: the exit status, stdout and stderr."""
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return status, out, err


@pytest.fixture
def broken(tmp_path) -> Path:
    path = tmp_path / "broken.ppl"
    path.write_text(BROKEN)
    return path


# --- check ---------------------------------------------------------------------------

def test_check_prints_summary_and_factorization(capsys):
    status, out, err = run(capsys, "check", EIGHT)
    assert status == 0 and err == ""
    assert out.splitlines()[:9] == [
        "model eight_schools: ok",
        "  data:          J, sigma",
        "  latent:        mu, tau, theta_raw",
        "  observed:      y",
        "  deterministic: theta",
        "  param:         -",
        "  factor:        -",
        "  plates:        j ∈ J",
        "",
    ]
    assert out.splitlines()[9] == (
        "p(mu, tau, theta_raw, y) = p(mu) p(tau) ∏_j p(theta_raw[j]) p(y[j] | mu, tau, theta_raw[j])")


def test_check_names_the_guide(capsys):
    status, out, _ = run(capsys, "check", ROOT / "examples" / "eight_schools_guide.ppl")
    assert status == 0
    assert "  guide:         samples mu, tau, theta_raw" in out


def test_check_broken_model_renders_every_diagnostic(capsys, broken):
    status, out, err = run(capsys, "check", broken)
    assert status == 1 and out == ""
    assert err.splitlines() == [
        f"{broken}:6:8: error: unknown distribution 'Normel' [E0301]",
        "  mu ~ Normel(0, 5)",
        "       ^~~~~~",
        "hint: did you mean 'Normal'?",
        f"{broken}:11:29: error: undefined name 'sigm' [E0201]",
        "    y[j] ~ Normal(theta[j], sigm[j])",
        "                            ^~~~",
        "hint: did you mean 'sigma'?",
    ]


def test_check_json_lists_diagnostics_for_editors(capsys, broken):
    status, out, err = run(capsys, "check", broken, "--format", "json")
    assert status == 1 and err == ""
    diagnostics = json.loads(out)
    assert isinstance(diagnostics, list) and [d["code"] for d in diagnostics] == ["E0301", "E0201"]
    for d in diagnostics:
        assert {"code", "message", "line", "column", "end_line", "end_column", "hint"} <= set(d)
    assert diagnostics[0] | {"file": None} == {
        "code": "E0301", "severity": "error", "message": "unknown distribution 'Normel'", "file": None,
        "line": 6, "column": 8, "end_line": 6, "end_column": 14, "hint": "did you mean 'Normal'?"}


def test_check_json_of_a_good_model_is_a_list_of_warnings(capsys, tmp_path):
    path = tmp_path / "unused.ppl"
    path.write_text("model m {\n  data x: real\n  mu ~ Normal(0, 1)\n}\n")
    status, out, _ = run(capsys, "check", path, "--format", "json")
    assert status == 0
    assert [(d["code"], d["severity"], d["line"]) for d in json.loads(out)] == [("W0102", "warning", 2)]
    assert json.loads(run(capsys, "check", EIGHT, "--format", "json")[1]) == []


def test_check_prints_warnings_on_stderr(capsys, tmp_path):
    path = tmp_path / "unused.ppl"
    path.write_text("model m {\n  data x: real\n  mu ~ Normal(0, 1)\n}\n")
    status, out, err = run(capsys, "check", path)
    assert status == 0 and out.startswith("model m: ok")
    assert err.startswith(f"{path}:2:3: warning: data 'x' is declared but never used [W0102]")


def test_missing_model_file(capsys, tmp_path):
    status, out, err = run(capsys, "check", tmp_path / "nope.ppl")
    assert status == 1 and out == ""
    assert "cannot read model file" in err and "nope.ppl" in err


# --- render and compile -----------------------------------------------------------------

def test_render_dot(capsys, tmp_path):
    target = tmp_path / "x.dot"
    status, out, _ = run(capsys, "render", EIGHT, "--data", EIGHT_DATA, "-o", target)
    assert status == 0 and out == f"wrote {target}\n"
    text = target.read_text(encoding="utf-8")
    assert text.startswith("digraph eight_schools")
    assert "J = 8" in text and "tau ~ HalfCauchy(5)" in text


def test_render_flags(capsys, tmp_path):
    target = tmp_path / "x.dot"
    assert run(capsys, "render", EIGHT, "--no-distributions", "-o", target)[0] == 0
    assert "HalfCauchy" not in target.read_text(encoding="utf-8")
    guided = ROOT / "examples" / "eight_schools_guide.ppl"
    assert run(capsys, "render", guided, "--guide", "-o", target)[0] == 0
    assert "LogNormal" in target.read_text(encoding="utf-8")


@needs_dot
def test_render_svg(capsys, tmp_path):
    target = tmp_path / "x.svg"
    status, _, _ = run(capsys, "render", EIGHT, "--data", EIGHT_DATA, "-o", target)
    assert status == 0
    assert "<svg" in target.read_text(encoding="utf-8")


def test_render_unknown_suffix_is_a_user_error(capsys, tmp_path):
    status, _, err = run(capsys, "render", EIGHT, "-o", tmp_path / "x.txt")
    assert status == 1 and ".svg" in err


def test_compile_prints_and_writes_the_source(capsys, tmp_path):
    status, out, _ = run(capsys, "compile", EIGHT)
    assert status == 0
    assert out.startswith('"""Generated by dslppl from model \'eight_schools\'')
    compile(out, "generated", "exec")  # valid Python
    target = tmp_path / "m.py"
    assert run(capsys, "compile", EIGHT, "-o", target) == (0, f"wrote {target}\n", "")
    assert target.read_text() == out


# --- sample and fit ---------------------------------------------------------------------

def test_sample_writes_draws(capsys, tmp_path):
    target = tmp_path / "draws.json"
    status, out, _ = run(capsys, "sample", PRIOR, "--data", PRIOR_DATA, "-n", 3, "--seed", 0, "--out", target)
    assert status == 0 and out == f"wrote 3 draws of alpha, beta, y to {target}\n"
    draws = json.loads(target.read_text())
    assert draws["model"] == "prior_predictive" and draws["num_samples"] == 3
    n = json.loads(PRIOR_DATA.read_text())["N"]
    assert len(draws["draws"]["alpha"]) == 3
    assert [len(row) for row in draws["draws"]["y"]] == [n] * 3
    again = tmp_path / "again.json"
    run(capsys, "sample", PRIOR, "--data", PRIOR_DATA, "-n", 3, "--seed", 0, "--out", again)
    assert again.read_text() == target.read_text()


def test_sample_to_stdout(capsys):
    status, out, _ = run(capsys, "sample", COIN, "--data", COIN_DATA, "--seed", 1)
    assert status == 0
    assert list(json.loads(out)["draws"]) == ["p"]


def test_sample_without_required_data(capsys):
    status, out, err = run(capsys, "sample", EIGHT)
    assert status == 1 and out == ""
    assert "[E0801]" in err and "'J'" in err


def test_fit_writes_fit_json(capsys, tmp_path):
    target = tmp_path / "FIT.json"
    status, out, err = run(capsys, "fit", COIN, "--data", COIN_DATA, "--steps", 300, "--seed", 0,
                           "--no-progress", "--out", target)
    assert status == 0, err
    assert out.startswith("coin: guide normal, ") and out.endswith(f"wrote {target}\n")
    fit = json.loads(target.read_text())
    assert set(fit) == {"model", "guide", "steps", "final_loss", "converged", "khat", "reliable",
                        "warnings", "summary"}
    assert isinstance(fit["reliable"], bool) and isinstance(fit["warnings"], list)
    assert fit["model"] == "coin" and fit["guide"] == "normal"
    assert isinstance(fit["steps"], int) and 0 < fit["steps"] <= 300
    assert math.isfinite(fit["final_loss"])
    assert list(fit["summary"]) == ["p"]
    assert set(fit["summary"]["p"]) == {"mean", "sd", "q5", "q50", "q95"}
    assert 0 < fit["summary"]["p"]["q5"] < fit["summary"]["p"]["q50"] < fit["summary"]["p"]["q95"] < 1


def test_fit_bad_subsample(capsys):
    status, out, err = run(capsys, "fit", EIGHT, "--data", EIGHT_DATA, "--subsample", "n=bad")
    assert status == 1 and out == ""
    assert err == "dslppl: error: --subsample expects PLATE=SIZE (e.g. n=256), got 'n=bad'\n"


def test_fit_subsample_of_an_unknown_plate(capsys):
    status, _, err = run(capsys, "fit", EIGHT, "--data", EIGHT_DATA, "--subsample", "n=4")
    assert status == 1
    assert "[E0408]" in err and "no plate 'n'" in err


def test_fit_resume_needs_a_checkpoint(capsys):
    status, _, err = run(capsys, "fit", EIGHT, "--data", EIGHT_DATA, "--resume")
    assert status == 1 and "--resume needs --checkpoint" in err


def test_fit_missing_data_file(capsys, tmp_path):
    status, _, err = run(capsys, "fit", EIGHT, "--data", tmp_path / "nope.json")
    assert status == 1
    assert "cannot read data file" in err and "[E0806]" in err


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["fit", str(EIGHT)])  # --data is required
    assert info.value.code == 2
    assert "--data" in capsys.readouterr().err


# --- bugs are told apart from mistakes ----------------------------------------------------

def test_internal_error_exits_3_with_the_bug_message(capsys, monkeypatch):
    def broken_factorization(self, latex=False):
        raise ZeroDivisionError("simulated bug")

    monkeypatch.setattr(dslppl.model.Model, "factorization", broken_factorization)
    status, out, err = run(capsys, "check", EIGHT)
    assert status == 3 and out == ""
    assert err == ("dslppl: internal error: ZeroDivisionError: simulated bug\n"
                   "This is a bug in dslppl, not in your model; please report it with the model file.\n")


# --- the installed console script ---------------------------------------------------------

def test_console_script(tmp_path):
    script = Path(sys.executable).with_name("dslppl")
    if not script.exists():
        script = shutil.which("dslppl")
    assert script, "the dslppl console script is not installed (pip install -e .)"
    done = subprocess.run([str(script), "check", str(EIGHT)], capture_output=True, text=True, cwd=tmp_path,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("model eight_schools: ok\n")


def test_fit_init_no_map_start_and_an_honest_verdict(capsys, tmp_path):
    init = tmp_path / "init.json"
    init.write_text('{"p": 0.3}')
    target = tmp_path / "FIT.json"
    status, out, err = run(capsys, "fit", COIN, "--data", COIN_DATA, "--steps", 100, "--seed", 0,
                           "--no-progress", "--init", init, "--no-map-start", "--num-particles", 2,
                           "--out", target)
    assert status == 0, err
    fit = json.loads(target.read_text())
    # 100 steps are too few to converge: the header, a warning line and FIT.json say so.
    assert "NOT converged" in out.splitlines()[0] and "\nwarning: the fit did not converge" in out
    assert fit["converged"] is False and fit["reliable"] is False and fit["warnings"]


def test_fit_init_with_an_unknown_name_is_a_usage_error(capsys, tmp_path):
    init = tmp_path / "init.json"
    init.write_text('{"q": 0.3}')
    status, out, err = run(capsys, "fit", COIN, "--data", COIN_DATA, "--no-progress", "--init", init)
    assert status != 0 and "not latents" in err
