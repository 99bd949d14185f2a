"""``conv_transpose``: canonical attributes, PyTorch's accept/refuse and shapes on random
configurations, every mistake located, and its weights in PyTorch's layout on every backend.

Values and gradients on every backend are the op table's (``optable_cases.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from archspec import api
from archspec.errors import SpecError
from archspec.ops import REGISTRY

torch = pytest.importorskip("torch")
hypothesis = pytest.importorskip("hypothesis")

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

ConvTranspose = REGISTRY["conv_transpose"]


def spec(network: str, shape: list[Any]) -> dict[str, Any]:
    return {"archspec": 1, "name": "t", "input": shape, "network": network}


def test_attributes_are_stored_one_per_axis() -> None:
    op = ConvTranspose.model_validate({"out_channels": 4, "kernel": 3, "stride": [2, 1], "output_padding": [1, 0]})
    assert (op.kernel, op.stride, op.padding, op.output_padding, op.dilation) == (
        (3, 3),
        (2, 1),
        (0, 0),
        (1, 0),
        (1, 1),
    )


def test_the_weight_is_pytorchs_in_out_per_group_layout() -> None:
    report = api.shapes(spec("conv_transpose(6, [2, 3], stride=2, groups=3)", ["N", 9, 4, 4]))
    node = report.info[report.graph.output]
    assert node.params == {"weight": (9, 2, 2, 3), "bias": (6,)}


# ------------------------------------------------------------------ accept and refuse as PyTorch does
@st.composite
def configs(draw: st.DrawFn) -> tuple[dict[str, Any], tuple[int, ...]]:
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    channels = draw(st.integers(1, 3)) * groups if draw(st.booleans()) else draw(st.integers(1, 6))
    one_or_two = lambda lo, hi: st.integers(lo, hi) | st.lists(st.integers(lo, hi), min_size=2, max_size=2)  # noqa: E731
    attrs: dict[str, Any] = {"out_channels": draw(st.integers(1, 3)) * groups, "kernel": draw(one_or_two(1, 4))}
    for name, lo, hi in (("stride", 1, 3), ("padding", 0, 4), ("output_padding", 0, 3), ("dilation", 1, 3)):
        if draw(st.booleans()):
            attrs[name] = draw(one_or_two(lo, hi))
    if groups > 1:
        attrs["groups"] = groups
    return attrs, (1, channels, *draw(st.lists(st.integers(1, 6), min_size=2, max_size=2)))


@settings(deadline=None)
@given(configs())
def test_random_transposed_convs_match_torch(config: tuple[dict[str, Any], tuple[int, ...]]) -> None:
    attrs, shape = config
    network = f"conv_transpose({', '.join(f'{k}={v!r}' for k, v in attrs.items())})"
    tuples = {
        k: tuple(v) if isinstance(v, list) else v for k, v in attrs.items() if k not in ("out_channels", "kernel")
    }
    kernel = tuple(attrs["kernel"]) if isinstance(attrs["kernel"], list) else attrs["kernel"]
    try:
        module = torch.nn.ConvTranspose2d(shape[1], attrs["out_channels"], kernel, **tuples)
        want = module(torch.zeros(shape)).shape
        refused = 0 in want  # torch gives an empty tensor where padding crops every cell: archspec refuses
    except (RuntimeError, ValueError):
        refused = True
    if refused:
        with pytest.raises(SpecError):
            api.shapes(spec(network, list(shape)))
        return
    report = api.shapes(spec(network, list(shape)))
    assert report.output.shape == tuple(want), network
    assert report.info[report.graph.output].params == {k: tuple(p.shape) for k, p in module.named_parameters()}


# ------------------------------------------------------------------ mistakes, located
SPEC = """\
archspec: 1
name: t
input: [1, 4, 5, 5]
network:
  up: {call}
"""


@pytest.mark.parametrize(
    ("call", "message", "column"),
    [
        (
            "conv_transpose(4, 3, stride=2, output_padding=2)",
            r"invalid conv_transpose: output_padding 2 must be smaller than the stride \(2\) or the dilation \(1\)",
            53,
        ),
        ("conv_transpose(4, [3, 3, 3])", r"kernel needs 2 values \(one per spatial dim\), got 3", 25),
        ("conv_transpose(4, 3, padding=-1)", r"invalid 'padding' of conv_transpose", 36),
        ("conv_transpose(4, 3, padding=4)", r"conv_transpose padding 4 crops all 7 cells along axis 2", 36),
        ("conv_transpose(3, 3, groups=2)", r"groups=2 must divide the input channels \(4\) and out_channels \(3\)", 35),
    ],
)
def test_mistakes_are_located_where_the_spec_wrote_them(tmp_path: Path, call: str, message: str, column: int) -> None:
    path = tmp_path / "net.yaml"
    path.write_text(SPEC.format(call=call))
    with pytest.raises(SpecError, match=message) as info:
        api.shapes(str(path))
    assert info.value.loc is not None and (info.value.loc.line, info.value.loc.column) == (5, column)


def test_a_crop_error_says_how_much_padding_fits() -> None:
    with pytest.raises(SpecError) as info:
        api.shapes(spec("conv_transpose(4, 3, padding=4)", [1, 4, 5, 5]))
    assert info.value.expected == "padding below 4 along that axis"


# ------------------------------------------------------------------ weights on the flax backend
def test_flax_keeps_canonical_weights_in_pytorchs_layout(tmp_path: Path) -> None:
    archspec_flax = pytest.importorskip("archspec_flax")
    from safetensors.numpy import load_file, save_file

    from archspec.parity import draw_weights

    report = api.shapes(spec("conv_transpose(6, [2, 3], stride=2, groups=3)", ["N", 9, 4, 4]))
    weights = draw_weights(report, seed=1)
    save_file(weights, str(tmp_path / "in.safetensors"))
    model = archspec_flax.backend.build(report.graph, report, tmp_path / "in.safetensors")
    archspec_flax.backend.save_weights(model, tmp_path / "out.safetensors")
    saved = load_file(str(tmp_path / "out.safetensors"))
    assert saved.keys() == weights.keys() and saved["conv_transpose.weight"].shape == (9, 2, 2, 3)
    for name, value in weights.items():
        np.testing.assert_array_equal(saved[name], value, err_msg=name)
