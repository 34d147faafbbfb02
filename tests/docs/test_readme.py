"""README.md cannot rot: its code blocks run, its outputs are real, its references are complete.

Conventions the README follows (and this file enforces):

- ```python blocks run in order in one namespace, like a session, in a scratch
  directory where ``examples/`` is the repository's. A ```text block right after
  a block is its output: compared with what the block prints, with every number
  masked (fits and draws vary with the platform; names, shapes of tables and
  messages do not).
- ```sh blocks: each ``dslppl ...`` line runs through ``dslppl.cli.main(argv)``
  and must exit 0; each ``make TARGET`` line must name a target of the
  Makefile (``make test`` cannot run inside the tests; CI runs it).
- ```console blocks: each ``$ dslppl ...`` line runs, and the lines up to the
  next ``$`` must be exactly its output (stdout, then stderr).
- A ```ppl block whose first line is ``# NAME.ppl: ...`` is written to NAME.ppl
  in the scratch directory, for the commands that use it; every ```ppl block
  that is a full model must check.
- The command-line reference names every subcommand and option of the parser;
  the performance section quotes the committed ``benchmarks/results/*.md``
  tables verbatim; every relative link leads to a file (or heading).
"""
from __future__ import annotations

import argparse
import re
import shlex
import shutil

import pytest
from markdown_blocks import ROOT, Block, blocks, broken_links, following, section

import dslppl
from dslppl import cli

README = ROOT / "README.md"
TEXT = README.read_text(encoding="utf-8")
BLOCKS = blocks(TEXT)
RUNNABLE = [b for b in BLOCKS if b.lang in ("python", "sh", "console")]
NUMBER = re.compile(r"[-+]?\d+(\.\d+)?([eE][-+]?\d+)?")


def masked(text: str) -> list[str]:
    """Lines with every number replaced by '#' and runs of spaces collapsed."""
    return [re.sub(r"\s+", " ", NUMBER.sub("#", line)).strip() for line in text.strip("\n").splitlines()]


# --- the scratch directory and the session -----------------------------------------------

@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("readme")
    (directory / "examples").symlink_to(ROOT / "examples", target_is_directory=True)
    (directory / "docs" / "images").mkdir(parents=True)
    for block in BLOCKS:
        named = re.match(r"# (\S+\.ppl):", block.code)
        if block.lang == "ppl" and named:
            (directory / named.group(1)).write_text(block.code, encoding="utf-8")
    return directory


SESSION: dict = {"__name__": "__readme__"}
_RAN: set[int] = set()


def run_python(block: Block) -> None:
    """Run ``block`` in the session, after any earlier Python block that has not run yet."""
    for earlier in BLOCKS:
        if earlier.lang == "python" and earlier.start < block.start and earlier.start not in _RAN:
            run_python(earlier)
    _RAN.add(block.start)
    exec(compile(block.code, f"README.md:{block.line}", "exec"), SESSION)


def run_cli(line: str, capsys) -> tuple[int, str, str]:
    argv = shlex.split(line)
    assert argv[0] == "dslppl", line
    capsys.readouterr()
    status = cli.main(argv[1:])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return status, out, err


@pytest.mark.parametrize("block", RUNNABLE, ids=str)
def test_block_runs(block, workdir, monkeypatch, capsys):
    monkeypatch.chdir(workdir)
    if block.lang == "python":
        capsys.readouterr()
        run_python(block)
        printed = capsys.readouterr().out
        shown = following(TEXT, block, BLOCKS)
        if shown is not None and shown.lang == "text":
            assert masked(printed) == masked(shown.code)
    elif block.lang == "sh":
        for line in block.code.splitlines():
            command = line.split("#")[0].strip()
            if command.startswith("make "):
                target = command.split()[1]
                assert re.search(rf"^{re.escape(target)}:", (ROOT / "Makefile").read_text(), re.M), command
            elif command:
                status, _, err = run_cli(command, capsys)
                assert status == 0, err
    else:
        for command, expected in console_steps(block.code):
            status, out, err = run_cli(command, capsys)
            assert status != 3, err
            assert (out + err).rstrip("\n") == expected


def console_steps(code: str) -> list[tuple[str, str]]:
    """``($ command, the output lines after it)`` pairs of a console block."""
    steps: list[tuple[str, list[str]]] = []
    for line in code.rstrip("\n").splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        else:
            assert steps, "a console block starts with a '$ ' line"
            steps[-1][1].append(line)
    return [(command, "\n".join(lines)) for command, lines in steps]


def test_the_readme_has_runnable_blocks():
    kinds = {b.lang for b in RUNNABLE}
    assert kinds == {"python", "sh", "console"}


# --- models and pictures -------------------------------------------------------------------

def test_the_opening_model_is_the_example_file():
    opening = next(b for b in BLOCKS if b.lang == "ppl")
    example = (ROOT / "examples" / "eight_schools.ppl").read_text(encoding="utf-8")
    assert opening.code == re.sub(r"\A(#.*\n)+", "", example)


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.lang == "ppl"], ids=str)
def test_ppl_blocks(block):
    if "Normel" in block.code:  # the error-message example is broken on purpose
        with pytest.raises(dslppl.DslError):
            dslppl.loads(block.code)
    else:
        dslppl.loads(block.code)


def svg_text(svg: str) -> list[str]:
    return sorted(re.findall(r"<text[^>]*>([^<]*)</text>", svg))


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' is not installed")
def test_committed_picture_is_current(tmp_path, capsys):
    fresh = tmp_path / "eight_schools.svg"
    assert cli.main(["render", str(ROOT / "examples/eight_schools.ppl"), "--data",
                     str(ROOT / "examples/eight_schools.json"), "-o", str(fresh)]) == 0
    committed = (ROOT / "docs/images/eight_schools.svg").read_text(encoding="utf-8")
    assert svg_text(fresh.read_text(encoding="utf-8")) == svg_text(committed), (
        "docs/images/eight_schools.svg is stale: rerun the README's 'dslppl render' command")


# --- references ------------------------------------------------------------------------------

def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = cli._parser()
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(actions[0].choices)


@pytest.mark.parametrize("name", list(subcommands()))
def test_cli_reference_lists_every_option(name):
    reference = section(TEXT, "Command-line reference")
    match = re.search(rf"^### `dslppl {name}\b.*?(?=^### |\Z)", reference, re.M | re.S)
    assert match, f"the command-line reference has no section for 'dslppl {name}'"
    options = [o for a in subcommands()[name]._actions for o in a.option_strings if o not in ("-h", "--help")]
    missing = [o for o in options if not re.search(rf"`{re.escape(o)}[` ,]", match.group(0))]
    assert not missing, f"'dslppl {name}' options missing from the README: {missing}"


def tables(text: str) -> list[list[str]]:
    found, current = [], []
    for line in text.splitlines() + [""]:
        if line.startswith("|"):
            current.append(line)
        elif current:
            found.append(current)
            current = []
    return found


def test_performance_quotes_the_committed_results():
    performance = section(TEXT, "Performance")
    results = sorted((ROOT / "benchmarks" / "results").glob("*.md"))
    for path in results:
        assert f"(benchmarks/results/{path.name})" in performance, f"{path.name} is not quoted in the README"
    parts = re.split(r"\[benchmarks/results/[\w.-]+\.md\]\(benchmarks/results/([\w.-]+\.md)\)", performance)
    assert not tables(parts[0]), "a table in the performance section names no results file before it"
    for name, text in zip(parts[1::2], parts[2::2]):
        quoted = tables(text)
        assert quoted, f"no table follows the link to {name}"
        source = (ROOT / "benchmarks" / "results" / name).read_text(encoding="utf-8")
        for table in quoted:
            assert "\n".join(table) in source, (
                f"the README's table from benchmarks/results/{name} differs from the file: copy it again")


def test_links_lead_somewhere():
    assert broken_links(README) == []
