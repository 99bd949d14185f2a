"""``concat`` → ``Concat``; ``add`` → ``Add`` (two inputs) or ``Sum`` (more)."""

from __future__ import annotations

from archspec.ops.merge import Add, Concat
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
