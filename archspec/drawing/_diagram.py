"""What a drawing shows, before any format: boxes, the clusters around them, and the edges.

:func:`diagram` reads a :class:`~archspec.infer.ShapeReport`. Each op is a box, unless it lies
inside a scope (block call, sequence, branches) at ``depth`` path components or deeper: then the
outermost such scope is one box, labelled with its block call as the spec wrote it
(``inception(c1=64, c2=[96, 128], ...)``). Scopes above ``depth`` are clusters around their
contents. An edge carries a tensor from the box that makes it to each box that reads it,
labelled with its shape; a tensor read twice by one box is one edge. The network's input and
output are boxes of their own, so the first and last shapes are drawn too.

Text here is the spec's, unescaped: the writers (:mod:`._dot`, :mod:`._mermaid`) escape it.
"""

from __future__ import annotations

import enum
import itertools
import math
from dataclasses import dataclass, field
from typing import cast

from archspec.drawing._text import call, compact
from archspec.infer import Row, ShapeReport, human
from archspec.ir import Node, Scope, ScopeKind
from archspec.ops import Op

#: A collapsed sequence names its first steps, runs of one kind counted (``inception ×5 → maxpool``).
_LISTED_STEPS = 5


class BoxKind(enum.Enum):
    INPUT = "input"
    OUTPUT = "output"
    OP = "op"
    MERGE = "merge"  # an op of several inputs: where branches join
    COLLAPSED = "collapsed"  # a scope drawn as one box


@dataclass(frozen=True, slots=True)
class Box:
    """One box: ``name`` its path relative to the cluster it is in (the whole path at the top;
    empty for a merge drawn in the cluster of its own path, or a step named as its op call),
    ``text`` what it computes (an op's call, a block's call, a sequence's ops), ``family`` the op
    family (``conv``, ``norm``, ...) or scope kind that colours it."""

    id: str
    kind: BoxKind
    path: str
    name: str
    text: str
    family: str
    params: int = 0
    macs: int = 0

    @property
    def counts_text(self) -> str:
        """``1,234 params · 5.67M MACs``; empty for a box with neither (an activation, a pool)."""
        parts = [f"{self.params:,} params"] if self.params else []
        return " · ".join(parts + ([f"{human(self.macs)} MACs"] if self.macs else []))


@dataclass(slots=True)
class Cluster:
    """A scope drawn around its contents, labelled with its name and, for a block, its call."""

    id: str
    path: str
    name: str
    text: str
    kind: ScopeKind
    items: list[Box | Cluster] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Edge:
    """A tensor from one box to another, labelled with its shape."""

    source: str
    target: str
    shape: str


@dataclass(frozen=True, slots=True)
class Diagram:
    """A network as drawn: its top-level items (boxes and clusters) and every edge."""

    name: str
    doc: str
    items: tuple[Box | Cluster, ...]
    edges: tuple[Edge, ...]
    total_params: int
    total_macs: int
    counts: bool

    def boxes(self) -> list[Box]:
        """Every box, clusters' contents included, in drawing order."""
        out: list[Box] = []
        stack: list[Box | Cluster] = list(reversed(self.items))
        while stack:
            item = stack.pop()
            if isinstance(item, Box):
                out.append(item)
            else:
                stack.extend(reversed(item.items))
        return out


def op_call(op: Op) -> str:
    """An op as the spec would call it: required attributes positional, the others by name where
    they differ from the default (``conv(64, 7, stride=2, padding=3, bias=false)``)."""
    positional, keywords = [], []
    for name, spec in type(op).model_fields.items():
        value = compact(getattr(op, name))
        if spec.is_required():
            positional.append(value)
        elif value != compact(spec.get_default(call_default_factory=True)):
            keywords.append((name, value))
    return call(op.op_name, positional, keywords)


def op_family(op: Op) -> str:
    """The family an op is declared in (its module under ``archspec/ops/``): ``conv``, ``pool``..."""
    return type(op).__module__.rsplit(".", 1)[-1]


def _depth(path: str) -> int:
    return path.count(".") + 1


def _relative(path: str, container: str | None) -> str:
    return path[len(container) + 1 :] if container else path


class _Builder:
    def __init__(self, report: ShapeReport, depth: int | None, counts: bool) -> None:
        self.report = report
        self.graph = report.graph
        self.depth = depth
        self.counts = counts
        self.scopes: dict[str, Scope] = {s.path: s for s in self.graph.scopes}
        self.rows: dict[str, Row] = {r.path: r for r in report.rows} if counts else {}
        self.boxes: dict[str, Box] = {}  # the box of each op or collapsed scope, by its path
        self.made = 0
        self.clusters: dict[str, Cluster] = {}
        self.top: list[Box | Cluster] = []
        self.edges: list[Edge] = []

    # --------------------------------------------------------------- where things go
    def scope_chain(self, path: str) -> list[str]:
        """The scopes ``path`` is in, outermost first (``path`` itself included when a scope)."""
        parts = path.split(".")
        prefixes = (".".join(parts[:cut]) for cut in range(1, len(parts) + 1))
        return [p for p in prefixes if p in self.scopes]

    def collapsed_into(self, node: Node) -> str | None:
        """The scope drawn as one box that ``node`` is in: the outermost around it (or the one
        it is the merge of) at the drawing's depth or deeper; None when the node has its own box."""
        if self.depth is None:
            return None
        return next((p for p in self.scope_chain(node.name) if _depth(p) >= self.depth), None)

    def place(self, item: Box | Cluster, containers: list[str]) -> None:
        """Put ``item`` in the innermost of ``containers`` (expanded scopes, outermost first)."""
        if not containers:
            self.top.append(item)
            return
        self.cluster(containers).items.append(item)

    def cluster(self, chain: list[str]) -> Cluster:
        path = chain[-1]
        found = self.clusters.get(path)
        if found is not None:
            return found
        scope = self.scopes[path]
        outer = chain[-2] if len(chain) > 1 else None
        text = call(scope.label, (), scope.args) if scope.kind is ScopeKind.BLOCK else ""
        made = self.clusters[path] = Cluster(f"c{len(self.clusters)}", path, _relative(path, outer), text, scope.kind)
        self.place(made, chain[:-1])
        return made

    # --------------------------------------------------------------- boxes
    def box(
        self,
        kind: BoxKind,
        path: str,
        name: str,
        text: str,
        family: str,
        containers: list[str],
        counts: tuple[int, int] = (0, 0),
    ) -> Box:
        """A new box in the innermost of ``containers``, with ``counts`` (params, MACs)."""
        made = Box(f"n{self.made}", kind, path, name, text, family, *counts)
        self.made += 1
        self.place(made, containers)
        return made

    def box_for(self, node: Node) -> Box:
        scope = self.collapsed_into(node)
        path = scope or node.name
        found = self.boxes.get(path)
        if found is None:
            found = self.boxes[path] = self.collapsed(scope) if scope else self.op_box(node)
        return found

    def op_box(self, node: Node) -> Box:
        containers = self.scope_chain(node.name)
        kind = BoxKind.MERGE if len(node.inputs) > 1 else BoxKind.OP
        name = _relative(node.name, containers[-1] if containers else None)
        text = op_call(node.op)
        if name == text:  # a step named after its op (resnet's `relu: relu`): said once
            name = ""
        info = self.report.info[node.name]
        params = sum(math.prod(cast("tuple[int, ...]", shape)) for shape in info.params.values())
        return self.box(kind, node.name, name, text, op_family(node.op), containers, (params, info.macs))

    def collapsed(self, path: str) -> Box:
        scope = self.scopes[path]
        containers = self.scope_chain(path)[:-1]
        name = _relative(path, containers[-1] if containers else None)
        row = self.rows.get(path)  # the totals of everything in the scope
        counts = (row.params, row.macs) if row else (0, 0)
        return self.box(BoxKind.COLLAPSED, path, name, self.scope_text(scope), scope.kind.value, containers, counts)

    def scope_text(self, scope: Scope) -> str:
        """A block's call; a sequence's steps (``inception ×2 → maxpool``); what else a scope is."""
        if scope.kind is ScopeKind.BLOCK:
            return call(scope.label, (), scope.args)
        inside = [n for n in self.graph.nodes if n.name.startswith(scope.path + ".")]
        if scope.kind is not ScopeKind.SEQ:
            return f"{scope.label} of {len(inside) + (scope.path in self.report.info)} ops"
        steps: list[str] = []  # the step each op is in, by path, in order
        for node in inside:
            step = ".".join(node.name.split(".")[: _depth(scope.path) + 1])
            if not steps or steps[-1] != step:
                steps.append(step)
        words = [self.scopes[s].label if s in self.scopes else self.graph.node(s).op_name for s in steps]
        runs = [(word, len(list(group))) for word, group in itertools.groupby(words)]
        shown = [word if n == 1 else f"{word} ×{n}" for word, n in runs[:_LISTED_STEPS]]
        return " → ".join(shown) + (" → …" if len(runs) > _LISTED_STEPS else "")

    # --------------------------------------------------------------- the walk
    def build(self) -> Diagram:
        graph, info = self.graph, self.report.info
        # a box per input and per output, named as the spec names them ('input', 'output' for one)
        sources = {name: self.box(BoxKind.INPUT, name, name, "", "input", []) for name in graph.inputs}
        seen: set[tuple[str, str]] = set()
        for node in graph.nodes:
            target = self.box_for(node)
            for name in node.inputs:
                origin = sources[name] if name in sources else self.box_for(graph.node(name))
                if origin is target or (name, target.id) in seen:
                    continue
                seen.add((name, target.id))
                shape = graph.inputs[name] if name in sources else info[name].output
                self.edges.append(Edge(origin.id, target.id, str(shape)))
        for name, node_name in graph.outputs.items():
            sink = self.box(BoxKind.OUTPUT, name, name, "", "output", [])
            last = sources[node_name] if node_name in sources else self.box_for(graph.node(node_name))
            self.edges.append(Edge(last.id, sink.id, str(self.report.outputs[name])))
        return Diagram(
            graph.name,
            graph.doc,
            tuple(self.top),
            tuple(self.edges),
            self.report.total_params,
            self.report.total_macs,
            self.counts,
        )


def diagram(report: ShapeReport, depth: int | None = None, counts: bool = False) -> Diagram:
    """The drawing of ``report``'s network down to ``depth`` path components (None: every op),
    with each box's parameter and MAC counts if ``counts``."""
    if depth is not None and depth < 1:
        raise ValueError(f"depth must be 1 or more (or None for every op), not {depth}")
    return _Builder(report, depth, counts).build()
