"""``concat`` → ``jnp.concatenate([...], axis=...)`` (the spec's axis in channels-last terms),
``add`` → ``a + b`` and ``mul`` → ``a * b``, written inline in ``__call__``.

``mul``'s inputs have one rank (the shape rule's condition), so channels-last moves the same
axes of each and a gate ``[N, 1, 1, C]`` broadcasts over ``[N, H, W, C]`` as ``[N, C, 1, 1]``
over ``[N, C, H, W]`` does in the spec."""

from __future__ import annotations

from collections.abc import Sequence

from archspec.ops.merge import Add, Concat, Mul
from archspec_flax._lowering import LOWERINGS, FunctionCall, LoweringContext, channels_last_axis


@LOWERINGS.register(Concat)
def concat(op: Concat, ctx: LoweringContext) -> FunctionCall:
    rank = ctx.output.rank
    axis = channels_last_axis(op.axis, rank)
    written = axis - rank if axis == rank - 1 else axis  # -1 for channels reads as what it is

    def render(inputs: Sequence[str]) -> str:
        return f"jnp.concatenate([{', '.join(inputs)}], axis={written})"

    return FunctionCall(render, needs=("jnp",))


@LOWERINGS.register(Add)
def add(op: Add, ctx: LoweringContext) -> FunctionCall:
    return FunctionCall(lambda inputs: " + ".join(inputs))


@LOWERINGS.register(Mul)
def mul(op: Mul, ctx: LoweringContext) -> FunctionCall:
    return FunctionCall(lambda inputs: " * ".join(inputs))
