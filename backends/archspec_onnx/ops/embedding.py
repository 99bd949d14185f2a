"""``embedding`` → ``Gather`` of the ids' rows of the canonical weight [num, dim]; ``positions`` →
``Range(0, T)`` expanded to [N, T], T and N read from the input's ``Shape`` (a symbolic batch
or length stays symbolic)."""

from __future__ import annotations

import numpy as np

from archspec.ops.embedding import Embedding, Positions
from archspec_onnx._lowering import LOWERINGS, LoweringContext


@LOWERINGS.register(Embedding)
def embedding(op: Embedding, ctx: LoweringContext) -> None:
    ctx.emit("Gather", [ctx.param("weight"), ctx.x], axis=0)


@LOWERINGS.register(Positions)
def positions(op: Positions, ctx: LoweringContext) -> None:
    shape = ctx.emit("Shape", [ctx.x], to=ctx.tmp("shape"))
    starts, ends = ctx.const("starts", [0], np.int64), ctx.const("ends", [2], np.int64)
    batch_and_length = ctx.emit("Slice", [shape, starts, ends], to=ctx.tmp("batch_and_length"))
    length = ctx.emit("Gather", [shape, ctx.const("axis", 1, np.int64)], to=ctx.tmp("length"), axis=0)
    zero, one = ctx.const("zero", 0, np.int64), ctx.const("one", 1, np.int64)
    arange = ctx.emit("Range", [zero, length, one], to=ctx.tmp("arange"))
    ctx.emit("Expand", [arange, batch_and_length])
