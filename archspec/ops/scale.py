"""Learnable rescaling: ``layer_scale`` (ConvNeXt's and CaiT's per-channel scale of a residual branch).

MACs follow torchinfo's rule for norm layers: each scale element once per sample, ``N * C``.
"""

from __future__ import annotations

from archspec.ir import Shape, TensorType
from archspec.ops._base import Op, batch, expect_rank, register, static


@register
class LayerScale(Op):
    """Multiply each channel of [N, C] or [N, C, *S] by a learnable factor; the output is shaped as the input.

    Argument: ``init`` (1e-6), the factors' initial value. Parameter ``layer_scale`` of shape
    [C, 1, ...] (one 1 per spatial axis: [C, 1, 1] for NCHW), as torchvision's ConvNeXt
    ``CNBlock`` names and shapes it, so it broadcasts against the channels-first input.
    """

    op_name = "layer_scale"

    init: float = 1e-6

    def infer(self, inputs: tuple[TensorType, ...]) -> TensorType:
        (x,) = inputs
        expect_rank(self, x, (2, 3, 4, 5), "[N, C] or [N, C, ...]")
        static(x.shape[1], "layer_scale channels")
        return x

    def params(self, inputs: tuple[TensorType, ...]) -> dict[str, Shape]:
        x = inputs[0]
        return {"layer_scale": (static(x.shape[1], "channels"), *(1,) * (x.rank - 2))}

    def macs(self, inputs: tuple[TensorType, ...], output: TensorType) -> int:
        return batch(output) * static(output.shape[1], "channels")
