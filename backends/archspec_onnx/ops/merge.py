"""``concat`` → ``Concat`` (an input of batch 1, a class token, ``Expand``-ed to the others' batch
first); ``add`` → ``Add`` (two inputs) or ``Sum`` (more); ``mul`` → a chain of ``Mul``. ONNX's
broadcasting is NumPy's, the spec's: a learnable [C, 1, 1] scale meets [N, C, H, W] as it is."""

from __future__ import annotations

import numpy as np

from archspec.ops.merge import Add, Concat, Mul
from archspec_onnx._lowering import LOWERINGS, LoweringContext


@LOWERINGS.register(Concat)
def concat(op: Concat, ctx: LoweringContext) -> None:
    batch = op.batch(ctx.inputs)
    if batch is None:
        ctx.emit("Concat", ctx.values, axis=op.axis)
        return
    full = next(v for v, x in zip(ctx.values, ctx.inputs, strict=True) if x.shape[0] == batch)
    shape = ctx.emit("Shape", [full], to=ctx.tmp("shape"))
    first = ctx.emit("Gather", [shape, ctx.const("first", [0], np.int64)], to=ctx.tmp("batch"))
    ones = ctx.const("ones", [1] * (ctx.output.rank - 1), np.int64)
    expanded_shape = ctx.emit("Concat", [first, ones], to=ctx.tmp("expanded_shape"), axis=0)
    values = [
        value if x.shape[0] == batch else ctx.emit("Expand", [value, expanded_shape], to=ctx.tmp("expanded"))
        for value, x in zip(ctx.values, ctx.inputs, strict=True)
    ]
    ctx.emit("Concat", values, axis=op.axis)


@LOWERINGS.register(Add)
def add(op: Add, ctx: LoweringContext) -> str | None:
    if len(ctx.values) == 1:
        return ctx.x
    ctx.emit("Add" if len(ctx.values) == 2 else "Sum", ctx.values)
    return None


@LOWERINGS.register(Mul)
def mul(op: Mul, ctx: LoweringContext) -> str | None:
    if len(ctx.values) == 1:
        return ctx.x
    *leading, last = ctx.values
    product = leading[0]
    for value in leading[1:]:
        product = ctx.emit("Mul", [product, value], to=ctx.tmp("product"))
    ctx.emit("Mul", [product, last])
    return None
