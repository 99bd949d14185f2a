"""``flatten`` → ``nn.Flatten`` (NCHW row-major, as the spec says), ``dropout`` → ``nn.Dropout``
(identity in eval mode), ``identity`` → ``nn.Identity``."""

from __future__ import annotations

from archspec.ops.tensor import Dropout, Flatten, Identity
from archspec_torch._lowering import LOWERINGS, LoweringContext, ModuleCall


@LOWERINGS.register(Flatten)
def flatten(op: Flatten, ctx: LoweringContext) -> ModuleCall:
    return ModuleCall("nn.Flatten", kwargs=ctx.options(("start_dim", ctx.attr("start_dim"), 1)))


@LOWERINGS.register(Dropout)
def dropout(op: Dropout, ctx: LoweringContext) -> ModuleCall:
    return ModuleCall("nn.Dropout", (ctx.attr("p"),))


@LOWERINGS.register(Identity)
def identity(op: Identity, ctx: LoweringContext) -> ModuleCall:
    return ModuleCall("nn.Identity")
