"""``embedding`` → ``nnx.Embed`` (its ``embedding`` table is the canonical ``weight`` [num, dim],
untransposed); ``positions`` → :class:`Positions`.

The looked-up vectors ([N, dim], or tokens [N, T, dim], features-last) are held as the spec has
them, so ``nnx.Embed`` gives them as they are.
"""

from __future__ import annotations

from archspec.ops.embedding import Embedding, Positions
from archspec_flax._lowering import LOWERINGS, Helper, LoweringContext, ModuleCall, held_axis, register_helper

register_helper(
    Helper(
        "Positions",
        '''class Positions(nnx.Module):
    """The position of each element along the spec's axis 1, for every sample: [N, T] holding
    0, 1, ..., T - 1; ``axis`` is where the array holds that axis (-1 for a channels-last map)."""

    def __init__(self, axis: int = 1) -> None:
        self.axis = axis

    def __call__(self, x: jax.Array) -> jax.Array:
        tokens = x.shape[self.axis]
        return jnp.broadcast_to(jnp.arange(tokens), (x.shape[0], tokens))''',
        needs=("jnp",),
    )
)


@LOWERINGS.register(Embedding)
def embedding(op: Embedding, ctx: LoweringContext) -> ModuleCall:
    args = (ctx.attr("num"), ctx.attr("dim"))
    return ModuleCall("nnx.Embed", args, rngs=True, variables=(("weight", "embedding"),))


@LOWERINGS.register(Positions)
def positions(op: Positions, ctx: LoweringContext) -> ModuleCall:
    axis = held_axis(1, ctx.input)
    written = -1 if axis == ctx.input.rank - 1 and axis != 1 else axis
    return ModuleCall("Positions", kwargs=ctx.options(("axis", ctx.literal(written), 1)), helper="Positions")
