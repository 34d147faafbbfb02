"""build_graph: nodes, kinds, edges, sizes, plates and cycles."""
from __future__ import annotations

import networkx as nx
import pytest
from graph_helpers import EIGHT_SCHOOLS, MODEL_PATHS, ROOT, graph_of, model_id

from dslppl.check import Kind, Variable
from dslppl.diagnostics import DslError
from dslppl.graph import ModelGraph, PlateInfo


# --- every model in the repository -----------------------------------------------------

@pytest.mark.parametrize("path", MODEL_PATHS, ids=model_id)
def test_every_model_builds_a_consistent_graph(path):
    graph = graph_of(path.read_text(), str(path))
    checked = graph.checked
    assert isinstance(graph, ModelGraph)
    # one node per model variable, holding the checker's Variable, in source order
    assert list(graph.dag)[-len(checked.variables):] == list(checked.variables)
    for name, variable in checked.variables.items():
        assert graph.dag.nodes[name]["var"] is variable
        assert isinstance(variable, Variable)
    assert nx.is_directed_acyclic_graph(graph.dag)
    for parent, child in graph.dag.edges:
        variable = graph.variable(child)
        assert parent in variable.parents, (parent, child)
        assert parent not in variable.sizes
    # plates: every plate of the checker, each with its members and printable domain
    assert set(graph.plates) == set(checked.plates)
    for index, plate in graph.plates.items():
        assert isinstance(plate, PlateInfo) and plate.index == index and plate.domain
        for member in plate.variables:
            assert index in {f.index for p in graph.variable(member).pieces for f in p.plates}
    # the topological order puts every name after its parents and sizes
    order = {name: i for i, name in enumerate(graph.topological_order())}
    assert set(order) == set(graph.dag)
    for parent, child in graph.dag.edges:
        assert order[parent] < order[child]
    for name in graph.dag:
        assert all(order[s] < order[name] for s in graph.sizes(name))


@pytest.mark.parametrize("path", MODEL_PATHS, ids=model_id)
def test_node_kinds_follow_the_statements(path):
    graph = graph_of(path.read_text(), str(path))
    for name, variable in graph.variables.items():
        stmt = variable.piece.stmt
        kind = {"DataDecl": Kind.DATA, "ParamDecl": Kind.PARAM, "Assign": Kind.DETERMINISTIC,
                "Factor": Kind.FACTOR}.get(type(stmt).__name__)
        if type(stmt).__name__ in ("Sample", "Declare"):
            kind = Kind.OBSERVED if variable.decl is not None else Kind.LATENT
        assert graph.kind(name) is kind, name


def test_examples_exist():
    assert len(MODEL_PATHS) >= 1, f"no models found under {ROOT}"


# --- eight schools ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def eight():
    return graph_of(EIGHT_SCHOOLS, "eight_schools.ppl")


def test_eight_schools_edges(eight):
    assert set(eight.dag.edges) == {("mu", "theta"), ("tau", "theta"), ("theta_raw", "theta"),
                                    ("theta", "y"), ("sigma", "y")}


def test_eight_schools_kinds(eight):
    kinds = {name: eight.kind(name) for name in eight.dag}
    assert kinds == {"J": Kind.DATA, "y": Kind.OBSERVED, "sigma": Kind.DATA, "mu": Kind.LATENT,
                     "tau": Kind.LATENT, "theta_raw": Kind.LATENT, "theta": Kind.DETERMINISTIC}


def test_eight_schools_plate(eight):
    plate = eight.plates["j"]
    assert (plate.index, plate.domain, plate.outer, plate.label) == ("j", "J", (), "j ∈ J")
    assert set(plate.variables) == {"theta_raw", "theta", "y"}
    assert eight.plates_of("theta") == ("j",) and eight.plates_of("mu") == ()


def test_sizes_are_not_edges(eight):
    assert "J" not in set(eight.dag.predecessors("theta_raw"))
    assert eight.sizes("theta_raw") == ["J"]
    assert eight.children("J") == []


def test_eight_schools_topological_order_breaks_ties_by_source_order(eight):
    assert eight.topological_order() == ["J", "sigma", "mu", "tau", "theta_raw", "theta", "y"]


def test_shape_reads_are_sizes():
    graph = graph_of("data K: int\n beta: real[K] ~ Normal(0, 1)\n data y: real\n y ~ Normal(sum(beta), 1)")
    assert list(graph.dag.edges) == [("beta", "y")]
    assert graph.sizes("beta") == ["K"]
    assert graph.topological_order().index("K") < graph.topological_order().index("beta")


# --- bounds, loops and guides ----------------------------------------------------------------

def test_garch_bound_is_an_edge():
    graph = graph_of((ROOT / "tests/posteriordb/models/garch-garch11.ppl").read_text())
    assert graph.dag.has_edge("alpha1", "beta1")
    assert graph.parents("beta1") == ["alpha1"]


def test_lagged_reads_between_loop_arrays_are_kept_aside():
    graph = graph_of((ROOT / "tests/posteriordb/models/garch-garch11.ppl").read_text())
    assert graph.dag.has_edge("sigma", "y")            # y[t] ~ Normal(mu, sigma[t])
    assert not graph.dag.has_edge("y", "sigma")        # sigma[t] reads y[t - 1]
    assert ("y", "sigma") in graph.lagged
    assert "y" in graph.parents("sigma") and "sigma" in graph.children("y")


def test_bound_on_a_latent_from_another_latent():
    graph = graph_of("a ~ Normal(0, 1)\n b: real<lower=a> ~ Normal(0, 1)")
    assert list(graph.dag.edges) == [("a", "b")]


def test_guide_graph():
    graph = graph_of((ROOT / "examples/eight_schools_guide.ppl").read_text())
    guide = graph.guide
    assert guide is not None and guide.is_guide and not graph.is_guide
    assert guide.kind("mu_loc") is Kind.PARAM and guide.kind("mu") is Kind.LATENT
    assert set(guide.dag.edges) >= {("mu_loc", "mu"), ("mu_scale", "mu"), ("theta_loc", "theta_raw")}
    assert guide.plates["j"].domain == "J"
    # the model's data that the guide reads appear as the model's own variables
    assert guide.variable("J") is graph.variable("J")


def test_model_without_guide():
    assert graph_of("a ~ Normal(0, 1)").guide is None


# --- cycles ---------------------------------------------------------------------------------

def test_cycle_error_names_members_and_locations():
    text = "model m {\n  a = b + 1\n  b = a * 2\n}\n"
    with pytest.raises(DslError) as info:
        graph_of(text, "cyc.ppl")
    (diagnostic,) = info.value.diagnostics
    assert diagnostic.code == "E0601"
    assert diagnostic.message == "definitions form a cycle: a -> b -> a"
    assert [(n.message, n.span.line) for n in diagnostic.notes] == [("'a' is defined here", 2),
                                                                   ("'b' is defined here", 3)]
    rendered = info.value.render()
    assert rendered.startswith("cyc.ppl:2:3: error: definitions form a cycle: a -> b -> a [E0601]\n  a = b + 1\n  ^")


def test_cycle_follows_edge_direction():
    with pytest.raises(DslError) as info:
        graph_of("a = c + 1\n b = a + 1\n c = b + 1")
    assert info.value.diagnostics[0].message == "definitions form a cycle: a -> b -> c -> a"


def test_cycle_through_a_distribution():
    with pytest.raises(DslError) as info:
        graph_of("x ~ Normal(y, 1)\n y ~ Normal(x, 1)")
    assert info.value.codes == ["E0601"]


def test_every_cycle_is_reported():
    with pytest.raises(DslError) as info:
        graph_of("a = b\n b = a\n c ~ Normal(0, 1)\n d = e\n e = d * c")
    assert [d.message for d in info.value.diagnostics] == [
        "definitions form a cycle: a -> b -> a", "definitions form a cycle: d -> e -> d"]


def test_self_reference_is_a_cycle():
    with pytest.raises(DslError) as info:
        graph_of("a = a + 1")
    assert info.value.diagnostics[0].message == "definitions form a cycle: a -> a"


def test_loop_reading_the_current_element_is_a_cycle():
    with pytest.raises(DslError) as info:
        graph_of("data T: int\n x[0] = 1\n for t in 1..T { x[t] = x[t] + 1 }")
    assert info.value.codes == ["E0601"]


def test_loop_reading_earlier_elements_is_no_cycle():
    graph = graph_of("data T: int\n x[0] = 1.0\n for t in 1..T { x[t] = x[t - 1] * 2 }")
    assert list(graph.dag.edges) == []


def test_observation_reading_its_earlier_values_is_no_cycle():
    graph = graph_of((ROOT / "examples/ar_k.ppl").read_text())
    assert not graph.dag.has_edge("y", "y")
