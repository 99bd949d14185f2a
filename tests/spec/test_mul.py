"""``mul``: branches on one input multiplied element-wise, in every form a spec writes them.

A gate's size-1 axes broadcast (``[N, C, 1, 1]`` over ``[N, C, H, W]``); shapes that do not are a
located ShapeError, and ``add`` keeps its same-shape rule.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from archspec import api
from archspec.errors import SpecError
from archspec.ir import ScopeKind, TensorType
from archspec.ops import REGISTRY, ShapeError

HEAD = "archspec: 1\nname: t\ninput: [N, 8, 6, 6]\n"
GATE = "global_avgpool -> conv(2, 1) -> relu -> conv(8, 1) -> hardsigmoid"


def shapes(tmp_path: Path, body: str) -> Any:
    path = tmp_path / "net.yaml"
    path.write_text(HEAD + body)
    return api.shapes(path)


@pytest.mark.parametrize(
    "body",
    [
        f"network:\n  se:\n    mul: [identity, {GATE}]\n",  # a flow list
        f"network:\n  se:\n    mul:\n      - identity\n      - {GATE}\n",  # a block list
        f"network:\n  se:\n    mul:\n      x: identity\n      gate: {GATE}\n",  # named branches
        f"network:\n  se: {{mul: [identity, {GATE}]}}\n",  # the canonical form, inline
    ],
)
def test_a_gate_over_its_input_in_each_form(tmp_path: Path, body: str) -> None:
    report = shapes(tmp_path, body)
    merge = report.graph.nodes[-1]
    assert (merge.name, merge.op_name, len(merge.inputs)) == ("se", "mul", 2)
    assert report.output.shape == ("N", 8, 6, 6)
    assert next(s for s in report.graph.scopes if s.path == "se").kind is ScopeKind.MUL


def test_named_branches_are_their_paths(tmp_path: Path) -> None:
    report = shapes(tmp_path, f"network:\n  se:\n    mul:\n      x: identity\n      gate: {GATE}\n")
    assert report.graph.nodes[-1].inputs == ("se.x", "se.gate.4")


def test_a_json_spec_in_the_canonical_form() -> None:
    gate = {"seq": [{"call": "global_avgpool"}, {"call": "conv", "args": [8, 1]}, {"call": "sigmoid"}]}
    spec = {
        "archspec": 1,
        "name": "t",
        "input": [2, 8, 5, 5],
        "network": {"mul": {"x": {"call": "identity"}, "g": gate}},
    }
    assert api.shapes(spec).output.shape == (2, 8, 5, 5)


def test_a_dag_node_multiplies_the_nodes_it_reads(tmp_path: Path) -> None:
    body = f"network:\n  dag:\n    gate: {GATE}\n    out: {{in: [input, gate], do: mul}}\n"
    report = shapes(tmp_path, body)
    assert report.graph.nodes[-1].inputs == ("input", "gate.4")
    assert report.output.shape == ("N", 8, 6, 6)


def test_three_branches_stretch_to_one_shape(tmp_path: Path) -> None:
    # [N, 8, 6, 6], [N, 8, 1, 1] and [N, 8, 1, 6]
    body = "network:\n  mul:\n    - identity\n    - global_avgpool\n    - avgpool([6, 1])\n"
    assert shapes(tmp_path, body).output.shape == ("N", 8, 6, 6)


# ------------------------------------------------------------------ the shape rule
@pytest.mark.parametrize(
    ("inputs", "output"),
    [
        ([(2, 8, 6, 6), (2, 8, 1, 1)], (2, 8, 6, 6)),
        ([(2, 8, 1, 1), (2, 8, 6, 6)], (2, 8, 6, 6)),
        ([(2, 1, 6, 1), (2, 8, 1, 5)], (2, 8, 6, 5)),
        ([("N", 8, 6, 6), ("N", 8, 1, 1), (1, 8, 6, 1)], ("N", 8, 6, 6)),
        ([(3, 5)], (3, 5)),
        ([(2, 8, 6, 6), (8, 1, 1)], (2, 8, 6, 6)),  # a layer scale: NumPy aligns the last axes
        ([(6,), ("N", 8, 6, 1)], ("N", 8, 6, 6)),
    ],
)
def test_the_output_is_the_broadcast_shape(inputs: list[tuple[Any, ...]], output: tuple[Any, ...]) -> None:
    op = REGISTRY["mul"]()
    assert op.infer(tuple(TensorType(s) for s in inputs)).shape == output


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ([(2, 8, 6, 6), (2, 4, 1, 1)], r"input 2 is \[2, 4, 1, 1\], input 1 is \[2, 8, 6, 6\]"),
        ([(2, 8, 6, 6), (2, 8, 1, 1), (2, 8, 3, 1)], r"input 3 is \[2, 8, 3, 1\], inputs 1 to 2 broadcast to"),
        ([(2, 8, 6, 6), (6, 1, 1)], r"input 2 is \[6, 1, 1\]"),  # aligned on the last axes: [1, 6, 1, 1]
        ([("N", 8), (4, 8)], r"input 2 is \[4, 8\]"),  # a symbol matches only itself, or 1
    ],
)
def test_shapes_that_do_not_broadcast(inputs: list[tuple[Any, ...]], message: str) -> None:
    with pytest.raises(ShapeError, match=message) as info:
        REGISTRY["mul"]().infer(tuple(TensorType(s) for s in inputs))
    assert info.value.found == str(TensorType(inputs[-1]))
    assert info.value.expected is not None and "or are 1 on one side" in info.value.expected
    assert info.value.hint is not None and "gate" in info.value.hint


def test_a_gate_with_the_wrong_channels_is_located_at_the_mul(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"mul inputs do not broadcast") as info:
        shapes(tmp_path, "network:\n  se:\n    mul: [identity, global_avgpool -> conv(4, 1)]\n")
    assert info.value.loc is not None and (info.value.loc.line, info.value.loc.column) == (6, 5)
    assert info.value.trace == ("se",)


def test_add_broadcasts_as_mul_does(tmp_path: Path) -> None:
    assert shapes(tmp_path, "network:\n  add: [identity, global_avgpool]\n").output.shape == ("N", 8, 6, 6)
    with pytest.raises(SpecError, match=r"add inputs do not broadcast: input 2 is \[N, 5, 6, 6\]") as info:
        shapes(tmp_path, "network:\n  add: [identity, conv(5, 1)]\n")
    assert info.value.hint is not None and "projection shortcut" in info.value.hint


def test_a_features_last_tensor_stays_features_last_through_add_and_mul() -> None:
    tokens = TensorType(("N", 4, 4, 8), features_last=True)  # permute([0, 2, 3, 1]) of [N, 8, 4, 4]
    for name in ("add", "mul"):
        assert REGISTRY[name]().infer((tokens, TensorType((8,)))).features_last
        # one features-last input of the output's rank decides: the other is held to match it
        assert REGISTRY[name]().infer((tokens, TensorType(("N", 4, 4, 8)))).features_last
        assert not REGISTRY[name]().infer((TensorType(("N", 8, 4, 4)), TensorType((4, 4)))).features_last
