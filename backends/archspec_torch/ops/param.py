"""``param`` → ``nn.Parameter(torch.ones(shape) * value)`` (or ``torch.zeros``, ``torch.ones``,
``torch.normal(0.0, std, shape)``), an attribute of the class around the step, read as
``self.<step>`` in forward: torchvision's ``CNBlock.layer_scale``, ``VisionTransformer.class_token``."""

from __future__ import annotations

from archspec.ops.param import Param
from archspec_torch._lowering import LOWERINGS, LoweringContext, TensorAttribute


@LOWERINGS.register(Param)
def param(op: Param, ctx: LoweringContext) -> TensorAttribute:
    shape = ctx.attr("shape")
    if op.init == "normal":
        return TensorAttribute("torch.normal", (ctx.literal(0.0), ctx.attr("std"), shape))
    if op.init in ("zeros", "ones"):
        return TensorAttribute(f"torch.{op.init}", (shape,))
    return TensorAttribute("torch.ones", (shape,), factor=ctx.attr("init", float(op.init)))
