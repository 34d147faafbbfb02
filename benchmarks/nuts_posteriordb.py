"""NUTS on every translated posteriordb posterior, against the Stan reference draws.

Each posterior is sampled with the defaults (4 chains, 1000 warm-up + 1000
draws, diagonal metric, adapt_delta 0.8) and compared as
tests/posteriordb/nuts_reference.py says: every mean within 4 MCSE + 0.05
reference sd, sds within 10% where our bulk ESS >= 400, max R-hat < 1.01.
eight_schools_centered (a funnel) is run too and its divergences reported.

    python benchmarks/nuts_posteriordb.py [NAME ...] [--seed S]

Writes benchmarks/results/nuts_posteriordb.md.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _report import write_result  # noqa: E402
from tests.posteriordb.catalog import POSTERIORS  # noqa: E402
from tests.posteriordb.nuts_reference import sample_and_compare  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("names", nargs="*", help="posteriors to run (default: all)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    names = args.names or sorted(POSTERIORS, key=_expected_cost)
    rows, passed = [], 0
    for name in names:
        try:
            result = sample_and_compare(name, seed=args.seed)
        except Exception as error:  # noqa: BLE001 - a failing posterior is a row of the report
            rows.append([name, "error", "", "", "", "", f"{type(error).__name__}: {error}"[:200]])
            print(rows[-1], flush=True)
            _write(rows, passed, len(names))
            continue
        passed += result.passed
        rows.append([name, "pass" if result.passed else "FAIL", f"{result.seconds:.0f}",
                     f"{result.max_rhat:.3f}", f"{result.min_ess_bulk:.0f}", str(result.divergences),
                     "; ".join(result.failures[:3])])
        print(rows[-1], flush=True)
        _write(rows, passed, len(names))


# Well-conditioned posteriors first; then regressions on raw (uncentred) predictors, whose
# near-collinear coefficients need deep trees under a diagonal metric; then sequential and
# latent-state models, whose potentials are unrolled loops.
_QUICK = ("eight_schools", "arK", "sblr", "mesquite", "low_dim", "logearn_interaction_z",
          "kidiq_with_mom_work-kidscore_interaction_z", "gp_pois_regr-gp_regr")
_SLOW = ("arma", "garch", "hmm", "bball", "gp_pois_regr-gp_pois_regr", "diamonds", "kilpisjarvi")


def _expected_cost(name: str) -> tuple[int, str]:
    return (0 if name.startswith(_QUICK) or any(q in name for q in _QUICK) else
            2 if name.startswith(_SLOW) else 1, name)


def _write(rows: list[list[str]], passed: int, total: int) -> None:
    """The table so far (rewritten after every posterior, so a long run reports as it goes)."""
    write_result("nuts_posteriordb", f"NUTS on posteriordb: {passed} of {len(rows)} run pass ({total} posteriors)",
                 ["posterior", "result", "seconds", "max R-hat", "min bulk ESS", "divergences", "failures"],
                 rows, notes=["Defaults: 4 chains x (1000 warm-up + 1000 draws), diag metric, "
                              "adapt_delta 0.8, seed 0. Mean within 4 MCSE + 0.05 reference sd; "
                              "sd within 10% where bulk ESS >= 400; max R-hat < 1.01. "
                              "eight_schools_centered is a funnel: divergences are expected there."])


if __name__ == "__main__":
    main()
