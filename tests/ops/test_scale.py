"""``layer_scale``'s rules: torchvision's [C, 1, ...] parameter, N * C MACs, channels-first inputs only."""

from __future__ import annotations

import pytest

from archspec.errors import SpecError
from archspec.ir import TensorType
from archspec.ops.scale import LayerScale


@pytest.mark.parametrize(
    ("shape", "param"),
    [((2, 6), (6,)), ((2, 6, 9), (6, 1)), ((2, 6, 4, 5), (6, 1, 1)), ((2, 6, 2, 3, 4), (6, 1, 1, 1))],
)
def test_the_scale_is_one_factor_per_channel_broadcasting_over_the_spatial_axes(
    shape: tuple[int, ...], param: tuple[int, ...]
) -> None:
    x = TensorType(shape)
    assert LayerScale().infer((x,)) == x
    assert LayerScale().params((x,)) == {"layer_scale": param}


def test_macs_count_each_factor_once_per_sample() -> None:
    x = TensorType((4, 6, 5, 5))
    assert LayerScale(init=0.1).macs((x,), x) == 4 * 6


def test_a_channelless_input_is_refused() -> None:
    with pytest.raises(SpecError, match=r"layer_scale expects a 2-D or 3-D or 4-D or 5-D input"):
        LayerScale().infer((TensorType((5,)),))
