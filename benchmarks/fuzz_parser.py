"""Fuzz the parser: random and mutated programs must parse or raise DslError, nothing else.

Usage::

    python benchmarks/fuzz_parser.py [--count 100000] [--seed 0] [--show 5]

Inputs (fixed seed, so a run is reproducible): token soup from the language's
vocabulary, random characters, and valid programs (the tests' corpus, the
repository's examples, random ASTs pretty-printed) that are truncated or edited
by deleting, inserting, swapping or duplicating tokens and characters. Prints
how many inputs parsed, how many raised DslError (by code), the crashes (any
other exception) with a few examples, and the throughput. Exits 1 on a crash.
"""
from __future__ import annotations

import argparse
import collections
import random
import sys
import time
import traceback
from pathlib import Path

from dslppl.diagnostics import DslError
from dslppl.syntax import parse, pretty
from dslppl.syntax.lexer import raw_tokens

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "syntax"))
from syntax_helpers import CORPUS, corpus_files, random_program  # noqa: E402

VOCABULARY = ["model", "guide", "data", "param", "plate", "for", "in", "factor", "true", "false",
              "and", "or", "not", "x", "y", "Normal", "sum", "0", "1", "2.5", "1e-3", "(", ")", "[",
              "]", "{", "}", "<", ">", "<=", "=", "==", "!=", "~", ":", ",", ";", "..", "+", "-", "*",
              "/", "%", "^", "**", "@", "\n", " ", "  ", "# c\n", "$", "'", "\"", "α", "\t", "1.", ".5",
              "\r\n", "\x00", "!", "&&"]
CHARS = "abxyzN_019.,;:~=<>!+-*/%^@()[]{}#\n\t \r'\"$\\αβ∑\x00\x7f\ufeff"


def seeds(rng: random.Random) -> list[str]:
    """Valid programs to mutate."""
    texts = list(CORPUS.values()) + [path.read_text() for path in corpus_files()]
    texts += [pretty(random_program(rng)) for _ in range(50)]
    return texts


def pieces(text: str) -> list[str]:
    """The text cut at token boundaries, so that joining the pieces gives it back."""
    toks = list(raw_tokens(text))
    cuts = sorted({0, len(text)} | {t.start_pos for t in toks} | {t.end_pos for t in toks})
    return [text[a:b] for a, b in zip(cuts, cuts[1:])]


def mutate_tokens(rng: random.Random, parts: list[str]) -> str:
    parts = list(parts)
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(len(parts)) if parts else 0
        kind = rng.randrange(5)
        if kind == 0 and parts:
            del parts[i]
        elif kind == 1:
            parts.insert(i, rng.choice(VOCABULARY))
        elif kind == 2 and i + 1 < len(parts):
            parts[i], parts[i + 1] = parts[i + 1], parts[i]
        elif kind == 3 and parts:
            parts.insert(i, parts[i])
        elif parts:
            parts[i] = rng.choice(VOCABULARY)
    return "".join(parts)


def mutate_chars(rng: random.Random, text: str) -> str:
    for _ in range(rng.randint(1, 4)):
        i = rng.randrange(len(text) + 1)
        kind = rng.randrange(4)
        if kind == 0:
            text = text[:i] + text[i + 1:]
        elif kind == 1:
            text = text[:i] + rng.choice(CHARS) + text[i:]
        elif kind == 2:
            text = text[:i] + rng.choice(CHARS) + text[i + 1:]
        else:
            text = text[:i] + text[i + 1:i + 2] + text[i:i + 1] + text[i + 2:]
    return text


def inputs(rng: random.Random, count: int):
    valid = seeds(rng)
    cut = [pieces(text) for text in valid]
    for n in range(count):
        kind = n % 6
        k = rng.randrange(len(valid))
        if kind == 0:
            yield "".join(rng.choice(VOCABULARY) for _ in range(rng.randrange(60)))
        elif kind == 1:
            yield "".join(rng.choice(CHARS) for _ in range(rng.randrange(80)))
        elif kind in (2, 3):
            yield mutate_tokens(rng, cut[k])
        elif kind == 4:
            yield mutate_chars(rng, valid[k])
        else:
            yield valid[k][:rng.randrange(len(valid[k]) + 1)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=100_000, help="number of inputs (default 100000)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--show", type=int, default=5, help="crash examples to print")
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    codes: collections.Counter[str] = collections.Counter()
    crashes: list[tuple[str, str]] = []
    parsed = 0
    start = time.perf_counter()
    for text in inputs(rng, args.count):
        try:
            parse(text, "fuzz.ppl")
            parsed += 1
        except DslError as err:
            codes.update(err.codes)
        except Exception:  # noqa: BLE001 - any other exception is the bug we look for
            crashes.append((text, traceback.format_exc(limit=4)))
    elapsed = time.perf_counter() - start
    print(f"inputs:   {args.count:,} (seed {args.seed})")
    print(f"parsed:   {parsed:,}")
    print(f"DslError: {sum(codes.values()):,}  " + ", ".join(f"{c} {n:,}" for c, n in sorted(codes.items())))
    print(f"crashes:  {len(crashes):,}")
    for text, trace in crashes[:args.show]:
        print(f"--- input {text!r}\n{trace}")
    print(f"time:     {elapsed:.1f} s, {args.count / elapsed:,.0f} inputs/s")
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
