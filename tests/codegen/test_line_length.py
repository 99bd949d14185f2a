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
    "input": ["N", 3, 8, 8],  # not output_channels: the class takes in_channels too
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


def test_a_line_past_ruffs_limit_is_split_at_its_outermost_brackets() -> None:
    """What only the whole line shows (a long target before a call, one item of a bracket that
    is long by itself) is split as ruff's formatter splits it, deeper where an item still is."""
    from archspec.codegen._text import RUFF_LINE, wrapped

    width = "(kernel_size - 1) // 2 * dilation"
    source = (
        "class A:\n"
        "    def __init__(self) -> None:\n"
        "        self.a_long_attribute_name = nnx.Conv(in_channels, 64, (7, 7), "
        f"padding=(({width}, {width}), (1, 1)), rngs=rngs)\n"
        "        self.b = nnx.Conv(\n"
        f"            padding=(({width}, {width}), ({width}, {width})),\n"
        "        )\n"
        "        # a comment the generator wrote is left as it is, whatever its length" + "." * 60 + "\n"
    )
    out = wrapped(source)
    ast.parse(out)
    assert [line for line in out.splitlines() if len(line) > RUFF_LINE] == [out.splitlines()[-1]]
    assert "        self.a_long_attribute_name = nnx.Conv(\n            in_channels,\n            64,\n" in out
    pair = f"                ({width}, {width}),\n"
    assert f"            padding=(\n{pair}{pair}            ),\n" in out
    assert wrapped(out) == out
