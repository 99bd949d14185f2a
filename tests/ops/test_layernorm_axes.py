"""How a spec names the axes of ``layernorm``: the last ``dims`` axes, or one ``axis``.

The bare ``layernorm`` on a feature map would normalise its width and size its weight by
it; it is refused where the spec writes it, pointing at the channel form.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from pydantic import ValidationError

from archspec import api
from archspec.errors import SpecError
from archspec.ir import TensorType
from archspec.ops.norm import LayerNorm

FEATURE_MAP = TensorType((2, 8, 5, 6))


def test_bare_layernorm_on_a_feature_map_is_refused_where_written_with_the_channel_form_as_hint(
    tmp_path: Path,
) -> None:
    spec = tmp_path / "net.yaml"
    spec.write_text("archspec: 1\nname: t\ninput: [N, 3, 5, 6]\nnetwork:\n  - conv(8, 1)\n  - layernorm\n")
    with pytest.raises(SpecError, match=r"layernorm with no axes normalises the last one") as info:
        api.shapes(spec)
    message = str(info.value)
    assert "expected" in message and "[N, F], [N, T, F]" in message and "layernorm(axis=1)" in message
    assert info.value.loc is not None and info.value.loc.line == 6


@pytest.mark.parametrize("shape", [(2, 8), (2, 5, 8)])
def test_bare_layernorm_still_normalises_the_features_of_vectors_and_sequences(shape: tuple[int, ...]) -> None:
    assert LayerNorm().params((TensorType(shape),)) == {"weight": (8,), "bias": (8,)}


@pytest.mark.parametrize(
    ("attrs", "normalised"),
    [
        ({"dims": 1}, (6,)),  # the width, said explicitly: still allowed
        ({"dims": 2}, (5, 6)),
        ({"axis": 1}, (8,)),  # the channels at each position (ConvNeXt)
        ({"axis": 2}, (5,)),
    ],
)
def test_the_explicit_forms_size_the_weight_by_the_axes_they_name(
    attrs: dict[str, int], normalised: tuple[int, ...]
) -> None:
    op = LayerNorm.model_validate(attrs)
    assert op.infer((FEATURE_MAP,)) == FEATURE_MAP
    assert op.params((FEATURE_MAP,)) == {"weight": normalised, "bias": normalised}
    # torchinfo's count: each weight and bias element once per sample
    assert op.macs((FEATURE_MAP,), FEATURE_MAP) == FEATURE_MAP.shape[0] * 2 * math.prod(normalised)


def test_layernorm_one_and_dims_one_are_the_same_op() -> None:
    spec = {"archspec": 1, "name": "t", "input": ["N", 8, 5, 6]}
    positional = api.to_graph({**spec, "network": "layernorm(1)"})
    named = api.to_graph({**spec, "network": "layernorm(dims=1)"})
    assert [n.op for n in positional.nodes] == [n.op for n in named.nodes]


def test_dims_and_axis_together_are_refused() -> None:
    with pytest.raises(ValidationError, match=r"give dims \(the last axes\) or axis \(one axis\), not both"):
        LayerNorm.model_validate({"dims": 1, "axis": 1})


def test_an_axis_past_the_input_is_refused_naming_the_axis() -> None:
    with pytest.raises(SpecError, match=r"layernorm over axis 4 needs more axes") as info:
        LayerNorm(axis=4).infer((FEATURE_MAP,))
    assert info.value.attr == "axis"
