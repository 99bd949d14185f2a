"""Pools → ``nn.MaxPool*`` / ``nn.AvgPool*`` / adaptive pools.

Torch's max pooling pads with -inf and its average pooling has the spec's
``ceil_mode`` and ``count_include_pad`` meaning; both are written out where they
change the result (``count_include_pad`` only matters with padding). Global pools
keep their size-1 axes: ``nn.AdaptiveAvgPool2d(1)``.
"""

from __future__ import annotations

from archspec.ops.pool import (
    AdaptiveAvgPool,
    AvgPool,
    AvgPool1d,
    GlobalAvgPool,
    GlobalMaxPool,
    MaxPool,
    MaxPool1d,
)
from archspec_torch._lowering import LOWERINGS, LoweringContext, ModuleCall, same_for_every_dim


@LOWERINGS.register(MaxPool, MaxPool1d)
def maxpool(op: MaxPool | MaxPool1d, ctx: LoweringContext) -> ModuleCall:
    kernel = same_for_every_dim(op.kernel)
    options = ctx.options(
        ("stride", ctx.attr("stride", same_for_every_dim(op.stride)), kernel),
        ("padding", ctx.attr("padding", same_for_every_dim(op.padding_each_end)), 0),
        ("dilation", ctx.attr("dilation", same_for_every_dim(op.dilation)), 1),
        ("ceil_mode", ctx.attr("ceil_mode"), False),
    )
    return ModuleCall(f"nn.MaxPool{op.spatial}d", (ctx.attr("kernel", kernel),), options)


@LOWERINGS.register(AvgPool, AvgPool1d)
def avgpool(op: AvgPool | AvgPool1d, ctx: LoweringContext) -> ModuleCall:
    kernel = same_for_every_dim(op.kernel)
    padded = any(op.padding_each_end)
    options = ctx.options(
        ("stride", ctx.attr("stride", same_for_every_dim(op.stride)), kernel),
        ("padding", ctx.attr("padding", same_for_every_dim(op.padding_each_end)), 0),
        ("ceil_mode", ctx.attr("ceil_mode"), False),
        ("count_include_pad", ctx.attr("count_include_pad"), None if padded else True),
    )
    return ModuleCall(f"nn.AvgPool{op.spatial}d", (ctx.attr("kernel", kernel),), options)


@LOWERINGS.register(GlobalAvgPool)
def global_avgpool(op: GlobalAvgPool, ctx: LoweringContext) -> ModuleCall:
    return ModuleCall(f"nn.AdaptiveAvgPool{ctx.input.rank - 2}d", (ctx.literal(1),))


@LOWERINGS.register(GlobalMaxPool)
def global_maxpool(op: GlobalMaxPool, ctx: LoweringContext) -> ModuleCall:
    return ModuleCall(f"nn.AdaptiveMaxPool{ctx.input.rank - 2}d", (ctx.literal(1),))


@LOWERINGS.register(AdaptiveAvgPool)
def adaptive_avgpool(op: AdaptiveAvgPool, ctx: LoweringContext) -> ModuleCall:
    return ModuleCall("nn.AdaptiveAvgPool2d", (ctx.attr("output_size", same_for_every_dim(op.output_size)),))
