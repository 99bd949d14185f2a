"""A :class:`~archspec.drawing._diagram.Diagram` as Graphviz DOT, and DOT rendered by ``dot``.

The DOT is written with the ``graphviz`` package; every label is an HTML-like label escaped by
:func:`~archspec.drawing._text.html_label` (no spec text is ever a DOT string, an id or an
attribute other than a label), so a name or doc cannot end a label, start a new statement, use
DOT's ``\\N``-style escapes or bring markup into the SVG. Layout is Graphviz's ``dot``: top to
bottom, branches side by side, clusters around the scopes drawn open.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from archspec.drawing._diagram import Box, BoxKind, Cluster, Diagram
from archspec.drawing._style import CLUSTER_FILLS, COLLAPSED_FILL, FILL, WIDTH
from archspec.drawing._text import html_label, wrapped
from archspec.infer import human
from archspec.ir import ScopeKind

if TYPE_CHECKING:
    import graphviz

_SHAPE = {
    BoxKind.INPUT: "oval",
    BoxKind.OUTPUT: "oval",
    BoxKind.OP: "box",
    BoxKind.MERGE: "ellipse",
    BoxKind.COLLAPSED: "box",
}


class GraphvizNotFound(RuntimeError):
    """Rendering SVG or PNG needs Graphviz's ``dot`` program, and it is not installed."""


def install_graphviz_line(fmt: str) -> str:
    """One line saying that drawing ``fmt`` needs Graphviz's ``dot``, and how to install it."""
    return (
        f"drawing {fmt.upper()} needs Graphviz's `dot` program, which is not on PATH: install Graphviz "
        "(Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz; conda: conda install graphviz), "
        "or write a .dot or .mmd file, which needs no Graphviz"
    )


def _small(text: str, color: str = "#555555") -> str:
    return f'<font point-size="9" color="{color}">{text}</font>'


def _lines(text: str) -> str:
    return "<br/>".join(html_label(line) for line in wrapped(text, WIDTH, 6))


def box_label(box: Box, counts: bool) -> str:
    """The HTML-like label of a box: its name, what it computes, and its counts if asked."""
    lines = []
    if box.kind is BoxKind.COLLAPSED:
        lines.append(f"<b>{html_label(box.name)}</b>")
    elif box.name and box.kind in (BoxKind.OP, BoxKind.MERGE):
        lines.append(_small(html_label(box.name)))
    if box.text:
        lines.append(_lines(box.text))
    elif box.kind in (BoxKind.INPUT, BoxKind.OUTPUT):
        lines.append(f"<i>{html_label(box.name)}</i>")
    if counts and box.counts_text:
        lines.append(_small(html_label(box.counts_text)))
    return "<" + "<br/>".join(lines) + ">"


def cluster_label(cluster: Cluster) -> str:
    head = f"<b>{html_label(cluster.name)}</b>" if cluster.name else ""
    text = _lines(cluster.text) if cluster.text else ""
    return "<" + (f"{head}  {text}" if head and text else head or text) + ">"


def title_label(diagram: Diagram) -> str:
    lines = [f'<font point-size="16"><b>{html_label(diagram.name)}</b></font>']
    if diagram.doc:
        lines.extend(_small(html_label(line)) for line in wrapped(diagram.doc, 100, 3))
    lines.append(_small(f"{diagram.total_params:,} params · {human(diagram.total_macs)} MACs"))
    return "<" + "<br/>".join(lines) + ">"


def to_dot(diagram: Diagram) -> str:
    """The DOT source of a diagram."""
    import graphviz

    dot = graphviz.Digraph(
        "archspec",
        graph_attr={
            "rankdir": "TB",
            "label": title_label(diagram),
            "labelloc": "t",
            "fontname": "Helvetica",
            "nodesep": "0.25",
            "ranksep": "0.3",
            "newrank": "true",  # ranks across clusters, so branches in clusters stay level
        },
        node_attr={
            "shape": "box",
            "style": "rounded,filled",
            "fontname": "Helvetica",
            "fontsize": "11",
            "penwidth": "0.8",
            "margin": "0.1,0.03",
            "height": "0.3",
        },
        edge_attr={
            "fontname": "Helvetica",
            "fontsize": "8",
            "color": "#666666",
            "fontcolor": "#444444",
            "arrowsize": "0.6",
        },
    )
    _add(dot, diagram.items, diagram.counts, 0)
    for edge in diagram.edges:
        dot.edge(edge.source, edge.target, label=f"<{html_label(edge.shape)}>")
    return dot.source


def _add(dot: graphviz.Digraph, items: Sequence[Box | Cluster], counts: bool, level: int) -> None:
    for item in items:
        if isinstance(item, Box):
            fill = COLLAPSED_FILL if item.kind is BoxKind.COLLAPSED else FILL.get(item.family, "#ffffff")
            width = "1.4" if item.kind is BoxKind.COLLAPSED else "0.8"  # a block drawn whole stands out
            dot.node(item.id, label=box_label(item, counts), shape=_SHAPE[item.kind], fillcolor=fill, penwidth=width)
            continue
        with dot.subgraph(name=f"cluster_{item.id}") as sub:
            if item.kind is ScopeKind.BLOCK:
                style = {"style": "rounded,filled", "fillcolor": CLUSTER_FILLS[level % len(CLUSTER_FILLS)]}
            else:
                style = {"style": "rounded,dashed"}
            sub.attr(label=cluster_label(item), labeljust="l", fontsize="10", color="#8899aa", **style)
            _add(sub, item.items, counts, level + 1 if item.kind is ScopeKind.BLOCK else level)


def render(source: str, fmt: str) -> bytes:
    """``source`` (DOT) laid out and rendered by Graphviz's ``dot`` to ``fmt`` (``svg``, ``png``);
    :class:`GraphvizNotFound` when ``dot`` is not installed."""
    import graphviz

    try:
        return graphviz.Source(source).pipe(format=fmt, engine="dot")
    except graphviz.ExecutableNotFound:
        raise GraphvizNotFound(install_graphviz_line(fmt)) from None
