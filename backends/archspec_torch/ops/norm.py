"""``batchnorm`` → ``nn.BatchNorm{1,2,3}d``, ``layernorm`` → ``nn.LayerNorm`` (over the last axes) or
:class:`AxisLayerNorm` (over one axis, e.g. the channels), ``lrn`` → ``nn.LocalResponseNorm``.

archspec's ``update_rate`` (weight of the new batch statistic) is exactly torch's
``momentum``; torch's BatchNorm updates the running variance with the unbiased batch
variance, as the spec says. ``num_batches_tracked`` is torch bookkeeping read only
when ``momentum=None``, which archspec never emits: it is not a canonical weight.
"""

from __future__ import annotations

from archspec.ops.norm import BatchNorm, LayerNorm, LocalResponseNorm
from archspec_torch._lowering import LOWERINGS, Helper, LoweringContext, ModuleCall, register_helper

register_helper(
    Helper(
        "AxisLayerNorm",
        '''class AxisLayerNorm(nn.LayerNorm):
    """nn.LayerNorm over one axis ``axis`` of a channels-first tensor, by default the channels of
    NCHW at each position (torchvision's LayerNorm2d): weight and bias sized by that axis."""

    def __init__(self, normalized_shape: int, *, axis: int = 1, **kwargs) -> None:
        super().__init__(normalized_shape, **kwargs)
        self.axis = axis

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.movedim(self.axis, -1)).movedim(-1, self.axis)''',
        needs=("torch",),
    )
)

_BATCHNORM_BY_RANK = {2: 1, 3: 1, 4: 2, 5: 3}


@LOWERINGS.register(BatchNorm)
def batchnorm(op: BatchNorm, ctx: LoweringContext) -> ModuleCall:
    options = ctx.options(
        ("eps", ctx.attr("eps"), 1e-5),
        ("momentum", ctx.attr("update_rate"), 0.1),
        ("affine", ctx.attr("affine"), True),
    )
    return ModuleCall(f"nn.BatchNorm{_BATCHNORM_BY_RANK[ctx.input.rank]}d", (ctx.channels(),), options)


@LOWERINGS.register(LayerNorm)
def layernorm(op: LayerNorm, ctx: LoweringContext) -> ModuleCall:
    rank = ctx.input.rank
    axes = op.normalised_axes(rank)
    options = ctx.options(("eps", ctx.attr("eps"), 1e-5), ("elementwise_affine", ctx.attr("affine"), True))
    if len(axes) == 1:
        (axis,) = axes
        size = (
            ctx.features() if axis == rank - 1 else ctx.channels() if axis == 1 else ctx.literal(ctx.input.shape[axis])
        )
        if axis == rank - 1:
            return ModuleCall("nn.LayerNorm", (size,), options)
        return ModuleCall(
            "AxisLayerNorm", (size,), (*ctx.options(("axis", ctx.literal(axis), 1)), *options), helper="AxisLayerNorm"
        )
    return ModuleCall("nn.LayerNorm", (ctx.literal(tuple(ctx.input.shape[axis] for axis in axes)),), options)


@LOWERINGS.register(LocalResponseNorm)
def lrn(op: LocalResponseNorm, ctx: LoweringContext) -> ModuleCall:
    options = ctx.options(
        ("alpha", ctx.attr("alpha"), 1e-4), ("beta", ctx.attr("beta"), 0.75), ("k", ctx.attr("k"), 1.0)
    )
    return ModuleCall("nn.LocalResponseNorm", (ctx.attr("size"),), options)
