"""``conv`` and ``conv1d`` → ``nnx.Conv`` on channels-last input.

``nnx.Conv`` pads ``'SAME'`` by default while the spec's default is no padding, so the
padding pairs are always written out; groups (depthwise convs) are its
``feature_group_count``. The kernel is HWIO here and OIHW in canonical weights
(:mod:`archspec_flax.weights` converts).
"""

from __future__ import annotations

from archspec.ops.conv import Conv, Conv1d
from archspec_flax._lowering import LOWERINGS, LoweringContext, ModuleCall


@LOWERINGS.register(Conv, Conv1d)
def conv(op: Conv | Conv1d, ctx: LoweringContext) -> ModuleCall:
    n = op.spatial
    ones = (1,) * n
    options = (
        ("padding", ctx.pairs("padding", op.padding)),  # always explicit: nnx.Conv's default is 'SAME'
        *ctx.options(
            ("strides", ctx.per_dim("stride"), ones),
            ("kernel_dilation", ctx.per_dim("dilation"), ones),
            ("feature_group_count", ctx.attr("groups"), 1),
            ("use_bias", ctx.attr("bias"), True),
        ),
    )
    args = (ctx.channels(), ctx.attr("out_channels"), ctx.per_dim("kernel"))
    return ModuleCall("nnx.Conv", args, options, rngs=True)
