"""``flatten`` → :class:`Flatten`, ``channel_shuffle`` → :class:`ChannelShuffle`, ``chunk`` →
:class:`Chunk` (on the spec's axis where channels-last holds it), ``dropout`` →
``nnx.Dropout``, ``drop_path`` → ``nnx.Dropout`` with one draw per sample (its mask broadcast over
every other axis), ``identity`` → :func:`identity`.

drop_path draws from the module's ``dropout`` RNG stream, torch from its own generator: the
same law (each sample kept with probability 1 - p, scaled by 1 / (1 - p)), different draws.

Flatten order: the spec flattens in NCHW (row-major) order, and a channels-last feature
map flattened as it is would order features (h, w, c) instead of (c, h, w). archspec's
choice: ``Flatten`` moves the channels back to axis 1 before reshaping, so the
flattened vector is the spec's and every linear layer keeps its canonical weight as it
is (no permuted copy of the first linear layer to keep in sync with a layout). The
transpose it costs is one copy of a small feature map.
"""

from __future__ import annotations

from archspec.ops.tensor import ChannelShuffle, Chunk, Dropout, DropPath, Flatten, Identity
from archspec_flax._lowering import LOWERINGS, Helper, LoweringContext, ModuleCall, channels_last_axis, register_helper

register_helper(
    Helper(
        "Flatten",
        '''class Flatten(nnx.Module):
    """Flatten axes ``start_dim``.. in the spec's NCHW order (channels moved back to axis 1
    first), so the features come out as PyTorch's nn.Flatten orders them."""

    def __init__(self, start_dim: int = 1) -> None:
        self.start_dim = start_dim

    def __call__(self, x: jax.Array) -> jax.Array:
        x = channels_first(x)
        return channels_last(x.reshape(*x.shape[: self.start_dim], -1))''',
        uses=("channels_first", "channels_last"),
    )
)
register_helper(
    Helper(
        "ChannelShuffle",
        '''class ChannelShuffle(nnx.Module):
    """ShuffleNet's channel shuffle of a channels-last array, as torch's nn.ChannelShuffle: the
    channels, seen as ``groups`` rows, are read column by column."""

    def __init__(self, groups: int) -> None:
        self.groups = groups

    def __call__(self, x: jax.Array) -> jax.Array:
        *rest, channels = x.shape
        x = x.reshape(*rest, self.groups, channels // self.groups)
        return jnp.swapaxes(x, -1, -2).reshape(*rest, channels)''',
        needs=("jnp",),
    )
)
register_helper(
    Helper(
        "Chunk",
        '''class Chunk(nnx.Module):
    """Part ``index`` of ``chunks`` equal parts of ``x`` along ``axis``, as torch's
    ``x.chunk(chunks, dim)[index]``."""

    def __init__(self, chunks: int, index: int, axis: int) -> None:
        self.chunks = chunks
        self.index = index
        self.axis = axis

    def __call__(self, x: jax.Array) -> jax.Array:
        return jnp.split(x, self.chunks, axis=self.axis)[self.index]''',
        needs=("jnp",),
    )
)
register_helper(
    Helper(
        "identity",
        '''def identity(x: jax.Array) -> jax.Array:
    """The input, unchanged (a residual block's shortcut)."""
    return x''',
    )
)


@LOWERINGS.register(Flatten)
def flatten(op: Flatten, ctx: LoweringContext) -> ModuleCall:
    return ModuleCall("Flatten", kwargs=ctx.options(("start_dim", ctx.attr("start_dim"), 1)), helper="Flatten")


@LOWERINGS.register(ChannelShuffle)
def channel_shuffle(op: ChannelShuffle, ctx: LoweringContext) -> ModuleCall:
    return ModuleCall("ChannelShuffle", (ctx.attr("groups"),), helper="ChannelShuffle")


@LOWERINGS.register(Chunk)
def chunk(op: Chunk, ctx: LoweringContext) -> ModuleCall:
    rank = ctx.input.rank
    axis = channels_last_axis(op.axis, rank)
    written = axis - rank if axis == rank - 1 else axis  # the channels as -1
    return ModuleCall("Chunk", (ctx.attr("chunks"), ctx.attr("index"), ctx.literal(written)), helper="Chunk")


@LOWERINGS.register(Dropout)
def dropout(op: Dropout, ctx: LoweringContext) -> ModuleCall:
    return ModuleCall("nnx.Dropout", (ctx.attr("p"),), rngs=True)


@LOWERINGS.register(DropPath)
def drop_path(op: DropPath, ctx: LoweringContext) -> ModuleCall:
    every_axis_but_the_batch = tuple(range(1, ctx.input.rank))
    options = (("broadcast_dims", ctx.literal(every_axis_but_the_batch)),)
    return ModuleCall("nnx.Dropout", (ctx.attr("p"),), options, rngs=True)


@LOWERINGS.register(Identity)
def identity(op: Identity, ctx: LoweringContext) -> ModuleCall:
    return ModuleCall("identity", helper="identity", bare=True)
