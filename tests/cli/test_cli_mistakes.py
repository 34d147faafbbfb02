"""Every command-line mistake exits 1 with a one-line error (or located diagnostics), never 3."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from dslppl.cli import main

ROOT = Path(__file__).resolve().parents[2]
EIGHT = ROOT / "examples" / "eight_schools.ppl"
EIGHT_DATA = ROOT / "examples" / "eight_schools.json"
PRIOR = ROOT / "examples" / "prior_predictive.ppl"
PRIOR_DATA = ROOT / "examples" / "prior_predictive.json"

FIT = ["fit", EIGHT, "--data", EIGHT_DATA, "--no-progress", "--steps", "20"]
SAMPLE = ["sample", PRIOR, "--data", PRIOR_DATA]


def run(capsys, *argv) -> tuple[int, str, str]:
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return status, out, err


@pytest.mark.parametrize("argv, message", [
    (SAMPLE + ["-n", "0"], "--num-samples must be between 1 and 1000000, got 0"),
    (SAMPLE + ["-n", "-1"], "--num-samples must be between 1 and 1000000, got -1"),
    (SAMPLE + ["-n", "-3"], "--num-samples must be between 1 and 1000000, got -3"),
    (SAMPLE + ["-n", "1000000000"], "--num-samples must be between 1 and 1000000"),
    (SAMPLE + ["--seed", "99999999999999999999999"], "--seed must be between 0 and 2**63 - 1"),
    (SAMPLE + ["--seed", "-1"], "--seed must be between 0 and 2**63 - 1"),
    (FIT + ["--num-samples", "0"], "--num-samples must be between 1"),
    (FIT + ["--steps", "0"], "--steps must be between 1"),
    (FIT + ["--steps", "-5"], "--steps must be between 1"),
    (FIT + ["--lr", "0"], "--lr must be a positive finite number"),
    (FIT + ["--lr", "nan"], "--lr must be a positive finite number"),
    (FIT + ["--lr", "inf"], "--lr must be a positive finite number"),
    (FIT + ["--guide", "guide"], "model 'eight_schools' has no guide block"),
    (FIT + ["--resume"], "--resume needs --checkpoint PATH"),
    (FIT + ["--out", "/"], "it is a directory"),
    (FIT + ["--out", "/no/such/dir/fit.json"], "does not exist"),
    (SAMPLE + ["--out", "/no/such/dir/draws.json"], "does not exist"),
    (["render", EIGHT, "-o", "/no/such/dir/m.svg"], "does not exist"),
    (["compile", EIGHT, "-o", "/no/such/dir/m.py"], "does not exist"),
])
def test_usage_mistakes_are_one_line_errors(capsys, argv, message):
    status, out, err = run(capsys, *argv)
    assert status == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith("dslppl: error: ") and message in err


def test_an_unwritable_output_is_refused_before_fitting(capsys, tmp_path, monkeypatch):
    fitted = []
    monkeypatch.setattr("dslppl.model.Model.fit", lambda *a, **k: fitted.append(1))
    status, _, err = run(capsys, *FIT, "--out", tmp_path)
    assert status == 1 and "is a directory" in err and not fitted


@pytest.mark.parametrize("content, located", [
    (b"", True), (b"\x00\x01garbage", True), (b"PK\x03\x04", True),
])
def test_a_file_that_is_no_checkpoint(capsys, tmp_path, content, located):
    path = tmp_path / "c.pt"
    path.write_bytes(content)
    status, _, err = run(capsys, *FIT, "--checkpoint", path, "--resume")
    assert status == 1 and "not a readable checkpoint" in err and err.count("\n") == 1


def _data(tmp_path, scale=1.0) -> Path:
    data = json.loads(EIGHT_DATA.read_text())
    data["y"] = [y * scale for y in data["y"]]
    path = tmp_path / f"data{scale}.json"
    path.write_text(json.dumps(data))
    return path


def _with(argv: list, option: str, value) -> list:
    """``argv`` with ``option``'s value replaced (or the option added)."""
    if option in argv:
        i = argv.index(option)
        return argv[:i + 1] + [value] + argv[i + 2:]
    return argv + [option, value]


@pytest.mark.parametrize("option, value, differs", [
    ("--data", None, "data"),  # y multiplied by 100
    ("--dtype", "float32", "dtype"),
    ("--seed", "2", "seed"),
    ("--lr", "0.02", "lr"),
    ("--guide", "mvn", "guide"),
    ("--steps", "700", "steps"),
])
def test_a_stale_checkpoint_is_refused(capsys, tmp_path, option, value, differs):
    checkpoint = tmp_path / "c.pt"
    first = ["fit", EIGHT, "--data", _data(tmp_path), "--no-progress", "--steps", "600", "--seed", "1",
             "--checkpoint", checkpoint]
    assert run(capsys, *first)[0] == 0 and checkpoint.exists()
    second = _with(first, option, value if value is not None else _data(tmp_path, 100.0))
    status, out, err = run(capsys, *second, "--resume")
    assert status == 1 and out == "" and f"differs in {differs})" in err and err.count("\n") == 1


@pytest.mark.parametrize("content, code, where", [
    (b"\xff\xfe{", "E0806", ":1:1:"),
    (b'{"J": 8, "J": 9}', "E0806", ":1:10:"),
    (b'{"J": true, "y": [1], "sigma": [1]}', "E0803", "eight_schools.ppl:3:3:"),
])
def test_data_file_mistakes_are_located(capsys, tmp_path, content, code, where):
    path = tmp_path / "d.json"
    path.write_bytes(content)
    status, _, err = run(capsys, *["fit", EIGHT, "--data", path, "--no-progress"])
    assert status == 1 and f"[{code}]" in err and where in err


def test_byte_order_marks_are_accepted(capsys, tmp_path):
    model, data = tmp_path / "m.ppl", tmp_path / "d.json"
    model.write_bytes(b"\xef\xbb\xbf" + EIGHT.read_bytes())
    data.write_bytes(b"\xef\xbb\xbf" + EIGHT_DATA.read_bytes())
    assert run(capsys, "fit", model, "--data", data, "--no-progress", "--steps", "20")[0] == 0


def test_a_device_is_not_read_to_its_end(capsys):
    status, _, err = run(capsys, "check", "/dev/zero")
    assert status == 1 and "larger than 64 MiB" in err and "[E0109]" in err and "/dev/zero:1:1:" in err


def test_invalid_utf8_in_a_model_is_located(capsys, tmp_path):
    path = tmp_path / "m.ppl"
    path.write_bytes(b"model m {\n  mu ~ Normal(0, 1) # \xff\n}\n")
    status, _, err = run(capsys, "check", path)
    assert status == 1 and "m.ppl:2:23:" in err and "not UTF-8" in err


def test_terminal_escapes_in_echoed_lines_are_defused(capsys, tmp_path):
    path = tmp_path / "m.ppl"
    path.write_text("model m {\n  mu ~ Normel(0, 1) # \x1b[2J\x07\n}\n")
    status, _, err = run(capsys, "check", path)
    assert status == 1 and "\x1b" not in err and "\x07" not in err and "\ufffd[2J" in err


def test_json_output_is_strict(capsys, tmp_path):
    model = tmp_path / "m.ppl"
    model.write_text("model m {\n  mu ~ Normal(0, 1)\n  z = mu + 1e999\n  w = mu * 1e999\n}\n")
    out = tmp_path / "draws.json"
    status, _, err = run(capsys, "sample", model, "-n", "2", "--seed", "0", "--out", out)
    if status == 0:
        text = out.read_text()
        assert "Infinity" not in text and "NaN" not in text
        json.loads(text, parse_constant=lambda c: pytest.fail(f"non-strict constant {c}"))
    else:
        assert status == 1 and "[E0902]" in err


@pytest.mark.parametrize("text, code", [
    ("model m {\n  mu ~ Normal(0, 1)\n  z = mu + 3 ^ 99999999999999999999999\n}\n", "E0111"),
    ("model m {\n  mu ~ Normal(0, 1)\n  z = mu + 1 / 0\n}\n", "E0111"),
    ("model m {\n  z ~ VonMises(0, 1e20)\n}\n", None),
    ("model m {\n  a ~ Normal(0, 3)\n  y ~ MultivariateNormal([0, 0], [[1, a], [a, 1]])\n}\n", "E0902"),
    ("model m {\n  s ~ Normal(0, 1)\n  z ~ Normal(0, s + 2)\n}\n", "E0902"),
])
def test_model_mistakes_in_sampling_are_located(capsys, tmp_path, text, code):
    path = tmp_path / "m.ppl"
    path.write_text(text)
    status, _, err = run(capsys, "sample", path, "-n", "300", "--seed", "1", "--out", tmp_path / "o.json")
    assert (status, code is not None and f"[{code}]" in err) == ((1, True) if code else (0, False))


def test_a_covariance_that_leaves_the_cone_in_a_fit_is_located(capsys, tmp_path):
    model, data = tmp_path / "m.ppl", tmp_path / "d.json"
    model.write_text("model m {\n  a ~ Normal(0, 3)\n  data y: real[2]\n"
                     "  y ~ MultivariateNormal([0, 0], [[1, a], [a, 1]])\n}\n")
    data.write_text('{"y": [5, -5]}')
    status, _, err = run(capsys, "fit", model, "--data", data, "--no-progress")
    assert status == 1 and "[E0902]" in err and "m.ppl:4:3:" in err and "positive definite" in err


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' is not installed")
def test_render_to_a_path_dot_cannot_write(capsys):
    # /proc passes the up-front check (a directory, writable for root) but takes no new files.
    status, _, err = run(capsys, "render", EIGHT, "-o", "/proc/dslppl-test.svg")
    assert status == 1 and err.count("\n") == 1 and err.startswith("dslppl: error: ")


def test_ctrl_c_during_start_up_is_one_line():
    """SIGINT while the interpreter imports torch: exit 130, no traceback."""
    # a daemon timer: when start-up beats it, the process exits without waiting to be interrupted
    code = ("import os, signal, threading; timer = threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT)); "
            "timer.daemon = True; timer.start(); "
            "import sys; from dslppl.cli import main; sys.exit(main(['check', sys.argv[1]]))")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", code, str(EIGHT)], capture_output=True, text=True, env=env,
                            timeout=120)
    assert "Traceback" not in result.stderr
    assert result.returncode in (0, 130)
    if result.returncode == 130:
        assert result.stderr == "dslppl: interrupted\n"
