"""``linear`` → ``nn.Linear``, which acts on the last axis of any rank as the spec's does."""

from __future__ import annotations

from archspec.ops.linear import Linear
from archspec_torch._lowering import LOWERINGS, LoweringContext, ModuleCall


@LOWERINGS.register(Linear)
def linear(op: Linear, ctx: LoweringContext) -> ModuleCall:
    args = (ctx.features(), ctx.attr("out_features"))
    return ModuleCall("nn.Linear", args, ctx.options(("bias", ctx.attr("bias"), True)))
