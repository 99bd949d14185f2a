"""A DAG node reading a numbered step of an earlier node (``in: [backbone.4]``, torchvision's
``IntermediateLayerGetter``) and DAG nodes there only when their ``if`` holds (an auxiliary head,
``if: aux_loss``), with the outputs that name them left out: the IR, and every mistake located."""

from __future__ import annotations

from pathlib import Path

import pytest

from archspec import api
from archspec.errors import SpecError
from archspec.ir import TensorType

TAPPED = """\
archspec: 1
name: tapped
input: [N, 3, 16, 16]
params: {aux_loss: false}
outputs: [out, aux]
network:
  dag:
    body:
      - conv(8, 3, padding=1)
      - conv(8, 3, stride=2, padding=1)
      - relu
      - conv(16, 3, stride=2, padding=1)
    out: global_avgpool -> flatten -> linear(4)
    aux_head: {if: aux_loss, in: [body.1], do: conv(4, 1)}
    aux:
      if: aux_loss
      do: upsample(size=[input.shape[2], input.shape[3]])
"""


def _spec(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "net.yaml"
    path.write_text(text)
    return path


def _error(tmp_path: Path, text: str, **params: object) -> SpecError:
    with pytest.raises(SpecError) as info:
        api.shapes(_spec(tmp_path, text), params=params)
    return info.value


def test_a_node_reads_a_numbered_step_of_an_earlier_list(tmp_path: Path) -> None:
    graph = api.to_graph(_spec(tmp_path, TAPPED), params={"aux_loss": True})
    assert graph.node("aux_head").inputs == ("body.1",)  # the step's value, computed once
    assert graph.node("body.2").inputs == ("body.1",)
    report = api.shapes(graph)
    assert report.outputs == {"out": TensorType(("N", 4)), "aux": TensorType(("N", 4, 16, 16))}
    assert report.info["aux_head"].output == TensorType(("N", 4, 8, 8))


def test_a_step_that_is_a_block_gives_the_block_output(tmp_path: Path) -> None:
    text = TAPPED.replace("      - relu\n", "      - act\n").replace(
        "network:", "blocks:\n  act: relu -> identity\nnetwork:"
    )
    text = text.replace("in: [body.1]", "in: [body.2]")
    graph = api.to_graph(_spec(tmp_path, text), params={"aux_loss": True})
    assert graph.node("aux_head").inputs == ("body.2.1",)


def test_nodes_whose_if_does_not_hold_are_not_there_and_their_outputs_are_left_out(tmp_path: Path) -> None:
    graph = api.to_graph(_spec(tmp_path, TAPPED))
    assert not any(node.name.startswith("aux") for node in graph.nodes)
    assert graph.outputs == {"out": "out.2"} and graph.named_outputs  # still a dict of one
    with_aux = api.to_graph(_spec(tmp_path, TAPPED), params={"aux_loss": True})
    assert with_aux.outputs == {"out": "out.2", "aux": "aux"}


def test_an_if_in_a_block_reads_the_block_parameters(tmp_path: Path) -> None:
    text = """\
archspec: 1
name: gated
input: [N, 3, 8, 8]
blocks:
  two(extra):
    dag:
      a: conv(4, 1)
      b: {if: extra, do: relu}
network: [two(false), two(true)]
"""
    graph = api.to_graph(_spec(tmp_path, text))
    assert [node.name for node in graph.nodes] == ["0.a", "1.a", "1.b"]


def test_reading_a_node_that_is_not_there_is_an_error_at_the_read(tmp_path: Path) -> None:
    text = TAPPED.replace("      if: aux_loss\n", "      in: [aux_head]\n")
    error = _error(tmp_path, text)
    assert "reads 'aux_head', which is not there: its 'if' does not hold" in error.message
    assert error.loc is not None and error.loc.line == 16
    assert error.hint == "give 'aux' the same condition ('if:') as 'aux_head'"


def test_a_step_past_the_end_of_the_list_is_an_error_that_says_its_steps(tmp_path: Path) -> None:
    error = _error(tmp_path, TAPPED.replace("body.1", "body.4"), aux_loss=True)
    assert error.message == "'body.4' names no step of node 'body'"
    assert error.expected == "one of body.0 to body.3"
    assert error.loc is not None and (error.loc.line, error.loc.column) == (14, 35)  # at the name


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("out.3", "'out.3' names no step of node 'out'"),  # a chain is a list of three
        ("bdy.1", "'bdy.1' names no step of an earlier node: 'bdy' is not a node before this one"),
        ("body.1.0", "'body.1.0' names no step of node 'body'"),  # a direct step only
        ("body.x", "'body.x' names no step of node 'body'"),
        ("body.01", "'body.01' names no step of node 'body'"),  # a step's name, not a number's value
    ],
)
def test_a_dotted_read_names_a_step_of_an_earlier_list(tmp_path: Path, ref: str, message: str) -> None:
    text = TAPPED.replace("in: [body.1]", f"in: [{ref}]")
    error = _error(tmp_path, text, aux_loss=True)
    assert error.message == message
    assert error.loc is not None and error.loc.line == 14


def test_a_dotted_read_of_a_node_that_is_no_list_is_refused(tmp_path: Path) -> None:
    text = TAPPED.replace("    out: global_avgpool -> flatten -> linear(4)\n", "    out: {add: [identity, relu]}\n")
    text = text.replace("in: [body.1]", "in: [out.branch1]").replace("outputs: [out, aux]", "outputs: [aux]")
    error = _error(tmp_path, text, aux_loss=True)
    assert error.message == "'out.branch1' names no step of node 'out'"
    assert error.expected == "an earlier node that is a list of steps, 'out' is not one"


def test_an_output_naming_no_step_is_still_an_error(tmp_path: Path) -> None:
    error = _error(tmp_path, TAPPED.replace("outputs: [out, aux]", "outputs: [out, auxx]"))
    assert error.message == "output 'auxx' names 'auxx', which is no step of the network"


def test_outputs_that_are_all_absent_are_an_error(tmp_path: Path) -> None:
    error = _error(tmp_path, TAPPED.replace("outputs: [out, aux]", "outputs: [aux]"))
    assert error.message == "the network returns nothing: every output names a DAG node whose 'if' does not hold"
    assert error.loc is not None and error.loc.line == 5
