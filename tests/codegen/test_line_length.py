"""Emitted source keeps to the code generator's line length (ruff's E501 in the emitted file),
however many parameters a class takes: a constructor whose signature does not fit is written
one parameter per line, as ruff format writes it."""

from __future__ import annotations

import ast

import pytest

import archspec
from archspec.codegen._emitter import MAX_LINE

# A block of many long parameter names, as MobileNetV3's inverted residual: its class signature
# alone is over 120 characters.
SPEC = {
    "archspec": 1,
    "name": "long_signature",
    "input": ["N", 8, 8, 8],
    "params": {"expanded_channels_of_the_block": 16, "output_channels_of_the_block": 8},
    "blocks": {
        "expand_and_project(expanded_channels, output_channels, kernel_size_of_the_depthwise, stride_of_it)": (
            "conv(expanded_channels, 1) -> conv(expanded_channels, kernel_size_of_the_depthwise, "
            "stride=stride_of_it, padding=1, groups=expanded_channels) -> conv(output_channels, 1)"
        )
    },
    "network": "expand_and_project(expanded_channels_of_the_block, output_channels_of_the_block, 3, 1) * 2",
}


@pytest.mark.parametrize("backend", ["torch", "flax"])
def test_a_long_constructor_signature_is_wrapped_one_parameter_per_line(backend: str) -> None:
    source = archspec.emit(SPEC, backend=backend).source
    ast.parse(source)
    too_long = [line for line in source.splitlines() if len(line) > MAX_LINE]
    assert not too_long, too_long
    assert "    def __init__(\n        self,\n        in_channels,\n" in source
    assert "\n    ) -> None:\n" in source
