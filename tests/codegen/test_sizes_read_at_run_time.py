"""A resize to the size of the layer's input (``upsample(size=input.shape[2:])``) reads that size
where the network runs, as torchvision's DeepLab interpolates to ``x.shape[-2:]``: the input
becomes the op's second input, and the compiled network serves inputs of other sizes."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import archspec
from archspec import api
from archspec.backends import get_backend
from archspec.errors import SpecError
from archspec.parity import parity
from archspec.spec.program import program_from_data

torch = pytest.importorskip("torch")

#: Pooled features stretched back over the block's input, then the scores over the network's.
POOLED = {
    "archspec": 1,
    "name": "pooled",
    "input": ["N", 3, 12, 16],
    "blocks": {
        "pooling(c)": [
            "avgpool(4, stride=4)",
            "conv(c, 1)",
            "upsample(size=[input.shape[2], input.shape[3]], mode=bilinear)",
        ]
    },
    "network": ["conv(4, 3, padding=1)", "pooling(4)", "conv(2, 1)", "upsample(size=input.shape[-2:])"],
}


def _spec(network: object, blocks: dict[str, object] | None = None, shape: list[object] | None = None) -> dict:
    spec = {"archspec": 1, "name": "resized", "input": shape or ["N", 3, 8, 8], "network": network}
    return {**spec, "blocks": blocks} if blocks else spec


def _inputs(spec: dict) -> dict[str, tuple[str, ...]]:
    graph = api.to_graph(program_from_data(spec))
    return {node.name: node.inputs for node in graph.nodes if node.op_name.startswith("upsample")}


@pytest.mark.parametrize(
    "size",
    ["input.shape[2:]", "input.shape[-2:]", "[input.shape[2], input.shape[3]]", "[input.shape[-2], input.shape[-1]]"],
)
def test_a_size_written_as_the_inputs_is_read_from_it(size: str) -> None:
    spec = _spec(["avgpool(2)", f"upsample(size={size})"])
    assert _inputs(spec) == {"1": ("0", "input")}


def test_in_1d_the_one_axis_is_the_size() -> None:
    spec = _spec(["avgpool1d(2)", "upsample1d(size=input.shape[2], mode=linear)"], shape=["N", 3, 9])
    assert _inputs(spec) == {"1": ("0", "input")}


@pytest.mark.parametrize("size", ["[input.shape[2] * 2, input.shape[3]]", "[8, 8]", "input.shape[2:3] * 2"])
def test_any_other_size_is_the_number_it_gives(size: str) -> None:
    spec = _spec(["avgpool(2)", f"upsample(size={size})"])
    assert _inputs(spec) == {"1": ("0",)}


def test_the_compiled_network_serves_inputs_of_other_sizes() -> None:
    model = archspec.build(program_from_data(POOLED), "torch").eval()
    conv, pooling, score = model[0], model[1], model[2]
    for shape in ([2, 3, 12, 16], [1, 3, 20, 9]):
        x = torch.randn(shape, generator=torch.Generator().manual_seed(0))
        with torch.inference_mode():
            features = conv(x)
            pooled = pooling[1](pooling[0](features))
            stretched = torch.nn.functional.interpolate(pooled, size=shape[2:], mode="bilinear", align_corners=False)
            expected = torch.nn.functional.interpolate(score(stretched), size=shape[2:], mode="nearest")
            assert torch.equal(model(x), expected)


def test_flax_serves_inputs_of_other_sizes_as_torch_does(tmp_path: Path) -> None:
    pytest.importorskip("flax")
    torch_model = archspec.build(program_from_data(POOLED), "torch").eval()
    weights = tmp_path / "pooled.safetensors"
    get_backend("torch").save_weights(torch_model, weights)
    flax_model = archspec.build(program_from_data(POOLED), "flax", weights)
    x = torch.randn([2, 3, 20, 9], generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        expected = torch_model(x).numpy()
    np.testing.assert_allclose(np.asarray(flax_model(x.numpy())), expected, rtol=1e-5, atol=1e-5)


def test_the_generated_classes_resize_in_forward_as_torchvision_does() -> None:
    source = archspec.emit(program_from_data(POOLED)).source
    assert (
        "    def forward(self, x: torch.Tensor) -> torch.Tensor:\n"
        '        return F.interpolate(super().forward(x), size=x.shape[-2:], mode="bilinear", align_corners=False)\n'
    ) in source
    assert 'return F.interpolate(super().forward(x), size=x.shape[-2:], mode="nearest")' in source
    flax = archspec.emit(program_from_data(POOLED), backend="flax").source
    assert 'return resize_to(super().__call__(x), x, mode="bilinear")' in flax
    assert "out = resize_to(super().__call__(inner), inner)" in flax


@pytest.mark.parametrize(
    "body",
    [
        ["avgpool(2)", "upsample(size=input.shape[2:])", "conv(3, 1)"],
        {"conv": "conv(3, 1)", "head": ["avgpool(2)", "upsample(size=input.shape[2:])"]},
        {"conv": "conv(3, 1)", "head": {"pool": "avgpool(2)", "up": "upsample(size=input.shape[2:])"}},
        ["conv(3, 1)", {"repeat": 2, "do": "upsample(size=input.shape[2:])"}],
        ["conv(3, 1)", {"if": "true", "then": "upsample(size=input.shape[2:])"}],
    ],
    ids=["not-last", "in-a-list-of-the-block", "in-named-steps-of-the-block", "repeated", "in-an-if"],
)
def test_where_generated_code_has_no_handle_on_the_input_it_writes_the_size(body: object) -> None:
    """A resize that is not the last step of the block's own list, or is in a part of the block
    with a class of its own, is written with this input's size (the 8 x 8 of the spec's input),
    so the code is right for the spec's input; ONNX still reads the size where it runs."""
    program = program_from_data(_spec(["pooling"], {"pooling": body}))
    source = archspec.emit(program).source
    assert "nn.Upsample(size=8)" in source
    assert "interpolate" not in source
    assert parity(program, ("torch", "flax", "onnx")).ok


def test_a_second_input_a_dag_gives_must_have_the_size_given() -> None:
    """A DAG may give upsample a second input itself: its size must then be that input's."""
    dag = {"dag": {"a": "avgpool(2)", "up": {"in": ["a", "input"], "do": "upsample(size=[3, 3])"}}}
    with pytest.raises(SpecError, match=re.escape("upsample given a second input takes that input's size")) as caught:
        api.shapes(program_from_data(_spec(dag)))
    assert caught.value.loc is not None and caught.value.loc.line is not None
    dag["dag"]["up"]["do"] = "upsample(size=[8, 8])"
    assert _inputs(_spec(dag)) == {"up": ("a", "input")}


def test_a_block_that_is_one_such_resize_is_written_for_the_size_in_the_middle_of_a_list() -> None:
    """A block whose body is the resize alone is written where it is called, in its caller's terms;
    its input is the pool's output, 4 x 4."""
    blocks = {
        "up(m)": "upsample(size=input.shape[2:], mode=m)",
        "pooling": ["avgpool(2)", "up('bilinear')", "conv(3, 1)"],
    }
    program = program_from_data(_spec(["pooling"], blocks))
    assert 'nn.Upsample(size=4, mode="bilinear")' in archspec.emit(program).source
    assert parity(program, ("torch", "flax", "onnx")).ok
