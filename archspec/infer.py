"""Shape inference: the type, parameter shapes, buffers and MACs of every node.

:func:`infer_shapes` runs each node's op rules in topological order and returns a
:class:`ShapeReport`, which also rolls nodes up into the rows of a shape table
(``archspec shapes``): one row per scope and per node, pre-order, with the output
shape of each and the parameters and MACs of everything under it.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any, cast

from archspec.errors import SpecError, did_you_mean
from archspec.ir import GRAPH_INPUT, Graph, Node, Scope, ScopeKind, Shape, TensorType
from archspec.ops import Tie

#: Bounds that refuse absurd networks before any backend allocates a byte: learnable
#: parameters in all (10^10, 40 GB as float32), and elements of any one tensor, the input
#: included (2^32, 16 GiB as float32; VGG's first layer at batch 1024 and 224x224 needs
#: 3.3 x 10^9). A symbolic batch counts as 1. ``--max-params`` / ``--max-activation`` raise them.
MAX_PARAMS = 10_000_000_000
MAX_ACTIVATION = 2**32


@dataclass(frozen=True, slots=True)
class NodeInfo:
    """What shape inference knows about one node."""

    output: TensorType
    params: dict[str, Shape]
    buffers: dict[str, Shape]
    macs: int
    #: Parameters the node uses but an earlier step owns (see :meth:`archspec.ops.Op.tied_params`).
    tied: dict[str, Tie] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Row:
    """One line of a shape table."""

    path: str
    op: str
    shape: Shape
    params: int
    buffers: int
    macs: int
    depth: int
    #: The name of the network output this step gives, where the spec names its outputs.
    output: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "op": self.op,
            "shape": list(self.shape),
            "params": self.params,
            "macs": self.macs,
            "output": self.output,
        }


@dataclass(frozen=True)
class ShapeReport:
    """The result of shape inference over a graph."""

    graph: Graph
    info: dict[str, NodeInfo]

    @functools.cached_property
    def rows(self) -> tuple[Row, ...]:
        """The shape table's rows: nodes rolled up into the spec's scopes, in pre-order
        (computed when first asked for: building a module does not need them)."""
        return _rows(self.graph, self.info)

    @property
    def output(self) -> TensorType:
        """The type of the network's one output (see :attr:`outputs` for a network of several)."""
        return self.info[self.graph.output].output

    @property
    def outputs(self) -> dict[str, TensorType]:
        """Each output's name and type, in the spec's order."""
        return {name: self.info[node].output for name, node in self.graph.outputs.items()}

    @property
    def total_params(self) -> int:
        return sum(_count(i.params) for i in self.info.values())

    @property
    def ties(self) -> dict[str, str]:
        """Each shared parameter's second name, with the one it is saved and counted under
        (``{"lm_head.weight": "transformer.wte.weight"}``)."""
        return {f"{name}.{param}": tie.canonical for name, i in self.info.items() for param, tie in i.tied.items()}

    @property
    def total_buffers(self) -> int:
        return sum(_count(i.buffers) for i in self.info.values())

    @property
    def largest_activation(self) -> int:
        """Elements in the largest tensor the network takes or makes (what ``max_activation`` bounds)."""
        sizes = [_elements(i.output) for i in self.info.values()]
        return max([*map(_elements, self.graph.inputs.values()), *sizes]) if sizes else 0

    @property
    def total_macs(self) -> int:
        return sum(i.macs for i in self.info.values())

    def table(self, depth: int | None = None) -> list[Row]:
        """Rows down to ``depth`` path components (all rows when None)."""
        return [r for r in self.rows if depth is None or r.depth <= depth]

    def to_dict(self, depth: int | None = None) -> dict[str, Any]:
        """The ``--format json`` object of ``archspec shapes``."""
        return {
            "name": self.graph.name,
            "input": list(self.graph.input.shape) if len(self.graph.inputs) == 1 else None,
            "output": list(self.output.shape) if len(self.graph.outputs) == 1 else None,
            "inputs": {name: list(t.shape) for name, t in self.graph.inputs.items()},
            "dtypes": {name: t.dtype for name, t in self.graph.inputs.items()},
            "outputs": {name: list(t.shape) for name, t in self.outputs.items()},
            "nodes": [r.to_dict() for r in self.table(depth)],
            "total_params": self.total_params,
            "tied": self.ties,
            "total_buffers": self.total_buffers,
            "total_macs": self.total_macs,
            "macs_convention": "torchinfo mult-adds (FLOPs ~ 2 x MACs); per sample when the batch is symbolic",
        }


def human(n: int) -> str:
    """A count for people: 1234567 → '1.23M'."""
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= size:
            return f"{n / size:.2f}{unit}"
    return str(n)


def _elements(t: TensorType) -> int:
    return math.prod(d if isinstance(d, int) else 1 for d in t.shape)  # a symbolic batch counts as 1


def _count(shapes: dict[str, Shape]) -> int:
    return sum(math.prod(cast("tuple[int, ...]", s)) for s in shapes.values())  # params are never symbolic


def infer_shapes(graph: Graph, *, max_params: int | None = None, max_activation: int | None = None) -> ShapeReport:
    """Infer every node's type and sizes; raise a located SpecError on a mismatch or an absurd size
    (over ``max_params`` parameters or ``max_activation`` elements in a tensor; None: the defaults)."""
    max_params = MAX_PARAMS if max_params is None else max_params
    max_activation = MAX_ACTIVATION if max_activation is None else max_activation
    types: dict[str, TensorType] = dict(graph.inputs)
    info: dict[str, NodeInfo] = {}
    total_params = 0
    for name, input_type in graph.inputs.items():
        size = _elements(input_type)
        if size > max_activation and graph.nodes:
            first = next((node for node in graph.nodes if name in node.inputs), graph.nodes[0])
            called = "the input" if name == GRAPH_INPUT else f"input '{name}'"
            raise SpecError(
                f"{called} {input_type} has {size:,} elements, over the limit of {max_activation:,}",
                first.loc,
                first.trace,
                hint="raise the bound with --max-activation (max_activation=) if you mean it",
            )
    for node in graph.nodes:
        try:
            node_info = infer_node(node, tuple(types[name] for name in node.inputs))
            _check_ties(node, node_info.tied, graph, info)
        except SpecError as exc:
            raise in_calls(exc, graph.scopes, node.name) from None
        out, params = node_info.output, node_info.params
        total_params += _count(params)
        if total_params > max_params:
            raise SpecError(
                f"the network has over {max_params:,} parameters (reached {total_params:,} at '{node.name}')",
                node.loc,
                node.trace,
                hint="raise the bound with --max-params (max_params=) if you mean it",
            )
        size = _elements(out)
        if size > max_activation:
            raise SpecError(
                f"'{node.name}' produces a tensor {out} of {size:,} elements, over the limit of {max_activation:,}",
                node.loc,
                node.trace,
                hint="raise the bound with --max-activation (max_activation=) if you mean it",
            )
        types[node.name] = out
        info[node.name] = node_info
    _sources_take_their_layout(graph, info)
    return ShapeReport(graph, info)


def _sources_take_their_layout(graph: Graph, info: dict[str, NodeInfo]) -> None:
    """Mark features-last each source (a ``param``: no batch, no layout of its own) that only
    features-last merges of its rank read, as ViT's class token and position embedding: it is
    then held as what it meets is (see :class:`~archspec.ir.TensorType`)."""
    readers: dict[str, list[Node]] = {}
    for node in graph.nodes:
        for name in node.inputs:
            readers.setdefault(name, []).append(node)
    outputs = set(graph.outputs.values())
    for node in graph.nodes:
        own = info[node.name].output
        if type(node.op).arity != 0 or own.rank < 3 or node.name in outputs or node.name not in readers:
            continue
        met = [info[reader.name].output for reader in readers[node.name]]
        merged = all(type(reader.op).arity is None for reader in readers[node.name])
        if merged and all(t.features_last and t.rank == own.rank for t in met):
            info[node.name] = replace(info[node.name], output=replace(own, features_last=True))


def infer_node(node: Node, inputs: tuple[TensorType, ...]) -> NodeInfo:
    """What one node makes of its inputs' types, by its op's rules: the one shape rule per op that
    shape inference and the expander (reading ``input.channels``) share. A mistake raises a
    SpecError located at the node (or at the attribute at fault)."""
    try:
        node.op.check_dtypes(inputs)
        node.op.check_layout(inputs)
        out = node.op.infer(inputs)
        params = node.op.params(inputs)
        buffers = node.op.buffers(inputs)
        macs = node.op.macs(inputs, out)
        tied = node.op.tied_params(inputs)
    except SpecError as exc:
        spot = dict(node.attr_locs).get(getattr(exc, "attr", None) or "")
        raise exc.with_context(spot or node.loc, node.trace) from None
    for d in out.shape:
        if isinstance(d, int) and d <= 0:
            raise SpecError(
                f"{node.op_name} produces an empty tensor {out}",
                node.loc,
                node.trace,
                found=f"input {', '.join(map(str, inputs))}",
                hint="the input is too small for this stack of strides and pools",
            )
    return NodeInfo(out, params, buffers, macs, tied)


def _check_ties(node: Node, tied: dict[str, Tie], graph: Graph, earlier: dict[str, NodeInfo]) -> None:
    """Each parameter ``node`` shares is an earlier step's, of the shape ``node`` needs it in."""
    where = dict(node.attr_locs).get("tie", node.loc)
    for name, tie in tied.items():
        owner = earlier.get(tie.step)
        if owner is None:
            later = any(other.name == tie.step for other in graph.nodes)
            scope = next((s for s in graph.scopes if s.path == tie.step), None)
            if tie.step == node.name:
                problem, hint = "itself", "name the step that owns the weight, e.g. the token embedding"
            elif later:
                problem, hint = "a later step", "a step can share the weight of a step before it only: swap them"
            elif scope is not None:
                problem, hint = "a group of layers", "name the one layer inside it that owns the weight"
            else:
                problem = "no step of this network"
                hint = did_you_mean(tie.step, [n.name for n in graph.nodes if earlier.get(n.name)]) or (
                    "give the path the shape table (archspec shapes) shows, e.g. transformer.wte"
                )
            raise SpecError(
                f"{node.op_name} '{node.name}' ties its {name} to '{tie.step}', which is {problem}",
                where,
                node.trace,
                hint=hint,
            )
        shape = owner.params.get(tie.param)
        if shape is None:
            raise SpecError(
                f"{node.op_name} '{node.name}' ties its {name} to '{tie.canonical}', but '{tie.step}' has no "
                f"parameter '{tie.param}'",
                where,
                node.trace,
                expected=f"a step with a {tie.param} {list(tie.shape)}",
                found=f"{graph.node(tie.step).op_name} with {', '.join(owner.params) or 'no parameters'}",
            )
        if tuple(shape) != tuple(tie.shape):
            raise SpecError(
                f"{node.op_name} '{node.name}' needs its {name} as {list(tie.shape)}, but '{tie.canonical}' "
                f"is {list(shape)}",
                where,
                node.trace,
                expected=str(list(tie.shape)),
                found=str(list(shape)),
                hint="a tied output projection has as many outputs as the embedding has rows",
            )


def _rows(graph: Graph, info: dict[str, NodeInfo]) -> tuple[Row, ...]:
    """Roll nodes up into scope rows; order is pre-order of the spec's tree."""
    scopes = {s.path: s for s in graph.scopes}
    named = {node: name for name, node in graph.outputs.items()} if graph.named_outputs else {}
    totals: dict[str, list[int]] = {}
    order: list[str] = []
    for node in graph.nodes:
        parts = node.name.split(".")
        node_info = info[node.name]
        counts = (_count(node_info.params), _count(node_info.buffers), node_info.macs)
        for cut in range(1, len(parts) + 1):
            prefix = ".".join(parts[:cut])
            entry = totals.get(prefix)
            if entry is None:
                entry = totals[prefix] = [0, 0, 0]
                order.append(prefix)
            entry[0] += counts[0]
            entry[1] += counts[1]
            entry[2] += counts[2]
    rows = []
    for path in order:
        scope = scopes.get(path)
        if scope is not None:
            op, output = scope.label, scope.output
        elif path in info:
            op, output = graph.node(path).op_name, path
        else:
            continue  # a path prefix with no scope of its own
        shape = info[output].output.shape if output in info else graph.inputs[output].shape
        p, b, m = totals[path]
        depth = path.count(".") + 1
        rows.append(Row(path, op, shape, p, b, m, depth, named.get(output) if depth == 1 else None))
    return tuple(rows)


def in_calls(exc: SpecError, scopes: Iterable[Scope], path: str) -> SpecError:
    """``exc`` with a note for each block call (of ``scopes``) the node at ``path`` is inside,
    innermost first."""
    calls = [s for s in scopes if s.kind is ScopeKind.BLOCK and (path + ".").startswith(s.path + ".")]
    for outer in sorted(calls, key=lambda s: -len(s.path)):
        chain = [outer]  # a block whose body is another block's call: that call, then this one
        while chain[0].inner is not None:
            chain.insert(0, chain[0].inner)
        for scope in chain:
            exc = exc.called_from(scope.label, scope.args, scope.loc)
    return exc
