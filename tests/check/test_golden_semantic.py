"""Golden bad programs for the checker, graph and data binding: one file per error code.

``tests/golden/bad/check_<CODE>_*.ppl`` must fail to check; ``bind_<CODE>_*.ppl``
must fail when bound to the ``.json`` beside it (or, for E0505, when sampled
from the prior). Each must report its code, and its rendered diagnostics must
equal the ``.expected`` file, which only ``pytest --update-golden`` rewrites.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

import dslppl

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "bad"
CASES = sorted(GOLDEN.glob("check_*.ppl")) + sorted(GOLDEN.glob("bind_*.ppl"))


def _diagnose(path: Path) -> dslppl.DslError:
    data = path.with_suffix(".json")
    with pytest.raises(dslppl.DslError) as caught:
        model = dslppl.loads(path.read_text(), path.name)
        if data.exists():
            if "E0505" in path.name:
                model.sample_prior(data.name)
            else:
                model.bind(data.name)
    return caught.value


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_golden_semantic_error(path: Path, update_golden: bool, monkeypatch):
    monkeypatch.chdir(GOLDEN)  # data files are named relative to the golden folder in messages
    error = _diagnose(path)
    code = path.stem.split("_")[1]
    assert code in error.codes, f"{path.name} should report {code}, got {error.codes}"
    rendered = error.render() + "\n"
    expected = path.with_suffix(".expected")
    if update_golden:
        expected.write_text(rendered)
    assert expected.exists(), f"missing {expected.name}: run pytest --update-golden and review it"
    assert rendered == expected.read_text()


def test_every_error_code_has_a_golden_program():
    from dslppl.errors import CODES

    covered = {code for path in GOLDEN.glob("*.expected") for code in re.findall(r"\[(E\d{4})\]", path.read_text())}
    # Codes only reachable from the fit or an API call, tested where they arise:
    elsewhere = {"E0405", "E0408", "E0903", "E0904", "E0209", "E0109", "E0905", "E0810", "E0811", "E0906",
                 "E0907"}  # E081x, E0906: tests/discrete; E0907: tests/infer/test_fit_behaviour.py
    missing = sorted(c for c in CODES if c.startswith("E") and c not in covered | elsewhere)
    assert not missing, f"no golden bad program for {missing}"
