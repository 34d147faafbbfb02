"""The long fuzz run (``make fuzz``): ``python tests/fuzz/run_fuzz.py COUNT [--seed S]``.

Prints a line per new failure signature and, at the end, the counts by stage and
by signature; exits 1 if any failure is not a known code-generation one.
"""
from __future__ import annotations

import argparse
import collections
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fuzzing import fuzz, known  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int, help="number of cases")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--budget", type=float, default=30.0, help="seconds per case before it counts as a hang")
    parser.add_argument("--show", type=int, default=1, help="reproducers printed per signature")
    parser.add_argument("--full-every", type=int, default=4,
                        help="every N-th case goes through bind, prior draws and a fit; the rest stop "
                             "after compilation")
    args = parser.parse_args()
    stages, signatures, shown = collections.Counter(), collections.Counter(), collections.Counter()
    start, slowest = time.time(), 0.0
    for i, outcome in enumerate(fuzz(args.count, args.seed, budget_s=args.budget, full_every=args.full_every), 1):
        stages[outcome.stage] += 1
        slowest = max(slowest, outcome.seconds)
        if outcome.failed:
            tag = "known" if known(outcome.error) else "NEW"
            signatures[(tag, outcome.signature)] += 1
            if shown[outcome.signature] < args.show:
                shown[outcome.signature] += 1
                print(f"--- {tag} {outcome.signature} ({outcome.case.origin}, stage {outcome.stage})\n"
                      f"{outcome.case.text}\n{outcome.trace[-1500:]}", flush=True)
        if i % 500 == 0:
            print(f"[{i} cases, {time.time() - start:.0f} s, {sum(signatures.values())} failures]", flush=True)
    print(f"\n{args.count} cases in {time.time() - start:.0f} s (slowest {slowest:.2f} s); last stage reached:")
    for stage, n in stages.most_common():
        print(f"  {stage:14} {n}")
    print("failures by signature:" if signatures else "no failures")
    for (tag, sig), n in signatures.most_common():
        print(f"  {n:6}  {tag:5} {sig}")
    return int(any(tag == "NEW" for tag, _ in signatures))


if __name__ == "__main__":
    sys.exit(main())
