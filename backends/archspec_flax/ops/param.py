"""``param`` → ``nnx.Param(jnp.ones(shape) * value, learnable_tensor=True)`` (or ``jnp.zeros``,
``jnp.ones``, :func:`normal`), an attribute of the class around the step, read as
``self.<step>[...]``.

It is held as its type says (:func:`archspec_flax._lowering.held_order`): as the spec has it where
it meets tokens (ViT's class token [1, 1, D] and position embedding [1, T, D], features-last), with
the spec's axis 1 last where it is channels-first and of rank 3 or more (``channels_last=True``);
:mod:`archspec_flax.weights` converts that one to and from the spec's layout, the canonical one.
"""

from __future__ import annotations

from archspec.codegen import Term
from archspec.ops.param import Param
from archspec_flax._lowering import LOWERINGS, LoweringContext, TensorAttribute, held_order


@LOWERINGS.register(Param)
def param(op: Param, ctx: LoweringContext) -> TensorAttribute:
    shape = _held_shape(op, ctx)
    held = held_order(ctx.output) != tuple(range(ctx.output.rank))
    if op.init == "normal":
        return TensorAttribute("normal", (shape, ctx.attr("std")), rngs=True, helper="normal", channels_last=held)
    if op.init in ("zeros", "ones"):
        return TensorAttribute(f"jnp.{op.init}", (shape,), needs=("jnp",), channels_last=held)
    factor = ctx.attr("init", float(op.init))
    return TensorAttribute("jnp.ones", (shape,), needs=("jnp",), factor=factor, channels_last=held)


def _held_shape(op: Param, ctx: LoweringContext) -> Term:
    """The shape as held: the spec's expression where that moves no size, else the sizes."""
    held = tuple(op.shape[axis] for axis in held_order(ctx.output))
    return ctx.attr("shape") if held == op.shape else ctx.literal(held)
