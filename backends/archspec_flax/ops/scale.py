"""``layer_scale`` → :class:`LayerScale`, an ``nnx.Module`` holding one ``nnx.Param``.

Channels-last, the factors are kept as [1, ..., C] so they broadcast against [N, *S, C];
archspec_flax.weights transposes them to the canonical [C, 1, ...] (torchvision's CNBlock).
"""

from __future__ import annotations

from archspec.ops.scale import LayerScale
from archspec_flax._lowering import LOWERINGS, Helper, LoweringContext, ModuleCall, register_helper

register_helper(
    Helper(
        "LayerScale",
        '''class LayerScale(nnx.Module):
    """Multiply each channel by a learnable factor initialised to ``init`` (ConvNeXt's layer scale);
    channels-last, so ``layer_scale`` is [1, ..., C], one 1 per spatial axis."""

    def __init__(self, channels: int, init: float = 1e-6, *, spatial_dims: int = 2) -> None:
        self.layer_scale = nnx.Param(jnp.full((*(1,) * spatial_dims, channels), init, dtype=jnp.float32))

    def __call__(self, x: jax.Array) -> jax.Array:
        return x * self.layer_scale[...]''',
        needs=("jnp",),
    )
)


@LOWERINGS.register(LayerScale)
def layer_scale(op: LayerScale, ctx: LoweringContext) -> ModuleCall:
    options = ctx.options(("init", ctx.attr("init"), 1e-6), ("spatial_dims", ctx.literal(ctx.input.rank - 2), 2))
    return ModuleCall("LayerScale", (ctx.channels(),), options, helper="LayerScale")
