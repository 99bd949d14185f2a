"""``layer_scale`` → ``Mul`` by its ``layer_scale`` initializer, whose canonical [C, 1, ...]
broadcasts against the channels-first input as it is."""

from __future__ import annotations

from archspec.ops.scale import LayerScale
from archspec_onnx._lowering import LOWERINGS, LoweringContext


@LOWERINGS.register(LayerScale)
def layer_scale(op: LayerScale, ctx: LoweringContext) -> None:
    ctx.emit("Mul", [ctx.x, ctx.param("layer_scale")])
