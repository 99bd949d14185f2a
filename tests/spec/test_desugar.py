"""Shorthand to canonical form (archspec.spec.desugar): each row of its table, and errors."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from archspec import api
from archspec.errors import SpecError
from archspec.spec.desugar import Desugarer
from archspec.spec.loader import load_yaml_text

HEAD = "archspec: 1\nname: t\ninput: [N, 3, 16, 16]\nparams: {n: 2, flag: true, arch: [[1, 8], [2, 16]], k: 3}\n"


def strip(value: Any) -> Any:
    """Canonical data without source locations."""
    if isinstance(value, dict):
        return {k: strip(v) for k, v in value.items() if k not in ("loc", "locs")}
    if isinstance(value, list):
        return [strip(v) for v in value]
    return value


def desugar(yaml_text: str) -> dict[str, Any]:
    """The canonical data of a spec; the first error the desugarer recorded is raised."""
    desugarer = Desugarer(load_yaml_text(yaml_text, "net.yaml"))
    data = desugarer.document()
    if desugarer.errors:
        raise desugarer.errors[0]
    return data


def network(body: str) -> Any:
    """The canonical form of a ``network:`` written in YAML (indented under the key)."""
    return strip(desugar(HEAD + "network:\n" + textwrap.indent(textwrap.dedent(body), "  "))["network"])


def ir(tmp_path: Path, text: str) -> dict[str, Any]:
    path = tmp_path / "net.yaml"
    path.write_text(text)
    data = api.to_graph(path).to_dict()
    for node in data["nodes"]:
        node.pop("loc")
    return data


# ------------------------------------------------------------------ the table
CALL = {"call": "conv", "args": [64, 7], "kwargs": {"stride": 2}}
RELU = {"call": "relu"}
SIGMOID = {"call": "sigmoid"}


@pytest.mark.parametrize(
    ("body", "canonical"),
    [
        ("conv(64, 7, stride=2)", CALL),
        ("relu", RELU),
        ("conv(64, 7, stride=2) -> relu -> sigmoid", {"seq": [CALL, RELU, SIGMOID]}),
        ("[conv(64, 7, stride=2), relu, sigmoid]", {"seq": [CALL, RELU, SIGMOID]}),
        ("- conv(64, 7, stride=2)\n- relu\n- sigmoid", {"seq": [CALL, RELU, SIGMOID]}),
        ("b1: conv(64, 7, stride=2)\nb2: relu", {"seq": {"b1": CALL, "b2": RELU}}),
        ("(conv(64, 7, stride=2) -> relu) * n", {"repeat": {"expr": "n"}, "do": {"seq": [CALL, RELU]}}),
        ("relu * 3", {"repeat": 3, "do": RELU}),
        ("relu if flag else sigmoid", {"if": {"expr": "flag"}, "then": RELU, "else": SIGMOID}),
        (
            "for: n, c in arch\ndo: conv(c, n)",
            {
                "for": ["n", "c"],
                "in": {"expr": "arch"},
                "do": {"call": "conv", "args": [{"expr": "c"}, {"expr": "n"}], "kwargs": {}},
            },
        ),
        (
            "for: c in [8, 16]\ndo: conv(c, 1)",
            {"for": ["c"], "in": [8, 16], "do": {"call": "conv", "args": [{"expr": "c"}, 1], "kwargs": {}}},
        ),
    ],
)
def test_shorthand_desugars_to_the_canonical_form(body: str, canonical: Any) -> None:
    assert network(body) == canonical


def test_block_signatures() -> None:
    text = HEAD + "blocks:\n  'vgg(n, c=64, k=c // 2)': conv(c, 3)\n  stem: relu\nnetwork: stem\n"
    blocks = strip(desugar(text)["blocks"])
    assert blocks == {
        "vgg": {
            "params": [
                {"name": "n", "required": True},
                {"name": "c", "required": False, "default": 64},
                {"name": "k", "required": False, "default": {"expr": "c // 2"}},
            ],
            "body": {"call": "conv", "args": [{"expr": "c"}, 3], "kwargs": {}},
        },
        "stem": {"params": [], "body": RELU},
    }


@pytest.mark.parametrize(
    ("source", "arg"),
    [
        ("conv(-3, 1)", -3),
        ("conv(2.5, 1)", 2.5),
        ("conv('same', 1)", "same"),
        ("conv([1, 3], 1)", [1, 3]),
        ("conv((1, 3), 1)", [1, 3]),
        ("conv(true, 1)", {"expr": "true"}),  # a param may be called 'true'; evaluated in context
        ("conv(c2[0], 1)", {"expr": "c2[0]"}),
        ("conv(k  //  2, 1)", {"expr": "k  //  2"}),  # the source text, as written
        ("conv([k, 1], 1)", {"expr": "[k, 1]"}),
    ],
)
def test_arguments_are_literals_or_expressions(source: str, arg: Any) -> None:
    assert network(source)["args"][0] == arg


def test_expression_arguments_carry_their_source_columns() -> None:
    text = HEAD + "network: conv(c2[0], k // 2, padding=k % 2)\n"
    call = desugar(text)["network"]
    col = len("network: ") + 1
    assert call["loc"].line == 5 and call["loc"].column == col
    first, second = call["args"]
    assert (first["loc"].column, first["loc"].end_column) == (col + 5, col + 10)
    assert second["loc"].column == col + 12
    assert call["kwargs"]["padding"]["loc"].column == col + 28


def test_structured_form_arguments_given_as_yaml_data() -> None:
    body = "call: conv\nargs: [c * 2, 3]\nkwargs: {stride: 2, padding: k // 2}\n"
    assert network(body) == {
        "call": "conv",
        "args": [{"expr": "c * 2"}, 3],
        "kwargs": {"stride": 2, "padding": {"expr": "k // 2"}},
    }
    assert network("repeat: n\ndo: relu") == {"repeat": {"expr": "n"}, "do": RELU}
    assert network("if: k > 1\nthen: relu\nelse: sigmoid") == {"if": {"expr": "k > 1"}, "then": RELU, "else": SIGMOID}
    assert network("dag:\n  a: relu\n  b: {in: [a, input], do: add}") == {
        "dag": {"a": {"do": RELU}, "b": {"in": ["a", "input"], "do": {"call": "add"}}}
    }
    assert network("dag:\n  a: relu\n  b: {in: a, do: relu}")["dag"]["b"]["in"] == ["a"]


# ------------------------------------------------------------------ same IR
SHORT = """\
blocks:
  'stage(n, c)': (conv(c, 3, padding=1) -> relu) * n
network:
  stem: conv(8, 3, stride=2) -> relu
  body:
    - stage(1, 8)
    - for: i, c in arch
      do: stage(i, c)
  pick: sigmoid if flag else relu
  head: global_avgpool -> flatten -> linear(10)
"""

CANONICAL = """\
blocks:
  'stage(n, c)':
    repeat: n
    do:
      seq:
        - {call: conv, args: [c], kwargs: {kernel: 3, padding: 1}}
        - {call: relu}
network:
  seq:
    stem:
      seq: [{call: conv, args: [8, 3], kwargs: {stride: 2}}, {call: relu}]
    body:
      seq:
        - {call: stage, args: [1, 8]}
        - {for: [i, c], in: arch, do: {call: stage, args: [i, c]}}
    pick: {if: flag, then: {call: sigmoid}, else: {call: relu}}
    head:
      seq:
        - {call: global_avgpool}
        - {call: flatten}
        - {call: linear, kwargs: {out_features: 10}}
"""


def test_canonical_form_by_hand_gives_the_same_ir(tmp_path: Path) -> None:
    short = ir(tmp_path, HEAD + SHORT)
    names = [n["name"] for n in short["nodes"]]
    assert names[:4] == ["stem.0", "stem.1", "body.0.0.0", "body.0.0.1"]  # block stage > repeat copy > seq
    assert names[-4:] == ["pick", "head.0", "head.1", "head.2"]
    assert ir(tmp_path, HEAD + CANONICAL) == short


def test_json_spec_gives_the_same_ir(tmp_path: Path) -> None:
    yaml_ir = ir(tmp_path, HEAD + "network: conv(8, 3) -> relu -> [flatten, linear(k)]\n")
    path = tmp_path / "net.json"
    path.write_text(
        '{"archspec": 1, "name": "t", "input": ["N", 3, 16, 16], "params": {"n": 2, "flag": true,'
        ' "arch": [[1, 8], [2, 16]], "k": 3}, "network": "conv(8, 3) -> relu -> [flatten, linear(k)]"}'
    )
    data = api.to_graph(path).to_dict()
    for node in data["nodes"]:
        node.pop("loc")
    assert data == yaml_ir


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("relu -> 3 * conv(3, 1)", "write the layer first"),
        ("[]", "empty list where a layer is expected"),
        ("''", "empty string where a layer is expected"),
        ("{}", "empty mapping where a layer is expected"),
        ("relu -> 3", "expected a layer"),
        ("conv(relu -> relu)", "a layer chain cannot be an argument"),
        ("conv(1, stride=1, stride=2)", "given twice"),
        ("conv(**k)", "'**' is not allowed"),
        ("x.conv(1)", "not allowed"),
        ("do: relu", "'do' given without the key it belongs to"),
        ("b1: 3", "expected a layer"),
    ],
)
def test_shorthand_errors(body: str, message: str) -> None:
    with pytest.raises(SpecError) as info:
        network(body)
    assert message in info.value.message
    assert info.value.loc is not None and info.value.loc.file == "net.yaml" and info.value.loc.line >= 5


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("'vgg(n=1, c)'", "invalid expression"),
        ("'vgg(n, n)'", "listed twice"),
        ("'vgg(n, 3)'", "plain names"),
        ("'vgg(n, **k)'", "'**' is not allowed"),
        ("'vgg.x'", "not allowed"),
        ("'vgg[0]'", "a block name must be a plain name"),
    ],
)
def test_block_signature_errors(key: str, message: str) -> None:
    with pytest.raises(SpecError) as info:
        desugar(HEAD + f"blocks:\n  {key}: relu\nnetwork: relu\n")
    assert message in info.value.message
    assert info.value.loc is not None and info.value.loc.line == 6


def test_block_defined_twice() -> None:
    with pytest.raises(SpecError, match="block 'vgg' is defined twice"):
        desugar(HEAD + "blocks:\n  'vgg(n)': relu\n  vgg: relu\nnetwork: relu\n")


def test_for_binds_plain_names_only() -> None:
    with pytest.raises(SpecError, match="binds plain names"):
        network("for: a[0] in arch\ndo: relu")


def test_a_spec_must_be_a_mapping() -> None:
    with pytest.raises(SpecError, match="must be a mapping"):
        desugar("- relu\n")


def test_a_block_named_like_an_op_is_refused_at_its_name() -> None:
    from archspec import api

    spec = {
        "archspec": 1,
        "name": "t",
        "input": ["N", 3, 8, 8],
        "blocks": {"conv(c)": "relu"},  # would silently replace every conv of the network
        "network": "conv(4, 3)",
    }
    with pytest.raises(SpecError, match="block 'conv' has the name of an op") as info:
        api.to_graph(spec)
    assert info.value.hint is not None and "conv_block" in info.value.hint
