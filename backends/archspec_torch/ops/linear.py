"""``linear`` → ``nn.Linear``, which acts on the last axis of any rank as the spec's does."""

from __future__ import annotations

from archspec.ops.linear import Linear
from archspec_torch._lowering import LOWERINGS, LoweringContext, ModuleCall


@LOWERINGS.register(Linear)
def linear(op: Linear, ctx: LoweringContext) -> ModuleCall:
    # the features are axis 1 of [N, F], where the spec may have named them; the last axis beyond
    features = ctx.channels() if ctx.input.rank == 2 else ctx.literal(ctx.input.shape[-1])
    args = (features, ctx.attr("out_features"))
    return ModuleCall("nn.Linear", args, ctx.options(("bias", ctx.attr("bias"), True)))
