"""``concat`` → ``torch.cat([...], dim=axis)`` and ``add`` → ``a + b``, written inline in ``forward``."""

from __future__ import annotations

from collections.abc import Sequence

from archspec.ir import Node
from archspec.ops.merge import Add, Concat
from archspec_torch._lowering import LOWERINGS, FunctionCall, LoweringContext


@LOWERINGS.register(Concat)
def concat(node: Node, ctx: LoweringContext) -> FunctionCall:
    op = node.op
    assert isinstance(op, Concat)

    def render(inputs: Sequence[str]) -> str:
        return f"torch.cat([{', '.join(inputs)}], dim={op.axis})"

    return FunctionCall(render, needs=("torch",))


@LOWERINGS.register(Add)
def add(node: Node, ctx: LoweringContext) -> FunctionCall:
    return FunctionCall(lambda inputs: " + ".join(inputs))
