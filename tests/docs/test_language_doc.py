"""docs/language.md against the implementation.

- every ```ppl block that starts with ``model`` (a full model) parses, checks
  and compiles;
- every ```python block runs (anything it registers is removed again);
- the function table lists exactly the library's functions, with their kinds,
  and the distribution table exactly its distributions, each with the call
  signature, support and event rank the library gives it;
- every error code the page names exists, and every link leads somewhere.
"""
from __future__ import annotations

import inspect
import re

import pytest
from markdown_blocks import ROOT, blocks, broken_links, section, table_rows

import dslppl
from dslppl.errors import CODES
from dslppl.library import DISTRIBUTIONS, FUNCTIONS, unregister_distribution, unregister_function
from dslppl.library import functions as function_table

PAGE = ROOT / "docs" / "language.md"
TEXT = PAGE.read_text(encoding="utf-8")
BLOCKS = blocks(TEXT)
MODELS = [b for b in BLOCKS if b.lang == "ppl" and re.sub(r"(?m)^\s*#.*$", "", b.code).lstrip().startswith("model")]
PYTHON = [b for b in BLOCKS if b.lang == "python"]


def test_the_page_has_examples():
    assert len(MODELS) >= 6 and PYTHON


@pytest.mark.parametrize("block", MODELS, ids=str)
def test_model_blocks_check_and_compile(block):
    model = dslppl.loads(block.code, f"docs/language.md:{block.line}")
    assert model.factorization().startswith("p(")
    compile(model.source, "generated", "exec")


@pytest.mark.parametrize("block", PYTHON, ids=str)
def test_python_blocks_run(block, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    functions, distributions = set(FUNCTIONS), set(DISTRIBUTIONS)
    try:
        exec(compile(block.code, f"docs/language.md:{block.line}", "exec"), {"__name__": "__doc__"})
    finally:
        for name in set(FUNCTIONS) - functions:
            unregister_function(name)
        for name in set(DISTRIBUTIONS) - distributions:
            unregister_distribution(name)


def unquote(cell: str) -> str:
    return cell.strip("`").replace("\\|", "|")


def test_function_table_lists_the_library():
    rows = table_rows(section(TEXT, "8. Functions"), "| function |")
    documented = {unquote(row[0]): row[1] for row in rows}
    builtin = function_table.BUILTIN_FUNCTIONS
    assert sorted(documented) == sorted(builtin)
    assert len(rows) == len(documented), "a function is listed twice"
    for name, kind in documented.items():
        assert kind == builtin[name].kind.value, name
    for row in rows:
        assert unquote(row[2]).startswith(unquote(row[0]) + "("), f"the arguments of {row[0]} name another function"


def signature(spec) -> str:
    """How docs/language.md writes a distribution's call: ``Binomial(total_count, probs | logits=)``."""
    defaults = inspect.signature(spec.factory.__init__).parameters
    groups = {p: g for g in spec.alternatives for p in g}
    parts, seen = [], set()
    for p in spec.params:
        if p in groups:
            if groups[p] not in seen:
                seen.add(groups[p])
                parts.append(" | ".join(q if q in spec.positional_params() else f"{q}=" for q in groups[p]))
        elif p in spec.required:
            parts.append(p)
        else:
            default = defaults[p].default
            parts.append(f"{p}={default:g}" if isinstance(default, float) else f"{p}={default}")
    return f"{spec.name}({', '.join(parts)})"


def test_distribution_table_lists_the_library():
    rows = table_rows(section(TEXT, "9. Distributions"), "| distribution |")
    documented = {unquote(row[0]).split("(")[0]: row for row in rows}
    assert sorted(documented) == sorted(DISTRIBUTIONS)
    assert len(rows) == len(documented), "a distribution is listed twice"
    for name, (call, support, event_rank) in documented.items():
        spec = DISTRIBUTIONS[name]
        assert unquote(call) == signature(spec)
        assert support == spec.support.value, name
        assert int(event_rank) == spec.event_rank, name


def test_error_codes_named_on_the_page_exist():
    reported = set()
    for path in (ROOT / "dslppl").rglob("*.py"):
        reported |= set(re.findall(r"[\"']([EW]\d{4})[\"']", path.read_text(encoding="utf-8")))
    named = set(re.findall(r"\b([EW]\d{4})\b", TEXT))
    assert named and not named - (set(CODES) | reported)


def test_links_lead_somewhere():
    assert broken_links(PAGE) == []


def test_limits_table_states_the_library_limits():
    from dslppl.binding.data import MAX_EXTENT
    from dslppl.check.constants import INT_MAX
    from dslppl.check.limits import MAX_ARRAY_NESTING, MAX_BLOCK_NESTING, MAX_EXPRESSION_DEPTH
    from dslppl.cli import MAX_SAMPLES
    from dslppl.source import MAX_FILE_BYTES

    rows = {}
    for line in PAGE.read_text().split("### Limits", 1)[1].split("\n## ", 1)[0].splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 3 and cells[1] not in ("value", "---"):
            rows[cells[0]] = cells[1]
    assert int(rows["expression nesting (a chain `a + b + c` counts once)"]) == MAX_EXPRESSION_DEPTH
    assert int(rows["array literals inside each other"]) == MAX_ARRAY_NESTING
    assert int(rows["plates and `for` loops inside each other"]) == MAX_BLOCK_NESTING
    assert eval(rows["an integer constant or literal arithmetic result"]) == INT_MAX
    assert eval(rows["elements along one dimension, steps of one domain"]) == MAX_EXTENT
    assert rows["a model or data file"] == f"{MAX_FILE_BYTES // 2 ** 20} MiB"
    assert int(rows["draws per command (`-n`, `--num-samples`)"].replace(",", "")) == MAX_SAMPLES
