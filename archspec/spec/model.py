"""The canonical, structured form of a spec, as pydantic v2 models.

Spec files are written in a shorthand (``conv(64, 7, stride=2) -> relu``, block
keys like ``inception(c1, c2, c3, c4)``, plain lists and mappings); the desugarer
(:mod:`archspec.spec.desugar`) rewrites the shorthand into these models, which are
the one form the expander reads. Every node remembers where it came from.

A layer is one of::

    {call: conv, args: [64, 3], kwargs: {padding: 1}}     an op or a block
    {seq: [layer, ...]}  or  {seq: {name: layer, ...}}     run one after another
    {concat: [layer, ...], axis: 1}                        branches on one input, joined
    {add: [layer, ...]}                                    branches on one input, summed
    {mul: [layer, ...]}                                    ... multiplied (size-1 axes broadcast)
    {add: {name: layer, ...}}                              named branches (also concat, mul)
    {concat: {0: layer, 1: layer, ...}}                    numbered branches, held in a list (nn.ModuleList)
    {repeat: n, do: layer}                                 n copies in sequence
    {for: [a, b], in: pairs, do: layer}                    one copy per item, names bound
    {if: cond, then: layer, else: layer}                   choose at expansion time
    {if: cond, then: layer}                                in a list: the layer, or nothing
    {dag: {name: {in: [names], do: layer}, ...}}           a named DAG
    {dag: {name: {if: cond, in: [a.4], do: layer}, ...}}   a node there only if cond, reading step 4 of node a

An argument is a literal (number, string, bool, null, list) or ``{expr: "c2[0]"}``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag
from pydantic.json_schema import SkipJsonSchema
from typing_extensions import TypeAliasType

from archspec.errors import Location


class Located(BaseModel):
    """Base of canonical nodes: frozen, no unknown keys, carrying a source location."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, arbitrary_types_allowed=True, defer_build=True
    )

    loc: SkipJsonSchema[Location | None] = Field(default=None, exclude=True, repr=False)
    #: Where the node's parts came from, for errors that point inside it: ``args.0`` (a
    #: positional argument), ``kwargs.stride`` (a keyword's value), ``keys.stride`` (the
    #: keyword itself), ``repeat``, ``in``, ``in.0``, ``axis``, ... (set by the desugarer).
    locs: SkipJsonSchema[dict[str, Location | None]] = Field(default={}, exclude=True, repr=False)


class Expr(Located):
    """An expression evaluated at expansion time, e.g. ``{expr: "c2[0]"}``."""

    expr: str = Field(min_length=1)


Arg = TypeAliasType("Arg", Union[bool, int, float, str, list["Arg"], Expr, None])  # type: ignore[misc]  # noqa: UP007


class Call(Located):
    """A call of an op (``conv``) or a block (``inception``)."""

    call: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    args: list[Arg] = []
    kwargs: dict[str, Arg] = {}


class Seq(Located):
    """Layers run one after another; a mapping names its steps, a list numbers them."""

    # Tagged by the data's own type, so that pydantic reports an error in a step once, not also
    # as "should be a valid list" for the form the steps are not written in.
    seq: Annotated[
        Annotated[list[Layer], Tag("list")] | Annotated[dict[str, Layer], Tag("dict")],
        Discriminator(lambda steps: "dict" if isinstance(steps, dict) else "list"),
    ]


#: The branches of a merge: a list (paths ``branch1``, ``branch2``, ...) or a mapping whose names
#: are the branches' paths (``{conv: ..., shortcut: identity}``; numbers ``{0: ..., 1: ...}``: see
#: :func:`numbered`), tagged like :class:`Seq`'s steps.
Branches = Annotated[
    Annotated[list["Layer"], Tag("list"), Field(min_length=1)]
    | Annotated[dict[str, "Layer"], Tag("dict"), Field(min_length=1)],
    Discriminator(lambda branches: "dict" if isinstance(branches, dict) else "list"),
]


def numbered(branches: list[Layer] | dict[str, Layer]) -> bool:
    """Whether a merge's branches are numbered, ``{0: a, 1: b, ...}``: held in a list under the
    merge's step (paths ``convs.0``, ``convs.1``: torchvision's ASPP keeps its branches in an
    ``nn.ModuleList``) instead of under names. The expander holds numbered branches to ``0, 1, 2,
    ...`` in order, and refuses a mix of numbered and named ones."""
    return isinstance(branches, dict) and all(is_number(key) for key in branches)


def is_number(key: str) -> bool:
    """Whether a branch's key is a number (``0``, ``12``), not a name."""
    return key.isascii() and key.isdigit()


class Concat(Located):
    """Branches applied to the same input, joined along ``axis`` (channels by default)."""

    concat: Branches
    axis: int = 1


class Add(Located):
    """Branches applied to the same input and summed (residual connections)."""

    add: Branches


class Mul(Located):
    """Branches applied to the same input and multiplied element-wise; a branch's size-1 axes
    stretch to the others' (a squeeze-and-excitation gate ``[N, C, 1, 1]`` over ``[N, C, H, W]``)."""

    mul: Branches


class Repeat(Located):
    """``repeat`` copies of ``do`` in sequence (inside a list they join the list)."""

    repeat: Arg
    do: Layer


class For(Located):
    """One copy of ``do`` per item of ``in``, with the item bound to the ``for`` names. With
    ``name``, a template such as ``denselayer{i + 1}`` (each ``{...}`` an expression of the
    loop's names), every copy is a named step of its list instead of a numbered one."""

    for_: list[str] = Field(alias="for", min_length=1)
    in_: Arg = Field(alias="in")
    do: Layer
    name: str | None = None


class If(Located):
    """``then`` when ``if`` is true at expansion time, else ``else``. Without ``else``, an item of a
    list that adds nothing when false (as a ``repeat`` of 0 would); anywhere else ``else`` is needed."""

    if_: Arg = Field(alias="if")
    then: Layer
    else_: Layer | None = Field(default=None, alias="else")


class DagNode(Located):
    """A DAG node: the names of its inputs (default: the node before it) and its layer. An input
    is an earlier node, or a numbered step of an earlier node that is a list of steps
    (``backbone.4``: torchvision's ``IntermediateLayerGetter``). With ``if``, the node is there
    only when the condition holds (an auxiliary head, ``if: aux_loss``); when it does not, no node
    may read it and an output naming it is left out."""

    in_: list[str] = Field(default=[], alias="in")
    do: Layer
    if_: Arg = Field(default=True, alias="if")


class Dag(Located):
    """A general DAG; its last node is its output and ``input`` names its input."""

    dag: dict[str, DagNode] = Field(min_length=1)


LAYER_KINDS: dict[str, type[Located]] = {
    "call": Call,
    "seq": Seq,
    "concat": Concat,
    "add": Add,
    "mul": Mul,
    "repeat": Repeat,
    "for": For,
    "if": If,
    "dag": Dag,
}


def _layer_kind(value: Any) -> str | None:
    if isinstance(value, Located):
        for key, cls in LAYER_KINDS.items():
            if type(value) is cls:
                return key
        return None
    if isinstance(value, dict):
        for key in LAYER_KINDS:
            if key in value:
                return key
    return None


Layer = Annotated[
    Annotated[Call, Tag("call")]
    | Annotated[Seq, Tag("seq")]
    | Annotated[Concat, Tag("concat")]
    | Annotated[Add, Tag("add")]
    | Annotated[Mul, Tag("mul")]
    | Annotated[Repeat, Tag("repeat")]
    | Annotated[For, Tag("for")]
    | Annotated[If, Tag("if")]
    | Annotated[Dag, Tag("dag")],
    Discriminator(
        _layer_kind,
        custom_error_type="layer_kind",
        custom_error_message="expected a layer: a call, a list, or a mapping with one of "
        "call, seq, concat, add, mul, repeat, for, if, dag",
    ),
]


class Param(Located):
    """A block parameter, with an optional default expression."""

    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    default: Arg = None
    required: bool = True


class Block(Located):
    """A reusable block: ``inception(c1, c2, c3, c4): <layer>``."""

    params: list[Param] = []
    body: Layer


class Library(Located):
    """A file of blocks for other specs to ``use``."""

    archspec: Literal[1]
    doc: str = ""
    use: list[str] = []
    blocks: dict[str, Block] = {}


#: A network input's dims: sizes, symbols (the batch ``N``) or the names of int params.
Dims = Annotated[list[int | str], Field(min_length=1)]
#: A plain name (of a param, an input, an output, a step).
Name = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]


class TensorDecl(Located):
    """A network input written out: ``{shape: [N, T], dtype: int64}`` (token ids). Its shorthand,
    the dims alone (``[N, 3, H, W]``), is a float32 tensor."""

    shape: Dims
    dtype: Literal["float32", "int64"] = "float32"


#: One input: its dims (float32), or its declaration written out; tagged by the data's own type,
#: so that a mistake in one form is not also reported as not being the other.
InputDecl = Annotated[
    Annotated[Dims, Tag("list")] | Annotated[TensorDecl, Tag("dict")],
    Discriminator(lambda value: "list" if isinstance(value, list) else "dict"),
]


class Spec(Library):
    """A network: its input (or named inputs), overridable params, blocks, the network layer
    itself, and optionally its named outputs.

    ``input: [N, 3, H, W]`` is one input, read by the network's first layer; ``inputs: {image:
    [N, 3, H, W], mask: {shape: [N, 1, H, W]}}`` are several, read by name in the network's DAG.
    Without ``outputs`` the network's output is its last layer's; ``outputs: [out, aux]`` (or
    ``{name: step}``) names the network's steps it returns, as a dict, in that order.
    """

    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_.-]*$")
    input: InputDecl | None = None
    inputs: dict[Name, InputDecl] | None = Field(default=None, min_length=1)
    outputs: list[Name] | dict[Name, Name] | None = Field(default=None, min_length=1)
    params: dict[Name, Arg] = {}  # names, as --set takes
    network: Layer


for _model in (Seq, Concat, Add, Mul, Repeat, For, If, DagNode, Dag, Block, TensorDecl, Spec, Library):
    _model.model_rebuild()
