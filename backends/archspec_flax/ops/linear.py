"""``linear`` → ``nnx.Linear`` (kernel [in, out]; canonical weight [out, in]) on [N, F], and
:class:`LastAxisLinear` from rank 3 on.

The spec's linear acts on its last axis. Channels-last moves the spec's axis 1 behind it, so
from rank 3 on the spec's last axis is the array's axis -2 ([N, T, D] is held as [N, D, T]):
``LastAxisLinear`` is an ``nnx.Linear`` (same kernel, same canonical weight) that brings that
axis last for the product and puts the result back.
"""

from __future__ import annotations

from archspec.ops.linear import Linear
from archspec_flax._lowering import LOWERINGS, Helper, LoweringContext, ModuleCall, register_helper

register_helper(
    Helper(
        "LastAxisLinear",
        '''class LastAxisLinear(nnx.Linear):
    """nnx.Linear over the spec's last axis of a channels-last array of rank 3 or more, which
    holds it at axis -2 (the spec's [N, T, D] is the array [N, D, T])."""

    def __call__(self, x: jax.Array) -> jax.Array:
        return jnp.moveaxis(super().__call__(jnp.moveaxis(x, -2, -1)), -1, -2)''',
        needs=("jnp",),
    )
)
register_helper(
    Helper(
        "TiedLinear",
        '''class TiedLinear(nnx.Module):
    """A linear layer whose weight [out, in] is another layer's (GPT-2's lm_head multiplies by its
    token embedding's table): the network's constructor sets ``weight`` to that layer's variable,
    so both read and train one array, saved once, under the name ``tied_to``."""

    def __init__(
        self, in_features: int, out_features: int, *, tied_to: str, use_bias: bool = True, rngs: nnx.Rngs
    ) -> None:
        self.tied_to = tied_to
        self.weight = nnx.Param(nnx.initializers.lecun_normal()(rngs.params(), (out_features, in_features)))
        self.bias = nnx.Param(jnp.zeros((out_features,))) if use_bias else None

    def __call__(self, x: jax.Array) -> jax.Array:
        features_last = x if x.ndim == 2 else jnp.moveaxis(x, -2, -1)  # channels-last holds [N, T, D] as [N, D, T]
        y = features_last @ self.weight[...].T
        if self.bias is not None:
            y = y + self.bias[...]
        return y if x.ndim == 2 else jnp.moveaxis(y, -1, -2)''',
        needs=("jnp",),
    )
)


@LOWERINGS.register(Linear)
def linear(op: Linear, ctx: LoweringContext) -> ModuleCall:
    options = ctx.options(("use_bias", ctx.attr("bias"), True))
    for tie in ctx.tied.values():  # the network's constructor then hands it the owner's variable
        args = (ctx.literal(ctx.input.shape[-1]), ctx.attr("out_features"))
        tied_to = (("tied_to", ctx.literal(tie.canonical)),)
        return ModuleCall("TiedLinear", args, (*tied_to, *options), helper="TiedLinear", rngs=True)
    if ctx.input.rank == 2:
        return ModuleCall("nnx.Linear", (ctx.channels(), ctx.attr("out_features")), options, rngs=True)
    args = (ctx.features(), ctx.attr("out_features"))
    return ModuleCall("LastAxisLinear", args, options, helper="LastAxisLinear", rngs=True)
