"""``concat`` → ``Concat``; ``add`` → ``Add`` (two inputs) or ``Sum`` (more); ``mul`` → a chain of
``Mul`` (ONNX's broadcasting is NumPy's, and the inputs have one rank)."""

from __future__ import annotations

from archspec.ops.merge import Add, Concat, Mul
from archspec_onnx._lowering import LOWERINGS, LoweringContext


@LOWERINGS.register(Concat)
def concat(op: Concat, ctx: LoweringContext) -> None:
    ctx.emit("Concat", ctx.values, axis=op.axis)


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
