"""``linear`` → ``nn.Linear``."""

from __future__ import annotations

from archspec.ops.linear import Linear
from archspec_torch._lowering import LOWERINGS, LoweringContext, ModuleCall


@LOWERINGS.register(Linear)
def linear(op: Linear, ctx: LoweringContext) -> ModuleCall:
    args = (ctx.channels(), ctx.attr("out_features"))
    return ModuleCall("nn.Linear", args, ctx.options(("bias", ctx.attr("bias"), True)))
