"""Golden bad programs: ``tests/golden/bad/syntax_*.ppl`` and the diagnostics they render to.

Each ``NAME.ppl`` sits beside ``NAME.expected``, the text of ``DslError.render()``
(file names relative, as a user running in that folder sees them). Refresh with
``pytest tests/syntax --update-golden`` and review the diff; never edit an
expected file by hand.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from dslppl.diagnostics import DslError
from dslppl.syntax import parse

BAD = Path(__file__).resolve().parents[1] / "golden" / "bad"
CASES = sorted(BAD.glob("syntax_*.ppl"))


def rendered(path: Path) -> str:
    with pytest.raises(DslError) as info:
        parse(path.read_text(), path.name)
    return info.value.render() + "\n"


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_golden_syntax_error(path, update_golden):
    actual = rendered(path)
    expected = path.with_suffix(".expected")
    if update_golden:
        expected.write_text(actual)
    assert expected.exists(), f"no {expected.name}: run pytest --update-golden and review it"
    assert actual == expected.read_text()


def test_every_syntax_code_has_a_golden_case():
    codes = {line.rsplit("[", 1)[1].rstrip("]")
             for path in CASES if path.with_suffix(".expected").exists()
             for line in path.with_suffix(".expected").read_text().splitlines() if ": error: " in line}
    assert {f"E010{i}" for i in range(1, 9)} <= codes
