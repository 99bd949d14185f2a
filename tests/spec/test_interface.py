"""A network's named inputs and outputs (``inputs:``, ``outputs:``) and integer inputs: what the
IR and the shape report make of them, and every mistake located where it is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from archspec import api
from archspec.errors import SpecError
from archspec.ir import GRAPH_INPUT, GRAPH_OUTPUT, TensorType

TWO_HEADS = """\
archspec: 1
name: two_heads
inputs:
  image: [N, 3, 16, 16]
  mask: {shape: [N, 1, 16, 16]}
outputs: [out, aux]
network:
  dag:
    joined: {in: [image, mask], do: concat}
    stem: conv(8, 3, padding=1) -> relu
    aux: global_avgpool -> flatten -> linear(3)
    out: {in: [stem], do: conv(2, 1)}
"""


def _spec(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "net.yaml"
    path.write_text(text)
    return path


def _error(tmp_path: Path, text: str, **kwargs: object) -> SpecError:
    with pytest.raises(SpecError) as info:
        api.shapes(_spec(tmp_path, text), **kwargs)  # type: ignore[arg-type]
    return info.value


def test_named_inputs_are_graph_inputs_read_by_name_and_outputs_name_steps(tmp_path: Path) -> None:
    graph = api.to_graph(_spec(tmp_path, TWO_HEADS))
    assert graph.inputs == {"image": TensorType(("N", 3, 16, 16)), "mask": TensorType(("N", 1, 16, 16))}
    assert graph.node("joined").inputs == ("image", "mask")
    assert graph.outputs == {"out": "out", "aux": "aux.2"}  # in the spec's order; a step's last node
    assert graph.named_outputs


def test_the_shape_report_gives_every_output_and_marks_its_row(tmp_path: Path) -> None:
    report = api.shapes(_spec(tmp_path, TWO_HEADS))
    assert report.outputs == {"out": TensorType(("N", 2, 16, 16)), "aux": TensorType(("N", 3))}
    marked = {row.path: row.output for row in report.table(1) if row.output}
    assert marked == {"aux": "aux", "out": "out"}
    data = report.to_dict(1)
    assert data["inputs"] == {"image": ["N", 3, 16, 16], "mask": ["N", 1, 16, 16]}
    assert data["outputs"] == {"out": ["N", 2, 16, 16], "aux": ["N", 3]}
    assert data["input"] is None and data["output"] is None  # no one input or output to give


def test_one_unnamed_input_and_output_are_as_before(tmp_path: Path) -> None:
    graph = api.to_graph(_spec(tmp_path, "archspec: 1\nname: n\ninput: [N, 3, 8, 8]\nnetwork: conv(4, 1) -> relu\n"))
    assert list(graph.inputs) == [GRAPH_INPUT] and graph.outputs == {GRAPH_OUTPUT: "1"}
    assert not graph.named_outputs and graph.input == TensorType(("N", 3, 8, 8))


def test_outputs_as_a_mapping_name_the_steps_otherwise(tmp_path: Path) -> None:
    text = TWO_HEADS.replace("outputs: [out, aux]", "outputs: {seg: out, cls: aux}")
    assert api.to_graph(_spec(tmp_path, text)).outputs == {"seg": "out", "cls": "aux.2"}


def test_an_integer_input_keeps_its_dtype(tmp_path: Path) -> None:
    text = "archspec: 1\nname: ids\ninput: {shape: [N, 5], dtype: int64}\nnetwork: reshape([0, 5, 1])\n"
    graph = api.to_graph(_spec(tmp_path, text))
    assert graph.input == TensorType(("N", 5), "int64")


def test_input_shape_overrides_named_inputs_by_name(tmp_path: Path) -> None:
    report = api.shapes(_spec(tmp_path, TWO_HEADS), input_shape={"image": [2, 3, 8, 8], "mask": [2, 1, 8, 8]})
    assert report.outputs["out"] == TensorType((2, 2, 8, 8))


@pytest.mark.parametrize(
    ("shape", "message", "hint"),
    [
        ([1, 3, 8, 8], "the network has 2 inputs; the shape given is not named", "--input NAME="),
        ({"imag": [1, 3, 8, 8]}, "the shape given for 'imag' names no input", "did you mean 'image'"),
        ({"mask": [1, 8, 8]}, "the shape given for input 'mask' has 3 dims", "not their rank"),
    ],
)
def test_input_shapes_that_do_not_fit_are_refused(tmp_path: Path, shape: object, message: str, hint: str) -> None:
    error = _error(tmp_path, TWO_HEADS, input_shape=shape)
    assert message in error.message and hint in (error.hint or "")


# ------------------------------------------------------------------ mistakes, located
@pytest.mark.parametrize(
    ("old", "new", "message", "where", "hint"),
    [
        (  # a misspelt input name in a DAG's in:
            "in: [image, mask]",
            "in: [imgae, mask]",
            "DAG node 'joined' reads unknown node 'imgae'",
            (9, 19),
            "did you mean 'image'",
        ),
        (  # an input no layer reads
            "in: [image, mask], do: concat",
            "in: [image], do: identity",
            "no layer reads input 'mask'",
            (5, 3),
            "in: [mask]",
        ),
        (  # an output that is no step
            "outputs: [out, aux]",
            "outputs: [out, auxx]",
            "output 'auxx' names 'auxx', which is no step of the network",
            (6, 16),
            "did you mean 'aux'",
        ),
        ("outputs: [out, aux]", "outputs: [out, out]", "output 'out' is listed twice", (6, 16), "once"),
        (
            "outputs: [out, aux]",
            "outputs: {out: out, seg: out}",
            "outputs 'out' and 'seg' are both step 'out'",
            (6, 21),
            "keep one",
        ),
        (  # an output named like an input: an ONNX model has one value of each name
            "outputs: [out, aux]",
            "outputs: {out: out, mask: aux}",
            "output 'mask' has the name of an input",
            (6, 21),
            "name the output otherwise",
        ),
        (  # an input named like a step
            "    stem: conv(8, 3, padding=1) -> relu\n",
            "    stem: conv(8, 3, padding=1) -> relu\n    image: relu\n",
            "input 'image' has the name of a step of the network",
            (4, 3),
            "rename",
        ),
        (  # 'input' among several
            "in: [image, mask]",
            "in: [input, mask]",
            "this DAG has several inputs; 'input' is ambiguous",
            (9, 19),
            "by name: image, mask",
        ),
        (
            "inputs:\n",
            "input: [N, 3, 16, 16]\ninputs:\n",
            "the spec declares both 'input' and 'inputs'",
            (4, 1),
            "under a name",
        ),
        ("  image: [N, 3, 16, 16]", "  input: [N, 3, 16, 16]", "'input' cannot name one of", (4, 3), "unnamed"),
    ],
)
def test_interface_mistakes_are_located_with_hints(
    tmp_path: Path, old: str, new: str, message: str, where: tuple[int, int], hint: str
) -> None:
    assert old in TWO_HEADS
    error = _error(tmp_path, TWO_HEADS.replace(old, new))
    assert message in error.message
    assert error.loc is not None and (error.loc.line, error.loc.column) == where, error
    assert hint in (error.hint or "")


def test_a_network_of_several_inputs_is_not_a_list(tmp_path: Path) -> None:
    text = TWO_HEADS[: TWO_HEADS.index("network:")] + "network:\n  - concat\n  - conv(2, 1)\n"
    error = _error(tmp_path, text.replace("outputs: [out, aux]\n", ""))
    assert "a network of 2 inputs is a DAG or a mapping of named steps" in error.message
    assert error.loc is not None and error.loc.line == 7
    assert "name the steps" in (error.hint or "") and error.found == "a list of steps"


def test_a_spec_without_any_input_says_what_to_write(tmp_path: Path) -> None:
    error = _error(tmp_path, "archspec: 1\nname: n\nnetwork: relu\n")
    assert error.message == "missing required key 'input'"
    assert "inputs: {name: shape" in (error.expected or "")


def test_an_unknown_dtype_is_refused_where_it_is_written(tmp_path: Path) -> None:
    error = _error(tmp_path, "archspec: 1\nname: n\ninput: {shape: [N, 4], dtype: int8}\nnetwork: relu\n")
    assert "input.dtype" in error.message
    assert error.loc is not None and error.loc.line == 3
