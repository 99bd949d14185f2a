"""``flatten`` → :class:`Flatten`, ``permute`` → :class:`Permute`, ``reshape`` → :class:`Reshape`,
``select`` → :class:`Select`, ``channel_shuffle`` → :class:`ChannelShuffle`, ``chunk`` →
:class:`Chunk` (on the spec's axis where channels-last holds it), ``patch_merge`` →
:func:`patch_merge`, ``dropout`` →
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

``permute``, ``reshape`` and ``select`` are the spec's own axes too: each helper takes the
array back to the spec's layout, applies the spec's op there, and returns the result
channels-last. Under ``jax.jit`` XLA folds the transposes around a transpose into one and
makes the others layout changes of the reshape, so the readable form costs nothing there.
"""

from __future__ import annotations

from archspec.ops.tensor import (
    ChannelShuffle,
    Chunk,
    Dropout,
    DropPath,
    Flatten,
    Identity,
    PatchMerge,
    Permute,
    Reshape,
    Select,
)
from archspec_flax._lowering import LOWERINGS, Helper, LoweringContext, ModuleCall, channels_last_axis, register_helper

_SPEC_LAYOUT = ("channels_first", "channels_last")

register_helper(
    Helper(
        "Flatten",
        '''class Flatten(nnx.Module):
    """Flatten axes ``start_dim`` to ``end_dim`` in the spec's NCHW order (channels moved back to
    axis 1 first), so the features come out as PyTorch's nn.Flatten orders them."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        self.start_dim = start_dim
        self.end_dim = end_dim

    def __call__(self, x: jax.Array) -> jax.Array:
        x = channels_first(x)
        start, end = self.start_dim % x.ndim, self.end_dim % x.ndim
        return channels_last(x.reshape(*x.shape[:start], -1, *x.shape[end + 1 :]))''',
        uses=_SPEC_LAYOUT,
    )
)
register_helper(
    Helper(
        "Permute",
        '''class Permute(nnx.Module):
    """torch.permute of the spec's (channels-first) axes: output axis i is input axis dims[i]."""

    def __init__(self, dims: tuple[int, ...]) -> None:
        self.dims = tuple(dims)

    def __call__(self, x: jax.Array) -> jax.Array:
        return channels_last(jnp.transpose(channels_first(x), self.dims))''',
        needs=("jnp",),
        uses=_SPEC_LAYOUT,
    )
)
register_helper(
    Helper(
        "Reshape",
        '''class Reshape(nnx.Module):
    """Reshape the spec's (channels-first) array, an entry 0 of ``shape`` keeping the input's size
    there (the batch, whatever it is), as ONNX's Reshape does; one entry may be -1."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = tuple(shape)

    def __call__(self, x: jax.Array) -> jax.Array:
        x = channels_first(x)
        return channels_last(x.reshape([x.shape[i] if size == 0 else size for i, size in enumerate(self.shape)]))''',
        uses=_SPEC_LAYOUT,
    )
)
register_helper(
    Helper(
        "Select",
        '''class Select(nnx.Module):
    """torch.select of the spec's (channels-first) axes: the slice at ``index`` along ``axis``,
    without that axis."""

    def __init__(self, axis: int, index: int) -> None:
        self.axis = axis
        self.index = index

    def __call__(self, x: jax.Array) -> jax.Array:
        return channels_last(jnp.take(channels_first(x), self.index, axis=self.axis))''',
        needs=("jnp",),
        uses=_SPEC_LAYOUT,
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
        "patch_merge",
        '''def patch_merge(x: jax.Array) -> jax.Array:
    """Swin's patch merging gather (torchvision's _patch_merging_pad) on the spec's [N, H, W, C]:
    padded to even sizes, each 2x2 neighbourhood's channels side by side, [N, H/2, W/2, 4C]."""
    x = channels_first(x)
    x = jnp.pad(x, ((0, 0), (0, x.shape[1] % 2), (0, x.shape[2] % 2), (0, 0)))
    corners = (x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2])
    return channels_last(jnp.concatenate(corners, axis=-1))''',
        needs=("jnp",),
        uses=_SPEC_LAYOUT,
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
    axes = ctx.options(("start_dim", ctx.attr("start_dim"), 1), ("end_dim", ctx.attr("end_dim"), -1))
    return ModuleCall("Flatten", kwargs=axes, helper="Flatten")


@LOWERINGS.register(Permute)
def permute(op: Permute, ctx: LoweringContext) -> ModuleCall:
    return ModuleCall("Permute", (ctx.literal(op.dims),), helper="Permute")


@LOWERINGS.register(Reshape)
def reshape(op: Reshape, ctx: LoweringContext) -> ModuleCall:
    return ModuleCall("Reshape", (ctx.literal(op.shape),), helper="Reshape")


@LOWERINGS.register(Select)
def select(op: Select, ctx: LoweringContext) -> ModuleCall:
    return ModuleCall("Select", (ctx.attr("axis"), ctx.attr("index")), helper="Select")


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


@LOWERINGS.register(PatchMerge)
def patch_merge(op: PatchMerge, ctx: LoweringContext) -> ModuleCall:
    return ModuleCall("patch_merge", helper="patch_merge", bare=True)


@LOWERINGS.register(Identity)
def identity(op: Identity, ctx: LoweringContext) -> ModuleCall:
    return ModuleCall("identity", helper="identity", bare=True)
