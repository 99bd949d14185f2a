"""``param`` → its initializer, named by the step (``features.1.0.layer_scale``): no node, the
nodes that read the step read the initializer, in the spec's layout (ONNX broadcasts as the spec)."""

from __future__ import annotations

from archspec.ops.param import OWN_NAME, Param
from archspec_onnx._lowering import LOWERINGS, LoweringContext


@LOWERINGS.register(Param)
def param(op: Param, ctx: LoweringContext) -> str:
    return ctx.param(OWN_NAME)
