"""Helpers of the drawing tests: a network whose every name and word is hostile, and a checker of
Mermaid flowcharts (there is no Mermaid parser here: the rules it holds the text to are the
subset of Mermaid's flowchart grammar archspec writes). A module of its own name, not a
conftest: other test folders have conftests, and `import conftest` finds whichever came last."""

from __future__ import annotations

import dataclasses
import re
import shutil
from pathlib import Path

import pytest

import archspec
from archspec.ir import Graph

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs"

#: Everything that could end a DOT string or HTML label, start a statement, use a DOT escape,
#: inject SVG markup, break a Mermaid label or comment the rest out, or reorder the text shown.
HOSTILE = '"]; n0 -> n0 [label=<x>] //\\N\\l\n<script>alert(1)</script>&amp;%%`]|#35;}\u202e\u200b'

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")


def hostile_graph(spec: str = "googlenet.yaml") -> Graph:
    """A real network with every path component, block name, block argument, the name and the
    doc made hostile (a graph made by hand: specs refuse such names, the drawing must not rely on it)."""
    graph = archspec.to_graph(SPECS / spec)

    def path(name: str) -> str:
        return name if name == "input" else ".".join(f"{part}{HOSTILE}" for part in name.split("."))

    nodes = tuple(
        dataclasses.replace(n, name=path(n.name), inputs=tuple(path(i) for i in n.inputs)) for n in graph.nodes
    )
    scopes = tuple(
        dataclasses.replace(
            s, path=path(s.path), output=path(s.output), label=s.label + HOSTILE, args=(("x", HOSTILE), *s.args)
        )
        for s in graph.scopes
    )
    outputs = {name: path(node) for name, node in graph.outputs.items()}
    return Graph(HOSTILE, graph.inputs, nodes, outputs, scopes, doc=HOSTILE * 3)


#: The lines archspec's Mermaid may hold. A label is a quoted string of safe characters,
#: numeric entities and archspec's own <br/>, <b> and </b>; ids are n<k> (boxes) and c<k> (subgraphs).
_LABEL = r'"(?:[A-Za-z0-9 ._,:=+\-*/()]|#\d+;|<br/>|</?b>)*"'
_LINES = {
    "node": re.compile(rf"n\d+(?:\({_LABEL}\)|\[{_LABEL}\]|\(\({_LABEL}\)\))"),
    "subgraph": re.compile(rf"subgraph c\d+\[{_LABEL}\]"),
    "end": re.compile(r"end"),
    "edge": re.compile(rf"n\d+ -->\|{_LABEL}\| n\d+"),
    "classDef": re.compile(r"classDef [a-z_]+ fill:#[0-9a-f]{6},stroke:#[0-9a-f]{6}"),
    "class": re.compile(r"class n\d+(?:,n\d+)* [a-z_]+"),
}


def check_mermaid(text: str) -> dict[str, list[str]]:
    """Hold ``text`` to the rules above: a ``flowchart TD`` header, each line one statement,
    subgraphs closed, edges between declared nodes, no id declared twice. Returns the lines by kind."""
    lines = text.splitlines()
    assert lines[0] == "flowchart TD"
    kinds: dict[str, list[str]] = {kind: [] for kind in _LINES}
    open_subgraphs = 0
    for line in lines[1:]:
        statement = line.strip()
        kind = next((k for k, rule in _LINES.items() if rule.fullmatch(statement)), None)
        assert kind is not None, f"not a statement archspec writes: {line!r}"
        kinds[kind].append(statement)
        open_subgraphs += {"subgraph": 1, "end": -1}.get(kind, 0)
        assert open_subgraphs >= 0, "an end without a subgraph"
    assert open_subgraphs == 0, "a subgraph is not closed"
    declared = [re.match(r"n\d+", s).group() for s in kinds["node"]]  # type: ignore[union-attr]
    assert len(declared) == len(set(declared)), "a node declared twice"
    for edge in kinds["edge"]:
        ends = re.findall(r"\bn\d+\b", re.sub(_LABEL, "", edge))
        assert set(ends) <= set(declared), f"an edge to an undeclared node: {edge}"
    return kinds
