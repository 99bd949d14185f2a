"""``concat`` → ``jnp.concatenate([...], axis=...)`` (the spec's axis where the array holds it),
``add`` → ``a + b`` and ``mul`` → ``a * b``, written inline in ``__call__``.

Inputs of the output's rank are held as the output is, and broadcast there as in the spec: a gate
``[N, 1, 1, C]`` broadcasts over ``[N, H, W, C]`` as ``[N, C, 1, 1]`` over ``[N, C, H, W]`` does,
and a position embedding ``[1, T, D]`` over tokens ``[N, T, D]`` as it is. One held otherwise (a
channels-first map summed with tokens) is transposed to match. An input of lower rank (a learnable
``[C, 1, 1]`` scale) met by a channels-last map is first given the leading axes NumPy's alignment
gives it in the spec (:func:`to_rank`), since channels-last would otherwise align the wrong axes;
met by a tensor held as the spec has it, it broadcasts as NumPy aligns it, from the spec's layout.
A concat's input of batch 1 (a class token) is expanded to the others' batch.
"""

from __future__ import annotations

from collections.abc import Sequence

from archspec.ir import TensorType
from archspec.ops.merge import Add, Concat, Mul
from archspec_flax._lowering import LOWERINGS, FunctionCall, LoweringContext, held_axis, held_order, transposition


@LOWERINGS.register(Concat)
def concat(op: Concat, ctx: LoweringContext) -> FunctionCall:
    rank = ctx.output.rank
    axis = held_axis(op.axis, ctx.output)
    written = axis - rank if axis == rank - 1 else axis  # -1 for the last axis reads as what it is

    batch = op.batch(ctx.inputs)
    expanded = {i for i, x in enumerate(ctx.inputs) if batch is not None and x.shape[0] != batch}
    full = next(i for i in range(len(ctx.inputs)) if i not in expanded)
    held = [_held_as(x, ctx.output) for x in ctx.inputs]

    def render(inputs: Sequence[str]) -> str:
        joined = [
            f"jnp.broadcast_to({x}, ({inputs[full]}.shape[0], *{x}.shape[1:]))" if i in expanded else x
            for i, x in enumerate(_applied(held, inputs))
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
    """``a <operator> b ...``, each input brought to the output's held layout first."""
    rank = ctx.output.rank
    output_as_spec = held_order(ctx.output) == tuple(range(rank))
    conversions: list[str | None] = []
    helpers: set[str] = set()
    for x in ctx.inputs:
        if x.rank == rank:
            conversions.append(_held_as(x, ctx.output))
        elif not output_as_spec:
            conversions.append(f"to_rank({{}}, {rank})")
            helpers.add("to_rank")
        elif held_order(x) != tuple(range(x.rank)):  # a channels-last [1, C, L] met by tokens
            conversions.append("channels_first({})")
            helpers.add("channels_first")
        else:
            conversions.append(None)
    needs = ("jnp",) if any(c is not None and c.startswith("jnp.") for c in conversions) else ()

    def render(inputs: Sequence[str]) -> str:
        return operator.join(_applied(conversions, inputs))

    return FunctionCall(render, needs=needs, helpers=tuple(sorted(helpers)))


def _held_as(x: TensorType, output: TensorType) -> str | None:
    """How an input of the output's rank is brought to the output's held layout (``{}`` its
    expression), or None where it is held so already."""
    axes = transposition(held_order(x), held_order(output))
    return None if axes is None else f"jnp.transpose({{}}, {axes})"


def _applied(conversions: Sequence[str | None], inputs: Sequence[str]) -> list[str]:
    return [x if c is None else c.format(x) for c, x in zip(conversions, inputs, strict=True)]
