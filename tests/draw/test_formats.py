"""The DOT parses and renders, the Mermaid holds to its grammar, and the two agree with the diagram."""

from __future__ import annotations

import warnings
import xml.etree.ElementTree as ET

import pydot
import pytest
from draw_helpers import SPECS, check_mermaid, needs_dot

import archspec
from archspec.drawing import GraphvizNotFound, format_of
from archspec.drawing._diagram import BoxKind


def _parsed(dot: str) -> pydot.Dot:
    with warnings.catch_warnings():  # pydot 4.0.1 calls pyparsing 3.3's deprecated camelCase names
        warnings.simplefilter("ignore", DeprecationWarning)
        graphs = pydot.graph_from_dot_data(dot)
    assert graphs is not None and len(graphs) == 1
    return graphs[0]


def _all_nodes(graph: pydot.Dot) -> list[pydot.Node]:
    nodes = [n for n in graph.get_nodes() if n.get_name() not in ("node", "edge", "graph")]
    for sub in graph.get_subgraphs():
        nodes.extend(_all_nodes(sub))
    return nodes


def _clusters(graph: pydot.Dot) -> int:
    return sum(1 + _clusters(sub) for sub in graph.get_subgraphs())


@pytest.mark.parametrize(("spec", "depth"), [("nin.yaml", None), ("googlenet.yaml", 2), ("resnet18.yaml", 3)])
def test_the_dot_parses_with_a_node_per_box_an_edge_per_edge_and_a_cluster_per_open_scope(
    spec: str, depth: int | None
) -> None:
    drawing = archspec.draw(SPECS / spec, depth=depth)
    graph = _parsed(drawing.dot)
    boxes = drawing.diagram.boxes()
    assert sorted(n.get_name() for n in _all_nodes(graph)) == sorted(b.id for b in boxes)
    edges = [(e.get_source(), e.get_destination(), e.get("label")) for e in graph.get_edges()]
    assert edges == [(e.source, e.target, f"<{e.shape}>") for e in drawing.diagram.edges]
    open_scopes = {s.path for s in drawing.report.graph.scopes if depth is None or s.path.count(".") + 1 < depth}
    assert _clusters(graph) == len(open_scopes)


def test_mermaid_holds_to_its_grammar_and_matches_the_dot() -> None:
    drawing = archspec.draw(SPECS / "googlenet.yaml", depth=3, counts=True)
    kinds = check_mermaid(drawing.mermaid)
    assert len(kinds["node"]) == len(drawing.diagram.boxes())
    assert len(kinds["edge"]) == len(drawing.diagram.edges)
    assert len(kinds["subgraph"]) == drawing.dot.count("subgraph cluster_") > 0
    assert '["0 inception(c1=64, c2=#91;96, 128#93;, c3=#91;16, 32#93;, c4=32)"]' in drawing.mermaid


def test_merges_and_blocks_look_different_from_ops() -> None:
    drawing = archspec.draw(SPECS / "googlenet.yaml", depth=2)
    graph = _parsed(drawing.dot)
    shapes = {n.get_name(): n.get("shape") for n in _all_nodes(graph)}
    kinds = {b.id: b.kind for b in drawing.diagram.boxes()}
    assert {shapes[i] for i, k in kinds.items() if k is BoxKind.COLLAPSED} == {"box"}
    assert {shapes[i] for i, k in kinds.items() if k in (BoxKind.INPUT, BoxKind.OUTPUT)} == {"oval"}
    full = archspec.draw(SPECS / "googlenet.yaml")
    merge = next(b for b in full.diagram.boxes() if b.kind is BoxKind.MERGE)
    assert f"{merge.id} [label=<concat> fillcolor=" in full.dot and "shape=ellipse" in full.dot


def test_counts_are_drawn_only_when_asked() -> None:
    assert "params" not in archspec.draw(SPECS / "lenet_bn.yaml").dot.split("\n", 2)[2]
    assert "3,200 params" in archspec.draw(SPECS / "googlenet.yaml", depth=1, counts=True).dot


@needs_dot
@pytest.mark.parametrize(("spec", "depth"), [("googlenet.yaml", None), ("resnet18.yaml", 2), ("squeezenet1_1.yaml", 2)])
def test_dot_renders_svg(spec: str, depth: int | None) -> None:
    svg = archspec.draw(SPECS / spec, depth=depth).render("svg")
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = "".join(root.itertext())
    assert "[N, 3, 224, 224]" in texts or "[N, 1, 96, 96]" in texts


@needs_dot
def test_png_is_written_by_suffix(tmp_path) -> None:
    out = archspec.draw(SPECS / "lenet_bn.yaml", tmp_path / "net.png", depth=1)
    assert (tmp_path / "net.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert out.render("dot") == out.dot.encode()
    assert out._repr_svg_().startswith("<?xml")


def test_dot_and_mermaid_need_no_graphviz_and_svg_says_how_to_install_it(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot on it
    drawing = archspec.draw(SPECS / "lenet_bn.yaml", tmp_path / "net.dot")
    archspec.draw(SPECS / "lenet_bn.yaml", tmp_path / "net.mmd")
    assert (tmp_path / "net.dot").read_text() == drawing.dot
    assert (tmp_path / "net.mmd").read_text() == drawing.mermaid
    with pytest.raises(GraphvizNotFound, match=r"drawing SVG needs Graphviz's `dot`.*apt-get install graphviz"):
        drawing.render("svg")
    assert drawing._repr_svg_() is None  # Jupyter falls back to the repr
    assert repr(drawing) == "<Drawing of lenet_bn: 18 boxes, 17 edges>"


def test_a_file_name_that_names_no_format_is_refused_before_any_work(tmp_path) -> None:
    with pytest.raises(ValueError, match=r"expected a \.svg, \.png, \.dot or \.mmd file"):
        archspec.draw(tmp_path / "missing.yaml", tmp_path / "net.jpg")
    assert format_of("NET.SVG") == "svg"


def test_every_op_family_has_its_colour() -> None:
    from archspec.drawing._style import FILL
    from archspec.ops import REGISTRY

    families = {op.__module__.rsplit(".", 1)[-1] for op in REGISTRY.values()}
    assert families <= FILL.keys(), families - FILL.keys()
