"""``embedding`` → :class:`Embedding`, an ``nnx.Embed`` (its ``embedding`` table is the canonical
``weight`` [num, dim], untransposed) whose vectors come out channels-last; ``positions`` → the
:func:`positions` helper.

Channels-last holds the spec's [N, T, dim] as [N, dim, T], so the looked-up [N, T, dim] is moved
once; ids ([N, T], rank 2) are held as the spec writes them.
"""

from __future__ import annotations

from archspec.ops.embedding import Embedding, Positions
from archspec_flax._lowering import LOWERINGS, Helper, LoweringContext, ModuleCall, register_helper

register_helper(
    Helper(
        "Embedding",
        '''class Embedding(nnx.Embed):
    """nnx.Embed in the channels-last layout: ids [N] give [N, dim]; ids [N, T] give the spec's
    [N, T, dim], held as [N, dim, T]."""

    def __call__(self, ids: jax.Array) -> jax.Array:
        vectors = super().__call__(ids)
        return jnp.moveaxis(vectors, -1, 1) if vectors.ndim > 2 else vectors''',
        needs=("jnp",),
    )
)
register_helper(
    Helper(
        "positions",
        '''def positions(x: jax.Array) -> jax.Array:
    """The position of each element along the spec's axis 1, for every sample: [N, T] holding
    0, 1, ..., T - 1 (the spec's axis 1 is the array's last from rank 3 on, channels-last)."""
    tokens = x.shape[1] if x.ndim == 2 else x.shape[-1]
    return jnp.broadcast_to(jnp.arange(tokens), (x.shape[0], tokens))''',
        needs=("jnp",),
    )
)


@LOWERINGS.register(Embedding)
def embedding(op: Embedding, ctx: LoweringContext) -> ModuleCall:
    args = (ctx.attr("num"), ctx.attr("dim"))
    return ModuleCall("Embedding", args, helper="Embedding", rngs=True, variables=(("weight", "embedding"),))


@LOWERINGS.register(Positions)
def positions(op: Positions, ctx: LoweringContext) -> ModuleCall:
    return ModuleCall("positions", helper="positions", bare=True)
