"""``layer_scale`` → :class:`LayerScale`, an ``nn.Module`` holding torchvision's ``layer_scale`` parameter."""

from __future__ import annotations

from archspec.ops.scale import LayerScale
from archspec_torch._lowering import LOWERINGS, Helper, LoweringContext, ModuleCall, register_helper

register_helper(
    Helper(
        "LayerScale",
        '''class LayerScale(nn.Module):
    """Multiply each channel by a learnable factor initialised to ``init`` (ConvNeXt's layer scale):
    ``layer_scale`` is [C, 1, ...], one 1 per spatial axis, as in torchvision's CNBlock."""

    def __init__(self, channels: int, init: float = 1e-6, *, spatial_dims: int = 2) -> None:
        super().__init__()
        self.layer_scale = nn.Parameter(torch.full((channels, *(1,) * spatial_dims), init))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.layer_scale''',
        needs=("torch",),
    )
)


@LOWERINGS.register(LayerScale)
def layer_scale(op: LayerScale, ctx: LoweringContext) -> ModuleCall:
    options = ctx.options(("init", ctx.attr("init"), 1e-6), ("spatial_dims", ctx.literal(ctx.input.rank - 2), 2))
    return ModuleCall("LayerScale", (ctx.channels(),), options, helper="LayerScale")
