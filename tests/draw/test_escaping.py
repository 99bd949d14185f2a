"""Nothing in a spec can break the DOT, the SVG or the Mermaid, or bring markup into them."""

from __future__ import annotations

import html
import re
import warnings
import xml.etree.ElementTree as ET

import pydot
import pytest
from draw_helpers import HOSTILE, check_mermaid, hostile_graph, needs_dot

import archspec
from archspec.drawing._text import html_label, mermaid_text, plain

HOSTILE_SPEC = {
    "archspec": 1,
    "name": "net",
    "doc": HOSTILE,
    "input": ["N", 3, 8, 8],
    "params": {"tag": HOSTILE},
    "blocks": {"tagged(label, c)": ["conv(c, 3, padding=1)", "relu"]},
    "network": {"stem": "tagged(tag, 4)", "head": "flatten -> linear(2)"},
}


def test_plain_text_is_one_inert_line() -> None:
    text = plain(HOSTILE)
    assert "\n" not in text and "\u202e" not in text and "\u200b" not in text
    assert text.endswith("\\u202e\\u200b")
    assert len(plain("x" * 10_000)) == 300


def test_html_labels_escape_markup_and_are_ascii() -> None:
    label = html_label(HOSTILE + "é")
    assert not re.search(r"[<>\"']", label)
    assert label.isascii()
    assert html.unescape(label).replace("\\\\", "\\") == plain(HOSTILE + "é")
    assert "\\\\N" in label  # Graphviz would expand a single \N to the node's name


def test_mermaid_text_writes_every_character_that_is_syntax_as_an_entity() -> None:
    text = mermaid_text(HOSTILE)
    assert re.fullmatch(r"(?:[A-Za-z0-9 ._,:=+\-*/()]|#\d+;)*", text)
    assert "%%" not in text and "`" not in text and '"' not in text
    decoded = re.sub(r"#(\d+);", lambda m: chr(int(m.group(1))), text)
    assert decoded == plain(HOSTILE)


@pytest.mark.parametrize("depth", [None, 1, 3])
def test_hostile_names_calls_and_docs_stay_labels_in_the_dot(depth: int | None) -> None:
    drawing = archspec.draw(hostile_graph("nin.yaml"), depth=depth)
    with warnings.catch_warnings():  # pydot 4.0.1 calls pyparsing 3.3's deprecated camelCase names
        warnings.simplefilter("ignore", DeprecationWarning)
        (graph,) = pydot.graph_from_dot_data(drawing.dot)
    # as many statements as boxes and edges: none was injected
    assert len(graph.get_edges()) == len(drawing.diagram.edges)
    assert drawing.dot.count(" -> ") == len(drawing.diagram.edges)
    ids = re.findall(r"^\s*(n\d+) \[label=", drawing.dot, re.M)
    assert sorted(ids) == sorted(b.id for b in drawing.diagram.boxes())
    assert "<script>" not in drawing.dot
    assert re.search(r"(?<!\\)(\\\\)*\\N", drawing.dot) is None  # every backslash doubled


@pytest.mark.parametrize("depth", [None, 2])
def test_hostile_names_calls_and_docs_keep_the_mermaid_valid(depth: int | None) -> None:
    drawing = archspec.draw(hostile_graph("nin.yaml"), depth=depth)
    kinds = check_mermaid(drawing.mermaid)
    assert len(kinds["node"]) == len(drawing.diagram.boxes())
    assert len(kinds["edge"]) == len(drawing.diagram.edges)


def test_a_hostile_doc_and_string_argument_of_a_real_spec_stay_text() -> None:
    drawing = archspec.draw(HOSTILE_SPEC, depth=1)
    check_mermaid(drawing.mermaid)
    assert "tagged(label=" in drawing.dot and "&lt;script&gt;" in drawing.dot
    assert "&#x27;&quot;]; n0 -&gt; n0" in drawing.dot  # the string argument, quoted and escaped


@needs_dot
def test_the_svg_of_a_hostile_network_has_no_markup_from_it() -> None:
    svg = archspec.draw(hostile_graph("inception_small.yaml"), depth=2).render("svg")
    root = ET.fromstring(svg)  # well-formed
    tags = {element.tag.split("}")[-1] for element in root.iter()}
    assert tags <= {"svg", "g", "title", "text", "polygon", "path", "ellipse", "polyline"}, tags
    assert not any(name.startswith("on") for element in root.iter() for name in element.attrib)
    texts = " ".join(root.itertext())
    assert "<script>alert(1)</script>" in texts  # shown as text, as written
    assert "//\\N\\l <script>" in texts  # not the node's name: Graphviz expands a bare \N
    assert "\u202e" not in svg.decode()
