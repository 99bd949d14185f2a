"""``concat`` → ``jnp.concatenate([...], axis=...)`` (the spec's axis in channels-last terms),
``add`` → ``a + b`` and ``mul`` → ``a * b``, written inline in ``__call__``.

Inputs of one rank broadcast channels-last as in the spec: channels-last moves the same axes of
each, and a gate ``[N, 1, 1, C]`` broadcasts over ``[N, H, W, C]`` as ``[N, C, 1, 1]`` over
``[N, C, H, W]`` does. An input of lower rank (a learnable ``[C, 1, 1]`` scale) is first given
the leading axes NumPy's alignment gives it in the spec (:func:`to_rank`), since channels-last
would otherwise align the wrong axes. A concat's input of batch 1 (a class token) is expanded to
the others' batch."""

from __future__ import annotations

from collections.abc import Sequence

from archspec.ops.merge import Add, Concat, Mul
from archspec_flax._lowering import LOWERINGS, FunctionCall, LoweringContext, channels_last_axis


@LOWERINGS.register(Concat)
def concat(op: Concat, ctx: LoweringContext) -> FunctionCall:
    rank = ctx.output.rank
    axis = channels_last_axis(op.axis, rank)
    written = axis - rank if axis == rank - 1 else axis  # -1 for channels reads as what it is

    batch = op.batch(ctx.inputs)
    expanded = {i for i, x in enumerate(ctx.inputs) if batch is not None and x.shape[0] != batch}
    full = next(i for i in range(len(ctx.inputs)) if i not in expanded)

    def render(inputs: Sequence[str]) -> str:
        joined = [
            f"jnp.broadcast_to({x}, ({inputs[full]}.shape[0], *{x}.shape[1:]))" if i in expanded else x
            for i, x in enumerate(inputs)
        ]
        return f"jnp.concatenate([{', '.join(joined)}], axis={written})"

    def over(inputs: str) -> str:
        return f"jnp.concatenate({inputs}, axis={written})"

    return FunctionCall(render, needs=("jnp",), over=None if expanded else over)


@LOWERINGS.register(Add)
def add(op: Add, ctx: LoweringContext) -> FunctionCall:
    return _broadcasting(" + ", ctx)


@LOWERINGS.register(Mul)
def mul(op: Mul, ctx: LoweringContext) -> FunctionCall:
    return _broadcasting(" * ", ctx)


def _broadcasting(operator: str, ctx: LoweringContext) -> FunctionCall:
    """``a <operator> b ...``, each input of lower rank than the output aligned to it first."""
    rank = ctx.output.rank
    lower = {i for i, x in enumerate(ctx.inputs) if x.rank < rank}

    def render(inputs: Sequence[str]) -> str:
        return operator.join(f"to_rank({x}, {rank})" if i in lower else x for i, x in enumerate(inputs))

    return FunctionCall(render, helpers=("to_rank",) if lower else ())
