"""``concat`` → ``torch.cat([...], dim=axis)``, ``add`` → ``a + b`` and ``mul`` → ``a * b`` (PyTorch
broadcasts a gate's size-1 axes), written inline in ``forward``."""

from __future__ import annotations

from collections.abc import Sequence

from archspec.ops.merge import Add, Concat, Mul
from archspec_torch._lowering import LOWERINGS, FunctionCall, LoweringContext


@LOWERINGS.register(Concat)
def concat(op: Concat, ctx: LoweringContext) -> FunctionCall:
    def render(inputs: Sequence[str]) -> str:
        return f"torch.cat([{', '.join(inputs)}], dim={op.axis})"

    return FunctionCall(render, needs=("torch",))


@LOWERINGS.register(Add)
def add(op: Add, ctx: LoweringContext) -> FunctionCall:
    return FunctionCall(lambda inputs: " + ".join(inputs))


@LOWERINGS.register(Mul)
def mul(op: Mul, ctx: LoweringContext) -> FunctionCall:
    return FunctionCall(lambda inputs: " * ".join(inputs))
