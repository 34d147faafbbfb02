"""Rewrite the README's Performance section from ``benchmarks/results/*.md``.

``make bench`` runs it after the benchmarks, so the README quotes the committed
results exactly (a test checks that it does).
"""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"

# Each result file, with the sentence that introduces it in the README.
INTRODUCTIONS = {
    "svi_speed.md": "Per-step SVI time (mean-field guide, Adam, float32, one thread; targets: at least 5x "
                    "Pyro on eight schools and radon, within 1.2x of hand-written torch)",
    "svi_compile.md": "The same step through `torch.compile` (`fit(..., compile=True)`, `dslppl fit --compile`): "
                      "faster steps, after a compilation that only long fits repay",
    "time_to_result.md": "Time to result, a whole process from model text to a posterior summary "
                         "(target: at most a third of Pyro's)",
    "compile_speed.md": "Compile time by model size (each stage includes the ones before it)",
    "handler_overhead.md": "Handler overhead, one traced run of eight schools",
    "render_speed.md": "From text to a DOT graph, without data and without Graphviz",
    "check_speed.md": "`dslppl check`, `render` and `compile` as whole processes, which import no torch "
                      "(target: under 0.3 s each)",
    "nuts_speed.md": "NUTS, text to posterior summary and bulk ESS per second against NumPyro "
                     "(targets: at most half NumPyro's wall time including JIT; ESS/s within 3x on "
                     "eight schools and radon)",
    "nuts_posteriordb.md": "NUTS on the posteriordb posteriors against Stan's reference draws",
}


def section() -> str:
    parts = ["## Performance", "",
             "These tables are copied from `benchmarks/results/` by `benchmarks/readme_tables.py`",
             "(`make bench` runs every benchmark, then it). Each file names the machine, the date and the",
             "load; ratios are taken within one run, since these shared machines are noisy.", ""]
    for name, introduction in INTRODUCTIONS.items():
        path = RESULTS / name
        if not path.exists():
            continue
        tables = re.findall(r"(?:^\|.*\n)+", path.read_text(encoding="utf-8"), flags=re.M)
        parts += [f"{introduction}, from [benchmarks/results/{name}](benchmarks/results/{name}):", ""]
        for table in tables:
            parts += [table.rstrip("\n"), ""]
    return "\n".join(parts)


def main() -> None:
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    start = text.index("## Performance")
    end = text.index("\n## ", start + 1) + 1
    readme.write_text(text[:start] + section() + text[end:], encoding="utf-8")


if __name__ == "__main__":
    main()
