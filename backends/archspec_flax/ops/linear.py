"""``linear`` → ``nnx.Linear`` (kernel [in, out]; canonical weight [out, in])."""

from __future__ import annotations

from archspec.ops.linear import Linear
from archspec_flax._lowering import LOWERINGS, LoweringContext, ModuleCall


@LOWERINGS.register(Linear)
def linear(op: Linear, ctx: LoweringContext) -> ModuleCall:
    args = (ctx.channels(), ctx.attr("out_features"))
    return ModuleCall("nnx.Linear", args, ctx.options(("use_bias", ctx.attr("bias"), True)), rngs=True)
