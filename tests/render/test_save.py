"""save: DOT text always; SVG/PNG/PDF through Graphviz's `dot`, with a clear error without it."""
from __future__ import annotations

import shutil

import pytest
from render_helpers import EXAMPLES, graph_of

import dslppl.render.files as files
from dslppl.render import DotNotFoundError, render, save

HAVE_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAVE_DOT, reason="Graphviz 'dot' is not installed")


@pytest.fixture(scope="module")
def eight():
    return render(graph_of(EXAMPLES[0].parent.joinpath("eight_schools.ppl").read_text()), sizes={"J": 8})


@pytest.mark.parametrize("suffix", [".dot", ".gv"])
def test_dot_text_needs_no_graphviz(eight, tmp_path, monkeypatch, suffix):
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot anywhere
    out = save(eight, tmp_path / f"eight{suffix}")
    assert out.read_text(encoding="utf-8") == eight.source


@pytest.mark.parametrize("suffix", ["svg", "png", "pdf"])
def test_missing_dot_says_how_to_install(eight, tmp_path, monkeypatch, suffix):
    monkeypatch.setattr(files.shutil, "which", lambda name: None)
    with pytest.raises(DotNotFoundError) as info:
        save(eight, tmp_path / f"eight.{suffix}")
    message = str(info.value)
    assert "apt-get install graphviz" in message and "brew install graphviz" in message
    assert f".{suffix}" in message and ".dot" in message
    assert not (tmp_path / f"eight.{suffix}").exists()


def test_missing_dot_on_an_empty_path(eight, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(DotNotFoundError):
        save(eight, tmp_path / "eight.svg")
    assert issubclass(DotNotFoundError, RuntimeError)


def test_unknown_suffix(eight, tmp_path):
    with pytest.raises(ValueError, match="use .dot, .gv, .svg, .png or .pdf"):
        save(eight, tmp_path / "eight.jpeg")


@needs_dot
@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_svg_for_every_example(example, tmp_path):
    graph = graph_of(example.read_text(), example.name)
    out = save(render(graph, guide=graph.guide is not None), tmp_path / f"{example.stem}.svg")
    text = out.read_text(encoding="utf-8")
    assert "<svg" in text and "</svg>" in text
    for variable in graph.checked.latents:
        assert variable.name in text


@needs_dot
@pytest.mark.parametrize("suffix", ["png", "pdf"])
def test_binary_formats(eight, tmp_path, suffix):
    out = save(eight, tmp_path / f"eight.{suffix}")
    magic = {"png": b"\x89PNG", "pdf": b"%PDF"}[suffix]
    assert out.read_bytes().startswith(magic)
