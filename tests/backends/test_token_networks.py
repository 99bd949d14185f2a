"""Networks that leave [N, C, H, W]: ViT's patchify into tokens and class-token select, and
ConvNeXt's channels-last block, on every backend.

Each is held to a PyTorch module written by hand, or torchvision's own, whose state dict
loads strictly into the compiled torch module and gives the same outputs; then
``archspec.parity`` holds flax (outputs and gradients) and onnx (outputs) to torch on the
same canonical weights.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from references import torchvision

import archspec
from archspec.parity import parity

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

#: ViT's stem at toy size: 4x4 patches of a 16x16 image, 16 tokens of width 16, a head on token 0.
PATCHIFY = {
    "archspec": 1,
    "name": "patchify",
    "input": ["N", 3, 16, 16],
    "network": {
        "conv_proj": "conv(16, 4, stride=4)",
        "tokens": "flatten(2) -> permute([0, 2, 1])",
        "ln": "layernorm",
        "head": "linear(32)",
        "class_token": "select(1, 0)",
    },
}

#: torchvision's ConvNeXt ``CNBlock.block``, for 8 channels.
CONVNEXT_BLOCK = {
    "archspec": 1,
    "name": "cnblock",
    "input": ["N", 8, 7, 7],
    "network": [
        "conv(8, 7, padding=3, groups=8)",
        "permute([0, 2, 3, 1])",
        "layernorm(eps=1e-6)",
        "linear(32)",
        "gelu",
        "linear(8)",
        "permute([0, 3, 1, 2])",
    ],
}


class Patchify(nn.Module):
    """What a person writes for the spec above, as torchvision's VisionTransformer does."""

    def __init__(self) -> None:
        super().__init__()
        self.conv_proj = nn.Conv2d(3, 16, 4, stride=4)
        self.ln = nn.LayerNorm(16)
        self.head = nn.Linear(16, 32)

    def forward(self, x: Any) -> Any:
        tokens = self.conv_proj(x).flatten(2).permute(0, 2, 1)
        return self.head(self.ln(tokens))[:, 0]


def _same_as_torch_reference(spec: dict[str, Any], reference: nn.Module, shape: tuple[int, ...]) -> None:
    reference.eval()
    compiled = archspec.build(spec, backend="torch").eval()
    compiled.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        want, got = reference(x), compiled(x)
    assert got.shape == want.shape
    torch.testing.assert_close(got, want, rtol=0, atol=1e-6)


def _installed(*backends: str) -> tuple[str, ...]:
    for backend in backends:
        pytest.importorskip({"flax": "archspec_flax", "onnx": "onnxruntime"}.get(backend, backend))
    return backends


def test_patchify_has_the_names_and_outputs_of_a_hand_written_module() -> None:
    _same_as_torch_reference(PATCHIFY, Patchify(), (2, 3, 16, 16))
    report = archspec.shapes(PATCHIFY)
    assert [str(report.info[step].output) for step in ("tokens.1", "head", "class_token")] == [
        "[N, 16, 16]",
        "[N, 16, 32]",
        "[N, 32]",
    ]
    assert report.total_params == sum(p.numel() for p in Patchify().parameters())


def test_convnext_block_has_the_names_and_outputs_of_torchvisions() -> None:
    block = torchvision().models.convnext.CNBlock(8, layer_scale=1e-6, stochastic_depth_prob=0.0).block
    _same_as_torch_reference(CONVNEXT_BLOCK, block, (2, 8, 7, 7))


@pytest.mark.parametrize("spec", [PATCHIFY, CONVNEXT_BLOCK], ids=lambda spec: spec["name"])
def test_flax_and_onnx_agree_with_torch_on_the_same_weights(spec: dict[str, Any]) -> None:
    report = parity(spec, _installed("torch", "flax", "onnx"), grad=True, batch=3)
    failed = [row for row in report.rows if not row.ok]
    assert report.ok and not failed, failed
    assert {(row.kind, row.backend) for row in report.rows} >= {
        ("output", "flax"),
        ("output", "onnx"),
        ("grad", "flax"),
    }
    assert np.isfinite([row.abs for row in report.rows]).all()
