"""Pictures of networks: ``archspec draw`` and :func:`archspec.draw`.

A drawing is made from the shape report alone (no framework): one box per op, or per block call
at a given depth, clusters around the blocks and branches drawn open, edges labelled with the
tensor shapes, and optionally each box's parameter and MAC counts. It is written as Graphviz DOT
(``.dot``), rendered from that by Graphviz's ``dot`` program (``.svg``, ``.png``), or written as a
Mermaid flowchart (``.mmd``), which GitHub renders in Markdown. Only SVG and PNG need Graphviz
installed; without it they raise :class:`GraphvizNotFound`, whose message says how to install it.

    drawing = archspec.draw("specs/googlenet.yaml", depth=2)
    drawing.save("googlenet.svg")
    print(drawing.mermaid)
"""

from __future__ import annotations

import functools
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archspec.api import SpecSource, shapes
from archspec.drawing._diagram import Diagram, diagram
from archspec.drawing._dot import GraphvizNotFound, install_graphviz_line, render, to_dot
from archspec.drawing._mermaid import to_mermaid
from archspec.infer import ShapeReport
from archspec.ir import Graph
from archspec.spec.interface import InputShapes

__all__ = [
    "FORMATS",
    "NEEDS_GRAPHVIZ",
    "Drawing",
    "GraphvizNotFound",
    "draw",
    "format_of",
    "graphviz_installed",
    "install_graphviz_line",
]

#: The formats a drawing is written in, by file suffix.
FORMATS = ("svg", "png", "dot", "mmd")
#: The formats Graphviz's ``dot`` program renders.
NEEDS_GRAPHVIZ = ("svg", "png")


def graphviz_installed() -> bool:
    """Whether Graphviz's ``dot`` program is on PATH (where the ``graphviz`` package runs it from)."""
    return shutil.which("dot") is not None


def format_of(path: str | Path) -> str:
    """The format a file is written in, from its suffix; a ValueError naming the formats for any other."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise ValueError(
            f"cannot tell what to draw from the name {str(path)!r}: expected a .svg, .png, .dot or .mmd file"
        )
    return suffix


@dataclass(frozen=True)
class Drawing:
    """A network drawn: its DOT and Mermaid text, and renderings of them."""

    report: ShapeReport
    diagram: Diagram

    def __repr__(self) -> str:
        boxes, edges = len(self.diagram.boxes()), len(self.diagram.edges)
        return f"<Drawing of {self.diagram.name}: {boxes} boxes, {edges} edges>"

    @functools.cached_property
    def dot(self) -> str:
        """The Graphviz DOT source."""
        return to_dot(self.diagram)

    @functools.cached_property
    def mermaid(self) -> str:
        """The Mermaid flowchart."""
        return to_mermaid(self.diagram)

    def render(self, fmt: str) -> bytes:
        """The drawing in ``fmt`` (one of :data:`FORMATS`); ``svg`` and ``png`` run Graphviz's ``dot``
        (:class:`GraphvizNotFound` when it is not installed)."""
        if fmt == "dot":
            return self.dot.encode("utf-8")
        if fmt == "mmd":
            return self.mermaid.encode("utf-8")
        if fmt not in FORMATS:
            raise ValueError(f"no drawing format {fmt!r}; expected one of {', '.join(FORMATS)}")
        return render(self.dot, fmt)

    def save(self, path: str | Path) -> Path:
        """Write the drawing to ``path``, in the format its suffix names, atomically."""
        from archspec.io import atomic_write_bytes

        data = self.render(format_of(path))
        atomic_write_bytes(path, data)
        return Path(path)

    def _repr_svg_(self) -> str | None:
        """The drawing inline in Jupyter; None without Graphviz, so Jupyter shows the repr instead."""
        try:
            return self.render("svg").decode("utf-8")
        except GraphvizNotFound:
            return None


def draw(
    source: SpecSource | Graph,
    output: str | Path | None = None,
    *,
    depth: int | None = None,
    counts: bool = False,
    params: Mapping[str, Any] | None = None,
    input_shape: InputShapes | None = None,
    max_params: int | None = None,
    max_activation: int | None = None,
) -> Drawing:
    """Draw a spec (a file, a mapping, or a lowered graph) down to ``depth`` path components (None:
    every op; 1: the network's top-level steps), with each box's parameter and MAC counts if
    ``counts``; ``params``, ``input_shape`` and the bounds are those of :func:`archspec.shapes`.
    With ``output``, the drawing is also written there (.svg, .png, .dot or .mmd).

    Returns:
        A :class:`Drawing`: ``.dot``, ``.mermaid``, ``.render(fmt)`` and ``.save(path)``.
    """
    if output is not None:
        format_of(output)  # a name that says no format fails before any work
    report = shapes(source, params, input_shape, max_params=max_params, max_activation=max_activation)
    drawing = Drawing(report, diagram(report, depth, counts))
    if output is not None:
        drawing.save(output)
    return drawing
