"""Whole-process time of the commands an editor or a shell runs on every save.

Each case is a fresh ``python -m dslppl ...`` process on eight schools
(interpreter start, imports, parsing, checking; the median wall time of
``--repeat`` runs), next to the floor of starting Python at all and the cost of
``import torch`` alone, which ``check``, ``render`` and ``compile`` must not
pay. The parser tables are cached between processes (`dslppl.cachedir`); the
first run with an empty cache, which builds and saves them, is timed apart.

Run: ``.venv/bin/python benchmarks/check_speed.py [--repeat 5] [--before PATH]``;
``--before`` times another checkout of dslppl (e.g. a ``git worktree`` of an
older commit) in a column of its own. Writes ``benchmarks/results/check_speed.md``.
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _report import write_result

ROOT = Path(__file__).resolve().parents[1]
MODEL = str(ROOT / "examples" / "eight_schools.ppl")
CLI = "import sys; from dslppl.cli import main; sys.exit(main())"  # what the `dslppl` script runs
TARGET_S = 0.3


def cases(out: Path) -> dict[str, list[str]]:
    """Name -> the arguments after ``python``."""
    return {
        "`python -c pass` (interpreter start)": ["-c", "pass"],
        "`python -c 'import torch'`": ["-c", "import torch"],
        "`dslppl check`": ["-c", CLI, "check", MODEL],
        "`dslppl render -o x.dot`": ["-c", CLI, "render", MODEL, "-o", str(out / "x.dot")],
        "`dslppl compile -o x.py`": ["-c", CLI, "compile", MODEL, "-o", str(out / "x.py")],
    }


def timed(args: list[str], tree: Path, cache: Path) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one process."""
    env = dict(os.environ, PYTHONPATH=str(tree), DSLPPL_CACHE_DIR=str(cache))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()  # cwd: `python -c` puts it first on sys.path
    subprocess.run([sys.executable, *args], cwd=tree, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def medians(args: list[str], tree: Path, cache: Path, repeat: int) -> tuple[float, float]:
    runs = [timed(args, tree, cache) for _ in range(repeat)]
    return statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs)


def imports_torch(args: list[str], tree: Path, cache: Path) -> bool:
    env = dict(os.environ, PYTHONPATH=str(tree), DSLPPL_CACHE_DIR=str(cache))
    run = subprocess.run([sys.executable, "-X", "importtime", *args], cwd=tree, env=env, check=True,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return any(line.split("|")[-1].strip() == "torch" for line in run.stderr.splitlines())


Timing = dict[str, tuple[float, float]]


def measure(tree: Path, repeat: int, out: Path) -> tuple[Timing, tuple[float, float], dict[str, bool]]:
    """(wall, cpu) medians per case, the cold-cache `check`, and whether each case imports torch."""
    with tempfile.TemporaryDirectory() as cache_name:
        cache = Path(cache_name)
        commands = cases(out)
        cold = timed(commands["`dslppl check`"], tree, cache)  # builds and saves the parser tables
        times = {name: medians(args, tree, cache, repeat) for name, args in commands.items()}
        torch = {name: imports_torch(args, tree, cache) for name, args in commands.items()}
    return times, cold, torch


def cells(times: tuple[float, float], torch: bool) -> list[str]:
    return [f"{times[0]:.3f} s", f"{times[1]:.3f} s", "yes" if torch else "no"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--before", type=Path, help="another dslppl checkout, timed in its own column")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as out_name:
        out = Path(out_name)
        now, cold, torch = measure(ROOT, args.repeat, out)
        before = measure(args.before, args.repeat, out) if args.before else None
    header = ["command (eight schools)", f"wall, median of {args.repeat}", "cpu", "imports torch"]
    if before:
        header += ["before: wall", "cpu", "imports torch"]
    rows = []
    for name in now:
        then = cells(before[0][name], before[2][name]) if before else []
        rows.append([name, *cells(now[name], torch[name]), *then])
    check = "`dslppl check`"
    rows.append(["`dslppl check`, empty parser cache (first run)", *cells(cold, torch[check]),
                 *(cells(before[1], before[2][check]) if before else [])])
    targeted = ("`dslppl check`", "`dslppl render -o x.dot`")
    worst = max(now[name][0] for name in targeted)
    notes = [f"Target: `dslppl check` and `dslppl render` under {TARGET_S} s wall; slower of the two: "
             f"{worst:.3f} s ({'met' if worst < TARGET_S else 'not met'}; wall time grows with the load "
             "average, cpu time much less).",
             "Each process is `python -c \"from dslppl.cli import main; ...\"` (what the `dslppl` script "
             "runs) with a fresh parser cache directory per column; the first run fills it. "
             "cpu: user + system time of the process, less sensitive than wall time to other load."]
    if before:
        notes.append(f"Before: the checkout at `{args.before}`.")
    write_result("check_speed", "Check, render and compile speed: whole process", header, rows, notes)


if __name__ == "__main__":
    main()
