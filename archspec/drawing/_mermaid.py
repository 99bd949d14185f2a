"""A :class:`~archspec.drawing._diagram.Diagram` as a Mermaid flowchart (``.mmd``), which GitHub
renders in Markdown and which needs no Graphviz.

The text is one statement a line: ``flowchart TD`` (top down); a node per box, ``n3["label"]``; a
``subgraph c1["label"]`` ... ``end`` per cluster; an edge per tensor, ``n2 -->|"shape"| n3``; and
``classDef``/``class`` lines for the colours. Ids are archspec's own (``n3``, ``c1``); every label is
quoted and written by :func:`~archspec.drawing._text.mermaid_text`, which turns any character
Mermaid could read as syntax (quotes, brackets, pipes, ``%%``, backticks, ``<``, ``#``) into an
entity, so the only markup in a label is archspec's own ``<br/>`` and ``<b>``.
"""

from __future__ import annotations

from collections.abc import Sequence

from archspec.drawing._diagram import Box, BoxKind, Cluster, Diagram
from archspec.drawing._style import COLLAPSED_FILL, FILL, WIDTH
from archspec.drawing._text import mermaid_text, wrapped

#: Mermaid's brackets around a label for each kind of box: rounded for the input and output, a
#: circle where branches merge, a rectangle otherwise. (Stadiums and hexagons would do as well in
#: Mermaid itself; these are the shapes that lighter Mermaid validators also know.)
_BRACKETS = {
    BoxKind.INPUT: ("(", ")"),
    BoxKind.OUTPUT: ("(", ")"),
    BoxKind.OP: ("[", "]"),
    BoxKind.MERGE: ("((", "))"),
    BoxKind.COLLAPSED: ("[", "]"),
}


def _label(box: Box, counts: bool) -> str:
    lines = []
    if box.kind is BoxKind.COLLAPSED:
        lines.append(f"<b>{mermaid_text(box.name)}</b>")
    elif box.name and box.kind in (BoxKind.OP, BoxKind.MERGE):
        lines.append(mermaid_text(box.name))
    if box.text:
        lines.extend(mermaid_text(line) for line in wrapped(box.text, WIDTH, 6))
    elif box.kind in (BoxKind.INPUT, BoxKind.OUTPUT):
        lines.append(mermaid_text(box.name))
    if counts and box.counts_text:
        lines.append(mermaid_text(box.counts_text))
    return "<br/>".join(lines)


def _class(box: Box) -> str:
    return "collapsed" if box.kind is BoxKind.COLLAPSED else box.family


def to_mermaid(diagram: Diagram) -> str:
    """The Mermaid flowchart of a diagram."""
    lines = ["flowchart TD"]
    classes: dict[str, list[str]] = {}

    def add(items: Sequence[Box | Cluster], indent: str) -> None:
        for item in items:
            if isinstance(item, Box):
                left, right = _BRACKETS[item.kind]
                lines.append(f'{indent}{item.id}{left}"{_label(item, diagram.counts)}"{right}')
                classes.setdefault(_class(item), []).append(item.id)
                continue
            title = " ".join(filter(None, [mermaid_text(item.name), mermaid_text(item.text)]))
            lines.append(f'{indent}subgraph {item.id}["{title}"]')
            add(item.items, indent + "  ")
            lines.append(f"{indent}end")

    add(diagram.items, "  ")
    lines.extend(f'  {e.source} -->|"{mermaid_text(e.shape)}"| {e.target}' for e in diagram.edges)
    fills = {**FILL, "collapsed": COLLAPSED_FILL}
    for name, ids in classes.items():
        if name in fills:
            lines.append(f"  classDef {name} fill:{fills[name]},stroke:#555555")
            lines.append(f"  class {','.join(ids)} {name}")
    return "\n".join(lines) + "\n"
