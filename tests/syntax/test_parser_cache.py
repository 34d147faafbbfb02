"""The parser's tables are built once and reused by later processes (`dslppl.syntax.parser`).

Each case is a fresh interpreter with its own cache directory. The cache must
never be needed: a directory that cannot be created, a damaged file and
processes racing to fill an empty cache all still parse.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PARSE = """
from dslppl.syntax import parse
from dslppl.syntax.parser import get_parser
program = parse("model m {\\n  mu ~ Normal(0, 1)\\n}\\n")
assert program.model.body[0].dist.func.id == "Normal"
print("cached" if get_parser().source_path == "<deserialized>" else "built")
"""


def start(cache: Path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT), DSLPPL_CACHE_DIR=str(cache))
    return subprocess.Popen([sys.executable, "-c", PARSE], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def parse_in_a_new_process(cache: Path) -> str:
    process = start(cache)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert err == ""  # nothing about the cache reaches the user
    return out.strip()


def cache_files(cache: Path) -> list[str]:
    return sorted(p.name for p in cache.iterdir()) if cache.is_dir() else []


def test_the_first_process_builds_and_later_ones_load(tmp_path):
    cache = tmp_path / "cache"
    assert parse_in_a_new_process(cache) == "built"
    files = cache_files(cache)
    assert len(files) == 1 and files[0].endswith(".lark")  # no temporary file left behind
    assert parse_in_a_new_process(cache) == "cached"
    assert cache_files(cache) == files


def test_without_a_usable_directory_the_parser_is_built(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert parse_in_a_new_process(blocker / "cache") == "built"  # cannot be created under a file
    assert parse_in_a_new_process(blocker / "cache") == "built"


def test_a_damaged_cache_file_is_rebuilt(tmp_path):
    cache = tmp_path / "cache"
    parse_in_a_new_process(cache)
    [name] = cache_files(cache)
    (cache / name).write_bytes(b"not a parser\n")
    assert parse_in_a_new_process(cache) == "built"
    assert parse_in_a_new_process(cache) == "cached"


def test_processes_racing_on_an_empty_cache_all_parse(tmp_path):
    cache = tmp_path / "cache"
    processes = [start(cache) for _ in range(4)]
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0 and out.strip() in ("built", "cached"), err
    assert len(cache_files(cache)) == 1
    assert parse_in_a_new_process(cache) == "cached"
