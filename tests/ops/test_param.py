"""``param``'s rules: a source of the given shape, one parameter named by the step itself, no
MACs, no input read; its attributes checked where the spec writes them."""

from __future__ import annotations

from pathlib import Path

import pytest

import archspec
from archspec.errors import SpecError
from archspec.ir import TensorType, tensor_name
from archspec.ops.param import Param


def _spec(network: object, shape: list[object]) -> dict[str, object]:
    return {"archspec": 1, "name": "t", "input": ["N", *shape], "network": network}


def test_a_param_is_its_shape_and_one_tensor_named_by_its_step() -> None:
    op = Param(shape=(4, 1, 1), init=1e-6)
    assert op.infer(()) == TensorType((4, 1, 1))
    assert op.params(()) == {"": (4, 1, 1)}
    assert op.macs((), op.infer(())) == 0
    assert tensor_name("features.1.0.layer_scale", "") == "features.1.0.layer_scale"
    assert tensor_name("features.1.0.block.0", "weight") == "features.1.0.block.0.weight"


def test_initial_values() -> None:
    assert Param(shape=(2,)).initial_value() == 0.0
    assert Param(shape=(2,), init="ones").initial_value() == 1.0
    assert Param(shape=(2,), init=1e-6).initial_value() == 1e-6
    assert Param(shape=(2,), init="normal", std=0.02).initial_value() is None


def test_a_param_reads_nothing_where_it_stands_and_counts_in_the_shapes() -> None:
    network = {
        "dag": {"x": "conv(4, 1)", "scale": "param([4, 1, 1], init=0.5)", "y": {"in": ["scale", "x"], "do": "mul"}}
    }
    graph = archspec.to_graph(_spec(network, [3, 5, 5]))
    assert graph.node("scale").inputs == ()
    report = archspec.shapes(_spec(network, [3, 5, 5]))
    assert report.total_params == 4 * 3 + 4 + 4
    assert report.info["scale"].params == {"": (4, 1, 1)}
    assert report.output == TensorType(("N", 4, 5, 5))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("param([4, 1, 1], std=0.1)", r"std is the standard deviation of init=normal"),
        ("param([4, 1, 1], init='normal')", r"std is the standard deviation of init=normal"),
        ("param([4, 0, 1])", r"shape"),
        ("param([])", r"at least one axis"),
        ("param([4], init=nonsense)", r"init"),
    ],
)
def test_bad_attributes_are_located_errors(call: str, message: str, tmp_path: Path) -> None:
    spec = tmp_path / "t.yaml"
    spec.write_text(f"archspec: 1\nname: t\ninput: [N, 4]\nnetwork:\n  add:\n    - identity\n    - {call}\n")
    with pytest.raises(SpecError, match=message) as info:
        archspec.shapes(str(spec))
    assert info.value.loc is not None and info.value.loc.line == 7


def test_a_param_that_does_not_broadcast_names_both_shapes(tmp_path: Path) -> None:
    spec = tmp_path / "t.yaml"
    spec.write_text("archspec: 1\nname: t\ninput: [N, 4, 5, 5]\nnetwork:\n  mul: [identity, 'param([3, 1, 1])']\n")
    with pytest.raises(
        SpecError, match=r"mul inputs do not broadcast: input 2 is \[3, 1, 1\], input 1 is \[N, 4, 5, 5\]"
    ):
        archspec.shapes(str(spec))
