"""Every `.ppl` model in the repository that has data, for tests that hold on all of them.

`CORPUS` maps a short name to ``(text, data)``: the examples with their JSON,
the posteriordb translations with posteriordb's data, and the end-to-end
programs with the data their test makes.
"""
from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"


def _module(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _examples() -> dict[str, tuple[str, dict[str, Any]]]:
    return {f"examples/{p.stem}": (p.read_text(encoding="utf-8"),
                                   json.loads(p.with_suffix(".json").read_text(encoding="utf-8")))
            for p in sorted((ROOT / "examples").glob("*.ppl"))}


def _posteriordb() -> dict[str, tuple[str, dict[str, Any]]]:
    if str(TESTS) not in sys.path:
        sys.path.insert(0, str(TESTS))
    from posteriordb.catalog import POSTERIORS

    first: dict[str, Any] = {}
    for posterior in POSTERIORS.values():  # one data set per model file
        first.setdefault(posterior.model_file, posterior)
    return {f"posteriordb/{Path(f).stem}": (p.source(), p.data()) for f, p in sorted(first.items())}


def _programs() -> dict[str, tuple[str, dict[str, Any]]]:
    module = _module(TESTS / "e2e" / "test_programs.py", "_e2e_programs")
    return {f"e2e/{name}": ((module.PROGRAMS / f"{name}.ppl").read_text(encoding="utf-8"), data)
            for name, data in sorted(module.DATA.items())}


CORPUS: dict[str, tuple[str, dict[str, Any]]] = {**_examples(), **_posteriordb(), **_programs()}
