"""The graph IR: a typed, frozen DAG of ops with hierarchical names.

A :class:`Graph` is what the expander makes of a spec and what every backend reads.
It is plain data: printable, serialisable to JSON, comparable in tests.

* A :class:`Node` is one op application. Its ``name`` is the dotted path that mirrors
  the spec (``b3.0.branch2.1``) and is the prefix of its weight names
  (``b3.0.branch2.1.weight``). ``op`` is the op's validated attribute model (its
  class *is* the op: ``type(node.op).op_name == "conv"``). ``inputs`` name producer
  nodes, or :data:`GRAPH_INPUT`. Nodes are stored in topological order.
* A :class:`Scope` records a composite of the spec (a block instance, a sequence, a
  concat, ...) by its path, so tables can roll nodes up by depth and backends can
  give blocks their own classes. A composite's output is the node named in
  ``output``; the merge node of a ``concat``/``add``/``mul`` carries the composite's own path.

Printed, GoogLeNet's first stage looks like this::

    b1        seq     output=b1.2
    b1.0      conv    (input)  out_channels=64 kernel=(7, 7) stride=(2, 2) padding=((3, 3), (3, 3))
    b1.1      relu    (b1.0)
    b1.2      maxpool (b1.1)   kernel=(3, 3) stride=(2, 2) padding=((1, 1), (1, 1))
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from archspec.errors import InternalError, Location, SpecError

if TYPE_CHECKING:
    from archspec.ops import Op
    from archspec.spec.expand import Program

GRAPH_INPUT = "input"

Dim = int | str
Shape = tuple[Dim, ...]


def tensor_name(node: str, name: str) -> str:
    """The canonical name of a node's parameter or buffer: ``b1.0`` and ``weight`` give
    ``b1.0.weight``; the empty name is the node's own value (a ``param`` step: ``layer_scale``)."""
    return f"{node}.{name}" if name else node


@dataclass(frozen=True, slots=True)
class TensorType:
    """A tensor's shape (ints, or symbols such as ``"N"``) and dtype.

    A feature map is [N, C, *S]: its features (channels) are axis 1. ``features_last`` marks
    one that ``permute`` turned into [N, *S, C], as torchvision's ConvNeXt does before its
    LayerNorm and Linear layers; ops that act on the last axis take it as the features there
    rather than as a spatial axis. Shapes of rank 2 and 3 ([N, F], [N, T, F]) have their
    features last anyway and never set it.
    """

    shape: Shape
    dtype: str = "float32"
    features_last: bool = False

    @property
    def rank(self) -> int:
        return len(self.shape)

    def __str__(self) -> str:
        return "[" + ", ".join(str(d) for d in self.shape) + "]"


class ScopeKind(enum.Enum):
    BLOCK = "block"
    SEQ = "seq"
    CONCAT = "concat"
    ADD = "add"
    MUL = "mul"
    DAG = "dag"


@dataclass(frozen=True, slots=True)
class Node:
    """One op application; see the module docstring."""

    name: str
    op: Op
    inputs: tuple[str, ...]
    loc: Location | None = None
    trace: tuple[str, ...] = ()
    #: The spec expressions attributes were given by (``("out_channels", "c2[0]")``), in the
    #: scope they were written in; literal arguments have none. Codegen uses them to make block
    #: classes parametric (``nn.Conv2d(in_channels, c2[0], 1)``); they never change a value.
    exprs: tuple[tuple[str, str], ...] = ()
    #: Where each attribute was written (``("groups", loc)``), so a shape error about one
    #: attribute (``ShapeError.attr``) points at it rather than at the op's name.
    attr_locs: tuple[tuple[str, Location], ...] = ()

    @property
    def op_name(self) -> str:
        return self.op.op_name


@dataclass(frozen=True, slots=True)
class Scope:
    """A composite of the spec (block instance, sequence, branches, DAG)."""

    path: str
    kind: ScopeKind
    label: str
    output: str
    args: tuple[tuple[str, Any], ...] = ()
    loc: Location | None = None
    #: For a block call, the expressions its arguments were given by, in the caller's scope.
    arg_exprs: tuple[tuple[str, str], ...] = ()
    #: The block call this one's body is, when it is nothing else (same path: ``if`` picking one
    #: call, a block that renames another); its arguments are what that body's layers read.
    inner: Scope | None = None


@dataclass(frozen=True)
class Graph:
    """A network: its input type, nodes in topological order, scopes and output."""

    name: str
    input: TensorType
    nodes: tuple[Node, ...]
    output: str
    scopes: tuple[Scope, ...] = ()
    doc: str = ""
    params: tuple[tuple[str, Any], ...] = ()
    #: The block definitions this graph was expanded from, over their symbolic parameters: what
    #: the code generators write as classes (the nodes are one instance of them, for shapes,
    #: ONNX and parity). None for a graph made by hand.
    program: Program | None = field(default=None, compare=False, repr=False)
    _index: dict[str, Node] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._index.update((n.name, n) for n in self.nodes)

    def node(self, name: str) -> Node:
        return self._index[name]

    def __len__(self) -> int:
        return len(self.nodes)

    def verify(self) -> None:
        """Check the IR's invariants: unique names, topological order, known inputs, arity.

        The expander makes graphs that hold them from any spec, so a failure is archspec's own
        bug, an :class:`~archspec.errors.InternalError` naming the node and where its spec is.
        """
        seen = {GRAPH_INPUT}
        for node in self.nodes:
            where = f" (from {node.loc})" if node.loc else ""
            if node.name in seen:
                raise InternalError(f"IR: duplicate node name '{node.name}'{where}")
            for name in node.inputs:
                if name not in seen:
                    raise InternalError(
                        f"IR: node '{node.name}' reads '{name}', which is not defined before it "
                        f"(nodes must be in topological order){where}"
                    )
            try:
                node.op.check_arity(len(node.inputs))
            except SpecError as exc:  # a ShapeError
                raise InternalError(f"IR: node '{node.name}': {exc.message}{where}") from None
            seen.add(node.name)
        if self.output not in seen:
            raise InternalError(f"IR: output '{self.output}' is not a node")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description of the graph."""
        return {
            "name": self.name,
            "doc": self.doc,
            "input": {"shape": list(self.input.shape), "dtype": self.input.dtype},
            "params": dict(self.params),
            "nodes": [
                {
                    "name": n.name,
                    "op": n.op_name,
                    "attrs": n.op.model_dump(mode="json"),
                    "inputs": list(n.inputs),
                    "loc": str(n.loc) if n.loc else None,
                }
                for n in self.nodes
            ],
            "scopes": [
                {"path": s.path, "kind": s.kind.value, "label": s.label, "output": s.output, "args": dict(s.args)}
                for s in self.scopes
            ],
            "output": self.output,
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def __str__(self) -> str:
        width = max((len(n.name) for n in self.nodes), default=4)
        lines = [f"graph {self.name}  input={self.input}  output={self.output}"]
        for n in self.nodes:
            attrs = " ".join(f"{k}={v}" for k, v in n.op.model_dump().items())
            lines.append(f"  {n.name:<{width}}  {n.op_name:<12} ({', '.join(n.inputs)})  {attrs}".rstrip())
        return "\n".join(lines)
