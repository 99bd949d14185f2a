"""channel_shuffle's refusals: groups that do not divide the channels, and no channel axis."""

from __future__ import annotations

import pytest

from archspec import api
from archspec.errors import SpecError


def _shapes(network: str, shape: list[int | str]) -> None:
    api.shapes({"archspec": 1, "name": "s", "input": shape, "network": network})


def test_groups_that_do_not_divide_the_channels_are_refused_at_groups() -> None:
    with pytest.raises(SpecError, match="groups must divide the channels, but 4 does not divide 6") as info:
        _shapes("channel_shuffle(4)", ["N", 6, 4, 4])
    assert info.value.expected == "a divisor of 6" and info.value.found == "4"


def test_a_tensor_without_a_channel_axis_is_refused() -> None:
    with pytest.raises(SpecError, match="shuffles the channels of a feature map"):
        _shapes("flatten -> channel_shuffle(2)", ["N", 6, 4, 4])
