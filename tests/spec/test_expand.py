"""Expansion to the graph IR (archspec.spec.expand, archspec.spec.program, archspec.api, archspec.ir)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from archspec import api
from archspec.errors import InternalError, SpecError
from archspec.ir import GRAPH_INPUT, Graph, Node, ScopeKind, TensorType
from archspec.ops import REGISTRY

ROOT = Path(__file__).resolve().parents[2]
GOOGLENET = ROOT / "specs" / "googlenet.yaml"
HEAD = "archspec: 1\nname: t\ninput: [N, 3, 8, 8]\n"


def write(tmp_path: Path, text: str, name: str = "net.yaml") -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def graph(tmp_path: Path, body: str, **kw: Any) -> Graph:
    return api.to_graph(write(tmp_path, HEAD + body), **kw)


def nodes(g: Graph) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(n.name, n.op_name, n.inputs) for n in g.nodes]


def failure(tmp_path: Path, body: str, **kw: Any) -> SpecError:
    with pytest.raises(SpecError) as info:
        api.shapes(write(tmp_path, HEAD + body), **kw)
    return info.value


# ------------------------------------------------------------------ paths
def test_googlenet_paths_mirror_the_spec() -> None:
    g = api.to_graph(GOOGLENET)
    assert g.node("b3.0.branch2.1").op_name == "relu"
    conv = g.node("b3.0.branch2.2")
    assert conv.op_name == "conv" and conv.op.out_channels == 128  # type: ignore[attr-defined]
    assert conv.inputs == ("b3.0.branch2.1",)
    assert conv.trace == ("b3", "inception#1", "branch 2", "conv#3")
    merge = g.node("b3.0")
    assert merge.op_name == "concat"
    assert merge.inputs == ("b3.0.branch1.1", "b3.0.branch2.3", "b3.0.branch3.3", "b3.0.branch4.2")
    scopes = {s.path: s for s in g.scopes}
    assert scopes["b3.0"].kind is ScopeKind.BLOCK and scopes["b3.0"].label == "inception"
    assert dict(scopes["b3.0"].args) == {"c1": 64, "c2": [96, 128], "c3": [16, 32], "c4": 32}
    assert scopes["b1"].kind is ScopeKind.SEQ and scopes["b1"].output == "b1.2"
    assert g.output == "head.1"
    assert api.shapes(g).output.shape == ("N", 10)


def test_repeat_and_for_splice_into_a_list(tmp_path: Path) -> None:
    g = graph(
        tmp_path,
        "params: {n: 2}\nnetwork:\n  - conv(4, 1)\n  - relu * n\n  - for: c in [5, 6]\n    do: conv(c, 1)\n"
        "  - sigmoid * 0\n  - (tanh -> identity) * 1\n",
    )
    assert nodes(g) == [
        ("0", "conv", (GRAPH_INPUT,)),
        ("1", "relu", ("0",)),
        ("2", "relu", ("1",)),
        ("3", "conv", ("2",)),
        ("4", "conv", ("3",)),
        ("5.0", "tanh", ("4",)),
        ("5.1", "identity", ("5.0",)),
    ]
    assert [n.trace[-1] for n in g.nodes[:5]] == ["conv#1", "relu#2", "relu#3", "conv#4", "conv#5"]


def test_repeat_outside_a_list_and_repeat_zero_times(tmp_path: Path) -> None:
    g = graph(tmp_path, "network:\n  a: relu * 2\n  b: relu * 0\n  c: sigmoid\n")
    assert nodes(g) == [("a.0", "relu", ("input",)), ("a.1", "relu", ("a.0",)), ("c", "sigmoid", ("a.1",))]
    assert "no layers" in failure(tmp_path, "network: relu * 0\n").message


@pytest.mark.parametrize("count", ["-1", "2.5", "true", "[1]", "\"'x'\""])
def test_repeat_count_must_be_a_whole_number(tmp_path: Path, count: str) -> None:
    err = failure(tmp_path, f"network:\n  repeat: {count}\n  do: relu\n")
    assert "repeat count" in err.message


def test_for_errors(tmp_path: Path) -> None:
    assert "needs a list" in failure(tmp_path, "network:\n  for: c in 3\n  do: relu\n").message
    err = failure(tmp_path, "network:\n  for: a, b in [[1, 2], [3]]\n  do: relu\n")
    assert "cannot unpack [3] into a, b" in err.message


# ------------------------------------------------------------------ blocks and scoping
def test_nested_blocks_with_defaults_from_earlier_params(tmp_path: Path) -> None:
    body = (
        "params: {width: 8, growth: 3}\n"
        "blocks:\n"
        "  'inner(c, k=c // 4 + 1, pad=k // 2)': conv(c, k, padding=pad)\n"
        "  'outer(c, d=c * growth)': [inner(c), inner(d, k=1)]\n"
        "network:\n  b: outer(width)\n"
    )
    g = graph(tmp_path, body)
    first, second = g.node("b.0").op, g.node("b.1").op
    assert (first.out_channels, first.kernel, first.padding) == (8, (3, 3), ((1, 1), (1, 1)))  # type: ignore[attr-defined]
    assert (second.out_channels, second.kernel, second.padding) == (24, (1, 1), ((0, 0), (0, 0)))  # type: ignore[attr-defined]
    scopes = {s.path: dict(s.args) for s in g.scopes if s.kind is ScopeKind.BLOCK}
    assert scopes == {"b": {"c": 8, "d": 24}, "b.0": {"c": 8, "k": 3, "pad": 1}, "b.1": {"c": 24, "k": 1, "pad": 0}}
    assert api.shapes(g).output.shape == ("N", 24, 8, 8)


def test_block_body_does_not_see_the_callers_loop_variables(tmp_path: Path) -> None:
    blocks = "blocks:\n  'blk(c)': conv(i, 1)\n  'ok(c, i)': conv(i + c, 1)\n"
    err = failure(tmp_path, blocks + "network:\n  for: i in [4]\n  do: blk(1)\n")
    assert err.message == "undefined name 'i'"
    assert err.trace[-2:] == ("blk#1", "conv")
    g = graph(tmp_path, blocks + "network:\n  for: i in [4]\n  do: ok(1, i)\n")
    assert g.node("0").op.out_channels == 5  # type: ignore[attr-defined]


def test_block_arguments_are_evaluated_in_the_callers_scope(tmp_path: Path) -> None:
    g = graph(tmp_path, "blocks:\n  'blk(c)': conv(c, 1)\nnetwork:\n  for: c in [2, 3]\n  do: blk(c * 2)\n")
    assert [n.op.out_channels for n in g.nodes] == [4, 6]  # type: ignore[attr-defined]


def test_block_call_errors(tmp_path: Path) -> None:
    blocks = "blocks:\n  'blk(c, k=3)': conv(c, k)\n"
    assert "missing argument 'c'" in failure(tmp_path, blocks + "network: blk(k=1)\n").message
    assert "takes 2 arguments, got 3" in failure(tmp_path, blocks + "network: blk(1, 2, 3)\n").message
    assert "two values for 'c'" in failure(tmp_path, blocks + "network: blk(1, c=2)\n").message
    err = failure(tmp_path, blocks + "network: blk(4, kk=1)\n")
    assert err.message == "unknown argument 'kk' for block blk" and err.hint == "did you mean 'k'?"
    err = failure(tmp_path, "blocks:\n  a: b\n  b: relu -> a\nnetwork: a\n")
    assert "recursive: a -> b -> a" in err.message


def test_if_else_chooses_at_expansion(tmp_path: Path) -> None:
    body = (
        "params: {flag: false, k: 3}\n"
        "network:\n  x: relu if flag else sigmoid\n  y:\n    if: k > 2\n    then: tanh\n    else: relu\n"
    )
    assert nodes(graph(tmp_path, body)) == [("x", "sigmoid", ("input",)), ("y", "tanh", ("x",))]
    assert nodes(graph(tmp_path, body, params={"flag": True, "k": 1})) == [
        ("x", "relu", ("input",)),
        ("y", "relu", ("x",)),
    ]


# ------------------------------------------------------------------ dag
def test_dag_inputs_and_default_previous_input(tmp_path: Path) -> None:
    body = (
        "network:\n  - relu\n  - dag:\n      a: conv(4, 1)\n      b: relu\n"
        "      c: {in: [input], do: conv(4, 1)}\n      d: {in: [b, c], do: add}\n      e: sigmoid\n"
    )
    g = graph(tmp_path, body)
    assert nodes(g) == [
        ("0", "relu", ("input",)),
        ("1.a", "conv", ("0",)),
        ("1.b", "relu", ("1.a",)),
        ("1.c", "conv", ("0",)),
        ("1.d", "add", ("1.b", "1.c")),
        ("1.e", "sigmoid", ("1.d",)),
    ]
    scope = next(s for s in g.scopes if s.path == "1")
    assert scope.kind is ScopeKind.DAG and scope.output == "1.e"


@pytest.mark.parametrize(
    ("dag", "message"),
    [
        ("a: {in: [b], do: relu}\n    b: relu", "reads 'b', which is defined after it"),
        ("a: relu\n    b: {in: [a, zz], do: add}", "reads unknown node 'zz'"),
        ("input: relu", "cannot name a DAG node"),
        ("a: relu\n    b: {in: [a, input], do: relu}", "relu takes 1 input, got 2"),
    ],
)
def test_dag_errors(tmp_path: Path, dag: str, message: str) -> None:
    err = failure(tmp_path, f"network:\n  dag:\n    {dag}\n")
    assert message in err.message
    assert err.loc is not None and err.loc.line >= 6


# ------------------------------------------------------------------ use: libraries
def test_use_nested_libraries(tmp_path: Path) -> None:
    write(tmp_path, "archspec: 1\nuse: [b.yaml]\nblocks:\n  'ca(c)': cb(c) -> relu\n", "lib/a.yaml")
    write(tmp_path, "archspec: 1\nblocks:\n  'cb(c)': conv(c, 1)\n", "lib/b.yaml")
    spec = write(tmp_path, HEAD + "use: [lib/a.yaml, lib/b.yaml]\nnetwork: [ca(4), cb(5)]\n")
    assert nodes(api.to_graph(spec)) == [
        ("0.0", "conv", ("input",)),
        ("0.1", "relu", ("0.0",)),
        ("1", "conv", ("0.1",)),
    ]


def test_use_cycle(tmp_path: Path) -> None:
    write(tmp_path, "archspec: 1\nuse: [d.yaml]\nblocks:\n  x: relu\n", "lib/c.yaml")
    write(tmp_path, "archspec: 1\nuse: [c.yaml]\nblocks:\n  y: relu\n", "lib/d.yaml")
    with pytest.raises(SpecError, match=r"'use' cycle: c.yaml -> d.yaml -> c.yaml") as info:
        api.to_graph(write(tmp_path, HEAD + "use: [lib/c.yaml]\nnetwork: x\n"))
    assert info.value.loc is not None and info.value.loc.file.endswith("d.yaml")
    with pytest.raises(SpecError, match=r"'use' cycle: self\.yaml -> self\.yaml"):
        api.to_graph(write(tmp_path, HEAD + "use: [self.yaml]\nnetwork: relu\n", "self.yaml"))


def test_duplicate_block_names_across_libraries(tmp_path: Path) -> None:
    write(tmp_path, "archspec: 1\nblocks:\n  'cb(c)': conv(c, 1)\n", "lib/b.yaml")
    write(tmp_path, "archspec: 1\nblocks:\n  'cb(c)': conv(c, 3)\n", "lib/e.yaml")
    with pytest.raises(SpecError, match=r"block 'cb' is defined in both .*b\.yaml and .*e\.yaml") as info:
        api.to_graph(write(tmp_path, HEAD + "use: [lib/b.yaml, lib/e.yaml]\nnetwork: cb(4)\n"))
    assert info.value.loc is not None and (info.value.loc.line, info.value.loc.column) == (4, 19)
    # as the hint says, the spec's own block wins over both
    own = write(tmp_path, HEAD + "use: [lib/b.yaml, lib/e.yaml]\nblocks:\n  'cb(c)': relu\nnetwork: cb(4)\n")
    assert nodes(api.to_graph(own)) == [("relu", "relu", ("input",))]


def test_use_errors(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"cannot find block library 'lib/none\.yaml'"):
        api.to_graph(write(tmp_path, HEAD + "use: [lib/none.yaml]\nnetwork: relu\n"))
    lib = write(tmp_path, "archspec: 1\nblocks:\n  x: relu\n", "lib.yaml")
    with pytest.raises(SpecError, match="is a block library") as info:
        api.to_graph(lib)
    assert info.value.loc is not None and info.value.loc.line == 2  # at its blocks, what makes it one


# ------------------------------------------------------------------ --set and --input
def test_set_overrides_params(tmp_path: Path) -> None:
    assert api.shapes(GOOGLENET).output.shape == ("N", 10)
    assert api.shapes(GOOGLENET, params={"classes": 100}).output.shape == ("N", 100)
    path = write(tmp_path, HEAD + "params: {rate: 0.5, c: 4}\nnetwork: [dropout(rate), conv(c, 1)]\n")
    g = api.to_graph(path, params={"rate": 0, "c": 6})  # an int for a float param is fine
    assert g.node("0").op.p == 0 and g.node("1").op.out_channels == 6  # type: ignore[attr-defined]
    assert dict(g.params) == {"rate": 0, "c": 6}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"classes": "ten"}, "--set classes: the spec's value is an int, the new one a string"),
        ({"classes": 10.0}, "the new one a number"),
        ({"classes": True}, "the new one a boolean"),
        ({"clases": 3}, "unknown param 'clases' in --set"),
    ],
)
def test_set_errors(params: dict[str, Any], message: str) -> None:
    with pytest.raises(SpecError) as info:
        api.shapes(GOOGLENET, params=params)
    assert message in info.value.message
    if "unknown" in message:
        assert info.value.hint == "did you mean 'classes'?"


def test_input_override() -> None:
    report = api.shapes(GOOGLENET, input_shape=[2, 1, 224, 224])
    assert report.graph.input == TensorType((2, 1, 224, 224))
    assert report.output.shape == (2, 10)
    assert report.info["b1.0"].output.shape == (2, 64, 112, 112)
    with pytest.raises(SpecError, match="input sizes must be positive"):
        api.shapes(GOOGLENET, input_shape=[1, 1, 0, 96])
    with pytest.raises(SpecError, match="neither a size nor a symbol"):
        api.shapes(GOOGLENET, input_shape=["1x", 1, 96, 96])


def test_input_dims_may_name_params(tmp_path: Path) -> None:
    path = write(tmp_path, "archspec: 1\nname: t\ninput: [N, C, 8, 8]\nparams: {C: 3}\nnetwork: conv(4, 1)\n")
    assert api.to_graph(path, params={"C": 5}).input.shape == ("N", 5, 8, 8)


# ------------------------------------------------------------------ op binding errors
@pytest.mark.parametrize(
    ("network", "message", "hint"),
    [
        ("cnv(4, 1)", "unknown op or block 'cnv'", "did you mean 'conv'?"),
        ("conv(4, 1, strides=2)", "unknown argument 'strides' for conv", "did you mean 'stride'?"),
        ("batchnorm(momentum=0.1)", "unknown argument 'momentum' for batchnorm", "update_rate"),
        ("relu(1)", "relu takes at most 0 arguments, got 1", None),
        ("conv(4)", "conv is missing argument 'kernel'", None),
        ("conv(0, 1)", "invalid 'out_channels' of conv", None),
        ("dropout(1.5)", "invalid 'p' of dropout", None),
        ("conv(4, 1, 2, stride=2)", "got two values for 'stride'", None),
    ],
)
def test_op_binding_errors(tmp_path: Path, network: str, message: str, hint: str | None) -> None:
    err = failure(tmp_path, f"network: {network}\n")
    assert message in err.message
    assert err.loc is not None and err.loc.line == 4
    if hint is not None:
        assert err.hint is not None and hint in err.hint


def test_shape_errors_are_located_with_the_block_stack(tmp_path: Path) -> None:
    body = "blocks:\n  'res(c)':\n    add: [conv(c, 3, padding=1), identity]\nnetwork:\n  b1: res(4)\n"
    err = failure(tmp_path, body)
    assert "add inputs do not broadcast" in err.message
    assert err.expected is not None and err.expected.startswith("[N, 4, 8, 8], or")
    assert err.found == "[N, 3, 8, 8]"
    assert err.trace == ("b1", "res")
    assert err.loc is not None and err.loc.line == 6


# ------------------------------------------------------------------ the IR
def test_verify_accepts_lowered_graphs_and_rejects_broken_ones() -> None:
    g = api.to_graph(GOOGLENET)
    g.verify()
    relu, conv = REGISTRY["relu"](), REGISTRY["conv"](out_channels=4, kernel=1)
    cases = {
        "duplicate node name": (Node("a", relu, (GRAPH_INPUT,)), Node("a", relu, ("a",))),
        "not defined before it": (Node("a", relu, ("b",)), Node("b", conv, (GRAPH_INPUT,))),
        "takes 1 input, got 2": (Node("a", relu, (GRAPH_INPUT, GRAPH_INPUT)),),
    }
    for message, broken in cases.items():
        with pytest.raises(InternalError, match=message):  # archspec's bug, never a user's SpecError
            Graph("x", {GRAPH_INPUT: TensorType((1, 3, 4, 4))}, broken, {"output": broken[-1].name}).verify()
    with pytest.raises(InternalError, match="output 'output' is 'zz', which is not a node"):
        Graph(
            "x", {GRAPH_INPUT: TensorType((1, 3, 4, 4))}, (Node("a", relu, (GRAPH_INPUT,)),), {"output": "zz"}
        ).verify()
    assert not issubclass(InternalError, SpecError)


def test_to_json_round_trips() -> None:
    g = api.to_graph(GOOGLENET, params={"classes": 7})
    data = json.loads(g.to_json())
    assert data == g.to_dict()
    assert data["name"] == "googlenet" and data["params"] == {"classes": 7}
    assert data["inputs"] == {"input": {"shape": ["N", 1, 96, 96], "dtype": "float32"}}
    node = next(n for n in data["nodes"] if n["name"] == "b3.0.branch2.2")
    assert node["op"] == "conv" and node["inputs"] == ["b3.0.branch2.1"]
    assert node["attrs"]["kernel"] == [3, 3] and node["attrs"]["padding"] == [[1, 1], [1, 1]]
    line = (ROOT / "specs" / "blocks" / "inception.yaml").read_text().splitlines()[6]
    assert node["loc"].endswith(f"inception.yaml:7:{line.find('conv(c2[1]') + 1}")  # the block's text
    assert len(data["nodes"]) == len(g) and data["outputs"] == {"output": g.output}
    assert json.loads(g.to_json(indent=None)) == data


@pytest.mark.parametrize(
    ("layer", "trace"),
    [
        ({"concat": ["conv(4, 3, strides=1)"]}, ("concat#2", "branch 1", "conv")),
        ({"add": ["conv(4, 3, strides=1)"]}, ("add#2", "branch 1", "conv")),
        ({"mul": ["identity", "conv(4, 3, strides=1)"]}, ("mul#2", "branch 2", "conv")),
        # in a list an if stands for the layer it chooses, as a repeat for its copies
        ({"if": "true", "then": "conv(4, 3, strides=1)", "else": "relu"}, ("conv#2",)),
        ({"dag": {"a": {"if": "true", "then": "conv(4, 3, strides=1)", "else": "relu"}}}, ("dag#2", "a", "conv")),
        ({"dag": {"a": "conv(4, 3, strides=1)"}}, ("dag#2", "a", "conv")),
        (["conv(4, 3, strides=1)"], ("seq#2", "conv#1")),
        ({"repeat": 1, "do": "conv(4, 3, strides=1)"}, ("conv#2",)),  # a repeat's copies join the list
    ],
)
def test_each_kind_of_layer_is_expanded_and_named_in_the_block_stack(layer: Any, trace: tuple[str, ...]) -> None:
    spec = {"archspec": 1, "name": "t", "input": [1, 3, 8, 8], "network": ["relu", layer]}
    with pytest.raises(SpecError, match="unknown argument 'strides' for conv") as info:
        api.shapes(spec)
    assert info.value.trace == trace
