"""render: node styles, labels, plates (nested and overlapping), loops and guides, in DOT text."""
from __future__ import annotations

import re

import pytest
from render_helpers import MODEL_PATHS, ROOT, graph_of, model_id

from dslppl.check import Kind
from dslppl.render import node_label, render

EIGHT = (ROOT / "examples/eight_schools.ppl").read_text()
_ATTR = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|[^\s\]]+)')
_NODE = re.compile(r'^\s*("(?:[^"\\]|\\.)*"|[\w/]+) \[(.*)\]$')


def nodes(dot) -> dict[str, dict[str, str]]:
    """Node name -> attributes, read back from the DOT text."""
    found = {}
    for line in dot.source.splitlines():
        match = _NODE.match(line)
        if match and "->" not in line and match.group(1) not in ("graph", "node", "edge"):
            found[match.group(1).strip('"')] = {k: v.strip('"') for k, v in _ATTR.findall(match.group(2))}
    return found


def clusters(dot) -> dict[str, tuple[str, ...]]:
    """Node name -> the clusters it is drawn in, outermost first."""
    stack: list[str] = []
    placed = {}
    for line in dot.source.splitlines():
        line = line.strip()
        if line.startswith("subgraph "):
            stack.append(line.split()[1])
        elif line == "}":
            if stack:
                stack.pop()
        elif (match := _NODE.match(line)) and "->" not in line and match.group(1) not in ("graph", "node", "edge"):
            placed[match.group(1).strip('"')] = tuple(stack)
    return placed


def cluster_labels(dot) -> dict[str, str]:
    labels, current = {}, None
    for line in dot.source.splitlines():
        line = line.strip()
        if line.startswith("subgraph "):
            current = line.split()[1]
        elif current and "label=" in line and "[" not in line:
            labels[current] = dict(_ATTR.findall(line))["label"].strip('"')
    return labels


def edges(dot) -> dict[tuple[str, str], dict[str, str]]:
    found = {}
    for line in dot.source.splitlines():
        match = re.match(r'^\s*("?[\w/]+"?) -> ("?[\w/]+"?)(?: \[(.*)\])?$', line)
        if match:
            found[(match.group(1).strip('"'), match.group(2).strip('"'))] = dict(
                (k, v.strip('"')) for k, v in _ATTR.findall(match.group(3) or ""))
    return found


# --- kinds and labels ------------------------------------------------------------------------

def test_node_style_per_kind():
    dot = render(graph_of("data x: real\n data y: real\n param w: real = 0\n a ~ Normal(w, 1)\n"
                          " m = a * x\n y ~ Normal(m, 1)\n factor f = -a ^ 2"))
    found = nodes(dot)
    assert (found["a"]["shape"], found["a"]["style"], found["a"]["fillcolor"]) == ("ellipse", "filled", "white")
    assert (found["y"]["shape"], found["y"]["style"], found["y"]["fillcolor"]) == ("ellipse", "filled", "gray")
    assert found["x"]["shape"] == "box"
    assert (found["m"]["shape"], found["m"]["style"]) == ("ellipse", "dashed")
    assert found["w"]["shape"] == "plain"
    assert found["f"]["shape"] == "octagon"


def test_eight_schools_labels_and_edges():
    dot = render(graph_of(EIGHT))
    found = nodes(dot)
    assert found["mu"]["label"] == "mu ~ Normal(0, 5)"
    assert found["tau"]["label"] == "tau ~ HalfCauchy(5)"
    assert found["theta"]["label"] == "theta = mu + tau * theta_raw[j]"
    assert found["y"]["label"] == "y ~ Normal(theta[j], sigma[j])"
    assert found["sigma"]["label"] == "sigma"
    assert "J" not in found  # a size only: the plate label shows it
    assert set(edges(dot)) == {("mu", "theta"), ("tau", "theta"), ("theta_raw", "theta"),
                               ("theta", "y"), ("sigma", "y")}


def test_names_only():
    found = nodes(render(graph_of(EIGHT), distributions=False))
    assert {name: attrs["label"] for name, attrs in found.items()} == {n: n for n in found}


def test_declared_types_and_params_in_labels():
    found = nodes(render(graph_of("param loc: real[3] = 0\n s: positive ~ Cauchy(0, 1)\n"
                                  " b: real<lower=0, upper=1 - s>\n c: real[3] ~ Normal(loc, s)")))
    assert found["loc"]["label"] == "loc: real[3]"
    assert found["s"]["label"] == "s: positive ~ Cauchy(0, 1)"
    assert found["b"]["label"] == "b: real<lower=0, upper=1 - s>"
    assert found["c"]["label"] == "c ~ Normal(loc, s)"


def test_long_definitions_wrap_and_shorten():
    graph = graph_of("a ~ Normal(0, 1)\n b ~ Normal(0, 1)\n"
                     " y = a + b * a + exp(a) * exp(b) + exp(a + b) * log1p(exp(a * b)) + sqrt(a * a + b * b)")
    label = node_label(graph.variable("y"))
    head, body = label.split("\\n")
    assert head == "y =" and body.endswith("…") and len(body) <= 56


def test_distribution_keywords_in_labels():
    found = nodes(render(graph_of((ROOT / "examples/logistic_regression.ppl").read_text())))
    assert found["y"]["label"] == "y ~ Bernoulli(logits=X @ beta + alpha)"


# --- plates ---------------------------------------------------------------------------------------

def test_plate_cluster_label_and_placement():
    dot = render(graph_of(EIGHT))
    placed = clusters(dot)
    assert placed["theta_raw"] == placed["theta"] == placed["y"] == ("cluster_j",)
    assert placed["sigma"] == ("cluster_j",)  # read as sigma[j]: drawn in the plate
    assert placed["mu"] == placed["tau"] == ()
    assert cluster_labels(dot) == {"cluster_j": "j ∈ J"}
    assert "labeljust=r labelloc=b" in dot.source


@pytest.mark.parametrize("sizes", [{"J": 8}, {"j": 8}])
def test_plate_sizes(sizes):
    assert cluster_labels(render(graph_of(EIGHT), sizes=sizes)) == {"cluster_j": "j ∈ J = 8"}


def test_range_plate_label():
    graph = graph_of((ROOT / "examples/ar_k.ppl").read_text())
    assert cluster_labels(render(graph)) == {"cluster_t": "t ∈ K..T"}
    assert cluster_labels(render(graph, sizes={"K": 2, "T": 100})) == {"cluster_t": "t ∈ K..T = 2..100"}


def test_nested_plates_nest_clusters():
    dot = render(graph_of("data I: int\n data K: int\n data x: real[I, K]\n mu ~ Normal(0, 1)\n"
                          " plate i in I { a[i] ~ Normal(mu, 1)\n"
                          "  plate k in K { z[i, k] ~ Normal(a[i] + x[i, k], 1) } }"))
    placed = clusters(dot)
    assert placed["mu"] == ()
    assert placed["a"] == ("cluster_i",)
    assert placed["z"] == placed["x"] == ("cluster_i", "cluster_k")
    assert cluster_labels(dot) == {"cluster_i": "i ∈ I", "cluster_k": "k ∈ K"}


def test_overlapping_plates_are_drawn_not_refused():
    # y is in plates i and k; a only in i, b only in k: k is drawn twice, once inside i
    dot = render(graph_of("data I: int\n data K: int\n data y: real[I, K]\n"
                          " plate i in I { a[i] ~ Normal(0, 1)\n u[i] ~ Normal(0, 1) }\n"
                          " plate k in K { b[k] ~ Normal(0, 1) }\n"
                          " plate i in I { plate k in K { y[i, k] ~ Normal(a[i] + u[i] + b[k], 1) } }"))
    placed = clusters(dot)
    assert placed["a"] == placed["u"] == ("cluster_i",)
    assert placed["y"] == ("cluster_i", "cluster_i_k")
    assert placed["b"] == ("cluster_k",)
    assert cluster_labels(dot) == {"cluster_i": "i ∈ I", "cluster_i_k": "k ∈ K", "cluster_k": "k ∈ K"}
    assert set(edges(dot)) == {("a", "y"), ("u", "y"), ("b", "y")}


def test_overlap_nests_the_plate_with_more_members_outside():
    # written k-outside, but plate i holds more variables: i becomes the outer cluster
    dot = render(graph_of("data I: int\n data K: int\n data y: real[K, I]\n"
                          " plate k in K { plate i in I { y[k, i] ~ Normal(a[i], 1) } }\n"
                          " plate i in I { a[i] ~ Normal(0, 1)\n c[i] ~ Normal(0, 1) }"))
    placed = clusters(dot)
    assert placed["a"] == placed["c"] == ("cluster_i",)
    assert placed["y"] == ("cluster_i", "cluster_k")


# --- loops and guides -----------------------------------------------------------------------------

def test_sequential_array_lists_pieces_and_loops_with_a_self_edge():
    dot = render(graph_of((ROOT / "examples/random_walk.ppl").read_text()))
    found = nodes(dot)
    assert found["x"]["label"] == "x[0] ~ Normal(0, 2)\\nx[t] ~ Normal(x[t - 1], s)\\nfor t ∈ 1..T"
    assert edges(dot)[("x", "x")] == {"style": "dashed"}
    assert clusters(dot)["x"] == ()


def test_lagged_read_is_a_dashed_edge():
    dot = render(graph_of((ROOT / "tests/posteriordb/models/garch-garch11.ppl").read_text()))
    found = edges(dot)
    assert found[("y", "sigma")] == {"constraint": "false", "style": "dashed"}
    assert found[("sigma", "y")] == {}
    assert found[("alpha1", "beta1")] == {}


def test_guide_beside_the_model():
    graph = graph_of((ROOT / "examples/eight_schools_guide.ppl").read_text())
    dot = render(graph, guide=True, sizes={"J": 8})
    placed = clusters(dot)
    assert placed["mu"] == ("cluster_model",)
    assert placed["y"] == ("cluster_model", "cluster_j")
    assert placed["guide/mu"] == ("cluster_guide",)
    assert placed["guide/theta_raw"] == ("cluster_guide", "cluster_guide_j")
    assert nodes(dot)["guide/mu_loc"] == {"label": "mu_loc: real", "shape": "plain"}
    assert ("guide/theta_loc", "guide/theta_raw") in edges(dot)
    assert cluster_labels(dot)["cluster_guide_j"] == "j ∈ J = 8"
    # without guide=True only the model is drawn
    assert "guide/mu" not in render(graph).source


def test_guide_requested_without_a_guide_block():
    with pytest.raises(ValueError, match="has no guide block"):
        render(graph_of(EIGHT), guide=True)


# --- every model ------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", MODEL_PATHS, ids=model_id)
def test_every_model_renders_deterministically(path):
    graph = graph_of(path.read_text(), str(path))
    dot = render(graph)
    assert dot.source == render(graph_of(path.read_text(), str(path))).source
    found, placed = nodes(dot), clusters(dot)
    sizes = set().union(*graph.sizes_of.values())
    for name in graph.dag:
        if name not in found:  # only sizes that feed no model variable are left out
            assert graph.kind(name) is Kind.DATA and name in sizes, name
        elif graph.kind(name) is not Kind.DATA:
            assert len(placed[name]) == len(graph.plates_of(name)), name
    for parent, child in graph.dag.edges:
        if parent in found:
            assert (parent, child) in edges(dot)


def test_literal_plate_size_is_not_repeated():
    dot = render(graph_of("plate k in 3 { z[k] ~ Normal(0, 1) }"), sizes={"J": 8})
    assert cluster_labels(dot) == {"cluster_k": "k ∈ 3"}


def test_dot_keywords_as_model_names_are_quoted():
    dot = render(graph_of("node ~ Normal(0, 1)\n edge = node + 1\n plate subgraph in 3 { digraph[subgraph] ~ Normal(edge, 1) }"))
    assert '"node" -> "edge"' in dot.source and '"edge" -> "digraph"' in dot.source
    assert "subgraph cluster_subgraph {" in dot.source
