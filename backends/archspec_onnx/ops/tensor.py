"""``flatten`` → ``Flatten`` (NCHW row-major, as the spec says) or a ``Reshape`` keeping the
other axes; ``permute`` → ``Transpose``; ``reshape`` → ``Reshape`` (its 0, "keep this size", is
ONNX's own); ``select`` → ``Gather`` of one scalar index; ``channel_shuffle`` → ``Reshape``,
``Transpose``, ``Reshape``; ``chunk`` → ``Slice`` (one part: ``Split`` would compute
every part and leave all but one unused); ``patch_merge`` → ``Pad`` (odd sizes), ``Reshape``,
``Transpose``, ``Reshape``; ``dropout``, ``drop_path`` and ``identity`` compute nothing in the eval
graph and are removed."""

from __future__ import annotations

import numpy as np

from archspec.ops._base import static
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
from archspec_onnx._lowering import LOWERINGS, LoweringContext


@LOWERINGS.register(Flatten)
def flatten(op: Flatten, ctx: LoweringContext) -> None:
    rank = ctx.input.rank
    start, end = op.axes(rank)
    if start == end:
        ctx.emit("Identity", [ctx.x])
    elif (start, end) == (1, rank - 1):
        ctx.emit("Flatten", [ctx.x], axis=1)
    else:  # 0 copies an axis before start (a symbolic batch stays symbolic); those after end are known
        after = [static(d, "axis after the flattened ones") for d in ctx.input.shape[end + 1 :]]
        shape = ctx.const("shape", [0] * start + [-1] + after, dtype=np.int64)
        ctx.emit("Reshape", [ctx.x, shape])


@LOWERINGS.register(Permute)
def permute(op: Permute, ctx: LoweringContext) -> None:
    ctx.emit("Transpose", [ctx.x], perm=list(op.order(ctx.input.rank)))


@LOWERINGS.register(Reshape)
def reshape(op: Reshape, ctx: LoweringContext) -> None:
    ctx.emit("Reshape", [ctx.x, ctx.const("shape", list(op.shape), dtype=np.int64)])


@LOWERINGS.register(Select)
def select(op: Select, ctx: LoweringContext) -> None:
    axis, index = op.position(ctx.input)
    ctx.emit("Gather", [ctx.x, ctx.const("index", index, dtype=np.int64)], axis=axis)


@LOWERINGS.register(ChannelShuffle)
def channel_shuffle(op: ChannelShuffle, ctx: LoweringContext) -> None:
    # [N, C, *S] -> [N, g, C/g, prod S] -> swap the group axes -> back to x's own shape (symbolic dims kept)
    channels = static(ctx.input.shape[1], "channel_shuffle channels")
    grouped = ctx.const("grouped", [0, op.groups, channels // op.groups, -1], dtype=np.int64)
    split = ctx.emit("Reshape", [ctx.x, grouped], to=ctx.tmp("grouped"))
    swapped = ctx.emit("Transpose", [split], to=ctx.tmp("swapped"), perm=[0, 2, 1, 3])
    ctx.emit("Reshape", [swapped, ctx.emit("Shape", [ctx.x], to=ctx.tmp("shape"))])


@LOWERINGS.register(Chunk)
def chunk(op: Chunk, ctx: LoweringContext) -> None:
    axis = op.axis % ctx.input.rank
    part = static(ctx.input.shape[axis], "the chunked axis") // op.chunks
    starts = ctx.const("starts", [op.index * part], dtype=np.int64)
    ends = ctx.const("ends", [(op.index + 1) * part], dtype=np.int64)
    ctx.emit("Slice", [ctx.x, starts, ends, ctx.const("axes", [axis], dtype=np.int64)])


@LOWERINGS.register(PatchMerge)
def patch_merge(op: PatchMerge, ctx: LoweringContext) -> None:
    # [N, H, W, C] -> [N, H/2, 2 (row), W/2, 2 (column), C] -> column and row offsets beside the
    # channels, the row varying fastest as in torchvision's x0, x1, x2, x3 -> [N, H/2, W/2, 4C]
    height, width, channels = (static(size, "patch_merge's map size") for size in ctx.input.shape[1:])
    x = ctx.x
    if height % 2 or width % 2:
        pads = ctx.const("pads", [0, 0, 0, 0, 0, height % 2, width % 2, 0], dtype=np.int64)
        x = ctx.emit("Pad", [x, pads], to=ctx.tmp("padded"))
    rows, cols = (height + 1) // 2, (width + 1) // 2
    split = ctx.emit(
        "Reshape", [x, ctx.const("split", [0, rows, 2, cols, 2, channels], dtype=np.int64)], to=ctx.tmp("split")
    )
    gathered = ctx.emit("Transpose", [split], to=ctx.tmp("gathered"), perm=[0, 1, 3, 4, 2, 5])
    ctx.emit("Reshape", [gathered, ctx.const("merged", [0, rows, cols, 4 * channels], dtype=np.int64)])


@LOWERINGS.register(Dropout, DropPath, Identity)
def passthrough(op: Dropout | DropPath | Identity, ctx: LoweringContext) -> str:
    return ctx.x
