"""Shared by the benchmark scripts: machine facts and one Markdown table per result file."""
from __future__ import annotations

import datetime
import os
import platform
from pathlib import Path

import torch

RESULTS = Path(__file__).resolve().parent / "results"


def machine_facts(threads: int | None = None) -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), cpu)
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{datetime.date.today().isoformat()}; {cpu}; {os.cpu_count()} cores; "
            f"Python {platform.python_version()}; torch {torch.__version__}; "
            f"torch threads {threads or torch.get_num_threads()}; load average at start {load:.1f}")


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def write_result(name: str, title: str, header: list[str], rows: list[list[str]],
                 notes: list[str] = (), threads: int | None = None) -> Path:
    """Print the table and write it, with the machine and date, to results/<name>.md."""
    table = markdown_table(header, rows)
    text = "\n\n".join([f"# {title}", f"Machine: {machine_facts(threads)}", table, *notes]) + "\n"
    print(text)
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.md"
    path.write_text(text)
    return path
