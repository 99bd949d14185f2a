"""The graph IR: a typed, frozen DAG of ops with hierarchical names.

A :class:`Graph` is what the expander makes of a spec and what every backend reads.
It is plain data: printable, serialisable to JSON, comparable in tests.

* A :class:`Node` is one op application. Its ``name`` is the dotted path that mirrors
  the spec (``b3.0.branch2.1``) and is the prefix of its weight names
  (``b3.0.branch2.1.weight``). ``op`` is the op's validated attribute model (its
  class *is* the op: ``type(node.op).op_name == "conv"``). ``inputs`` name producer
  nodes, or the network's inputs (:data:`GRAPH_INPUT` where the spec declares one unnamed
  ``input``). Nodes are stored in topological order.
* The graph's ``inputs`` map each input's name to its type, and its ``outputs`` map each
  output's name to the node that computes it (:data:`GRAPH_OUTPUT` for the one output of a
  spec that names none); ``named_outputs`` says the spec named them, so modules return a dict.
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
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from archspec.errors import InternalError, Location, SpecError

if TYPE_CHECKING:
    from archspec.ops import Op
    from archspec.spec.expand import Program

GRAPH_INPUT = "input"
#: The name of a network's one output when its spec names none.
GRAPH_OUTPUT = "output"

Dim = int | str
Shape = tuple[Dim, ...]

#: The dtypes a network's input may declare: real values, or integer ids (token ids, which
#: ``embedding`` turns into vectors). Every op computes float32 unless its docstring says otherwise.
FLOAT = "float32"
INDEX = "int64"
INPUT_DTYPES = (FLOAT, INDEX)


def tensor_name(node: str, name: str) -> str:
    """The canonical name of a node's parameter or buffer: ``b1.0`` and ``weight`` give
    ``b1.0.weight``; the empty name is the node's own value (a ``param`` step: ``layer_scale``)."""
    return f"{node}.{name}" if name else node


@dataclass(frozen=True, slots=True)
class TensorType:
    """A tensor's shape (ints, or symbols such as ``"N"``) and dtype, and which axis holds its features.

    A tensor of rank 3 or more is channels-first unless ``features_last`` says otherwise: a feature
    map [N, C, *S] has its features (channels) at axis 1, as the network's inputs do. A
    features-last one holds them in its last axis: a token sequence [N, T, D], or a feature map that
    ``permute`` made channels-last ([N, H, W, C], as torchvision's ConvNeXt does before its LayerNorm
    and Linear layers). The rule, op by op:

    * ``embedding`` makes one ([N, T] ids give [N, T, D]); ``permute`` makes one when it moves the
      features (axis 1 of a channels-first input, the last of a features-last one) last, and a
      channels-first one when it moves them elsewhere ([N, T, D] → [N, D, T]).
    * Ops that keep the features keep it: ``linear``, ``layernorm``, ``attention``, activations,
      ``dropout``; ``flatten``, ``select`` and ``reshape`` keep it while the last axis survives whole
      ([N, H, W, C] → [N, H*W, C]); [N, T, D] → [N, D] by ``select`` is rank 2.
    * A merge is features-last when one of its inputs of its rank is (a class token concatenated
      with tokens, a position embedding added to them); a ``param``, which has no batch and no layout
      of its own, is features-last when every step that reads it is such a merge
      (:func:`archspec.infer.infer_shapes`).
    * Ops that read axis 1 as channels (convolutions, pools, batch norm, ...) refuse a features-last
      input: a ``permute`` first says which axis is meant.

    Ranks 1 and 2 ([N], [N, F]) have their features last anyway and never set it. Backends use the
    flag to hold a tensor in the layout its ops want: Flax keeps channels-first maps channels-last
    and features-last tensors exactly as the spec has them; code generation follows the last axis
    of a features-last tensor as the size a class passes on (``nn.LayerNorm(hidden_dim)``).
    """

    shape: Shape
    dtype: str = FLOAT
    features_last: bool = False

    @property
    def rank(self) -> int:
        return len(self.shape)

    @property
    def features_axis(self) -> int:
        """The axis that holds the features: the last of a features-last tensor or of [N, F], else 1."""
        return self.rank - 1 if self.features_last or self.rank <= 2 else 1

    @property
    def is_integer(self) -> bool:
        """Whether the tensor holds integer ids rather than real values."""
        return self.dtype.startswith(("int", "uint"))

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
    """A network: its inputs' types, nodes in topological order, scopes and outputs."""

    name: str
    #: Each input's name and type, in the spec's order (the order of a forward's arguments).
    inputs: Mapping[str, TensorType]
    nodes: tuple[Node, ...]
    #: Each output's name and the node that computes it, in the spec's order.
    outputs: Mapping[str, str]
    scopes: tuple[Scope, ...] = ()
    doc: str = ""
    params: tuple[tuple[str, Any], ...] = ()
    #: The spec names its outputs: modules return ``{name: tensor}``, even for one of them.
    named_outputs: bool = False
    #: The block definitions this graph was expanded from, over their symbolic parameters: what
    #: the code generators write as classes (the nodes are one instance of them, for shapes,
    #: ONNX and parity). None for a graph made by hand.
    program: Program | None = field(default=None, compare=False, repr=False)
    _index: dict[str, Node] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._index.update((n.name, n) for n in self.nodes)

    def node(self, name: str) -> Node:
        return self._index[name]

    @property
    def input(self) -> TensorType:
        """The type of the network's one input (archspec's own bug to ask a network of several)."""
        if len(self.inputs) != 1:
            raise InternalError(f"graph '{self.name}' has {len(self.inputs)} inputs; its one input was asked for")
        return next(iter(self.inputs.values()))

    @property
    def output(self) -> str:
        """The node that computes the network's one output (archspec's own bug to ask of several)."""
        if len(self.outputs) != 1:
            raise InternalError(f"graph '{self.name}' has {len(self.outputs)} outputs; its one output was asked for")
        return next(iter(self.outputs.values()))

    def __len__(self) -> int:
        return len(self.nodes)

    def verify(self) -> None:
        """Check the IR's invariants: unique names, topological order, known inputs, arity.

        The expander makes graphs that hold them from any spec, so a failure is archspec's own
        bug, an :class:`~archspec.errors.InternalError` naming the node and where its spec is.
        """
        seen = set(self.inputs)
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
        for name, node_name in self.outputs.items():
            if node_name not in self._index:
                raise InternalError(f"IR: output '{name}' is '{node_name}', which is not a node")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description of the graph."""
        return {
            "name": self.name,
            "doc": self.doc,
            "inputs": {name: {"shape": list(t.shape), "dtype": t.dtype} for name, t in self.inputs.items()},
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
            "outputs": dict(self.outputs),
            "named_outputs": self.named_outputs,
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def __str__(self) -> str:
        width = max((len(n.name) for n in self.nodes), default=4)
        inputs = " ".join(f"{name}={t}" for name, t in self.inputs.items())
        outputs = " ".join(f"{name}={node}" for name, node in self.outputs.items())
        lines = [f"graph {self.name}  inputs: {inputs}  outputs: {outputs}"]
        for n in self.nodes:
            attrs = " ".join(f"{k}={v}" for k, v in n.op.model_dump().items())
            lines.append(f"  {n.name:<{width}}  {n.op_name:<12} ({', '.join(n.inputs)})  {attrs}".rstrip())
        return "\n".join(lines)
