"""docs/errors.md is generated from dslppl/errors.py and must stay in step with it.

Regenerate it with ``python -m dslppl.errors > docs/errors.md``. A second test
checks the other direction: every code a stage of dslppl reports has an entry
in the catalogue (and so a section in the page).
"""
from __future__ import annotations

import re
from pathlib import Path


from dslppl.errors import CODES, markdown

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "errors.md"

# Codes reported by the code at the time this test was written but missing from
# dslppl/errors.py: the test fails if any other code goes missing, and passes
# (no longer expected to fail) once these are added to the catalogue.


def test_page_is_generated_from_the_catalogue():
    assert PAGE.read_text(encoding="utf-8") == markdown(), (
        "docs/errors.md is out of date: run 'python -m dslppl.errors > docs/errors.md'")


def test_every_code_has_a_section():
    sections = re.findall(r"^## ([EW]\d{4}): ", PAGE.read_text(encoding="utf-8"), flags=re.M)
    assert sections == list(CODES)


def codes_reported_by_dslppl() -> dict[str, list[str]]:
    """Code -> the modules that use it as a string literal ("E0301")."""
    used: dict[str, list[str]] = {}
    for path in sorted((ROOT / "dslppl").rglob("*.py")):
        if path.name == "errors.py":
            continue
        for code in set(re.findall(r"[\"'\[]([EW]\d{4})[\"'\]]", path.read_text(encoding="utf-8"))):
            used.setdefault(code, []).append(str(path.relative_to(ROOT)))
    return used


def test_every_reported_code_is_in_the_catalogue():
    used = codes_reported_by_dslppl()
    assert len(used) > 40, "the scan for codes found too few: has the code style changed?"
    missing = {code: where for code, where in used.items() if code not in CODES}
    assert not missing, f"codes used but not in dslppl/errors.py: {missing}"
