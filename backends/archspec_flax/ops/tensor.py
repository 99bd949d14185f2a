"""``flatten`` → :class:`Flatten`, ``permute`` → :class:`Permute` (or nothing), ``reshape`` →
:class:`Reshape`, ``select`` → :class:`Select`, ``channel_shuffle`` → :class:`ChannelShuffle`,
``chunk`` → :class:`Chunk` (on the spec's axis where the array holds it), ``patch_merge`` →
:func:`patch_merge`, ``dropout`` →
``nnx.Dropout``, ``drop_path`` → ``nnx.Dropout`` with one draw per sample (its mask broadcast over
every other axis), ``identity`` → :func:`identity`.

drop_path draws from the module's ``dropout`` RNG stream, torch from its own generator: the
same law (each sample kept with probability 1 - p, scaled by 1 / (1 - p)), different draws.

The layout ops work on the array as it is held (:func:`archspec_flax._lowering.held_order`), with
the spec's meaning: each rule works out, from the input's and output's types, what the op is on
the held arrays. A ``permute`` is a transpose of the held array, or nothing at all where the held
arrays agree: ConvNeXt's ``permute([0, 2, 3, 1])`` of an NCHW map held NHWC gives [N, H, W, C],
held as it is, and ViT's ``permute([0, 2, 1])`` of patches [N, D, T] held [N, T, D] gives tokens
[N, T, D]. ``flatten`` reshapes the held array where it holds the flattened axes side by side in
the spec's order (ViT's ``flatten(2)`` of an NHWC map: axes 1 and 2 of the array; a classifier's
[N, C, 1, 1], held [N, 1, 1, C], whose size-1 axes order nothing); elsewhere, and
for ``reshape``, the helper first transposes the array to the spec's order (``to_spec``), so the
elements are ordered as PyTorch orders them and every linear layer keeps its canonical weight (no
permuted copy to keep in sync with a layout), and the result to the order the output is held in
(``to_held``). Under ``jax.jit`` XLA folds those transposes into layout changes of the reshape.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from archspec.codegen import Term
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
from archspec_flax._lowering import (
    LOWERINGS,
    Helper,
    LoweringContext,
    ModuleCall,
    held_axis,
    held_order,
    register_helper,
    transposition,
)

register_helper(
    Helper(
        "transposed",
        '''def transposed(x: jax.Array, axes: tuple[int, ...] | None) -> jax.Array:
    """``x`` with its axes in the order ``axes`` (jnp.transpose), or as it is for None."""
    return x if axes is None else jnp.transpose(x, axes)''',
        needs=("jnp",),
    )
)
register_helper(
    Helper(
        "Flatten",
        '''class Flatten(nnx.Module):
    """torch.flatten of axes ``start_dim`` to ``end_dim``, after transposing the array by ``to_spec``
    and before transposing the result by ``to_held`` (see :func:`transposed`)."""

    def __init__(
        self,
        start_dim: int = 1,
        end_dim: int = -1,
        *,
        to_spec: tuple[int, ...] | None = None,
        to_held: tuple[int, ...] | None = None,
    ) -> None:
        self.start_dim = start_dim
        self.end_dim = end_dim
        self.to_spec = to_spec
        self.to_held = to_held

    def __call__(self, x: jax.Array) -> jax.Array:
        x = transposed(x, self.to_spec)
        start, end = self.start_dim % x.ndim, self.end_dim % x.ndim
        return transposed(x.reshape(*x.shape[:start], -1, *x.shape[end + 1 :]), self.to_held)''',
        uses=("transposed",),
    )
)
register_helper(
    Helper(
        "Permute",
        '''class Permute(nnx.Module):
    """jnp.transpose as a module: output axis i is input axis dims[i]."""

    def __init__(self, dims: tuple[int, ...]) -> None:
        self.dims = tuple(dims)

    def __call__(self, x: jax.Array) -> jax.Array:
        return jnp.transpose(x, self.dims)''',
        needs=("jnp",),
    )
)
register_helper(
    Helper(
        "Reshape",
        '''class Reshape(nnx.Module):
    """Reshape, an entry 0 of ``shape`` keeping the input's size there (the batch, whatever it is),
    as ONNX's Reshape does; one entry may be -1. The array is transposed by ``to_spec`` first and
    the result by ``to_held`` (see :func:`transposed`)."""

    def __init__(
        self,
        shape: tuple[int, ...],
        *,
        to_spec: tuple[int, ...] | None = None,
        to_held: tuple[int, ...] | None = None,
    ) -> None:
        self.shape = tuple(shape)
        self.to_spec = to_spec
        self.to_held = to_held

    def __call__(self, x: jax.Array) -> jax.Array:
        x = transposed(x, self.to_spec)
        shape = [x.shape[i] if size == 0 else size for i, size in enumerate(self.shape)]
        return transposed(x.reshape(shape), self.to_held)''',
        uses=("transposed",),
    )
)
register_helper(
    Helper(
        "Select",
        '''class Select(nnx.Module):
    """torch.select: the slice at ``index`` along ``axis``, without that axis; the result is
    transposed by ``to_held`` (see :func:`transposed`)."""

    def __init__(self, axis: int, index: int, *, to_held: tuple[int, ...] | None = None) -> None:
        self.axis = axis
        self.index = index
        self.to_held = to_held

    def __call__(self, x: jax.Array) -> jax.Array:
        return transposed(jnp.take(x, self.index, axis=self.axis), self.to_held)''',
        needs=("jnp",),
        uses=("transposed",),
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
    """Swin's patch merging gather (torchvision's _patch_merging_pad) on [N, H, W, C], held as the
    spec has it (features-last): padded to even sizes, each 2x2 neighbourhood's channels side by
    side, [N, H/2, W/2, 4C]."""
    x = jnp.pad(x, ((0, 0), (0, x.shape[1] % 2), (0, x.shape[2] % 2), (0, 0)))
    corners = (x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2])
    return jnp.concatenate(corners, axis=-1)''',
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
    rank = ctx.input.rank
    first, last = op.axes(rank)
    held = held_order(ctx.input)
    at = sorted(held.index(axis) for axis in range(first, last + 1))
    # the held array can be flattened as it is where it holds the flattened axes side by side, those
    # of a size other than 1 in the spec's order (a size-1 axis moves no element: [N, 1, 1, C] is [N, C])
    sized = [held[p] for p in at if ctx.input.shape[held[p]] != 1]
    if at == list(range(at[0], at[-1] + 1)) and sized == sorted(sized):
        start, end, to_spec = at[0], at[-1], None
        merged = [axis if axis < first else first if axis <= last else axis - (last - first) for axis in held]
        result = list(dict.fromkeys(merged))  # the run's axes, now one, once
    else:
        start, end, to_spec = first, last, transposition(held, range(rank))
        result = list(range(ctx.output.rank))
    to_held = transposition(result, held_order(ctx.output))
    options = ctx.options(
        ("start_dim", ctx.literal(start), 1),
        ("end_dim", ctx.literal(-1 if end == rank - 1 else end), -1),
        *_transposes(ctx, to_spec=to_spec, to_held=to_held),
    )
    return ModuleCall("Flatten", kwargs=options, helper="Flatten")


@LOWERINGS.register(Permute)
def permute(op: Permute, ctx: LoweringContext) -> ModuleCall:
    # held output axis i is the spec's output axis o = held_order(output)[i], which is the spec's
    # input axis dims[o]: wherever the input's array holds that one
    dims = op.order(ctx.input.rank)
    held = held_order(ctx.input)
    axes = tuple(held.index(dims[o]) for o in held_order(ctx.output))
    if axes == tuple(range(len(axes))):  # the arrays are held alike: nothing moves
        return ModuleCall("identity", helper="identity", bare=True)
    return ModuleCall("Permute", (ctx.literal(axes),), helper="Permute")


@LOWERINGS.register(Reshape)
def reshape(op: Reshape, ctx: LoweringContext) -> ModuleCall:
    to_spec = transposition(held_order(ctx.input), range(ctx.input.rank))
    to_held = transposition(range(ctx.output.rank), held_order(ctx.output))
    options = ctx.options(*_transposes(ctx, to_spec=to_spec, to_held=to_held))
    return ModuleCall("Reshape", (ctx.literal(op.shape),), options, helper="Reshape")


@LOWERINGS.register(Select)
def select(op: Select, ctx: LoweringContext) -> ModuleCall:
    axis, _ = op.position(ctx.input)
    held = held_order(ctx.input)
    result = [a if a < axis else a - 1 for a in held if a != axis]
    to_held = transposition(result, held_order(ctx.output))
    at = held.index(axis)
    written = ctx.attr("axis") if at == axis else ctx.literal(at)
    options = ctx.options(*_transposes(ctx, to_held=to_held))
    return ModuleCall("Select", (written, ctx.attr("index")), options, helper="Select")


def _transposes(ctx: LoweringContext, **axes: Sequence[int] | None) -> tuple[tuple[str, Term, Any], ...]:
    """The ``to_spec`` / ``to_held`` keyword arguments of a layout helper, None left out."""
    return tuple((name, ctx.literal(value), None) for name, value in axes.items())


@LOWERINGS.register(ChannelShuffle)
def channel_shuffle(op: ChannelShuffle, ctx: LoweringContext) -> ModuleCall:
    return ModuleCall("ChannelShuffle", (ctx.attr("groups"),), helper="ChannelShuffle")


@LOWERINGS.register(Chunk)
def chunk(op: Chunk, ctx: LoweringContext) -> ModuleCall:
    rank = ctx.input.rank
    axis = held_axis(op.axis, ctx.input)
    written = axis - rank if axis == rank - 1 else axis  # the last axis as -1
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
