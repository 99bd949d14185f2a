"""``linear`` → ``nnx.Linear`` (kernel [in, out]; canonical weight [out, in]) on [N, F] and on
features-last tensors (tokens [N, T, D], a permuted [N, H, W, C]), which are held as the spec has
them; :class:`LastAxisLinear` on a channels-first [N, C, L].

The spec's linear acts on its last axis. A channels-first map is held channels-last, which moves
the spec's axis 1 behind it, so there the spec's last axis is the array's axis -2 ([N, C, L] is
held as [N, L, C]): ``LastAxisLinear`` is an ``nnx.Linear`` (same kernel, same canonical weight)
that brings that axis last for the product and puts the result back.
"""

from __future__ import annotations

from archspec.ops.linear import Linear
from archspec_flax._lowering import LOWERINGS, Helper, LoweringContext, ModuleCall, register_helper

register_helper(
    Helper(
        "LastAxisLinear",
        '''class LastAxisLinear(nnx.Linear):
    """nnx.Linear over the spec's last axis of a channels-first map held channels-last, which
    holds it at axis -2 (the spec's [N, C, L] is the array [N, L, C])."""

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
    so both read and train one array, saved once, under the name ``tied_to``. It maps the array's
    last axis, or with ``features_axis=-2`` the spec's last axis of a channels-first [N, C, L] held as
    [N, L, C]."""

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        tied_to: str,
        use_bias: bool = True,
        features_axis: int = -1,
        rngs: nnx.Rngs,
    ) -> None:
        self.tied_to = tied_to
        self.features_axis = features_axis
        self.weight = nnx.Param(nnx.initializers.lecun_normal()(rngs.params(), (out_features, in_features)))
        self.bias = nnx.Param(jnp.zeros((out_features,))) if use_bias else None

    def __call__(self, x: jax.Array) -> jax.Array:
        y = jnp.moveaxis(x, self.features_axis, -1) @ self.weight[...].T
        if self.bias is not None:
            y = y + self.bias[...]
        return jnp.moveaxis(y, -1, self.features_axis)''',
        needs=("jnp",),
    )
)


@LOWERINGS.register(Linear)
def linear(op: Linear, ctx: LoweringContext) -> ModuleCall:
    options = ctx.options(("use_bias", ctx.attr("bias"), True))
    args = (ctx.features(), ctx.attr("out_features"))
    held_last = ctx.input.rank == 2 or ctx.input.features_last  # else the spec's last axis is at -2
    for tie in ctx.tied.values():  # the network's constructor then hands it the owner's variable
        tied = (("tied_to", ctx.literal(tie.canonical)), *options)
        axis = ctx.options(("features_axis", ctx.literal(-1 if held_last else -2), -1))
        return ModuleCall("TiedLinear", args, (*tied, *axis), helper="TiedLinear", rngs=True)
    if held_last:
        return ModuleCall("nnx.Linear", args, options, rngs=True)
    return ModuleCall("LastAxisLinear", args, options, helper="LastAxisLinear", rngs=True)
