"""The fuzzer's short run: every case ends in success or a located `DslError`, within budget.

2000 seeded cases: all through parse, check and compilation, every 25th also through
bind, prior draws and a 5-step fit. A failure that is a known code-generation crash
(`fuzzing.KNOWN_CODEGEN`, KNOWN_CODEGEN.md) makes the test xfail; any other fails it.
The long run is ``make fuzz``.
"""
import collections

import pytest

from fuzzing import fuzz, known

CASES, FULL_EVERY, SEED, BUDGET_S = 2000, 25, 2026, 15.0


def test_fuzzed_programs_end_in_success_or_a_located_error():
    failures = [o for o in fuzz(CASES, SEED, budget_s=BUDGET_S, full_every=FULL_EVERY) if o.failed]
    new = [o for o in failures if known(o.error) is None]
    if new:
        first = new[0]
        groups = collections.Counter(o.signature for o in new)
        pytest.fail(f"{len(new)} unexpected failures: {dict(groups)}\nfirst ({first.case.origin}, stage "
                    f"{first.stage}):\n{first.case.text}\n{first.trace}")
    if failures:
        kinds = collections.Counter(known(o.error).message for o in failures)
        pytest.xfail(f"known code-generation crashes (tests/fuzz/KNOWN_CODEGEN.md): {dict(kinds)}")


def test_signatures_blank_numbers_and_names():
    from fuzzing import signature

    assert signature(ValueError("bad 'mu' at 3.5")) == "ValueError: bad '_' at #"
