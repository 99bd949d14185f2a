"""``concat`` → ``Concat``; ``add`` → ``Add`` (two inputs) or ``Sum`` (more)."""

from __future__ import annotations

from archspec.ir import Node
from archspec.ops.merge import Add, Concat
from archspec_onnx._lowering import LOWERINGS, LoweringContext


@LOWERINGS.register(Concat)
def concat(node: Node, ctx: LoweringContext) -> None:
    assert isinstance(node.op, Concat)
    ctx.emit("Concat", ctx.values, axis=node.op.axis)


@LOWERINGS.register(Add)
def add(node: Node, ctx: LoweringContext) -> str | None:
    if len(ctx.values) == 1:
        return ctx.x
    ctx.emit("Add" if len(ctx.values) == 2 else "Sum", ctx.values)
    return None
