"""How fast a model picture is built: dslppl from source text vs Pyro's render_model.

Usage::

    python benchmarks/render_speed.py [--repeat 200] [--out benchmarks/results/render_speed.md]

Times, on eight schools (LANGUAGE.md §1), the median over ``--repeat`` runs of:

- dslppl, text -> DOT: parse + check + build_graph + render, then ``.source``;
- dslppl, graph -> DOT: render alone on an already built graph;
- Pyro, ``pyro.render_model(model, model_args=(J, sigma, y), render_distributions=True,
  render_deterministic=True)``, then ``.source``: Pyro needs the data and runs the
  model under a trace to find the structure.

Neither side calls the ``dot`` program: only the ``graphviz.Digraph`` (DOT text)
is built. Prints a table with the ratio to Pyro and writes it as Markdown.
"""
from __future__ import annotations

import argparse
import platform
import statistics
import time
from pathlib import Path
from typing import Callable

from dslppl.check import check
from dslppl.graph import build_graph
from dslppl.render import render
from dslppl.syntax import parse

ROOT = Path(__file__).resolve().parents[1]
EIGHT_SCHOOLS = (ROOT / "examples/eight_schools.ppl").read_text()
Y = [28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0]
SIGMA = [15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0]


def dslppl_from_text() -> str:
    return render(build_graph(check(parse(EIGHT_SCHOOLS)))).source


GRAPH = build_graph(check(parse(EIGHT_SCHOOLS)))


def dslppl_from_graph() -> str:
    return render(GRAPH).source


def pyro_case() -> Callable[[], str] | None:
    """Pyro's render_model on the same model, or None when Pyro is not installed."""
    try:
        import pyro
        import pyro.distributions as dist
        import torch
    except ImportError:
        return None

    def model(J, sigma, y=None):
        mu = pyro.sample("mu", dist.Normal(0.0, 5.0))
        tau = pyro.sample("tau", dist.HalfCauchy(5.0))
        with pyro.plate("J", J):
            theta_raw = pyro.sample("theta_raw", dist.Normal(0.0, 1.0))
            theta = pyro.deterministic("theta", mu + tau * theta_raw)
            pyro.sample("y", dist.Normal(theta, sigma), obs=y)

    args = (8, torch.tensor(SIGMA), torch.tensor(Y))

    def run() -> str:
        return pyro.render_model(model, model_args=args, render_distributions=True,
                                 render_deterministic=True).source

    return run


def median_seconds(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm up: imports, caches, the lark parser
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/render_speed.md")
    args = parser.parse_args()
    cases = {"dslppl: text -> DOT (parse + check + graph + render)": dslppl_from_text,
             "dslppl: graph -> DOT (render only)": dslppl_from_graph}
    pyro_run = pyro_case()
    if pyro_run is not None:
        cases["Pyro: render_model (model run + graph spec + Digraph)"] = pyro_run
    medians = {name: median_seconds(fn, args.repeat) for name, fn in cases.items()}
    reference = medians.get("Pyro: render_model (model run + graph spec + Digraph)")
    rows = ["| case | median (ms) | vs Pyro |", "|---|---:|---:|"]
    for name, seconds in medians.items():
        ratio = f"{reference / seconds:.1f}x faster" if reference and seconds != reference else "1.0x"
        rows.append(f"| {name} | {seconds * 1e3:.3f} | {ratio if reference else 'n/a'} |")
    table = "\n".join(rows)
    print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        "# Render speed: eight schools, DOT only (no `dot` binary)\n\n"
        f"`python benchmarks/render_speed.py --repeat {args.repeat}`; median of {args.repeat} runs after a "
        f"warm-up, on {platform.python_implementation()} {platform.python_version()}, "
        f"{platform.machine()}.\n\n{table}\n\n"
        "dslppl reads the structure from the source text; Pyro must run the model on data under a "
        "trace (with provenance tracking) to find it. Neither column calls Graphviz's `dot`.\n",
        encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
