"""A tiny U-Net whose decoder upsamples with both ``conv_transpose`` and ``upsample``: the
encoder's skips are joined to the upsampled features through a DAG, so every size must come
back exactly, on even inputs (stride-2 transposed conv, bilinear x2) and odd ones (a 3-wide
transposed conv, nearest upsampling to an explicit size). Every backend builds it from the
same canonical weights and agrees with torch, gradients included."""

from __future__ import annotations

from typing import Any

import pytest

import archspec
from archspec.parity import parity

BACKENDS = ("torch", "flax", "onnx")
_RUNTIME = {"torch": "torch", "flax": "flax", "onnx": "onnxruntime"}


def unet(name: str, size: int, up_deep: str, up_shallow: str) -> dict[str, Any]:
    """Two poolings down and two upsamplings back, with the skips concatenated on channels."""
    return {
        "archspec": 1,
        "name": name,
        "input": ["N", 3, size, size],
        "params": {"width": 4},
        "blocks": {
            "double_conv(c)": ["conv(c, 3, padding=1) -> batchnorm -> relu", "conv(c, 3, padding=1) -> relu"],
        },
        "network": {
            "dag": {
                "enc1": "double_conv(width)",
                "enc2": {"in": ["enc1"], "do": "maxpool(2) -> double_conv(width * 2)"},
                "bottom": {"in": ["enc2"], "do": "maxpool(2) -> double_conv(width * 4)"},
                "up2": {"in": ["bottom"], "do": up_deep},
                "dec2": {"in": ["up2", "enc2"], "do": "concat -> double_conv(width * 2)"},
                "up1": {"in": ["dec2"], "do": up_shallow},
                "dec1": {"in": ["up1", "enc1"], "do": "concat -> double_conv(width) -> conv(2, 1)"},
            }
        },
    }


EVEN = unet(
    "unet_even",
    12,  # 12 -> 6 -> 3 -> 6 -> 12
    "conv_transpose(width * 2, 2, stride=2)",
    "upsample(2, mode=bilinear, align_corners=true) -> conv(width, 1)",
)
ODD = unet(
    "unet_odd",
    11,  # 11 -> 5 -> 2 -> 5 -> 11
    "conv_transpose(width * 2, 2, stride=2, output_padding=1, groups=2)",
    "upsample(size=[11, 11]) -> conv(width, 1)",
)


def _available(names: tuple[str, ...]) -> list[str]:
    for name in names:
        pytest.importorskip(_RUNTIME[name])
    return list(names)


@pytest.mark.parametrize("spec", [EVEN, ODD], ids=["even", "odd"])
def test_the_decoder_gives_back_the_encoders_sizes(spec: dict[str, Any]) -> None:
    report = archspec.shapes(spec)
    size = spec["input"][-1]
    assert report.output.shape == ("N", 2, size, size)
    assert report.info["up2"].output.shape == ("N", 8, size // 2, size // 2)


@pytest.mark.parametrize("spec", [EVEN, ODD], ids=["even", "odd"])
def test_every_backend_agrees_with_torch(spec: dict[str, Any]) -> None:
    report = parity(spec, _available(BACKENDS), grad=True)
    assert report.ok, [r for r in report.rows if not r.ok]
    assert {r.backend for r in report.rows} == {"flax", "onnx"}


@pytest.mark.parametrize("spec", [EVEN, ODD], ids=["even", "odd"])
def test_train_steps_agree(spec: dict[str, Any]) -> None:
    report = parity(spec, _available(("torch", "flax")), mode="train", grad=True, batch=4)
    assert report.ok, [r for r in report.rows if not r.ok]


def test_the_emitted_torch_reads_as_written() -> None:
    pytest.importorskip("torch")
    source = archspec.emit(EVEN, "torch").source
    assert "self.up2 = nn.ConvTranspose2d(width * 4, width * 2, 2, stride=2)" in source
    assert 'nn.Upsample(scale_factor=2.0, mode="bilinear", align_corners=True)' in source
