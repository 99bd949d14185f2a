"""``param`` → ``nnx.Param(jnp.ones(shape) * value, learnable_tensor=True)`` (or ``jnp.zeros``,
``jnp.ones``, :func:`normal`), an attribute of the class around the step, read as
``self.<step>[...]``.

Like every tensor of rank 3 or more in a generated module, it is held channels-last: the spec's
axis 1 last (a [1, T, D] position embedding is [1, D, T]); :mod:`archspec_flax.weights` converts
it to and from the spec's layout, which is the canonical one.
"""

from __future__ import annotations

from archspec.codegen import Term
from archspec.ops.param import Param
from archspec_flax._lowering import LOWERINGS, LoweringContext, TensorAttribute


@LOWERINGS.register(Param)
def param(op: Param, ctx: LoweringContext) -> TensorAttribute:
    shape = _channels_last_shape(op, ctx)
    if op.init == "normal":
        return TensorAttribute("normal", (shape, ctx.attr("std")), rngs=True, helper="normal")
    if op.init in ("zeros", "ones"):
        return TensorAttribute(f"jnp.{op.init}", (shape,), needs=("jnp",))
    return TensorAttribute("jnp.ones", (shape,), needs=("jnp",), factor=ctx.attr("init", float(op.init)))


def _channels_last_shape(op: Param, ctx: LoweringContext) -> Term:
    """The shape channels-last: the spec's expression where that moves no size, else the sizes."""
    shape = op.shape
    held = (shape[0], *shape[2:], shape[1]) if len(shape) > 2 else shape
    return ctx.attr("shape") if held == shape else ctx.literal(held)
